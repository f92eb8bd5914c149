//! Errors: everything the commands return is an [`AppError`] (code + message), the
//! same payload the desktop app sends over IPC.

use almanac_model::{AppError, ErrorCode};

pub type CliResult<T> = Result<T, AppError>;

pub fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

pub fn not_found(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::NotFound, message)
}

pub fn storage(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::Storage, message)
}

/// An I/O error on a file the user named.
pub fn file_error(path: &std::path::Path, e: &std::io::Error) -> AppError {
    let message = format!("Could not use the file {}: {e}", path.display());
    if e.kind() == std::io::ErrorKind::NotFound {
        not_found(message)
    } else {
        storage(message)
    }
}

/// Writes the error to stderr: `almanac: message`, or the JSON payload with `--json`.
pub fn report(e: &AppError, json: bool) {
    use std::io::Write;
    let text = if json {
        crate::output::json_line(e)
            .unwrap_or_else(|| format!("{{\"code\":\"{}\"}}", e.code.as_str()))
    } else {
        format!("almanac: {}", crate::output::printable(&e.message))
    };
    // Nothing sensible is left to do if stderr is gone.
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

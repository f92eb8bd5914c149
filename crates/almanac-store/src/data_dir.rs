//! Where the database lives, and the lock that keeps one process per data directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Result, StoreError};

pub const DB_FILE_NAME: &str = "almanac.sqlite3";
const LOCK_FILE_NAME: &str = "almanac.lock";

/// An exclusively locked data directory. The lock is released on drop (or when the
/// process dies: it is an OS file lock, never a stale marker file). A directory opened
/// for reading only ([`DataDir::for_reading`]) holds no lock.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: Option<File>,
}

impl DataDir {
    /// `$ALMANAC_DATA_DIR`, else `$XDG_DATA_HOME/almanac` (usually `~/.local/share/almanac`).
    pub fn default_path() -> Result<PathBuf> {
        if let Some(dir) = std::env::var_os("ALMANAC_DATA_DIR").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("", "", "almanac")
            .map(|p| p.data_dir().to_path_buf())
            .ok_or_else(|| StoreError::Io {
                path: "$HOME".into(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no home directory"),
            })
    }

    /// Creates the directory (mode 0700) if needed and takes its lock, or fails with
    /// [`StoreError::Locked`] if another process holds it.
    pub fn lock(path: &Path) -> Result<Self> {
        Self::lock_within(path, Duration::ZERO)
    }

    /// As [`DataDir::lock`], but waits up to `wait` for another process to let go: two
    /// short commands of a script started together then run one after the other
    /// instead of one failing.
    pub fn lock_within(path: &Path, wait: Duration) -> Result<Self> {
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        create_private_dir(path).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path.join(LOCK_FILE_NAME))
            .map_err(io)?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked(path.display().to_string()))
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        // The pid is informational only; the lock itself is what counts.
        file.set_len(0).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            _lock: Some(file),
        })
    }

    /// The directory without its lock, for [`crate::Store::open_read_only`]: reading
    /// while the process that holds it (the app, the daemon) writes. It must exist.
    pub fn for_reading(path: &Path) -> Result<Self> {
        if !path.join(DB_FILE_NAME).is_file() {
            return Err(StoreError::Io {
                path: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no database here"),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            _lock: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn db_path(&self) -> PathBuf {
        self.path.join(DB_FILE_NAME)
    }
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

//! Which rasteriser WebKitGTK paints the window with.
//!
//! WebKitGTK (2.46 and later) paints pages with Skia on the GPU through OpenGL. On a
//! Linux machine with no GPU render node (a VM or remote desktop without GPU
//! pass-through, a CI runner), Mesa's OpenGL is llvmpipe: every shader is compiled by
//! LLVM and run on the same CPU cores the page's own JavaScript and layout need. There
//! Skia's CPU rasteriser is the faster painter: on a 2-core machine without a GPU the
//! cold start to a painted week of 100k events went from 1355 to 970 ms (median,
//! `scripts/bench-startup`, A/B). So when no render node can be opened, WebKit is asked
//! for CPU rendering. A value the user set for `WEBKIT_SKIA_ENABLE_CPU_RENDERING`
//! (including `0`, which keeps the GPU path) is left alone.

/// WebKit's switch: set and not `0` means CPU rendering.
pub const CPU_RENDERING_VAR: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Asks WebKit for CPU rendering when this machine has no usable GPU render node.
///
/// Must run first thing in `main`, before any thread exists: it sets an environment
/// variable, which WebKit's web process inherits when the window opens.
pub fn choose() {
    #[cfg(target_os = "linux")]
    {
        let user_has_chosen = std::env::var_os(CPU_RENDERING_VAR).is_some();
        if !user_has_chosen && !has_render_node(std::path::Path::new("/dev/dri")) {
            std::env::set_var(CPU_RENDERING_VAR, "1");
        }
    }
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
/// Whether `dir` (normally `/dev/dri`) holds a DRM render node (`renderD*`) that this
/// user can open for reading and writing, as Mesa must to use the GPU.
pub fn has_render_node(dir: &std::path::Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.file_name().to_string_lossy().starts_with("renderD")
            && std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(entry.path())
                .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_render_node_counts_only_when_it_can_be_opened() {
        let dir = tempfile::tempdir().expect("temporary directory");
        assert!(!has_render_node(&dir.path().join("missing")));
        assert!(!has_render_node(dir.path()), "empty directory");

        // A primary node alone (`card0`) is not a render node.
        std::fs::write(dir.path().join("card0"), b"").expect("write card0");
        assert!(!has_render_node(dir.path()));

        let node = dir.path().join("renderD128");
        std::fs::write(&node, b"").expect("write renderD128");
        assert!(has_render_node(dir.path()));

        // One this user may not open is no GPU for it (root may open anything).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o000)).expect("chmod");
        let is_root = std::fs::OpenOptions::new().read(true).open(&node).is_ok();
        assert_eq!(has_render_node(dir.path()), is_root);
    }
}

//! Where ccx keeps things: the data directory (docs/guide.md, "Files") and the per-project
//! store directory, created owner-only; and the umask of what ccx creates and starts. (The
//! runtime directory for sockets is [`crate::runtime_dir`].)

use anyhow::{Context, Result};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// `$CCX_DATA_DIR`, else `$XDG_DATA_HOME/ccx`, else `~/.local/share/ccx`.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = non_empty_env("CCX_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty_env("XDG_DATA_HOME") {
        return Ok(PathBuf::from(dir).join("ccx"));
    }
    let home = non_empty_env("HOME").context("cannot find the data directory: HOME is not set")?;
    Ok(PathBuf::from(home).join(".local/share/ccx"))
}

/// `$XDG_CONFIG_HOME/ccx/config.toml`, else `~/.config/ccx/config.toml`.
pub fn config_file() -> Option<PathBuf> {
    if let Some(dir) = non_empty_env("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(dir).join("ccx/config.toml"));
    }
    non_empty_env("HOME").map(|h| PathBuf::from(h).join(".config/ccx/config.toml"))
}

/// The project a directory belongs to: the directory itself, canonicalised.
pub fn project_dir(cwd: &Path) -> PathBuf {
    cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf())
}

/// A short stable name for a path, used for folder and socket names.
pub fn path_key(path: &Path) -> String {
    // FNV-1a 64: stable across runs and Rust versions (unlike DefaultHasher).
    let mut hash: u64 = 0xcbf29ce484222325;
    for byte in path.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    format!("{hash:016x}")
}

/// The store directory of one project: `<data>/projects/<name>-<key>`.
pub fn project_store_dir(data_dir: &Path, project: &Path) -> PathBuf {
    let name: String = project
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    data_dir
        .join("projects")
        .join(format!("{name}-{}", path_key(project)))
}

/// The file in a project's store directory that names the project (for listings of every
/// project: the store folder's own name is only a short form of it).
const PROJECT_FILE: &str = "project";

/// Writes the project's path into its store directory, once (owner-only).
pub fn remember_project(store_dir: &Path, project: &Path) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let file = store_dir.join(PROJECT_FILE);
    if file.exists() {
        return;
    }
    if let Ok(mut f) = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
    {
        let _ = writeln!(f, "{}", project.display());
    }
}

/// How listings of every project name a store: the project's path when known, else the
/// store directory.
pub fn project_label(store_dir: &Path) -> String {
    fs::read_to_string(store_dir.join(PROJECT_FILE))
        .ok()
        .map(|text| text.trim_end_matches('\n').to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| store_dir.display().to_string())
}

/// A private directory for sockets (short path: Unix socket paths are limited to ~108 bytes):
/// The umask ccx's own processes run with: every file it creates is the owner's only.
const PRIVATE_UMASK: libc::mode_t = 0o077;
/// The umask ccx was started with (`u32::MAX` until [`restrict_umask`] runs).
static INHERITED_UMASK: AtomicU32 = AtomicU32::new(u32::MAX);

/// Makes every file and directory ccx creates from now on private (umask 077), remembering the
/// person's umask for the programs ccx starts ([`inherited_umask`]). Call before any thread.
#[allow(clippy::useless_conversion)] // mode_t is narrower than u32 on some systems
pub fn restrict_umask() {
    // SAFETY: umask only swaps the process's file mode mask.
    let old = unsafe { libc::umask(PRIVATE_UMASK) };
    let _ = INHERITED_UMASK.compare_exchange(
        u32::MAX,
        u32::from(old),
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
}

/// The person's own umask, for the programs ccx starts (claude, git, an editor): their files
/// are made as without ccx. None when ccx did not change it.
pub fn inherited_umask() -> Option<libc::mode_t> {
    match INHERITED_UMASK.load(Ordering::SeqCst) {
        u32::MAX => None,
        mask => libc::mode_t::try_from(mask).ok(),
    }
}

/// Gives a program ccx starts the person's own umask back (see [`restrict_umask`]).
pub fn with_inherited_umask(cmd: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    if let Some(mask) = inherited_umask() {
        // SAFETY: umask is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                libc::umask(mask);
                Ok(())
            });
        }
    }
    cmd
}

/// Creates `dir` (and parents) if needed and makes it readable by the owner only.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {}", dir.display()))?;
    Ok(())
}

/// Writes `bytes` to `path`, ignoring errors (status files are best effort). Writes through a
/// temporary file of this process and a rename, so a reader never sees half a file and two
/// writers never share a temporary file. The file is readable by the owner only, whatever
/// umask the process was started with (the status command runs under Claude, with the
/// person's umask).
pub fn write_atomically(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut file| file.write_all(bytes));
    if written.is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

pub(crate) fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_key_is_stable_and_distinct() {
        assert_eq!(path_key(Path::new("/a/b")), path_key(Path::new("/a/b")));
        assert_ne!(path_key(Path::new("/a/b")), path_key(Path::new("/a/c")));
        assert_eq!(path_key(Path::new("/a/b")).len(), 16);
    }

    #[test]
    fn a_store_is_labelled_with_its_project() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(project_label(dir.path()), dir.path().display().to_string());
        remember_project(dir.path(), Path::new("/home/me/proj"));
        remember_project(dir.path(), Path::new("/elsewhere"));
        assert_eq!(project_label(dir.path()), "/home/me/proj");
    }

    #[test]
    fn store_dir_names_the_project() {
        let dir = project_store_dir(Path::new("/data"), Path::new("/home/me/my proj"));
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("my_proj-"), "{name}");
        assert!(dir.starts_with("/data/projects"));
    }
}

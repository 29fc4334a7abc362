//! Where ccx keeps things: the data directory (docs/guide.md, "Files"), the per-project store
//! directory, and a private runtime directory for sockets. Creates them owner-only.

use anyhow::{Context, Result};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

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
/// `$XDG_RUNTIME_DIR/ccx`, else `$TMPDIR/ccx-<uid>`. Made with `mkdir` (0700) and checked with
/// `lstat` before use — a real directory (never a link), owned by us, private — so ccx never
/// follows or chmods something another user put there. When the path is unsafe, ccx says so
/// once and uses the first safe `ccx-<uid>.N` beside it (the same for every ccx process, so
/// they still find each other's sockets).
pub fn runtime_dir() -> Result<PathBuf> {
    choose_runtime_dir()
}

/// How many alternatives beside an unsafe runtime directory are tried.
const RUNTIME_DIR_ALTERNATIVES: u32 = 20;

fn choose_runtime_dir() -> Result<PathBuf> {
    let uid = unsafe { libc::getuid() };
    let (base, name) = match non_empty_env("XDG_RUNTIME_DIR") {
        Some(d) if d.len() < 60 => (PathBuf::from(d), "ccx".to_string()),
        _ => (std::env::temp_dir(), format!("ccx-{uid}")),
    };
    let first = base.join(&name);
    let why = match private_dir(&first, uid) {
        Ok(()) => return Ok(first),
        Err(why) => why,
    };
    for n in 1..=RUNTIME_DIR_ALTERNATIVES {
        let other = base.join(format!("{name}.{n}"));
        if private_dir(&other, uid).is_ok() {
            static SAID: AtomicBool = AtomicBool::new(false);
            if !SAID.swap(true, Ordering::SeqCst) {
                let line = format!(
                    "{} is not safe to use ({why}); using {} instead",
                    first.display(),
                    other.display()
                );
                eprintln!("ccx: {line}");
                crate::diag::log(&line);
            }
            return Ok(other);
        }
    }
    anyhow::bail!(
        "no safe runtime directory: {} is not safe to use ({why}), nor any {name}.N beside it",
        first.display()
    )
}

/// Makes `dir` (its parent must exist) with `mkdir` 0700 unless it exists, then checks with
/// `lstat` that it is a directory (not a link) owned by `uid`; only then tightens a looser mode
/// of our own directory. The error says what is wrong with it.
fn private_dir(dir: &Path, uid: u32) -> std::result::Result<(), String> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create it: {e}")),
    }
    let meta = fs::symlink_metadata(dir).map_err(|e| format!("cannot examine it: {e}"))?;
    if meta.file_type().is_symlink() {
        return Err("it is a symbolic link".into());
    }
    if !meta.is_dir() {
        return Err("it is not a directory".into());
    }
    if meta.uid() != uid {
        return Err(format!("it belongs to user {}", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        // Ours and a real directory: safe to tighten.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot make it private: {e}"))?;
    }
    Ok(())
}

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

fn non_empty_env(name: &str) -> Option<String> {
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

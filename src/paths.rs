//! Where ccx keeps things: the data directory (docs/guide.md, "Files"), the per-project store
//! directory, and a private runtime directory for sockets. Creates them owner-only.

use anyhow::{Context, Result};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

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
/// `$XDG_RUNTIME_DIR/ccx`, else `/tmp/ccx-<uid>`. Created 0700 and checked to be ours.
pub fn runtime_dir() -> Result<PathBuf> {
    let uid = unsafe { libc::getuid() };
    let dir = match non_empty_env("XDG_RUNTIME_DIR") {
        Some(d) if d.len() < 60 => PathBuf::from(d).join("ccx"),
        _ => std::env::temp_dir().join(format!("ccx-{uid}")),
    };
    ensure_private_dir(&dir)?;
    let meta = fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != uid {
        anyhow::bail!(
            "runtime directory {} is not a directory owned by you",
            dir.display()
        );
    }
    Ok(dir)
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

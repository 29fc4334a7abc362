//! ccx's private runtime directory, for sockets and each session's run directory:
//! `$XDG_RUNTIME_DIR/ccx`, else `$TMPDIR/ccx-<uid>`, never one another user could have made.

use anyhow::Result;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

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
    let (base, name) = match crate::paths::non_empty_env("XDG_RUNTIME_DIR") {
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

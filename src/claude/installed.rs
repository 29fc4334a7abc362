//! The Claude Code that `scripts/run.sh` installed (into the ccx repository's `.cache/`),
//! remembered in ccx's data directory as `claude-path`, so a ccx on `PATH` finds it from any
//! directory. Used only when no `claude` is named or found on `PATH`.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The internal subcommand `scripts/run.sh` runs: `ccx __remember-claude PATH`.
pub const REMEMBER_SUBCOMMAND: &str = "__remember-claude";
const FILE: &str = "claude-path";

/// The remembered Claude Code executable, when there is one.
pub fn recorded_claude() -> Option<PathBuf> {
    let file = crate::paths::data_dir().ok()?.join(FILE);
    let text = std::fs::read_to_string(file).ok()?;
    let path = PathBuf::from(text.trim());
    path.is_absolute().then_some(path)
}

/// Remembers `path` (made absolute) as the Claude Code to use when none is on `PATH`.
pub fn remember(path: &Path) -> Result<i32> {
    let path = path
        .canonicalize()
        .with_context(|| format!("no executable there: {}", path.display()))?;
    let dir = crate::paths::data_dir()?;
    crate::paths::ensure_private_dir(&dir)?;
    let file = dir.join(FILE);
    std::fs::write(&file, format!("{}\n", path.display()))
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!("ccx will use {} when no claude is on PATH", path.display());
    Ok(0)
}

//! Finding claude: `--ccx-claude PATH`, else `$CCX_CLAUDE`, else `claude` on `PATH`, else the
//! Claude Code that scripts/run.sh installed ([`super::installed`]).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Finds claude: `explicit` (`--ccx-claude PATH`), else `$CCX_CLAUDE`, else `claude` on
/// `PATH`, else the remembered installation. One clear error when there is none.
pub fn find_claude(explicit: Option<PathBuf>) -> Result<PathBuf> {
    let wanted = explicit.or_else(|| {
        std::env::var_os("CCX_CLAUDE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = wanted {
        return if is_executable(&path) {
            Ok(path)
        } else if !path.to_string_lossy().contains('/') {
            search_path(&path.to_string_lossy()).with_context(|| not_found(&path.to_string_lossy()))
        } else if path.is_dir() {
            anyhow::bail!(
                "{} is a directory, not Claude Code's executable",
                path.display()
            )
        } else if path.exists() {
            anyhow::bail!("{} is not executable", path.display())
        } else {
            anyhow::bail!("no executable there: {}", path.display())
        };
    }
    search_path("claude")
        .or_else(|| super::installed::recorded_claude().filter(|p| is_executable(p)))
        .with_context(|| not_found("claude"))
}

/// The claude to start now, given the one found at launch: that path, unresolved, while it
/// is still there (an update replaces the file under the same path, or repoints a link, so
/// the new version starts); if the update moved claude elsewhere, it is looked for again
/// (`$CCX_CLAUDE`, then `PATH`).
pub fn claude_now(found: &Path) -> PathBuf {
    if is_executable(found) {
        return found.to_path_buf();
    }
    find_claude(None).unwrap_or_else(|_| found.to_path_buf())
}

fn not_found(what: &str) -> String {
    format!(
        "cannot find Claude Code ({what}): install it with `npm install -g @anthropic-ai/claude-code`, \
         or point ccx at it with --ccx-claude PATH or CCX_CLAUDE=PATH"
    )
}

fn search_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// True for an existing file with an execute bit (links followed).
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_claude_is_one_clear_error() {
        let err = find_claude(Some(PathBuf::from("/no/such/claude"))).unwrap_err();
        assert_eq!(format!("{err:#}"), "no executable there: /no/such/claude");
        let err = find_claude(Some(PathBuf::from("no-such-claude-anywhere"))).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("cannot find Claude Code") && text.contains("--ccx-claude"),
            "{text}"
        );
    }
}

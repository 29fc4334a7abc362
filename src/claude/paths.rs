//! Where Claude Code keeps its files: its config directory (`$CLAUDE_CONFIG_DIR`, else
//! `~/.claude`), the per-project folder of transcripts under it, and a session's transcript.

use anyhow::{Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variable that moves Claude Code's config directory.
pub const CONFIG_DIR_VAR: &str = "CLAUDE_CONFIG_DIR";
/// Claude Code shortens project directory names longer than this (adding a hash).
const MAX_PROJECT_DIR_NAME: usize = 200;

/// The name Claude Code gives a project's folder under `~/.claude/projects`: every UTF-16
/// code unit of the path that is not ASCII alphanumeric becomes '-' (so `/a/b.c` is `-a-b-c`);
/// a name longer than 200 is cut to 200 and followed by '-' and a base-36 hash of the path
/// (Claude Code 2.1.330).
pub fn project_dir_name(cwd: &Path) -> String {
    let path = cwd.to_string_lossy();
    let units: Vec<u16> = path.encode_utf16().collect();
    let name: String = units
        .iter()
        .map(|&u| match u8::try_from(u) {
            Ok(b) if b.is_ascii_alphanumeric() => b as char,
            _ => '-',
        })
        .collect();
    if name.len() <= MAX_PROJECT_DIR_NAME {
        return name;
    }
    // JavaScript: h = (h << 5) - h + charCode | 0, over UTF-16 code units.
    let hash = units.iter().fold(0i32, |h, &u| {
        h.wrapping_shl(5).wrapping_sub(h).wrapping_add(i32::from(u))
    });
    format!(
        "{}-{}",
        &name[..MAX_PROJECT_DIR_NAME],
        to_base36(i64::from(hash).unsigned_abs())
    )
}

fn to_base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Where Claude Code keeps a session's transcript:
/// `<home>/.claude/projects/<project_dir_name(cwd)>/<session_id>.jsonl`.
/// (Claude Code uses `$CLAUDE_CONFIG_DIR` instead of `~/.claude` when it is set: see
/// [`transcript_path_in`].)
pub fn transcript_path(home: &Path, cwd: &Path, session_id: &str) -> PathBuf {
    transcript_path_in(&home.join(".claude"), cwd, session_id)
}

/// As [`transcript_path`], under a given Claude config directory (`~/.claude` or
/// `$CLAUDE_CONFIG_DIR`).
pub fn transcript_path_in(config_dir: &Path, cwd: &Path, session_id: &str) -> PathBuf {
    config_dir
        .join("projects")
        .join(project_dir_name(cwd))
        .join(format!("{session_id}.jsonl"))
}

/// Claude Code's config directory: `$CLAUDE_CONFIG_DIR`, else `$HOME/.claude`.
pub fn config_dir() -> Option<PathBuf> {
    config_dir_with(|key| std::env::var_os(key))
}

/// As [`config_dir`], for a claude whose environment is read by `var` (a subagent job's
/// environment may differ from ccx's own).
pub fn config_dir_with(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |key: &str| var(key).filter(|v| !v.is_empty());
    match set(CONFIG_DIR_VAR) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => set("HOME").map(|h| PathBuf::from(h).join(".claude")),
    }
}

/// As [`config_dir`], or the error to show when there is none.
pub fn require_config_dir() -> Result<PathBuf> {
    config_dir().context("cannot find Claude Code's folder: HOME is not set")
}

/// The folder holding the transcripts of the sessions Claude runs in `cwd`.
pub fn project_transcripts_dir(cwd: &Path) -> Option<PathBuf> {
    Some(config_dir()?.join("projects").join(project_dir_name(cwd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_path_rule() {
        let home = Path::new("/home/u");
        assert_eq!(
            transcript_path(home, Path::new("/work/my.proj_x"), "abc-123"),
            PathBuf::from("/home/u/.claude/projects/-work-my-proj-x/abc-123.jsonl")
        );
        assert_eq!(project_dir_name(Path::new("/tmp/été")), "-tmp--t-");
        // Non-BMP chars are two UTF-16 units.
        assert_eq!(project_dir_name(Path::new("/a🙂")), "-a--");
        let long = format!("/{}", "d".repeat(250));
        let name = project_dir_name(Path::new(&long));
        assert!(name.starts_with(&format!("-{}-", "d".repeat(199))));
        assert!(name.len() > 201 && name.len() <= 201 + 7);
        assert_eq!(to_base36(0), "0");
        assert_eq!(to_base36(35), "z");
        assert_eq!(to_base36(36), "10");
        assert_eq!(to_base36(1u64 << 31), "zik0zk");
    }

    #[test]
    fn long_path_hash_matches_javascript() {
        // Expected values computed with node from Claude Code 2.1.330's own functions:
        // replace(/[^a-zA-Z0-9]/g, "-"), cut at 200, "-" + Math.abs(djb2-ish hash).toString(36).
        let s = format!("/{}", "x".repeat(300));
        assert_eq!(
            project_dir_name(Path::new(&s)),
            format!("-{}-x8zr69", "x".repeat(199))
        );
        let s = format!("/home/u/é🙂/{}", "proj.".repeat(50));
        let expected = format!("-home-u-----{}pro-t4adhg", "proj-".repeat(37));
        assert_eq!(project_dir_name(Path::new(&s)), expected);
    }
}

//! What ccx knows of Claude Code's output, and the bookkeeping of anything else it meets.
//!
//! Claude Code changes its transcript entry types, hook payload fields and statusLine payload
//! fields often. The names ccx was written against (Claude Code 2.1.330–2.1.332) are listed
//! here; a name outside them never stops recording (it is kept as it came, and ignored). The
//! first time any ccx meets one, it writes a line to `ccx.log` and adds it to a small file in
//! the data directory ([`SEEN_FILE`]), which `ccx doctor` lists; later sightings cost nothing.

use crate::hooks::wire::STRING_FIELDS;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The file in the data directory holding the unknown names seen.
pub const SEEN_FILE: &str = "unknown-types.json";
/// At most this many names are kept (a garbled transcript must not grow the file without end).
const MAX_SEEN: usize = 200;
/// Longest name kept, in characters.
const MAX_NAME_CHARS: usize = 64;

/// Transcript entry `type`s Claude Code 2.1.330–2.1.332 write (the same list in all three).
pub const KNOWN_ENTRY_TYPES: &[&str] = &[
    "user",
    "assistant",
    "attachment",
    "system",
    "progress",
    "summary",
    "custom-title",
    "ended-by-model",
    "continued-in",
    "ai-title",
    "last-prompt",
    "tag",
    "relocated",
    "agent-name",
    "agent-color",
    "agent-setting",
    "pr-link",
    "frame-link",
    "artifact-comment-monitor",
    "artifact-autoreact-ledger",
    "bridge-session",
    "history-suppression",
    "file-history-snapshot",
    "file-history-delta",
    "attribution-snapshot",
    "mode",
    "permission-mode",
    "isolation-latch",
    "session-owner",
    "dev-mods",
    "memory-mode",
    "atis-latch",
    "tools-used",
    "data-flow-records",
    "data-flow-incomplete",
    "derived-from",
    "worktree-state",
    "cost-state",
    "queue-operation",
    "content-replacement",
    "api-request-shape",
    "api-request-blob",
    "api-request",
    "api-request-resumed",
    "fork-context-ref",
    "observer-ref",
    "resume-head-vouch",
];

/// Top-level hook payload fields of the events ccx listens to (2.1.330–2.1.332): the string
/// fields ccx reads ([`STRING_FIELDS`]) and [`OTHER_HOOK_FIELDS`].
pub const KNOWN_HOOK_FIELDS: &[&str] =
    &joined::<{ STRING_FIELDS.len() + OTHER_HOOK_FIELDS.len() }>(STRING_FIELDS, OTHER_HOOK_FIELDS);

/// The hook payload fields besides the string ones ccx reads.
const OTHER_HOOK_FIELDS: &[&str] = &[
    "stop_hook_active",
    "session_title",
    "scratchpad_dir",
    "effort",
    "background_tasks",
    "session_crons",
    "reason",
    "context_tokens",
    "estimated_cache_write_usd",
    "prompt_cache_likely_expired",
    "seconds_since_last_response",
];

/// `a` then `b` as one array of `N` names (a constant list made of two).
const fn joined<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

/// Top-level statusLine payload fields (2.1.330–2.1.332).
pub const KNOWN_STATUS_LINE_FIELDS: &[&str] = &[
    "hook_event_name",
    "session_id",
    "session_name",
    "transcript_path",
    "cwd",
    "scratchpad_dir",
    "prompt_id",
    "permission_mode",
    "agent_id",
    "agent_type",
    "effort",
    "model",
    "workspace",
    "version",
    "output_style",
    "cost",
    "context_window",
    "exceeds_200k_tokens",
    "prompt_cache",
    "fast_mode",
    "thinking",
    "rate_limits",
    "vim",
    "agent",
    "remote",
    "pr",
    "worktree",
];

/// Where an unknown name was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A transcript line's `type`.
    TranscriptEntry,
    /// A top-level field of a hook payload.
    HookField,
    /// A known hook field whose value had another JSON type than expected (it is ignored).
    HookFieldType,
    /// A top-level field of the statusLine payload.
    StatusLineField,
}

impl Kind {
    /// How the kind reads in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Kind::TranscriptEntry => "transcript entry type",
            Kind::HookField => "hook field",
            Kind::HookFieldType => "hook field of a new type",
            Kind::StatusLineField => "statusLine field",
        }
    }
}

/// One unknown name, as kept in [`SEEN_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub kind: Kind,
    pub name: String,
    /// When a ccx first met it (RFC 3339).
    pub first_seen: String,
}

/// The `type`s of transcript lines that are not in [`KNOWN_ENTRY_TYPES`], each once, in
/// order of first appearance (a line without a `type` counts as the type "").
pub fn unknown_entry_types<'a>(types: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in types {
        if !KNOWN_ENTRY_TYPES.contains(&t) && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

/// The keys of a JSON object that are not in `known` (none when it is not an object).
pub fn unknown_fields(payload: &Value, known: &[&str]) -> Vec<String> {
    payload
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, _)| key)
        .filter(|key| !known.contains(&key.as_str()))
        .cloned()
        .collect()
}

/// Notes unknown transcript entry types among `lines` (see [`note`]).
pub fn note_transcript(lines: &[crate::transcript::Line]) {
    use crate::transcript::LineKind;
    let types = lines.iter().filter_map(|l| match &l.kind {
        LineKind::Other(t) => Some(t.as_str()),
        _ => None,
    });
    note(Kind::TranscriptEntry, unknown_entry_types(types));
}

/// Notes that `names` of `kind` were met: each one no ccx met before is logged to `ccx.log`
/// and kept in the data directory. Never fails (bookkeeping must not disturb recording); a
/// name is looked at once per process.
pub fn note(kind: Kind, names: Vec<String>) {
    static HANDLED: Mutex<Option<HashSet<(Kind, String)>>> = Mutex::new(None);
    let fresh: Vec<String> = {
        let mut handled = HANDLED.lock().unwrap_or_else(|e| e.into_inner());
        let handled = handled.get_or_insert_with(HashSet::new);
        names
            .into_iter()
            .map(|n| clean_name(&n))
            .filter(|n| handled.insert((kind, n.clone())))
            .collect()
    };
    if fresh.is_empty() {
        return;
    }
    let Ok(dir) = crate::paths::data_dir() else {
        return;
    };
    if crate::paths::ensure_private_dir(&dir).is_err() {
        return;
    }
    for name in add_seen(&seen_file(&dir), kind, &fresh) {
        crate::diag::log(&format!(
            "Claude Code sent an unknown {} {name:?}: ignored, recording goes on \
             (listed by `ccx doctor`)",
            kind.label()
        ));
    }
}

/// [`SEEN_FILE`] in the data directory `dir`.
pub fn seen_file(dir: &Path) -> PathBuf {
    dir.join(SEEN_FILE)
}

/// The unknown names kept in `file` (none if it is missing or unreadable).
pub fn read_seen(file: &Path) -> Vec<Seen> {
    std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Adds the `names` of `kind` that `file` does not hold yet (up to [`MAX_SEEN`] in all) and
/// returns those it added. Written whole to a temporary file and renamed into place, so a
/// reader never sees half of it; owner-only.
pub fn add_seen(file: &Path, kind: Kind, names: &[String]) -> Vec<String> {
    let mut seen = read_seen(file);
    let mut added = Vec::new();
    for name in names {
        let name = clean_name(name);
        if seen.len() >= MAX_SEEN {
            break;
        }
        if seen.iter().any(|s| s.kind == kind && s.name == name) {
            continue;
        }
        seen.push(Seen {
            kind,
            name: name.clone(),
            first_seen: crate::model::now_rfc3339(),
        });
        added.push(name);
    }
    if !added.is_empty() && write_seen(file, &seen).is_err() {
        return Vec::new();
    }
    added
}

fn write_seen(file: &Path, seen: &[Seen]) -> std::io::Result<()> {
    let tmp = file.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| {
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        out.write_all(&serde_json::to_vec_pretty(seen).map_err(std::io::Error::other)?)?;
        out.sync_all()?;
        std::fs::rename(&tmp, file)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A name as kept and shown: at most [`MAX_NAME_CHARS`] characters, no control characters.
fn clean_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(MAX_NAME_CHARS)
        .collect();
    if name.chars().count() > MAX_NAME_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_claude_code_writes_are_known_and_others_are_listed_once() {
        let types = [
            "user",
            "custom-title",
            "ai-title",
            "last-prompt",
            "teleport-marker",
            "assistant",
            "teleport-marker",
            "",
        ];
        assert_eq!(
            unknown_entry_types(types),
            vec!["teleport-marker".to_string(), String::new()]
        );
    }

    #[test]
    fn unknown_fields_are_the_keys_outside_the_list() {
        let payload = serde_json::json!({"session_id": "s", "hook_event_name": "Stop",
            "stop_hook_active": false, "turn_budget": {"left": 3}});
        assert_eq!(
            unknown_fields(&payload, KNOWN_HOOK_FIELDS),
            vec!["turn_budget".to_string()]
        );
        assert!(unknown_fields(&serde_json::json!([1]), KNOWN_HOOK_FIELDS).is_empty());
        // The fields ccx reads and the others, joined.
        assert_eq!(KNOWN_HOOK_FIELDS.len(), 26);
        for field in [
            "session_id",
            "model",
            "stop_hook_active",
            "seconds_since_last_response",
        ] {
            assert!(KNOWN_HOOK_FIELDS.contains(&field), "{field}");
        }
        let status = serde_json::json!({"model": {"id": "m"}, "context_window": {},
            "session_clock": 3});
        assert_eq!(
            unknown_fields(&status, KNOWN_STATUS_LINE_FIELDS),
            vec!["session_clock".to_string()]
        );
    }

    #[test]
    fn each_name_is_kept_once_owner_only_and_survives_a_garbled_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = seen_file(dir.path());
        assert!(read_seen(&file).is_empty());
        let names = vec!["teleport-marker".to_string(), "x".to_string()];
        assert_eq!(add_seen(&file, Kind::TranscriptEntry, &names), names);
        assert!(add_seen(&file, Kind::TranscriptEntry, &names).is_empty());
        // The same name of another kind is another finding.
        assert_eq!(
            add_seen(&file, Kind::HookField, &["x".to_string()]),
            vec!["x".to_string()]
        );
        let seen = read_seen(&file);
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].kind, Kind::TranscriptEntry);
        assert_eq!(seen[2].kind, Kind::HookField);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        std::fs::write(&file, b"{not json").unwrap();
        assert!(read_seen(&file).is_empty());
        assert_eq!(
            add_seen(&file, Kind::HookField, &["y".to_string()]).len(),
            1
        );
    }

    #[test]
    fn the_kept_set_is_bounded_and_names_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let file = seen_file(dir.path());
        let many: Vec<String> = (0..MAX_SEEN + 50).map(|i| format!("t{i}")).collect();
        assert_eq!(
            add_seen(&file, Kind::TranscriptEntry, &many).len(),
            MAX_SEEN
        );
        assert_eq!(read_seen(&file).len(), MAX_SEEN);
        assert!(add_seen(&file, Kind::StatusLineField, &["late".into()]).is_empty());

        assert_eq!(clean_name("a\u{1b}[2Jb"), "a?[2Jb");
        let long = clean_name(&"z".repeat(500));
        assert_eq!(long.chars().count(), MAX_NAME_CHARS + 1);
    }
}

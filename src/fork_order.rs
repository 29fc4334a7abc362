//! The order transcripts are imported in: every session before the sessions Claude's `/branch`
//! copied from it. A copy holds the original's lines under the same uuids, but Claude rewrites
//! a copied compaction into the chain (see docs/claude-session-moves.md), so the turns both
//! files hold must be cut as the original has them, as live recording cut them; the copy then
//! only adds its own turns.

use serde_json::Value;
use std::io::BufRead;
use std::path::Path;

/// Lines read from the top of a transcript to find its first conversation line.
const MAX_HEAD_LINES: usize = 200;

/// Indices into `paths` in import order: the given order (oldest first, say), except that a
/// transcript comes after the one of the session it was copied from, when that one is listed.
pub fn originals_first<P: AsRef<Path>>(paths: &[P]) -> Vec<usize> {
    let sessions: Vec<Option<String>> = paths
        .iter()
        .map(|p| {
            p.as_ref()
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect();
    let origins: Vec<Option<usize>> = paths
        .iter()
        .map(|p| {
            let origin = copied_from(p.as_ref())?;
            sessions.iter().position(|s| s.as_deref() == Some(&origin))
        })
        .collect();
    let mut order = Vec::with_capacity(paths.len());
    let mut placed = vec![false; paths.len()];
    for start in 0..paths.len() {
        // The chain of origins not placed yet, nearest first; placed from the oldest origin.
        let mut chain = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at.filter(|&i| !placed[i] && !chain.contains(&i)) {
            chain.push(i);
            at = origins[i];
        }
        for &i in chain.iter().rev() {
            placed[i] = true;
            order.push(i);
        }
    }
    order
}

/// The session a transcript was copied from by Claude's `/branch`: `forkedFrom.sessionId` of
/// its first conversation line (a line with a `uuid`), if that line is a copy.
fn copied_from(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let first = std::io::BufReader::new(file)
        .lines()
        .take(MAX_HEAD_LINES)
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .find(|v| v.get("uuid").is_some())?;
    first
        .get("forkedFrom")?
        .get("sessionId")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, session: &str, first: Value) -> std::path::PathBuf {
        let path = dir.join(format!("{session}.jsonl"));
        let lines = [json!({"type": "mode", "mode": "normal"}), first];
        let text: Vec<String> = lines.iter().map(Value::to_string).collect();
        std::fs::write(&path, text.join("\n") + "\n").unwrap();
        path
    }

    fn copy_of(origin: &str) -> Value {
        json!({"type": "user", "uuid": "u1", "parentUuid": null,
            "forkedFrom": {"sessionId": origin, "messageUuid": "u1"}})
    }

    #[test]
    fn a_copy_comes_after_the_session_it_was_copied_from() {
        let dir = tempfile::tempdir().unwrap();
        let plain = json!({"type": "user", "uuid": "u1", "parentUuid": null});
        // Oldest first: the copy of a copy, the copy, another session, the original.
        let paths = [
            write(dir.path(), "c2", copy_of("c1")),
            write(dir.path(), "c1", copy_of("orig")),
            write(dir.path(), "other", plain.clone()),
            write(dir.path(), "orig", plain),
            // A copy of a session that is not listed keeps its place.
            write(dir.path(), "stray", copy_of("gone")),
        ];
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        assert_eq!(originals_first(&refs), [3, 1, 0, 2, 4]);
    }

    #[test]
    fn files_without_copies_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let plain = json!({"type": "user", "uuid": "u1", "parentUuid": null});
        let paths = [
            write(dir.path(), "a", plain.clone()),
            write(dir.path(), "b", plain),
            dir.path().join("missing.jsonl"),
        ];
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        assert_eq!(originals_first(&refs), [0, 1, 2]);
    }
}

//! Following one Claude session's transcript as Claude writes it, and reading where a line sits
//! in the conversation Claude really holds.
//!
//! [`Follower`] reads only what was appended since its last look (a rewritten, shorter file is
//! read again from the start), keeps the parsed lines and an index by `uuid`. The conversation's
//! truth is the `parentUuid` chain (see docs/claude-session-moves.md): Claude's rewind menu
//! continues from an earlier line, `/branch` and `/fork` copy the history under the same uuids
//! (with `forkedFrom`), compaction boundaries cut the chain (`parentUuid: null`) and name the
//! line they continue in `logicalParentUuid`. [`Follower::turn_ancestors`] walks that chain.

use crate::transcript::{self, Line};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Most lines one walk up the chain visits.
const MAX_WALK: usize = 1_000_000;

/// A session's transcript, read incrementally.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    /// Bytes consumed so far (always just after a newline).
    offset: u64,
    lines: Vec<Line>,
    by_uuid: HashMap<String, usize>,
}

/// What a walk up the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Walk {
    /// The lines that may start a turn, nearest first.
    pub ancestors: Vec<Ancestor>,
    /// The walk stopped at a line this file does not hold (the file was rewritten or cut), so
    /// more of the conversation lies beyond what it saw.
    pub broken: bool,
}

/// A line up the chain that may start a turn, nearest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    /// The uuids a recorded turn may know it by: the line's own, and the one it was copied from.
    pub uuids: Vec<String>,
    /// A real prompt of the person's (not a command or a compaction).
    pub is_prompt: bool,
}

impl Follower {
    pub fn new(path: PathBuf) -> Follower {
        Follower {
            path,
            offset: 0,
            lines: Vec::new(),
            by_uuid: HashMap::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every complete line read so far, in file order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Where the line with `uuid` is (the last one, if a uuid repeats).
    pub fn position(&self, uuid: &str) -> Option<usize> {
        self.by_uuid.get(uuid).copied()
    }

    /// Reads what was appended since the last call (complete lines only); starts over when the
    /// file is shorter than what was read. A missing file is not an error: nothing new.
    pub fn refresh(&mut self) -> std::io::Result<usize> {
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        if len < self.offset {
            self.offset = 0;
            self.lines.clear();
            self.by_uuid.clear();
        }
        if len == self.offset {
            return Ok(0);
        }
        if len - self.offset > transcript::MAX_TRANSCRIPT_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("transcript {} is too large", self.path.display()),
            ));
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut bytes = Vec::with_capacity((len - self.offset) as usize);
        file.take(len - self.offset).read_to_end(&mut bytes)?;
        // Claude may be writing the last line: take complete lines only.
        let Some(end) = memchr::memrchr(b'\n', &bytes) else {
            return Ok(0);
        };
        bytes.truncate(end + 1);
        self.offset += bytes.len() as u64;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let new = transcript::parse_lines(&text);
        let count = new.len();
        for line in new {
            if let Some(uuid) = &line.uuid {
                self.by_uuid.insert(uuid.clone(), self.lines.len());
            }
            self.lines.push(line);
        }
        Ok(count)
    }

    /// The lines up the chain from line `index` (exclusive) that may start a turn, nearest
    /// first: prompt and command lines, and compaction boundaries (which the walk crosses
    /// through their `logicalParentUuid`). Ends at the chain's root or at a line not in the file.
    pub fn turn_ancestors(&self, index: usize) -> Walk {
        self.ancestors(index, false)
    }

    /// As [`Follower::turn_ancestors`], but starting with line `index` itself.
    pub fn turn_ancestors_from(&self, index: usize) -> Walk {
        self.ancestors(index, true)
    }

    /// Every turn-starting line up the chain from `index` (itself too when `inclusive`).
    fn ancestors(&self, index: usize, inclusive: bool) -> Walk {
        let mut walk = Walk::default();
        walk.broken = self.walk_up(index, inclusive, |a| {
            walk.ancestors.push(a.clone());
            false
        });
        walk
    }

    /// Visits the turn-starting lines up the chain from line `index` (itself first when
    /// `include_self`), nearest first, until `visit` says stop (returns true). Returns true when
    /// the walk ended at a line this file does not hold (see [`Walk::broken`]).
    pub fn walk_up(
        &self,
        index: usize,
        include_self: bool,
        mut visit: impl FnMut(&Ancestor) -> bool,
    ) -> bool {
        let Some(start) = self.lines.get(index) else {
            return false;
        };
        if include_self {
            if let Some(own) = as_ancestor(start) {
                if visit(&own) {
                    return false;
                }
            }
        }
        let mut next = parent_of(start);
        let mut seen = 0;
        while let Some(uuid) = next.take() {
            seen += 1;
            if seen > MAX_WALK {
                break;
            }
            let Some(&i) = self.by_uuid.get(uuid) else {
                return true;
            };
            let line = &self.lines[i];
            if let Some(ancestor) = as_ancestor(line) {
                if visit(&ancestor) {
                    return false;
                }
            }
            next = parent_of(line);
        }
        false
    }
}

/// The line a line continues: its `parentUuid`, or across a compaction its `logicalParentUuid`.
fn parent_of(line: &Line) -> Option<&str> {
    line.parent_uuid
        .as_deref()
        .or_else(|| line.logical_parent_uuid())
}

fn as_ancestor(line: &Line) -> Option<Ancestor> {
    let is_prompt = transcript::is_prompt_line(line);
    if !(is_prompt || transcript::starts_turn(line) || line.is_compact_boundary()) {
        return None;
    }
    let mut uuids: Vec<String> = line.uuid.iter().cloned().collect();
    if let Some(from) = line.forked_from_uuid() {
        if !uuids.iter().any(|u| u == from) {
            uuids.push(from.to_owned());
        }
    }
    Some(Ancestor { uuids, is_prompt })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(uuid: &str, parent: Option<&str>, text: &str) -> String {
        serde_json::json!({"type": "user", "uuid": uuid, "parentUuid": parent,
            "sessionId": "s", "message": {"role": "user", "content": text}})
        .to_string()
    }

    fn reply(uuid: &str, parent: &str) -> String {
        serde_json::json!({"type": "assistant", "uuid": uuid, "parentUuid": parent,
            "sessionId": "s", "message": {"id": uuid, "role": "assistant",
            "content": [{"type": "text", "text": "ok"}]}})
        .to_string()
    }

    #[test]
    fn reads_appended_lines_only_and_starts_over_when_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "{}", line("p1", None, "one")).unwrap();
        write!(f, "{}", reply("a1", "p1")).unwrap(); // no newline yet: not complete
        let mut follower = Follower::new(path.clone());
        assert_eq!(follower.refresh().unwrap(), 1);
        writeln!(f).unwrap();
        assert_eq!(follower.refresh().unwrap(), 1);
        assert_eq!(follower.refresh().unwrap(), 0);
        assert_eq!(follower.position("a1"), Some(1));
        std::fs::write(&path, format!("{}\n", line("x", None, "new"))).unwrap();
        assert_eq!(follower.refresh().unwrap(), 1);
        assert_eq!(follower.lines().len(), 1);
        assert_eq!(follower.position("a1"), None);
    }

    #[test]
    fn walks_past_replies_and_across_a_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let boundary = serde_json::json!({"type": "system", "subtype": "compact_boundary",
            "uuid": "b", "parentUuid": null, "logicalParentUuid": "a2", "sessionId": "s"});
        let text = [
            line("p1", None, "one"),
            reply("a1", "p1"),
            line("p2", Some("a1"), "two"),
            reply("a2", "p2"),
            line("p3", Some("a2"), "three"),
            reply("a3", "p3"),
            // The rewind menu: the next prompt continues from the end of turn one.
            line("p4", Some("a1"), "four"),
            boundary.to_string(),
            line("p5", Some("b"), "five"),
        ]
        .join("\n")
            + "\n";
        std::fs::write(&path, text).unwrap();
        let mut follower = Follower::new(path);
        follower.refresh().unwrap();
        let first = |i: usize| {
            follower
                .turn_ancestors(i)
                .ancestors
                .first()
                .map(|a| a.uuids[0].clone())
        };
        assert_eq!(first(6).as_deref(), Some("p1"));
        assert_eq!(first(4).as_deref(), Some("p2"));
        assert_eq!(first(0), None);
        let up: Vec<String> = follower
            .turn_ancestors(8)
            .ancestors
            .into_iter()
            .map(|a| a.uuids[0].clone())
            .collect();
        assert_eq!(up, ["b", "p2", "p1"]);
        assert!(!follower.turn_ancestors(8).ancestors[0].is_prompt);
        assert!(!follower.turn_ancestors(8).broken);
        assert_eq!(follower.turn_ancestors_from(8).ancestors[0].uuids, ["p5"]);
    }
}

//! The identifiers the turn log and Claude hand around, each its own type so one cannot be
//! passed for another: [`TurnId`] (a turn's number in the log), [`SessionId`] (a Claude Code
//! session) and [`MetaKey`] (every key of the log's small key/value table). Each keeps the
//! stored and wire form it always had: a turn id is a JSON number, a session id a JSON string,
//! a meta key the same text as before. Branch names are [`crate::names::BranchName`]'s.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A turn's id: unique within a project, increasing from 1. Shown as the bare number.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TurnId(pub u64);

impl TurnId {
    /// The number (for the store's keys and for arithmetic on ids).
    pub fn get(self) -> u64 {
        self.0
    }

    /// The store's key for the turn: the id big-endian, so keys sort as ids do.
    pub fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// The id after this one.
    pub fn next(self) -> TurnId {
        TurnId(self.0 + 1)
    }

    /// This id and the ones after it, in order.
    pub fn and_after(self) -> impl Iterator<Item = TurnId> {
        (self.0..).map(TurnId)
    }

    /// The id from its decimal digits (no sign, no `#`), or None.
    pub fn parse(digits: &str) -> Option<TurnId> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(TurnId)
    }
}

/// The bare number, honouring width and alignment (`{:>4}`) as a number would.
impl fmt::Display for TurnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u64> for TurnId {
    fn from(id: u64) -> TurnId {
        TurnId(id)
    }
}

/// A Claude Code session id (the uuid Claude names its transcript after, given to
/// `--session-id` and `--resume`). Empty on a branch that no session carries yet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    pub fn new(id: impl Into<String>) -> SessionId {
        SessionId(id.into())
    }

    /// A fresh random id, for a session ccx starts.
    pub fn random() -> SessionId {
        SessionId(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// The bare id, honouring width and alignment (`{:<36}`) as a string would.
impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for SessionId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for SessionId {
    fn from(id: String) -> SessionId {
        SessionId(id)
    }
}

impl From<&str> for SessionId {
    fn from(id: &str) -> SessionId {
        SessionId(id.to_owned())
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

/// So a map keyed by session ids can be asked with a `&str`.
impl std::borrow::Borrow<str> for SessionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for SessionId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for SessionId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<&str> for SessionId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A key of the turn log's `meta` table: every one the log uses is listed here, and
/// [`fmt::Display`] writes the text it is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MetaKey {
    /// `current_branch`: the branch the last session of the project was on.
    CurrentBranch,
    /// `tombstones_from`: the first turn id given after deleted turns were remembered; a gap
    /// in the ids from there on is a lost turn, not a deleted one.
    TombstonesFrom,
    /// `moves`: the moves history that `undo` walks back (see `crate::moves`).
    Moves,
    /// `last_brief`: the name of the brief saved last.
    LastBrief,
    /// `brief:NAME`: a saved brief.
    Brief(String),
    /// `merges`: every merge edge, for the tree.
    Merges,
    /// `merged:TURN`: what merge turn TURN brought in.
    Merged(TurnId),
    /// `recording:SESSION`: the ccx process recording SESSION (`pid:start-time`).
    Recording(SessionId),
    /// `imported:SESSION`: what an import of SESSION's transcript made (its branches).
    Imported(SessionId),
}

impl MetaKey {
    /// The key a stored text names, or None for a text no ccx writes.
    pub fn parse(key: &str) -> Option<MetaKey> {
        let fixed = match key {
            "current_branch" => Some(MetaKey::CurrentBranch),
            "tombstones_from" => Some(MetaKey::TombstonesFrom),
            "moves" => Some(MetaKey::Moves),
            "last_brief" => Some(MetaKey::LastBrief),
            "merges" => Some(MetaKey::Merges),
            _ => None,
        };
        if fixed.is_some() {
            return fixed;
        }
        let (kind, rest) = key.split_once(':')?;
        match kind {
            "brief" => Some(MetaKey::Brief(rest.to_owned())),
            "merged" => TurnId::parse(rest).map(MetaKey::Merged),
            "recording" => Some(MetaKey::Recording(SessionId::from(rest))),
            "imported" => Some(MetaKey::Imported(SessionId::from(rest))),
            _ => None,
        }
    }
}

impl fmt::Display for MetaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaKey::CurrentBranch => f.write_str("current_branch"),
            MetaKey::TombstonesFrom => f.write_str("tombstones_from"),
            MetaKey::Moves => f.write_str("moves"),
            MetaKey::LastBrief => f.write_str("last_brief"),
            MetaKey::Brief(name) => write!(f, "brief:{name}"),
            MetaKey::Merges => f.write_str("merges"),
            MetaKey::Merged(turn) => write!(f, "merged:{turn}"),
            MetaKey::Recording(session) => write!(f, "recording:{session}"),
            MetaKey::Imported(session) => write!(f, "imported:{session}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_ids_are_bare_numbers_in_text_and_json() {
        assert_eq!(TurnId(12).to_string(), "12");
        assert_eq!(
            format!("[{:<4}|{:>4}]", TurnId(7), TurnId(12)),
            "[7   |  12]"
        );
        assert_eq!(serde_json::to_string(&TurnId(12)).unwrap(), "12");
        assert_eq!(serde_json::from_str::<TurnId>("7").unwrap(), TurnId(7));
        assert_eq!(
            serde_json::to_string(&Some(TurnId(3))).unwrap(),
            serde_json::to_string(&Some(3u64)).unwrap()
        );
        assert_eq!(TurnId::parse("042"), Some(TurnId(42)));
        for bad in ["", "-1", "+1", "#1", "1.0", "x", "99999999999999999999999"] {
            assert_eq!(TurnId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn session_ids_are_bare_strings_in_text_and_json() {
        let id = SessionId::from("5b0c1d2e-aaaa-bbbb-cccc-0123456789ab");
        assert_eq!(id.to_string(), "5b0c1d2e-aaaa-bbbb-cccc-0123456789ab");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"5b0c1d2e-aaaa-bbbb-cccc-0123456789ab\"");
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        assert_eq!(format!("[{:<4}]", SessionId::from("ab")), "[ab  ]");
        assert!(SessionId::default().is_empty());
        assert_ne!(SessionId::random(), SessionId::random());
        assert_eq!(SessionId::random().as_str().len(), 36);
    }

    #[test]
    fn meta_keys_keep_the_text_they_were_stored_under() {
        let table = [
            (MetaKey::CurrentBranch, "current_branch"),
            (MetaKey::TombstonesFrom, "tombstones_from"),
            (MetaKey::Moves, "moves"),
            (MetaKey::LastBrief, "last_brief"),
            (MetaKey::Brief("handoff-1".into()), "brief:handoff-1"),
            (MetaKey::Merges, "merges"),
            (MetaKey::Merged(TurnId(14)), "merged:14"),
            (MetaKey::Recording("abc-123".into()), "recording:abc-123"),
            (MetaKey::Imported("abc-123".into()), "imported:abc-123"),
        ];
        for (key, text) in table {
            assert_eq!(key.to_string(), text);
            assert_eq!(MetaKey::parse(text), Some(key), "{text}");
        }
        for unknown in ["", "k", "brief", "merged:x", "other:1"] {
            assert_eq!(MetaKey::parse(unknown), None, "{unknown:?}");
        }
    }

    /// Reads `json` as a `T` and writes it again: the bytes must come back unchanged.
    fn round_trips<T: serde::de::DeserializeOwned + Serialize>(json: &str) {
        let value: T = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(serde_json::to_string(&value).unwrap(), json);
    }

    #[test]
    fn records_stored_before_the_id_types_read_back_byte_for_byte() {
        use crate::model::{Branch, Turn};
        use crate::store::{Request, Response, StoreError};
        round_trips::<Turn>(
            r#"{"id":12,"branch":"main","parent":11,"kind":"prompt","prompt":"fix it","input":null,"reply":"done","session_id":"5b0c1d2e-aaaa-bbbb-cccc-0123456789ab","started_at":"2026-01-01T12:00:00.000Z","ended_at":"2026-01-01T12:03:10.000Z","context_tokens":45200,"output_tokens":321,"est_tokens":40,"interrupted":false,"files":["src/a.rs"],"snapshot":null,"prompt_uuid":"u-12"}"#,
        );
        round_trips::<Branch>(
            r#"{"name":"side","session_id":"agent-a1","parent_branch":"main","fork_turn":3,"head":12,"created_at":"2026-01-01T12:00:00.000Z"}"#,
        );
        round_trips::<Branch>(
            r#"{"name":"main","session_id":"","parent_branch":null,"fork_turn":null,"head":null,"created_at":"x"}"#,
        );
        round_trips::<crate::moves::Place>(r#"{"branch":"main","session_id":"s-1"}"#);
        round_trips::<crate::merge::Edge>(r#"{"turn":9,"branch":"side","head":7}"#);
        round_trips::<crate::briefs::Brief>(
            r#"{"name":"summary-4","text":"t","branch":"main","turn":4,"created_at":"x"}"#,
        );
        // Between processes: the requests and answers that carry ids.
        round_trips::<Request>(r#"{"op":"turn","id":12}"#);
        round_trips::<Request>(r#"{"op":"branch_for_session","session_id":"s-1"}"#);
        round_trips::<Response>(r#"{"r":"ids","v":[4,5]}"#);
        round_trips::<Response>(r#"{"r":"keys","v":[["k1",4]]}"#);
        round_trips::<StoreError>(r#"{"kind":"no_turn","id":99}"#);
        let stored = MetaKey::Recording("5b0c1d2e".into()).to_string();
        assert_eq!(stored, "recording:5b0c1d2e");
    }
}

//! The records ccx keeps: turns and branches, as docs/guide.md describes them.
//! These are the domain types shared by the store, the recorder and every command;
//! `--json` output is these records serialised as they are.

use crate::ids::{SessionId, TurnId};
use serde::{Deserialize, Serialize};

/// Declares [`Turn`], [`TurnStart`] and [`TurnEnd`] from the one list of a turn's fields,
/// each marked with who sets it: `start` (the recorder when the turn begins: in `Turn` and
/// `TurnStart`), `end` (when it ends: in `Turn` and `TurnEnd`) or `turn` (the store: in `Turn`
/// alone). Each field is declared, and explained, once; `Turn` keeps the list's order, which
/// is the order of its stored JSON. `TurnStart::set_on` and `TurnEnd::set_on` copy their
/// fields into a turn.
macro_rules! turn_records {
    // Each field in turn goes into the lists of the structs it belongs to.
    (@split [$($t:tt)*] [$($s:tt)*] [$($e:tt)*]
        $(#[$a:meta])* turn $f:ident: $ty:ty, $($rest:tt)*) => {
        turn_records!(@split [$($t)* $(#[$a])* $f: $ty,] [$($s)*] [$($e)*] $($rest)*);
    };
    (@split [$($t:tt)*] [$($s:tt)*] [$($e:tt)*]
        $(#[$a:meta])* start $f:ident: $ty:ty, $($rest:tt)*) => {
        turn_records!(@split
            [$($t)* $(#[$a])* $f: $ty,] [$($s)* $(#[$a])* $f: $ty,] [$($e)*] $($rest)*);
    };
    (@split [$($t:tt)*] [$($s:tt)*] [$($e:tt)*]
        $(#[$a:meta])* end $f:ident: $ty:ty, $($rest:tt)*) => {
        turn_records!(@split
            [$($t)* $(#[$a])* $f: $ty,] [$($s)*] [$($e)* $(#[$a])* $f: $ty,] $($rest)*);
    };
    (@split [$($(#[$ta:meta])* $tf:ident: $tt:ty,)*] [$($(#[$sa:meta])* $sf:ident: $st:ty,)*]
        [$($(#[$ea:meta])* $ef:ident: $et:ty,)*]) => {
        /// One prompt and Claude's answer to it.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
        pub struct Turn {
            $($(#[$ta])* pub $tf: $tt,)*
        }

        /// What the recorder knows when a turn starts: the `start` fields of [`Turn`].
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
        pub struct TurnStart {
            $($(#[$sa])* pub $sf: $st,)*
        }

        impl TurnStart {
            /// Copies these fields into `turn`.
            fn set_on(&self, turn: &mut Turn) {
                $(turn.$sf = self.$sf.clone();)*
            }
        }

        /// What the recorder knows when a turn ends: the `end` fields of [`Turn`], when it
        /// ended, and its transcript lines.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
        pub struct TurnEnd {
            /// RFC 3339.
            pub ended_at: String,
            $($(#[$ea])* pub $ef: $et,)*
            /// The raw transcript lines (JSON objects) that belong to this turn, in order:
            /// enough, together with its ancestors' entries, to rebuild the conversation for
            /// Claude to resume.
            pub entries: Vec<serde_json::Value>,
        }

        impl TurnEnd {
            /// Copies the `end` fields into `turn`.
            fn set_on(&self, turn: &mut Turn) {
                $(turn.$ef = self.$ef.clone();)*
            }
        }
    };
    ($($fields:tt)*) => {
        turn_records!(@split [] [] [] $($fields)*);
    };
}

/// What produced a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TurnKind {
    #[default]
    Prompt,
    Summary,
    Brief,
    Subagent,
    Compact,
    Replay,
    /// What another branch established, brought back (`:merge`).
    Merge,
    /// A side question answered by a fork (`:btw`), kept on a side branch.
    Aside,
}

impl TurnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TurnKind::Prompt => "prompt",
            TurnKind::Summary => "summary",
            TurnKind::Brief => "brief",
            TurnKind::Subagent => "subagent",
            TurnKind::Compact => "compact",
            TurnKind::Replay => "replay",
            TurnKind::Merge => "merge",
            TurnKind::Aside => "aside",
        }
    }
}

turn_records! {
    /// Unique within the project, increasing.
    turn id: TurnId,
    start branch: String,
    /// The turn this one follows, or None for the first turn of a conversation.
    turn parent: Option<TurnId>,
    start kind: TurnKind,
    /// What Claude received.
    start prompt: String,
    /// What the person typed, when a meta-command rewrote it.
    start input: Option<String>,
    /// Claude's final message ("" while the turn runs).
    end reply: String,
    start session_id: SessionId,
    /// RFC 3339.
    start started_at: String,
    /// RFC 3339; None while the turn is still running.
    turn ended_at: Option<String>,
    /// Context size after the turn: input + cache read + cache creation of the last API call.
    end context_tokens: u64,
    end output_tokens: u64,
    /// tiktoken estimate of prompt + reply.
    end est_tokens: u64,
    end interrupted: bool,
    /// Paths Claude wrote or edited in the turn.
    end files: Vec<String>,
    /// Tree id of a snapshot of the project's files taken when the turn ended, in the effects
    /// journal's side repository (never the person's own); None when none was taken.
    end snapshot: Option<String>,
    /// The `uuid` of the transcript line that started the turn (its prompt, or the compaction
    /// boundary of a `compact`/`summary` turn): how later turns find their parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start prompt_uuid: Option<String>,
    /// The `prompt_id` Claude Code's hooks gave the turn (`promptId` in the transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start prompt_id: Option<String>,
    /// The ccx process recording the turn while it runs (`pid:start-time`), so a later start
    /// can tell a turn whose recorder died from one still running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start recorder: Option<String>,
}

impl Turn {
    /// True when a replay sends this turn's prompt: compactions and summaries are moves Claude
    /// made on its context, not prompts the model was sent (their `prompt` only names them).
    pub fn replays(&self) -> bool {
        !self.prompt.trim().is_empty()
            && !matches!(self.kind, TurnKind::Compact | TurnKind::Summary)
    }

    /// True while the turn has started but not ended.
    pub fn is_running(&self) -> bool {
        self.ended_at.is_none()
    }

    /// The turn `start` begins, numbered `id`, on `branch` after `parent`: no reply yet,
    /// `ended_at` unset.
    pub fn started(id: TurnId, branch: &str, parent: Option<TurnId>, start: &TurnStart) -> Turn {
        let mut turn = Turn::default();
        start.set_on(&mut turn);
        turn.id = id;
        turn.branch = branch.to_owned();
        turn.parent = parent;
        turn
    }

    /// Adds what the end of the turn says (its transcript entries are stored apart); it is no
    /// longer being recorded.
    pub fn end_with(&mut self, end: &TurnEnd) {
        end.set_on(self);
        self.ended_at = Some(end.ended_at.clone());
        self.recorder = None;
    }
}

/// A line of conversation: a named pointer to its latest turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Branch {
    /// Unique within the project.
    pub name: String,
    /// The Claude session that carries this branch now.
    pub session_id: SessionId,
    pub parent_branch: Option<String>,
    /// The turn this branch forked after, or None.
    pub fork_turn: Option<TurnId>,
    /// Its latest turn, or None before the first turn.
    pub head: Option<TurnId>,
    /// RFC 3339.
    pub created_at: String,
}

/// A turn that is already over when it is stored (an imported one): what
/// [`TurnStart`] and [`TurnEnd`] would carry, written in one go by `Store::import_turns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishedTurn {
    /// `start.branch` is ignored: the batch names the branch.
    pub start: TurnStart,
    /// `end.entries` is ignored: the entries travel already encoded, in `entries`.
    pub end: TurnEnd,
    /// The turn's raw transcript lines as the text of one JSON array, encoded once by the
    /// caller and stored as it is. Between processes it travels as a JSON string holding that
    /// text, checked on arrival (see [`json_text`]).
    #[serde(deserialize_with = "json_text::deserialize")]
    pub entries: String,
    /// What identifies the turn in its source (an import key), remembered with it so a second
    /// import knows it; see `Store::imported_keys`.
    pub source_key: String,
    /// The search texts of the turn's tool calls, when the caller made them from the lines it
    /// had parsed anyway (else the store makes them from `entries`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_text: Option<Vec<String>>,
}

/// Reads a string that must hold the text of a JSON array (checked, not decoded).
pub mod json_text {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let text = String::deserialize(deserializer)?;
        serde_json::from_str::<Vec<serde::de::IgnoredAny>>(&text)
            .map_err(|e| serde::de::Error::custom(format!("entries are not a JSON array: {e}")))?;
        Ok(text)
    }
}

/// The current time as RFC 3339 (UTC, milliseconds).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

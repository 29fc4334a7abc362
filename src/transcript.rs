//! Reading and writing Claude Code transcripts (`~/.claude/projects/<dir>/<session>.jsonl`).
//!
//! A transcript is one JSON object per line. Lines of `type` "user" and "assistant" carry
//! `uuid`, `parentUuid`, `sessionId` and `message`; an assistant message that has several content
//! blocks is written as several lines sharing `message.id` (and repeating `usage`), so facts are
//! taken per distinct message id, from its last line. Many other line types exist (system
//! lines such as compaction boundaries with `parentUuid: null`, attachments, queue operations,
//! file-history snapshots, summaries...): they are kept as they are, because ccx stores every raw
//! line of a turn so it can rebuild the conversation for Claude to resume.
//!
//! Parsing is tolerant: a line that is not a JSON object (garbage, or the partial last line
//! Claude Code is still writing) is skipped, never an error for the whole file.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use serde_json::Value;

use crate::model::TurnEnd;
use crate::tokens::estimate_tokens;

/// Largest transcript `read_transcript` accepts.
pub const MAX_TRANSCRIPT_BYTES: u64 = 1 << 30;

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    User,
    Assistant,
    /// Any other `type` ("system", "summary", "attachment", ...); "" when it has none.
    Other(String),
}

/// One parsed transcript line: the raw JSON plus the fields ccx looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub raw: Value,
    pub kind: LineKind,
    pub uuid: Option<String>,
    pub parent_uuid: Option<String>,
    pub session_id: Option<String>,
    /// Assistant lines: `message.id` (shared by the lines of one API message).
    pub message_id: Option<String>,
    /// `isMeta: true` (caveats, expanded skill text, ... not typed by the person).
    pub is_meta: bool,
    /// `isSidechain: true` (a subagent's line, in older transcripts).
    pub is_sidechain: bool,
    /// `subtype` of system lines ("compact_boundary", ...).
    pub subtype: Option<String>,
    /// The line as it was read, when the reader asked to keep it ([`Keep::Text`]): storing it
    /// again then needs no re-encoding of `raw`.
    pub text: Option<Box<str>>,
}

/// What a transcript reader keeps of each line besides its parsed JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The parsed JSON only.
    Parsed,
    /// The parsed JSON and the line's text ([`Line::text`]).
    Text,
}

use crate::claude::usage::Usage;

impl Line {
    /// Build a line from a JSON value; None unless it is an object.
    pub fn from_value(raw: Value) -> Option<Line> {
        let obj = raw.as_object()?;
        let string = |key: &str| obj.get(key).and_then(Value::as_str).map(str::to_owned);
        let kind = match obj.get("type").and_then(Value::as_str) {
            Some("user") => LineKind::User,
            Some("assistant") => LineKind::Assistant,
            Some(other) => LineKind::Other(other.to_owned()),
            None => LineKind::Other(String::new()),
        };
        let message_id = match kind {
            LineKind::Assistant => obj
                .get("message")
                .and_then(|m| m.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        };
        let flag = |key: &str| obj.get(key).and_then(Value::as_bool).unwrap_or(false);
        Some(Line {
            uuid: string("uuid"),
            parent_uuid: string("parentUuid"),
            session_id: string("sessionId"),
            message_id,
            is_meta: flag("isMeta"),
            is_sidechain: flag("isSidechain"),
            subtype: string("subtype"),
            kind,
            raw,
            text: None,
        })
    }

    /// `message.content`, when present.
    pub fn content(&self) -> Option<&Value> {
        self.raw.get("message").and_then(|m| m.get("content"))
    }

    /// The content blocks (an empty slice when content is a string or missing).
    pub fn blocks(&self) -> &[Value] {
        self.content()
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The text of the line's `text` blocks (or its string content), joined with "\n".
    pub fn text(&self) -> String {
        match self.content() {
            Some(Value::String(s)) => s.clone(),
            _ => text_blocks(self.blocks()).collect::<Vec<_>>().join("\n"),
        }
    }

    /// Assistant lines: `message.usage`.
    pub fn usage(&self) -> Option<Usage> {
        let usage = self.raw.get("message")?.get("usage")?;
        usage.is_object().then(|| Usage::from_json(usage))
    }

    /// Assistant lines: `message.model` ("<synthetic>" for messages Claude Code made up).
    pub fn model(&self) -> Option<&str> {
        self.raw.get("message")?.get("model")?.as_str()
    }

    /// A system line marking a compaction (the history before it was summarised).
    pub fn is_compact_boundary(&self) -> bool {
        self.kind == LineKind::Other("system".into())
            && self.subtype.as_deref() == Some("compact_boundary")
    }

    fn flag(&self, key: &str) -> bool {
        self.raw.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The summary a compaction starts the conversation again with (`isCompactSummary`).
    pub fn is_compact_summary(&self) -> bool {
        self.flag("isCompactSummary")
    }

    /// `promptId`: the `prompt_id` of the hooks of the same turn.
    pub fn prompt_id(&self) -> Option<&str> {
        self.raw.get("promptId").and_then(Value::as_str)
    }

    /// The line a compaction boundary continues, across the cut: the end of the messages
    /// Claude keeps with the summary (`compactMetadata.preservedSegment.tailUuid`: after
    /// "Summarize up to here" the kept messages come after `logicalParentUuid`, and after a
    /// "Summarize from here" that follows another compaction `logicalParentUuid` is null), else
    /// `logicalParentUuid`.
    pub fn logical_parent_uuid(&self) -> Option<&str> {
        self.compact_metadata()
            .and_then(|m| m.get("preservedSegment")?.get("tailUuid")?.as_str())
            .or_else(|| self.raw.get("logicalParentUuid").and_then(Value::as_str))
    }

    /// `compactMetadata` of a compaction boundary.
    pub fn compact_metadata(&self) -> Option<&Value> {
        self.raw.get("compactMetadata")
    }

    /// What the person added in the rewind menu's "Summarize from here: add context", if
    /// anything (`compactMetadata.userContext`).
    pub fn compact_user_context(&self) -> Option<&str> {
        self.compact_metadata()?
            .get("userContext")?
            .as_str()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }

    /// A compaction the rewind menu made ("Summarize from here / up to here"): its metadata
    /// counts the messages it summarised, which `/compact` and auto-compact do not.
    pub fn is_partial_summary(&self) -> bool {
        self.is_compact_boundary()
            && self
                .compact_metadata()
                .is_some_and(|m| m.get("messagesSummarized").is_some())
    }

    /// An automatic compaction (`compactMetadata.trigger` is `auto`).
    pub fn is_auto_compaction(&self) -> bool {
        self.is_compact_boundary()
            && self
                .compact_metadata()
                .and_then(|m| m.get("trigger")?.as_str())
                == Some("auto")
    }

    /// `forkedFrom.messageUuid` (a line Claude's `/branch` or `/fork` copied).
    pub fn forked_from_uuid(&self) -> Option<&str> {
        self.raw
            .get("forkedFrom")
            .and_then(|f| f.get("messageUuid"))
            .and_then(Value::as_str)
    }

    /// `timestamp` (RFC 3339), when the line has one.
    pub fn timestamp(&self) -> Option<&str> {
        self.raw.get("timestamp").and_then(Value::as_str)
    }

    /// True for an assistant message Claude Code wrote itself (API errors, "No response
    /// requested."): model "<synthetic>" or `isApiErrorMessage`. Its usage is all zeros.
    pub fn is_synthetic(&self) -> bool {
        self.model() == Some("<synthetic>") || self.flag("isApiErrorMessage")
    }
}

fn text_blocks(blocks: &[Value]) -> impl Iterator<Item = &str> {
    blocks.iter().filter_map(|b| {
        (b.get("type").and_then(Value::as_str) == Some("text"))
            .then(|| b.get("text").and_then(Value::as_str))
            .flatten()
    })
}

/// Below this many bytes a transcript is parsed on the calling thread alone.
const PARALLEL_PARSE_BYTES: usize = 4 << 20;

/// Most threads a big transcript is parsed on.
const MAX_PARSE_THREADS: usize = 8;

/// Parse transcript text, one JSON object per line, skipping blank and malformed lines.
/// A big text is cut at line ends into one piece per core, parsed side by side.
pub fn parse_lines(text: &str) -> Vec<Line> {
    parse_lines_keeping(text, Keep::Parsed)
}

/// [`parse_lines`], keeping what `keep` says of each line.
pub fn parse_lines_keeping(text: &str, keep: Keep) -> Vec<Line> {
    let threads = crate::parallel::threads(MAX_PARSE_THREADS);
    if threads < 2 || text.len() < PARALLEL_PARSE_BYTES {
        return parse_piece(text, keep);
    }
    let pieces = split_at_line_ends(text, threads);
    let parsed = crate::parallel::each_on_a_thread(pieces, |piece| {
        Ok::<_, std::convert::Infallible>(parse_piece(piece, keep))
    });
    match parsed {
        Ok(lines) => lines,
        Err(never) => match never {},
    }
}

fn parse_piece(text: &str, keep: Keep) -> Vec<Line> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut line = Line::from_value(serde_json::from_str::<Value>(l).ok()?)?;
            if keep == Keep::Text {
                line.text = Some(l.into());
            }
            Some(line)
        })
        .collect()
}

/// `text` cut into at most `count` pieces of about equal size, each ending just after a `\n`
/// (the last one at the end of the text), so no line is split.
fn split_at_line_ends(text: &str, count: usize) -> Vec<&str> {
    let mut pieces = Vec::with_capacity(count);
    let mut rest = text;
    let target = text.len().div_ceil(count.max(1));
    while !rest.is_empty() && pieces.len() + 1 < count {
        let cut = match rest
            .as_bytes()
            .get(target..)
            .and_then(|tail| memchr::memchr(b'\n', tail))
        {
            Some(at) => target + at + 1,
            None => break,
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

/// Read and parse a transcript file. Refuses files over [`MAX_TRANSCRIPT_BYTES`]
/// (`InvalidData`); invalid UTF-8 is replaced, malformed lines are skipped.
pub fn read_transcript(path: &Path) -> std::io::Result<Vec<Line>> {
    read_transcript_keeping(path, Keep::Parsed)
}

/// [`read_transcript`], keeping what `keep` says of each line.
pub fn read_transcript_keeping(path: &Path, keep: Keep) -> std::io::Result<Vec<Line>> {
    let file = std::fs::File::open(path)?;
    let too_big = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "transcript {} is larger than {} bytes",
                path.display(),
                MAX_TRANSCRIPT_BYTES
            ),
        )
    };
    if file.metadata()?.len() > MAX_TRANSCRIPT_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    // The file may grow while we read: never take more than the limit.
    file.take(MAX_TRANSCRIPT_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_TRANSCRIPT_BYTES {
        return Err(too_big());
    }
    // `from_utf8` checks a word at a time where the text is ASCII; only a file that is not
    // valid UTF-8 pays for the slower lossy pass.
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Ok(parse_lines_keeping(&text, keep))
}

/// Prefixes of user text that Claude Code (not the person) wrote: slash-command and local
/// command wrappers, `!` bash mode, `#` memory mode, background task notices, reminders.
const WRAPPER_PREFIXES: &[&str] = &[
    "<command-",
    "<local-command-",
    "<bash-",
    "<task-notification",
    "<system-reminder>",
    "<user-memory-input>",
    "<user-prompt-submit-hook>",
    "[Request interrupted by user",
];

fn is_wrapper_text(text: &str) -> bool {
    let t = text.trim_start();
    WRAPPER_PREFIXES.iter().any(|p| t.starts_with(p))
}

/// `origin.kind` values of user messages that a machine, not the person, sent (Claude Code
/// 2.1.330 tags queued input with an origin; typed prompts are "human").
const MACHINE_ORIGINS: &[&str] = &[
    "task-notification",
    "auto-continuation",
    "coordinator",
    "observer-activity",
    "peer",
    "channel",
];

/// `turnOrigin` values Claude Code 2.1.330 itself treats as "not a human turn".
const MACHINE_TURN_ORIGINS: &[&str] = &[
    "scheduled",
    "task_notification",
    "auto_continuation",
    "peer",
    "host_synthetic",
    "system",
];

/// A user line that is not a real message from the person at all (Claude Code's own).
fn is_machine_user_line(line: &Line) -> bool {
    line.is_meta
        || line.is_sidechain
        || line.flag("isCompactSummary")
        || line.flag("isVisibleInTranscriptOnly")
        || line.raw.get("toolUseResult").is_some()
        || line
            .raw
            .get("origin")
            .and_then(|o| o.get("kind"))
            .and_then(Value::as_str)
            .is_some_and(|k| MACHINE_ORIGINS.contains(&k))
        || line
            .raw
            .get("turnOrigin")
            .and_then(Value::as_str)
            .is_some_and(|k| MACHINE_TURN_ORIGINS.contains(&k))
}

/// True for a user line that is a real prompt typed or sent by the person: not a tool result,
/// not `isMeta`, not a compaction summary, not a sidechain line, not sent by a machine
/// (`origin.kind` task-notification, ... or `turnOrigin` task_notification, system, ...), not a `<command-...>` /
/// `<local-command-...>` / `<bash-...>` wrapper, not text starting with `<system-reminder>`,
/// not an "[Request interrupted by user]" marker. A shell-mode command (`!CMD`, see
/// [`is_shell_command_line`]) is a prompt too: Claude sends it and its output to the model.
pub fn is_prompt_line(line: &Line) -> bool {
    if line.kind != LineKind::User || is_machine_user_line(line) {
        return false;
    }
    if holds_shell_input(line) {
        return true;
    }
    match line.content() {
        Some(Value::String(s)) => !is_wrapper_text(s),
        Some(Value::Array(blocks)) => {
            let mut any = false;
            for b in blocks {
                match b.get("type").and_then(Value::as_str) {
                    Some("tool_result") => return false,
                    Some("text") => {
                        let text = b.get("text").and_then(Value::as_str).unwrap_or("");
                        if is_wrapper_text(text) {
                            // Reminders may ride along with a typed prompt; other wrappers
                            // mean the whole line is Claude Code's.
                            if !text.trim_start().starts_with("<system-reminder>") {
                                return false;
                            }
                        } else {
                            any = true;
                        }
                    }
                    Some("image") | Some("document") => any = true,
                    _ => {}
                }
            }
            any
        }
        _ => false,
    }
}

/// True for the line of a command the person ran in Claude Code's shell mode (`!CMD`):
/// `<bash-input>CMD</bash-input>`. Claude Code 2.1.330 writes the output in the next line
/// (`<bash-stdout>...`) and sends both to the model, whose answer it shows: a turn, though no
/// `UserPromptSubmit` hook fires for it.
pub fn is_shell_command_line(line: &Line) -> bool {
    line.kind == LineKind::User && !is_machine_user_line(line) && holds_shell_input(line)
}

/// Whether the line's first text is a shell-mode command (`<bash-input>...`).
fn holds_shell_input(line: &Line) -> bool {
    first_text(line).is_some_and(|t| t.trim_start().starts_with("<bash-input>"))
}

/// The text of a prompt line (text blocks that are not reminders, joined with "\n"; a
/// shell-mode command as typed, `!CMD`); None for lines that are not prompts.
pub fn prompt_text(line: &Line) -> Option<String> {
    if is_shell_command_line(line) {
        return Some(format!("!{}", tag(first_text(line)?, "bash-input")?));
    }
    if !is_prompt_line(line) {
        return None;
    }
    Some(match line.content() {
        Some(Value::String(s)) => s.clone(),
        _ => text_blocks(line.blocks())
            .filter(|t| !is_wrapper_text(t))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// True for a user line recording a slash command the person ran (`/compact`, `/review`,
/// ...): `<command-name>...</command-name>` (with `<command-message>`, `<command-args>`).
pub fn is_command_line(line: &Line) -> bool {
    line.kind == LineKind::User
        && !is_machine_user_line(line)
        && first_text(line).is_some_and(|t| t.contains("<command-name>"))
}

/// The slash command of a command line as typed: "/compact keep the API".
pub fn command_text(line: &Line) -> Option<String> {
    if !is_command_line(line) {
        return None;
    }
    let text = first_text(line)?;
    let name = tag(text, "command-name")?.trim().to_owned();
    let name = if name.starts_with('/') {
        name
    } else {
        format!("/{name}")
    };
    Some(match tag(text, "command-args").map(str::trim) {
        Some(args) if !args.is_empty() => format!("{name} {args}"),
        _ => name,
    })
}

fn first_text(line: &Line) -> Option<&str> {
    match line.content()? {
        Value::String(s) => Some(s),
        Value::Array(blocks) => text_blocks(blocks).next(),
        _ => None,
    }
}

fn tag<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    Some(&text[start..end])
}

/// A line that starts a turn: a prompt, or a slash command.
pub fn starts_turn(line: &Line) -> bool {
    is_prompt_line(line) || is_command_line(line)
}

fn is_interrupt_marker(line: &Line) -> bool {
    line.kind == LineKind::User
        && match line.content() {
            Some(Value::String(s)) => s.starts_with("[Request interrupted by user"),
            Some(Value::Array(blocks)) => {
                text_blocks(blocks).any(|t| t.starts_with("[Request interrupted by user"))
            }
            _ => false,
        }
}

/// Facts about one turn, read from the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TurnFacts {
    /// The prompt line's text; for a slash-command turn the command as typed ("/compact x");
    /// None when the lines hold neither.
    pub prompt: Option<String>,
    /// The text blocks (joined with "\n", trimmed) of the last assistant message of the turn
    /// that has text; "" when there is none.
    pub reply: String,
    /// Last (non-synthetic) assistant message's input + cache read + cache creation. When a
    /// compaction boundary comes after it (or the turn has no assistant message), the
    /// boundary's `compactMetadata.postTokens` instead; 0 if neither exists.
    pub context_tokens: u64,
    /// Output tokens summed over the turn's distinct assistant message ids.
    pub output_tokens: u64,
    /// `file_path` of Write/Edit/MultiEdit and `notebook_path` of NotebookEdit tool uses,
    /// deduplicated, in order.
    pub files: Vec<String>,
    /// uuid of the last returned line that has one; else the `after_uuid` given, if found.
    pub last_uuid: Option<String>,
    /// `message.model` of the last non-synthetic assistant message.
    pub model: Option<String>,
    /// The returned lines include a compaction boundary.
    pub compacted: bool,
    /// An "[Request interrupted by user...]" marker follows the turn's start.
    pub interrupted: bool,
    /// `turnOrigin` of the turn's first user line that has one (2.1.330: "human",
    /// "task_notification", "auto_continuation", ...). A turn Claude Code started by itself
    /// (a background task's notification) has no prompt and a machine origin.
    pub origin: Option<String>,
    /// `promptId` of the turn's first user line that has one: the same id as the `prompt_id`
    /// of the hook payloads (UserPromptSubmit, Stop) of that turn.
    pub prompt_id: Option<String>,
}

impl TurnFacts {
    /// The end of the turn these facts tell of, whose prompt was `prompt`: its reply, usage,
    /// interruption and files, and the token estimate of prompt and reply; ended at
    /// `ended_at`, holding `entries`. No snapshot: one is taken once the turn is stored.
    pub fn into_end(self, prompt: &str, ended_at: String, entries: Vec<Value>) -> TurnEnd {
        TurnEnd {
            est_tokens: estimate_tokens(prompt) + estimate_tokens(&self.reply),
            reply: self.reply,
            ended_at,
            context_tokens: self.context_tokens,
            output_tokens: self.output_tokens,
            interrupted: self.interrupted,
            files: self.files,
            snapshot: None,
            entries,
        }
    }
}

/// The turn that ends the transcript.
///
/// `after_uuid` is the uuid of the last line already stored for the previous turn (None: from
/// the start). Returns every raw line after that point, of every type, in file order (to be
/// stored for rebuilding), and the facts of the turn.
///
/// If `after_uuid` is given but not found (the transcript was rewritten or is another file),
/// the lines returned start at the last line that starts a turn (a prompt or a slash command)
/// together with the lines leading up to it (uuid-less lines, meta lines, a compaction
/// boundary and its summary), or are all lines if there is none, so a turn's history is not
/// stored twice.
///
/// The facts describe the turn only: from the last turn-starting line among the returned lines
/// (or from the first returned line if none starts a turn). Lines before it (e.g. local
/// commands run between turns) are returned but count for nothing. Sidechain lines are ignored.
pub fn turn_since(lines: &[Line], after_uuid: Option<&str>) -> (Vec<Value>, TurnFacts) {
    let found = after_uuid.and_then(|a| lines.iter().rposition(|l| l.uuid.as_deref() == Some(a)));
    let start = match (after_uuid, found) {
        (_, Some(i)) => i + 1,
        (None, None) => 0,
        (Some(_), None) => lines
            .iter()
            .rposition(starts_turn)
            .map_or(0, |t| with_preamble(lines, t, 0)),
    };
    let slice = &lines[start..];
    let entries = slice.iter().map(|l| l.raw.clone()).collect();
    let mut facts = facts_of(slice);
    if facts.last_uuid.is_none() && found.is_some() {
        facts.last_uuid = after_uuid.map(str::to_owned);
    }
    (entries, facts)
}

/// Split a whole transcript into turns at prompt and slash-command lines (lines before the
/// first one go with the first turn), with the same boundaries and facts `turn_since` gives
/// when called after each turn. For importing existing sessions.
pub fn split_turns(lines: &[Line]) -> Vec<(Vec<Value>, TurnFacts)> {
    turn_bounds(lines)
        .into_iter()
        .map(|(s, e)| {
            let slice = &lines[s..e];
            (
                slice.iter().map(|l| l.raw.clone()).collect(),
                facts_of(slice),
            )
        })
        .collect()
}

/// [`split_turns`] taking the lines and giving each turn its lines whole (raw entries and, if
/// kept, their text), moved rather than copied (a large import holds hundreds of megabytes).
pub fn split_turns_owned(lines: Vec<Line>) -> Vec<(Vec<Line>, TurnFacts)> {
    let bounds = turn_bounds(&lines);
    let facts: Vec<TurnFacts> = bounds
        .iter()
        .map(|&(s, e)| facts_of(&lines[s..e]))
        .collect();
    let mut rest = lines.into_iter();
    let mut taken = 0;
    bounds
        .into_iter()
        .zip(facts)
        .map(|((s, e), facts)| {
            // Bounds are contiguous and ascending: skip any gap, then take this turn's lines.
            let entries: Vec<Line> = rest.by_ref().skip(s - taken).take(e - s).collect();
            taken = e;
            (entries, facts)
        })
        .collect()
}

/// The [start, end) line ranges of the turns in `lines`.
fn turn_bounds(lines: &[Line]) -> Vec<(usize, usize)> {
    let mut starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| starts_turn(l))
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        if lines.is_empty() {
            return Vec::new();
        }
        starts.push(0);
    }
    // A turn also owns the lines just before its prompt that lead up to it: lines without a
    // uuid (snapshots, mode lines), meta lines (a command's caveat), and a compaction
    // boundary with its summary. So each turn after the first starts right after the previous
    // turn's last line of its own, as `turn_since(.., previous.last_uuid)` would.
    starts[0] = 0;
    for k in 1..starts.len() {
        starts[k] = with_preamble(lines, starts[k], starts[k - 1] + 1);
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| (s, starts.get(k + 1).copied().unwrap_or(lines.len())))
        .collect()
}

/// Where the turn starting at line `start` begins once its preamble is included (not before
/// `floor`).
pub fn with_preamble(lines: &[Line], start: usize, floor: usize) -> usize {
    let mut i = start;
    while i > floor && is_preamble(&lines[i - 1]) {
        i -= 1;
    }
    i
}

/// A line that leads up to the next turn rather than ending the previous one.
fn is_preamble(line: &Line) -> bool {
    line.uuid.is_none()
        || line.is_compact_boundary()
        || (line.kind == LineKind::User && (line.is_meta || line.flag("isCompactSummary")))
}

/// One API message assembled from its lines.
#[derive(Default)]
struct Message {
    usage: Option<Usage>,
    text: Vec<String>,
    model: Option<String>,
    synthetic: bool,
}

/// The facts of the turn held by `slice` (its last turn-starting line and what follows).
pub fn facts_of(slice: &[Line]) -> TurnFacts {
    let mut facts = TurnFacts {
        last_uuid: slice.iter().rev().find_map(|l| l.uuid.clone()),
        compacted: slice.iter().any(Line::is_compact_boundary),
        ..TurnFacts::default()
    };
    let t0 = slice.iter().rposition(starts_turn).unwrap_or(0);
    let turn = &slice[t0.min(slice.len())..];
    if let Some(first) = turn.first() {
        facts.prompt = prompt_text(first).or_else(|| command_text(first));
    }
    facts.interrupted = turn.iter().any(is_interrupt_marker);
    facts.origin = user_field(turn, "turnOrigin");
    facts.prompt_id = user_field(turn, "promptId");

    let mut order: Vec<String> = Vec::new();
    let mut messages: HashMap<String, Message> = HashMap::new();
    // Index in `slice` of the last line giving a usable context size.
    let mut last_context_line: Option<usize> = None;
    for (i, line) in turn.iter().enumerate() {
        if line.kind != LineKind::Assistant || line.is_sidechain {
            continue;
        }
        if line.usage().is_some() && !line.is_synthetic() {
            last_context_line = Some(t0 + i);
        }
        let Some(key) = line.message_id.clone().or_else(|| line.uuid.clone()) else {
            continue;
        };
        let msg = messages.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Message::default()
        });
        if let Some(u) = line.usage() {
            msg.usage = Some(u);
        }
        msg.text
            .extend(text_blocks(line.blocks()).map(str::to_owned));
        if let Some(m) = line.model() {
            msg.model = Some(m.to_owned());
        }
        msg.synthetic |= line.is_synthetic();
        for block in line.blocks() {
            if let Some(path) = edited_path(block) {
                if !facts.files.iter().any(|f| f == path) {
                    facts.files.push(path.to_owned());
                }
            }
        }
    }
    let in_order = || order.iter().map(|k| &messages[k]);
    facts.output_tokens = in_order()
        .filter_map(|m| m.usage.map(|u| u.output_tokens))
        .sum();
    if let Some(last) = in_order().rev().find(|m| !m.synthetic && m.usage.is_some()) {
        facts.context_tokens = last.usage.map_or(0, |u| u.context_tokens());
        facts.model = last.model.clone();
    }
    if let Some(post) = compacted_after(slice, last_context_line) {
        facts.context_tokens = post;
    }
    if let Some(last) = in_order()
        .rev()
        .find(|m| m.text.iter().any(|t| !t.trim().is_empty()))
    {
        facts.reply = last.text.join("\n").trim().to_owned();
    }
    facts
}

/// The string field `key` of the turn's first user line that has it.
fn user_field(turn: &[Line], key: &str) -> Option<String> {
    turn.iter()
        .filter(|l| l.kind == LineKind::User)
        .find_map(|l| l.raw.get(key).and_then(Value::as_str))
        .map(str::to_owned)
}

/// A compaction after the last API call (`last_context_line`, an index in `slice`): the
/// context is what the compaction left, its `postTokens`.
fn compacted_after(slice: &[Line], last_context_line: Option<usize>) -> Option<u64> {
    let (b, post) = slice.iter().enumerate().rev().find_map(|(i, l)| {
        l.is_compact_boundary()
            .then(|| l.raw.get("compactMetadata")?.get("postTokens")?.as_u64())
            .flatten()
            .map(|post| (i, post))
    })?;
    last_context_line.is_none_or(|a| b > a).then_some(post)
}

/// The file a `tool_use` block writes or edits, if any.
fn edited_path(block: &Value) -> Option<&str> {
    if block.get("type").and_then(Value::as_str) != Some("tool_use") {
        return None;
    }
    let key = match block.get("name").and_then(Value::as_str)? {
        "Write" | "Edit" | "MultiEdit" => "file_path",
        "NotebookEdit" => "notebook_path",
        _ => return None,
    };
    block
        .get("input")?
        .get(key)?
        .as_str()
        .filter(|p| !p.is_empty())
}

/// Write a transcript for Claude to resume: `entries` one JSON object per line, with every
/// top-level `sessionId` (and `session_id`) field rewritten to `new_session_id`. Parent directories are created; the file
/// is written beside its final name and renamed into place, readable by the owner only.
pub fn write_transcript(
    path: &Path,
    entries: &[Value],
    new_session_id: &str,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let mut out = Vec::new();
    for entry in entries {
        let mut entry = entry.clone();
        if let Some(obj) = entry.as_object_mut() {
            // 2.1.330 writes `session_id` beside `sessionId` on some lines.
            for key in ["sessionId", "session_id"] {
                if obj.contains_key(key) {
                    obj.insert(key.into(), Value::String(new_session_id.to_owned()));
                }
            }
        }
        serde_json::to_writer(&mut out, &entry)?;
        out.push(b'\n');
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(&tmp)?;
        file.write_all(&out)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod owned_split_tests {
    use super::*;

    #[test]
    fn pieces_end_at_line_ends_and_join_to_the_text() {
        let text = "{\"a\":1}\n{\"b\":22}\n\n{\"c\":333}\nlast";
        for count in 1..=6 {
            let pieces = split_at_line_ends(text, count);
            assert!(
                !pieces.is_empty() && pieces.len() <= count,
                "{count}: {pieces:?}"
            );
            assert_eq!(pieces.concat(), text, "{count}");
            for piece in &pieces[..pieces.len() - 1] {
                assert!(piece.ends_with('\n'), "{count}: {pieces:?}");
            }
        }
        assert_eq!(split_at_line_ends("", 4), vec![""]);
    }

    #[test]
    fn a_big_transcript_parses_the_same_in_pieces() {
        let line_text = |i: usize| {
            format!(
                "{{\"type\":\"user\",\"uuid\":\"u{i}\",\"message\":{{\"content\":\"{}\"}}}}\n",
                "x".repeat(i % 300)
            )
        };
        let mut text = String::new();
        let mut i = 0;
        while text.len() <= PARALLEL_PARSE_BYTES {
            text.push_str(&line_text(i));
            if i % 1000 == 7 {
                text.push_str("not json\n");
            }
            i += 1;
        }
        let whole = parse_piece(&text, Keep::Parsed);
        assert_eq!(whole.len(), i);
        assert_eq!(parse_lines(&text), whole);
        let kept = parse_lines_keeping(&text, Keep::Text);
        assert_eq!(kept.len(), i);
        for (n, line) in kept.iter().enumerate() {
            assert_eq!(line.text.as_deref(), Some(line_text(n).trim_end()));
            assert_eq!(line.raw, whole[n].raw);
        }
    }

    #[test]
    fn a_transcript_that_is_not_utf8_is_read_with_replacements() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let mut bytes = b"{\"type\":\"user\",\"uuid\":\"u1\",\"note\":\"caf".to_vec();
        bytes.extend_from_slice(b"\xe9\"}\n{\"type\":\"system\",\"uuid\":\"s1\"}\n");
        std::fs::write(&path, &bytes).unwrap();
        let lines = read_transcript_keeping(&path, Keep::Text).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].raw["note"], "caf\u{fffd}");
        assert_eq!(lines[1].uuid.as_deref(), Some("s1"));
        // Valid UTF-8 is read as it is.
        std::fs::write(&path, "{\"type\":\"user\",\"note\":\"café\"}\n").unwrap();
        let lines = read_transcript(&path).unwrap();
        assert_eq!(lines[0].raw["note"], "café");
    }

    #[test]
    fn owned_split_equals_the_borrowed_one() {
        for text in [
            include_str!("../tests/fixtures/transcript-two-turns.jsonl"),
            include_str!("../tests/fixtures/transcript-tool-write.jsonl"),
            include_str!("../tests/fixtures/transcript-compact.jsonl"),
        ] {
            let lines = parse_lines(text);
            let owned: Vec<(Vec<Value>, TurnFacts)> = split_turns_owned(lines.clone())
                .into_iter()
                .map(|(turn, facts)| (turn.into_iter().map(|l| l.raw).collect(), facts))
                .collect();
            assert_eq!(owned, split_turns(&lines));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_TURNS: &str = include_str!("../tests/fixtures/transcripts/two-turns.jsonl");
    const SPLIT: &str = include_str!("../tests/fixtures/transcripts/split-message.jsonl");
    const TOOL_WRITE: &str = include_str!("../tests/fixtures/transcripts/tool-write.jsonl");
    const MALFORMED: &str = include_str!("../tests/fixtures/transcripts/malformed.jsonl");
    const COMPACT: &str = include_str!("../tests/fixtures/transcripts/compaction.jsonl");
    const COMMANDS: &str = include_str!("../tests/fixtures/transcripts/commands.jsonl");

    fn uuids(entries: &[Value]) -> Vec<&str> {
        entries
            .iter()
            .filter_map(|e| e.get("uuid").and_then(Value::as_str))
            .collect()
    }

    #[test]
    fn two_turns_first_and_second() {
        let lines = parse_lines(TWO_TURNS);
        assert!(lines
            .iter()
            .any(|l| l.kind == LineKind::Other("file-history-snapshot".into())));
        // From the start: the facts are the last turn's.
        let (all, facts) = turn_since(&lines, None);
        assert_eq!(all.len(), lines.len());
        assert_eq!(facts.prompt.as_deref(), Some("what is 2+2?"));
        assert_eq!(facts.reply, "4");
        assert_eq!(facts.last_uuid.as_deref(), Some("a2"));

        // Turn 1 ended at a1: the next call starts after it.
        let (entries, facts) = turn_since(&lines, Some("a1"));
        assert_eq!(uuids(&entries), vec!["u2", "a2"]);
        // Lines without uuid (snapshots) are carried along.
        assert!(entries.iter().any(|e| e["type"] == "file-history-snapshot"));
        assert_eq!(facts.prompt.as_deref(), Some("what is 2+2?"));
        assert_eq!(facts.reply, "4");
        assert_eq!(facts.context_tokens, 3 + 120 + 30);
        assert_eq!(facts.output_tokens, 5);
        assert_eq!(facts.model.as_deref(), Some("claude-sonnet-4-5"));
        assert!(facts.files.is_empty());
        assert!(!facts.compacted && !facts.interrupted);

        let split = split_turns(&lines);
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].1.prompt.as_deref(), Some("say hello"));
        assert_eq!(split[0].1.reply, "Hello! How can I help?");
        assert_eq!(split[0].1.last_uuid.as_deref(), Some("a1"));
        assert_eq!(split[1].1.reply, "4");
    }

    #[test]
    fn nothing_new_after_last_line() {
        let lines = parse_lines(TWO_TURNS);
        let (entries, facts) = turn_since(&lines, Some("a2"));
        assert!(entries.is_empty());
        assert_eq!(facts.last_uuid.as_deref(), Some("a2"));
        assert_eq!(facts.prompt, None);
        assert_eq!(facts.reply, "");
    }

    #[test]
    fn after_uuid_not_found_starts_at_last_prompt() {
        let lines = parse_lines(TWO_TURNS);
        let (entries, facts) = turn_since(&lines, Some("gone"));
        assert_eq!(uuids(&entries), vec!["u2", "a2"]);
        assert_eq!(facts.prompt.as_deref(), Some("what is 2+2?"));
        assert_eq!(facts.last_uuid.as_deref(), Some("a2"));
    }

    #[test]
    fn split_assistant_message_dedupes_usage() {
        let lines = parse_lines(SPLIT);
        let (entries, facts) = turn_since(&lines, None);
        assert_eq!(entries.len(), lines.len());
        // Three lines of msg_A (thinking, text, text) count once, with the last line's usage.
        assert_eq!(facts.output_tokens, 42);
        assert_eq!(facts.context_tokens, 10 + 2000 + 500);
        assert_eq!(facts.reply, "First part.\nSecond part.");
    }

    #[test]
    fn tool_write_turn() {
        let lines = parse_lines(TOOL_WRITE);
        let (_, facts) = turn_since(&lines, None);
        assert_eq!(
            facts.prompt.as_deref(),
            Some("create hello.txt and fix lib.rs")
        );
        assert_eq!(
            facts.files,
            vec![
                "/w/hello.txt".to_string(),
                "/w/src/lib.rs".into(),
                "/w/nb.ipynb".into()
            ]
        );
        // msg_1 (20, two lines) + msg_2 (30) + msg_3 (3) + msg_4 (7): distinct ids summed.
        assert_eq!(facts.output_tokens, 60);
        assert_eq!(facts.reply, "Created hello.txt and fixed lib.rs.");
        assert_eq!(facts.context_tokens, 1 + 3000 + 200);
        // The tool results are not prompts.
        assert_eq!(lines.iter().filter(|l| is_prompt_line(l)).count(), 1);
    }

    #[test]
    fn malformed_and_partial_lines_are_skipped() {
        let lines = parse_lines(MALFORMED);
        assert_eq!(lines.len(), 3);
        let (_, facts) = turn_since(&lines, None);
        assert_eq!(facts.prompt.as_deref(), Some("hi"));
        assert_eq!(facts.reply, "Hi there");
        assert_eq!(parse_lines("").len(), 0);
        assert_eq!(parse_lines("\n\n{\"type\":").len(), 0);
    }

    #[test]
    fn compaction_boundary() {
        let lines = parse_lines(COMPACT);
        let boundary = lines.iter().find(|l| l.is_compact_boundary()).unwrap();
        assert_eq!(boundary.parent_uuid, None);
        // The summary after the boundary is not a prompt.
        let summary = lines
            .iter()
            .find(|l| l.uuid.as_deref() == Some("sum"))
            .unwrap();
        assert!(!is_prompt_line(summary));
        // The /compact turn, after the first turn, as the transcript stood when it ended.
        let out = lines
            .iter()
            .position(|l| l.uuid.as_deref() == Some("out"))
            .unwrap();
        let (entries, facts) = turn_since(&lines[..=out], Some("a1"));
        assert_eq!(facts.reply, "");
        assert_eq!(facts.context_tokens, 0);
        assert!(facts.compacted);
        assert_eq!(facts.prompt.as_deref(), Some("/compact keep the tests"));
        assert!(uuids(&entries).contains(&"cb"));
        // The turn after compaction.
        let (_, facts) = turn_since(&lines, Some("out"));
        assert!(!facts.compacted);
        assert_eq!(facts.prompt.as_deref(), Some("continue"));
        assert_eq!(facts.reply, "Continuing.");
        assert_eq!(facts.context_tokens, 5 + 8000);
    }

    #[test]
    fn prompt_detection_and_commands() {
        let lines = parse_lines(COMMANDS);
        let by = |id: &str| {
            lines
                .iter()
                .find(|l| l.uuid.as_deref() == Some(id))
                .unwrap()
        };
        assert!(!is_prompt_line(by("caveat")));
        assert!(!is_prompt_line(by("cmd")));
        assert!(is_command_line(by("cmd")));
        assert_eq!(command_text(by("cmd")).as_deref(), Some("/model sonnet"));
        assert!(!is_prompt_line(by("stdout")));
        assert!(!is_command_line(by("stdout")));
        // A shell-mode command is a prompt (Claude sends it and its output to the model).
        assert!(is_prompt_line(by("bash")) && is_shell_command_line(by("bash")));
        assert_eq!(prompt_text(by("bash")).as_deref(), Some("!ls"));
        assert!(!is_shell_command_line(by("stdout")) && !is_shell_command_line(by("blocks")));
        assert!(!is_prompt_line(by("notify")));
        assert!(!is_prompt_line(by("reminder")));
        assert!(!is_prompt_line(by("interrupt")));
        assert!(is_prompt_line(by("blocks")));
        assert_eq!(
            prompt_text(by("blocks")).as_deref(),
            Some("look at this image")
        );
        assert_eq!(prompt_text(by("cmd")), None);
        // The interrupted turn, then the next prompt.
        let (_, facts) = turn_since(&lines, Some("bash"));
        assert_eq!(facts.prompt.as_deref(), Some("look at this image"));
        assert!(facts.interrupted);
        // Synthetic messages don't count for context or model, but a real one before does.
        assert_eq!(facts.context_tokens, 50);
        assert_eq!(facts.model.as_deref(), Some("claude-opus-4-1"));
    }

    #[test]
    fn write_transcript_rewrites_session_id() {
        let dir = tempfile::tempdir().unwrap();
        let lines = parse_lines(TWO_TURNS);
        let (entries, _) = turn_since(&lines, None);
        let path = dir.path().join("projects/-w/new-id.jsonl");
        write_transcript(&path, &entries, "new-id").unwrap();
        let back = read_transcript(&path).unwrap();
        assert_eq!(back.len(), entries.len());
        for (line, entry) in back.iter().zip(&entries) {
            if entry.get("sessionId").is_some() {
                assert_eq!(line.session_id.as_deref(), Some("new-id"));
            } else {
                assert_eq!(&line.raw, entry);
            }
            assert_eq!(
                line.uuid.as_deref(),
                entry.get("uuid").and_then(Value::as_str)
            );
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), entries.len());
        assert!(text.ends_with('\n'));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
        // No temp file left behind.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    // Real transcripts captured from Claude Code 2.1.330 (driven by the offline stand-in).
    const REAL_TWO_TURNS: &str = include_str!("../tests/fixtures/transcript-two-turns.jsonl");
    const REAL_TOOL_WRITE: &str = include_str!("../tests/fixtures/transcript-tool-write.jsonl");
    const REAL_COMPACT: &str = include_str!("../tests/fixtures/transcript-compact.jsonl");

    fn real(text: &str) -> Vec<Line> {
        let lines = parse_lines(text);
        // A finished transcript has no malformed line.
        assert_eq!(
            lines.len(),
            text.lines().filter(|l| !l.trim().is_empty()).count()
        );
        lines
    }

    /// The lines up to and including the one with this uuid: the transcript as it stood then.
    fn upto<'a>(lines: &'a [Line], uuid: &str) -> &'a [Line] {
        let i = lines
            .iter()
            .position(|l| l.uuid.as_deref() == Some(uuid))
            .unwrap();
        &lines[..=i]
    }

    #[test]
    fn real_two_turns() {
        let lines = real(REAL_TWO_TURNS);
        // 2.1.330 writes many line types besides user/assistant.
        for kind in [
            "attachment",
            "system",
            "last-prompt",
            "api-request",
            "cost-state",
        ] {
            assert!(
                lines.iter().any(|l| l.kind == LineKind::Other(kind.into())),
                "{kind}"
            );
        }
        assert_eq!(lines.iter().filter(|l| is_prompt_line(l)).count(), 2);
        let turns = split_turns(&lines);
        assert_eq!(turns.len(), 2);
        let (t1, t2) = (&turns[0].1, &turns[1].1);
        assert_eq!(t1.prompt.as_deref(), Some("first turn"));
        assert_eq!(t1.reply, "echo: first turn");
        assert_eq!(t1.context_tokens, 720 + 200 + 100);
        assert_eq!(t1.output_tokens, 3);
        assert_eq!(t1.model.as_deref(), Some("claude-opus-5-5"));
        assert_eq!(t1.origin.as_deref(), Some("human"));
        // Joined with the hooks of the same turn (tests/fixtures/hooks/Stop.json).
        let stop =
            crate::hooks::wire::parse_payload(include_bytes!("../tests/fixtures/hooks/Stop.json"))
                .unwrap();
        assert_eq!(t1.prompt_id, stop.prompt_id);
        assert_eq!(Some(&t1.reply), stop.last_assistant_message.as_ref());
        assert_eq!(
            t2.prompt.as_deref(),
            Some("second turn [[reply:the second reply]]")
        );
        assert_eq!(t2.reply, "the second reply");
        assert_eq!(t2.context_tokens, 740 + 200 + 100);
        assert!(t1.files.is_empty() && !t1.compacted && !t1.interrupted);
        // Every line lands in exactly one turn.
        assert_eq!(turns[0].0.len() + turns[1].0.len(), lines.len());
        // The recorder's view: after turn 1's last stored line, turn 2 is the rest.
        let (entries, facts) = turn_since(&lines, t1.last_uuid.as_deref());
        assert_eq!(entries, turns[1].0);
        assert_eq!(&facts, t2);
        // At the Stop of turn 1 the transcript may end at its assistant line.
        let a1 = lines
            .iter()
            .find(|l| l.kind == LineKind::Assistant)
            .and_then(|l| l.uuid.clone())
            .unwrap();
        let (_, early) = turn_since(upto(&lines, &a1), None);
        assert_eq!(early.reply, "echo: first turn");
        assert_eq!(early.last_uuid.as_deref(), Some(a1.as_str()));
        // ... and the next turn then carries the rest of turn 1's bookkeeping lines.
        let (entries, facts) = turn_since(&lines, Some(&a1));
        assert_eq!(facts.prompt, t2.prompt);
        assert!(entries.iter().any(|e| e["subtype"] == "turn_duration"));
    }

    #[test]
    fn real_tool_write() {
        let lines = real(REAL_TOOL_WRITE);
        let (entries, facts) = turn_since(&lines, None);
        assert_eq!(entries.len(), lines.len());
        assert_eq!(
            facts.prompt.as_deref(),
            Some("write the notes [[write:/tmp/ccx-e2e-7PwBZh/project/notes.txt:hello notes]]")
        );
        assert_eq!(facts.files, vec!["/tmp/ccx-e2e-7PwBZh/project/notes.txt"]);
        assert_eq!(facts.reply, "wrote /tmp/ccx-e2e-7PwBZh/project/notes.txt");
        // Two API calls (tool_use, then the final text): output summed, context the last.
        assert_eq!(facts.output_tokens, 2 + 2);
        assert_eq!(facts.context_tokens, 740 + 200 + 100);
        assert_eq!(lines.iter().filter(|l| is_prompt_line(l)).count(), 1);
        assert_eq!(split_turns(&lines).len(), 1);
    }

    #[test]
    fn real_compact_and_task_notification() {
        let lines = real(REAL_COMPACT);
        let uuid_of = |pred: &dyn Fn(&Line) -> bool| {
            lines
                .iter()
                .filter(|l| pred(l))
                .find_map(|l| l.uuid.clone())
                .unwrap()
        };
        let durations: Vec<String> = lines
            .iter()
            .filter(|l| l.subtype.as_deref() == Some("turn_duration"))
            .filter_map(|l| l.uuid.clone())
            .collect();
        assert_eq!(durations.len(), 3);

        // Turn 1: a prompt whose Agent tool call starts a background subagent.
        let (_, t1) = turn_since(upto(&lines, &durations[0]), None);
        assert_eq!(
            t1.prompt.as_deref().map(|p| p.starts_with("delegate ")),
            Some(true)
        );
        assert_eq!(t1.reply, "tool result received");
        assert_eq!(t1.output_tokens, 3 + 3);
        assert!(t1.files.is_empty());
        assert_eq!(t1.last_uuid.as_deref(), Some(durations[0].as_str()));

        // Turn 2: Claude Code's own turn for the task notification (Stop fires for it).
        let notice = uuid_of(&|l| l.raw["turnOrigin"] == "task_notification");
        let notice_line = upto(&lines, &notice).last().unwrap();
        assert!(!is_prompt_line(notice_line) && !is_command_line(notice_line));
        let (_, t2) = turn_since(upto(&lines, &durations[1]), Some(&durations[0]));
        assert_eq!(t2.prompt, None);
        assert_eq!(t2.origin.as_deref(), Some("task_notification"));
        assert_eq!(t2.reply, "noted");
        assert_eq!(t2.output_tokens, 1);
        assert_eq!(t2.context_tokens, 760 + 200 + 100);

        // Turn 3: /compact. Boundary (parentUuid null), summary, caveat, command, stdout.
        let boundary = lines.iter().find(|l| l.is_compact_boundary()).unwrap();
        assert_eq!(boundary.parent_uuid, None);
        let summary = uuid_of(&|l| l.raw["isCompactSummary"] == true);
        assert!(!is_prompt_line(upto(&lines, &summary).last().unwrap()));
        let before_prompt = lines
            .iter()
            .take_while(|l| prompt_text(l).as_deref() != Some("after compact"))
            .filter_map(|l| l.uuid.clone())
            .last()
            .unwrap();
        let (entries, t3) = turn_since(upto(&lines, &before_prompt), Some(&durations[1]));
        assert_eq!(t3.prompt.as_deref(), Some("/compact keep the plan"));
        assert!(t3.compacted);
        assert_eq!(t3.context_tokens, 2984, "postTokens of the boundary");
        assert_eq!(t3.output_tokens, 0);
        assert_eq!(t3.reply, "");
        assert!(entries.iter().any(|e| e["subtype"] == "compact_boundary"));

        // Turn 4: the first prompt after compaction.
        let (_, t4) = turn_since(&lines, Some(&before_prompt));
        assert_eq!(t4.prompt.as_deref(), Some("after compact"));
        assert_eq!(t4.reply, "echo: after compact");
        assert_eq!(t4.context_tokens, 750 + 200 + 100);
        assert!(!t4.compacted);

        // Import splits at prompts and commands; the notification turn goes with turn 1.
        let turns = split_turns(&lines);
        let prompts: Vec<_> = turns.iter().map(|t| t.1.prompt.clone()).collect();
        assert_eq!(prompts.len(), 3);
        assert_eq!(prompts[1].as_deref(), Some("/compact keep the plan"));
        assert_eq!(prompts[2].as_deref(), Some("after compact"));
        assert_eq!(turns[1].1.context_tokens, 2984);
    }

    #[test]
    fn split_turns_agrees_with_turn_since() {
        for text in [
            REAL_TWO_TURNS,
            REAL_TOOL_WRITE,
            REAL_COMPACT,
            TWO_TURNS,
            COMPACT,
            COMMANDS,
        ] {
            let lines = parse_lines(text);
            let turns = split_turns(&lines);
            assert_eq!(turns.iter().map(|t| t.0.len()).sum::<usize>(), lines.len());
            let mut end = 0;
            for k in 0..turns.len() {
                end += turns[k].0.len();
                let after = k
                    .checked_sub(1)
                    .and_then(|p| turns[p].1.last_uuid.as_deref());
                let (entries, facts) = turn_since(&lines[..end], after);
                assert_eq!(entries, turns[k].0, "turn {k}");
                assert_eq!(facts, turns[k].1, "turn {k}");
                if after.is_some() {
                    // A lost pointer gives the same turn back.
                    let (again, facts2) = turn_since(&lines[..end], Some("lost"));
                    assert_eq!(again, entries, "turn {k} fallback");
                    assert_eq!(facts2, facts);
                }
            }
        }
    }

    #[test]
    fn real_fork_rewrites_both_session_id_keys() {
        let dir = tempfile::tempdir().unwrap();
        let lines = real(REAL_COMPACT);
        let entries: Vec<Value> = lines.iter().map(|l| l.raw.clone()).collect();
        let path = dir.path().join("fork.jsonl");
        write_transcript(&path, &entries, "fork-id").unwrap();
        for line in read_transcript(&path).unwrap() {
            for key in ["sessionId", "session_id"] {
                if let Some(v) = line.raw.get(key) {
                    assert_eq!(v, "fork-id", "{key}");
                }
            }
        }
    }

    #[test]
    fn read_transcript_missing_file_is_an_error() {
        assert!(read_transcript(Path::new("/nonexistent/x.jsonl")).is_err());
    }
}

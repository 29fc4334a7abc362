//! Compactions as turns of their own when a transcript is cut into turns after the fact
//! (`ccx import`), the way live recording makes them: every compaction boundary Claude wrote
//! (`/compact`, auto-compact, the rewind menu's "Summarize from here / up to here") is one turn,
//! known by the boundary line's uuid, of kind `compact` (`summary` for the rewind menu's).
//!
//! Where the boundary sits in a turn cut at prompt and command lines tells what it was:
//! - before a `/compact` command line: that turn is the compaction (its prompt `/compact FOCUS`);
//! - after a turn's reply, or before a prompt: the boundary and what follows it up to the next
//!   turn (the summary, Claude's attachments) are a turn of their own;
//! - between a prompt and its reply (Claude compacted before answering): the turn keeps its
//!   lines and reply, and the compaction follows it as a turn without lines of its own.
//!
//! Live recording gives a compaction turn the same lines: [`own_lines_end`] says where they end,
//! and the same prompt: [`compact_prompt`], [`summary_prompt`].

use crate::model::TurnKind;
use crate::transcript::{self, Line, LineKind, TurnFacts};

/// The prompt of a turn that is a summary Claude's rewind menu made.
pub const SUMMARY_PROMPT: &str = "(conversation summarized)";

/// The prompt of a summary turn, with the context the person added for it, if any.
pub fn summary_prompt(context: Option<&str>) -> String {
    match context {
        Some(context) => format!("(conversation summarized: {context})"),
        None => SUMMARY_PROMPT.to_string(),
    }
}

/// The focus of a `/compact` command as typed ("" for none); None for any other text.
pub fn compact_focus(command: &str) -> Option<&str> {
    match command.strip_prefix("/compact")? {
        "" => Some(""),
        rest if rest.starts_with(' ') => Some(rest.trim()),
        _ => None,
    }
}

/// The prompt of a compaction turn, from its focus ("" for none).
pub fn compact_prompt(instructions: &str) -> String {
    format!("/compact {instructions}").trim_end().to_string()
}

/// One turn after compactions were taken apart.
#[derive(Debug, Clone)]
pub struct Piece {
    pub entries: Vec<Line>,
    pub facts: TurnFacts,
    pub kind: TurnKind,
    /// The compaction boundary's uuid, for a compaction turn: its `prompt_uuid` and key.
    pub boundary_uuid: Option<String>,
    /// The compaction boundary's timestamp, for a compaction turn: its time when it has no
    /// lines of its own.
    pub boundary_time: Option<String>,
}

/// Splits one turn (its lines and facts, as `transcript::split_turns` cuts them) at the
/// compaction boundary it holds, if any (the last one when there are several).
pub fn split(entries: Vec<Line>, facts: TurnFacts) -> Vec<Piece> {
    let boundaries = entries.iter().filter(|l| l.is_compact_boundary()).count();
    let start = entries.iter().rposition(transcript::starts_turn);
    let last = entries.iter().rposition(Line::is_compact_boundary);
    if let Some(last) = last.filter(|&b| boundaries > 1 && start.is_none_or(|s| s > b)) {
        // Compactions one after another before the turn's start: each is a turn of its own.
        let mut entries = entries;
        let tail = entries.split_off(last);
        let head_facts = transcript::facts_of(&entries);
        let mut pieces = split(entries, head_facts);
        pieces.extend(split_one(tail, facts));
        return pieces;
    }
    split_one(entries, facts)
}

/// [`split`] for a turn whose compactions all come after its start (the last one counts).
fn split_one(entries: Vec<Line>, facts: TurnFacts) -> Vec<Piece> {
    let Some(b) = entries.iter().rposition(Line::is_compact_boundary) else {
        return vec![prompt_with(entries, facts)];
    };
    let boundary = entries[b].clone();
    let start = entries.iter().rposition(transcript::starts_turn);
    let is_compact_command = facts
        .prompt
        .as_deref()
        .is_some_and(|p| compact_focus(p).is_some());
    match start {
        // `/compact FOCUS`: the turn is the compaction.
        Some(s) if b < s && is_compact_command => vec![compaction(entries, &boundary, facts)],
        // A summary the next prompt follows: the compaction, then the prompt's turn.
        Some(s) if b < s => {
            let mut entries = entries;
            let rest = entries.split_off(s);
            let own = transcript::facts_of(&entries);
            vec![compaction(entries, &boundary, own), prompt(rest)]
        }
        // Claude compacted before answering: the turn goes on, the compaction follows it.
        Some(_) if replied_after(&entries[b..]) => {
            let after = compaction(Vec::new(), &boundary, TurnFacts::default());
            vec![prompt_with(entries, facts), after]
        }
        // After the turn's reply (or with no turn before it): a turn of its own.
        Some(_) => {
            let mut entries = entries;
            let rest = entries.split_off(b);
            let own = transcript::facts_of(&rest);
            vec![prompt(entries), compaction(rest, &boundary, own)]
        }
        None => {
            let own = transcript::facts_of(&entries);
            vec![compaction(entries, &boundary, own)]
        }
    }
}

/// The end (exclusive) of the lines a compaction whose boundary is line `at` writes: the
/// boundary, its summary and, after `/compact`, the command's lines and output, up to the
/// next turn's lines. None while Claude has not written its summary (or, for `/compact`, the
/// command's output) yet.
pub fn own_lines_end(lines: &[Line], at: usize) -> Option<usize> {
    let boundary = lines.get(at)?;
    let summary = (at + 1..lines.len()).find(|&i| lines[i].is_compact_summary())?;
    let mut end = summary + 1;
    let manual = !(boundary.is_auto_compaction() || boundary.is_partial_summary());
    let next_turn = |from: usize| (from..lines.len()).find(|&i| transcript::starts_turn(&lines[i]));
    let mut next = next_turn(end);
    let command = next.filter(|&c| {
        manual && transcript::command_text(&lines[c]).is_some_and(|t| compact_focus(&t).is_some())
    });
    if let Some(c) = command {
        end = (c + 1..lines.len()).find(|&i| is_command_output(&lines[i]))? + 1;
        next = next_turn(end);
    }
    Some(match next {
        Some(n) => transcript::with_preamble(lines, n, end),
        None => lines.len(),
    })
}

/// The output line of a local command (`<local-command-stdout>…`).
fn is_command_output(line: &Line) -> bool {
    line.kind == LineKind::User
        && line
            .content()
            .and_then(|c| c.as_str())
            .is_some_and(|t| t.starts_with("<local-command-stdout>"))
}

/// Whether an assistant message of the model follows (the reply to a compacted turn).
fn replied_after(lines: &[Line]) -> bool {
    lines
        .iter()
        .any(|l| l.kind == LineKind::Assistant && !l.is_sidechain && !l.is_synthetic())
}

/// A prompt's turn holding `entries`.
fn prompt(entries: Vec<Line>) -> Piece {
    let facts = transcript::facts_of(&entries);
    prompt_with(entries, facts)
}

/// A prompt's turn holding `entries`, whose facts are `facts`.
fn prompt_with(entries: Vec<Line>, facts: TurnFacts) -> Piece {
    Piece {
        entries,
        facts,
        kind: TurnKind::Prompt,
        boundary_uuid: None,
        boundary_time: None,
    }
}

/// The compaction turn of `boundary`, holding `entries` (what `facts` were read from).
fn compaction(entries: Vec<Line>, boundary: &Line, mut facts: TurnFacts) -> Piece {
    let kind = if boundary.is_partial_summary() {
        TurnKind::Summary
    } else {
        TurnKind::Compact
    };
    facts.prompt = Some(match (kind, facts.prompt.take()) {
        (TurnKind::Summary, _) => summary_prompt(boundary.compact_user_context()),
        (_, Some(p)) if p.starts_with("/compact") => p,
        _ => compact_prompt(""),
    });
    if facts.last_uuid.is_none() {
        facts.last_uuid = boundary.uuid.clone();
    }
    if facts.context_tokens == 0 {
        // What the compaction left, as live recording says.
        facts.context_tokens = boundary
            .compact_metadata()
            .and_then(|m| m.get("postTokens")?.as_u64())
            .unwrap_or(0);
    }
    Piece {
        entries,
        facts,
        kind,
        boundary_uuid: boundary.uuid.clone(),
        boundary_time: boundary.timestamp().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::SUMMARY_PROMPT;
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_compact_command_has_a_focus() {
        assert_eq!(compact_focus("/compact"), Some(""));
        assert_eq!(
            compact_focus("/compact  keep the API "),
            Some("keep the API")
        );
        assert_eq!(compact_focus("/compacted"), None);
        assert_eq!(compact_focus("please /compact"), None);
    }

    fn parse(values: &[serde_json::Value]) -> Vec<Line> {
        values
            .iter()
            .filter_map(|v| Line::from_value(v.clone()))
            .collect()
    }

    fn user(uuid: &str, parent: Option<&str>, text: &str) -> serde_json::Value {
        json!({"type": "user", "uuid": uuid, "parentUuid": parent,
            "message": {"role": "user", "content": text}})
    }

    fn reply(uuid: &str, parent: &str, text: &str) -> serde_json::Value {
        json!({"type": "assistant", "uuid": uuid, "parentUuid": parent,
            "message": {"id": uuid, "role": "assistant", "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": 10, "output_tokens": 1}}})
    }

    fn boundary(mut meta: serde_json::Value) -> serde_json::Value {
        meta["postTokens"] = json!(70);
        json!({"type": "system", "subtype": "compact_boundary", "uuid": "b", "parentUuid": null,
            "logicalParentUuid": "p", "compactMetadata": meta,
            "timestamp": "2026-01-01T12:00:00.000Z"})
    }

    fn summary() -> serde_json::Value {
        json!({"type": "user", "uuid": "s", "parentUuid": "b", "isCompactSummary": true,
            "message": {"role": "user", "content": "This session is being continued"}})
    }

    fn pieces(values: &[serde_json::Value]) -> Vec<(TurnKind, Option<String>, usize)> {
        let lines = parse(values);
        let facts = transcript::facts_of(&lines);
        split(lines, facts)
            .into_iter()
            .map(|p| (p.kind, p.facts.prompt, p.entries.len()))
            .collect()
    }

    #[test]
    fn an_auto_compaction_before_the_reply_follows_the_turn() {
        let lines = [
            user("p", None, "five"),
            boundary(json!({"trigger": "auto"})),
            summary(),
            reply("a", "s", "r five"),
        ];
        let lines = parse(&lines);
        let facts = transcript::facts_of(&lines);
        let got = split(lines, facts);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].facts.reply, "r five");
        assert_eq!(got[0].entries.len(), 4);
        assert_eq!(got[1].kind, TurnKind::Compact);
        assert_eq!(got[1].facts.prompt.as_deref(), Some("/compact"));
        assert_eq!(got[1].boundary_uuid.as_deref(), Some("b"));
        // No lines of its own: it is timed by its boundary.
        assert_eq!(
            got[1].boundary_time.as_deref(),
            Some("2026-01-01T12:00:00.000Z")
        );
        assert_eq!(got[1].facts.last_uuid.as_deref(), Some("b"));
        assert_eq!(got[1].facts.context_tokens, 70);
        assert!(got[1].entries.is_empty());
    }

    #[test]
    fn a_summary_after_a_reply_is_a_turn_of_its_own() {
        let got = pieces(&[
            user("p", None, "seven"),
            reply("a", "p", "r seven"),
            boundary(json!({"trigger": "manual", "messagesSummarized": 3})),
            summary(),
        ]);
        assert_eq!(
            got,
            [
                (TurnKind::Prompt, Some("seven".into()), 2),
                (TurnKind::Summary, Some(SUMMARY_PROMPT.into()), 2)
            ]
        );
    }

    #[test]
    fn a_compactions_own_lines_end_where_the_next_turn_begins() {
        let command = |uuid: &str, text: &str| {
            json!({"type": "user", "uuid": uuid, "parentUuid": "s",
                "message": {"role": "user", "content": text}})
        };
        let manual = [
            user("p", None, "one"),
            reply("a", "p", "r one"),
            boundary(json!({"trigger": "manual"})),
            summary(),
            command("cmd", "<command-name>/compact</command-name>"),
            command(
                "out",
                "<local-command-stdout>Compacted</local-command-stdout>",
            ),
            json!({"type": "attachment", "uuid": "att", "parentUuid": "out"}),
            user("n", Some("att"), "next"),
        ];
        let lines = parse(&manual);
        assert_eq!(own_lines_end(&lines, 2), Some(7), "up to the next prompt");
        // Not yet written: the command's output, the summary.
        assert_eq!(own_lines_end(&lines[..5], 2), None);
        assert_eq!(own_lines_end(&lines[..3], 2), None);
        assert_eq!(own_lines_end(&lines[..6], 2), Some(6));
        // A rewind-menu summary: the boundary and its summary, then the next prompt.
        let partial = [
            boundary(json!({"trigger": "manual", "messagesSummarized": 2})),
            summary(),
            user("n", Some("s"), "next"),
        ];
        assert_eq!(own_lines_end(&parse(&partial), 0), Some(2));
    }

    #[test]
    fn a_summary_says_the_context_the_person_added() {
        let meta = json!({"trigger": "manual", "messagesSummarized": 3,
            "userContext": "keep the parser"});
        let got = pieces(&[
            user("p", None, "seven"),
            reply("a", "p", "r seven"),
            boundary(meta),
            summary(),
        ]);
        assert_eq!(
            got[1].1.as_deref(),
            Some("(conversation summarized: keep the parser)")
        );
    }

    #[test]
    fn a_summary_then_a_compact_command_are_two_turns() {
        let first = boundary(json!({"trigger": "manual", "messagesSummarized": 4}));
        let mut second = boundary(json!({"trigger": "manual"}));
        second["uuid"] = json!("b2");
        let command = json!({"type": "user", "uuid": "c", "parentUuid": "s",
            "message": {"role": "user", "content": "<command-name>/compact</command-name>"}});
        let lines = parse(&[first, summary(), second, summary(), command]);
        let facts = transcript::facts_of(&lines);
        let got = split(lines, facts);
        let kinds: Vec<_> = got
            .iter()
            .map(|p| (p.kind, p.boundary_uuid.clone().unwrap(), p.entries.len()))
            .collect();
        assert_eq!(
            kinds,
            [
                (TurnKind::Summary, "b".to_string(), 2),
                (TurnKind::Compact, "b2".to_string(), 3)
            ]
        );
        assert_eq!(got[1].facts.prompt.as_deref(), Some("/compact"));
    }

    #[test]
    fn a_compact_command_turn_is_the_compaction_and_a_plain_turn_is_kept() {
        let command = json!({"type": "user", "uuid": "c", "parentUuid": "s",
            "message": {"role": "user",
            "content": "<command-name>/compact</command-name>\n<command-args>keep it</command-args>"}});
        let got = pieces(&[boundary(json!({"trigger": "manual"})), summary(), command]);
        assert_eq!(
            got,
            [(TurnKind::Compact, Some("/compact keep it".into()), 3)]
        );
        let got = pieces(&[user("p", None, "x"), reply("a", "p", "y")]);
        assert_eq!(got, [(TurnKind::Prompt, Some("x".into()), 2)]);
    }
}

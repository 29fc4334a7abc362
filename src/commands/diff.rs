//! `ccx diff A B [--json]`: where two branches part, and how they went on from there.
//!
//! Pure pieces, shared with the `:diff` meta-command: [`compare`] (the common turns, the fork
//! and the first differing turn), [`render_diff`] (text, side by side, with the final replies
//! as a line diff) and [`diff_json`].
//!
//! Two lineages share the turns with the same ids from their roots on: the last of those is
//! where they part (`fork_turn`). After it, the turns are paired by position; the first pair
//! whose prompts or replies differ (or where one branch has a turn and the other has none) is
//! the first difference. Branches that share no turn (two separate conversations) have no fork,
//! and their turns are paired from the first.

use super::render::{first_line, prompt_label, tokens, Palette};
use crate::model::{Branch, Turn};
use crate::store::Store;
use anyhow::{Context, Result};
use owo_colors::OwoColorize;
use serde_json::{json, Value};
use similar::{ChangeTag, TextDiff};
use std::io::Write;

/// How two lineages relate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// How many turns both lineages share (same ids from the root).
    pub common: usize,
    /// The last shared turn, or None.
    pub fork_turn: Option<u64>,
    /// The first position (0-based, in the lineages) where the turns differ in content, with
    /// the ids there (None where that branch has no turn); None when the lineages are equal.
    pub first_difference: Option<(usize, Option<u64>, Option<u64>)>,
}

/// True when two turns asked and answered the same.
fn same_content(a: &Turn, b: &Turn) -> bool {
    a.prompt == b.prompt && a.reply == b.reply
}

/// Compares two lineages (each root first).
pub fn compare(a: &[Turn], b: &[Turn]) -> Comparison {
    let common = a.iter().zip(b).take_while(|(x, y)| x.id == y.id).count();
    let fork_turn = common.checked_sub(1).map(|i| a[i].id);
    let mut first_difference = None;
    for i in common..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        let differs = match (x, y) {
            (Some(x), Some(y)) => !same_content(x, y),
            _ => true,
        };
        if differs {
            first_difference = Some((i, x.map(|t| t.id), y.map(|t| t.id)));
            break;
        }
    }
    Comparison {
        common,
        fork_turn,
        first_difference,
    }
}

/// The `--json` form: `{ "common": [ids], "fork_turn": id|null, "a": [turns after the fork],
/// "b": [...], "first_difference": {"index", "a", "b"}|null }`.
pub fn diff_json(a: &[Turn], b: &[Turn]) -> Value {
    let c = compare(a, b);
    json!({
        "common": a[..c.common].iter().map(|t| t.id).collect::<Vec<_>>(),
        "fork_turn": c.fork_turn,
        "a": &a[c.common..],
        "b": &b[c.common..],
        "first_difference": c.first_difference.map(|(index, x, y)| json!({
            "index": index,
            "a": x,
            "b": y,
        })),
    })
}

/// Cuts `text` to `width` characters (with an ellipsis) and pads it to `width`.
fn cell(text: &str, width: usize) -> String {
    let cut = first_line(text, width);
    let pad = width.saturating_sub(cut.chars().count());
    format!("{cut}{}", " ".repeat(pad))
}

/// The right-hand cell: cut, not padded.
fn right(text: &str, width: usize) -> String {
    first_line(text, width)
}

fn files(turns: &[Turn]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in turns.iter().flat_map(|t| t.files.iter()) {
        if !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

fn turn_stats(t: &Turn) -> String {
    let mut s = format!(
        "#{} · {} ctx · {} out",
        t.id,
        tokens(t.context_tokens),
        tokens(t.output_tokens)
    );
    if !t.files.is_empty() {
        s.push_str(&format!(
            " · {} file{}",
            t.files.len(),
            if t.files.len() == 1 { "" } else { "s" }
        ));
    }
    if t.interrupted {
        s.push_str(" · interrupted");
    }
    s
}

/// A unified line diff of two texts: ` ` same, `-` only in A, `+` only in B.
pub fn reply_diff(a: &str, b: &str, width: usize, p: Palette) -> String {
    let diff = TextDiff::from_lines(a, b);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end_matches(['\n', '\r']);
        let line = first_line_keep(line, width.saturating_sub(4));
        let text = match change.tag() {
            ChangeTag::Equal => format!("    {line}"),
            ChangeTag::Delete => colour(&format!("  - {line}"), p, false),
            ChangeTag::Insert => colour(&format!("  + {line}"), p, true),
        };
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// Like `first_line` but keeps an empty line empty (one physical line in, one out).
fn first_line_keep(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        line.to_string()
    } else {
        let cut: String = line.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn colour(text: &str, p: Palette, insert: bool) -> String {
    match (p.enabled, insert) {
        (false, _) => text.to_string(),
        (true, true) => text.green().to_string(),
        (true, false) => text.red().to_string(),
    }
}

/// The comparison as text, `width` columns wide: where the branches part, then each pair of
/// turns after the fork side by side (prompts, stats, and the replies as a line diff when they
/// differ), then the outcomes (last replies, context, files changed).
pub fn render_diff(
    a: &Branch,
    a_turns: &[Turn],
    b: &Branch,
    b_turns: &[Turn],
    width: usize,
    p: Palette,
) -> String {
    let width = width.clamp(40, 200);
    let col = (width - 3) / 2;
    let c = compare(a_turns, b_turns);
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} {}\n",
        p.strong(&a.name),
        p.dim("vs"),
        p.strong(&b.name)
    ));
    match c.fork_turn {
        Some(fork) => out.push_str(&format!(
            "common: {} turn{} (#{}..#{}); they part after {}\n",
            c.common,
            if c.common == 1 { "" } else { "s" },
            a_turns[0].id,
            fork,
            p.id(&format!("#{fork}"))
        )),
        None => out.push_str("common: none (separate conversations)\n"),
    }
    match c.first_difference {
        None => {
            out.push_str(&p.good("no difference: both branches asked and answered the same"));
            out.push('\n');
        }
        Some((i, x, y)) => {
            let name = |id: Option<u64>| id.map_or("nothing".to_string(), |id| format!("#{id}"));
            let why = match (a_turns.get(i), b_turns.get(i)) {
                (Some(x), Some(y)) if x.prompt != y.prompt => "prompts differ",
                (Some(_), Some(_)) => "same prompt, replies differ",
                (Some(_), None) => "only the first branch goes on",
                _ => "only the second branch goes on",
            };
            out.push_str(&format!(
                "first difference: turn {} ({} {} vs {} {}): {why}\n",
                i + 1,
                a.name,
                p.id(&name(x)),
                b.name,
                p.id(&name(y)),
            ));
        }
    }

    let rest_a = &a_turns[c.common..];
    let rest_b = &b_turns[c.common..];
    let rows = rest_a.len().max(rest_b.len());
    if rows > 0 {
        out.push('\n');
        out.push_str(&p.dim(&format!("{} │ {}", cell(&a.name, col), right(&b.name, col))));
        out.push('\n');
    }
    for i in 0..rows {
        let (x, y) = (rest_a.get(i), rest_b.get(i));
        out.push_str(&p.dim(&format!(
            "── turn {} {}",
            c.common + i + 1,
            "─".repeat(width.saturating_sub(12))
        )));
        out.push('\n');
        let prompt = |t: Option<&Turn>| {
            t.map_or("—".to_string(), |t| format!("> {}", prompt_label(t, col)))
        };
        let stats = |t: Option<&Turn>| t.map_or(String::new(), turn_stats);
        let reply = |t: Option<&Turn>| t.map_or(String::new(), |t| t.reply.trim().to_string());
        out.push_str(&format!(
            "{} │ {}\n",
            cell(&prompt(x), col),
            right(&prompt(y), col)
        ));
        out.push_str(&format!(
            "{} │ {}\n",
            p.dim(&cell(&stats(x), col)),
            p.dim(&right(&stats(y), col))
        ));
        match (x, y) {
            (Some(x), Some(y)) if x.reply == y.reply => {
                out.push_str(&format!("{}\n", p.dim("  (same reply)")));
                out.push_str(&format!(
                    "    {}\n",
                    first_line(&x.reply, width.saturating_sub(4))
                ));
            }
            (Some(x), Some(y)) => {
                out.push_str(&p.dim("  reply diff:"));
                out.push('\n');
                out.push_str(&reply_diff(&x.reply, &y.reply, width, p));
            }
            _ => {
                out.push_str(&format!(
                    "{} │ {}\n",
                    cell(&reply(x), col),
                    right(&reply(y), col)
                ));
            }
        }
    }

    out.push('\n');
    out.push_str(&p.strong("outcome"));
    out.push('\n');
    for (branch, turns) in [(a, a_turns), (b, b_turns)] {
        let last = turns.last();
        let rest = &turns[c.common.min(turns.len())..];
        let changed = files(rest);
        let after = if c.common > 0 {
            format!(" ({} after the fork)", rest.len())
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{}: {} turn{}{after} · context {} · {}\n",
            p.strong(&branch.name),
            turns.len(),
            if turns.len() == 1 { "" } else { "s" },
            last.map_or("0".into(), |t| tokens(t.context_tokens)),
            if changed.is_empty() {
                "no files changed".to_string()
            } else {
                format!("files: {}", changed.join(", "))
            }
        ));
        if let Some(t) = last {
            out.push_str(&format!(
                "  last reply ({}): {}\n",
                p.id(&format!("#{}", t.id)),
                first_line(&t.reply, width.saturating_sub(20))
            ));
        }
    }
    out
}

fn branch_or_error(store: &Store, name: &str) -> Result<Branch> {
    if let Some(b) = store.branch(name)? {
        return Ok(b);
    }
    let names: Vec<String> = store.branches()?.into_iter().map(|b| b.name).collect();
    match crate::refs::nearest_name(name, names.iter().map(String::as_str)) {
        Some(near) => anyhow::bail!("no branch '{name}' (did you mean '{near}'?)"),
        None => anyhow::bail!("no branch '{name}'"),
    }
}

/// `ccx diff A B [--json]`.
pub fn run(a: &str, b: &str, json: bool) -> Result<i32> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let store = crate::store::open_project(&cwd)?;
    let branch_a = branch_or_error(&store, a)?;
    let branch_b = branch_or_error(&store, b)?;
    let turns_a = store.lineage(a)?;
    let turns_b = store.lineage(b)?;
    let mut out = super::buffered_stdout();
    if json {
        serde_json::to_writer_pretty(&mut out, &diff_json(&turns_a, &turns_b))?;
        writeln!(out)?;
        out.flush()?;
        return Ok(0);
    }
    let palette = Palette::for_stdout();
    let width = crate::terminal::size(1)
        .map(|(_, cols)| cols as usize)
        .unwrap_or(100);
    write!(
        out,
        "{}",
        render_diff(&branch_a, &turns_a, &branch_b, &turns_b, width, palette)
    )?;
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Palette = Palette { enabled: false };

    fn t(id: u64, prompt: &str, reply: &str) -> Turn {
        Turn {
            id,
            prompt: prompt.into(),
            reply: reply.into(),
            context_tokens: id * 1000,
            ..Default::default()
        }
    }

    fn branch(name: &str) -> Branch {
        Branch {
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn prompts_ccx_sent_are_labelled_side_by_side() {
        let mut pulled = t(
            3,
            "<pasted_content id=\"c1d1\">\nA subagent ran\n</pasted_content>",
            "ok",
        );
        pulled.kind = crate::model::TurnKind::Subagent;
        pulled.input = Some("pull 1".into());
        let a = vec![t(1, "p1", "r1"), pulled];
        let b = vec![t(1, "p1", "r1"), t(4, "my own way", "r4")];
        let text = render_diff(&branch("main"), &a, &branch("try-b"), &b, 100, PLAIN);
        assert!(text.contains("> [pull #1] A subagent ran"), "{text}");
        assert!(text.contains("> my own way"), "{text}");
        assert!(!text.contains("pasted_content"), "{text}");
    }

    #[test]
    fn forked_branches_part_at_the_last_shared_turn() {
        let a = vec![t(1, "p1", "r1"), t(2, "p2", "r2"), t(3, "p3", "r3")];
        let b = vec![t(1, "p1", "r1"), t(2, "p2", "r2"), t(7, "p3 other", "r3")];
        let c = compare(&a, &b);
        assert_eq!(c.common, 2);
        assert_eq!(c.fork_turn, Some(2));
        assert_eq!(c.first_difference, Some((2, Some(3), Some(7))));
        let j = diff_json(&a, &b);
        assert_eq!(j["common"], json!([1, 2]));
        assert_eq!(j["fork_turn"], 2);
        assert_eq!(j["a"][0]["id"], 3);
        assert_eq!(j["b"][0]["id"], 7);
        assert_eq!(j["first_difference"], json!({"index": 2, "a": 3, "b": 7}));
    }

    #[test]
    fn separate_conversations_compare_by_content() {
        let a = vec![t(1, "same", "echo"), t(2, "second A", "ra")];
        let b = vec![
            t(4, "same", "echo"),
            t(5, "second B", "rb"),
            t(6, "third", "x"),
        ];
        let c = compare(&a, &b);
        assert_eq!(c.common, 0);
        assert_eq!(c.fork_turn, None);
        assert_eq!(c.first_difference, Some((1, Some(2), Some(5))));
        assert!(diff_json(&a, &b)["fork_turn"].is_null());
    }

    #[test]
    fn equal_and_prefix_lineages() {
        let a = vec![t(1, "p", "r")];
        assert_eq!(compare(&a, &a).first_difference, None);
        let b = vec![t(1, "p", "r"), t(2, "q", "s")];
        assert_eq!(compare(&a, &b).first_difference, Some((1, None, Some(2))));
        assert!(diff_json(&a, &a)["first_difference"].is_null());
    }

    #[test]
    fn text_names_the_fork_the_first_difference_and_the_outcomes() {
        let mut a3 = t(3, "use approach A", "line one\nline two\nA result");
        a3.files = vec!["src/a.rs".into()];
        let a = vec![t(1, "p1", "r1"), a3];
        let b = vec![
            t(1, "p1", "r1"),
            t(5, "use approach B", "line one\nline two\nB result"),
        ];
        let text = render_diff(&branch("main"), &a, &branch("try-b"), &b, 100, PLAIN);
        for part in [
            "main vs try-b",
            "common: 1 turn (#1..#1); they part after #1",
            "first difference: turn 2 (main #3 vs try-b #5): prompts differ",
            "> use approach A",
            "> use approach B",
            "    line one",
            "  - A result",
            "  + B result",
            "outcome",
            "main: 2 turns (1 after the fork) · context 3k · files: src/a.rs",
            "try-b: 2 turns (1 after the fork) · context 5k · no files changed",
            "last reply (#5): line one",
        ] {
            assert!(text.contains(part), "missing {part:?} in:\n{text}");
        }
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "too wide: {line}");
        }
    }

    #[test]
    fn identical_replies_are_not_diffed() {
        let a = vec![t(1, "x", "same")];
        let b = vec![t(2, "y", "same")];
        let text = render_diff(&branch("a"), &a, &branch("b"), &b, 80, PLAIN);
        assert!(text.contains("(same reply)"), "{text}");
        assert!(text.contains("common: none"), "{text}");
    }
}

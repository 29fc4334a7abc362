//! `diff` / `:diff` as text: where two branches part, then each pair of turns after the fork
//! side by side (prompts, stats, and the replies as a line diff when they differ), then the
//! outcomes (last replies, context, files changed). The comparison is
//! [`crate::query::diff::compare`]'s.

use super::text::{clip_line, first_line, prompt_label, tokens};
use super::{Palette, RenderCtx};
use crate::model::{Branch, Turn};
use crate::query::diff::{compare, Comparison, Side};
use similar::{ChangeTag, TextDiff};

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
        let line = clip_line(line, width.saturating_sub(4));
        let text = match change.tag() {
            ChangeTag::Equal => format!("    {line}"),
            ChangeTag::Delete => p.warn(&format!("  - {line}")),
            ChangeTag::Insert => p.good(&format!("  + {line}")),
        };
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// The comparison of two branches as text, `ctx.width` columns wide (40 to 200): where they
/// part, the turns after the fork side by side, the outcomes.
pub fn render_diff(a: &Side, b: &Side, ctx: &RenderCtx) -> String {
    let width = ctx.width.clamp(40, 200);
    let p = ctx.palette;
    let c = compare(&a.turns, &b.turns);
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} {}\n",
        p.strong(&a.branch.name),
        p.dim("vs"),
        p.strong(&b.branch.name)
    ));
    out.push_str(&parting(a, b, &c, p));
    out.push_str(&side_by_side(a, b, &c, width, p));
    out.push('\n');
    out.push_str(&p.strong("outcome"));
    out.push('\n');
    for side in [a, b] {
        out.push_str(&outcome(side, &c, width, p));
    }
    out
}

/// Two lines: the turns both share (and where they part), and the first difference.
fn parting(a: &Side, b: &Side, c: &Comparison, p: Palette) -> String {
    let mut out = match c.fork_turn {
        Some(fork) => format!(
            "common: {} turn{} (#{}..#{}); they part after {}\n",
            c.common,
            if c.common == 1 { "" } else { "s" },
            a.turns[0].id,
            fork,
            p.id(&format!("#{fork}"))
        ),
        None => "common: none (separate conversations)\n".to_string(),
    };
    match c.first_difference {
        None => {
            out.push_str(&p.good("no difference: both branches asked and answered the same"));
            out.push('\n');
        }
        Some((i, x, y)) => {
            let name = |id: Option<crate::ids::TurnId>| {
                id.map_or("nothing".to_string(), |id| format!("#{id}"))
            };
            let why = match (a.turns.get(i), b.turns.get(i)) {
                (Some(x), Some(y)) if x.prompt != y.prompt => "prompts differ",
                (Some(_), Some(_)) => "same prompt, replies differ",
                (Some(_), None) => "only the first branch goes on",
                _ => "only the second branch goes on",
            };
            out.push_str(&format!(
                "first difference: turn {} ({} {} vs {} {}): {why}\n",
                i + 1,
                a.branch.name,
                p.id(&name(x)),
                b.branch.name,
                p.id(&name(y)),
            ));
        }
    }
    out
}

/// The turns after the fork, paired by position, under a header naming the two branches.
fn side_by_side(a: &Side, b: &Side, c: &Comparison, width: usize, p: Palette) -> String {
    let col = (width - 3) / 2;
    let rest_a = &a.turns[c.common..];
    let rest_b = &b.turns[c.common..];
    let rows = rest_a.len().max(rest_b.len());
    let mut out = String::new();
    if rows > 0 {
        out.push('\n');
        out.push_str(&p.dim(&format!(
            "{} │ {}",
            cell(&a.branch.name, col),
            right(&b.branch.name, col)
        )));
        out.push('\n');
    }
    for i in 0..rows {
        out.push_str(&p.dim(&format!(
            "── turn {} {}",
            c.common + i + 1,
            "─".repeat(width.saturating_sub(12))
        )));
        out.push('\n');
        out.push_str(&turn_pair(rest_a.get(i), rest_b.get(i), width, p));
    }
    out
}

/// One pair of turns: prompts and stats side by side, then the replies (a line diff when both
/// exist and differ).
fn turn_pair(x: Option<&Turn>, y: Option<&Turn>, width: usize, p: Palette) -> String {
    let col = (width - 3) / 2;
    let prompt =
        |t: Option<&Turn>| t.map_or("—".to_string(), |t| format!("> {}", prompt_label(t, col)));
    let stats = |t: Option<&Turn>| t.map_or(String::new(), turn_stats);
    let reply = |t: Option<&Turn>| t.map_or(String::new(), |t| t.reply.trim().to_string());
    let mut out = format!("{} │ {}\n", cell(&prompt(x), col), right(&prompt(y), col));
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
    out
}

/// How one branch ended: its turns, context and files changed since the fork, its last reply.
fn outcome(side: &Side, c: &Comparison, width: usize, p: Palette) -> String {
    let (branch, turns): (&Branch, &[Turn]) = (&side.branch, &side.turns);
    let last = turns.last();
    let rest = &turns[c.common.min(turns.len())..];
    let changed = files(rest);
    let after = if c.common > 0 {
        format!(" ({} after the fork)", rest.len())
    } else {
        String::new()
    };
    let mut out = format!(
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
    );
    if let Some(t) = last {
        out.push_str(&format!(
            "  last reply ({}): {}\n",
            p.id(&format!("#{}", t.id)),
            first_line(&t.reply, width.saturating_sub(20))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TurnKind;
    use crate::query::fixtures::exchange as t;
    use crate::render::test_support::{plain, sent_by_ccx};

    fn side(name: &str, turns: Vec<Turn>) -> Side {
        Side {
            branch: Branch {
                name: name.into(),
                ..Default::default()
            },
            turns,
        }
    }

    #[test]
    fn prompts_ccx_sent_are_labelled_side_by_side() {
        let pulled = sent_by_ccx(t(3, "A subagent ran", "ok"), TurnKind::Subagent, "pull 1");
        let a = vec![t(1, "p1", "r1"), pulled];
        let b = vec![t(1, "p1", "r1"), t(4, "my own way", "r4")];
        let text = render_diff(&side("main", a), &side("try-b", b), &plain(100));
        assert!(text.contains("> [pull #1] A subagent ran"), "{text}");
        assert!(text.contains("> my own way"), "{text}");
        assert!(!text.contains("pasted_content"), "{text}");
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
        let text = render_diff(&side("main", a), &side("try-b", b), &plain(100));
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
        let text = render_diff(&side("a", a), &side("b", b), &plain(80));
        assert!(text.contains("(same reply)"), "{text}");
        assert!(text.contains("common: none"), "{text}");
    }
}

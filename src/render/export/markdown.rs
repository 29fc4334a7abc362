//! A branch's conversation as Markdown that reads well ([`render_markdown`]).

use crate::model::{Branch, Turn};
use crate::render::text::tokens;

/// `3m`, `12s`, `1h5m`: how long a turn took; "" when unknown.
fn duration(turn: &Turn) -> String {
    let (Some(end), Ok(start)) = (
        turn.ended_at
            .as_deref()
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok()),
        chrono::DateTime::parse_from_rfc3339(&turn.started_at),
    ) else {
        return String::new();
    };
    let secs = (end - start).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        _ => format!("{}h{}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// True when a prompt is best shown as a fenced block: it holds a code fence or indented code.
fn looks_like_code(text: &str) -> bool {
    text.contains("```")
        || text
            .lines()
            .any(|l| l.starts_with("    ") || l.starts_with('\t'))
}

/// A fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn quote(text: &str) -> String {
    let mut out = String::new();
    for line in text.trim_end().lines() {
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
    }
    if out.is_empty() {
        out.push_str("> *(empty)*\n");
    }
    out
}

fn block(text: &str) -> String {
    if looks_like_code(text) {
        let fence = fence_for(text);
        format!("{fence}text\n{}\n{fence}\n", text.trim_end())
    } else {
        quote(text)
    }
}

/// The branch's conversation as Markdown: a title, the branch (session, parent and fork point,
/// head, turn count), then per turn a header (`## #12 · prompt · 3m · 45.2k ctx`), the prompt
/// (a quote, or a fenced block when it holds code), what the person typed when a meta-command
/// rewrote it, the reply, tokens and files; a note where the lineage crosses onto another branch.
/// `turns` is the branch's lineage, oldest first (as `Store::lineage` gives it).
pub fn render_markdown(branch: &Branch, turns: &[Turn]) -> String {
    let mut out = branch_facts(branch, turns);
    if turns.is_empty() {
        out.push_str("\n*No turns recorded on this branch yet.*\n");
        return out;
    }
    let mut previous_branch: Option<&str> = None;
    for turn in turns {
        out.push_str(&crossing(branch, previous_branch, turn));
        previous_branch = Some(&turn.branch);
        out.push_str(&turn_section(turn));
    }
    out
}

/// The title and the branch's facts.
fn branch_facts(branch: &Branch, turns: &[Turn]) -> String {
    let mut out = format!("# ccx: branch `{}`\n\n", branch.name);
    out.push_str(&format!("- **branch:** `{}`\n", branch.name));
    match (&branch.parent_branch, branch.fork_turn) {
        (Some(parent), Some(fork)) => out.push_str(&format!(
            "- **forked from:** `{parent}` after turn #{fork}\n"
        )),
        (Some(parent), None) => out.push_str(&format!(
            "- **forked from:** `{parent}` before its first turn\n"
        )),
        (None, _) => out.push_str("- **forked from:** nothing (a root branch)\n"),
    }
    if !branch.session_id.is_empty() {
        out.push_str(&format!("- **Claude session:** `{}`\n", branch.session_id));
    }
    if !branch.created_at.is_empty() {
        out.push_str(&format!("- **created:** {}\n", branch.created_at));
    }
    let head = branch
        .head
        .map(|h| format!("#{h}"))
        .unwrap_or_else(|| "none".into());
    out.push_str(&format!("- **head:** {head}\n"));
    out.push_str(&format!(
        "- **turns:** {}{}\n",
        turns.len(),
        turns
            .last()
            .map(|t| format!(" (context now {} tokens)", tokens(t.context_tokens)))
            .unwrap_or_default()
    ));
    out
}

/// The note before `turn` where the lineage crosses from one branch onto another (or starts
/// on a branch other than the exported one); "" elsewhere.
fn crossing(branch: &Branch, previous_branch: Option<&str>, turn: &Turn) -> String {
    match previous_branch {
        Some(prev) if prev != turn.branch => {
            let after = turn
                .parent
                .map(|p| format!(" after turn #{p}"))
                .unwrap_or_default();
            format!(
                "\n---\n\n> **Fork:** branch `{}` parts from `{prev}` here{after}.\n",
                turn.branch
            )
        }
        None if turn.branch != branch.name => format!(
            "\n*The first turns come from branch `{}`, which `{}` forked from.*\n",
            turn.branch, branch.name
        ),
        _ => String::new(),
    }
}

/// One turn: its header, flags, what was typed, the prompt, the reply, tokens and files.
fn turn_section(turn: &Turn) -> String {
    let mut header = vec![format!("#{}", turn.id), turn.kind.as_str().to_string()];
    let took = duration(turn);
    if !took.is_empty() {
        header.push(took);
    }
    header.push(format!("{} ctx", tokens(turn.context_tokens)));
    let mut out = format!("\n## {}\n\n", header.join(" · "));
    let mut flags = Vec::new();
    if turn.is_running() {
        flags.push("still running");
    }
    if turn.interrupted {
        flags.push("interrupted");
    }
    if !flags.is_empty() {
        out.push_str(&format!("*{}*\n\n", flags.join(", ")));
    }
    if let Some(input) = turn.input.as_deref().filter(|i| *i != turn.prompt) {
        out.push_str("**Typed:**\n\n");
        out.push_str(&block(input));
        out.push('\n');
    }
    out.push_str("**Prompt:**\n\n");
    out.push_str(&block(&turn.prompt));
    out.push_str("\n**Reply:**\n\n");
    if turn.reply.trim().is_empty() {
        out.push_str("*(no reply)*\n");
    } else {
        out.push_str(turn.reply.trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "\n<sub>context {} · output {} · estimate {} tokens{}</sub>\n",
        turn.context_tokens,
        turn.output_tokens,
        turn.est_tokens,
        turn.started_at
            .get(..19)
            .map(|t| format!(" · {}", t.replace('T', " ")))
            .unwrap_or_default()
    ));
    if !turn.files.is_empty() {
        let files: Vec<String> = turn.files.iter().map(|f| format!("`{f}`")).collect();
        out.push_str(&format!("\n**Files:** {}\n", files.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TurnId;
    use crate::query::fixtures::turn;

    #[test]
    fn markdown_has_title_branch_info_turn_headers_and_fork_note() {
        let branch = Branch {
            name: "try-b".into(),
            session_id: "sess".into(),
            parent_branch: Some("main".into()),
            fork_turn: Some(TurnId(1)),
            head: Some(TurnId(5)),
            created_at: "2026-01-01T12:10:00Z".into(),
        };
        let mut t2 = turn(
            5,
            "try-b",
            Some(1),
            "fn main() {}\n    let x = 1;",
            "It compiles.",
        );
        t2.files = vec!["src/main.rs".into()];
        t2.input = Some(":rewind -- go".into());
        let turns = vec![
            turn(1, "main", None, "plan the work", "Here is the plan."),
            t2,
        ];
        let md = render_markdown(&branch, &turns);
        assert!(md.starts_with("# ccx: branch `try-b`"), "{md}");
        assert!(md.contains("forked from:** `main` after turn #1"), "{md}");
        assert!(md.contains("## #1 · prompt · 3m · 45.2k ctx"), "{md}");
        assert!(md.contains("> plan the work"), "{md}");
        assert!(
            md.contains("```text\nfn main() {}\n    let x = 1;\n```"),
            "{md}"
        );
        assert!(md.contains("**Fork:** branch `try-b` parts from `main` here after turn #1"));
        assert!(md.contains("**Files:** `src/main.rs`"));
        assert!(md.contains("**Typed:**"));
        let first = md.find("plan the work").unwrap();
        let second = md.find("It compiles.").unwrap();
        assert!(first < second);
    }

    #[test]
    fn fence_outgrows_backticks_in_the_prompt() {
        let text = "see ```rust\nx\n```";
        let b = block(text);
        assert!(b.starts_with("````text\n"), "{b}");
    }

    #[test]
    fn empty_branch_renders() {
        let branch = Branch {
            name: "main".into(),
            ..Default::default()
        };
        assert!(render_markdown(&branch, &[]).contains("No turns recorded"));
    }
}

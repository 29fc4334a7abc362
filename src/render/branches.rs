//! The project's branches as text: `tree` / `:tree` (every branch under the branch it forked
//! from, with its fork point) and `sessions` / `:sessions` (a table of branches and their
//! Claude sessions).
//!
//! ```text
//! * main          root              #12  9 turns  5m
//!   ├─ try-b      forked after #7   #15  3 turns  2m
//!   │  └─ try-b2  forked after #14  #16  1 turn   1m
//!   └─ docs       forked after #9   —    0 turns
//! ```
//! The tree's order is [`crate::query::branches::tree`]'s. The current branch is marked `*`
//! (and bold). Turn counts are the turns recorded on the branch itself, not the ones it
//! inherits from its parent.

use super::text::{age, tokens};
use super::RenderCtx;
use crate::model::{Branch, Turn};
use crate::query::branches::{summaries, tree, BranchSummary, ForkPoint, TreeNode};
use std::collections::HashMap;

/// One line of the tree before alignment.
struct Row {
    current: bool,
    prefix: String,
    name: String,
    fork: String,
    head: String,
    count: String,
    age: String,
}

/// `forked after #7`, `forked at start`, `root`.
pub fn fork_label(fork: ForkPoint) -> String {
    match fork {
        ForkPoint::After(t) => format!("forked after #{t}"),
        ForkPoint::AtStart => "forked at start".to_string(),
        ForkPoint::Root => "root".to_string(),
    }
}

/// The lines drawn before a node's name: `│  ` where an ancestor's list goes on, then `├─ ` or
/// `└─ `; nothing for a root.
fn tree_prefix(node: &TreeNode) -> String {
    let mut prefix: String = node
        .continues
        .iter()
        .map(|&more| if more { "│  " } else { "   " })
        .collect();
    if node.depth > 0 {
        prefix.push_str(if node.last { "└─ " } else { "├─ " });
    }
    prefix
}

fn tree_row(node: &TreeNode, summary: &BranchSummary, current: &str, ctx: &RenderCtx) -> Row {
    let b = node.branch;
    let count = summary.own_turns;
    Row {
        current: b.name == current,
        prefix: tree_prefix(node),
        name: b.name.clone(),
        fork: fork_label(node.fork),
        head: b.head.map_or_else(|| "—".to_string(), |h| format!("#{h}")),
        count: format!("{count} {}", if count == 1 { "turn" } else { "turns" }),
        age: summary
            .last_activity()
            .map_or_else(String::new, |at| age(at, ctx.now)),
    }
}

/// Renders all branches as a tree with their fork points; `current` is marked. No final
/// newline.
pub fn render_tree(branches: &[Branch], turns: &[Turn], current: &str, ctx: &RenderCtx) -> String {
    if branches.is_empty() {
        return "no branches yet".to_string();
    }
    let by_name: HashMap<&str, BranchSummary> = summaries(branches, turns)
        .into_iter()
        .map(|s| (s.branch.name.as_str(), s))
        .collect();
    let rows: Vec<Row> = tree(branches)
        .iter()
        .map(|node| tree_row(node, &by_name[node.branch.name.as_str()], current, ctx))
        .collect();
    align_rows(&rows, ctx)
}

/// The rows as lines, each column padded to its widest cell.
fn align_rows(rows: &[Row], ctx: &RenderCtx) -> String {
    let palette = ctx.palette;
    let width = |f: fn(&Row) -> usize| rows.iter().map(f).max().unwrap_or(0);
    let name_w = width(|r| r.prefix.chars().count() + r.name.chars().count());
    let fork_w = width(|r| r.fork.chars().count());
    let head_w = width(|r| r.head.chars().count());
    let count_w = width(|r| r.count.chars().count());
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    let mut out = String::new();
    for r in rows {
        let name_pad = " ".repeat(name_w - r.prefix.chars().count() - r.name.chars().count());
        let (mark, name) = if r.current {
            ("*", palette.strong(&r.name))
        } else {
            (" ", r.name.clone())
        };
        let line = format!(
            "{mark} {}{name}{name_pad}  {}  {}  {}  {}",
            palette.dim(&r.prefix),
            palette.dim(&pad(&r.fork, fork_w)),
            palette.id(&pad(&r.head, head_w)),
            pad(&r.count, count_w),
            palette.dim(&r.age),
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

/// The project's branches and their Claude sessions: turns, context, last activity.
pub fn sessions_table(
    branches: &[Branch],
    turns: &[Turn],
    current: Option<&str>,
    ctx: &RenderCtx,
) -> String {
    if branches.is_empty() {
        return "no branches yet\n".to_string();
    }
    let p = ctx.palette;
    // The branch column fits the longest name, so the other columns stay aligned.
    let name_width = branches
        .iter()
        .map(|b| b.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(20);
    let mut out = format!(
        "{}\n",
        p.dim(&format!(
            "  {:<name_width$} {:<10} {:>5} {:>8} {:>6}",
            "branch", "session", "turns", "context", "last"
        ))
    );
    for summary in summaries(branches, turns) {
        let branch = summary.branch;
        let context = summary
            .head
            .map(|t| tokens(t.context_tokens))
            .unwrap_or_else(|| "-".into());
        let last = age(
            summary.last_activity().unwrap_or(&branch.created_at),
            ctx.now,
        );
        let mark = if current == Some(branch.name.as_str()) {
            "*"
        } else {
            " "
        };
        let session: String = branch.session_id.as_str().chars().take(8).collect();
        let line = format!(
            "{mark} {:<name_width$} {:<10} {:>5} {:>8} {:>6}",
            branch.name, session, summary.own_turns, context, last
        );
        out.push_str(&if mark == "*" { p.strong(&line) } else { line });
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::fixtures::branch;
    use crate::render::test_support::{now, plain};
    use crate::render::Palette;

    fn turn(id: u64, branch: &str, parent: Option<u64>, mins_ago: i64) -> Turn {
        let at = (now() - chrono::Duration::minutes(mins_ago)).to_rfc3339();
        Turn {
            id: crate::ids::TurnId(id),
            branch: branch.into(),
            parent: parent.map(crate::ids::TurnId),
            started_at: at.clone(),
            ended_at: Some(at),
            ..Turn::default()
        }
    }

    #[test]
    fn draws_branches_under_their_parents() {
        let branches = vec![
            branch("main", None, None, Some(3)),
            branch("try-b", Some("main"), Some(2), Some(5)),
            branch("docs", Some("main"), Some(1), None),
            branch("try-b2", Some("try-b"), Some(4), Some(6)),
            branch("other", None, None, Some(7)),
        ];
        let turns = vec![
            turn(1, "main", None, 50),
            turn(2, "main", Some(1), 40),
            turn(3, "main", Some(2), 30),
            turn(4, "try-b", Some(2), 20),
            turn(5, "try-b", Some(4), 10),
            turn(6, "try-b2", Some(4), 5),
            turn(7, "other", None, 2),
        ];
        let text = render_tree(&branches, &turns, "try-b", &plain(80));
        let want = [
            "  main          root             #3  3 turns  30m",
            "* ├─ try-b      forked after #2  #5  2 turns  10m",
            "  │  └─ try-b2  forked after #4  #6  1 turn   5m",
            "  └─ docs       forked after #1  —   0 turns",
            "  other         root             #7  1 turn   2m",
        ]
        .join("\n");
        assert_eq!(text, want, "\n{text}");
    }

    #[test]
    fn orphans_and_cycles_are_still_listed() {
        let branches = vec![
            branch("a", Some("b"), Some(1), None),
            branch("b", Some("a"), Some(1), None),
            branch("lost", Some("gone"), Some(9), None),
            branch("self", Some("self"), None, None),
        ];
        let text = render_tree(&branches, &[], "zzz", &plain(80));
        for name in ["a", "b", "lost", "self"] {
            assert!(
                text.lines().any(|l| l.contains(name)),
                "{name} missing:\n{text}"
            );
        }
        assert_eq!(text.lines().count(), 4, "\n{text}");
        assert!(text.contains("forked after #9"));
        assert!(!text.contains('*'));
    }

    #[test]
    fn empty_project() {
        assert_eq!(render_tree(&[], &[], "main", &plain(80)), "no branches yet");
    }

    #[test]
    fn colour_marks_the_current_branch_bold() {
        let branches = vec![branch("main", None, None, None)];
        let text = render_tree(
            &branches,
            &[],
            "main",
            &RenderCtx {
                palette: Palette { enabled: true },
                ..plain(80)
            },
        );
        assert!(text.starts_with("* "));
        assert!(text.contains("\u{1b}[1mmain"), "{text:?}");
    }

    #[test]
    fn sessions_columns_stay_aligned_with_long_names() {
        let branch = |name: &str| Branch {
            name: name.into(),
            session_id: "0123abcd-aaaa".into(),
            created_at: "2026-01-01T11:00:00Z".into(),
            ..Default::default()
        };
        let branches = [branch("main"), branch(&"a-very-long-branch-name".repeat(2))];
        let table = sessions_table(&branches, &[], Some("main"), &plain(80));
        let columns: Vec<usize> = table
            .lines()
            .map(|line| {
                line.find("0123abcd")
                    .or_else(|| line.find("session"))
                    .unwrap()
            })
            .collect();
        assert!(columns.windows(2).all(|w| w[0] == w[1]), "{table}");
    }
}

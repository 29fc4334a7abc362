//! `:tree`: every branch of the project as a tree of fork points. A pure function from the
//! records to text, so it is tested without a store.
//!
//! ```text
//! * main          root              #12  9 turns  5m
//!   ├─ try-b      forked after #7   #15  3 turns  2m
//!   │  └─ try-b2  forked after #14  #16  1 turn   1m
//!   └─ docs       forked after #9   —    0 turns
//! ```
//! Root branches (no parent branch, or a parent that no longer exists) are at the top level,
//! oldest first; children sit under the branch they forked from, oldest first. The current
//! branch is marked `*` (and bold). Turn counts are the turns recorded on the branch itself,
//! not the ones it inherits from its parent.

use crate::commands::render::{age, Palette};
use crate::model::{Branch, Turn};
use std::collections::{HashMap, HashSet};

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

/// Renders all branches as a tree with their fork points; `current` is marked.
pub fn render_tree(
    branches: &[Branch],
    turns: &[Turn],
    current: &str,
    now: chrono::DateTime<chrono::Utc>,
    palette: Palette,
) -> String {
    if branches.is_empty() {
        return "no branches yet".to_string();
    }
    let by_id: HashMap<u64, &Turn> = turns.iter().map(|t| (t.id, t)).collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in turns {
        *counts.entry(t.branch.as_str()).or_default() += 1;
    }
    let names: HashSet<&str> = branches.iter().map(|b| b.name.as_str()).collect();
    let mut children: HashMap<&str, Vec<&Branch>> = HashMap::new();
    let mut roots: Vec<&Branch> = Vec::new();
    for b in branches {
        match b.parent_branch.as_deref() {
            Some(p) if p != b.name && names.contains(p) => children.entry(p).or_default().push(b),
            _ => roots.push(b),
        }
    }

    let mut rows = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let row = |b: &Branch, prefix: String| -> Row {
        let head_turn = b.head.and_then(|h| by_id.get(&h));
        let fork = match (b.parent_branch.as_deref(), b.fork_turn) {
            (_, Some(t)) => format!("forked after #{t}"),
            (Some(p), None) if names.contains(p) => "forked at start".to_string(),
            _ => "root".to_string(),
        };
        let count = counts.get(b.name.as_str()).copied().unwrap_or(0);
        Row {
            current: b.name == current,
            prefix,
            name: b.name.clone(),
            fork,
            head: b.head.map_or_else(|| "—".to_string(), |h| format!("#{h}")),
            count: format!("{count} {}", if count == 1 { "turn" } else { "turns" }),
            age: head_turn.map_or_else(String::new, |t| {
                age(t.ended_at.as_deref().unwrap_or(&t.started_at), now)
            }),
        }
    };

    // Depth-first from each root; `seen` guards against cycles in damaged records.
    fn walk<'a>(
        b: &'a Branch,
        prefix: &str,
        connector: &str,
        children: &HashMap<&str, Vec<&'a Branch>>,
        seen: &mut HashSet<&'a str>,
        out: &mut Vec<(&'a Branch, String)>,
    ) {
        if !seen.insert(b.name.as_str()) {
            return;
        }
        out.push((b, format!("{prefix}{connector}")));
        let kids = children
            .get(b.name.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let child_prefix = match connector {
            "├─ " => format!("{prefix}│  "),
            "└─ " => format!("{prefix}   "),
            _ => prefix.to_string(),
        };
        for (i, kid) in kids.iter().enumerate() {
            let conn = if i + 1 == kids.len() {
                "└─ "
            } else {
                "├─ "
            };
            walk(kid, &child_prefix, conn, children, seen, out);
        }
    }

    let mut order = Vec::new();
    for root in &roots {
        walk(root, "", "", &children, &mut seen, &mut order);
    }
    // Branches caught in a parent cycle are never reached from a root: list them at the top.
    for b in branches {
        if !seen.contains(b.name.as_str()) {
            walk(b, "", "", &children, &mut seen, &mut order);
        }
    }
    for (b, prefix) in order {
        rows.push(row(b, prefix));
    }

    let width = |f: fn(&Row) -> usize| rows.iter().map(f).max().unwrap_or(0);
    let name_w = width(|r| r.prefix.chars().count() + r.name.chars().count());
    let fork_w = width(|r| r.fork.chars().count());
    let head_w = width(|r| r.head.chars().count());
    let count_w = width(|r| r.count.chars().count());
    let mut out = String::new();
    for r in &rows {
        let pad =
            |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
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

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Palette = Palette { enabled: false };

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    fn branch(name: &str, parent: Option<&str>, fork: Option<u64>, head: Option<u64>) -> Branch {
        Branch {
            name: name.into(),
            parent_branch: parent.map(str::to_string),
            fork_turn: fork,
            head,
            ..Branch::default()
        }
    }

    fn turn(id: u64, branch: &str, parent: Option<u64>, mins_ago: i64) -> Turn {
        let at = (now() - chrono::Duration::minutes(mins_ago)).to_rfc3339();
        Turn {
            id,
            branch: branch.into(),
            parent,
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
        let text = render_tree(&branches, &turns, "try-b", now(), PLAIN);
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
        let text = render_tree(&branches, &[], "zzz", now(), PLAIN);
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
        assert_eq!(
            render_tree(&[], &[], "main", now(), PLAIN),
            "no branches yet"
        );
    }

    #[test]
    fn colour_marks_the_current_branch_bold() {
        let branches = vec![branch("main", None, None, None)];
        let text = render_tree(&branches, &[], "main", now(), Palette { enabled: true });
        assert!(text.starts_with("* "));
        assert!(text.contains("\u{1b}[1mmain"), "{text:?}");
    }
}

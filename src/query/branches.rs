//! The project's branches for `tree`, `sessions` and the HTML export's tree: what each branch
//! holds ([`summaries`]: its own turns and its head turn) and the branches laid out as a tree
//! under the branch each forked from ([`tree`]).
//!
//! Root branches (no parent branch, or a parent that no longer exists) come first in the order
//! given (oldest first, as the store lists them); children follow the branch they forked from,
//! oldest first, depth first. Branches caught in a parent cycle (damaged records) are never
//! reached from a root: they are listed as roots after the others.

use crate::ids::TurnId;
use crate::model::{Branch, Turn};
use crate::store::Store;
use anyhow::Result;
use std::collections::{HashMap, HashSet};

/// Every branch record of the project and every turn.
pub fn load(store: &Store) -> Result<(Vec<Branch>, Vec<Turn>)> {
    Ok((store.branches()?, store.all_turns()?))
}

/// A branch and what it holds.
#[derive(Debug, Clone, Copy)]
pub struct BranchSummary<'a> {
    pub branch: &'a Branch,
    /// The turns recorded on the branch itself, not the ones it inherits from its parent.
    pub own_turns: usize,
    /// Its head turn, when it has one that exists.
    pub head: Option<&'a Turn>,
}

impl BranchSummary<'_> {
    /// When the branch last changed: its head turn's end (or start, while it runs); None
    /// without a head turn.
    pub fn last_activity(&self) -> Option<&str> {
        self.head
            .map(|t| t.ended_at.as_deref().unwrap_or(&t.started_at))
    }
}

/// Each branch with its own turn count and head turn, in the order given.
pub fn summaries<'a>(branches: &'a [Branch], turns: &'a [Turn]) -> Vec<BranchSummary<'a>> {
    let by_id: HashMap<TurnId, &Turn> = turns.iter().map(|t| (t.id, t)).collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in turns {
        *counts.entry(t.branch.as_str()).or_default() += 1;
    }
    branches
        .iter()
        .map(|branch| BranchSummary {
            branch,
            own_turns: counts.get(branch.name.as_str()).copied().unwrap_or(0),
            head: branch.head.and_then(|h| by_id.get(&h).copied()),
        })
        .collect()
}

/// Where a branch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkPoint {
    /// No parent branch (or one that no longer exists).
    Root,
    /// Forked from its parent before the parent's first turn.
    AtStart,
    /// Forked after this turn.
    After(TurnId),
}

/// One branch's place in the tree.
#[derive(Debug, Clone)]
pub struct TreeNode<'a> {
    pub branch: &'a Branch,
    /// 0 for a root, 1 for its children, …
    pub depth: usize,
    /// The last child of its parent (roots: always true).
    pub last: bool,
    /// For each ancestor below the root level (depth 1 .. depth-1): whether it has siblings
    /// after it, so a line continues past this node.
    pub continues: Vec<bool>,
    pub fork: ForkPoint,
}

/// Where `b` starts, given the names of the branches that exist.
fn fork_point(b: &Branch, names: &HashSet<&str>) -> ForkPoint {
    match (b.parent_branch.as_deref(), b.fork_turn) {
        (_, Some(t)) => ForkPoint::After(t),
        (Some(p), None) if names.contains(p) => ForkPoint::AtStart,
        _ => ForkPoint::Root,
    }
}

/// The branches in tree order (see the module doc), each with its depth and fork point.
pub fn tree(branches: &[Branch]) -> Vec<TreeNode<'_>> {
    let names: HashSet<&str> = branches.iter().map(|b| b.name.as_str()).collect();
    let mut children: HashMap<&str, Vec<&Branch>> = HashMap::new();
    let mut roots: Vec<&Branch> = Vec::new();
    for b in branches {
        match b.parent_branch.as_deref() {
            Some(p) if p != b.name && names.contains(p) => children.entry(p).or_default().push(b),
            _ => roots.push(b),
        }
    }
    let mut walk = Walk {
        children,
        names,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    for root in roots {
        walk.visit(root, 0, true, &[]);
    }
    // Branches caught in a parent cycle are never reached from a root: list them at the top.
    for b in branches {
        if !walk.seen.contains(b.name.as_str()) {
            walk.visit(b, 0, true, &[]);
        }
    }
    walk.out
}

/// A depth-first walk; `seen` guards against cycles in damaged records.
struct Walk<'a> {
    children: HashMap<&'a str, Vec<&'a Branch>>,
    names: HashSet<&'a str>,
    seen: HashSet<&'a str>,
    out: Vec<TreeNode<'a>>,
}

impl<'a> Walk<'a> {
    fn visit(&mut self, b: &'a Branch, depth: usize, last: bool, continues: &[bool]) {
        if !self.seen.insert(b.name.as_str()) {
            return;
        }
        self.out.push(TreeNode {
            branch: b,
            depth,
            last,
            continues: continues.to_vec(),
            fork: fork_point(b, &self.names),
        });
        let kids = self
            .children
            .get(b.name.as_str())
            .cloned()
            .unwrap_or_default();
        let mut below = continues.to_vec();
        if depth > 0 {
            below.push(!last);
        }
        for (i, kid) in kids.iter().enumerate() {
            self.visit(kid, depth + 1, i + 1 == kids.len(), &below);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::fixtures::branch;

    #[test]
    fn children_follow_their_parent_depth_first() {
        let branches = vec![
            branch("main", None, None, None),
            branch("a", Some("main"), Some(1), None),
            branch("b", Some("main"), None, None),
            branch("a1", Some("a"), Some(2), None),
            branch("lost", Some("gone"), None, None),
        ];
        let nodes = tree(&branches);
        let seen: Vec<(&str, usize, bool, Vec<bool>, ForkPoint)> = nodes
            .iter()
            .map(|n| {
                (
                    n.branch.name.as_str(),
                    n.depth,
                    n.last,
                    n.continues.clone(),
                    n.fork,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("main", 0, true, vec![], ForkPoint::Root),
                ("a", 1, false, vec![], ForkPoint::After(TurnId(1))),
                ("a1", 2, true, vec![true], ForkPoint::After(TurnId(2))),
                ("b", 1, true, vec![], ForkPoint::AtStart),
                ("lost", 0, true, vec![], ForkPoint::Root),
            ]
        );
    }

    #[test]
    fn summaries_count_own_turns_and_find_the_head() {
        let main = branch("main", None, None, Some(2));
        let turns = vec![
            Turn {
                id: TurnId(1),
                branch: "main".into(),
                ..Turn::default()
            },
            Turn {
                id: TurnId(2),
                branch: "main".into(),
                started_at: "s".into(),
                ..Turn::default()
            },
        ];
        let branches = [main, branch("empty", None, None, None)];
        let s = summaries(&branches, &turns);
        assert_eq!(
            (s[0].own_turns, s[0].head.map(|t| t.id)),
            (2, Some(TurnId(2)))
        );
        assert_eq!(s[0].last_activity(), Some("s"));
        assert_eq!((s[1].own_turns, s[1].last_activity()), (0, None));
    }
}

//! How two branches compare (`diff` / `:diff`): where their lineages part, and the first
//! turn where they differ.
//!
//! Two lineages share the turns with the same ids from their roots on: the last of those is
//! where they part (`fork_turn`). After it, the turns are paired by position; the first pair
//! whose prompts or replies differ (or where one branch has a turn and the other has none) is
//! the first difference. Branches that share no turn (two separate conversations) have no fork,
//! and their turns are paired from the first.

use super::branch;
use crate::ids::TurnId;
use crate::model::{Branch, Turn};
use crate::store::Store;
use anyhow::Result;
use serde_json::{json, Value};

/// One side of a comparison: a branch and its lineage, root first.
#[derive(Debug, Clone)]
pub struct Side {
    pub branch: Branch,
    pub turns: Vec<Turn>,
}

/// The branches named `a` and `b` with their lineages; a name that does not exist is an error
/// naming the nearest one.
pub fn sides(store: &Store, a: &str, b: &str) -> Result<(Side, Side)> {
    let branch_a = branch(store, a)?;
    let branch_b = branch(store, b)?;
    Ok((
        Side {
            branch: branch_a,
            turns: store.lineage(a)?,
        },
        Side {
            branch: branch_b,
            turns: store.lineage(b)?,
        },
    ))
}

/// How two lineages relate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// How many turns both lineages share (same ids from the root).
    pub common: usize,
    /// The last shared turn, or None.
    pub fork_turn: Option<TurnId>,
    /// The first position (0-based, in the lineages) where the turns differ in content, with
    /// the ids there (None where that branch has no turn); None when the lineages are equal.
    pub first_difference: Option<(usize, Option<TurnId>, Option<TurnId>)>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::fixtures::exchange as t;

    #[test]
    fn forked_branches_part_at_the_last_shared_turn() {
        let a = vec![t(1, "p1", "r1"), t(2, "p2", "r2"), t(3, "p3", "r3")];
        let b = vec![t(1, "p1", "r1"), t(2, "p2", "r2"), t(7, "p3 other", "r3")];
        let c = compare(&a, &b);
        assert_eq!(c.common, 2);
        assert_eq!(c.fork_turn, Some(TurnId(2)));
        assert_eq!(
            c.first_difference,
            Some((2, Some(TurnId(3)), Some(TurnId(7))))
        );
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
        assert_eq!(
            c.first_difference,
            Some((1, Some(TurnId(2)), Some(TurnId(5))))
        );
        assert!(diff_json(&a, &b)["fork_turn"].is_null());
    }

    #[test]
    fn equal_and_prefix_lineages() {
        let a = vec![t(1, "p", "r")];
        assert_eq!(compare(&a, &a).first_difference, None);
        let b = vec![t(1, "p", "r"), t(2, "q", "s")];
        assert_eq!(
            compare(&a, &b).first_difference,
            Some((1, None, Some(TurnId(2))))
        );
        assert!(diff_json(&a, &a)["first_difference"].is_null());
    }
}

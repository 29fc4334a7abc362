//! `:merge BRANCH [--focus TEXT]`: what another branch established, brought back into this
//! conversation as one turn of kind `merge`.
//!
//! The span merged is BRANCH's turns after the later of where it parted from the current
//! conversation and the head of BRANCH merged here last (so a branch merged twice contributes
//! only what came after the last merge). A headless fork of BRANCH's conversation
//! (`crate::headless`) distils that span; the person reviews the text; it is sent here.
//!
//! Each merge turn's source — the merged branch and the head it had — is kept in store meta
//! `merged:<turn id>`, and listed in meta `merges` for the tree's merge edges.

use crate::ids::{MetaKey, TurnId};
use crate::model::{Turn, TurnKind};
use crate::store::Store;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Where a merge turn's text came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub branch: String,
    /// The branch's head when it was merged.
    pub head: TurnId,
}

/// A merge edge: `source` was merged by turn `turn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub turn: TurnId,
    #[serde(flatten)]
    pub source: Source,
}

/// Remembers that merge turn `turn` brought `source` in.
pub fn remember(store: &Store, turn: TurnId, source: &Source) -> Result<()> {
    store.set_meta(&MetaKey::Merged(turn), serde_json::to_value(source)?)?;
    let mut edges = all_edges(store);
    edges.retain(|e| e.turn != turn);
    edges.push(Edge {
        turn,
        source: source.clone(),
    });
    store.set_meta(&MetaKey::Merges, serde_json::to_value(edges)?)
}

/// What merge turn `turn` brought in, if it is one.
pub fn source_of(store: &Store, turn: TurnId) -> Option<Source> {
    let value = store.get_meta(&MetaKey::Merged(turn)).ok()??;
    serde_json::from_value(value).ok()
}

fn all_edges(store: &Store) -> Vec<Edge> {
    store
        .get_meta(&MetaKey::Merges)
        .ok()
        .flatten()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The merge edges whose merge turn is still in the log, oldest first.
pub fn edges(store: &Store) -> Vec<Edge> {
    all_edges(store)
        .into_iter()
        .filter(|e| matches!(store.turn(e.turn), Ok(Some(_))))
        .collect()
}

/// The lines `ccx tree` and `:tree` add under the tree: one per merge edge.
pub fn edge_lines(store: &Store) -> Vec<String> {
    edges(store)
        .into_iter()
        .filter_map(|e| {
            let into = store.turn(e.turn).ok()??;
            Some(format!(
                "merge: {} #{} ─▶ {} #{}",
                e.source.branch, e.source.head, into.branch, e.turn
            ))
        })
        .collect()
}

/// `text` (a rendered tree) with the merge edges under it.
pub fn with_edges(store: &Store, mut text: String) -> String {
    let lines = edge_lines(store);
    if lines.is_empty() {
        return text;
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// The line `ccx show` and `:show` add for a merge turn.
pub fn show_line(store: &Store, turn: &Turn) -> Option<String> {
    if turn.kind != TurnKind::Merge {
        return None;
    }
    let source = source_of(store, turn.id)?;
    Some(format!(
        "merged from: {} (its head then: #{})",
        source.branch, source.head
    ))
}

/// What a merge brings: BRANCH's turns to distil, and the head it is at.
#[derive(Debug, Clone)]
pub struct Span {
    /// The last turn both conversations share (None: they share none).
    pub parted_at: Option<TurnId>,
    /// The head of BRANCH merged here last, when it was merged before.
    pub last_merged: Option<TurnId>,
    /// BRANCH's turns after both, oldest first (never empty).
    pub turns: Vec<Turn>,
}

impl Span {
    /// The turns it brings, as people read them: `turn #4`, or `turns #4–#7`.
    pub fn label(&self) -> String {
        let first = self.turns.first().map_or(TurnId(0), |t| t.id);
        let last = self.turns.last().map_or(TurnId(0), |t| t.id);
        if first == last {
            format!("turn #{first}")
        } else {
            format!("turns #{first}–#{last}")
        }
    }
}

/// The span of `branch` a merge into the conversation `ours` (the current branch's lineage)
/// would bring; one clear error when there is nothing to bring.
pub fn span(store: &Store, current: &str, ours: &[Turn], branch: &str) -> Result<Span> {
    if branch == current {
        bail!("cannot merge the current branch ({current}) into itself");
    }
    if store.branch(branch)?.is_none() {
        let names: Vec<String> = store.branches()?.into_iter().map(|b| b.name).collect();
        match crate::refs::nearest_name(branch, names.iter().map(String::as_str)) {
            Some(near) => bail!("no branch '{branch}' (did you mean '{near}'?)"),
            None => bail!("no branch '{branch}'"),
        }
    }
    let theirs = store.lineage(branch)?;
    let shared: std::collections::HashSet<TurnId> = ours.iter().map(|t| t.id).collect();
    let parted_at = theirs
        .iter()
        .rev()
        .find(|t| shared.contains(&t.id))
        .map(|t| t.id);
    let last_merged = ours
        .iter()
        .rev()
        .filter(|t| t.kind == TurnKind::Merge)
        .filter_map(|t| source_of(store, t.id))
        .find(|s| s.branch == branch)
        .map(|s| s.head);
    let after = |id: Option<TurnId>| id.and_then(|id| theirs.iter().position(|t| t.id == id));
    let start = after(parted_at)
        .max(after(last_merged))
        .map_or(0, |i| i + 1);
    let turns: Vec<Turn> = theirs[start.min(theirs.len())..].to_vec();
    if turns.is_empty() {
        match last_merged {
            Some(head) => {
                bail!("nothing new on {branch} since it was last merged here (at #{head})")
            }
            None => bail!("{branch} has no turns of its own since it parted from {current}"),
        }
    }
    Ok(Span {
        parted_at,
        last_merged,
        turns,
    })
}

/// What the headless fork of BRANCH is asked.
pub fn distil_request(branch: &str, span: &Span, focus: Option<&str>) -> String {
    let mut text = format!(
        "This conversation (branch {branch}) is about to be merged into another line of work that \
         has not seen its {}. Distil what it established, for \
         someone who continues the other line: decisions made and why; facts checked (what was \
         verified and how); dead ends, each with why it failed; the files that matter and the \
         commands that were run (with what they showed). Be concrete and brief. Write only the \
         distillation, no preamble.",
        span.label()
    );
    if let Some(focus) = focus.filter(|f| !f.trim().is_empty()) {
        text.push_str(&format!("\nFocus on: {}", focus.trim()));
    }
    text
}

/// The turn sent to the current conversation: the distillation, framed.
pub fn merge_prompt(branch: &str, span: &Span, text: &str) -> String {
    format!(
        "Findings merged from branch {branch} (its {}, worked on apart from this \
         conversation). Take them into account from now on:\n\n{}",
        span.label(),
        text.trim()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Branch, TurnEnd};

    fn turn(store: &Store, branch: &str, prompt: &str, kind: TurnKind) -> Turn {
        let t = crate::query::fixtures::begin_turn(store, branch, prompt, kind);
        store.finish_turn(t.id, TurnEnd::default()).unwrap()
    }

    fn fork(store: &Store, name: &str, from: &str, at: TurnId) {
        store
            .create_branch(Branch {
                name: name.into(),
                session_id: format!("s-{name}").into(),
                parent_branch: Some(from.into()),
                fork_turn: Some(at),
                head: Some(at),
                ..Default::default()
            })
            .unwrap();
    }

    #[test]
    fn a_merge_brings_what_came_after_the_parting_then_after_the_last_merge() {
        let (_dir, store) = crate::query::fixtures::store_with_main("s-main");
        let base = turn(&store, "main", "base", TurnKind::Prompt);
        fork(&store, "side", "main", base.id);
        let s1 = turn(&store, "side", "try A", TurnKind::Prompt);
        let s2 = turn(&store, "side", "A failed", TurnKind::Prompt);
        turn(&store, "main", "main work", TurnKind::Prompt);
        let ours = store.lineage("main").unwrap();

        let first = span(&store, "main", &ours, "side").unwrap();
        assert_eq!(first.parted_at, Some(base.id));
        let ids: Vec<TurnId> = first.turns.iter().map(|t| t.id).collect();
        assert_eq!(ids, [s1.id, s2.id]);

        let merge = turn(&store, "main", "merged", TurnKind::Merge);
        remember(
            &store,
            merge.id,
            &Source {
                branch: "side".into(),
                head: s2.id,
            },
        )
        .unwrap();
        let ours = store.lineage("main").unwrap();
        let err = span(&store, "main", &ours, "side").unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "nothing new on side since it was last merged here (at #{})",
                s2.id
            )
        );
        let s3 = turn(&store, "side", "B works", TurnKind::Prompt);
        let again = span(&store, "main", &ours, "side").unwrap();
        assert_eq!(
            again.turns.iter().map(|t| t.id).collect::<Vec<_>>(),
            [s3.id]
        );
        assert_eq!(again.last_merged, Some(s2.id));

        assert_eq!(
            edge_lines(&store),
            [format!("merge: side #{} ─▶ main #{}", s2.id, merge.id)]
        );
        assert!(span(&store, "main", &ours, "main")
            .unwrap_err()
            .to_string()
            .contains("into itself"));
        assert!(span(&store, "main", &ours, "sdie")
            .unwrap_err()
            .to_string()
            .contains("did you mean 'side'"));
    }

    #[test]
    fn the_request_and_the_prompt_name_the_span_and_the_focus() {
        let span = Span {
            parted_at: Some(TurnId(1)),
            last_merged: None,
            turns: vec![
                Turn {
                    id: TurnId(4),
                    ..Default::default()
                },
                Turn {
                    id: TurnId(7),
                    ..Default::default()
                },
            ],
        };
        let request = distil_request("side", &span, Some("the parser"));
        assert!(request.contains("#4–#7") && request.ends_with("Focus on: the parser"));
        let prompt = merge_prompt("side", &span, "  A failed; B works.\n");
        assert!(prompt.starts_with("Findings merged from branch side (its turns #4–#7"));
        assert!(prompt.ends_with("\n\nA failed; B works."));
        let one = Span {
            turns: span.turns[..1].to_vec(),
            ..span
        };
        assert_eq!(one.label(), "turn #4");
        assert!(merge_prompt("side", &one, "x").contains("(its turn #4, worked"));
    }
}

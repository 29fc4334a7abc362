//! `:btw QUESTION`: a side question answered by a headless fork of the current conversation
//! (`crate::headless`), so nothing enters the live context. The answer is kept as a turn of kind
//! `aside` on a side branch `btw-N` forked at the current head: listed, searchable, and
//! mergeable later with `:merge`.

use crate::branch_names::{self, NewBranch};
use crate::ids::{SessionId, TurnId};
use crate::model::{now_rfc3339, Branch, FinishedTurn, TurnEnd, TurnKind, TurnStart};
use crate::store::Store;
use anyhow::Result;

/// Keeps `question` and its `answer` as an `aside` turn on a new side branch forked from
/// `current` at `head`; returns the branch and the turn id.
pub fn keep(
    store: &Store,
    current: &str,
    head: Option<TurnId>,
    question: &str,
    answer: &str,
    typed: &str,
) -> Result<(String, TurnId)> {
    let session = SessionId::random();
    let now = now_rfc3339();
    let names = branch_names::candidates(NewBranch::Aside);
    let name = branch_names::create(store, names, |name| Branch {
        name,
        session_id: session.clone(),
        parent_branch: Some(current.to_string()),
        fork_turn: head,
        head,
        created_at: now.clone(),
    })?;
    let turn = FinishedTurn {
        start: TurnStart {
            branch: name.clone(),
            kind: TurnKind::Aside,
            prompt: question.to_string(),
            input: Some(typed.to_string()),
            session_id: session.clone(),
            started_at: now.clone(),
            ..Default::default()
        },
        end: TurnEnd {
            reply: answer.to_string(),
            ended_at: now_rfc3339(),
            est_tokens: crate::tokens::estimate_tokens(question)
                + crate::tokens::estimate_tokens(answer),
            ..Default::default()
        },
        entries: "[]".to_string(),
        source_key: session.to_string(),
        search_text: None,
    };
    let ids = store.import_turns(&name, &format!("aside:{session}"), vec![turn])?;
    let id = ids.first().copied().unwrap_or_default();
    Ok((name, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aside_is_a_turn_on_a_side_branch_and_searchable() {
        let (_dir, store) = crate::query::fixtures::store_with_main("s");
        let (name, id) = keep(
            &store,
            "main",
            None,
            "why zebra?",
            "Because stripes.",
            "btw why zebra?",
        )
        .unwrap();
        assert_eq!(name, "btw-1");
        let turn = store.turn(id).unwrap().unwrap();
        assert_eq!(turn.kind, TurnKind::Aside);
        assert_eq!(turn.branch, "btw-1");
        assert_eq!(turn.reply, "Because stripes.");
        let branch = store.branch("btw-1").unwrap().unwrap();
        assert_eq!(branch.parent_branch.as_deref(), Some("main"));
        assert_eq!(branch.head, Some(id));
        let found = store.search_candidates(&["stripes".into()]).unwrap();
        assert_eq!(found.len(), 1);
        let (second, _) = keep(&store, "main", None, "q", "a", "btw q").unwrap();
        assert_eq!(second, "btw-2");
    }
}

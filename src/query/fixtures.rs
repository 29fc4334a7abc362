//! Records for unit tests of the read side (query, render, turn references, read-only
//! meta-commands): a turn, a branch, an exchange, a turn's start; and an empty turn log in a
//! temporary folder.

use crate::ids::TurnId;
use crate::model::{Branch, Turn, TurnKind, TurnStart};
use crate::store::Store;
use tempfile::TempDir;

/// An empty turn log in a temporary folder that lives as long as the returned guard.
pub fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A turn log holding one branch, `main`, carried by session `session`, without turns.
pub fn store_with_main(session: &str) -> (TempDir, Store) {
    let (dir, store) = temp_store();
    store
        .create_branch(Branch {
            name: "main".into(),
            session_id: session.into(),
            ..Default::default()
        })
        .unwrap();
    (dir, store)
}

/// A finished prompt turn on `branch` after `parent`: started 2026-01-01 12:00:00 UTC, 3m10s
/// long, 45.2k context, 321 output and 40 estimated tokens, session `s`.
pub fn turn(id: u64, branch: &str, parent: Option<u64>, prompt: &str, reply: &str) -> Turn {
    Turn {
        id: TurnId(id),
        branch: branch.into(),
        parent: parent.map(TurnId),
        kind: TurnKind::Prompt,
        prompt: prompt.into(),
        reply: reply.into(),
        session_id: "s".into(),
        started_at: "2026-01-01T12:00:00Z".into(),
        ended_at: Some("2026-01-01T12:03:10Z".into()),
        context_tokens: 45_200,
        output_tokens: 321,
        est_tokens: 40,
        ..Default::default()
    }
}

/// A turn holding only a prompt and a reply, with `id` thousand tokens of context.
pub fn exchange(id: u64, prompt: &str, reply: &str) -> Turn {
    Turn {
        id: TurnId(id),
        prompt: prompt.into(),
        reply: reply.into(),
        context_tokens: id * 1000,
        ..Default::default()
    }
}

/// A branch forked from `parent` after `fork`, its head at `head`.
pub fn branch(name: &str, parent: Option<&str>, fork: Option<u64>, head: Option<u64>) -> Branch {
    Branch {
        name: name.into(),
        parent_branch: parent.map(str::to_string),
        fork_turn: fork.map(TurnId),
        head: head.map(TurnId),
        ..Branch::default()
    }
}

/// The start of a turn on `branch` with `prompt`, in session `s1`.
pub fn turn_start(branch: &str, prompt: &str) -> TurnStart {
    TurnStart {
        branch: branch.into(),
        prompt: prompt.into(),
        session_id: "s1".into(),
        ..TurnStart::default()
    }
}

/// Begins a turn of `kind` on `branch` (carried by session `s-BRANCH`) in `store`.
pub fn begin_turn(store: &Store, branch: &str, prompt: &str, kind: TurnKind) -> Turn {
    store
        .begin_turn(TurnStart {
            branch: branch.into(),
            kind,
            prompt: prompt.into(),
            session_id: format!("s-{branch}").into(),
            ..TurnStart::default()
        })
        .expect("a turn")
}

//! The steps the moves between conversations share (`:branch`, `:rewind`, `:checkout`,
//! `:clear`, `:brief`, `:replay`): resolve a turn, fork after it, start a fresh session. They
//! act only through [`SessionOps`], so they run the same against the live session and a fake.

use crate::branch_names::{self, NewBranch};
use crate::meta::ops::{SessionArg, SessionOps};
use crate::model::{now_rfc3339, Branch, Turn, TurnKind};
use crate::refs;
use crate::store::Store;
use anyhow::Result;

/// The turn `reference` names, HEAD meaning the head of `current`.
pub fn resolve(store: &Store, reference: &str, current: &str) -> Result<Turn> {
    let parsed = refs::parse_turn_ref(reference).map_err(|e| anyhow::anyhow!("{e}"))?;
    refs::resolve_turn_ref(store, &parsed, current)
}

/// Forks after `at` into a new branch `name` (its conversation rebuilt from the turn log) and
/// switches Claude to it.
pub fn fork(ops: &mut dyn SessionOps, store: &Store, name: &str, at: &Turn) -> Result<()> {
    let (session_id, history_ends_at) = ops.rebuild_session(store, at)?;
    store.create_branch(Branch {
        name: name.to_string(),
        session_id: session_id.clone(),
        parent_branch: Some(at.branch.clone()),
        fork_turn: Some(at.id),
        head: Some(at.id),
        created_at: now_rfc3339(),
    })?;
    ops.plan_branch(&session_id, name, history_ends_at);
    ops.switch_to(SessionArg::Resume(session_id))
}

/// The first prompt of a fresh session: its text, its kind, and what the person typed.
pub type FirstPrompt = (String, TurnKind, Option<String>);

/// A fresh session on a new branch named for `new`, optionally seeded with a first prompt.
pub fn fresh_session(
    ops: &mut dyn SessionOps,
    new: NewBranch<'_>,
    first: Option<FirstPrompt>,
) -> Result<String> {
    let store = ops.store()?;
    ops.ensure_idle(&store)?;
    let name = branch_names::free(&store, new)?;
    let session_id = ops.new_session_id();
    ops.plan_branch(&session_id, &name, None);
    ops.switch_to(SessionArg::New(session_id))?;
    if let Some((text, kind, input)) = first {
        ops.send_prompt(&text, kind, input);
    }
    Ok(format!("fresh session on new branch {name}"))
}

//! The read side: the questions ccx answers from the turn log — a branch's turns, one turn, the
//! branches with their fork points, how two branches compare, how full the context is, what an
//! export holds — answered as plain data (the store's records and small structs;
//! serde-serialisable where `--json` prints them). Nothing here formats text or touches the
//! terminal: [`crate::render`] turns the answers into text. The CLI subcommands
//! ([`crate::commands`]) and the meta-commands ([`crate::meta`]) both ask here.

pub mod branches;
pub mod context;
pub mod diff;
pub mod export;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod log;

use crate::model::{Branch, Turn};
use crate::refs;
use crate::store::Store;
use anyhow::Result;

/// The branch HEAD means outside a session: the one that last got a turn, else `main`.
pub fn current_branch(store: &Store) -> Result<String> {
    if let Some(serde_json::Value::String(name)) =
        store.get_meta(&crate::ids::MetaKey::CurrentBranch)?
    {
        return Ok(name);
    }
    Ok("main".to_string())
}

/// "no branch 'x'", with the nearest existing name when there is one.
pub fn no_branch(store: &Store, name: &str) -> anyhow::Error {
    let names: Vec<String> = store
        .branches()
        .map(|b| b.into_iter().map(|b| b.name).collect())
        .unwrap_or_default();
    match refs::nearest_name(name, names.iter().map(String::as_str)) {
        Some(near) => anyhow::anyhow!("no branch '{name}' (did you mean '{near}'?)"),
        None => anyhow::anyhow!("no branch '{name}'"),
    }
}

/// The branch record named `name`, or [`no_branch`].
pub fn branch(store: &Store, name: &str) -> Result<Branch> {
    store.branch(name)?.ok_or_else(|| no_branch(store, name))
}

/// The turn a reference (`12`, `#12`, `HEAD~2`, `BRANCH`, `BRANCH~N`) names; HEAD is the head
/// of `current`.
pub fn turn(store: &Store, reference: &str, current: &str) -> Result<Turn> {
    let parsed = refs::parse_turn_ref(reference).map_err(|e| anyhow::anyhow!("{e}"))?;
    refs::resolve_turn_ref(store, &parsed, current)
}

//! A branch's turns, as `ccx log` and `:log` list them: the branch's lineage (its own turns and
//! the ones it inherits across fork points), oldest first, optionally only the last N.

use super::{current_branch, no_branch};
use crate::model::Turn;
use crate::store::Store;
use anyhow::Result;

/// One project's turns for `ccx log`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectLog {
    /// The project's directory as a person would name it.
    pub project: String,
    pub turns: Vec<Turn>,
}

/// One branch's turns for `:log`: the last ones, and how many earlier ones were left out.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BranchLog {
    pub branch: String,
    pub turns: Vec<Turn>,
    pub earlier: usize,
}

/// Keeps the last `limit` turns (all without a limit); returns how many were dropped.
fn keep_last(turns: &mut Vec<Turn>, limit: Option<usize>) -> usize {
    let Some(n) = limit else { return 0 };
    let skip = turns.len().saturating_sub(n);
    turns.drain(..skip);
    skip
}

/// `ccx log`: per store, the lineage of `branch` (a store without it is an error, or with
/// `all` skipped); without a branch, every turn with `all`, else the current branch's lineage
/// (every turn when the current branch has no record yet). Only the last `limit` of each.
pub fn project_logs(
    stores: &[Store],
    branch: Option<&str>,
    all: bool,
    limit: Option<usize>,
) -> Result<Vec<ProjectLog>> {
    let mut logs = Vec::new();
    for store in stores {
        let mut turns = match (branch, all) {
            (Some(name), _) => {
                if store.branch(name)?.is_none() {
                    if all {
                        continue;
                    }
                    return Err(no_branch(store, name));
                }
                store.lineage(name)?
            }
            (None, true) => store.all_turns()?,
            (None, false) => {
                let name = current_branch(store)?;
                if store.branch(&name)?.is_some() {
                    store.lineage(&name)?
                } else {
                    store.all_turns()?
                }
            }
        };
        keep_last(&mut turns, limit);
        logs.push(ProjectLog {
            project: crate::paths::project_label(store.dir()),
            turns,
        });
    }
    Ok(logs)
}

/// `:log`: the lineage of `branch` (default `current`, the session's branch), its last `limit`
/// turns. A named branch that does not exist is an error; the session's own branch may have
/// no record yet (it gets one with its first turn) and then has no turns.
pub fn branch_log(
    store: &Store,
    branch: Option<&str>,
    current: &str,
    limit: Option<usize>,
) -> Result<BranchLog> {
    let name = branch.unwrap_or(current);
    let mut turns = if store.branch(name)?.is_some() {
        store.lineage(name)?
    } else if branch.is_none() {
        Vec::new()
    } else {
        return Err(no_branch(store, name));
    };
    let earlier = if turns.is_empty() {
        0
    } else {
        keep_last(&mut turns, limit)
    };
    Ok(BranchLog {
        branch: name.to_string(),
        turns,
        earlier,
    })
}

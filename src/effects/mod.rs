//! The effects journal: what every tool call did to the project's files, and restores that can
//! always be undone. `side` keeps snapshots in a side git repository owned by ccx (never the
//! person's), `journal` the per-project log of calls and restores, `hook` the `PreToolUse` /
//! `PostToolUse` hook that snapshots around each call within a budget (`finish`: a call's line
//! finished with its snapshot, and the upkeep after it; `handover`: the post hook's snapshot
//! finished by a detached child holding the lock), `restore` the restore
//! that never destroys, `turns` what a turn's calls are and how a restore is chosen from them.
//! A snapshot is taken in process by `scan`, from `worktree` (the files git would keep),
//! `stat_cache` (which of them changed), `objects` and `pack` (the objects it writes).

pub mod finish;
pub mod handover;
pub mod hook;
pub mod journal;
pub mod objects;
pub mod pack;
pub mod restore;
pub mod scan;
pub mod side;
pub mod stat_cache;
#[cfg(test)]
pub(crate) mod test_repos;
pub mod turns;
pub mod worktree;

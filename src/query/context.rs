//! How full a branch's context is ([`measure`]): the context now (the last finished turn with a
//! measured context), where it stands against the rot zone ([`Zone`]), and which turns filled
//! it. What a turn added is its context minus the previous measured turn's (`context_tokens` >
//! 0; an interrupted turn may have none). The largest turns are looked for only since the
//! context last shrank (a `/compact` or a fresh session), since earlier turns are no longer in
//! it one by one.

use crate::model::Turn;
use crate::store::Store;
use anyhow::Result;

/// Fraction of the rot zone from which the context counts as approaching it.
pub const APPROACH_FRACTION: f64 = 0.6;
/// A turn that added more than this fraction of the context now is a detour candidate.
pub const DETOUR_FRACTION: f64 = 0.25;
/// How many of the largest turns are listed.
pub const LARGEST: usize = 5;

/// Where the context stands against the rot zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Below [`APPROACH_FRACTION`] of the rot zone.
    Far,
    /// From [`APPROACH_FRACTION`] of the rot zone up to it.
    Approaching,
    /// At or past the rot zone.
    Inside,
}

/// Classifies `used` tokens against the rot zone (which starts at `rot_zone` tokens).
pub fn zone(used: u64, rot_zone: u64) -> Zone {
    if used >= rot_zone {
        Zone::Inside
    } else if used as f64 >= rot_zone as f64 * APPROACH_FRACTION {
        Zone::Approaching
    } else {
        Zone::Far
    }
}

/// A turn and what it added to the context.
#[derive(Debug, Clone, Copy)]
pub struct Added<'a> {
    pub turn: &'a Turn,
    pub added: u64,
    /// The first measured turn (of the branch, or since the context shrank): what it added
    /// includes Claude's own setup or the compacted summary, so it is no detour candidate.
    pub from_start: bool,
}

/// The context of a branch, measured.
#[derive(Debug, Clone)]
pub struct Measure<'a> {
    /// The last finished turn with a measured context.
    pub last: &'a Turn,
    /// Its context: the context now.
    pub used: u64,
    /// The context window (at least 1).
    pub window: u64,
    /// Where the rot zone starts, as configured.
    pub rot_zone: u64,
    /// The limit that matters: the rot zone, or the window's end when that comes first.
    pub zone_start: u64,
    /// The window ends before the rot zone (so `zone_start` is the window's end).
    pub window_first: bool,
    pub zone: Zone,
    /// The turns that added most since the context last shrank, largest first (at most
    /// [`LARGEST`]).
    pub largest: Vec<Added<'a>>,
    /// The largest of those that could be rewound away (not the first since the start).
    pub rewind_candidate: Option<Added<'a>>,
    /// That candidate added more than [`DETOUR_FRACTION`] of the context now.
    pub detour: bool,
}

/// What `:context` can say about a branch.
#[derive(Debug, Clone)]
pub enum ContextState<'a> {
    /// The branch has no turns yet.
    NoTurns,
    /// No finished turn has a measured context yet.
    Unmeasured,
    Measured(Measure<'a>),
}

/// The turns of `branch` that `:context` measures: its lineage, none while it has no record.
pub fn branch_turns(store: &Store, branch: &str) -> Result<Vec<Turn>> {
    if store.branch(branch)?.is_some() {
        store.lineage(branch)
    } else {
        Ok(Vec::new())
    }
}

/// Measures a branch's context from its turns (its lineage, oldest first) against `window`
/// and the rot zone starting at `rot_zone` tokens.
pub fn measure(turns_of_branch: &[Turn], window: u64, rot_zone: u64) -> ContextState<'_> {
    if turns_of_branch.is_empty() {
        return ContextState::NoTurns;
    }
    let measured: Vec<&Turn> = turns_of_branch
        .iter()
        .filter(|t| !t.is_running() && t.context_tokens > 0)
        .collect();
    let Some(last) = measured.last().copied() else {
        return ContextState::Unmeasured;
    };
    let used = last.context_tokens;
    let window = window.max(1);
    // When the window ends before the rot zone, the window's end is what matters.
    let zone_start = rot_zone.min(window);
    let largest = largest_since_shrink(&measured);
    let rewind_candidate = largest
        .iter()
        .find(|a| !a.from_start && a.turn.parent.is_some())
        .copied();
    let detour = rewind_candidate.is_some_and(|a| a.added as f64 > used as f64 * DETOUR_FRACTION);
    ContextState::Measured(Measure {
        last,
        used,
        window,
        rot_zone,
        zone_start,
        window_first: rot_zone >= window,
        zone: zone(used, zone_start),
        largest,
        rewind_candidate,
        detour,
    })
}

/// What each measured turn added since the context last shrank: the [`LARGEST`] that added
/// anything, largest first (the older first on ties).
fn largest_since_shrink<'a>(measured: &[&'a Turn]) -> Vec<Added<'a>> {
    let mut added: Vec<Added> = Vec::new();
    let mut prev: Option<u64> = None;
    for t in measured {
        match prev {
            Some(p) if t.context_tokens < p => added.clear(),
            _ => {}
        }
        let base = prev.filter(|p| *p <= t.context_tokens);
        added.push(Added {
            turn: t,
            added: t.context_tokens - base.unwrap_or(0),
            from_start: base.is_none(),
        });
        prev = Some(t.context_tokens);
    }
    added.retain(|a| a.added > 0);
    added.sort_by(|a, b| b.added.cmp(&a.added).then(a.turn.id.cmp(&b.turn.id)));
    added.truncate(LARGEST);
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_thresholds() {
        assert_eq!(zone(0, 300_000), Zone::Far);
        assert_eq!(zone(179_999, 300_000), Zone::Far);
        assert_eq!(zone(180_000, 300_000), Zone::Approaching);
        assert_eq!(zone(299_999, 300_000), Zone::Approaching);
        assert_eq!(zone(300_000, 300_000), Zone::Inside);
        assert_eq!(zone(900_000, 300_000), Zone::Inside);
        assert_eq!(zone(0, 0), Zone::Inside);
    }
}

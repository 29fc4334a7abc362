//! A turn's tool calls as the journal saw them, and the restores chosen from them:
//! `TURN[.CALL] --before|--after`, and the files as they stood after a turn (for `--code`).
//! Also the text `ccx effects` / `:effects` show. No terminal here.

use super::journal::{self, Call};
use super::restore::{short, Plan};
use super::side::{Change, SideRepo, UNHURRIED};
use crate::model::Turn;
use crate::render::Palette;
use anyhow::{bail, Result};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How much longer than a hook's budget a reader waits for a snapshot being finished.
const SETTLE_MARGIN: Duration = Duration::from_secs(5);

/// `TURN` or `TURN.CALL` as typed: the turn reference and the call number, if any.
pub fn split_call_ref(text: &str) -> Result<(String, Option<usize>)> {
    let text = text.trim();
    if let Some((turn, call)) = text.rsplit_once('.') {
        if !turn.is_empty() && !call.is_empty() && call.bytes().all(|b| b.is_ascii_digit()) {
            let number: usize = call
                .parse()
                .map_err(|_| anyhow::anyhow!("'{text}': the call number is too large"))?;
            if number == 0 {
                bail!("'{text}': calls are numbered from 1");
            }
            return Ok((turn.to_string(), Some(number)));
        }
    }
    Ok((text.to_string(), None))
}

/// The calls of `turn`, with the changes of any call whose hook ran out of time worked out.
pub fn calls_of(repo: &SideRepo, turn: &Turn) -> Result<Vec<Call>> {
    // A post hook's snapshot may still be finishing in the background, holding the lock
    // (`handover`): its line is written when the lock is free. Past the wait, read anyway.
    let settled = repo.lock(Instant::now() + super::finish::budget() + SETTLE_MARGIN);
    drop(settled);
    let records = journal::read_all(repo.dir())?;
    let mut calls = journal::calls_of_turn(&records, turn);
    for call in &mut calls {
        if let (Some(before), Some(after), true) =
            (&call.before, &call.after, call.changes.is_empty())
        {
            call.changes = repo
                .changes(before, after, Instant::now() + UNHURRIED)
                .unwrap_or_default();
        }
    }
    Ok(calls)
}

/// The restore of `TURN[.CALL]`: before (or after) the one call, or before the turn's first
/// call (after its last), over the files those calls changed — or over `paths` when given.
pub fn plan_for(
    turn: &Turn,
    calls: &[Call],
    call: Option<usize>,
    after: bool,
    paths: Vec<String>,
) -> Result<Plan> {
    let chosen: Vec<&Call> = match call {
        Some(n) => match calls.iter().find(|c| c.number == n) {
            Some(c) => vec![c],
            None if calls.is_empty() => bail!("turn #{} has no tool calls in the journal", turn.id),
            None => bail!(
                "turn #{} has no call {n} (it has {}: {}.1 to {}.{})",
                turn.id,
                calls.len(),
                turn.id,
                turn.id,
                calls.len()
            ),
        },
        None if calls.is_empty() => bail!("turn #{} has no tool calls in the journal", turn.id),
        None => calls.iter().collect(),
    };
    let (edge, tree) = if after {
        let last = chosen[chosen.len() - 1];
        (last, last.after.clone())
    } else {
        (chosen[0], chosen[0].before.clone())
    };
    let side = if after { "after" } else { "before" };
    let Some(target) = tree else {
        bail!(
            "call {}.{} was not snapshotted {side} it ({}); nothing was changed",
            turn.id,
            edge.number,
            edge.note.as_deref().unwrap_or("no snapshot")
        );
    };
    let scope = if paths.is_empty() {
        changed_paths(chosen.iter().copied())
    } else {
        paths
    };
    if scope.is_empty() {
        bail!(
            "{} changed no files; nothing to restore",
            describe(turn, call)
        );
    }
    Ok(Plan {
        target,
        scope,
        description: format!("{}, {side}", describe(turn, call)),
    })
}

fn describe(turn: &Turn, call: Option<usize>) -> String {
    match call {
        Some(n) => format!("call {}.{n}", turn.id),
        None => format!("turn #{}", turn.id),
    }
}

/// Every path the calls changed, sorted.
pub fn changed_paths<'a>(calls: impl IntoIterator<Item = &'a Call>) -> Vec<String> {
    let set: BTreeSet<String> = calls
        .into_iter()
        .flat_map(|c| c.changes.iter().map(|ch| ch.path.clone()))
        .collect();
    set.into_iter().collect()
}

/// The restore that puts the files back as they stood when `at` ended, over every file the
/// calls of `undone` changed (the turns being left: after `at` on the branch, or on either
/// side of a checkout). The target is `at`'s own end-of-turn snapshot; without one (a turn
/// recorded before ccx took them), with `rewinding`, the tree before the first snapshotted
/// call of `undone` (oldest first). None when those calls changed no file.
pub fn plan_back_to(
    repo: &SideRepo,
    at: &Turn,
    undone: &[Turn],
    rewinding: bool,
) -> Result<Option<Plan>> {
    let mut calls = Vec::new();
    for turn in undone {
        calls.extend(calls_of(repo, turn)?);
    }
    let scope = changed_paths(&calls);
    if scope.is_empty() {
        return Ok(None);
    }
    let own = at.snapshot.clone().filter(|tree| repo.has_tree(tree));
    let first = calls.iter().find_map(|c| c.before.clone());
    let target = match (own, first) {
        (Some(tree), _) => tree,
        (None, Some(tree)) if rewinding => tree,
        _ => bail!(
            "turn #{} has no snapshot in the effects journal; nothing was changed",
            at.id
        ),
    };
    Ok(Some(Plan {
        target,
        scope,
        description: format!("the files as after #{}", at.id),
    }))
}

/// Runs [`plan_back_to`] in `project`'s side repository (`--code` of `:rewind` and
/// `:checkout`): what to tell the person, and the change for the moves history.
pub fn restore_back_to(
    project: &std::path::Path,
    at: &Turn,
    undone: &[Turn],
    rewinding: bool,
) -> Result<(String, Option<crate::moves::CodeChange>)> {
    let repo = SideRepo::for_project(project)?;
    let Some(plan) = plan_back_to(&repo, at, undone, rewinding)? else {
        return Ok((
            format!(
                "no files to restore: no tool call since #{} changed any",
                at.id
            ),
            None,
        ));
    };
    let report = super::restore::restore(&repo, &plan)?;
    Ok((
        report.summary(),
        crate::moves::CodeChange::from_report(&report),
    ))
}

/// The text of one turn's calls: each with its tool and subject, then its files.
pub fn render_calls(turn: &Turn, calls: &[Call], p: Palette) -> String {
    if calls.is_empty() {
        return format!(
            "turn #{}: no tool calls recorded by the effects journal\n",
            turn.id
        );
    }
    let mut out = String::new();
    for call in calls {
        let subject: String = call
            .subject
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(100)
            .collect();
        out.push_str(&format!(
            "{}  {}  {}\n",
            p.id(&format!("{}.{}", turn.id, call.number)),
            p.strong(&call.tool),
            subject
        ));
        if let Some(note) = &call.note {
            out.push_str(&format!("    {}\n", p.warn(note)));
        }
        if call.snapshotted() && call.changes.is_empty() {
            out.push_str(&format!("    {}\n", p.dim("no files changed")));
        }
        for Change { verb, path } in &call.changes {
            out.push_str(&format!("    {:<9} {path}\n", verb.as_str()));
        }
        for skipped in &call.skipped {
            out.push_str(&format!(
                "    {} {skipped}\n",
                p.dim("too large, not snapshotted:")
            ));
        }
        if let (Some(before), Some(after)) = (&call.before, &call.after) {
            out.push_str(&format!(
                "    {}\n",
                p.dim(&format!("trees {} → {}", short(before), short(after)))
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::side::Verb;
    use crate::ids::TurnId;

    fn call(number: usize, before: Option<&str>, after: Option<&str>, paths: &[&str]) -> Call {
        Call {
            number,
            id: format!("t{number}"),
            tool: "Bash".into(),
            subject: "x".into(),
            started_at: String::new(),
            before: before.map(str::to_string),
            after: after.map(str::to_string),
            changes: paths
                .iter()
                .map(|p| Change {
                    verb: Verb::Modified,
                    path: p.to_string(),
                })
                .collect(),
            skipped: Vec::new(),
            note: None,
        }
    }

    #[test]
    fn call_references() {
        assert_eq!(split_call_ref("HEAD.1").unwrap(), ("HEAD".into(), Some(1)));
        assert_eq!(split_call_ref("#12.3").unwrap(), ("#12".into(), Some(3)));
        assert_eq!(split_call_ref("12").unwrap(), ("12".into(), None));
        assert_eq!(split_call_ref("v1.x").unwrap(), ("v1.x".into(), None));
        assert!(split_call_ref("HEAD.0").is_err());
    }

    #[test]
    fn plans_pick_the_tree_and_the_files() {
        let turn = Turn {
            id: TurnId(7),
            ..Default::default()
        };
        let calls = [
            call(1, Some("A"), Some("B"), &["x"]),
            call(2, Some("B"), Some("C"), &["y"]),
        ];
        let plan = plan_for(&turn, &calls, Some(2), false, Vec::new()).unwrap();
        assert_eq!(
            (plan.target.as_str(), plan.scope.clone()),
            ("B", vec!["y".to_string()])
        );
        let plan = plan_for(&turn, &calls, None, false, Vec::new()).unwrap();
        assert_eq!((plan.target.as_str(), plan.scope.len()), ("A", 2));
        let plan = plan_for(&turn, &calls, None, true, vec!["x".into()]).unwrap();
        assert_eq!(
            (plan.target.as_str(), plan.scope.clone()),
            ("C", vec!["x".to_string()])
        );
        let err = plan_for(&turn, &calls, Some(9), false, Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "turn #7 has no call 9 (it has 2: 7.1 to 7.2)"
        );
        let unsnapped = [call(1, None, Some("B"), &["x"])];
        let err = plan_for(&turn, &unsnapped, Some(1), false, Vec::new()).unwrap_err();
        assert!(err.to_string().contains("not snapshotted before"), "{err}");
    }
}

//! `ccx effects`, `ccx restore`, `ccx undo` and `ccx history`: the effects journal and the moves
//! history from the command line (the same engine as `:effects`, `:restore`, `:undo`,
//! `:history`).

use super::{open_here, print_json};
use crate::effects::restore;
use crate::effects::side::SideRepo;
use crate::effects::turns;
use crate::model::Turn;
use crate::moves;
use crate::query::current_branch;
use crate::refs;
use crate::render::Palette;
use crate::store::Store;
use anyhow::{Context, Result};

fn project_repo() -> Result<SideRepo> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    SideRepo::for_project(&cwd)
}

fn resolve(store: &Store, reference: &str) -> Result<Turn> {
    let parsed = refs::parse_turn_ref(reference).map_err(|e| anyhow::anyhow!("{e}"))?;
    refs::resolve_turn_ref(store, &parsed, &current_branch(store)?)
}

/// `ccx effects [TURN] [--json] [--diff]`.
pub fn effects(turn: Option<String>, json: bool, diff: bool) -> Result<i32> {
    let store = open_here()?;
    let turn = resolve(&store, turn.as_deref().unwrap_or("HEAD"))?;
    let repo = project_repo()?;
    let calls = turns::calls_of(&repo, &turn)?;
    if json {
        let listed: Vec<serde_json::Value> = calls
            .iter()
            .map(|call| {
                let mut value = serde_json::to_value(call).unwrap_or_default();
                value["turn"] = turn.id.get().into();
                if diff {
                    value["diff"] = call_diff(&repo, call).into();
                }
                value
            })
            .collect();
        return print_json(&listed).map(|_| 0);
    }
    print!(
        "{}",
        effects_text(&repo, &turn, &calls, diff, Palette::for_stdout())
    );
    Ok(0)
}

/// What `ccx effects` and `:effects` show: each call with its files, and with `diff` its patch.
pub fn effects_text(
    repo: &SideRepo,
    turn: &Turn,
    calls: &[crate::effects::journal::Call],
    diff: bool,
    palette: Palette,
) -> String {
    if !diff || calls.is_empty() {
        return turns::render_calls(turn, calls, palette);
    }
    let mut text = String::new();
    for call in calls {
        text.push_str(&turns::render_calls(
            turn,
            std::slice::from_ref(call),
            palette,
        ));
        text.push_str(&call_diff(repo, call));
    }
    text
}

/// `:effects [TURN] [--diff]` in a session: the text to show.
pub fn effects_in(
    store: &Store,
    reference: Option<&str>,
    diff: bool,
    branch: &str,
    palette: Palette,
) -> Result<String> {
    let parsed =
        refs::parse_turn_ref(reference.unwrap_or("HEAD")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let turn = refs::resolve_turn_ref(store, &parsed, branch)?;
    let repo = project_repo()?;
    let calls = turns::calls_of(&repo, &turn)?;
    Ok(effects_text(&repo, &turn, &calls, diff, palette)
        .trim_end()
        .to_string())
}

fn call_diff(repo: &SideRepo, call: &crate::effects::journal::Call) -> String {
    match (&call.before, &call.after) {
        (Some(before), Some(after)) => repo
            .diff(before, after, &[])
            .unwrap_or_else(|e| format!("(no diff: {e:#})\n")),
        _ => String::new(),
    }
}

/// `ccx restore TURN[.CALL] [--before|--after] [PATHS...]`.
pub fn restore(target: &str, after: bool, paths: &[String]) -> Result<i32> {
    let store = open_here()?;
    let repo = project_repo()?;
    let summary = restore_in(
        &store,
        &repo,
        target,
        after,
        paths,
        &current_branch(&store)?,
    )?;
    println!("{summary}");
    Ok(0)
}

/// The restore behind `ccx restore` and `:restore`: resolves `TURN[.CALL]` on `branch`, checks
/// the paths, restores and records the move. Returns the line to show.
pub fn restore_in(
    store: &Store,
    repo: &SideRepo,
    target: &str,
    after: bool,
    paths: &[String],
    branch: &str,
) -> Result<String> {
    let (reference, call) = turns::split_call_ref(target)?;
    let parsed = refs::parse_turn_ref(&reference).map_err(|e| anyhow::anyhow!("{e}"))?;
    let turn = refs::resolve_turn_ref(store, &parsed, branch)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let scope = paths
        .iter()
        .map(|p| crate::effects::side::project_relative(repo.work_tree(), &cwd, p))
        .collect::<Result<Vec<_>>>()?;
    let calls = turns::calls_of(repo, &turn)?;
    let plan = turns::plan_for(&turn, &calls, call, after, scope)?;
    let report = restore::restore(repo, &plan)?;
    let summary = report.summary();
    let mut mv = moves::new_move(
        "restore",
        None,
        None,
        format!("{}: {summary}", plan.description),
    );
    mv.code = moves::CodeChange::from_report(&report);
    if mv.code.is_some() {
        moves::record(store, mv)?;
        return Ok(format!("{summary} (:undo or ccx undo puts them back)"));
    }
    Ok(summary)
}

/// `ccx undo`: undoes the last move when it only touched files (a conversation switch needs
/// the running session: `:undo`).
pub fn undo() -> Result<i32> {
    let store = open_here()?;
    let repo = project_repo()?;
    println!("{}", moves::undo(&store, &repo, None)?);
    Ok(0)
}

/// `ccx history [--json]`.
pub fn history(json: bool) -> Result<i32> {
    let store = open_here()?;
    let all = moves::all(&store)?;
    if json {
        return print_json(&all).map(|_| 0);
    }
    print!(
        "{}",
        moves::render_history(&all, chrono::Utc::now(), Palette::for_stdout())
    );
    Ok(0)
}

/// The tool calls of `turn` under `ccx show`, when the journal has any.
pub fn calls_text(turn: &Turn, palette: Palette) -> String {
    let Ok(repo) = project_repo() else {
        return String::new();
    };
    let calls = turns::calls_of(&repo, turn).unwrap_or_default();
    if calls.is_empty() {
        return String::new();
    }
    format!(
        "{}\n{}",
        palette.dim("tool calls:"),
        turns::render_calls(turn, &calls, palette)
    )
}

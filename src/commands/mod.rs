//! The ccx subcommands that read the turn log (`log`, `show`) and check the set-up (`doctor`).

pub mod diff;
pub mod doctor;
pub mod export;
pub mod export_html;
pub mod import;
pub mod render;
pub mod replay;
pub mod search;

use crate::model::{Branch, Turn};
use crate::refs;
use crate::store::Store;
use anyhow::{Context, Result};
use render::Palette;
use std::io::Write;

/// The branch HEAD means outside a session: the one that last got a turn, else `main`.
pub fn current_branch(store: &Store) -> Result<String> {
    if let Some(serde_json::Value::String(name)) = store.get_meta("current_branch")? {
        return Ok(name);
    }
    Ok("main".to_string())
}

fn open_here() -> Result<Store> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    crate::session::open_store(&cwd)
}

fn terminal_width() -> usize {
    crate::terminal::size(1)
        .map(|(_, cols)| cols as usize)
        .unwrap_or(100)
}

/// Standard output, buffered: a listing of thousands of turns goes out in a few large writes
/// instead of one per line. Call `flush` at the end to see a write error.
pub fn buffered_stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = buffered_stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// This project's store, or with `all` every project's.
pub fn open_stores(all: bool) -> Result<Vec<Store>> {
    if !all {
        return Ok(vec![open_here()?]);
    }
    let data = crate::paths::data_dir()?;
    crate::store::list_project_stores(&data)
        .iter()
        .map(|dir| Store::open(dir))
        .collect()
}

/// `ccx log [--branch B] [--all] [--json] [-n N]`.
pub fn log(branch: Option<String>, all: bool, json: bool, limit: Option<usize>) -> Result<i32> {
    let stores = open_stores(all)?;
    let mut listed: Vec<(Store, Vec<Turn>)> = Vec::new();
    for store in stores {
        let mut turns = match (&branch, all) {
            (Some(name), _) => {
                if store.branch(name)?.is_none() {
                    if all {
                        continue;
                    }
                    return Err(no_branch(&store, name));
                }
                store.lineage(name)?
            }
            (None, true) => store.all_turns()?,
            (None, false) => {
                let name = current_branch(&store)?;
                if store.branch(&name)?.is_some() {
                    store.lineage(&name)?
                } else {
                    store.all_turns()?
                }
            }
        };
        if let Some(n) = limit {
            let skip = turns.len().saturating_sub(n);
            turns.drain(..skip);
        }
        listed.push((store, turns));
    }
    if json {
        let all_turns: Vec<&Turn> = listed.iter().flat_map(|(_, t)| t.iter()).collect();
        return print_json(&all_turns).map(|_| 0);
    }
    let palette = Palette::for_stdout();
    let now = chrono::Utc::now();
    let width = terminal_width();
    let mut out = buffered_stdout();
    let mut any = false;
    for (store, turns) in &listed {
        if all && !turns.is_empty() {
            writeln!(
                out,
                "{}",
                palette.strong(&crate::paths::project_label(store.dir()))
            )?;
        }
        for turn in turns {
            any = true;
            writeln!(out, "{}", render::turn_line(turn, now, width, palette))?;
        }
    }
    if !any {
        writeln!(out, "no turns recorded yet")?;
    }
    out.flush()?;
    Ok(0)
}

/// `ccx show TURN [--json]`.
pub fn show(reference: &str, json: bool) -> Result<i32> {
    let store = open_here()?;
    let parsed = refs::parse_turn_ref(reference).map_err(|e| anyhow::anyhow!("{e}"))?;
    let turn = refs::resolve_turn_ref(&store, &parsed, &current_branch(&store)?)?;
    if json {
        return print_json(&turn).map(|_| 0);
    }
    let palette = Palette::for_stdout();
    print!("{}", render::turn_full(&turn, palette));
    if let Some(line) = crate::merge::show_line(&store, &turn) {
        println!("{line}");
    }
    Ok(0)
}

/// `ccx tree [--json]`.
pub fn tree(json: bool) -> Result<i32> {
    let code = branches_view(json, crate::meta::tree::render_tree)?;
    if !json {
        print!("{}", crate::merge::with_edges(&open_here()?, String::new()));
    }
    Ok(code)
}

/// `ccx sessions [--json]`.
pub fn sessions(json: bool) -> Result<i32> {
    branches_view(json, |branches, turns, current, now, palette| {
        render::sessions_table(branches, turns, Some(current), now, palette)
    })
}

/// The project's branch records as JSON, or rendered by `render` (branches, all turns, the
/// current branch, now, colours).
fn branches_view(
    json: bool,
    render: impl FnOnce(&[Branch], &[Turn], &str, chrono::DateTime<chrono::Utc>, Palette) -> String,
) -> Result<i32> {
    let store = open_here()?;
    let branches = store.branches()?;
    if json {
        return print_json(&branches).map(|_| 0);
    }
    let current = current_branch(&store)?;
    let text = render(
        &branches,
        &store.all_turns()?,
        &current,
        chrono::Utc::now(),
        Palette::for_stdout(),
    );
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(0)
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

//! The ccx subcommands: each parses nothing (clap did), asks [`crate::query`] for the data,
//! prints it as JSON or as [`crate::render`]'s text, and returns the exit code. `log`, `show`,
//! `tree` and `sessions` are here; the others have a module each.

pub mod diff;
pub mod doctor;
pub mod effects;
pub mod export;
pub mod import;
pub mod replay;
pub mod search;

use crate::query;
use crate::render::{self, RenderCtx};
use crate::store::Store;
use anyhow::{Context, Result};
use std::io::Write;

fn open_here() -> Result<Store> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    crate::store::open_project(&cwd)
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

/// Prints `text` to standard output, ending it with a newline when it has none.
fn print_text(text: &str) -> Result<()> {
    let mut out = buffered_stdout();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
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
    let logs = query::log::project_logs(&stores, branch.as_deref(), all, limit)?;
    if json {
        let turns: Vec<&crate::model::Turn> = logs.iter().flat_map(|l| l.turns.iter()).collect();
        return print_json(&turns).map(|_| 0);
    }
    print_text(&render::turns::project_logs(
        &logs,
        all,
        &RenderCtx::for_stdout(),
    ))?;
    Ok(0)
}

/// `ccx show TURN [--json]`.
pub fn show(reference: &str, json: bool) -> Result<i32> {
    let store = open_here()?;
    let turn = query::turn(&store, reference, &query::current_branch(&store)?)?;
    if json {
        return print_json(&turn).map(|_| 0);
    }
    let palette = render::Palette::for_stdout();
    // One write of the whole text: a reader that goes away early (`ccx show 3 | head`) is an
    // error `main` ends quietly, never a panic of `println!`.
    let mut text = render::turns::turn_full(&turn, palette);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&effects::calls_text(&turn, palette));
    if let Some(line) = crate::merge::show_line(&store, &turn) {
        text.push_str(&line);
        text.push('\n');
    }
    print_text(&text)?;
    Ok(0)
}

/// `ccx tree [--json]`.
pub fn tree(json: bool) -> Result<i32> {
    let code = branches_view(json, |branches, turns, current, ctx| {
        render::branches::render_tree(branches, turns, current, ctx)
    })?;
    if !json {
        let edges = crate::merge::with_edges(&open_here()?, String::new());
        if !edges.is_empty() {
            print_text(&edges)?;
        }
    }
    Ok(code)
}

/// `ccx sessions [--json]`.
pub fn sessions(json: bool) -> Result<i32> {
    branches_view(json, |branches, turns, current, ctx| {
        render::branches::sessions_table(branches, turns, Some(current), ctx)
    })
}

/// The project's branch records as JSON, or rendered by `render` (branches, all turns, the
/// current branch, the render context).
fn branches_view(
    json: bool,
    render: impl FnOnce(&[crate::model::Branch], &[crate::model::Turn], &str, &RenderCtx) -> String,
) -> Result<i32> {
    let store = open_here()?;
    if json {
        return print_json(&store.branches()?).map(|_| 0);
    }
    let (branches, turns) = query::branches::load(&store)?;
    let current = query::current_branch(&store)?;
    print_text(&render(
        &branches,
        &turns,
        &current,
        &RenderCtx::for_stdout(),
    ))?;
    Ok(0)
}

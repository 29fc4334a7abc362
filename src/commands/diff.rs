//! `ccx diff A B [--json]`: where two branches part, and how they went on from there. The
//! comparison is [`crate::query::diff`]'s, the text [`crate::render::diff`]'s.

use crate::query::diff::{diff_json, sides};
use crate::render::{diff::render_diff, RenderCtx};
use anyhow::Result;
use std::io::Write;

/// `ccx diff A B [--json]`.
pub fn run(a: &str, b: &str, json: bool) -> Result<i32> {
    let store = super::open_here()?;
    let (side_a, side_b) = sides(&store, a, b)?;
    if json {
        return super::print_json(&diff_json(&side_a.turns, &side_b.turns)).map(|_| 0);
    }
    let mut out = super::buffered_stdout();
    write!(
        out,
        "{}",
        render_diff(&side_a, &side_b, &RenderCtx::for_stdout())
    )?;
    out.flush()?;
    Ok(0)
}

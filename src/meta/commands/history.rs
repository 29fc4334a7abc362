//! `:history`: the moves ccx made (switches, checkouts, rewinds, clears, briefs, restores,
//! undos), with what each changed.

use crate::meta::exec::ShellContext;

meta_command! {
    History; read: history,
    usage: ":history", summary: "the moves ccx made, with what each changed",
    details: "Lists the moves (branch switches, checkouts, rewinds, clears, briefs, restores \
              and undos), oldest first, with their age, what each did and how many files it \
              changed. :undo undoes the last one.",
}

/// The moves of the turn log, oldest first.
fn history(ctx: &ShellContext) -> Result<String, String> {
    crate::moves::all(ctx.store)
        .map(|moves| {
            crate::moves::render_history(&moves, chrono::Utc::now(), ctx.palette)
                .trim_end()
                .to_string()
        })
        .map_err(|e| format!("{e:#}"))
}

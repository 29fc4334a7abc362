//! `:history`: the moves ccx made (switches, checkouts, rewinds, clears, briefs, restores,
//! undos), with what each changed.

use super::{read_text, CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "history",
    aliases: &[],
    usage: ":history",
    summary: "the moves ccx made, with what each changed",
    details: "Lists the moves (branch switches, checkouts, rewinds, clears, briefs, restores \
              and undos), oldest first, with their age, what each did and how many files it \
              changed. :undo undoes the last one.",
    needs_session: false,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(History))
}

impl MetaCommand for History {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| {
            crate::moves::all(ctx.store)
                .map(|moves| {
                    crate::moves::render_history(&moves, chrono::Utc::now(), ctx.palette)
                        .trim_end()
                        .to_string()
                })
                .map_err(|e| format!("{e:#}"))
        })
    }
}

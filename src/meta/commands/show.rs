//! `:show TURN`: one turn in full.

use super::{read_text, CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{exactly, split_args, turn_arg, MetaError, Word};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "show",
    aliases: &[],
    usage: ":show TURN",
    summary: "one turn in full",
    details: "Shows one turn in full: branch, parent, kind, session, times, tokens, files, \
              snapshot, what was typed, the prompt and the reply. TURN is 12 or #12, HEAD, \
              HEAD~N, BRANCH or BRANCH~N.",
    needs_session: false,
    flags: &[],
    parser: Parser::Words(parse),
};

/// The turn reference as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Show {
    pub turn: String,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = split_args(SPEC.name, words, &[])?;
    exactly(SPEC.name, &p, &["TURN"], ":show HEAD~1")?;
    Ok(Box::new(Show {
        turn: turn_arg(SPEC.name, &p.positionals[0])?,
    }))
}

impl MetaCommand for Show {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| exec::show(&self.turn, ctx))
    }
}

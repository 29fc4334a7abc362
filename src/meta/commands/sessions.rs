//! `:sessions`: the project's branches and the Claude sessions carrying them.

use super::{read_text, CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "sessions",
    aliases: &[],
    usage: ":sessions",
    summary: "branches and sessions: turns, tokens, last activity",
    details: "Lists the project's branches and the Claude sessions carrying them, with their \
              turns, tokens and last activity.",
    needs_session: false,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sessions;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(Sessions))
}

impl MetaCommand for Sessions {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, exec::sessions)
    }
}

//! `:quit`: ends Claude and ccx.

use super::{CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "quit",
    aliases: &["q", "exit"],
    usage: ":quit",
    summary: "end Claude and ccx",
    details: "Ends Claude and ccx.",
    needs_session: false,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quit;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(Quit))
}

impl MetaCommand for Quit {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    /// Needs nothing of the turn log: ends Claude and ccx whatever its state.
    fn run(&self, _ops: &mut dyn SessionOps) -> Outcome {
        Outcome::Quit
    }
}

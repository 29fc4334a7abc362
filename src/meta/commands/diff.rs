//! `:diff BRANCH_A BRANCH_B`: where two branches part, and their outcomes side by side.

use super::{read_text, CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{exactly, split_args, MetaError, Word};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "diff",
    aliases: &[],
    usage: ":diff BRANCH_A BRANCH_B",
    summary: "where two branches part, outcomes side by side",
    details: "Shows the turn where two branches part, and their outcomes side by side: last \
              replies, tokens and files changed.",
    needs_session: false,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub a: String,
    pub b: String,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = split_args(SPEC.name, words, &[])?;
    exactly(SPEC.name, &p, &["BRANCH_A", "BRANCH_B"], ":diff main try-b")?;
    let mut it = p.positionals.into_iter();
    Ok(Box::new(Diff {
        a: it.next().unwrap_or_default(),
        b: it.next().unwrap_or_default(),
    }))
}

impl MetaCommand for Diff {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| exec::diff(&self.a, &self.b, ctx))
    }
}

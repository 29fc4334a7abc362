//! `:tree`: every branch as a tree with its fork point.

use super::{read_text, CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "tree",
    aliases: &[],
    usage: ":tree",
    summary: "all branches as a tree with their fork points",
    details: "Shows every branch of the project as a tree: children under the branch they \
              forked from, with the turn they forked after, their head turn, their number of \
              turns and the age of their head. The current branch is marked with *.",
    needs_session: false,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(Tree))
}

impl MetaCommand for Tree {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, exec::tree)
    }
}

//! `:diff BRANCH_A BRANCH_B`: where two branches part, and their outcomes side by side.

use super::{read_text, Parsed, Parser};
use crate::meta::args::{exact_words, MetaError, Word};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Diff, run: Diff::outcome,
    name: "diff", usage: ":diff BRANCH_A BRANCH_B",
    summary: "where two branches part, outcomes side by side",
    details: "Shows the turn where two branches part, and their outcomes side by side: last \
              replies, tokens and files changed.",
    parser: Parser::Words(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub a: String,
    pub b: String,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let [a, b] = exact_words(
        SPEC.name,
        words,
        ["BRANCH_A", "BRANCH_B"],
        ":diff main try-b",
    )?;
    Ok(Box::new(Diff { a, b }))
}

impl Diff {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| exec::diff(&self.a, &self.b, ctx))
    }
}

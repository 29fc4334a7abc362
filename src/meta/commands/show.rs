//! `:show TURN`: one turn in full.

use super::{read_text, Parsed, Parser};
use crate::meta::args::{exact_words, turn_arg, MetaError, Word};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Show, run: Show::outcome,
    name: "show", usage: ":show TURN",
    summary: "one turn in full",
    details: "Shows one turn in full: branch, parent, kind, session, times, tokens, files, \
              snapshot, what was typed, the prompt and the reply. TURN is 12 or #12, HEAD, \
              HEAD~N, BRANCH or BRANCH~N.",
    parser: Parser::Words(parse),
}

/// The turn reference as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Show {
    pub turn: String,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let [turn] = exact_words(SPEC.name, words, ["TURN"], ":show HEAD~1")?;
    let turn = turn_arg(SPEC.name, &turn)?;
    Ok(Box::new(Show { turn }))
}

impl Show {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| exec::show(&self.turn, ctx))
    }
}

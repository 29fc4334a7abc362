//! `:sessions`: the project's branches and the Claude sessions carrying them.

use super::{bare, read_text, Parser};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Sessions, run: Sessions::outcome,
    name: "sessions", usage: ":sessions",
    summary: "branches and sessions: turns, tokens, last activity",
    details: "Lists the project's branches and the Claude sessions carrying them, with their \
              turns, tokens and last activity.",
    parser: Parser::Words(bare::<Sessions>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sessions;

impl Sessions {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, exec::sessions)
    }
}

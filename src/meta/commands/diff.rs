//! `:diff BRANCH_A BRANCH_B`: where two branches part, and their outcomes side by side.

use super::read_text;
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Diff { a, b }, example: ":diff main try-b", run: Diff::outcome,
    usage: ":diff BRANCH_A BRANCH_B", summary: "where two branches part, outcomes side by side",
    details: "Shows the turn where two branches part, and their outcomes side by side: last \
              replies, tokens and files changed.",
}

impl Diff {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| exec::diff(&self.a, &self.b, ctx))
    }
}

//! `:show TURN`: one turn in full.

use super::read_text;
use crate::meta::args::turn_arg;
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Show { turn: turn_arg }, example: ":show HEAD~1", run: Show::outcome,
    usage: ":show TURN", summary: "one turn in full",
    details: "Shows one turn in full: branch, parent, kind, session, times, tokens, files, \
              snapshot, what was typed, the prompt and the reply. TURN is 12 or #12, HEAD, \
              HEAD~N, BRANCH or BRANCH~N.",
}

impl Show {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| exec::show(&self.turn, ctx))
    }
}

//! `:quit`: ends Claude and ccx.

use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Quit; run: Quit::outcome,
    usage: ":quit", aliases: &["q", "exit"], summary: "end Claude and ccx",
    details: "Ends Claude and ccx.",
}

impl Quit {
    /// Needs nothing of the turn log: ends Claude and ccx whatever its state.
    fn outcome(&self, _ops: &mut dyn SessionOps) -> Outcome {
        Outcome::Quit
    }
}

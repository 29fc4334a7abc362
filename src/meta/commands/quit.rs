//! `:quit`: ends Claude and ccx.

use super::{bare, Parser};
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Quit, run: Quit::outcome,
    name: "quit", usage: ":quit",
    aliases: &["q", "exit"],
    summary: "end Claude and ccx",
    details: "Ends Claude and ccx.",
    parser: Parser::Words(bare::<Quit>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quit;

impl Quit {
    /// Needs nothing of the turn log: ends Claude and ccx whatever its state.
    fn outcome(&self, _ops: &mut dyn SessionOps) -> Outcome {
        Outcome::Quit
    }
}

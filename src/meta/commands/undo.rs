//! `:undo`: undoes the last ccx move — conversation and files — and, typed again, redoes it
//! (see `crate::moves`).

use super::{CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};
use crate::moves::Place;
use anyhow::Result;

pub static SPEC: CommandSpec = CommandSpec {
    name: "undo",
    aliases: &[],
    usage: ":undo",
    summary: "undo the last move (switch, rewind, clear, brief, restore); again redoes",
    details: "Undoes the last ccx move (:branch, :checkout, :rewind, :clear, :brief, or a \
              restore: :restore, --code), returning to the conversation it left (the same \
              branch and Claude session) and putting back the files it changed. :undo again \
              redoes it. The moves are kept in the turn log, so this works after a restart; \
              :history lists them.",
    needs_session: true,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(Undo))
}

impl MetaCommand for Undo {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        Outcome::switched(undo(ops))
    }
}

fn undo(ops: &mut dyn SessionOps) -> Result<String> {
    let store = ops.store()?;
    let repo = crate::effects::side::SideRepo::for_project(&std::env::current_dir()?)?;
    let mut return_to = |place: &Place| -> Result<()> {
        if ops.current_branch(&store) == place.branch {
            return Ok(());
        }
        ops.ensure_idle(&store)?;
        let head = match store.branch(&place.branch)?.and_then(|b| b.head) {
            Some(id) => store.turn(id)?,
            None => None,
        };
        let session = super::checkout::resume_point(ops, &store, &place.branch, head.as_ref())?;
        ops.switch_to(session)
    };
    crate::moves::undo(&store, &repo, Some(&mut return_to))
}

//! `:undo`: undoes the last ccx move — conversation and files — and, typed again, redoes it
//! (see `crate::moves`).

use crate::meta::ops::SessionOps;
use crate::moves::Place;
use anyhow::Result;

meta_command! {
    Undo; switched: |_, ops| undo(ops), needs_session: true,
    usage: ":undo",
    summary: "undo the last move (switch, rewind, clear, brief, restore); again redoes",
    details: "Undoes the last ccx move (:branch, :checkout, :rewind, :clear, :brief, or a \
              restore: :restore, --code), returning to the conversation it left (the same \
              branch and Claude session) and putting back the files it changed. :undo again \
              redoes it. The moves are kept in the turn log, so this works after a restart; \
              :history lists them.",
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

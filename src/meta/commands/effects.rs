//! `:effects [TURN] [--diff]`: each tool call of a turn and the files it added, modified or
//! deleted, from the effects journal (docs/guide.md, "Undo anything").

use super::{read_text, usage_args, Parsed, Parser};
use crate::meta::args::{optional_turn, Flag, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Effects, run: Effects::list,
    usage: ":effects [TURN] [--diff]", summary: "each tool call of a turn and the files it changed",
    details: "Lists each tool call of TURN (default HEAD) that may write (Bash, Edit, Write, \
              MultiEdit, NotebookEdit, MCP tools) as TURN.CALL with its command or file, and \
              the files it added, modified or deleted, from the effects journal's snapshots \
              before and after the call. --diff adds each call's patch. A call whose snapshot \
              did not fit the hook's budget says \"not snapshotted\".",
    flags: &[Flag::switch(&["--diff"])], parser: Parser::Words(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    pub turn: Option<String>,
    pub diff: bool,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = usage_args(&SPEC, words, "")?;
    Ok(Box::new(Effects {
        turn: optional_turn(SPEC.name, p.positionals.first())?,
        diff: p.has("--diff"),
    }))
}

impl Effects {
    fn list(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| {
            crate::commands::effects::effects_in(
                ctx.store,
                self.turn.as_deref(),
                self.diff,
                &ctx.branch,
                ctx.palette,
            )
            .map_err(|e| format!("{e:#}"))
        })
    }
}

//! `:context`: the context used now against the window, the rot zone, the largest turns and
//! which move fits.

use super::{read_text, CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "context",
    aliases: &[],
    usage: ":context",
    summary: "context used, rot zone, largest turns, advice",
    details: "Shows the exact context size after the last finished turn against the context \
              window Claude Code reports for the model in use (else `context_window` in \
              config.toml), the same on every branch, with the rot zone (where quality drops, `rot_zone_tokens` in \
              config.toml) marked; the five turns that added the most; and which of \
              :summarize-from-here, :brief, :compact, :subagent or :rewind fits now, and why.",
    needs_session: false,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(Context))
}

impl MetaCommand for Context {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, exec::context)
    }
}

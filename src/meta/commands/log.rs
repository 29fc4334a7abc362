//! `:log [BRANCH] [-n N]`: a branch's turns, one line each.

use super::{read_text, usage_args, Parsed, Parser};
use crate::meta::args::{clip, err, Flag, MetaError, Word};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Log, run: Log::outcome,
    usage: ":log [BRANCH] [-n N]", summary: "a branch's turns: id, age, context, prompt → reply",
    details: "Lists the conversation of BRANCH (default: the current branch) from its first \
              turn to its head, across fork points: id, age, context tokens after the turn, \
              and the first line of the prompt and of the reply. -n N shows only the last N \
              turns.",
    flags: &[Flag::valued(&["-n", "--limit"], "a number")], parser: Parser::Words(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    pub branch: Option<String>,
    pub limit: Option<usize>,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = usage_args(&SPEC, words, "")?;
    let limit = match p.value("-n") {
        None => None,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(err(format!("-n needs a number, got '{}'", clip(v)))),
        },
    };
    Ok(Box::new(Log {
        branch: p.positionals.into_iter().next(),
        limit,
    }))
}

impl Log {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| {
            exec::log(self.branch.as_deref(), self.limit, ctx)
        })
    }
}

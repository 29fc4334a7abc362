//! `:kill JOB`: stops a subagent job (the turns it recorded are kept).

use super::{CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{exactly, split_args, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "kill",
    aliases: &[],
    usage: ":kill JOB",
    summary: "stop a subagent job",
    details: "Stops the subagent job JOB. The turns it recorded are kept.",
    needs_session: true,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    pub job: String,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = split_args(SPEC.name, words, &[])?;
    exactly(SPEC.name, &p, &["JOB"], ":kill 2")?;
    Ok(Box::new(Kill {
        job: p.positionals.into_iter().next().unwrap_or_default(),
    }))
}

impl MetaCommand for Kill {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        let id = self.job.trim_start_matches('#');
        Outcome::shown(ops.kill_job(id).map(|()| format!("job #{id} stopped")))
    }
}

//! `:kill JOB`: stops a subagent job (the turns it recorded are kept).

use super::{Parsed, Parser};
use crate::meta::args::{exact_words, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Kill, run: Kill::outcome,
    name: "kill", usage: ":kill JOB",
    summary: "stop a subagent job",
    details: "Stops the subagent job JOB. The turns it recorded are kept.",
    needs_session: true,
    parser: Parser::Words(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    pub job: String,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let [job] = exact_words(SPEC.name, words, ["JOB"], ":kill 2")?;
    Ok(Box::new(Kill { job }))
}

impl Kill {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        let id = self.job.trim_start_matches('#');
        Outcome::shown(ops.kill_job(id).map(|()| format!("job #{id} stopped")))
    }
}

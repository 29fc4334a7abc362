//! `:jobs`: the subagent jobs of this session with their state.

use super::{CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "jobs",
    aliases: &[],
    usage: ":jobs",
    summary: "subagent jobs with their state",
    details: "Lists the subagent jobs of this session with their state.",
    needs_session: true,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jobs;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(Jobs))
}

impl MetaCommand for Jobs {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        let jobs = ops.jobs();
        if jobs.is_empty() {
            return Outcome::Text("no subagent jobs yet (:subagent TASK starts one)\n".into());
        }
        Outcome::Text(
            jobs.iter()
                .map(|j| format!("{}\n", crate::jobs::job_line(j)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;

    #[test]
    fn jobs_subagent_and_kill() {
        let mut ops = FakeOps::with_turns(&["one"]);
        assert_eq!(
            ops.run(":jobs"),
            Outcome::Text("no subagent jobs yet (:subagent TASK starts one)\n".into())
        );
        assert_eq!(
            ops.run(":subagent write the tests, don't touch exec"),
            Outcome::Text(
                "subagent job #1 started; :jobs shows its progress, :pull 1 brings back its report"
                    .into()
            )
        );
        assert_eq!(
            ops.run(":subagent --brief nope go"),
            Outcome::Error("no brief named 'nope'".into())
        );
        assert_eq!(ops.run(":kill #1"), Outcome::Text("job #1 stopped".into()));
        assert_eq!(
            ops.calls,
            [
                Call::StartJob {
                    task: "write the tests, don't touch exec".into(),
                    brief: None
                },
                Call::KillJob("1".into())
            ]
        );
    }
}

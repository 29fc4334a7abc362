//! `:jobs`: the subagent jobs of this session with their state.

use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Jobs; run: Jobs::outcome, needs_session: true,
    usage: ":jobs", summary: "subagent jobs with their state",
    details: "Lists the subagent jobs of this session with their state.",
}

impl Jobs {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
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
            ops.text(":jobs"),
            "no subagent jobs yet (:subagent TASK starts one)\n"
        );
        assert_eq!(
            ops.run(":subagent write the tests, don't touch exec"),
            Outcome::Text(
                "subagent job #1 started; :jobs shows its progress, :pull 1 brings back its report"
                    .into()
            )
        );
        assert_eq!(
            ops.error(":subagent --brief nope go"),
            "no brief named 'nope'"
        );
        assert_eq!(ops.text(":kill #1"), "job #1 stopped");
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

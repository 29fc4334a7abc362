//! `:pull [JOB]`: sends a finished subagent's final report into this session, once.

use crate::meta::moves::idle_store;
use crate::meta::ops::SessionOps;
use crate::model::TurnKind;
use anyhow::{bail, Result};

meta_command! {
    Pull [job], switched: Pull::pull, needs_session: true,
    usage: ":pull [JOB]", summary: "send a finished subagent's report here",
    details: "Sends the final report of subagent JOB (default: the latest finished one not \
              yet pulled) into this session, framed as a subagent's conclusion. A job's \
              report is sent once: pulling it again says so and sends nothing.",
}

impl Pull {
    /// The job is marked pulled: pulling it again says so and sends nothing.
    fn pull(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let job = self.job.as_deref();
        let id = match job {
            Some(id) => id.trim().trim_start_matches('#').to_string(),
            None => match ops.latest_done_job() {
                Some(info) => info.id,
                None if ops.jobs().iter().any(|j| j.pulled) => {
                    bail!("every finished job was pulled already (:jobs lists them)")
                }
                None => bail!("no finished job to pull yet (:jobs lists them)"),
            },
        };
        idle_store(ops)?;
        let (info, report) = ops.take_job_report(&id)?;
        // The turn's input names the job even when the person left it to the default.
        let typed = match job {
            Some(_) => ops.typed().to_string(),
            None => format!("{} {}", ops.typed().trim(), info.id),
        };
        let prompt = ops.templates().pull_prompt(&info.id, &info.task, &report);
        ops.send_prompt(&prompt, TurnKind::Subagent, Some(typed));
        Ok(format!(
            "job #{} pulled: its report is sent to Claude",
            info.id
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::jobs::{JobInfo, JobState};
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;
    use crate::model::TurnKind;

    fn job(id: &str) -> JobInfo {
        JobInfo {
            id: id.into(),
            task: format!("task {id}"),
            state: JobState::Done,
            started_at: String::new(),
            elapsed_secs: 1,
            tool_calls: 0,
            tokens: 0,
            report: Some(format!("report {id}")),
            session_id: format!("job-session-{id}"),
            branch: None,
            pulled: false,
        }
    }

    #[test]
    fn sends_the_latest_report_once_and_names_the_job_in_the_input() {
        let mut ops = FakeOps::with_turns(&["one"]);
        assert_eq!(
            ops.error(":pull"),
            "no finished job to pull yet (:jobs lists them)"
        );
        ops.jobs.push((job("1"), "report 1".into()));
        ops.jobs.push((job("2"), "report 2".into()));
        assert_eq!(
            ops.switched(":pull"),
            "job #2 pulled: its report is sent to Claude"
        );
        let (text, kind, input) = &ops.prompts()[0];
        assert!(
            text.contains("report 2") && text.contains("task 2"),
            "{text}"
        );
        assert_eq!(*kind, TurnKind::Subagent);
        assert_eq!(input.as_deref(), Some(":pull 2"));
        assert!(matches!(ops.run(":pull #1"), Outcome::Switched(_)));
        assert_eq!(ops.prompts()[1].2.as_deref(), Some(":pull #1"));
        assert!(ops.calls.contains(&Call::TakeReport("1".into())));
        assert_eq!(
            ops.error(":pull"),
            "every finished job was pulled already (:jobs lists them)"
        );
        assert_eq!(ops.prompts().len(), 2);
    }
}

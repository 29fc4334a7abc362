//! `:kill JOB`: stops a subagent job (the turns it recorded are kept).

use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Kill { job }, example: ":kill 2", run: Kill::outcome, needs_session: true,
    usage: ":kill JOB", summary: "stop a subagent job",
    details: "Stops the subagent job JOB. The turns it recorded are kept.",
}

impl Kill {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        let id = self.job.trim_start_matches('#');
        Outcome::shown(ops.kill_job(id).map(|()| format!("job #{id} stopped")))
    }
}

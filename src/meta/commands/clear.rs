//! `:clear`: a fresh session on a new branch with no brief.

use crate::branch_names::NewBranch;
use crate::meta::moves::fresh_session;
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Clear; run: Clear::outcome, needs_session: true,
    usage: ":clear", summary: "fresh session on a new branch, no brief",
    details: "Starts a fresh Claude session on a new branch, with no brief. The old branch \
              is kept.",
}

impl Clear {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        Outcome::switched(fresh_session(ops, NewBranch::Conversation, None))
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};

    #[test]
    fn starts_a_fresh_session_on_the_next_free_name() {
        let mut ops = FakeOps::with_turns(&["one"]);
        assert_eq!(
            ops.switched(":clear"),
            "fresh session on new branch session-2"
        );
        assert_eq!(
            ops.calls,
            [
                Call::EnsureIdle,
                Call::Plan {
                    session: "new-1".into(),
                    branch: "session-2".into(),
                    ends_at: None
                },
                Call::Start("new-1".into()),
            ]
        );
        assert!(ops.prompts().is_empty());
    }
}

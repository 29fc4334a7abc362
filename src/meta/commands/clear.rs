//! `:clear`: a fresh session on a new branch with no brief.

use super::{CommandSpec, MetaCommand, Parsed, Parser};
use crate::branch_names::NewBranch;
use crate::meta::args::{no_args, split_args, MetaError, Word};
use crate::meta::moves::fresh_session;
use crate::meta::ops::{Outcome, SessionOps};

pub static SPEC: CommandSpec = CommandSpec {
    name: "clear",
    aliases: &[],
    usage: ":clear",
    summary: "fresh session on a new branch, no brief",
    details: "Starts a fresh Claude session on a new branch, with no brief. The old branch \
              is kept.",
    needs_session: true,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clear;

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    no_args(SPEC.name, &split_args(SPEC.name, words, &[])?)?;
    Ok(Box::new(Clear))
}

impl MetaCommand for Clear {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        Outcome::switched(fresh_session(ops, NewBranch::Conversation, None))
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;

    #[test]
    fn starts_a_fresh_session_on_the_next_free_name() {
        let mut ops = FakeOps::with_turns(&["one"]);
        assert_eq!(
            ops.run(":clear"),
            Outcome::Switched("fresh session on new branch session-2".into())
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

//! `:branch NAME [TURN]`: fork a new branch after TURN (default HEAD) and switch to it.

use super::{usage_args, Parsed, Parser};
use crate::meta::args::{new_branch_arg, optional_turn, MetaError, Word};
use crate::meta::moves::{fork, name_is_free, resolve};
use crate::meta::ops::SessionOps;
use crate::refs;
use anyhow::Result;

meta_command! {
    Branch, switched: Branch::fork, needs_session: true,
    usage: ":branch NAME [TURN]", summary: "fork a new branch after TURN and switch to it",
    details: "Forks a new branch NAME after TURN (default HEAD) and switches to it: Claude \
              resumes the conversation as it stood after TURN. The old branch is kept.",
    parser: Parser::Words(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub name: String,
    pub turn: Option<String>,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = usage_args(&SPEC, words, ":branch try-b HEAD~1")?;
    Ok(Box::new(Branch {
        name: new_branch_arg(SPEC.name, &p.positionals[0])?,
        turn: optional_turn(SPEC.name, p.positionals.get(1))?,
    }))
}

impl Branch {
    fn fork(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let (name, turn) = (self.name.as_str(), self.turn.as_deref());
        // NAME's form was checked when the line was parsed.
        let store = ops.store()?;
        name_is_free(&store, name)?;
        ops.ensure_idle(&store)?;
        let current = ops.current_branch(&store);
        let at = resolve(&store, turn.unwrap_or("HEAD"), &current).map_err(|err| {
            match turn.map(refs::parse_turn_ref) {
                // `:branch bad name`: the second word was meant as part of the name.
                Some(Ok(refs::TurnRef::Branch { back: 0, .. })) => anyhow::anyhow!(
                    "{err:#}: a branch name is one word (`:branch {name}-{} [TURN]`)",
                    turn.unwrap_or_default()
                ),
                _ => err,
            }
        })?;
        fork(ops, &store, name, &at)?;
        Ok(format!(
            "on branch {name}, forked after #{} of {}; {current} is kept",
            at.id, at.branch
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::TurnId;
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;

    #[test]
    fn forks_after_head_or_a_turn_and_resumes_the_rebuilt_session() {
        let mut ops = FakeOps::with_turns(&["one", "two", "three"]);
        assert_eq!(
            ops.switched(":branch try-b"),
            "on branch try-b, forked after #3 of main; main is kept"
        );
        assert_eq!(ops.calls, Call::fork_after(3, "try-b"));
        let made = ops.store.branch("try-b").unwrap().expect("the new branch");
        assert_eq!(
            (made.session_id.as_str(), made.parent_branch.as_deref()),
            ("rebuilt-1", Some("main"))
        );
        assert_eq!(
            (made.fork_turn, made.head),
            (Some(TurnId(3)), Some(TurnId(3)))
        );
        // From the new branch, a fork at a turn of main.
        ops.calls.clear();
        assert_eq!(
            ops.switched(":branch early main~2"),
            "on branch early, forked after #1 of main; try-b is kept"
        );
        assert!(ops.calls.contains(&Call::Resume("rebuilt-2".into())));
        assert_eq!(ops.branch, "early");
    }

    #[test]
    fn refuses_without_changing_anything() {
        let mut ops = FakeOps::with_turns(&["one"]);
        ops.add_branch("taken", "main", Some(1), "s-taken");
        let cases = [
            (":branch taken", "a branch named 'taken' exists already"),
            (":branch x 9", "no turn #9"),
            (
                ":branch new idea",
                "no turn or branch 'idea': a branch name is one word (`:branch new-idea [TURN]`)",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(ops.run(line), Outcome::Error(want.into()), "{line}");
        }
        assert!(!ops
            .calls
            .iter()
            .any(|c| matches!(c, Call::Resume(_) | Call::Rebuild { .. })));
        assert_eq!(ops.store.branches().unwrap().len(), 2);
        assert_eq!(ops.branch, "main");
    }

    #[test]
    fn a_refused_restart_is_one_line() {
        let mut ops = FakeOps::with_turns(&["one"]);
        ops.refuse_switch = true;
        match ops.run(":branch b") {
            Outcome::Error(e) => assert!(e.starts_with("claude would not open"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(ops.branch, "main");
    }
}

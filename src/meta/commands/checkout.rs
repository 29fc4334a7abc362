//! `:checkout BRANCH [--code]`: Claude resumes a branch's conversation; `--code` also puts the
//! files back as they were at its head.

use super::{Parsed, Parser};
use crate::meta::args::{exactly, split_args, Flag, MetaError, Word};
use crate::meta::moves::branch_exists;
use crate::meta::ops::{SessionArg, SessionOps};
use crate::store::Store;
use anyhow::{bail, Result};

meta_command! {
    Checkout, switched: Checkout::checkout, needs_session: true,
    usage: ":checkout BRANCH [--code]",
    summary: "switch to a branch; --code also restores its files",
    details: "Switches to BRANCH: Claude resumes that branch's conversation. With --code, the \
              files are also put back as they were at the branch's head (the current working \
              tree is snapshotted first, so nothing is lost).",
    flags: &[Flag::switch(&["--code"])], parser: Parser::Words(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub branch: String,
    pub code: bool,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = split_args(SPEC.name, words, SPEC.flags)?;
    exactly(SPEC.name, &p, &["BRANCH"], ":checkout main")?;
    Ok(Box::new(Checkout {
        code: p.has("--code"),
        branch: p.positionals.into_iter().next().unwrap_or_default(),
    }))
}

impl Checkout {
    fn checkout(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let (name, code) = (self.branch.as_str(), self.code);
        let store = ops.store()?;
        let current = ops.current_branch(&store);
        branch_exists(&store, name)?;
        if name == current && !code {
            bail!("already on {name}");
        }
        ops.ensure_idle(&store)?;
        let head = match store.branch(name)?.and_then(|b| b.head) {
            Some(id) => store.turn(id)?,
            None => None,
        };
        let restored = match (code, &head) {
            (true, Some(turn)) => Some(ops.restore_code(turn)?),
            (true, None) => bail!("{name} has no turns, so no code snapshot to restore"),
            _ => None,
        };
        if name == current {
            return Ok(restored.unwrap_or_default());
        }
        let session = resume_point(ops, &store, name, head.as_ref())?;
        ops.switch_to(session)?;
        let mut message = format!("on branch {name}");
        if let Some(summary) = restored {
            message.push_str(&format!("; {summary}"));
        }
        Ok(message)
    }
}

/// The session that carries branch `name` now, planned for the recorder: Claude's own
/// transcript when it is still there, else one rebuilt from the turn log (a branch without
/// turns starts its session afresh).
pub(crate) fn resume_point(
    ops: &mut dyn SessionOps,
    store: &Store,
    name: &str,
    head: Option<&crate::model::Turn>,
) -> Result<SessionArg> {
    let Some(mut branch) = store.branch(name)? else {
        return Err(crate::query::no_branch(store, name));
    };
    let (session_id, history_ends_at) = match (ops.transcript_end(&branch.session_id), head) {
        (Some(last), _) => (branch.session_id.clone(), last),
        (None, Some(turn)) => {
            let (id, last) = ops.rebuild_session(store, turn)?;
            branch.session_id = id.clone();
            store.put_branch(branch.clone())?;
            (id, last)
        }
        (None, None) => (branch.session_id.clone(), None),
    };
    ops.plan_branch(&session_id, name, history_ends_at);
    Ok(if head.is_some() {
        SessionArg::Resume(session_id)
    } else {
        SessionArg::New(session_id)
    })
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};

    /// main: #1 #2; try-b (session s-try-b) forks after #1: #3.
    fn two_branches() -> FakeOps {
        let ops = FakeOps::with_turns(&["one", "two"]);
        ops.add_branch("try-b", "main", Some(1), "s-try-b");
        ops.add_turn("try-b", "three");
        ops
    }

    #[test]
    fn resumes_claudes_own_transcript_when_it_is_there() {
        let mut ops = two_branches();
        ops.transcripts
            .push(("s-try-b".into(), Some("last-uuid".into())));
        assert_eq!(ops.switched(":checkout try-b"), "on branch try-b");
        assert_eq!(
            ops.calls,
            [
                Call::EnsureIdle,
                Call::Plan {
                    session: "s-try-b".into(),
                    branch: "try-b".into(),
                    ends_at: Some("last-uuid".into())
                },
                Call::Resume("s-try-b".into()),
            ]
        );
        assert_eq!(ops.branch, "try-b");
    }

    #[test]
    fn rebuilds_a_deleted_transcript_from_the_log_and_keeps_its_id() {
        let mut ops = two_branches();
        assert_eq!(ops.switched(":checkout try-b"), "on branch try-b");
        assert!(ops.calls.contains(&Call::Rebuild {
            turn: 3,
            session: "rebuilt-1".into()
        }));
        assert_eq!(ops.calls.last(), Some(&Call::Resume("rebuilt-1".into())));
        let branch = ops.store.branch("try-b").unwrap().unwrap();
        assert_eq!(branch.session_id, "rebuilt-1");
    }

    #[test]
    fn a_branch_without_turns_starts_its_session_afresh() {
        let mut ops = FakeOps::with_turns(&["one"]);
        ops.add_branch("empty", "main", None, "s-empty");
        assert_eq!(ops.switched(":checkout empty"), "on branch empty");
        assert_eq!(ops.calls.last(), Some(&Call::Start("s-empty".into())));
        assert_eq!(
            ops.switched(":checkout --code main"),
            "on branch main; files as at #1"
        );
        assert!(ops.calls.contains(&Call::Restore(1)));
    }

    #[test]
    fn code_restores_the_heads_files_even_on_the_current_branch() {
        let mut ops = two_branches();
        assert_eq!(ops.switched(":checkout main --code"), "files as at #2");
        assert_eq!(ops.calls, [Call::EnsureIdle, Call::Restore(2)]);
    }

    #[test]
    fn refuses_in_one_line() {
        let mut ops = two_branches();
        assert_eq!(ops.error(":checkout main"), "already on main");
        assert_eq!(
            ops.error(":checkout try-c"),
            "no branch 'try-c' (did you mean 'try-b'?)"
        );
        assert!(ops.calls.is_empty(), "{:?}", ops.calls);
    }
}

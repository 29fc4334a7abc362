//! `:delete BRANCH`: deletes a branch after asking; never the current one.

use crate::meta::moves::branch_exists;
use crate::meta::ops::{Outcome, SessionOps};
use anyhow::{bail, Result};

meta_command! {
    Delete { branch }, example: ":delete try-b", run: Delete::outcome, needs_session: true,
    usage: ":delete BRANCH", summary: "delete a branch (asks; never the current one)",
    details: "Deletes branch BRANCH after asking to confirm. The current branch is never \
              deleted.",
}

impl Delete {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        let branch = &self.branch;
        if let Err(err) = check_deletable(ops, branch) {
            return Outcome::Error(format!("{err:#}"));
        }
        let question = format!("delete branch {branch} and the turns only it holds? [y/N] ");
        if !ops.confirm(&question) {
            return Outcome::Text(format!("kept {branch}"));
        }
        Outcome::shown(delete(ops, branch))
    }
}

/// Whether BRANCH may be deleted: it exists and is not the current branch.
fn check_deletable(ops: &mut dyn SessionOps, name: &str) -> Result<()> {
    let store = ops.store()?;
    if name == ops.current_branch(&store) {
        bail!("{name} is the current branch; check out another one first");
    }
    branch_exists(&store, name)
}

fn delete(ops: &mut dyn SessionOps, name: &str) -> Result<String> {
    check_deletable(ops, name)?;
    let removed = ops.store()?.delete_branch(name)?;
    Ok(format!(
        "deleted {name} ({removed} turns of its own removed; turns other branches share are kept)"
    ))
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::FakeOps;
    use crate::meta::ops::Outcome;

    #[test]
    fn asks_first_and_never_deletes_the_current_branch() {
        let mut ops = FakeOps::with_turns(&["one"]);
        ops.add_branch("try-b", "main", Some(1), "s-try-b");
        ops.add_turn("try-b", "two");
        assert_eq!(ops.text(":delete try-b"), "kept try-b");
        assert_eq!(
            ops.shown,
            ["delete branch try-b and the turns only it holds? [y/N] "]
        );
        assert!(ops.store.branch("try-b").unwrap().is_some());
        ops.confirms.push_back(true);
        assert_eq!(
            ops.run(":delete try-b"),
            Outcome::Text(
                "deleted try-b (1 turns of its own removed; turns other branches share are kept)"
                    .into()
            )
        );
        assert!(ops.store.branch("try-b").unwrap().is_none());
        ops.confirms.push_back(true);
        assert_eq!(
            ops.error(":delete main"),
            "main is the current branch; check out another one first"
        );
        assert_eq!(ops.error(":delete try-c"), "no branch 'try-c'");
        assert_eq!(ops.shown.len(), 2, "asked only when it may go ahead");
    }
}

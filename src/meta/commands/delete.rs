//! `:delete BRANCH`: deletes a branch after asking; never the current one.

use super::{CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{exactly, split_args, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};
use anyhow::{bail, Result};

pub static SPEC: CommandSpec = CommandSpec {
    name: "delete",
    aliases: &[],
    usage: ":delete BRANCH",
    summary: "delete a branch (asks; never the current one)",
    details: "Deletes branch BRANCH after asking to confirm. The current branch is never \
              deleted.",
    needs_session: true,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    pub branch: String,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = split_args(SPEC.name, words, &[])?;
    exactly(SPEC.name, &p, &["BRANCH"], ":delete try-b")?;
    Ok(Box::new(Delete {
        branch: p.positionals.into_iter().next().unwrap_or_default(),
    }))
}

impl MetaCommand for Delete {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
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
    if store.branch(name)?.is_none() {
        return Err(crate::query::no_branch(&store, name));
    }
    Ok(())
}

fn delete(ops: &mut dyn SessionOps, name: &str) -> Result<String> {
    check_deletable(ops, name)?;
    let removed = ops.store()?.delete_branch(name)?;
    Ok(format!("deleted {name} ({removed} turns of its own removed; turns other branches share are kept)"))
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
        assert_eq!(ops.run(":delete try-b"), Outcome::Text("kept try-b".into()));
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
            ops.run(":delete main"),
            Outcome::Error("main is the current branch; check out another one first".into())
        );
        assert_eq!(
            ops.run(":delete try-c"),
            Outcome::Error("no branch 'try-c'".into())
        );
        assert_eq!(ops.shown.len(), 2, "asked only when it may go ahead");
    }
}

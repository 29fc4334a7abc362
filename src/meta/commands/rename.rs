//! `:rename OLD NEW`: renames a branch.

use super::{CommandSpec, MetaCommand, Parsed, Parser};
use crate::meta::args::{exactly, new_branch_arg, split_args, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};
use anyhow::{bail, Result};

pub static SPEC: CommandSpec = CommandSpec {
    name: "rename",
    aliases: &[],
    usage: ":rename OLD NEW",
    summary: "rename a branch",
    details: "Renames branch OLD to NEW.",
    needs_session: true,
    flags: &[],
    parser: Parser::Words(parse),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub old: String,
    pub new: String,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = split_args(SPEC.name, words, &[])?;
    exactly(SPEC.name, &p, &["OLD", "NEW"], ":rename try-b fast-path")?;
    Ok(Box::new(Rename {
        old: p.positionals[0].clone(),
        new: new_branch_arg(SPEC.name, &p.positionals[1])?,
    }))
}

impl MetaCommand for Rename {
    fn spec(&self) -> &'static CommandSpec {
        &SPEC
    }

    fn run(&self, ops: &mut dyn SessionOps) -> Outcome {
        Outcome::shown(self.rename(ops))
    }
}

impl Rename {
    fn rename(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let (old, new) = (self.old.as_str(), self.new.as_str());
        // NAME's form was checked when the line was parsed.
        let store = ops.store()?;
        if store.branch(old)?.is_none() {
            bail!("no branch '{old}'");
        }
        if store.branch(new)?.is_some() {
            bail!("a branch named '{new}' exists already");
        }
        store.rename_branch(old, new)?;
        ops.branch_renamed(old, new);
        Ok(format!("renamed {old} to {new}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;

    #[test]
    fn renames_and_the_session_follows() {
        let mut ops = FakeOps::with_turns(&["one"]);
        ops.add_branch("try-b", "main", Some(1), "s-try-b");
        assert_eq!(
            ops.run(":rename main trunk"),
            Outcome::Text("renamed main to trunk".into())
        );
        assert_eq!(
            ops.calls,
            [Call::Renamed {
                old: "main".into(),
                new: "trunk".into()
            }]
        );
        assert_eq!(ops.branch, "trunk");
        assert_eq!(
            ops.run(":rename trunk try-b"),
            Outcome::Error("a branch named 'try-b' exists already".into())
        );
        assert_eq!(
            ops.run(":rename nope x"),
            Outcome::Error("no branch 'nope'".into())
        );
        assert_eq!(ops.calls.len(), 1);
    }
}

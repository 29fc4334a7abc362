//! `:rename OLD NEW`: renames a branch.

use crate::meta::args::new_branch_arg;
use crate::meta::moves::name_is_free;
use crate::meta::ops::SessionOps;
use anyhow::{bail, Result};

meta_command! {
    Rename { old, new: new_branch_arg }, example: ":rename try-b fast-path",
    shown: Rename::rename,
    needs_session: true,
    usage: ":rename OLD NEW", summary: "rename a branch",
    details: "Renames branch OLD to NEW.",
}

impl Rename {
    fn rename(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let (old, new) = (self.old.as_str(), self.new.as_str());
        // NAME's form was checked when the line was parsed.
        let store = ops.store()?;
        if store.branch(old)?.is_none() {
            bail!("no branch '{old}'");
        }
        name_is_free(&store, new)?;
        store.rename_branch(old, new)?;
        ops.branch_renamed(old, new);
        Ok(format!("renamed {old} to {new}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};

    #[test]
    fn renames_and_the_session_follows() {
        let mut ops = FakeOps::with_turns(&["one"]);
        ops.add_branch("try-b", "main", Some(1), "s-try-b");
        assert_eq!(ops.text(":rename main trunk"), "renamed main to trunk");
        assert_eq!(
            ops.calls,
            [Call::Renamed {
                old: "main".into(),
                new: "trunk".into()
            }]
        );
        assert_eq!(ops.branch, "trunk");
        assert_eq!(
            ops.error(":rename trunk try-b"),
            "a branch named 'try-b' exists already"
        );
        assert_eq!(ops.error(":rename nope x"), "no branch 'nope'");
        assert_eq!(ops.calls.len(), 1);
    }
}

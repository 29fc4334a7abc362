//! `:tree`: every branch as a tree with its fork point.

use super::{bare, read_text, Parser};
use crate::meta::exec;
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Tree, run: Tree::outcome,
    name: "tree", usage: ":tree",
    summary: "all branches as a tree with their fork points",
    details: "Shows every branch of the project as a tree: children under the branch they \
              forked from, with the turn they forked after, their head turn, their number of \
              turns and the age of their head. The current branch is marked with *.",
    parser: Parser::Words(bare::<Tree>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree;

impl Tree {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, exec::tree)
    }
}

//! `:tree`: every branch as a tree with its fork point.

use crate::meta::exec;

meta_command! {
    Tree; read: exec::tree,
    usage: ":tree", summary: "all branches as a tree with their fork points",
    details: "Shows every branch of the project as a tree: children under the branch they \
              forked from, with the turn they forked after, their head turn, their number of \
              turns and the age of their head. The current branch is marked with *.",
}

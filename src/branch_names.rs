//! The one scheme for the names ccx gives new branches, so every place that names a branch
//! (a new conversation, `:clear`, `:brief`, a rewind, a replay, an import) reads the same way
//! and names stay short however often a branch is rewound:
//!
//! | new branch | names tried, in order |
//! | --- | --- |
//! | a new conversation (`ccx`, `ccx -p`, `:clear`) | `main`, then `session-2`, `session-3`, … |
//! | `:brief` | `brief`, `brief-2`, … |
//! | a rewind of B after turn T | `B-rT`, `B-rT-2`, … (B without the endings this scheme added) |
//! | a replay of B | `B-replay`, `B-replay-2`, … |
//! | an import of Claude session S | `import-S8`, `import-S8-2`, … (S8: S's first 8 characters) |
//! | subagent job J, Claude session S | `subagent-J-S8` (its turns are added to it) |
//!
//! A name is at most 64 characters (the stem is cut to fit).

use crate::store::Store;
use anyhow::{bail, Result};

/// The longest name [`crate::names::validate_branch_name`] accepts.
const MAX_LEN: usize = crate::names::MAX_BRANCH_NAME;
/// How many names are tried before giving up.
const TRIES: usize = 10_000;

/// What a new branch is for.
#[derive(Debug, Clone, Copy)]
pub enum NewBranch<'a> {
    /// A new conversation: the first `ccx`, a print-mode run, `:clear`.
    Conversation,
    /// `:brief`: a fresh session seeded with a brief.
    Brief,
    /// A fork of `from` after turn `after` (`:rewind`).
    Rewind {
        from: &'a str,
        after: crate::ids::TurnId,
    },
    /// A replay of branch `of`.
    Replay { of: &'a str },
    /// Claude session `session` imported.
    Import { session: &'a str },
    /// The side branch of subagent job `job`, which ran as Claude session `session`.
    Subagent { job: &'a str, session: &'a str },
}

/// The names to try for a new branch, best first (the scheme in the module doc).
pub fn candidates(new: NewBranch<'_>) -> impl Iterator<Item = String> + '_ {
    let (first, base): (Option<String>, String) = match new {
        NewBranch::Conversation => (Some("main".into()), "session".into()),
        NewBranch::Brief => (None, "brief".into()),
        NewBranch::Rewind { from, after } => (None, fit(&format!("{}-r{after}", stem(from)))),
        NewBranch::Replay { of } => (None, fit(&format!("{}-replay", stem(of)))),
        NewBranch::Import { session } => (
            None,
            format!("import-{}", session.chars().take(8).collect::<String>()),
        ),
        NewBranch::Subagent { job, session } => (
            None,
            fit(&format!(
                "subagent-{job}-{}",
                session.chars().take(8).collect::<String>()
            )),
        ),
    };
    let numbered_from = if first.is_some() { 2 } else { 1 };
    first
        .into_iter()
        .chain((numbered_from..TRIES).map(move |n| {
            if n == 1 {
                base.clone()
            } else {
                let suffix = format!("-{n}");
                format!("{}{suffix}", cut(&base, MAX_LEN - suffix.len()))
            }
        }))
}

/// The first name of the scheme that no branch of `store` has yet.
pub fn free(store: &Store, new: NewBranch<'_>) -> Result<String> {
    for name in candidates(new) {
        if store.branch(&name)?.is_none() {
            return Ok(name);
        }
    }
    bail!("no free branch name for {new:?}")
}

/// A branch name without the endings this scheme adds (`-r4`, `-replay`, and a `-2` counter
/// after one of those), so a rewind of a rewind is `try-x-r3`, not `try-x-r4-r3`.
fn stem(name: &str) -> &str {
    let added = |tail: &str| {
        tail == "replay"
            || (tail.len() > 1
                && tail.starts_with('r')
                && tail[1..].chars().all(|c| c.is_ascii_digit()))
    };
    let mut stem = name;
    while let Some((head, tail)) = stem.rsplit_once('-') {
        let counter = !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit());
        let after_added = head
            .rsplit_once('-')
            .is_some_and(|(h, t)| !h.is_empty() && added(t));
        if head.is_empty() || !(added(tail) || (counter && after_added)) {
            break;
        }
        stem = head;
    }
    stem
}

fn fit(name: &str) -> String {
    cut(name, MAX_LEN).to_string()
}

/// At most `max` characters of `text`.
fn cut(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TurnId;

    fn first(new: NewBranch<'_>, taken: &[&str]) -> String {
        candidates(new)
            .find(|n| !taken.contains(&n.as_str()))
            .unwrap()
    }

    #[test]
    fn conversations_are_main_then_numbered_sessions() {
        assert_eq!(first(NewBranch::Conversation, &[]), "main");
        assert_eq!(first(NewBranch::Conversation, &["main"]), "session-2");
        assert_eq!(
            first(NewBranch::Conversation, &["main", "session-2"]),
            "session-3"
        );
    }

    #[test]
    fn briefs_are_numbered_after_the_first() {
        assert_eq!(first(NewBranch::Brief, &[]), "brief");
        assert_eq!(first(NewBranch::Brief, &["brief"]), "brief-2");
    }

    #[test]
    fn rewinds_do_not_pile_up() {
        let rewind = |from, after| NewBranch::Rewind {
            from,
            after: TurnId(after),
        };
        assert_eq!(first(rewind("try-x", 4), &[]), "try-x-r4");
        assert_eq!(first(rewind("try-x-r4", 4), &["try-x-r4"]), "try-x-r4-2");
        assert_eq!(first(rewind("try-x-r4-2", 3), &[]), "try-x-r3");
        assert_eq!(first(rewind("main", 12), &[]), "main-r12");
        assert_eq!(first(rewind("session-2", 1), &[]), "session-2-r1");
        assert_eq!(first(rewind("fix-2-replay-3", 7), &[]), "fix-2-r7");
    }

    #[test]
    fn replays_and_imports() {
        assert_eq!(first(NewBranch::Replay { of: "main" }, &[]), "main-replay");
        assert_eq!(
            first(NewBranch::Replay { of: "main-replay" }, &["main-replay"]),
            "main-replay-2"
        );
        let session = "0123abcd-aaaa-4bbb-8ccc-000000000001";
        assert_eq!(first(NewBranch::Import { session }, &[]), "import-0123abcd");
        assert_eq!(
            first(NewBranch::Subagent { job: "3", session }, &[]),
            "subagent-3-0123abcd"
        );
    }

    #[test]
    fn names_stay_valid_and_short() {
        let long = "x".repeat(64);
        for name in candidates(NewBranch::Rewind {
            from: &long,
            after: TurnId(123),
        })
        .take(12)
        {
            assert!(name.chars().count() <= MAX_LEN, "{name}");
            crate::names::validate_branch_name(&name).unwrap();
        }
        assert_eq!(stem("-r4"), "-r4");
        assert_eq!(stem("r4"), "r4");
    }
}

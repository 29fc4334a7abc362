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
//! | `:btw` | `btw-1`, `btw-2`, … |
//! | after free text W (a `/fork` title, a planned name) | W made a name (`Fix it` → `fix-it`), … |
//!
//! A name is at most 64 characters (the stem is cut to fit). [`create`] makes a branch under
//! the first of the names that is free.

use crate::model::Branch;
use crate::store::{Store, StoreError};
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
    /// The side branch of a `:btw` question.
    Aside,
    /// A branch named after free text that makes a name ([`slug`] not empty; see
    /// [`after_text`]).
    Named { text: &'a str },
}

/// A branch named after `text` (a title, or a name planned before) when it has letters or
/// digits to make a name of, else a new conversation.
pub fn after_text(text: Option<&str>) -> NewBranch<'_> {
    match text {
        Some(text) if !slug(text).is_empty() => NewBranch::Named { text },
        _ => NewBranch::Conversation,
    }
}

/// The names to try for a new branch, best first (the scheme in the module doc).
pub fn candidates(new: NewBranch<'_>) -> impl Iterator<Item = String> + '_ {
    let (first, base): (Option<String>, String) = match new {
        NewBranch::Conversation => (Some("main".into()), "session".into()),
        NewBranch::Aside => (Some("btw-1".into()), "btw".into()),
        NewBranch::Named { text } => (None, fit(&slug(text))),
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
    first_free(store, candidates(new))
}

/// The first of `names` that no branch of `store` has yet.
pub fn first_free(store: &Store, names: impl Iterator<Item = String>) -> Result<String> {
    for name in names {
        if store.branch(&name)?.is_none() {
            return Ok(name);
        }
    }
    bail!("no free branch name")
}

/// Creates the branch `make(name)` under the first of `names` that is a valid branch name no
/// branch has yet, trying the next when another process takes one meanwhile; its name.
pub fn create(
    store: &Store,
    names: impl Iterator<Item = String>,
    make: impl Fn(String) -> Branch,
) -> Result<String> {
    for name in names {
        if crate::names::validate_branch_name(&name).is_err() || store.branch(&name)?.is_some() {
            continue;
        }
        match store.create_branch(make(name.clone())) {
            Ok(_) => return Ok(name),
            Err(e) if matches!(e.downcast_ref(), Some(StoreError::BranchExists { .. })) => {}
            Err(e) => return Err(e),
        }
    }
    bail!("no free branch name")
}

/// Free text made a branch name: lowercase letters, digits and `-`, at most 40 characters,
/// without Claude's " (Branch)" ending.
pub fn slug(text: &str) -> String {
    let text = text.trim().trim_end_matches("(Branch)").trim();
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
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

    #[test]
    fn asides_and_names_after_text() {
        assert_eq!(first(NewBranch::Aside, &[]), "btw-1");
        assert_eq!(first(NewBranch::Aside, &["btw-1"]), "btw-2");
        let named = after_text(Some("Fix the Parser (Branch)"));
        assert_eq!(first(named, &[]), "fix-the-parser");
        assert_eq!(first(named, &["fix-the-parser"]), "fix-the-parser-2");
        assert_eq!(first(after_text(Some(" … ")), &[]), "main");
        assert_eq!(first(after_text(None), &["main"]), "session-2");
    }

    #[test]
    fn create_takes_the_first_valid_free_name_and_says_when_none_is() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let root = |name| Branch {
            name,
            session_id: "s".into(),
            ..Branch::default()
        };
        store.create_branch(root("taken".into())).unwrap();
        let names = ["bad name", "taken", "free", "later"].map(String::from);
        let made = create(&store, names.clone().into_iter(), root).unwrap();
        assert_eq!(made, "free");
        assert!(store.branch("free").unwrap().is_some());
        let err = create(&store, names.into_iter().take(3), root).unwrap_err();
        assert_eq!(err.to_string(), "no free branch name");
        assert!(store.branch("bad name").unwrap().is_none());
    }
}

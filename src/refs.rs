//! Turn references (docs/guide.md): `12` or `#12`; `HEAD` (the current turn) and
//! `HEAD~N`; `BRANCH` (its head) and `BRANCH~N`. Parsing is pure; resolving walks parent
//! pointers in the store. (Branch names and "did you mean" are [`crate::names`]'s.)

pub use crate::names::{edit_distance, nearest_name, validate_branch_name};

use crate::ids::TurnId;
use crate::model::Turn;
use crate::store::Store;
use anyhow::{bail, Result};
use std::fmt;

/// A parsed turn reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnRef {
    /// `12` or `#12`.
    Id(TurnId),
    /// `HEAD` (back = 0) or `HEAD~N`.
    Head { back: u64 },
    /// `BRANCH` (back = 0) or `BRANCH~N`.
    Branch { name: String, back: u64 },
}

impl fmt::Display for TurnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (base, back) = match self {
            TurnRef::Id(id) => return write!(f, "#{id}"),
            TurnRef::Head { back } => ("HEAD", *back),
            TurnRef::Branch { name, back } => (name.as_str(), *back),
        };
        if back == 0 {
            write!(f, "{base}")
        } else {
            write!(f, "{base}~{back}")
        }
    }
}

/// Why a reference could not be parsed; the message is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("empty turn reference (expected 12, #12, HEAD, HEAD~N, BRANCH or BRANCH~N)")]
    Empty,
    #[error("'{0}' is not a turn id (expected a number like 12 or #12)")]
    BadId(String),
    #[error("'{0}': the number after ~ must be a whole number, like HEAD~2")]
    BadBack(String),
    #[error("'{0}': a turn id takes no ~N; write the id of the earlier turn, or BRANCH~N")]
    IdWithBack(String),
    #[error("'{reference}' is not a turn reference: {reason}")]
    BadName { reference: String, reason: String },
}

/// The N of `~N`: decimal digits only.
fn parse_count(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Parses a turn reference. Pure: whether the turn exists is for [`resolve_turn_ref`].
pub fn parse_turn_ref(s: &str) -> Result<TurnRef, RefError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(RefError::Empty);
    }
    if let Some(rest) = s.strip_prefix('#') {
        return TurnId::parse(rest)
            .map(TurnRef::Id)
            .ok_or_else(|| RefError::BadId(s.into()));
    }
    let (base, back) = match s.split_once('~') {
        // `X~` means `X~1`, as in git.
        Some((base, "")) => (base, 1),
        Some((base, n)) => (
            base,
            parse_count(n).ok_or_else(|| RefError::BadBack(s.into()))?,
        ),
        None => (s, 0),
    };
    if base.bytes().all(|b| b.is_ascii_digit()) && !base.is_empty() {
        if back > 0 || s.contains('~') {
            return Err(RefError::IdWithBack(s.into()));
        }
        return TurnId::parse(base)
            .map(TurnRef::Id)
            .ok_or_else(|| RefError::BadId(s.into()));
    }
    if base == "HEAD" {
        return Ok(TurnRef::Head { back });
    }
    validate_branch_name(base).map_err(|reason| RefError::BadName {
        reference: s.into(),
        reason,
    })?;
    Ok(TurnRef::Branch {
        name: base.into(),
        back,
    })
}

/// Resolves a reference against the store; `current_branch` is what HEAD means.
pub fn resolve_turn_ref(store: &Store, r: &TurnRef, current_branch: &str) -> Result<Turn> {
    let (branch_name, back) = match r {
        TurnRef::Id(id) => {
            return store
                .turn(*id)?
                .ok_or_else(|| anyhow::anyhow!("no turn #{id}"));
        }
        TurnRef::Head { back } => (current_branch, *back),
        TurnRef::Branch { name, back } => (name.as_str(), *back),
    };
    let Some(branch) = store.branch(branch_name)? else {
        let branches = store.branches()?;
        let suggestion = nearest_name(branch_name, branches.iter().map(|b| b.name.as_str()));
        // A bare word could have been meant as either; BRANCH~N names a branch.
        let what = if back == 0 {
            "no turn or branch"
        } else {
            "no branch"
        };
        match suggestion {
            Some(s) => bail!("{what} '{branch_name}' (did you mean '{s}'?)"),
            None => bail!("{what} '{branch_name}'"),
        }
    };
    let Some(head) = branch.head else {
        bail!("branch '{branch_name}' has no turns yet");
    };
    let mut turn = store
        .turn(head)?
        .ok_or_else(|| anyhow::anyhow!("no turn #{head} (the head of branch '{branch_name}')"))?;
    for _ in 0..back {
        let Some(parent) = turn.parent else {
            bail!("{r} goes past the first turn of {branch_name}");
        };
        turn = store
            .turn(parent)?
            .ok_or_else(|| anyhow::anyhow!("no turn #{parent} (the parent of #{})", turn.id))?;
    }
    Ok(turn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Branch, TurnEnd};
    use crate::query::fixtures::{branch, turn_start as start};

    #[test]
    fn parses_valid_references() {
        let table: &[(&str, TurnRef)] = &[
            ("12", TurnRef::Id(TurnId(12))),
            ("#12", TurnRef::Id(TurnId(12))),
            (" #7 ", TurnRef::Id(TurnId(7))),
            ("0", TurnRef::Id(TurnId(0))),
            ("HEAD", TurnRef::Head { back: 0 }),
            ("HEAD~1", TurnRef::Head { back: 1 }),
            ("HEAD~", TurnRef::Head { back: 1 }),
            ("HEAD~12", TurnRef::Head { back: 12 }),
            (
                "main",
                TurnRef::Branch {
                    name: "main".into(),
                    back: 0,
                },
            ),
            (
                "feat/x~3",
                TurnRef::Branch {
                    name: "feat/x".into(),
                    back: 3,
                },
            ),
            (
                "head",
                TurnRef::Branch {
                    name: "head".into(),
                    back: 0,
                },
            ),
            (
                "v2",
                TurnRef::Branch {
                    name: "v2".into(),
                    back: 0,
                },
            ),
        ];
        for (input, want) in table {
            assert_eq!(parse_turn_ref(input).as_ref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn rejects_invalid_references() {
        let table: &[(&str, RefError)] = &[
            ("", RefError::Empty),
            ("   ", RefError::Empty),
            ("#", RefError::BadId("#".into())),
            ("#x", RefError::BadId("#x".into())),
            ("#12~1", RefError::BadId("#12~1".into())),
            (
                "99999999999999999999999",
                RefError::BadId("99999999999999999999999".into()),
            ),
            ("HEAD~x", RefError::BadBack("HEAD~x".into())),
            ("HEAD~-1", RefError::BadBack("HEAD~-1".into())),
            ("HEAD~1~2", RefError::BadBack("HEAD~1~2".into())),
            ("12~1", RefError::IdWithBack("12~1".into())),
        ];
        for (input, want) in table {
            assert_eq!(parse_turn_ref(input).as_ref(), Err(want), "{input}");
        }
        for bad in ["-x", "a b", "a:b", "a^", "a..b", "~1"] {
            assert!(
                matches!(parse_turn_ref(bad), Err(RefError::BadName { .. })),
                "{bad}: {:?}",
                parse_turn_ref(bad)
            );
        }
    }

    #[test]
    fn displays_references() {
        assert_eq!(TurnRef::Id(TurnId(3)).to_string(), "#3");
        assert_eq!(TurnRef::Head { back: 0 }.to_string(), "HEAD");
        assert_eq!(TurnRef::Head { back: 5 }.to_string(), "HEAD~5");
        let r = TurnRef::Branch {
            name: "foo".into(),
            back: 2,
        };
        assert_eq!(r.to_string(), "foo~2");
    }

    #[test]
    fn resolves_against_the_store() {
        let (_dir, store) = crate::query::fixtures::temp_store();
        let resolve = |s: &str, current: &str| {
            resolve_turn_ref(&store, &parse_turn_ref(s).unwrap(), current)
                .map(|t| t.id)
                .map_err(|e| e.to_string())
        };
        for i in 1..=3 {
            let t = store.begin_turn(start("main", &format!("p{i}"))).unwrap();
            store.finish_turn(t.id, TurnEnd::default()).unwrap();
        }
        store
            .create_branch(branch("foo", Some("main"), Some(2), Some(2)))
            .unwrap();
        store.begin_turn(start("foo", "p4")).unwrap();
        store
            .create_branch(Branch {
                name: "empty".into(),
                ..Branch::default()
            })
            .unwrap();

        assert_eq!(resolve("2", "main"), Ok(TurnId(2)));
        assert_eq!(resolve("#3", "main"), Ok(TurnId(3)));
        assert_eq!(resolve("HEAD", "main"), Ok(TurnId(3)));
        assert_eq!(resolve("HEAD~1", "main"), Ok(TurnId(2)));
        assert_eq!(resolve("HEAD~2", "main"), Ok(TurnId(1)));
        assert_eq!(resolve("HEAD", "foo"), Ok(TurnId(4)));
        assert_eq!(resolve("HEAD~1", "foo"), Ok(TurnId(2)));
        assert_eq!(resolve("foo~2", "main"), Ok(TurnId(1)));
        assert_eq!(resolve("main", "foo"), Ok(TurnId(3)));

        #[rustfmt::skip]
        let refused = [
            ("42", "main", "no turn #42"),
            ("fo", "main", "no turn or branch 'fo' (did you mean 'foo'?)"),
            ("qqqqqq", "main", "no turn or branch 'qqqqqq'"),
            ("qqqqqq~1", "main", "no branch 'qqqqqq'"),
            ("HEAD~5", "main", "HEAD~5 goes past the first turn of main"),
            ("foo~3", "main", "foo~3 goes past the first turn of foo"),
            ("empty", "main", "branch 'empty' has no turns yet"),
        ];
        for (reference, current, want) in refused {
            assert_eq!(
                resolve(reference, current),
                Err(want.to_string()),
                "{reference}"
            );
        }
    }
}

//! Turn references (docs/guide.md): `12` or `#12`; `HEAD` (the current turn) and
//! `HEAD~N`; `BRANCH` (its head) and `BRANCH~N`. Parsing is pure; resolving walks parent
//! pointers in the store. Also the branch-name rules and the "did you mean" helper.

use crate::model::Turn;
use crate::store::Store;
use anyhow::{bail, Result};
use std::fmt;

/// A parsed turn reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnRef {
    /// `12` or `#12`.
    Id(u64),
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

fn parse_id(digits: &str) -> Option<u64> {
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
        return parse_id(rest)
            .map(TurnRef::Id)
            .ok_or_else(|| RefError::BadId(s.into()));
    }
    let (base, back) = match s.split_once('~') {
        // `X~` means `X~1`, as in git.
        Some((base, "")) => (base, 1),
        Some((base, n)) => (
            base,
            parse_id(n).ok_or_else(|| RefError::BadBack(s.into()))?,
        ),
        None => (s, 0),
    };
    if base.bytes().all(|b| b.is_ascii_digit()) && !base.is_empty() {
        if back > 0 || s.contains('~') {
            return Err(RefError::IdWithBack(s.into()));
        }
        return parse_id(base)
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

/// Edit distance over chars: insertions, deletions, substitutions, and a swap of two
/// neighbours (`lgo` for `log`) counted as one edit (optimal string alignment).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `wanted` by edit distance (ignoring case), if close enough to be a
/// plausible typo: at most 1 edit for names up to 3 characters, 2 up to 8, else a quarter of
/// the length. A candidate that starts with `wanted` (3+ characters) also counts.
pub fn nearest_name<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted_lc = wanted.to_lowercase();
    let len = wanted_lc.chars().count();
    let limit = match len {
        0..=3 => 1,
        4..=8 => 2,
        n => n / 4,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let cand_lc = cand.to_lowercase();
        let mut d = edit_distance(&wanted_lc, &cand_lc);
        if d > limit && len >= 3 && cand_lc.starts_with(&wanted_lc) {
            d = limit;
        }
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// The rules for branch names: non-empty, at most 64 characters, no whitespace or control
/// characters, not starting with `-` or `#`, not all digits, not `HEAD`, and none of `~ ^ :`
/// or `..` (they mean something in turn references and ranges).
pub fn validate_branch_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a branch name cannot be empty".into());
    }
    if name.chars().count() > 64 {
        return Err("a branch name has at most 64 characters".into());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a branch name cannot contain spaces or control characters".into());
    }
    if name.starts_with('-') {
        return Err("a branch name cannot start with '-'".into());
    }
    if name.starts_with('#') {
        return Err("a branch name cannot start with '#'".into());
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err("a branch name cannot be all digits (that is a turn id)".into());
    }
    if name == "HEAD" {
        return Err("HEAD means the current turn".into());
    }
    if let Some(c) = name.chars().find(|c| matches!(c, '~' | '^' | ':')) {
        return Err(format!("a branch name cannot contain '{c}'"));
    }
    if name.contains("..") {
        return Err("a branch name cannot contain '..'".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Branch, TurnEnd, TurnStart};

    #[test]
    fn parses_valid_references() {
        let table: &[(&str, TurnRef)] = &[
            ("12", TurnRef::Id(12)),
            ("#12", TurnRef::Id(12)),
            (" #7 ", TurnRef::Id(7)),
            ("0", TurnRef::Id(0)),
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
        assert_eq!(TurnRef::Id(3).to_string(), "#3");
        assert_eq!(TurnRef::Head { back: 0 }.to_string(), "HEAD");
        assert_eq!(TurnRef::Head { back: 5 }.to_string(), "HEAD~5");
        let r = TurnRef::Branch {
            name: "foo".into(),
            back: 2,
        };
        assert_eq!(r.to_string(), "foo~2");
    }

    #[test]
    fn branch_name_rules() {
        for ok in ["main", "fix-1", "feat/login", "v2", "a.b", "x_y", "über"] {
            assert_eq!(validate_branch_name(ok), Ok(()), "{ok}");
        }
        let long = "x".repeat(65);
        for bad in [
            "", " ", "a b", "a\tb", "-x", "#1", "123", "HEAD", "a~1", "a^", "a:b", "a..b",
        ] {
            assert!(validate_branch_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_branch_name(&long).is_err());
        assert!(validate_branch_name(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn a_swap_of_neighbours_is_one_edit() {
        assert_eq!(edit_distance("lgo", "log"), 1);
        assert_eq!(edit_distance("mian", "main"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("é😀", "😀é"), 1);
    }

    #[test]
    fn nearest_name_finds_typos() {
        let names = ["main", "foo", "feature-login", "bugfix"];
        assert_eq!(nearest_name("fo", names), Some("foo"));
        assert_eq!(nearest_name("mian", names), Some("main"));
        assert_eq!(nearest_name("Main", names), Some("main"));
        assert_eq!(nearest_name("feature-logn", names), Some("feature-login"));
        assert_eq!(nearest_name("feat", names), Some("feature-login"));
        assert_eq!(nearest_name("zzzzzz", names), None);
        assert_eq!(nearest_name("x", names), None);
        assert_eq!(nearest_name("main", Vec::<&str>::new()), None);
    }

    fn start(branch: &str, prompt: &str) -> TurnStart {
        TurnStart {
            branch: branch.into(),
            prompt: prompt.into(),
            session_id: "s1".into(),
            ..TurnStart::default()
        }
    }

    #[test]
    fn resolves_against_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
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
            .create_branch(Branch {
                name: "foo".into(),
                parent_branch: Some("main".into()),
                fork_turn: Some(2),
                head: Some(2),
                ..Branch::default()
            })
            .unwrap();
        store.begin_turn(start("foo", "p4")).unwrap();
        store
            .create_branch(Branch {
                name: "empty".into(),
                ..Branch::default()
            })
            .unwrap();

        assert_eq!(resolve("2", "main"), Ok(2));
        assert_eq!(resolve("#3", "main"), Ok(3));
        assert_eq!(resolve("HEAD", "main"), Ok(3));
        assert_eq!(resolve("HEAD~1", "main"), Ok(2));
        assert_eq!(resolve("HEAD~2", "main"), Ok(1));
        assert_eq!(resolve("HEAD", "foo"), Ok(4));
        assert_eq!(resolve("HEAD~1", "foo"), Ok(2));
        assert_eq!(resolve("foo~2", "main"), Ok(1));
        assert_eq!(resolve("main", "foo"), Ok(3));

        assert_eq!(resolve("42", "main"), Err("no turn #42".into()));
        assert_eq!(
            resolve("fo", "main"),
            Err("no turn or branch 'fo' (did you mean 'foo'?)".into())
        );
        assert_eq!(
            resolve("qqqqqq", "main"),
            Err("no turn or branch 'qqqqqq'".into())
        );
        assert_eq!(
            resolve("qqqqqq~1", "main"),
            Err("no branch 'qqqqqq'".into())
        );
        assert_eq!(
            resolve("HEAD~5", "main"),
            Err("HEAD~5 goes past the first turn of main".into())
        );
        assert_eq!(
            resolve("foo~3", "main"),
            Err("foo~3 goes past the first turn of foo".into())
        );
        assert_eq!(
            resolve("empty", "main"),
            Err("branch 'empty' has no turns yet".into())
        );
    }
}

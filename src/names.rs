//! Names people type, checked in one place: the rules for a branch name ([`BranchName`]),
//! and the "did you mean" helper that finds the known name nearest to a mistyped one. Pure;
//! the store, the turn references and the editor all use these.

/// The longest branch name, in characters.
pub const MAX_BRANCH_NAME: usize = 64;

/// A branch name that follows the rules ([`validate_branch_name`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BranchName(String);

impl BranchName {
    /// `name` if it is a valid branch name, else why not (one line).
    pub fn parse(name: &str) -> Result<BranchName, String> {
        validate_branch_name(name).map(|()| BranchName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The rules for branch names: non-empty, at most 64 characters, no whitespace or control
/// characters, not starting with `-` or `#`, not all digits, not `HEAD`, and none of `~ ^ :`
/// or `..` (they mean something in turn references and ranges).
pub fn validate_branch_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a branch name cannot be empty".into());
    }
    if name.chars().count() > MAX_BRANCH_NAME {
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

/// Edit distance over chars, a swap of two neighbours counting as one edit.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_of_neighbours_is_one_edit() {
        assert_eq!(edit_distance("lgo", "log"), 1);
        assert_eq!(edit_distance("mian", "main"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("é😀", "😀é"), 1);
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
        assert_eq!(BranchName::parse("main").unwrap().as_str(), "main");
        assert_eq!(
            BranchName::parse("a b").unwrap_err(),
            "a branch name cannot contain spaces or control characters"
        );
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
}

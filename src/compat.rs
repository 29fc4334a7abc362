//! The Claude Code versions ccx was tested with: the table `scripts/compat.sh` writes to
//! `docs/compat.md`, compiled in, and how the version someone runs compares with it.

use std::cmp::Ordering;
use std::fmt;

/// `docs/compat.md` as it was when this ccx was built.
pub const TABLE: &str = include_str!("../docs/compat.md");

/// A Claude Code version number (`2.1.330`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    /// Reads `2.1.330`, or the first word of `claude --version` (`2.1.330 (Claude Code)`).
    pub fn parse(text: &str) -> Option<Version> {
        let word = text.split_whitespace().next()?;
        let mut parts = word.trim_start_matches('v').split('.');
        let mut next = || parts.next()?.parse::<u64>().ok();
        let version = Version(next()?, next()?, next()?);
        parts.next().is_none().then_some(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// One version's row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tested {
    pub version: Version,
    /// The day the checks ran (`2026-12-01`).
    pub date: String,
    /// Every check passed.
    pub all_pass: bool,
}

/// The rows of the table: lines `| VERSION | DATE | pass | FAIL | ... |`.
pub fn rows(table: &str) -> Vec<Tested> {
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            let version = Version::parse(cells.first()?)?;
            let results = cells.get(2..).filter(|r| !r.is_empty())?;
            Some(Tested {
                version,
                date: cells.get(1)?.to_string(),
                all_pass: results.iter().all(|r| *r == "pass"),
            })
        })
        .collect()
}

/// The newest version whose checks all passed.
pub fn newest_passing(table: &str) -> Option<Tested> {
    rows(table)
        .into_iter()
        .filter(|t| t.all_pass)
        .max_by_key(|t| t.version)
}

/// What to tell someone running `in_use`, and whether it is a warning.
pub fn verdict(in_use: Version, table: &str) -> (bool, String) {
    let Some(newest) = newest_passing(table) else {
        return (
            true,
            format!("Claude Code {in_use}: this ccx was built without a tested-versions table"),
        );
    };
    let row = rows(table).into_iter().find(|t| t.version == in_use);
    if let Some(row) = row.as_ref().filter(|r| !r.all_pass) {
        return (
            true,
            format!(
                "Claude Code {in_use}: some of ccx's checks failed with it on {}; the newest \
                 version that passed them all is {}",
                row.date, newest.version
            ),
        );
    }
    match (in_use.cmp(&newest.version), row) {
        (Ordering::Greater, _) => (
            true,
            format!(
                "Claude Code {in_use} is newer than the newest version this ccx was tested with \
                 ({}, on {}). ccx still runs it and records what it can; anything it does not \
                 recognise is listed below as it is met",
                newest.version, newest.date
            ),
        ),
        (_, Some(row)) => (
            false,
            format!(
                "Claude Code {in_use}: tested with this ccx on {} (newest tested: {})",
                row.date, newest.version
            ),
        ),
        (_, None) => (
            false,
            format!(
                "Claude Code {in_use}: not in this ccx's tested list (newest tested: {})",
                newest.version
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "# heading\n\n| Claude Code | tested | a | b |\n| --- | --- | --- | --- |\n\
        | 2.1.332 | 2026-12-01 | pass | FAIL |\n| 2.1.331 | 2026-12-01 | pass | pass |\n\
        | 2.1.330 | 2026-11-30 | pass | pass |\n\n- a: `x::y`\n";

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("2.1.330"), Some(Version(2, 1, 330)));
        assert_eq!(
            Version::parse("2.1.330 (Claude Code)\n"),
            Some(Version(2, 1, 330))
        );
        assert_eq!(Version::parse("v2.10.3"), Some(Version(2, 10, 3)));
        for bad in ["", "2.1", "2.1.x", "2.1.3.4", "Claude Code"] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
        assert!(Version(2, 1, 330) < Version(2, 1, 1000));
        assert!(Version(2, 2, 0) > Version(2, 1, 999));
        assert_eq!(Version(2, 1, 330).to_string(), "2.1.330");
    }

    #[test]
    fn the_table_gives_its_rows_and_the_newest_version_that_passed_everything() {
        let rows = rows(TABLE);
        assert_eq!(rows.len(), 3);
        assert!(!rows[0].all_pass);
        assert_eq!(
            newest_passing(TABLE).map(|t| (t.version, t.date)),
            Some((Version(2, 1, 331), "2026-12-01".to_string()))
        );
        assert_eq!(newest_passing("no table here"), None);
    }

    #[test]
    fn a_newer_version_is_a_warning_and_a_tested_one_is_not() {
        let (warn, text) = verdict(Version(2, 1, 340), TABLE);
        assert!(warn);
        assert!(
            text.contains("2.1.340 is newer") && text.contains("2.1.331"),
            "{text}"
        );
        let (warn, text) = verdict(Version(2, 1, 330), TABLE);
        assert!(!warn, "{text}");
        assert!(
            text.contains("tested with this ccx on 2026-11-30"),
            "{text}"
        );
        let (warn, text) = verdict(Version(2, 1, 332), TABLE);
        assert!(warn, "a version whose checks failed is a warning: {text}");
        assert!(text.contains("some of ccx's checks failed"), "{text}");
        let (warn, text) = verdict(Version(2, 0, 1), TABLE);
        assert!(!warn);
        assert!(text.contains("not in this ccx's tested list"), "{text}");
    }

    #[test]
    fn the_compiled_in_table_names_a_version_that_passed() {
        assert!(newest_passing(super::TABLE).is_some(), "{}", super::TABLE);
    }
}

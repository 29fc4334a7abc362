//! Lists the files a snapshot holds: every regular file and symbolic link under the work tree
//! that git would not ignore (`.gitignore` files, the repository's `info/exclude`, the global
//! excludes file), tracked by the person's repository or not, with its `lstat`. Never enters a
//! `.git` folder nor an embedded repository (a folder holding its own `.git`), never follows a
//! link, and leaves out files over the size cap, naming them. Reads only; the walk is the
//! `ignore` crate's, the one ripgrep uses.

use super::stat_cache::FileStat;
use anyhow::{bail, Result};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Instant;

/// One file of the work tree.
#[derive(Debug, Clone)]
pub struct Found {
    /// Relative to the work tree, `/`-separated.
    pub path: Vec<u8>,
    pub stat: FileStat,
}

/// The files, and those left out for their size (`path (N bytes)`).
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<Found>,
    pub skipped: Vec<String>,
}

/// How many entries the walk reads between two looks at the clock.
const CLOCK_EVERY: usize = 64;

/// Lists `work_tree` (see the module doc), giving up at `deadline`.
pub fn list(work_tree: &Path, size_cap: u64, deadline: Instant) -> Result<Listing> {
    let mut walk = ignore::WalkBuilder::new(work_tree);
    walk.standard_filters(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            entry.file_name() != ".git"
                && !(is_dir && entry.depth() > 0 && entry.path().join(".git").exists())
        });
    let mut listing = Listing::default();
    for (seen, entry) in walk.build().enumerate() {
        if seen % CLOCK_EVERY == 0 && Instant::now() >= deadline {
            bail!("the snapshot ran out of time listing the files");
        }
        // A folder that cannot be read, or a file gone since its folder was read: left out.
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_none_or(|t| t.is_dir()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(work_tree) else {
            continue;
        };
        let Some(stat) = entry.metadata().ok().as_ref().and_then(FileStat::of) else {
            continue;
        };
        let path = rel.as_os_str().as_bytes().to_vec();
        if stat.mode != 0o120000 && stat.size > size_cap {
            let shown = String::from_utf8_lossy(&path);
            listing
                .skipped
                .push(format!("{shown} ({} bytes)", stat.size));
            continue;
        }
        listing.files.push(Found { path, stat });
    }
    listing.skipped.sort();
    Ok(listing)
}

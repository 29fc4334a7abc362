//! Lists the files a snapshot holds: every regular file and symbolic link under the work tree
//! that git would not ignore (`.gitignore` files, the repository's `info/exclude`, the global
//! excludes file), tracked by the person's repository or not, with its `lstat`. Never enters a
//! `.git` folder nor an embedded repository (a folder holding its own `.git`), never follows a
//! link, and leaves out files over the size cap, naming them. Reads only.
//!
//! The walk is plain `read_dir`, each file's `lstat` taken relative to its open folder (no
//! path lookup from the root for each of thousands of files) by helper threads while the walk
//! goes on; the ignore rules are matched by the `ignore` crate's gitignore matcher (the one
//! ripgrep uses), deepest `.gitignore` first.

use super::stat_cache::FileStat;
use anyhow::{bail, Result};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
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

/// At most this many files go to a helper at once (a folder's files, in pieces of this size).
const BATCH: usize = 256;

/// Files found by the walk, waiting for their `lstat` (each entry keeps its folder open).
type Batch = Vec<(std::fs::DirEntry, Vec<u8>)>;

/// Lists `work_tree` (see the module doc), in no particular order, giving up at `deadline`.
///
/// This thread walks the folders and hands each folder's files, as soon as it has read them,
/// to helper threads (one per further CPU) that take their `lstat`s and close the folders;
/// once the walk is done it helps too. The three costs (reading folders, `lstat`, closing
/// folders) then overlap over the CPUs instead of following one another.
pub fn list(work_tree: &Path, size_cap: u64, deadline: Instant) -> Result<Listing> {
    let (batches, receiver) = std::sync::mpsc::channel::<Batch>();
    let receiver = std::sync::Mutex::new(receiver);
    let helpers = crate::parallel::threads(4) - 1;
    let found = std::thread::scope(|scope| -> Result<Vec<Found>> {
        let running: Vec<_> = (0..helpers)
            .map(|_| scope.spawn(|| stat_batches(&receiver, deadline)))
            .collect();
        let mut walk = Walk {
            deadline,
            seen: 0,
            rules: Vec::new(),
            outer: outer_rules(work_tree),
            batches,
        };
        let walked = walk.folder(work_tree, &[]);
        drop(walk); // ends the helpers once they have what was sent
        let mut found = stat_batches(&receiver, deadline);
        for helper in running {
            let part = helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            match (&mut found, part) {
                (Ok(all), Ok(part)) => all.extend(part),
                (Ok(_), Err(err)) => found = Err(err),
                (Err(_), _) => {}
            }
        }
        walked?;
        found
    })?;
    let mut listing = Listing::default();
    for file in found {
        if file.stat.mode != 0o120000 && file.stat.size > size_cap {
            let shown = String::from_utf8_lossy(&file.path);
            listing
                .skipped
                .push(format!("{shown} ({} bytes)", file.stat.size));
        } else {
            listing.files.push(file);
        }
    }
    listing.skipped.sort();
    Ok(listing)
}

/// Takes the `lstat` of each file of the batches `receiver` hands out until none is left,
/// dropping each entry after (a folder is closed with its last entry). Files gone, or neither
/// a file nor a link, are left out.
fn stat_batches(
    receiver: &std::sync::Mutex<std::sync::mpsc::Receiver<Batch>>,
    deadline: Instant,
) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    loop {
        let next = receiver
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        let Ok(batch) = next else {
            return Ok(found);
        };
        if Instant::now() >= deadline {
            bail!("the snapshot ran out of time reading the files' status");
        }
        for (entry, path) in batch {
            if let Some(stat) = entry.metadata().ok().as_ref().and_then(FileStat::of) {
                found.push(Found { path, stat });
            }
        }
    }
}

/// The rules below every `.gitignore`: the repository's `info/exclude`, then the person's
/// global excludes file; each rooted at the work tree.
fn outer_rules(work_tree: &Path) -> Vec<Gitignore> {
    let mut rules = Vec::new();
    let exclude = work_tree.join(".git/info/exclude");
    if exclude.is_file() {
        let mut builder = GitignoreBuilder::new(work_tree);
        builder.add(&exclude);
        rules.extend(builder.build().ok());
    }
    rules.push(GitignoreBuilder::new(work_tree).build_global().0);
    rules
}

struct Walk {
    deadline: Instant,
    seen: usize,
    /// The `.gitignore` rules of the folders from the root down to the current one.
    rules: Vec<Gitignore>,
    outer: Vec<Gitignore>,
    /// Where each folder's files not ignored go, with their paths, for their `lstat`.
    batches: std::sync::mpsc::Sender<Batch>,
}

impl Walk {
    /// Lists the folder `abs` (`rel` from the work tree) and the folders under it.
    fn folder(&mut self, abs: &Path, rel: &[u8]) -> Result<()> {
        // A folder that cannot be read, or one gone since its parent was read: left out.
        let Ok(read) = std::fs::read_dir(abs) else {
            return Ok(());
        };
        let entries: Vec<std::fs::DirEntry> = read.flatten().collect();
        let named = |name: &str| entries.iter().any(|e| e.file_name() == name);
        if !rel.is_empty() && named(".git") {
            return Ok(()); // an embedded repository: git would not add its files either
        }
        let own_rules = named(".gitignore");
        if own_rules {
            let mut builder = GitignoreBuilder::new(abs);
            builder.add(abs.join(".gitignore"));
            self.rules
                .push(builder.build().unwrap_or_else(|_| Gitignore::empty()));
        }
        let mut files = Vec::new();
        for entry in entries {
            self.seen += 1;
            if self.seen.is_multiple_of(CLOCK_EVERY) && Instant::now() >= self.deadline {
                bail!("the snapshot ran out of time listing the files");
            }
            self.entry(entry, rel, &mut files)?;
            if files.len() >= BATCH {
                self.hand_out(std::mem::take(&mut files));
            }
        }
        self.hand_out(files);
        if own_rules {
            self.rules.pop();
        }
        Ok(())
    }

    /// Hands files to the threads taking their `lstat` (all of them have ended only when the
    /// walk failed, which then says why).
    fn hand_out(&self, files: Batch) {
        if !files.is_empty() {
            let _ = self.batches.send(files);
        }
    }

    fn entry(&mut self, entry: std::fs::DirEntry, folder: &[u8], files: &mut Batch) -> Result<()> {
        let name = entry.file_name();
        if name == ".git" {
            return Ok(());
        }
        let Ok(kind) = entry.file_type() else {
            return Ok(());
        };
        let abs = entry.path();
        if self.ignored(&abs, kind.is_dir()) {
            return Ok(());
        }
        let mut path = folder.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(name.as_bytes());
        if kind.is_dir() {
            return self.folder(&abs, &path);
        }
        files.push((entry, path));
        Ok(())
    }

    /// What git decides for `abs`: the deepest `.gitignore` with a rule for it, else
    /// `info/exclude`, else the global file.
    fn ignored(&self, abs: &Path, is_dir: bool) -> bool {
        for rules in self.rules.iter().rev().chain(&self.outer) {
            match rules.matched(abs, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

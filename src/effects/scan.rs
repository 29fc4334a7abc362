//! Takes a snapshot in process: lists the work tree (`worktree`), reads and stores as blobs
//! only the files whose stat differs from the stat cache's (`stat_cache`), and writes a tree
//! for each folder that changed (the cache holds the others' ids), all as one pack in the
//! side repository (`objects`, `pack`), so git reads them like any other. No git process starts: a
//! snapshot of a warm 5,000-file project costs one walk with an `lstat` per file.
//!
//! Each new tree also gets a commit on `refs/ccx/snapshots`, whose parent is the snapshot
//! before: it keeps every tree reachable (the packing keeps them all) and lets git's packing
//! store each tree as a delta against the same folder's previous version.

use super::objects::ObjectWriter;
use super::stat_cache::{CachedFile, PathMap, StatCache};
use super::worktree::{self, Found};
use anyhow::{bail, Context, Result};
use gix_hash::ObjectId;
use gix_object::tree::{Entry, EntryKind, EntryMode};
use gix_object::{Kind, Tree, WriteTo};
use std::collections::HashSet;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Where a snapshot reads and writes.
pub struct Scan<'a> {
    pub work_tree: &'a Path,
    /// The side repository.
    pub git_dir: &'a Path,
    /// The stat cache's file.
    pub cache: &'a Path,
    pub size_cap: u64,
}

/// What a snapshot found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub tree: ObjectId,
    /// `path (N bytes)` of each file over the size cap.
    pub skipped: Vec<String>,
    /// Files read and hashed (their stat did not vouch for them).
    pub hashed: usize,
    /// Compressed bytes of the objects written.
    pub written: u64,
}

impl Scan<'_> {
    /// The files as they stand now, as a tree; fails at `deadline` (the cache is then left as
    /// it was; the objects written so far stay, harmless).
    pub fn take(&self, deadline: Instant) -> Result<Taken> {
        self.take_as_of(deadline, wall_clock_ns())
    }

    /// [`Scan::take`], the scan beginning at `started_ns` (nanoseconds since the epoch) as far
    /// as trusting recent changes goes.
    fn take_as_of(&self, deadline: Instant, started_ns: i64) -> Result<Taken> {
        let objects = self.git_dir.join("objects");
        // The cache is brought up to date in place: a file whose stat vouches for it costs a
        // lookup, nothing more.
        let (mut cache, listing) = self.cache_and_listing(&objects, deadline);
        let listing = listing?;
        let (known, old_root) = (cache.files.len(), cache.root);
        let mut store = ObjectWriter::new(&objects);
        let (mut changed, mut cache_changed, mut hashed, mut listed_again) =
            (Vec::new(), false, 0, 0);
        for found in &listing.files {
            let cached = cache.files.get(&found.path).copied();
            listed_again += usize::from(cached.is_some());
            if cached.is_some_and(|c| c.trusted && c.stat == found.stat) {
                continue;
            }
            if Instant::now() >= deadline {
                bail!("the snapshot ran out of time reading the changed files");
            }
            let Some(oid) = self.store_blob(&mut store, found, cached.map(|c| c.oid))? else {
                // Gone since it was listed.
                if cache.files.remove(&found.path).is_some() {
                    changed.push(found.path.clone());
                }
                continue;
            };
            hashed += 1;
            let trusted = found.stat.settled_before(started_ns);
            let stat = found.stat;
            let file = CachedFile { stat, oid, trusted };
            if cached.is_none_or(|c| c.oid != oid || c.stat.mode != stat.mode) {
                changed.push(found.path.clone());
            }
            cache_changed |= cached != Some(file);
            cache.files.insert(found.path.clone(), file);
        }
        // Each path is listed once: when fewer cached files were listed again, some are gone.
        if listed_again < known {
            changed.extend(forget_unlisted(&mut cache, &listing.files));
        }
        let tree = match old_root {
            Some(root) if changed.is_empty() => root,
            _ => {
                let dirty = folders_of(&changed);
                let (root, trees) = write_trees(&mut store, &cache.files, &cache.trees, &dirty)?;
                cache_changed |= trees != cache.trees;
                cache.trees = trees;
                root
            }
        };
        cache.root = Some(tree);
        let chain = self.git_dir.join(CHAIN_REF);
        let commit = (old_root != Some(tree) || !chain.is_file())
            .then(|| chain_commit(&mut store, &chain, tree))
            .transpose()?;
        let written = store.written;
        store.finish()?;
        if let Some(commit) = commit {
            point_ref(&chain, commit)?;
        }
        if cache_changed || !changed.is_empty() {
            cache
                .save(self.cache)
                .with_context(|| format!("cannot write {}", self.cache.display()))?;
        }
        Ok(Taken {
            tree,
            skipped: listing.skipped,
            hashed,
            written,
        })
    }

    /// The stat cache (empty when the side repository has no objects yet), read while the work
    /// tree is listed; and the listing.
    fn cache_and_listing(
        &self,
        objects: &Path,
        deadline: Instant,
    ) -> (StatCache, Result<worktree::Listing>) {
        std::thread::scope(|scope| {
            let old = scope.spawn(|| {
                if objects.is_dir() {
                    StatCache::load(self.cache)
                } else {
                    StatCache::default()
                }
            });
            let listing = worktree::list(self.work_tree, self.size_cap, deadline);
            let old = old
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (old, listing)
        })
    }

    /// Reads one file (a link's target, for a link) and stores it as a blob; `None` when it
    /// is gone.
    fn store_blob(
        &self,
        store: &mut ObjectWriter,
        found: &Found,
        known: Option<ObjectId>,
    ) -> Result<Option<ObjectId>> {
        let abs = self
            .work_tree
            .join(std::ffi::OsStr::from_bytes(&found.path));
        let read = if found.stat.mode == 0o120000 {
            std::fs::read_link(&abs).map(|t| t.into_os_string().into_vec())
        } else {
            std::fs::read(&abs)
        };
        let data = match read {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            // Unreadable (permissions): left out, as `git add --ignore-errors` would.
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", abs.display())),
        };
        store.write(Kind::Blob, &data, known).map(Some)
    }
}

/// Removes from `cache` every file `listed` does not hold; their paths.
fn forget_unlisted(cache: &mut StatCache, listed: &[Found]) -> Vec<Vec<u8>> {
    let listed: HashSet<&[u8]> = listed.iter().map(|f| f.path.as_slice()).collect();
    let gone: Vec<Vec<u8>> = (cache.files.keys())
        .filter(|p| !listed.contains(p.as_slice()))
        .cloned()
        .collect();
    for path in &gone {
        cache.files.remove(path);
    }
    gone
}

/// Every folder holding one of `paths`, up to the root (the empty path).
fn folders_of(paths: &[Vec<u8>]) -> HashSet<Vec<u8>> {
    let mut folders = HashSet::new();
    for path in paths {
        let mut rest: &[u8] = path;
        while let Some(slash) = rest.iter().rposition(|&b| b == b'/') {
            rest = &rest[..slash];
            if !folders.insert(rest.to_vec()) {
                break;
            }
        }
        folders.insert(Vec::new());
    }
    folders
}

/// A path's folder and name.
fn split(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(slash) => (&path[..slash], &path[slash + 1..]),
        None => (&[], path),
    }
}

/// Writes the tree of every folder of `files` that is in `dirty` or not in `cached` (reusing
/// the cached id of the others); the root's id, and every folder's.
fn write_trees(
    store: &mut ObjectWriter,
    files: &PathMap<CachedFile>,
    cached: &PathMap<ObjectId>,
    dirty: &HashSet<Vec<u8>>,
) -> Result<(ObjectId, PathMap<ObjectId>)> {
    let mut trees = PathMap::default();
    let mut folders: PathMap<Vec<Entry>> = PathMap::default();
    folders.insert(Vec::new(), Vec::new());
    for (path, file) in files {
        let (folder, name) = split(path);
        let kind = match file.stat.mode {
            0o120000 => EntryKind::Link,
            0o100755 => EntryKind::BlobExecutable,
            _ => EntryKind::Blob,
        };
        folders.entry(folder.to_vec()).or_default().push(Entry {
            mode: EntryMode::from(kind),
            filename: name.into(),
            oid: file.oid,
        });
        // Make sure every folder up to the root is there, even one holding only folders.
        let mut up = folder;
        while !up.is_empty() {
            up = split(up).0;
            if folders.contains_key(up) {
                break;
            }
            folders.insert(up.to_vec(), Vec::new());
        }
    }
    let mut order: Vec<Vec<u8>> = folders.keys().cloned().collect();
    // Deepest first, so a folder's subfolders have their ids before it is written.
    order.sort_by_key(|f| std::cmp::Reverse(depth(f)));
    let mut buf = Vec::new();
    for folder in order {
        let entries = folders.remove(&folder).unwrap_or_default();
        let id = match cached.get(&folder) {
            Some(id) if !dirty.contains(&folder) => *id,
            _ => {
                let mut tree = Tree { entries };
                tree.entries.sort();
                buf.clear();
                tree.write_to(&mut buf)?;
                store.write(Kind::Tree, &buf, None)?
            }
        };
        if !folder.is_empty() {
            let (parent, name) = split(&folder);
            folders.entry(parent.to_vec()).or_default().push(Entry {
                mode: EntryMode::from(EntryKind::Tree),
                filename: name.into(),
                oid: id,
            });
        }
        trees.insert(folder, id);
    }
    let root = (trees.get(&Vec::new()).copied()).context("the snapshot lost its root folder")?;
    Ok((root, trees))
}

fn depth(folder: &[u8]) -> usize {
    if folder.is_empty() {
        0
    } else {
        1 + folder.iter().filter(|&&b| b == b'/').count()
    }
}

/// The ref whose history holds every snapshot.
pub const CHAIN_REF: &str = "refs/ccx/snapshots";

/// Adds a commit of `tree` whose parent is the commit `chain` names (if any); its id.
fn chain_commit(store: &mut ObjectWriter, chain: &Path, tree: ObjectId) -> Result<ObjectId> {
    let parent = std::fs::read(chain)
        .ok()
        .and_then(|text| ObjectId::from_hex(text.trim_ascii()).ok());
    let signature = gix_actor::Signature {
        name: "ccx".into(),
        email: "ccx@localhost".into(),
        time: gix_object::date::Time {
            seconds: wall_clock_ns() / 1_000_000_000,
            offset: 0,
        },
    };
    let commit = gix_object::Commit {
        tree,
        parents: parent.into_iter().collect(),
        author: signature.clone(),
        committer: signature,
        encoding: None,
        message: "ccx snapshot\n".into(),
        extra_headers: Vec::new(),
    };
    let mut buf = Vec::new();
    commit.write_to(&mut buf)?;
    store.write(Kind::Commit, &buf, None)
}

/// Points the ref file `chain` at `id`.
fn point_ref(chain: &Path, id: ObjectId) -> Result<()> {
    let folder = chain.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let mut file = tempfile::Builder::new()
        .prefix(".snapshots-")
        .tempfile_in(folder)?;
    std::io::Write::write_all(&mut file, format!("{id}\n").as_bytes())?;
    file.persist(chain).map_err(|e| e.error)?;
    Ok(())
}

fn wall_clock_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::stat_cache::FileStat;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    use std::time::Duration;

    struct World {
        _tmp: tempfile::TempDir,
        work: std::path::PathBuf,
        git_dir: std::path::PathBuf,
        cache: std::path::PathBuf,
    }

    fn world() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("work");
        let git_dir = tmp.path().join("side.git");
        std::fs::create_dir_all(&work).unwrap();
        git(&git_dir, None, &["init", "-q", "--bare", "."]);
        let cache = tmp.path().join("stat-cache");
        World {
            _tmp: tmp,
            work,
            git_dir,
            cache,
        }
    }

    /// Runs git on `git_dir` (with `work` as its work tree), its output.
    fn git(git_dir: &Path, work: Option<&Path>, args: &[&str]) -> String {
        std::fs::create_dir_all(git_dir).unwrap();
        let mut cmd = Command::new("git");
        cmd.env("GIT_DIR", git_dir).current_dir(git_dir).args(args);
        if let Some(work) = work {
            cmd.env("GIT_WORK_TREE", work).current_dir(work);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    impl World {
        fn scan(&self, cap: u64) -> Scan<'_> {
            Scan {
                work_tree: &self.work,
                git_dir: &self.git_dir,
                cache: &self.cache,
                size_cap: cap,
            }
        }

        /// A snapshot late enough that every file's stat is trusted.
        fn settled(&self) -> Taken {
            let later = wall_clock_ns() + 60_000_000_000;
            let soon = Instant::now() + Duration::from_secs(60);
            self.scan(1 << 20).take_as_of(soon, later).unwrap()
        }

        fn now(&self) -> Taken {
            let soon = Instant::now() + Duration::from_secs(60);
            self.scan(1 << 20).take(soon).unwrap()
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.work.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }

        /// `mode type id<TAB>path` of every file of `tree`, as git lists it.
        fn listing(&self, tree: &ObjectId) -> String {
            git(&self.git_dir, None, &["ls-tree", "-r", &tree.to_string()])
        }

        /// The paths of every file of `tree`, as git lists them.
        fn paths(&self, tree: &ObjectId) -> Vec<String> {
            self.listing(tree)
                .lines()
                .filter_map(|l| l.split('\t').nth(1))
                .map(str::to_owned)
                .collect()
        }

        /// The tree git itself writes for the work tree (`git add -A && git write-tree` in a
        /// fresh `.git` there, which is also the person's repository a snapshot leaves out).
        fn git_tree(&self) -> String {
            let theirs = self.work.join(".git");
            std::fs::remove_dir_all(&theirs).ok();
            git(&theirs, None, &["init", "-q", "--bare", "."]);
            git(&theirs, Some(&self.work), &["add", "-A"]);
            git(&theirs, Some(&self.work), &["write-tree"])
                .trim()
                .to_string()
        }
    }

    #[test]
    fn the_tree_is_the_one_git_writes_for_the_same_files() {
        let w = world();
        w.write("README", "hello\n");
        w.write("src/main.rs", "fn main() {}\n");
        w.write("src/deep/er/x.txt", "x\n");
        w.write("src.rs", "ordering: src.rs sorts before src/ in git\n");
        w.write(".gitignore", "*.log\ntarget/\n");
        w.write("noise.log", "ignored\n");
        w.write("target/big.bin", "ignored folder\n");
        w.write("run.sh", "#!/bin/sh\n");
        let run = w.work.join("run.sh");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("src/main.rs", w.work.join("link")).unwrap();
        std::os::unix::fs::symlink("src", w.work.join("dirlink")).unwrap();
        let ours = w.now().tree;
        assert_eq!(ours.to_string(), w.git_tree());
        // The person's repository (here `.git`) is never part of the snapshot.
        assert_eq!(w.now().tree, ours);
        let listing = w.listing(&ours);
        assert!(listing.contains("100755 blob"), "{listing}");
        assert!(listing.contains("120000 blob"), "{listing}");
        assert!(!listing.contains(".log") && !listing.contains("target/"));
    }

    #[test]
    fn many_folders_of_many_files_give_git_s_tree_before_and_after_deletions() {
        let w = world();
        // Folders of more files than one batch of lstat work, and nested ones.
        for d in 0..6 {
            for f in 0..300 {
                w.write(&format!("d{d}/f{f:03}.txt"), &format!("{d}/{f}\n"));
            }
            w.write(&format!("d{d}/deeper/x.txt"), "x\n");
        }
        let first = w.settled();
        assert_eq!(first.hashed, 6 * 301);
        assert_eq!(first.tree.to_string(), w.git_tree());
        for d in 0..6 {
            for f in (0..300).step_by(7) {
                std::fs::remove_file(w.work.join(format!("d{d}/f{f:03}.txt"))).unwrap();
            }
        }
        std::fs::remove_dir_all(w.work.join("d5")).unwrap();
        let second = w.settled();
        assert_eq!(second.hashed, 0, "deletions read nothing");
        assert_eq!(second.tree.to_string(), w.git_tree());
        assert_eq!(w.settled().tree, second.tree);
    }

    #[test]
    fn untracked_changed_deleted_and_ignored_files_and_modes_are_seen() {
        let w = world();
        w.write("a.txt", "one\n");
        w.write("b.txt", "bee\n");
        w.write("sub/c.txt", "sea\n");
        let first = w.settled();
        assert_eq!(first.hashed, 3);
        assert_eq!(w.settled().hashed, 0, "nothing read again");
        w.write("a.txt", "two\n");
        std::fs::remove_file(w.work.join("b.txt")).unwrap();
        std::fs::remove_dir_all(w.work.join("sub")).unwrap();
        w.write("new/d.txt", "dee\n");
        w.write(".gitignore", "*.tmp\n");
        w.write("scratch.tmp", "ignored\n");
        let second = w.settled();
        assert_eq!(second.hashed, 3, "a.txt, new/d.txt, .gitignore");
        assert_eq!(w.paths(&second.tree), [".gitignore", "a.txt", "new/d.txt"]);
        // A change of the executable bit alone is a change.
        let a = w.work.join("a.txt");
        std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o755)).unwrap();
        let third = w.settled();
        assert_ne!(third.tree, second.tree);
        assert!(w.listing(&third.tree).contains("100755 blob"));
    }

    #[test]
    fn a_file_rewritten_with_the_same_size_and_mtime_is_read_again() {
        let w = world();
        w.write("a.txt", "aaaa");
        let a = w.work.join("a.txt");
        let second = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let set_mtime = || {
            let file = std::fs::OpenOptions::new().write(true).open(&a).unwrap();
            file.set_modified(second).unwrap();
        };
        set_mtime();
        let first = w.settled();
        w.write("a.txt", "bbbb");
        set_mtime();
        let again = w.settled();
        assert_eq!(again.hashed, 1, "its change time gave it away");
        assert_ne!(again.tree, first.tree);
    }

    #[test]
    fn a_file_changed_just_before_a_snapshot_is_read_again_by_the_next() {
        let w = world();
        w.write("a.txt", "aaaa");
        let meta = std::fs::symlink_metadata(w.work.join("a.txt")).unwrap();
        let changed_ns = FileStat::of(&meta).unwrap().ctime_ns;
        let soon = Instant::now() + Duration::from_secs(60);
        // Scans 5 ms after the change: within a clock tick of it.
        let first = w
            .scan(1 << 20)
            .take_as_of(soon, changed_ns + 5_000_000)
            .unwrap();
        let cache = StatCache::load(&w.cache);
        assert!(
            !cache.files[b"a.txt".as_slice()].trusted,
            "changed within the margin"
        );
        // Same stat, yet read again (a change in the same clock tick would look the same).
        let again = w
            .scan(1 << 20)
            .take_as_of(soon, changed_ns + 6_000_000)
            .unwrap();
        assert_eq!(again.hashed, 1);
        assert_eq!(w.settled().tree, first.tree);
        assert_eq!(w.settled().hashed, 0, "trusted once settled");
    }

    #[test]
    fn large_files_embedded_repositories_and_git_folders_are_left_out() {
        let w = world();
        w.write("small", "tiny");
        w.write("big", "far more than ten bytes");
        w.write("vendor/lib/.git/HEAD", "ref: refs/heads/main\n");
        w.write("vendor/lib/code.rs", "inside another repository\n");
        w.write("vendor/own.rs", "ours\n");
        w.write(".git/config", "the person's repository\n");
        let soon = Instant::now() + Duration::from_secs(60);
        let taken = w.scan(10).take(soon).unwrap();
        assert_eq!(taken.skipped, ["big (23 bytes)"]);
        assert_eq!(w.paths(&taken.tree), ["small", "vendor/own.rs"]);
    }

    #[test]
    fn snapshots_are_chained_and_a_deadline_in_the_past_fails() {
        let w = world();
        w.write("a", "1");
        let past = Instant::now();
        assert!(w.scan(1 << 20).take(past).is_err());
        let first = w.now().tree;
        w.write("a", "2");
        let second = w.now().tree;
        w.now();
        let log = git(&w.git_dir, None, &["log", "--format=%T", CHAIN_REF]);
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            [second.to_string(), first.to_string()]
        );
    }
}

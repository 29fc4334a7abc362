//! The side git directory: where the effects journal keeps its snapshots of a project's files.
//!
//! One per project, under ccx's data directory (`<data>/effects/<project>-<key>/git`). A
//! snapshot is a tree id (each also committed on this repository's own `refs/ccx/snapshots`,
//! see `scan`): the files as they stand, untracked ones
//! included, `.gitignore` honoured, deletions seen, files over a size cap left out (and named).
//! Snapshots are taken in process (`scan`: a walk, a stat cache beside this directory, the
//! new objects written into it as one small pack); everything else (diffs, listings, restores, packing)
//! runs git with `GIT_DIR`, `GIT_WORK_TREE` and a private `GIT_INDEX_FILE` pointing here and
//! at the project, so the person's repository (index, objects, refs, stash) is never written
//! nor read for writing, and a project that is not a git repository works the same. Trees stay
//! reachable because this repository never prunes (`gc.auto=0`) and the packing keeps them.
//!
//! Snapshots of one project are serialised by a lock file; a snapshot stops at its deadline
//! and every git command is killed past its own, so a hook never waits longer than its budget.

use crate::git::{run_until, stdout_if_success};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Files larger than this are not snapshotted (named in the record instead).
pub const DEFAULT_SIZE_CAP: u64 = 10 * 1024 * 1024;

/// The stat cache's file in the project's journal folder (see [`super::stat_cache`]).
const STAT_CACHE: &str = "stat-cache";

/// Where the packing keeps a journal tree the snapshot chain does not hold (see
/// [`SideRepo::maintain`]).
const TREE_REFS: &str = "refs/ccx/trees/";

/// How long a command that is not a hook (a restore, `ccx effects`) gives git.
pub const UNHURRIED: Duration = Duration::from_secs(120);

/// Settings of the side repository: no automatic gc (trees must stay), no line-ending or
/// filesystem-monitor surprises from the person's global config, an untracked cache for speed.
const CONFIG: &[(&str, &str)] = &[
    ("gc.auto", "0"),
    ("core.autocrlf", "false"),
    ("core.safecrlf", "false"),
    ("core.fsmonitor", "false"),
    ("core.filemode", "true"),
    ("core.symlinks", "true"),
    ("core.quotePath", "false"),
    ("core.logAllRefUpdates", "false"),
];

/// What a change did to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Added,
    Modified,
    Deleted,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Added => "added",
            Verb::Modified => "modified",
            Verb::Deleted => "deleted",
        }
    }
}

/// One file a call (or a restore) changed, relative to the work tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Change {
    pub verb: Verb,
    pub path: String,
}

/// A snapshot: the tree, and the files left out for their size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub tree: String,
    /// `path (N bytes)` of each file over the size cap.
    pub skipped: Vec<String>,
}

/// A file as a tree holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub mode: String,
    pub oid: String,
}

/// The side repository of one project.
#[derive(Debug, Clone)]
pub struct SideRepo {
    work_tree: PathBuf,
    dir: PathBuf,
    git_dir: PathBuf,
    size_cap: u64,
}

/// Holds the project's snapshot lock until dropped.
pub struct SideLock {
    file: std::fs::File,
}

impl SideLock {
    /// Another descriptor of the same open lock file: a child process given it holds the lock
    /// too, until both have closed it.
    pub fn share(&self) -> std::io::Result<std::fs::File> {
        self.file.try_clone()
    }
}

impl SideRepo {
    /// The side repository of the project at `project` (created on first use), under the
    /// data directory.
    pub fn for_project(project: &Path) -> Result<SideRepo> {
        let project = crate::paths::project_dir(project);
        let store = crate::paths::project_store_dir(&crate::paths::data_dir()?, &project);
        let name = store
            .file_name()
            .map(|n| n.to_owned())
            .unwrap_or_else(|| OsString::from("project"));
        let dir = crate::paths::data_dir()?.join("effects").join(name);
        SideRepo::open(&project, &dir)
    }

    /// The side repository in `dir` for the work tree `work_tree` (created on first use).
    pub fn open(work_tree: &Path, dir: &Path) -> Result<SideRepo> {
        crate::paths::ensure_private_dir(dir)?;
        let repo = SideRepo {
            work_tree: work_tree.to_path_buf(),
            dir: dir.to_path_buf(),
            git_dir: dir.join("git"),
            size_cap: DEFAULT_SIZE_CAP,
        };
        if !repo.git_dir.join("HEAD").is_file() {
            repo.init()?;
        }
        Ok(repo)
    }

    /// The same repository with another size cap (bytes).
    pub fn with_size_cap(mut self, cap: u64) -> SideRepo {
        self.size_cap = cap;
        self
    }

    /// The project's files.
    pub fn work_tree(&self) -> &Path {
        &self.work_tree
    }

    /// ccx's folder for this project's journal (holds the git dir, the journal, kept files).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn init(&self) -> Result<()> {
        let _lock = self.lock(Instant::now() + UNHURRIED)?;
        if self.git_dir.join("HEAD").is_file() {
            return Ok(());
        }
        let mut cmd = Command::new("git");
        scrub_env(&mut cmd);
        let args: Vec<OsString> = vec![
            "init".into(),
            "--bare".into(),
            "-q".into(),
            self.git_dir.clone().into_os_string(),
        ];
        cmd.args(&args);
        stdout_if_success(
            &args,
            run_until(cmd, &args, None, Instant::now() + UNHURRIED)?,
        )?;
        for (key, value) in CONFIG {
            self.git_ok(["config", key, value], None, Instant::now() + UNHURRIED)?;
        }
        Ok(())
    }

    /// Waits (until `deadline`) for this project's snapshot lock.
    pub fn lock(&self, deadline: Instant) -> Result<SideLock> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("lock"))
            .with_context(|| format!("cannot open {}", self.dir.join("lock").display()))?;
        let mut pause = Duration::from_millis(1);
        loop {
            // SAFETY: flock on a descriptor we own.
            let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if r == 0 {
                return Ok(SideLock { file });
            }
            if Instant::now() >= deadline {
                bail!("another snapshot of this project held the lock past the budget");
            }
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// `file` as this project's lock, when it is the lock file and this process already holds
    /// the lock through it (a descriptor inherited from a process that took it, see
    /// [`SideLock::share`]).
    pub fn held_lock(&self, file: std::fs::File) -> Option<SideLock> {
        use std::os::unix::fs::MetadataExt;
        let ours = std::fs::metadata(self.dir.join("lock")).ok()?;
        let given = file.metadata().ok()?;
        if (ours.dev(), ours.ino()) != (given.dev(), given.ino()) {
            return None;
        }
        // SAFETY: flock on a descriptor we own; it succeeds at once when the open file holds
        // the lock already.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        (r == 0).then_some(SideLock { file })
    }

    /// The files as they stand now, as a tree (the caller holds the lock), taken in process
    /// (see [`super::scan`]); fails at `deadline`.
    pub fn snapshot_locked(&self, deadline: Instant) -> Result<Snapshot> {
        let scan = super::scan::Scan {
            work_tree: &self.work_tree,
            git_dir: &self.git_dir,
            cache: &self.dir.join(STAT_CACHE),
            size_cap: self.size_cap,
        };
        let taken = scan.take(deadline)?;
        Ok(Snapshot {
            tree: taken.tree.to_string(),
            skipped: taken.skipped,
        })
    }

    /// Takes the lock and a snapshot, both by `deadline`.
    pub fn snapshot(&self, deadline: Instant) -> Result<Snapshot> {
        let _lock = self.lock(deadline)?;
        self.snapshot_locked(deadline)
    }

    /// The files that differ between two trees, with what happened to each.
    pub fn changes(&self, from: &str, to: &str, deadline: Instant) -> Result<Vec<Change>> {
        if from == to {
            return Ok(Vec::new());
        }
        let args = crate::git::DIFF_TREE_NAME_STATUS
            .into_iter()
            .chain([from, to]);
        let out = self.git_ok(args, None, deadline)?;
        let pairs = crate::git::name_status_pairs(&out, from, to)?;
        Ok(pairs
            .into_iter()
            .map(|(status, path)| Change {
                verb: match status {
                    b'A' => Verb::Added,
                    b'D' => Verb::Deleted,
                    _ => Verb::Modified,
                },
                path: String::from_utf8_lossy(&path).into_owned(),
            })
            .collect())
    }

    /// The patch between two trees (limited to `paths` when given), as `git diff` prints it.
    pub fn diff(&self, from: &str, to: &str, paths: &[String]) -> Result<String> {
        let mut args: Vec<OsString> = ["diff-tree", "-p", "-r", "--no-renames", "--binary"]
            .iter()
            .map(OsString::from)
            .collect();
        args.push(from.into());
        args.push(to.into());
        if !paths.is_empty() {
            args.push("--".into());
            args.extend(
                paths
                    .iter()
                    .map(|p| OsString::from(format!(":(literal){p}"))),
            );
        }
        let out = self.git_ok(&args, None, Instant::now() + UNHURRIED)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Every file of `tree` (recursively): path → mode and object id.
    pub fn entries(&self, tree: &str, deadline: Instant) -> Result<BTreeMap<String, Entry>> {
        let out = self.git_ok(["ls-tree", "-r", "-z", "--full-tree", tree], None, deadline)?;
        let mut map = BTreeMap::new();
        for record in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let text = String::from_utf8_lossy(record);
            let (meta, path) = text
                .split_once('\t')
                .ok_or_else(|| anyhow!("git ls-tree {tree}: unexpected output"))?;
            let mut parts = meta.split(' ');
            let (Some(mode), Some(_kind), Some(oid)) = (parts.next(), parts.next(), parts.next())
            else {
                bail!("git ls-tree {tree}: unexpected output");
            };
            map.insert(
                path.to_string(),
                Entry {
                    mode: mode.to_string(),
                    oid: oid.to_string(),
                },
            );
        }
        Ok(map)
    }

    /// The object ids of `oids` this repository lacks.
    pub fn missing_objects(&self, oids: &[&str], deadline: Instant) -> Result<Vec<String>> {
        if oids.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = Vec::new();
        for oid in oids {
            input.extend_from_slice(oid.as_bytes());
            input.push(b'\n');
        }
        let out = self.git_ok(["cat-file", "--batch-check"], Some(input), deadline)?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter(|l| l.ends_with(" missing"))
            .map(|l| l.trim_end_matches(" missing").to_string())
            .collect())
    }

    /// True when `tree` is a tree object here.
    pub fn has_tree(&self, tree: &str) -> bool {
        let valid = !tree.is_empty() && tree.bytes().all(|b| b.is_ascii_hexdigit());
        valid
            && self
                .git(
                    ["cat-file", "-e", &format!("{tree}^{{tree}}")],
                    None,
                    Instant::now() + UNHURRIED,
                )
                .is_ok_and(|o| o.status.success())
    }

    /// Writes the files `paths` of `tree` into the work tree (replacing what is there), with
    /// the person's umask for their modes.
    pub fn checkout(&self, tree: &str, paths: &[String]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let index = self
            .dir
            .join(format!("restore-index-{}", std::process::id()));
        let _cleanup = RemoveOnDrop(index.clone());
        let deadline = Instant::now() + UNHURRIED;
        self.git_with_index(&index, ["read-tree", tree], None, deadline)?;
        let mut input = Vec::new();
        for path in paths {
            input.extend_from_slice(path.as_bytes());
            input.push(0);
        }
        let checkout = ["checkout-index", "-f", "-z", "--stdin"];
        self.git_with_index(&index, checkout, Some(input), deadline)
    }

    /// Writes every file of `tree` under `dir` (never the work tree), through a throwaway
    /// index at `index`: `ccx bisect` tests each turn's files there.
    pub fn export(&self, tree: &str, dir: &Path, index: &Path) -> Result<()> {
        let deadline = Instant::now() + UNHURRIED;
        let mut prefix = OsString::from("--prefix=");
        prefix.push(dir.as_os_str());
        prefix.push("/");
        self.git_with_index(index, ["read-tree", tree], None, deadline)?;
        let checkout = [
            OsString::from("checkout-index"),
            "-a".into(),
            "-f".into(),
            prefix,
        ];
        self.git_with_index(index, checkout, None, deadline)
    }

    /// Runs git with `index` as its index (not the side repository's own) and the person's
    /// umask for the files it writes; fails when git does.
    fn git_with_index<I, S>(
        &self,
        index: &Path,
        args: I,
        input: Option<Vec<u8>>,
        deadline: Instant,
    ) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut cmd = self.command(&args);
        cmd.env("GIT_INDEX_FILE", index);
        crate::paths::with_inherited_umask(&mut cmd);
        stdout_if_success(&args, run_until(cmd, &args, input, deadline)?)?;
        Ok(())
    }

    /// Packs the repository: every tree in `trees` (the journal's) that the snapshot chain
    /// (`refs/ccx/snapshots`) does not hold is kept reachable under `refs/ccx/trees/<id>` (refs
    /// in this repository only), then `git repack -a -d -k` stores everything as deltas,
    /// unreachable objects kept too. Run in the background, never by a hook within its budget.
    ///
    /// Trees the chain holds get no ref of their own (and lose one an older ccx gave them):
    /// git's packing walks refs before commits, so a ref per tree would hand it the trees in
    /// the order of their ids rather than one snapshot after another, and its delta search,
    /// which only compares near neighbours, would then store most root trees whole.
    pub fn maintain(&self, trees: &[String]) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        let chained = self.chained_trees(deadline)?;
        let mut input = String::new();
        for tree in trees.iter().collect::<BTreeSet<_>>() {
            let valid = tree.len() >= 40 && tree.bytes().all(|b| b.is_ascii_hexdigit());
            if valid && !chained.contains(tree) {
                input.push_str(&format!("update {TREE_REFS}{tree} {tree}\n"));
            }
        }
        let listed = self.git_ok(
            ["for-each-ref", "--format=%(refname)", TREE_REFS],
            None,
            deadline,
        )?;
        let mut dropped = false;
        for name in String::from_utf8_lossy(&listed).lines() {
            if name
                .strip_prefix(TREE_REFS)
                .is_some_and(|t| chained.contains(t))
            {
                input.push_str(&format!("delete {name}\n"));
                dropped = true;
            }
        }
        self.update_refs(&input, deadline)?;
        // No reverse index (`.rev`, 4 bytes an object): git works it out when it needs it.
        let mut repack = vec![
            "-c",
            "pack.writeReverseIndex=false",
            "repack",
            "-a",
            "-d",
            "-k",
        ];
        if dropped {
            // Once, after the refs an older ccx made are gone: git keeps the choices of an
            // existing pack, so only packing afresh (`-f`) stores those trees as deltas.
            repack.push("-f");
        }
        repack.push("-q");
        self.git_ok(repack, None, deadline)?;
        Ok(())
    }

    /// The tree of every commit on the snapshot chain (none when there is no chain yet).
    fn chained_trees(&self, deadline: Instant) -> Result<HashSet<String>> {
        if !self.git_dir.join(super::scan::CHAIN_REF).is_file() {
            return Ok(HashSet::new());
        }
        let out = self.git_ok(
            ["rev-list", "--format=%T", super::scan::CHAIN_REF],
            None,
            deadline,
        )?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter(|line| !line.starts_with("commit "))
            .map(str::to_string)
            .collect())
    }

    /// Applies `update-ref --stdin` lines; when one fails (a tree that is gone makes git
    /// refuse them all), applies the others one by one.
    fn update_refs(&self, input: &str, deadline: Instant) -> Result<()> {
        if input.is_empty() {
            return Ok(());
        }
        let all = self.git(["update-ref", "--stdin"], Some(input.into()), deadline)?;
        if !all.status.success() {
            for line in input.lines() {
                let one = format!("{line}\n").into_bytes();
                let _ = self.git(["update-ref", "--stdin"], Some(one), deadline);
            }
        }
        Ok(())
    }

    fn command(&self, args: &[OsString]) -> Command {
        let mut cmd = Command::new("git");
        scrub_env(&mut cmd);
        cmd.env("GIT_DIR", &self.git_dir)
            .env("GIT_WORK_TREE", &self.work_tree)
            .env("GIT_INDEX_FILE", self.git_dir.join("index"))
            .current_dir(&self.work_tree)
            .args(args);
        cmd
    }

    fn git<I, S>(
        &self,
        args: I,
        input: Option<Vec<u8>>,
        deadline: Instant,
    ) -> Result<std::process::Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        run_until(self.command(&args), &args, input, deadline)
    }

    fn git_ok<I, S>(&self, args: I, input: Option<Vec<u8>>, deadline: Instant) -> Result<Vec<u8>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = self.git(&args, input, deadline)?;
        stdout_if_success(&args, out)
    }
}

/// Removes a temporary file when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let mut lock = self.0.clone().into_os_string();
        lock.push(".lock");
        let _ = std::fs::remove_file(PathBuf::from(lock));
    }
}

/// Git variables that could point a command at the person's repository or objects.
const GIT_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
];

fn scrub_env(cmd: &mut Command) {
    for var in GIT_VARS {
        cmd.env_remove(var);
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(std::process::Stdio::null());
}

/// A path the person typed, made relative to the work tree; refused when it leaves it.
pub fn project_relative(work_tree: &Path, cwd: &Path, typed: &str) -> Result<String> {
    let joined = cwd.join(typed);
    let mut parts: Vec<&OsStr> = Vec::new();
    for component in joined.components() {
        match component {
            std::path::Component::RootDir | std::path::Component::Prefix(_) => parts.clear(),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(p) => parts.push(p),
        }
    }
    let normal: PathBuf = std::iter::once(OsStr::new("/")).chain(parts).collect();
    let root = crate::paths::project_dir(work_tree);
    let rel = normal
        .strip_prefix(&root)
        .or_else(|_| normal.strip_prefix(work_tree))
        .map_err(|_| anyhow!("{typed} is outside the project ({})", root.display()))?;
    let text = rel.as_os_str().as_bytes();
    if text.is_empty() {
        return Ok(String::new());
    }
    Ok(String::from_utf8_lossy(text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::test_repos::side_repo as world;

    const CHAIN: &str = crate::effects::scan::CHAIN_REF;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn snapshots_see_added_modified_and_deleted_files_and_honour_gitignore() {
        let (_tmp, repo) = world();
        let w = repo.work_tree().to_path_buf();
        std::fs::write(w.join("a.txt"), "one\n").unwrap();
        std::fs::write(w.join("b.txt"), "bee\n").unwrap();
        std::fs::write(w.join(".gitignore"), "*.log\n").unwrap();
        std::fs::write(w.join("noise.log"), "x").unwrap();
        let first = repo.snapshot(soon()).unwrap();
        std::fs::write(w.join("a.txt"), "two\n").unwrap();
        std::fs::remove_file(w.join("b.txt")).unwrap();
        std::fs::create_dir_all(w.join("sub")).unwrap();
        std::fs::write(w.join("sub/c.txt"), "sea\n").unwrap();
        std::fs::write(w.join("more.log"), "x").unwrap();
        let second = repo.snapshot(soon()).unwrap();
        let changes = repo.changes(&first.tree, &second.tree, soon()).unwrap();
        let seen: Vec<(Verb, &str)> = changes.iter().map(|c| (c.verb, c.path.as_str())).collect();
        assert_eq!(
            seen,
            [
                (Verb::Modified, "a.txt"),
                (Verb::Deleted, "b.txt"),
                (Verb::Added, "sub/c.txt")
            ]
        );
        let entries = repo.entries(&second.tree, soon()).unwrap();
        assert!(!entries.keys().any(|p| p.ends_with(".log")), "{entries:?}");
        // Nothing changed: the same tree.
        assert_eq!(repo.snapshot(soon()).unwrap().tree, second.tree);
    }

    #[test]
    fn files_over_the_cap_are_named_not_snapshotted() {
        let (_tmp, repo) = world();
        let repo = repo.with_size_cap(10);
        let w = repo.work_tree().to_path_buf();
        std::fs::write(w.join("small"), "tiny").unwrap();
        std::fs::write(w.join("big"), "far more than ten bytes").unwrap();
        let snap = repo.snapshot(soon()).unwrap();
        assert_eq!(snap.skipped, ["big (23 bytes)"]);
        let entries = repo.entries(&snap.tree, soon()).unwrap();
        assert_eq!(entries.keys().collect::<Vec<_>>(), ["small"]);
    }

    #[test]
    fn a_deadline_in_the_past_fails_the_snapshot() {
        let (_tmp, repo) = world();
        std::fs::write(repo.work_tree().join("a"), "x").unwrap();
        assert!(repo.snapshot(Instant::now()).is_err());
        // And the next one, in time, works.
        assert!(repo.snapshot(soon()).is_ok());
    }

    #[test]
    fn packing_keeps_every_tree() {
        let (_tmp, repo) = world();
        let w = repo.work_tree().to_path_buf();
        let mut trees = Vec::new();
        for i in 0..3 {
            std::fs::write(w.join("a"), format!("version {i}")).unwrap();
            trees.push(repo.snapshot(soon()).unwrap().tree);
        }
        // A tree the chain does not hold (as an older ccx wrote them), and a ref an older
        // ccx gave a tree the chain holds.
        let outside = repo.git_ok(["mktree"], Some(Vec::new()), soon()).unwrap();
        let outside = String::from_utf8(outside).unwrap().trim().to_string();
        let old_ref = format!("{TREE_REFS}{}", trees[0]);
        repo.git_ok(["update-ref", &old_ref, &trees[0]], None, soon())
            .unwrap();
        let mut journal = trees[..2].to_vec();
        journal.push(outside.clone());
        repo.maintain(&journal).unwrap();
        for tree in trees.iter().chain([&outside]) {
            assert!(repo.has_tree(tree), "{tree} survives packing");
        }
        let refs = repo
            .git_ok(["for-each-ref", "--format=%(refname)"], None, soon())
            .unwrap();
        assert_eq!(
            String::from_utf8(refs).unwrap(),
            format!("{CHAIN}\n{TREE_REFS}{outside}\n"),
            "a ref only for the tree outside the chain"
        );
        let loose = std::fs::read_dir(repo.dir().join("git/objects"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().len() == 2)
            .count();
        assert_eq!(loose, 0, "everything is packed");
        let packs: Vec<String> = std::fs::read_dir(repo.dir().join("git/objects/pack"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            packs.len(),
            2,
            "one pack and its index, no reverse index: {packs:?}"
        );
    }

    #[test]
    fn checkout_writes_files_back() {
        let (_tmp, repo) = world();
        let w = repo.work_tree().to_path_buf();
        std::fs::write(w.join("a"), "before").unwrap();
        let snap = repo.snapshot(soon()).unwrap();
        std::fs::write(w.join("a"), "after").unwrap();
        repo.checkout(&snap.tree, &["a".to_string()]).unwrap();
        assert_eq!(std::fs::read_to_string(w.join("a")).unwrap(), "before");
        assert!(repo.has_tree(&snap.tree));
        assert!(!repo.has_tree("0123456789012345678901234567890123456789"));
        assert!(!repo.has_tree("--help"));
    }

    #[test]
    fn typed_paths_must_stay_in_the_project() {
        let root = Path::new("/p/q");
        assert_eq!(project_relative(root, root, "a/../b.txt").unwrap(), "b.txt");
        assert_eq!(
            project_relative(root, Path::new("/p/q/sub"), "x").unwrap(),
            "sub/x"
        );
        assert!(project_relative(root, root, "../etc/passwd").is_err());
        assert!(project_relative(root, root, "/etc/passwd").is_err());
    }
}

//! Code snapshots of a git work tree, made with git plumbing only.
//!
//! A snapshot is a commit holding the working tree as it stands (tracked files plus untracked
//! files that are not ignored; deletions included), built in a temporary index so the person's
//! index, HEAD, branches and files are never touched. Each snapshot is kept reachable under
//! `refs/ccx/snapshots/<name>`, successive snapshots of one name chained parent to child.
//!
//! Restoring a snapshot first snapshots the current state (a `backup-<millis>` ref), then writes
//! only the files that differ and removes only the files the backup has and the target lacks.
//!
//! Every git command runs with separate argv items (never a shell), `-C <root>`,
//! `GIT_TERMINAL_PROMPT=0`, and is killed after [`GIT_TIMEOUT`].

use anyhow::{anyhow, bail, Context, Result};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The longest any single git command may run before it is killed.
pub const GIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The namespace under which snapshot refs live.
pub const REF_PREFIX: &str = "refs/ccx/snapshots/";

const IDENT_NAME: &str = "ccx";
const IDENT_EMAIL: &str = "ccx@localhost";

/// A git work tree ccx can snapshot. None outside a git repository.
#[derive(Debug, Clone)]
pub struct Snapshotter {
    root: PathBuf,
    git_dir: PathBuf,
}

/// What [`Snapshotter::restore`] did, including how to undo it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The commit holding the working tree as it was just before the restore.
    pub backup_commit: String,
    /// The ref keeping `backup_commit` reachable (`refs/ccx/snapshots/backup-<millis>`).
    pub backup_ref: String,
    /// Files written (added, changed, mode or type changed), relative to the root.
    pub written: Vec<String>,
    /// Files removed (present before, absent from the target), relative to the root.
    pub removed: Vec<String>,
}

impl RestoreReport {
    /// One line for the person: what changed and how to get the previous state back.
    pub fn summary(&self) -> String {
        let short: String = self.backup_commit.chars().take(12).collect();
        let files = |n: usize| if n == 1 { "file" } else { "files" };
        format!(
            "restored {} {}, removed {}; the previous state is saved as {} ({}): restoring it undoes this",
            self.written.len(),
            files(self.written.len()),
            self.removed.len(),
            short,
            self.backup_ref
        )
    }
}

/// Gives the copied index the real index's modification time. Git trusts an entry's cached
/// stat data only when the file changed before the index was written (its "racy git" check
/// compares each entry's time with the index file's); a fresh copy would carry the time of the
/// copy, so a file or link changed in the same second as the real index was written — same
/// size, inode reused — would look unchanged and be missing from the snapshot.
fn keep_index_time(real_index: &Path, copy: &Path) -> Result<()> {
    let modified = std::fs::metadata(real_index)
        .and_then(|m| m.modified())
        .with_context(|| {
            format!(
                "cannot snapshot: reading the time of {}",
                real_index.display()
            )
        })?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(copy)
        .and_then(|f| f.set_modified(modified))
        .with_context(|| format!("cannot snapshot: setting the time of {}", copy.display()))
}

/// A temporary index file inside the git dir, removed (with its lock) when dropped.
struct TempIndex {
    path: PathBuf,
}

impl TempIndex {
    fn new(git_dir: &Path, kind: &str) -> TempIndex {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("ccx-{kind}-index-{}-{nanos}-{n}", std::process::id());
        TempIndex {
            path: git_dir.join(name),
        }
    }
}

impl Drop for TempIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let mut lock = self.path.clone().into_os_string();
        lock.push(".lock");
        let _ = std::fs::remove_file(PathBuf::from(lock));
    }
}

impl Snapshotter {
    /// Finds the repository containing `cwd` (`git rev-parse --show-toplevel`), or None (not a
    /// repo, a bare repo, inside `.git`, or git missing).
    pub fn find(cwd: &Path) -> Option<Snapshotter> {
        let out = run_git(
            cwd,
            ["rev-parse", "--show-toplevel", "--absolute-git-dir"],
            &[],
            None,
        )
        .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = out.stdout.strip_suffix(b"\n").unwrap_or(&out.stdout);
        let mut lines = text.split(|&b| b == b'\n');
        let root = lines.next().filter(|l| !l.is_empty())?;
        let git_dir = lines.next().filter(|l| !l.is_empty())?;
        if lines.next().is_some() {
            return None;
        }
        Some(Snapshotter {
            root: PathBuf::from(bytes_to_os(root)),
            git_dir: PathBuf::from(bytes_to_os(git_dir)),
        })
    }

    /// The top of the work tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A commit holding the working tree as it stands (tracked + untracked-not-ignored files,
    /// deletions included), kept reachable as `refs/ccx/snapshots/<ref_name>` and chained to the
    /// previous snapshot of that name (else to HEAD, else no parent). Returns the commit id.
    /// Never changes HEAD, the index, any branch, or any file.
    pub fn snapshot(&self, ref_name: &str, message: &str) -> Result<String> {
        self.snapshot_with(ref_name, message, &[])
    }

    /// Puts the working tree back to `commit`'s tree. First takes a backup snapshot of the
    /// current state (`refs/ccx/snapshots/backup-<unix millis>`), then writes the files of the
    /// target that differ from it and removes the files the backup has and the target lacks
    /// (ignored files and anything else untouched). HEAD, the index and branches are untouched.
    pub fn restore(&self, commit: &str) -> Result<RestoreReport> {
        let target = self.resolve_commit(commit)?;
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let backup_name = format!("backup-{millis}");
        let backup_ref = format!("{REF_PREFIX}{backup_name}");
        let short: String = target.chars().take(12).collect();
        let message = format!("ccx: backup before restoring {short}");
        let mut backup_commit = self.snapshot(&backup_name, &message)?;
        let mut changes = self.tree_changes(&backup_commit, &target)?;

        // A file the target has and the backup lacks, yet present on disk, is ignored (or
        // otherwise not snapshotted): put it into the backup too before overwriting it.
        let clobbered: Vec<Vec<u8>> = changes
            .iter()
            .filter(|(status, path)| {
                *status == b'A' && std::fs::symlink_metadata(self.abs(path)).is_ok()
            })
            .map(|(_, path)| path.clone())
            .collect();
        if !clobbered.is_empty() {
            backup_commit = self.snapshot_with(&backup_name, &message, &clobbered)?;
            changes = self.tree_changes(&backup_commit, &target)?;
        }
        let context = || {
            format!(
                "restoring {short} (the previous state is saved as {} in {backup_ref})",
                &backup_commit[..backup_commit.len().min(12)]
            )
        };

        let mut to_remove = Vec::new();
        let mut to_write = Vec::new();
        for (status, path) in changes {
            if status == b'D' {
                to_remove.push(path);
            } else {
                to_write.push(path);
            }
        }

        let mut removed = Vec::new();
        for path in &to_remove {
            if self
                .remove_path(path)
                .with_context(|| format!("removing {}", String::from_utf8_lossy(path)))
                .with_context(context)?
            {
                removed.push(String::from_utf8_lossy(path).into_owned());
            }
        }

        if !to_write.is_empty() {
            let index = TempIndex::new(&self.git_dir, "restore");
            let env = [("GIT_INDEX_FILE", index.path.as_os_str())];
            self.git_ok(["read-tree", target.as_str()], &env, None)
                .with_context(context)?;
            let mut input = Vec::new();
            for path in &to_write {
                input.extend_from_slice(path);
                input.push(0);
            }
            self.git_ok(["checkout-index", "-f", "-z", "--stdin"], &env, Some(input))
                .with_context(context)?;
        }
        let written = to_write
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();

        Ok(RestoreReport {
            backup_commit,
            backup_ref,
            written,
            removed,
        })
    }

    /// The snapshot, with `force` paths added even when ignored.
    fn snapshot_with(&self, ref_name: &str, message: &str, force: &[Vec<u8>]) -> Result<String> {
        let full_ref = format!("{REF_PREFIX}{ref_name}");
        let valid = run_git(
            &self.root,
            ["check-ref-format", full_ref.as_str()],
            &[],
            None,
        )?;
        if ref_name.is_empty() || !valid.status.success() {
            bail!("cannot snapshot: {ref_name:?} is not a valid git ref name");
        }

        let tree = self.working_tree(force)?;
        self.commit_onto(&full_ref, &tree, message)
    }

    /// The working tree as git would commit it (every change added, `force` paths even when
    /// ignored), written through a private index: the person's own index is not touched.
    fn working_tree(&self, force: &[Vec<u8>]) -> Result<String> {
        let index = TempIndex::new(&self.git_dir, "snapshot");
        let real_index = self.git_dir.join("index");
        if real_index.exists() {
            std::fs::copy(&real_index, &index.path).with_context(|| {
                format!(
                    "cannot snapshot: copying {} to {}",
                    real_index.display(),
                    index.path.display()
                )
            })?;
            keep_index_time(&real_index, &index.path)?;
        }
        let env = [("GIT_INDEX_FILE", index.path.as_os_str())];
        // --ignore-errors: a file git cannot add (say, an embedded repository with no commit)
        // must not stop the snapshot of everything else; git then exits 1, not 128.
        let add = run_git(
            &self.root,
            [
                "-c",
                "advice.addEmbeddedRepo=false",
                "add",
                "-A",
                "--ignore-errors",
            ],
            &env,
            None,
        )?;
        if !matches!(add.status.code(), Some(0) | Some(1)) {
            bail!(describe_failure(&["add", "-A"], &add));
        }
        if !force.is_empty() {
            let mut input = Vec::new();
            for path in force {
                input.extend_from_slice(path);
                input.push(0);
            }
            self.git_ok(
                [
                    "--literal-pathspecs",
                    "add",
                    "-f",
                    "--ignore-errors",
                    "--pathspec-from-file=-",
                    "--pathspec-file-nul",
                ],
                &env,
                Some(input),
            )?;
        }
        self.git_line(["write-tree"], &env)
    }

    /// Commits `tree` onto `full_ref` (after its previous snapshot, else after HEAD), retrying
    /// when another process moved the ref meanwhile.
    fn commit_onto(&self, full_ref: &str, tree: &str, message: &str) -> Result<String> {
        for _ in 0..5 {
            let previous = self.rev(&format!("{full_ref}^{{commit}}"))?;
            let parent = match &previous {
                Some(p) => Some(p.clone()),
                None => self.rev("HEAD^{commit}")?,
            };
            let mut args: Vec<&str> = vec!["commit-tree", "--no-gpg-sign", tree];
            if let Some(p) = &parent {
                args.extend(["-p", p.as_str()]);
            }
            args.extend(["-m", message]);
            let ident = [
                ("GIT_AUTHOR_NAME", OsStr::new(IDENT_NAME)),
                ("GIT_AUTHOR_EMAIL", OsStr::new(IDENT_EMAIL)),
                ("GIT_COMMITTER_NAME", OsStr::new(IDENT_NAME)),
                ("GIT_COMMITTER_EMAIL", OsStr::new(IDENT_EMAIL)),
            ];
            let commit = self.git_line(args, &ident)?;
            let old = previous.unwrap_or_default();
            let update = run_git(
                &self.root,
                [
                    "update-ref",
                    "-m",
                    message,
                    full_ref,
                    commit.as_str(),
                    old.as_str(),
                ],
                &[],
                None,
            )?;
            if update.status.success() {
                return Ok(commit);
            }
            // Lost a race if another process moved the ref meanwhile; else a real failure.
            let now = self
                .rev(&format!("{full_ref}^{{commit}}"))?
                .unwrap_or_default();
            if now == old {
                bail!(describe_failure(&["update-ref", full_ref], &update));
            }
        }
        bail!("git update-ref {full_ref} failed: the ref kept changing under concurrent snapshots")
    }

    /// Full commit id of `rev`, or a clear error.
    fn resolve_commit(&self, rev: &str) -> Result<String> {
        if rev.is_empty() || rev.starts_with('-') {
            bail!("cannot restore: {rev:?} is not a commit");
        }
        self.rev(&format!("{rev}^{{commit}}"))?.ok_or_else(|| {
            anyhow!(
                "cannot restore: no commit {rev:?} in {}",
                self.root.display()
            )
        })
    }

    /// `git rev-parse --verify -q REV`: Some(id), or None when it does not resolve.
    fn rev(&self, rev: &str) -> Result<Option<String>> {
        let out = run_git(&self.root, ["rev-parse", "--verify", "-q", rev], &[], None)?;
        if out.status.success() {
            let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Ok((!id.is_empty()).then_some(id))
        } else if out.status.code() == Some(1) {
            Ok(None)
        } else {
            bail!(describe_failure(&["rev-parse", "--verify", rev], &out))
        }
    }

    /// The files differing between two commits, as (status letter, path).
    fn tree_changes(&self, from: &str, to: &str) -> Result<Vec<(u8, Vec<u8>)>> {
        let out = self.git_ok(
            DIFF_TREE_NAME_STATUS.into_iter().chain([from, to]),
            &[],
            None,
        )?;
        name_status_pairs(&out, from, to)
    }

    /// Removes one file (or symlink) of the work tree, then any directories left empty by it.
    /// Returns whether something was removed. Never removes a directory with content.
    fn remove_path(&self, path: &[u8]) -> Result<bool> {
        let rel = Path::new(bytes_to_os(path).as_os_str()).to_path_buf();
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            bail!("refusing to remove a path outside the work tree");
        }
        let abs = self.root.join(&rel);
        let meta = match std::fs::symlink_metadata(&abs) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        if meta.is_dir() {
            // A gitlink (submodule) or a directory now in the file's place: leave it.
            return Ok(false);
        }
        std::fs::remove_file(&abs)?;
        let mut dir = abs.parent();
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(true)
    }

    fn abs(&self, path: &[u8]) -> PathBuf {
        self.root.join(bytes_to_os(path))
    }

    /// Runs git and returns its stdout, or an error naming the command and git's complaint.
    fn git_ok<I, S>(
        &self,
        args: I,
        env: &[(&str, &OsStr)],
        input: Option<Vec<u8>>,
    ) -> Result<Vec<u8>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = run_git(&self.root, &args, env, input)?;
        stdout_if_success(&args, out)
    }

    /// Runs git and returns the first line of its stdout, trimmed.
    fn git_line<I, S>(&self, args: I, env: &[(&str, &OsStr)]) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = self.git_ok(&args, env, None)?;
        let line = String::from_utf8_lossy(&out)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        if line.is_empty() {
            bail!("git {} printed nothing", display_args(&args));
        }
        Ok(line)
    }
}

/// Git's stdout when it succeeded, else an error naming the command and git's complaint.
pub(crate) fn stdout_if_success<S: AsRef<OsStr>>(args: &[S], out: Output) -> Result<Vec<u8>> {
    if !out.status.success() {
        bail!(describe_failure(args, &out));
    }
    Ok(out.stdout)
}

/// "git ARGS failed: first line of stderr" (or the exit status when stderr is empty).
pub(crate) fn describe_failure<S: AsRef<OsStr>>(args: &[S], out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("exited with {}", out.status));
    format!("git {} failed: {first}", display_args(args))
}

fn display_args<S: AsRef<OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `git -C dir ARGS` with the extra environment, feeding `input` to its stdin, capturing
/// its output, killing it after [`GIT_TIMEOUT`]. Fails only when git cannot be run or times out.
fn run_git<I, S>(
    dir: &Path,
    args: I,
    env: &[(&str, &OsStr)],
    input: Option<Vec<u8>>,
) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut cmd = Command::new("git");
    // Objects and refs in the person's repository get the person's modes.
    crate::paths::with_inherited_umask(&mut cmd);
    cmd.arg("-C").arg(dir).args(&args);
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_INDEX_FILE");
    for (key, value) in env {
        cmd.env(key, value);
    }
    run_until(cmd, &args, input, Instant::now() + GIT_TIMEOUT)
}

/// `git diff-tree` listing what differs between two trees (or commits), each file once
/// (no rename detection), as [`name_status_pairs`] reads it: FROM and TO follow.
pub(crate) const DIFF_TREE_NAME_STATUS: [&str; 6] = [
    "diff-tree",
    "-r",
    "-z",
    "--no-renames",
    "--name-status",
    "--no-commit-id",
];

/// [`DIFF_TREE_NAME_STATUS`] output as (status letter, path) pairs.
pub(crate) fn name_status_pairs(out: &[u8], from: &str, to: &str) -> Result<Vec<(u8, Vec<u8>)>> {
    let mut fields = out.split(|&b| b == 0).filter(|f| !f.is_empty());
    let mut changes = Vec::new();
    while let Some(status) = fields.next() {
        let path = fields
            .next()
            .ok_or_else(|| anyhow!("git diff-tree {from} {to}: unexpected output"))?;
        changes.push((status[0], path.to_vec()));
    }
    Ok(changes)
}

/// Runs a prepared git command (`args` are its arguments, for messages), feeding `input` to its
/// stdin and capturing its output; kills it and its process group at `deadline`. Fails only
/// when it cannot be run or runs out of time.
pub(crate) fn run_until(
    mut cmd: Command,
    args: &[OsString],
    input: Option<Vec<u8>>,
    deadline: Instant,
) -> Result<Output> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so a timeout kills git and anything it started.
        cmd.process_group(0);
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot run git {}", display_args(args)))?;
    let started = Instant::now();
    match crate::child::wait_until(child, input, deadline)? {
        Some(out) => Ok(out),
        None => bail!(
            "git {} timed out after {} ms and was stopped",
            display_args(args),
            started.elapsed().as_millis()
        ),
    }
}

#[cfg(unix)]
pub(crate) fn bytes_to_os(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(bytes).to_owned()
}

#[cfg(not(unix))]
pub(crate) fn bytes_to_os(bytes: &[u8]) -> OsString {
    OsString::from(String::from_utf8_lossy(bytes).into_owned())
}

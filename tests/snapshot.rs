//! Integration tests of `ccx::snapshot`: code snapshots made with git plumbing that never touch
//! the person's index, HEAD, branches or files, and restores that can be undone.

use ccx::snapshot::Snapshotter;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

/// Runs `f` on its own thread and fails the test if it takes longer than `secs`.
fn bounded(secs: u64, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {secs} s"),
    }
}

/// The person's git: isolated from global/system config, never prompting.
fn git_cmd(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        // `git status` must not refresh the index: the tests compare its bytes.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .expect("git runs")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_cmd(dir, args);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A fresh repository with a local identity for the person's own commits.
fn new_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    git(&root, &["init", "-q"]);
    git(&root, &["config", "user.name", "Person"]);
    git(&root, &["config", "user.email", "person@example.com"]);
    (dir, root)
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap()
}

#[cfg(unix)]
fn make_executable(root: &Path, rel: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = root.join(rel);
    let mut perms = fs::metadata(&path).unwrap().permissions();
    perms.set_mode(0o755);
    fs::set_permissions(path, perms).unwrap();
}

#[cfg(unix)]
fn is_executable(root: &Path, rel: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(root.join(rel)).unwrap().permissions().mode() & 0o111 != 0
}

/// Every path under `root` outside `.git`, with what it is and when it was last modified.
fn tree_state(root: &Path) -> BTreeMap<PathBuf, (String, Option<SystemTime>)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (String, Option<SystemTime>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if rel == Path::new(".git") {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link -> {}", fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                "dir".to_string()
            } else {
                format!("{:?} {:o}", fs::read(&path).unwrap(), mode(&meta))
            };
            let mtime = (!meta.is_dir()).then(|| meta.modified().unwrap());
            out.insert(rel, (what, mtime));
            if meta.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[cfg(unix)]
fn mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn mode(_meta: &fs::Metadata) -> u32 {
    0
}

/// Everything about the repository that a snapshot must leave alone.
fn repo_state(root: &Path) -> (String, Vec<u8>, String, String) {
    let status = git(root, &["status", "--porcelain", "--untracked-files=all"]);
    let index = fs::read(root.join(".git/index")).unwrap_or_default();
    let head = git_cmd(root, &["rev-parse", "-q", "--verify", "HEAD"]);
    let head =
        String::from_utf8_lossy(&head.stdout).into_owned() + &git(root, &["symbolic-ref", "HEAD"]);
    let refs = git(
        root,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads",
            "refs/tags",
        ],
    );
    (status, index, head, refs)
}

/// Paths in a commit's tree with their modes.
fn tree_of(root: &Path, commit: &str) -> BTreeMap<String, String> {
    let out = git(root, &["ls-tree", "-r", "-z", "--full-tree", commit]);
    out.split('\0')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (meta, path) = l.split_once('\t').unwrap();
            (
                path.to_string(),
                meta.split(' ').next().unwrap().to_string(),
            )
        })
        .collect()
}

fn no_temp_indexes_left(root: &Path) {
    let left: Vec<_> = fs::read_dir(root.join(".git"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ccx-"))
        .collect();
    assert!(
        left.is_empty(),
        "temporary index files left behind: {left:?}"
    );
}

/// A committed repository with nested dirs, an executable, a symlink and a .gitignore.
fn populated_repo() -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = new_repo();
    write(&root, "a.txt", "a1\n");
    write(&root, "b.txt", "b1\n");
    write(&root, "dir/nested/c.txt", "c1\n");
    write(&root, "run.sh", "#!/bin/sh\necho hi\n");
    write(&root, ".gitignore", "*.log\nbuild/\n");
    #[cfg(unix)]
    {
        make_executable(&root, "run.sh");
        std::os::unix::fs::symlink("a.txt", root.join("link-to-a")).unwrap();
    }
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "initial"]);
    (dir, root)
}

/// Runs `test` (within 60 s) in a fresh [`populated_repo`], given its root and a snapshotter
/// for it.
fn in_populated_repo(test: impl FnOnce(&Path, Snapshotter) + Send + 'static) {
    bounded(60, || {
        let (_dir, root) = populated_repo();
        let snap = Snapshotter::find(&root).unwrap();
        test(&root, snap);
    });
}

#[test]
fn snapshot_captures_working_tree_and_touches_nothing() {
    bounded(60, || {
        let (_dir, root) = populated_repo();
        write(&root, "a.txt", "a2 modified\n");
        fs::remove_file(root.join("b.txt")).unwrap();
        write(&root, "new.txt", "brand new\n");
        write(&root, "dir/nested/deeper/d.txt", "d\n");
        write(&root, "debug.log", "ignored\n");
        write(&root, "build/out.bin", "ignored too\n");
        // A staged change the snapshot must not disturb.
        write(&root, "dir/nested/c.txt", "c2 staged\n");
        git(&root, &["add", "dir/nested/c.txt"]);
        write(&root, "dir/nested/c.txt", "c3 unstaged\n");

        let before_repo = repo_state(&root);
        let before_files = tree_state(&root);
        let index_mtime = fs::metadata(root.join(".git/index"))
            .unwrap()
            .modified()
            .unwrap();

        let snap = Snapshotter::find(&root).expect("a repository");
        assert_eq!(
            snap.root().canonicalize().unwrap(),
            root.canonicalize().unwrap()
        );
        let commit = snap.snapshot("main", "ccx: turn 1 of main").unwrap();
        assert_eq!(commit.len(), 40, "a full commit id: {commit}");

        assert_eq!(
            repo_state(&root),
            before_repo,
            "status, index, HEAD or branches changed"
        );
        assert_eq!(tree_state(&root), before_files, "a file changed");
        assert_eq!(
            fs::metadata(root.join(".git/index"))
                .unwrap()
                .modified()
                .unwrap(),
            index_mtime
        );
        no_temp_indexes_left(&root);

        let tree = tree_of(&root, &commit);
        let show = |p: &str| git(&root, &["show", &format!("{commit}:{p}")]);
        assert_eq!(show("a.txt"), "a2 modified\n");
        assert_eq!(show("new.txt"), "brand new\n");
        assert_eq!(show("dir/nested/deeper/d.txt"), "d\n");
        assert_eq!(
            show("dir/nested/c.txt"),
            "c3 unstaged\n",
            "the work tree, not the index"
        );
        assert!(
            !tree.contains_key("b.txt"),
            "deleted file still in snapshot"
        );
        assert!(!tree.contains_key("debug.log"), "ignored file snapshotted");
        assert!(
            !tree.keys().any(|p| p.starts_with("build/")),
            "ignored dir snapshotted"
        );
        assert!(tree.contains_key(".gitignore"));
        #[cfg(unix)]
        {
            assert_eq!(tree["run.sh"], "100755");
            assert_eq!(tree["link-to-a"], "120000");
            assert_eq!(show("link-to-a"), "a.txt");
        }

        assert_eq!(
            git(&root, &["rev-parse", "refs/ccx/snapshots/main"]).trim(),
            commit
        );
        assert_eq!(
            git(
                &root,
                &["log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", &commit]
            )
            .trim(),
            "ccx <ccx@localhost>|ccx <ccx@localhost>|ccx: turn 1 of main"
        );
        let head = git(&root, &["rev-parse", "HEAD"]);
        assert_eq!(
            git(&root, &["rev-parse", &format!("{commit}^")]),
            head,
            "the first snapshot's parent is HEAD"
        );

        git(&root, &["gc", "-q", "--prune=now"]);
        git(&root, &["cat-file", "-e", &format!("{commit}^{{commit}}")]);
        git(&root, &["cat-file", "-e", &format!("{commit}:new.txt")]);
    });
}

#[test]
fn snapshots_of_one_name_chain() {
    in_populated_repo(|root, snap| {
        let first = snap.snapshot("main", "ccx: turn 1 of main").unwrap();
        write(root, "a.txt", "changed\n");
        let second = snap.snapshot("main", "ccx: turn 2 of main").unwrap();
        assert_ne!(first, second);
        assert_eq!(
            git(root, &["rev-parse", &format!("{second}^")]).trim(),
            first
        );
        assert_eq!(
            git(root, &["log", "-1", "--format=%P", &second]).trim(),
            first,
            "exactly one parent"
        );
        assert_eq!(
            git(root, &["rev-parse", "refs/ccx/snapshots/main"]).trim(),
            second
        );
        // Another name starts its own chain from HEAD.
        let other = snap
            .snapshot("feature-x", "ccx: turn 3 of feature-x")
            .unwrap();
        assert_eq!(
            git(root, &["rev-parse", &format!("{other}^")]),
            git(root, &["rev-parse", "HEAD"])
        );
        // An unchanged tree still gets its own commit in the chain.
        let third = snap.snapshot("main", "ccx: turn 4 of main").unwrap();
        assert_eq!(
            git(root, &["rev-parse", &format!("{third}^")]).trim(),
            second
        );
        assert_eq!(
            git(root, &["rev-parse", &format!("{third}^{{tree}}")]),
            git(root, &["rev-parse", &format!("{second}^{{tree}}")])
        );
    });
}

#[test]
fn restore_puts_files_back_and_the_backup_undoes_it() {
    in_populated_repo(|root, snap| {
        write(root, "untracked-then.txt", "was here at the snapshot\n");
        write(root, "debug.log", "ignored, before\n");
        let earlier = snap.snapshot("main", "ccx: turn 1 of main").unwrap();
        let at_snapshot = tree_state(root);

        // The person (or Claude) edits on.
        write(root, "a.txt", "a edited later\n");
        write(root, "added later.txt", "new\n");
        write(root, "dir/new-dir/x.txt", "x\n");
        fs::remove_file(root.join("b.txt")).unwrap();
        fs::remove_file(root.join("untracked-then.txt")).unwrap();
        write(root, "debug.log", "ignored, after\n");
        write(root, "build/artifact", "ignored build output\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o644)).unwrap();
            fs::remove_file(root.join("link-to-a")).unwrap();
            std::os::unix::fs::symlink("b.txt", root.join("link-to-a")).unwrap();
        }
        write(root, "a.txt", "a edited later\n");
        let before_restore = tree_state(root);
        let before_repo = repo_state(root);

        let report = snap.restore(&earlier).unwrap();
        assert_eq!(read(root, "a.txt"), "a1\n");
        assert_eq!(read(root, "b.txt"), "b1\n");
        assert_eq!(
            read(root, "untracked-then.txt"),
            "was here at the snapshot\n"
        );
        assert!(
            !root.join("added later.txt").exists(),
            "new file not removed"
        );
        assert!(
            !root.join("dir/new-dir").exists(),
            "emptied directory left behind"
        );
        assert!(root.join("dir/nested/c.txt").exists());
        assert_eq!(
            read(root, "debug.log"),
            "ignored, after\n",
            "ignored file touched"
        );
        assert_eq!(read(root, "build/artifact"), "ignored build output\n");
        #[cfg(unix)]
        {
            assert!(is_executable(root, "run.sh"), "executable bit not restored");
            assert_eq!(
                fs::read_link(root.join("link-to-a")).unwrap(),
                Path::new("a.txt")
            );
        }
        assert_eq!(repo_state(root).1, before_repo.1, "index changed");
        assert_eq!(repo_state(root).2, before_repo.2, "HEAD changed");
        assert_eq!(repo_state(root).3, before_repo.3, "branches changed");
        no_temp_indexes_left(root);

        // Exactly what it said it did.
        let mut removed = report.removed.clone();
        removed.sort();
        assert_eq!(removed, vec!["added later.txt", "dir/new-dir/x.txt"]);
        let mut written = report.written.clone();
        written.sort();
        let mut expected = vec!["a.txt", "b.txt", "untracked-then.txt"];
        #[cfg(unix)]
        expected.extend(["link-to-a", "run.sh"]);
        expected.sort();
        assert_eq!(written, expected);
        assert!(report.backup_ref.starts_with("refs/ccx/snapshots/backup-"));
        assert_eq!(
            git(root, &["rev-parse", &report.backup_ref]).trim(),
            report.backup_commit
        );
        let summary = report.summary();
        assert!(summary.contains(&report.backup_commit[..12]), "{summary}");
        assert!(!summary.contains('\n'));

        // Files tracked and untracked-not-ignored are as at the snapshot (ignored ones kept).
        let now = tree_state(root);
        for (path, (what, _)) in &at_snapshot {
            if path.to_string_lossy().ends_with(".log") {
                continue;
            }
            assert_eq!(
                &now[path].0,
                what,
                "{} differs from the snapshot",
                path.display()
            );
        }

        // Undo: restoring the backup gives back the pre-restore state exactly.
        let undo = snap.restore(&report.backup_commit).unwrap();
        let after_undo = tree_state(root);
        let strip = |m: &BTreeMap<PathBuf, (String, Option<SystemTime>)>| {
            m.iter()
                .map(|(p, (w, _))| (p.clone(), w.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(strip(&after_undo), strip(&before_restore));
        assert_eq!(
            repo_state(root),
            before_repo,
            "status, index, HEAD or branches changed"
        );
        assert_ne!(undo.backup_ref, report.backup_ref);
    });
}

#[test]
fn restore_writes_only_what_differs() {
    in_populated_repo(|root, snap| {
        let earlier = snap.snapshot("main", "ccx: turn 1").unwrap();
        let mtime_b = fs::metadata(root.join("b.txt"))
            .unwrap()
            .modified()
            .unwrap();
        write(root, "a.txt", "changed\n");
        let report = snap.restore(&earlier).unwrap();
        assert_eq!(report.written, vec!["a.txt"]);
        assert!(report.removed.is_empty());
        assert_eq!(
            fs::metadata(root.join("b.txt"))
                .unwrap()
                .modified()
                .unwrap(),
            mtime_b,
            "an unchanged file was rewritten"
        );
        // Restoring the state we are in writes nothing.
        let again = snap.restore(&earlier).unwrap();
        assert!(
            again.written.is_empty() && again.removed.is_empty(),
            "{again:?}"
        );
    });
}

#[test]
fn restore_handles_file_and_directory_swaps() {
    in_populated_repo(|root, snap| {
        write(root, "thing", "a file\n");
        let file_version = snap.snapshot("main", "ccx: file").unwrap();
        fs::remove_file(root.join("thing")).unwrap();
        write(root, "thing/inside.txt", "now a dir\n");
        let dir_version = snap.snapshot("main", "ccx: dir").unwrap();

        snap.restore(&file_version).unwrap();
        assert_eq!(read(root, "thing"), "a file\n");
        snap.restore(&dir_version).unwrap();
        assert_eq!(read(root, "thing/inside.txt"), "now a dir\n");
    });
}

#[test]
fn an_ignored_file_the_target_overwrites_is_backed_up() {
    in_populated_repo(|root, snap| {
        write(root, "gen.txt", "generated v1\n");
        let earlier = snap.snapshot("main", "ccx: turn 1").unwrap();
        // Now gen.txt becomes ignored (untracked .gitignore change) and is edited.
        write(root, ".gitignore", "*.log\nbuild/\ngen.txt\n");
        write(root, "gen.txt", "generated v2, precious\n");

        let report = snap.restore(&earlier).unwrap();
        assert_eq!(read(root, "gen.txt"), "generated v1\n");
        assert_eq!(
            git(
                root,
                &["show", &format!("{}:gen.txt", report.backup_commit)]
            ),
            "generated v2, precious\n",
            "the overwritten ignored file is not in the backup"
        );
        snap.restore(&report.backup_commit).unwrap();
        assert_eq!(read(root, "gen.txt"), "generated v2, precious\n");
        assert_eq!(read(root, ".gitignore"), "*.log\nbuild/\ngen.txt\n");
    });
}

#[test]
fn not_a_repository_is_none() {
    bounded(30, || {
        let dir = tempfile::tempdir().unwrap();
        // Keep git from finding a repository above the temp dir.
        let out = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .unwrap();
        if out.status.success() {
            eprintln!("skipped: the temp dir lies inside a git repository");
            return;
        }
        assert!(Snapshotter::find(dir.path()).is_none());
        assert!(Snapshotter::find(&dir.path().join("does-not-exist")).is_none());
    });
}

#[test]
fn repository_without_commits() {
    bounded(60, || {
        let (_dir, root) = new_repo();
        write(&root, "first.txt", "one\n");
        write(&root, "sub/second.txt", "two\n");
        let before = repo_state(&root);
        let snap = Snapshotter::find(&root).expect("an empty repository is still a repository");
        let commit = snap.snapshot("main", "ccx: turn 1 of main").unwrap();
        assert_eq!(repo_state(&root), before);
        assert!(!root.join(".git/index").exists(), "an index was created");
        assert_eq!(
            git(&root, &["log", "-1", "--format=%P", &commit]).trim(),
            "",
            "no parent without HEAD"
        );
        assert_eq!(
            git(&root, &["show", &format!("{commit}:sub/second.txt")]),
            "two\n"
        );
        let out = git_cmd(&root, &["rev-parse", "-q", "--verify", "HEAD"]);
        assert!(!out.status.success(), "HEAD appeared");

        write(&root, "first.txt", "one, edited\n");
        write(&root, "third.txt", "three\n");
        let report = snap.restore(&commit).unwrap();
        assert_eq!(read(&root, "first.txt"), "one\n");
        assert!(!root.join("third.txt").exists());
        assert_eq!(report.removed, vec!["third.txt"]);
        snap.restore(&report.backup_commit).unwrap();
        assert_eq!(read(&root, "first.txt"), "one, edited\n");
        assert_eq!(read(&root, "third.txt"), "three\n");
        assert!(!root.join(".git/index").exists(), "an index was created");
        let out = git_cmd(&root, &["rev-parse", "-q", "--verify", "HEAD"]);
        assert!(!out.status.success(), "HEAD appeared");
        no_temp_indexes_left(&root);
    });
}

#[test]
fn working_directory_in_a_subdirectory() {
    bounded(60, || {
        let (_dir, root) = populated_repo();
        let cwd = root.join("dir/nested");
        let snap = Snapshotter::find(&cwd).unwrap();
        assert_eq!(
            snap.root().canonicalize().unwrap(),
            root.canonicalize().unwrap()
        );
        write(&root, "a.txt", "from the top\n");
        let commit = snap.snapshot("main", "ccx: turn 1").unwrap();
        let tree = tree_of(&root, &commit);
        assert!(tree.contains_key("a.txt") && tree.contains_key("dir/nested/c.txt"));
        assert_eq!(
            git(&root, &["show", &format!("{commit}:a.txt")]),
            "from the top\n"
        );
        write(&root, "a.txt", "again\n");
        write(&root, "other/file.txt", "elsewhere\n");
        snap.restore(&commit).unwrap();
        assert_eq!(read(&root, "a.txt"), "from the top\n");
        assert!(!root.join("other").exists());
    });
}

#[test]
fn names_with_spaces_and_unicode() {
    bounded(60, || {
        let (_dir, root) = populated_repo();
        let names = [
            "with space.txt",
            "ünïcødé/файл 1.txt",
            "日本語 ディレクトリ/名前.md",
            "quote\"and'tab\tname.txt",
            "glob*[x]?.txt",
        ];
        for (i, name) in names.iter().enumerate() {
            write(&root, name, &format!("v1 {i}\n"));
        }
        let snap = Snapshotter::find(&root.join("ünïcødé")).unwrap();
        let commit = snap.snapshot("main", "ccx: unicode").unwrap();
        let tree = tree_of(&root, &commit);
        for name in names {
            assert!(tree.contains_key(name), "{name} missing from {tree:?}");
        }
        for (i, name) in names.iter().enumerate() {
            write(&root, name, &format!("v2 {i}\n"));
        }
        write(&root, "ünïcødé/new ñ.txt", "new\n");
        fs::remove_file(root.join("with space.txt")).unwrap();
        let report = snap.restore(&commit).unwrap();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(read(&root, name), format!("v1 {i}\n"), "{name}");
        }
        assert_eq!(report.removed, vec!["ünïcødé/new ñ.txt"]);
        assert_eq!(report.written.len(), names.len());
        assert!(root.join("ünïcødé").is_dir());
    });
}

#[test]
fn bad_input_gets_one_clear_line() {
    bounded(30, || {
        let (_dir, root) = populated_repo();
        let snap = Snapshotter::find(&root).unwrap();
        for bad in [
            "nope",
            "--all",
            "",
            "0123456789abcdef0123456789abcdef01234567",
        ] {
            let err = snap.restore(bad).unwrap_err().to_string();
            assert!(err.contains("cannot restore"), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let err = snap.snapshot("bad..name", "x").unwrap_err().to_string();
        assert!(err.contains("not a valid"), "{err}");
        // Nothing was changed by the failures.
        let refs = git(&root, &["for-each-ref", "refs/ccx"]);
        assert!(refs.is_empty(), "{refs}");
        no_temp_indexes_left(&root);
    });
}

/// Writes `src/mod<d>/file<f>.rs` for 50 `d` and 100 `f`, holding `text(d, f)`.
fn write_5000_files(root: &Path, text: impl Fn(u32, u32) -> String) {
    for d in 0..50 {
        for f in 0..100 {
            write(root, &format!("src/mod{d}/file{f}.rs"), &text(d, f));
        }
    }
}

/// `cargo test --test snapshot -- --ignored --nocapture` prints the cost on ~5,000 files.
#[test]
#[ignore]
fn cost_on_five_thousand_files() {
    bounded(300, || {
        let (_dir, root) = new_repo();
        write_5000_files(&root, |d, f| {
            format!("// file {d}/{f}\n{}\n", "fn x() {}\n".repeat(20))
        });
        git(&root, &["add", "-A"]);
        git(&root, &["commit", "-q", "-m", "5000 files"]);
        let snap = Snapshotter::find(&root).unwrap();

        let t = Instant::now();
        let first = snap.snapshot("main", "ccx: turn 1").unwrap();
        eprintln!("snapshot, clean tree of 5000 files: {:?}", t.elapsed());

        for f in 0..10 {
            write(&root, &format!("src/mod1/file{f}.rs"), "changed\n");
        }
        write(&root, "new.rs", "new\n");
        let t = Instant::now();
        snap.snapshot("main", "ccx: turn 2").unwrap();
        eprintln!("snapshot, 11 files changed: {:?}", t.elapsed());

        let t = Instant::now();
        snap.snapshot("main", "ccx: turn 3").unwrap();
        eprintln!("snapshot, unchanged since the last: {:?}", t.elapsed());

        // No index at all (every file hashed): the worst case.
        let (_dir2, root2) = new_repo();
        write_5000_files(&root2, |d, f| format!("// {d}/{f}\n"));
        let snap2 = Snapshotter::find(&root2).unwrap();
        let t = Instant::now();
        snap2.snapshot("main", "ccx: turn 1").unwrap();
        eprintln!(
            "snapshot, 5000 untracked files (no index): {:?}",
            t.elapsed()
        );

        let t = Instant::now();
        let report = snap.restore(&first).unwrap();
        eprintln!(
            "restore of 11 files (backup snapshot included): {:?} ({})",
            t.elapsed(),
            report.summary()
        );
    });
}

/// Sets a path's modification time (the link itself for a symlink) to `secs` since the epoch.
#[cfg(unix)]
fn set_mtime(path: &Path, secs: u64) {
    let status = Command::new("touch")
        .args(["-h", "-d", &format!("@{secs}")])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "touch failed on {}", path.display());
}

/// A link retargeted to a name of the same length in the same second as the index was written
/// (inode reused: `core.checkStat=minimal` stands for that) must still be seen by a snapshot
/// taken later. The times are set by hand so the race happens every run, not one in a few.
#[cfg(unix)]
#[test]
fn snapshot_sees_a_link_retargeted_in_the_second_the_index_was_written() {
    bounded(60, || {
        let (_dir, root) = new_repo();
        git(&root, &["config", "core.checkStat", "minimal"]);
        write(&root, "a.txt", "a\n");
        write(&root, "b.txt", "b\n");
        std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
        git(&root, &["add", "-A"]);
        git(&root, &["commit", "-q", "-m", "initial"]);

        // The index records the link at second `then` and was itself written in that second.
        let then = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 100;
        set_mtime(&root.join("link"), then);
        git(&root, &["update-index", "--refresh"]);
        set_mtime(&root.join(".git/index"), then);

        // Same second, same length, new target.
        fs::remove_file(root.join("link")).unwrap();
        std::os::unix::fs::symlink("b.txt", root.join("link")).unwrap();
        set_mtime(&root.join("link"), then);

        let snap = Snapshotter::find(&root).unwrap();
        let commit = snap.snapshot("main", "ccx: turn 1").unwrap();
        assert_eq!(
            git(&root, &["cat-file", "-p", &format!("{commit}:link")]),
            "b.txt",
            "the snapshot kept the link's old target"
        );
        no_temp_indexes_left(&root);
    });
}

//! End to end: the effects journal with the real Claude Code (pinned) and the stand-in API. A
//! Bash call that edits one file with `sed -i` and removes another is listed with the right
//! verbs, restored byte for byte and undone; the person's own repository (status, stash, refs,
//! index, objects) is untouched; bad restores say one line and change nothing; a hook past its
//! budget records "not snapshotted" and never fails the call.

mod support;

use serde_json::Value;
use std::path::Path;
use support::ccx::{
    ask, ccx, close_editor, meta, meta_switch, start_ccx, wait_for_finished_turns, wait_request,
    QUICK,
};
use support::{git, TestEnv};

const EDIT: &str = r#"edit them [[tool:Bash:{"command":"sed -i s/hello/HI/ a.txt && rm b.txt","description":"edit"}]]"#;
const A_BEFORE: &[u8] = b"hello\nsecond line, no newline at the end";
const B_BEFORE: &[u8] = b"\x00\x01binary\xff\xfe\r\n";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: std::process::Output) -> std::process::Output {
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// A command that must fail with one line on stderr containing `said`.
fn refused(env: &TestEnv, args: &[&str], said: &str) {
    let out = ccx(env, args);
    assert!(
        !out.status.success(),
        "ccx {args:?} succeeded: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert_eq!(
        err.lines().count(),
        1,
        "ccx {args:?}: one line, got {err:?}"
    );
    assert!(err.contains(said), "ccx {args:?}: {err:?} lacks {said:?}");
}

/// Everything of the person's repository that ccx must never change (the status of the two
/// files Claude's call edits aside).
fn repo_state(dir: &Path) -> Vec<String> {
    let status = git(
        dir,
        &[
            "status",
            "--porcelain=v2",
            "--branch",
            "--untracked-files=all",
        ],
    );
    vec![
        status
            .lines()
            .filter(|l| !l.ends_with(" a.txt") && !l.ends_with(" b.txt"))
            .collect::<Vec<_>>()
            .join("\n"),
        git(dir, &["stash", "list"]),
        git(dir, &["for-each-ref", "--format=%(refname) %(objectname)"]),
        format!("{:?}", std::fs::read(dir.join(".git/index")).unwrap()),
        git(dir, &["count-objects"]),
    ]
}

/// A repository with a commit, a stash and a staged change.
fn make_repo(dir: &Path) {
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("c.txt"), "committed\n").unwrap();
    git(dir, &["add", "c.txt"]);
    git(dir, &["commit", "-q", "-m", "first"]);
    std::fs::write(dir.join("c.txt"), "stashed change\n").unwrap();
    git(dir, &["stash", "-q"]);
    std::fs::write(dir.join("d.txt"), "staged\n").unwrap();
    git(dir, &["add", "d.txt"]);
}

fn effects_json(env: &TestEnv, turn: &str) -> Vec<Value> {
    serde_json::from_slice(&ok(ccx(env, &["effects", turn, "--json"])).stdout).unwrap()
}

/// The side repository's folder for the test's project.
fn side_dir(env: &TestEnv) -> std::path::PathBuf {
    let root = env.data_dir.join("effects");
    let mut dirs: Vec<_> = std::fs::read_dir(&root).unwrap().flatten().collect();
    assert_eq!(dirs.len(), 1, "one project");
    dirs.remove(0).path()
}

/// The sed + rm turn, its effects, a byte-exact restore and its undo, bad input; returns
/// nothing, asserting as it goes. `in_repo`: the project is a git repository to keep intact;
/// then the restore and the undo are typed as meta-commands in the session, else run from the
/// shell.
fn bash_edit_restore_undo(in_repo: bool) {
    let env = TestEnv::new();
    let (a, b) = (env.project.join("a.txt"), env.project.join("b.txt"));
    if in_repo {
        make_repo(&env.project);
    }
    std::fs::write(&a, A_BEFORE).unwrap();
    std::fs::write(&b, B_BEFORE).unwrap();
    let before = in_repo.then(|| repo_state(&env.project));

    let session = start_ccx(&env, &["--permission-mode", "acceptEdits"]);
    ask(&session, EDIT, "tool result received");
    wait_for_finished_turns(&env, 1, &[]);
    let edited = b"HI\nsecond line, no newline at the end".to_vec();
    assert_eq!(std::fs::read(&a).unwrap(), edited);
    assert!(!b.exists());

    let calls = effects_json(&env, "HEAD");
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0]["tool"], "Bash");
    assert_eq!(
        calls[0]["changes"],
        serde_json::json!([{"verb": "modified", "path": "a.txt"}, {"verb": "deleted", "path": "b.txt"}])
    );
    let text = stdout(&ok(ccx(&env, &["effects", "HEAD"])));
    assert!(text.contains("modified  a.txt"), "{text}");
    assert!(text.contains("deleted   b.txt"), "{text}");
    let shown = stdout(&ok(ccx(&env, &["show", "HEAD"])));
    assert!(
        shown.contains("sed -i s/hello/HI/ a.txt && rm b.txt"),
        "{shown}"
    );
    let diff = stdout(&ok(ccx(&env, &["effects", "HEAD", "--diff"])));
    assert!(diff.contains("-hello") && diff.contains("+HI"), "{diff}");

    // Bad input: one line each, nothing changed.
    refused(&env, &["restore", "HEAD.2"], "has no call 2");
    refused(
        &env,
        &["restore", "HEAD.1", "../outside.txt"],
        "outside the project",
    );
    refused(&env, &["restore", "#99.1"], "99");
    assert_eq!(std::fs::read(&a).unwrap(), edited);
    assert!(!b.exists());

    if in_repo {
        meta(&session, "restore HEAD.1 --before");
        session.wait_for_text("restored 2 files", QUICK).unwrap();
        close_editor(&session);
    } else {
        let said = stdout(&ok(ccx(&env, &["restore", "HEAD.1", "--before"])));
        assert!(said.contains("restored 2 files"), "{said}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), A_BEFORE, "byte-exact");
    assert_eq!(std::fs::read(&b).unwrap(), B_BEFORE, "byte-exact");

    if in_repo {
        meta_switch(&session, "undo");
    } else {
        let said = stdout(&ok(ccx(&env, &["undo"])));
        assert!(said.starts_with("undid move 1"), "{said}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), edited);
    assert!(
        !b.exists(),
        "the undo removes the file the restore brought back"
    );
    let history = stdout(&ok(ccx(&env, &["history"])));
    assert!(
        history.contains("restore") && history.contains("undid move 1"),
        "{history}"
    );

    // A journal missing an object: one line, nothing changed.
    let side = side_dir(&env);
    let before_tree = calls[0]["before"].as_str().unwrap().to_string();
    let objects = side.join("git/objects");
    let blob = std::process::Command::new("git")
        .args(["rev-parse", &format!("{before_tree}:b.txt")])
        .env("GIT_DIR", side.join("git"))
        .output()
        .unwrap();
    let blob = String::from_utf8_lossy(&blob.stdout).trim().to_string();
    ccx::effects::pack::unpack_all(&objects).unwrap();
    std::fs::remove_file(objects.join(&blob[..2]).join(&blob[2..])).unwrap();
    refused(&env, &["restore", "HEAD.1", "--before"], "missing object");
    assert_eq!(std::fs::read(&a).unwrap(), edited);
    assert!(!b.exists());

    if let Some(before) = before {
        assert_eq!(
            repo_state(&env.project),
            before,
            "the person's repository is untouched"
        );
    }
    session.type_and_submit("/exit");
    session.wait_exit(support::ccx::TURN);
}

#[test]
fn bash_edits_are_journalled_restored_byte_exact_and_undone_in_a_git_repository() {
    bash_edit_restore_undo(true);
}

#[test]
fn the_journal_works_in_a_directory_that_is_not_a_repository() {
    bash_edit_restore_undo(false);
}

#[test]
fn a_hook_past_its_budget_records_not_snapshotted_and_the_call_still_runs() {
    let mut env = TestEnv::new();
    env.set_var("CCX_EFFECTS_BUDGET_MS", "0");
    std::fs::write(env.project.join("a.txt"), A_BEFORE).unwrap();
    std::fs::write(env.project.join("b.txt"), B_BEFORE).unwrap();
    let session = start_ccx(&env, &["--permission-mode", "acceptEdits"]);
    ask(&session, EDIT, "tool result received");
    wait_for_finished_turns(&env, 1, &[]);
    assert!(!env.project.join("b.txt").exists(), "the call ran");
    let calls = effects_json(&env, "HEAD");
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert!(
        calls[0]["note"]
            .as_str()
            .unwrap_or("")
            .contains("not snapshotted"),
        "{calls:#?}"
    );
    refused(&env, &["restore", "HEAD.1"], "was not snapshotted");
    session.type_and_submit("/exit");
    session.wait_exit(support::ccx::TURN);
}

/// `:rewind --code` over two turns of Bash edits puts the files back as they were; `:undo`
/// returns the conversation (the same branch and Claude session) and the files.
#[test]
fn rewind_code_over_bash_edits_and_undo_return_conversation_and_files() {
    let env = TestEnv::new();
    let (f, g) = (env.project.join("f.txt"), env.project.join("g.txt"));
    std::fs::write(&f, "one\n").unwrap();
    std::fs::write(&g, "gee\n").unwrap();
    let session = start_ccx(&env, &["--permission-mode", "acceptEdits"]);
    ask(&session, "start here [[reply:ready]]", "ready");
    ask(
        &session,
        r#"first edit [[reply:first edit made]] [[tool:Bash:{"command":"sed -i s/one/two/ f.txt","description":"edit"}]]"#,
        "first edit made",
    );
    wait_for_finished_turns(&env, 2, &[]);
    ask(
        &session,
        r#"second edit [[reply:second edit made]] [[tool:Bash:{"command":"sed -i s/two/three/ f.txt && rm g.txt","description":"edit"}]]"#,
        "second edit made",
    );
    let turns = wait_for_finished_turns(&env, 3, &[]);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "three\n");
    assert!(!g.exists());
    let main_session = wait_request(&env, "second edit", |r| {
        r.main && r.user_text.contains("second edit")
    })
    .session_id;

    meta_switch(&session, &format!("rewind {} --code", turns[0]["id"]));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "one\n",
        "as after turn 1"
    );
    assert_eq!(std::fs::read_to_string(&g).unwrap(), "gee\n");

    meta_switch(&session, "undo");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "three\n");
    assert!(!g.exists(), "the undo removes what the rewind brought back");
    ask(&session, "and now [[reply:back again]]", "back again");
    let request = wait_request(&env, "and now", |r| {
        r.main && r.user_text.contains("and now")
    });
    assert!(
        request.history_contains("second edit"),
        "the conversation of turn 3"
    );
    assert_eq!(request.session_id, main_session, "the same Claude session");
    let history = stdout(&ok(ccx(&env, &["history"])));
    assert!(
        history.contains("rewind") && history.contains("undid move 1"),
        "{history}"
    );

    // :undo again redoes the rewind: its branch and its files.
    meta_switch(&session, "undo");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "one\n");
    session.type_and_submit("/exit");
    session.wait_exit(support::ccx::TURN);
}

/// `:checkout BRANCH --code` through the journal: a file a call created on the branch being
/// left goes (the journal saw it created), a file of the person's own stays; `:undo` returns
/// to that branch with the file back.
#[test]
fn checkout_code_leaves_the_persons_files_and_undo_brings_the_branch_back() {
    let env = TestEnv::new();
    let made = env.project.join("made.txt");
    let session = start_ccx(&env, &["--permission-mode", "acceptEdits"]);
    ask(&session, "base [[reply:based]]", "based");
    wait_for_finished_turns(&env, 1, &[]);
    meta_switch(&session, "branch side");
    ask(
        &session,
        r#"make it [[tool:Bash:{"command":"echo made by claude > made.txt","description":"make"}]]"#,
        "tool result received",
    );
    wait_for_finished_turns(&env, 2, &["--branch", "side"]);
    assert!(made.exists());
    std::fs::write(env.project.join("mine.txt"), "the person's").unwrap();

    meta_switch(&session, "checkout main --code");
    assert!(
        !made.exists(),
        "created by a call of the branch left behind"
    );
    assert_eq!(
        std::fs::read_to_string(env.project.join("mine.txt")).unwrap(),
        "the person's"
    );
    meta_switch(&session, "undo");
    assert_eq!(std::fs::read_to_string(&made).unwrap(), "made by claude\n");
    let history = stdout(&ok(ccx(&env, &["history", "--json"])));
    let moves: Vec<Value> = serde_json::from_str(&history).unwrap();
    let kinds: Vec<&str> = moves.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["branch", "checkout", "undo"], "{moves:#?}");
    assert_eq!(moves[2]["to"]["branch"], "side");
    session.type_and_submit("/exit");
    session.wait_exit(support::ccx::TURN);
}

/// Runs `ccx __effects` with a hook payload for the test's project, as Claude Code does, and
/// waits for it to exit.
fn run_hook(env: &TestEnv, event: &str, id: &str) {
    let payload = serde_json::json!({"session_id": "s", "prompt_id": "p", "hook_event_name": event,
        "tool_name": "Bash", "tool_use_id": id, "tool_input": {"command": "edit"},
        "cwd": env.project});
    let file = env.scratch.join(format!("payload-{event}-{id}.json"));
    std::fs::write(&file, payload.to_string()).unwrap();
    let mut cmd = env.command(support::ccx_path());
    cmd.arg("__effects")
        .env("CLAUDE_PROJECT_DIR", &env.project)
        .stdin(std::fs::File::open(&file).unwrap())
        .stdout(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // Waited on by a thread, so this returns the moment the hook exits (a polling wait would
    // leave a background process time it must not need), yet never hangs the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait()));
    let status = rx.recv_timeout(std::time::Duration::from_secs(60));
    assert!(matches!(status, Ok(Ok(s)) if s.success()), "{status:?}");
}

/// Takes the project's snapshot lock (as a reader does), within a minute.
fn take_lock(lock: &Path) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(lock).unwrap();
    let taken = support::wait_until(std::time::Duration::from_secs(60), || {
        // SAFETY: flock on a descriptor this test owns.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        (r == 0).then_some(())
    });
    assert!(taken.is_some(), "the lock was held for a minute");
    file
}

/// The post hook hands its snapshot to a background process and exits; the lock passes to
/// that process with no gap, so whoever takes the lock next (the next call's pre hook, a
/// restore, `ccx effects`) finds the post line written, its tree holding the call's change.
#[test]
fn the_post_hook_finishes_its_snapshot_in_the_background_holding_the_lock() {
    let env = TestEnv::new();
    // Enough files that the background snapshot takes a moment.
    for d in 0..20 {
        let dir = env.project.join(format!("d{d:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..100 {
            std::fs::write(dir.join(format!("f{f:03}.txt")), format!("{d} {f}\n")).unwrap();
        }
    }
    run_hook(&env, "PreToolUse", "warm");
    run_hook(&env, "PostToolUse", "warm");
    let side = side_dir(&env);
    for call in 1..=5 {
        let id = format!("call{call}");
        run_hook(&env, "PreToolUse", &id);
        let changed = env.project.join(format!("d{call:02}/f001.txt"));
        std::fs::write(&changed, format!("changed by {id}\n")).unwrap();
        run_hook(&env, "PostToolUse", &id);
        let lock = take_lock(&side.join("lock"));
        let journal = std::fs::read_to_string(side.join("journal.jsonl")).unwrap();
        let last: Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
        assert_eq!(
            (last["kind"].as_str(), last["id"].as_str()),
            (Some("post"), Some(id.as_str())),
            "the post line is written before the lock is free:\n{journal}"
        );
        let (before, after) = (last["before"].as_str(), last["tree"].as_str());
        assert!(
            before.is_some() && after.is_some() && before != after,
            "{last}"
        );
        let shown = git(
            &side.join("git"),
            &[
                "--git-dir=.",
                "show",
                &format!("{}:d{call:02}/f001.txt", after.unwrap()),
            ],
        );
        assert_eq!(shown, format!("changed by {id}\n"));
        assert!(
            !side.join("pending").join(&id).exists(),
            "the pre's tree was taken"
        );
        drop(lock);
    }
}

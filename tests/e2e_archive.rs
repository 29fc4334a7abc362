//! End to end: the retention guard (`ccx archive`, the background archive at every start,
//! `auto_archive = false`, `ccx doctor`'s archive line) against sessions made by the real
//! Claude Code (`claude -p`, pinned) in a private HOME, in two projects.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use support::ccx::{ccx, meta, start_ccx, EDITOR_MARK, QUICK, TURN};
use support::{output_with_timeout, wait_until, TestEnv};

const S1: &str = "11111111-aaaa-4bbb-8ccc-000000000001";
const S2: &str = "22222222-aaaa-4bbb-8ccc-000000000002";
const S3: &str = "33333333-aaaa-4bbb-8ccc-000000000003";

/// Makes a session's transcript look an hour old: no longer in use.
fn age(env: &TestEnv, session: &str) -> PathBuf {
    let path = env
        .transcript_path(session)
        .expect("the session's transcript");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    path
}

fn ok_stdout(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "ccx failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ccx` in `dir` (a project other than the test's own).
fn ccx_in(env: &TestEnv, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = env.command(support::ccx_path());
    cmd.current_dir(dir).args(args);
    output_with_timeout(&mut cmd, Duration::from_secs(30)).expect("ccx finished")
}

fn branch_turns(out: std::process::Output) -> Vec<Value> {
    serde_json::from_str(&ok_stdout(out)).expect("ccx log --json prints an array")
}

fn branch_names(env: &TestEnv) -> Vec<String> {
    let tree: Vec<Value> = serde_json::from_str(&ok_stdout(ccx(env, &["tree", "--json"]))).unwrap();
    tree.iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect()
}

/// `ccx doctor`'s archive line.
fn doctor_archive(env: &TestEnv) -> String {
    let out = ccx(env, &["doctor", "--json"]);
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout).expect("doctor --json");
    let check = checks
        .iter()
        .find(|c| c["name"] == "archive")
        .expect("an archive check");
    assert_eq!(check["ok"], true, "{check}");
    check["detail"].as_str().unwrap().to_string()
}

fn other_project(env: &TestEnv) -> PathBuf {
    let dir = env.root().join("other-project");
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

#[test]
fn archive_keeps_every_projects_sessions_and_only_what_is_new() {
    let env = TestEnv::new();
    let other = other_project(&env);
    env.claude_print(
        &env.project,
        S1,
        &["plan the parser", "write the lexer"],
        false,
    );
    env.claude_print(&other, S2, &["other project question"], false);
    age(&env, S1);
    age(&env, S2);

    let out = ok_stdout(ccx(&env, &["archive"]));
    assert!(
        out.starts_with("archived 2 sessions (3 turns) from 2 projects"),
        "{out}"
    );
    let here = branch_turns(ccx(&env, &["log", "--branch", "import-11111111", "--json"]));
    let prompts: Vec<&str> = here.iter().map(|t| t["prompt"].as_str().unwrap()).collect();
    assert_eq!(prompts, ["plan the parser", "write the lexer"]);
    let there = branch_turns(ccx_in(
        &env,
        &other,
        &["log", "--branch", "import-22222222", "--json"],
    ));
    assert_eq!(there[0]["prompt"], "other project question");
    assert!(doctor_archive(&env).starts_with("2 of 2 Claude Code sessions kept"));

    // Nothing new: nothing done.
    let out = ok_stdout(ccx(&env, &["archive"]));
    assert_eq!(out, "nothing new to archive; 2 already kept\n");

    // A session in use waits; the doctor says it is at risk, and when Claude would sweep it.
    std::fs::write(
        env.home.join(".claude/settings.json"),
        "{\"cleanupPeriodDays\": 7}",
    )
    .unwrap();
    env.claude_print(&env.project, S3, &["fresh question"], false);
    let out = ok_stdout(ccx(&env, &["archive"]));
    assert!(out.contains("1 in use now"), "{out}");
    let doctor = doctor_archive(&env);
    assert!(
        doctor.starts_with("warning: 1 session not archived yet (the oldest may go in 6 days)")
            && doctor.contains("after 7 days"),
        "{doctor}"
    );
    age(&env, S3);
    let out = ok_stdout(ccx(&env, &["archive"]));
    assert!(
        out.starts_with("archived 1 session (1 turn) from 1 project"),
        "{out}"
    );

    // A session that grew contributes its new turns only.
    env.claude_print(&env.project, S1, &["test the lexer"], true);
    age(&env, S1);
    let out = ok_stdout(ccx(&env, &["archive", "--json"]));
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (summary["sessions"].as_u64(), summary["turns"].as_u64()),
        (Some(1), Some(1))
    );
    let here = branch_turns(ccx(&env, &["log", "--branch", "import-11111111", "--json"]));
    assert_eq!(here.len(), 3);
    assert_eq!(here[2]["prompt"], "test the lexer");
    assert!(doctor_archive(&env).starts_with("3 of 3 Claude Code sessions kept"));
}

#[test]
fn sessions_are_archived_in_the_background_and_deleted_branches_stay_deleted() {
    let env = TestEnv::new();
    env.claude_print(&env.project, S1, &["old work"], false);
    age(&env, S1);
    let session = start_ccx(&env, &[]);
    wait_until(TURN, || {
        branch_names(&env)
            .contains(&"import-11111111".to_string())
            .then_some(())
    })
    .expect("the background archive keeps the old session");

    meta(&session, "delete import-11111111");
    session.wait_for_text("[y/N]", QUICK).unwrap();
    session.send(b"y");
    session
        .wait_for_text("deleted import-11111111", QUICK)
        .unwrap();
    session.send(b"\x1b");
    session
        .wait_for(QUICK, |s| !s.contains(EDITOR_MARK))
        .unwrap();
    meta(&session, "quit");
    assert_eq!(session.wait_exit(TURN), Some(0));

    let out = ok_stdout(ccx(&env, &["archive", "--again"]));
    assert!(out.starts_with("nothing new to archive"), "{out}");
    assert!(!branch_names(&env).contains(&"import-11111111".to_string()));
}

#[test]
fn auto_archive_false_leaves_archiving_to_the_command() {
    let env = TestEnv::new();
    let config = env.home.join(".config/ccx");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "auto_archive = false\n").unwrap();
    env.claude_print(&env.project, S2, &["old work"], false);
    age(&env, S2);
    let session = start_ccx(&env, &[]);
    meta(&session, "quit");
    assert_eq!(session.wait_exit(TURN), Some(0));
    assert!(
        !env.data_dir.join("archive.json").exists(),
        "no archive ran"
    );
    assert!(!branch_names(&env).contains(&"import-22222222".to_string()));
    let doctor = doctor_archive(&env);
    assert!(
        doctor.starts_with("warning: 1 session not archived yet")
            && doctor.contains("auto_archive = false"),
        "{doctor}"
    );
    let out = ok_stdout(ccx(&env, &["archive"]));
    assert!(out.starts_with("archived 1 session (1 turn)"), "{out}");
}

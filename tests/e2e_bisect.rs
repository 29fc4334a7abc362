//! End to end: `ccx bisect` over turns the real Claude Code (pinned) made through ccx against
//! the stand-in API, each turn writing a file in a git repository (so each has a code
//! snapshot): the first bad turn is named with its prompt and files, the person's tree and
//! repository are untouched, bad input and hanging tests get one line, and Ctrl-C leaves
//! nothing behind.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;
use support::ccx::{ask, meta, start_ccx, wait_for_finished_turns, TURN};
use support::{git, output_with_timeout, wait_until, TestEnv};

const TEST: &str = "! grep -q broken value.txt";

/// `ccx bisect ARGS` with its temporary files under `tmp`.
fn bisect(env: &TestEnv, tmp: &Path, args: &[&str]) -> Output {
    let mut cmd = env.command(support::ccx_path());
    cmd.env("TMPDIR", tmp).arg("bisect").args(args);
    output_with_timeout(&mut cmd, Duration::from_secs(120)).expect("ccx bisect finished")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The last line of a run's standard error (progress lines come before it when it is not a
/// terminal).
fn last_line(bytes: &[u8]) -> String {
    text(bytes).lines().last().unwrap_or_default().to_string()
}

/// What bisect left in `tmp` (ccx's socket folder `ccx-<uid>` lives there too).
fn leftovers(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("ccx-bisect-"))
        .collect()
}

#[test]
fn bisect_names_the_first_bad_turn_and_leaves_nothing_behind() {
    let env = TestEnv::new();
    git(&env.project, &["init", "-q"]);
    let value = env.project.join("value.txt");
    let other = env.project.join("other.txt");
    let session = start_ccx(&env, &["--permission-mode", "acceptEdits"]);
    let writes = [
        (&value, "fine 1", "start the value"),
        (&value, "fine 2", "tune the value"),
        (&value, "broken 3", "make the value strict"),
        (&other, "unrelated", "add a note"),
        (&value, "broken 5", "polish the value"),
    ];
    for (n, (path, content, words)) in writes.iter().enumerate() {
        ask(
            &session,
            &format!("{words} [[write:{}:{content}]]", path.display()),
            "wrote",
        );
        wait_for_finished_turns(&env, n + 1, &[]);
    }
    let turns = wait_for_finished_turns(&env, 5, &[]);
    let ids: Vec<String> = turns.iter().map(|t| t["id"].to_string()).collect();
    meta(&session, "quit");
    assert_eq!(session.wait_exit(TURN), Some(0));
    let status_before = git(&env.project, &["status", "--porcelain"]);
    let tmp = env.scratch.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();

    let out = bisect(
        &env,
        &tmp,
        &["--good", &ids[0], "--bad", "HEAD", "--", "sh", "-c", TEST],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.starts_with(&format!("first bad turn: #{} on main", ids[2]))
            && said.contains("make the value strict")
            && said.contains("value.txt")
            && said.contains(&format!("last good: #{}", ids[1])),
        "{said}"
    );
    // The person's tree, index and repository are as they were; no work tree registered.
    assert_eq!(std::fs::read_to_string(&value).unwrap(), "broken 5");
    assert_eq!(git(&env.project, &["status", "--porcelain"]), status_before);
    assert_eq!(git(&env.project, &["worktree", "list"]).lines().count(), 1);
    assert_eq!(leftovers(&tmp), Vec::<String>::new());

    // A good turn that fails, and a test that hangs: one line each, nothing left.
    let out = bisect(
        &env,
        &tmp,
        &["--good", &ids[2], "--bad", &ids[4], "--", "sh", "-c", TEST],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_line(&out.stderr),
        format!(
            "ccx: the good turn #{} already fails the test (exit 1): nothing to bisect",
            ids[2]
        )
    );
    let out = bisect(
        &env,
        &tmp,
        &[
            "--good",
            &ids[0],
            "--bad",
            &ids[4],
            "--timeout",
            "1",
            "--",
            "sleep",
            "30",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        last_line(&out.stderr).starts_with(&format!(
            "ccx: the test ran longer than 1 s on turn #{} and was stopped",
            ids[0]
        )),
        "{}",
        text(&out.stderr)
    );
    let out = bisect(
        &env,
        &tmp,
        &["--good", &ids[4], "--bad", &ids[0], "--", "true"],
    );
    assert!(
        text(&out.stderr).contains("is not an earlier turn"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(leftovers(&tmp), Vec::<String>::new());

    // Ctrl-C while a test runs: the run is killed and the temporary tree removed.
    let mut cmd = env.command(support::ccx_path());
    cmd.env("TMPDIR", &tmp)
        .args([
            "bisect", "--good", &ids[0], "--bad", &ids[4], "--", "sleep", "30",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    wait_until(Duration::from_secs(30), || {
        let dirs = leftovers(&tmp);
        let running = dirs.iter().any(|d| d.starts_with("ccx-bisect-"))
            && std::fs::read_dir(tmp.join(&dirs[0]))
                .map(|mut e| {
                    e.any(|f| f.is_ok_and(|f| f.file_name().to_string_lossy().ends_with(".log")))
                })
                .unwrap_or(false);
        running.then_some(())
    })
    .expect("the first test runs");
    // SAFETY: a signal to the child this test started, by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let code = wait_until(Duration::from_secs(30), || child.try_wait().unwrap())
        .expect("ccx bisect ends on Ctrl-C");
    assert_eq!(code.code(), Some(130));
    assert_eq!(leftovers(&tmp), Vec::<String>::new());
}

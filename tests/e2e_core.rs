//! End to end: the real Claude Code (pinned) through ccx in a PTY, against the project's own
//! stand-in Messages API on 127.0.0.1, with a private HOME per test.

mod support;

use std::time::Duration;
use support::ccx::{
    ask, ask_for, ccx, ccx_json, exit_cleanly, kill_9_leaving_no_claude, log_json,
    session_with_turns, start_ccx, wait_for_finished_turns, TURN,
};
use support::harness::children_of;
use support::{ccx_path, pid_alive, wait_until, TestEnv};

#[test]
fn two_prompts_are_recorded_exactly_and_exit_is_clean() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("first question", "first answer")]);
    ask_for(&session, "second question [[usage:54321]]", "second answer");
    let turns = wait_for_finished_turns(&env, 2, &[]);

    assert_eq!(turns.len(), 2, "{turns:#?}");
    let (first, second) = (&turns[0], &turns[1]);
    assert_eq!(first["prompt"], "first question [[reply:first answer]]");
    assert_eq!(first["reply"], "first answer");
    assert_eq!(
        second["prompt"],
        "second question [[usage:54321]] [[reply:second answer]]"
    );
    assert_eq!(second["reply"], "second answer");
    assert_eq!(first["branch"], "main");
    assert!(first["parent"].is_null());
    assert_eq!(second["parent"], first["id"]);
    assert_eq!(second["interrupted"], false);

    // context_tokens is exactly what the stand-in reported for the turn's last main request.
    let main = env.standin.main_requests();
    let reported = |needle: &str| {
        main.iter()
            .rev()
            .find(|r| r.user_text.contains(needle))
            .expect("request")
            .usage
            .context_tokens()
    };
    assert_eq!(first["context_tokens"], reported("first question"));
    assert_eq!(second["context_tokens"], 54321);
    assert!(second["output_tokens"].as_u64().unwrap() > 0);
    assert!(second["est_tokens"].as_u64().unwrap() > 0);

    // `ccx show` reads the same turn by reference.
    let shown = ccx_json(&env, &["show", "HEAD~1", "--json"]);
    assert_eq!(shown["id"], first["id"]);

    exit_cleanly(&session);
}

#[test]
fn kill_9_of_ccx_mid_turn_keeps_completed_turns_and_leaves_no_claude() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("kept", "kept answer")]);

    session.type_and_submit("slow one [[sleep:30000]]");
    wait_until(TURN, || {
        env.standin
            .main_requests()
            .iter()
            .any(|r| r.user_text.contains("slow one"))
            .then_some(())
    })
    .expect("the slow turn reached the stand-in");
    // A prompt becomes a turn once Claude's transcript shows it (moments after the request).
    wait_until(TURN, || {
        log_json(&env, &[])
            .iter()
            .any(|t| t["prompt"] == "slow one [[sleep:30000]]")
            .then_some(())
    })
    .expect("the slow turn is in the log");
    kill_9_leaving_no_claude(&session);
    let turns = log_json(&env, &[]);
    let kept = turns
        .iter()
        .find(|t| t["prompt"] == "kept [[reply:kept answer]]")
        .expect("completed turn kept");
    assert_eq!(kept["reply"], "kept answer");
    assert!(!kept["ended_at"].is_null());
    // The prompt typed before the kill is not lost either.
    assert!(
        turns
            .iter()
            .any(|t| t["prompt"] == "slow one [[sleep:30000]]"),
        "{turns:#?}"
    );
}

#[test]
fn two_sessions_in_one_project_and_a_reader_record_everything() {
    let env = TestEnv::new();
    let a = start_ccx(&env, &[]);
    let b = start_ccx(&env, &[]);
    ask(&a, "alpha one [[reply:alpha reply one]]", "alpha reply one");
    wait_for_finished_turns(&env, 1, &["--all"]);
    ask(&b, "beta one [[reply:beta reply one]]", "beta reply one");
    wait_for_finished_turns(&env, 2, &["--all"]);
    ask(&a, "alpha two [[reply:alpha reply two]]", "alpha reply two");
    ask(&b, "beta two [[reply:beta reply two]]", "beta reply two");
    let turns = wait_for_finished_turns(&env, 4, &["--all"]);

    assert_eq!(turns.len(), 4, "{turns:#?}");
    let find = |p: &str| {
        turns
            .iter()
            .find(|t| t["prompt"].as_str().unwrap().starts_with(p))
            .unwrap()
            .clone()
    };
    let (a1, a2, b1, b2) = (
        find("alpha one"),
        find("alpha two"),
        find("beta one"),
        find("beta two"),
    );
    assert_eq!(
        a2["parent"], a1["id"],
        "alpha's turns chain on their own branch"
    );
    assert_eq!(
        b2["parent"], b1["id"],
        "beta's turns chain on their own branch"
    );
    assert_ne!(
        a1["branch"], b1["branch"],
        "two conversations, two branches"
    );
    assert_eq!(a2["reply"], "alpha reply two");
    assert_eq!(b2["reply"], "beta reply two");
    let mut ids: Vec<u64> = turns.iter().map(|t| t["id"].as_u64().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "ids are unique");

    for s in [&a, &b] {
        exit_cleanly(s);
    }
}

#[test]
fn forged_hook_messages_record_nothing() {
    let env = TestEnv::new();
    let (session, turns) = session_with_turns(&env, &[("real one", "real answer")]);
    let session_id = turns[0]["session_id"].as_str().unwrap().to_string();

    // Find this ccx's hook socket and talk to it without the run's secret.
    let runtime = env.runtime_dir();
    let socket = std::fs::read_dir(&runtime)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("run-{}-", session.pid()))
        })
        .map(|e| e.path().join("hook.sock"))
        .expect("the running ccx's hook socket");
    for event in ["SessionStart", "UserPromptSubmit", "Stop"] {
        let payload = serde_json::json!({
            "session_id": session_id, "hook_event_name": event, "prompt": "forged prompt",
            "transcript_path": "/dev/null", "cwd": env.project,
        });
        let mut cmd = env.command(ccx_path());
        cmd.arg("__hook")
            .env("CCX_HOOK_SOCKET", &socket)
            .env("CCX_HOOK_SECRET", "not-the-secret")
            .stdin(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, payload.to_string().as_bytes()).unwrap();
        drop(stdin);
        assert!(child.wait().unwrap().success(), "a hook never fails");
    }
    // The bridge saw all three and dropped them (so the test cannot pass by never arriving).
    let log = env.data_dir.join("ccx.log");
    wait_until(Duration::from_secs(10), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (text.matches("wrong secret").count() >= 3).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "forged messages not dropped: {:?}",
            std::fs::read_to_string(&log)
        )
    });
    ask_for(&session, "real two", "second real answer");
    let turns = wait_for_finished_turns(&env, 2, &[]);
    assert_eq!(turns.len(), 2, "{turns:#?}");
    assert!(turns.iter().all(|t| t["prompt"] != "forged prompt"));
    exit_cleanly(&session);
}

/// Makes the project's turn log impossible to open: sled keeps a directory where this puts a
/// file of garbage.
fn damage_store(env: &TestEnv) {
    let store_dir =
        ccx::paths::project_store_dir(&env.data_dir, &ccx::paths::project_dir(&env.project));
    std::fs::create_dir_all(&store_dir).unwrap();
    std::fs::write(store_dir.join("db"), b"\x00garbage\xff not a database").unwrap();
}

#[test]
fn a_damaged_store_never_stops_claude_and_the_footer_says_so() {
    let env = TestEnv::new();
    damage_store(&env);
    let session = start_ccx(&env, &[]);
    ask_for(&session, "works anyway", "claude still answers");
    session.wait_for_text("not recording", TURN).unwrap();
    exit_cleanly(&session);
}

/// `:quit` ends Claude and ccx whatever the turn log's state (it used to answer "the turn log
/// is not available" when the store was damaged).
#[test]
fn quit_works_with_a_damaged_store() {
    let env = TestEnv::new();
    damage_store(&env);
    let session = start_ccx(&env, &[]);
    session.wait_for_text("not recording", TURN).unwrap();
    let claude = wait_until(TURN, || children_of(session.pid()).first().copied())
        .expect("claude runs under ccx");
    support::ccx::meta(&session, "quit");
    assert_eq!(
        session.wait_exit(TURN),
        Some(0),
        "ccx did not end on :quit:\n{}",
        session.screen()
    );
    assert!(
        wait_until(Duration::from_secs(20), || (!pid_alive(claude))
            .then_some(()))
        .is_some(),
        "claude (pid {claude}) outlived :quit"
    );
}

#[test]
fn print_mode_into_a_pipe_gives_claudes_exact_output_and_is_recorded() {
    let env = TestEnv::new();
    let prompt = "piped [[reply:alpha\\nbeta]]";
    let through_ccx = env
        .command(ccx_path())
        .args(["-p", prompt])
        .output()
        .unwrap();
    let plain = env.claude().args(["-p", prompt]).output().unwrap();
    assert_eq!(through_ccx.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&through_ccx.stdout),
        String::from_utf8_lossy(&plain.stdout),
        "byte for byte what claude prints"
    );
    assert_eq!(through_ccx.stdout, b"alpha\nbeta\n");
    let turns = wait_for_finished_turns(&env, 1, &[]);
    assert_eq!(turns[0]["prompt"], prompt);
    assert_eq!(turns[0]["reply"], "alpha\nbeta");
}

/// Points `$TMPDIR` of `env` at a new directory of its own (where ccx makes its runtime dir
/// when `XDG_RUNTIME_DIR` is unset) and returns it.
fn private_tmpdir(env: &mut TestEnv) -> std::path::PathBuf {
    let tmp = env.scratch.join("t");
    std::fs::create_dir_all(&tmp).unwrap();
    env.set_var("TMPDIR", &tmp.to_string_lossy());
    tmp
}

/// Every file and directory under `dir` (recursively, not following symbolic links, which are
/// left out) with its metadata.
fn entries_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, std::fs::Metadata)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() {
                todo.push(e.path());
            }
            if !meta.file_type().is_symlink() {
                out.push((e.path(), meta));
            }
        }
    }
    out
}

/// Every file under `dir` (recursively) whose mode lets anyone but the owner in, with its mode.
fn not_private(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    entries_under(dir)
        .into_iter()
        .filter(|(_, meta)| meta.permissions().mode() & 0o077 != 0)
        .map(|(path, meta)| format!("{} {:o}", path.display(), meta.mode() & 0o7777))
        .collect()
}

/// Every file ccx makes is the owner's only by itself (not only through a private parent):
/// the store's files and blobs, ccx.log, the run directory's status.json; the run directory's
/// name carries nothing of the hook secret; a stale store socket is gone once ccx exits; and
/// the programs ccx starts keep the person's own umask.
#[test]
fn every_file_ccx_makes_is_private_and_its_names_hide_the_secret() {
    let mut env = TestEnv::new();
    let tmp = private_tmpdir(&mut env);
    let runtime = tmp.join(format!("ccx-{}", unsafe { libc::getuid() }));
    std::fs::create_dir_all(&runtime).unwrap();
    // A store socket left behind by a ccx that was killed: nothing listens on it.
    let stale = runtime.join("store-00000000deadbeef.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());

    // ccx must not rely on the umask it is given (the usual 022 here).
    let umask = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|m| u32::from_str_radix(m.trim(), 8).unwrap())
        .unwrap();
    let session = start_ccx(&env, &[]);
    // Claude writes a file in the project: it gets the person's umask, not ccx's.
    let target = env.project.join("made-by-claude.txt");
    ask(
        &session,
        &format!("[[write:{}:made]]", target.display()),
        &format!("wrote {}", target.display()),
    );
    wait_for_finished_turns(&env, 1, &[]);

    let run_dirs: Vec<String> = std::fs::read_dir(&runtime)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("run-"))
        .collect();
    assert_eq!(run_dirs.len(), 1, "{run_dirs:?}");
    // The hook secret lives in the run directory's key file (never in claude's environment).
    let key: serde_json::Value = serde_json::from_slice(
        &std::fs::read(runtime.join(&run_dirs[0]).join("hook.key")).expect("the hook key file"),
    )
    .unwrap();
    let secret = key["secret"].as_str().expect("a secret").to_string();
    for piece in secret.as_bytes().windows(6) {
        let piece = String::from_utf8_lossy(piece);
        assert!(
            !run_dirs[0].contains(&*piece),
            "the run directory {} carries part of the secret",
            run_dirs[0]
        );
    }
    assert!(runtime.join(&run_dirs[0]).join("status.json").is_file());
    let made_by_ccx: Vec<String> = not_private(&runtime)
        .into_iter()
        .filter(|f| !f.starts_with(&*stale.to_string_lossy()))
        .collect();
    assert_eq!(made_by_ccx, Vec::<String>::new(), "runtime files");

    exit_cleanly(&session);
    assert!(!stale.exists(), "the stale store socket is removed at exit");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode,
        0o666 & !umask,
        "Claude's file keeps the person's umask"
    );

    // A record big enough that sled keeps it in a file of its own (db/blobs/...).
    let session_id = "5b0c0d6e-1f2a-4b3c-8d4e-9f0a1b2c3d4e";
    let prompt = "big ".repeat(100_000);
    let lines = [
        serde_json::json!({"type": "user", "uuid": "u1", "parentUuid": null,
            "sessionId": session_id, "timestamp": "2026-01-01T00:00:00.000Z",
            "message": {"role": "user", "content": prompt}}),
        serde_json::json!({"type": "assistant", "uuid": "a1", "parentUuid": "u1",
            "sessionId": session_id, "timestamp": "2026-01-01T00:00:01.000Z",
            "message": {"id": "m1", "role": "assistant", "model": "claude-test",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {"input_tokens": 1, "output_tokens": 1}}}),
    ];
    let file = env.scratch.join(format!("{session_id}.jsonl"));
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let out = ccx(&env, &["import", &file.to_string_lossy()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blobs: Vec<_> = walk_files(&env.data_dir)
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "blobs"))
        .collect();
    assert!(
        !blobs.is_empty(),
        "sled made a blob file for the big record"
    );
    assert_eq!(
        not_private(&env.data_dir),
        Vec::<String>::new(),
        "data files"
    );
}

/// Every regular file under `dir`.
fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    entries_under(dir)
        .into_iter()
        .filter(|(_, meta)| meta.is_file())
        .map(|(path, _)| path)
        .collect()
}

/// With `XDG_RUNTIME_DIR` unset, `$TMPDIR/ccx-<uid>` made a symlink to someone's directory:
/// ccx neither follows nor chmods it, says so in one line, and works from a private fallback.
#[test]
fn a_symlink_at_the_runtime_dir_is_never_followed() {
    use std::os::unix::fs::PermissionsExt;
    let mut env = TestEnv::new();
    let tmp = private_tmpdir(&mut env);
    let victim = env.scratch.join("someone-elses");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o755)).unwrap();
    let uid = unsafe { libc::getuid() };
    std::os::unix::fs::symlink(&victim, tmp.join(format!("ccx-{uid}"))).unwrap();

    let out = ccx(&env, &["log"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ccx log works: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one clear line: {err}");
    assert!(
        lines[0].contains("is not safe to use (it is a symbolic link); using")
            && lines[0].contains(&format!("ccx-{uid}.1")),
        "{err}"
    );
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the link's target was not touched");
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "nothing put there"
    );
    let fallback = std::fs::symlink_metadata(tmp.join(format!("ccx-{uid}.1"))).unwrap();
    assert!(fallback.is_dir());
    assert_eq!(fallback.permissions().mode() & 0o777, 0o700);
}

/// A `config.toml` with a wrong key: the session says which key and that its default is used,
/// in Claude's footer and once in ccx.log, and `ccx doctor` says it too; Claude runs as usual.
#[test]
fn a_wrong_config_key_is_named_on_screen_and_in_doctor() {
    let env = TestEnv::new();
    let config = env.home.join(".config/ccx/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "rot_zone_tokens = \"many\"\ncontext_window = 500000\n",
    )
    .unwrap();
    let said = "key 'rot_zone_tokens' is wrong";

    let session = start_ccx(&env, &[]);
    ask(&session, "hello [[reply:configured]]", "configured");
    session
        .wait_for(TURN, |s| {
            s.lines()
                .any(|l| l.contains("config.toml: ") && l.contains(said))
        })
        .unwrap_or_else(|screen| panic!("the footer does not name the key:\n{screen}"));
    exit_cleanly(&session);
    let log = std::fs::read_to_string(env.data_dir.join("ccx.log")).unwrap_or_default();
    assert_eq!(log.lines().filter(|l| l.contains(said)).count(), 1, "{log}");

    let out = ccx(&env, &["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains(" config "))
        .unwrap_or_else(|| panic!("no config line:\n{text}"));
    assert!(line.starts_with("BAD"), "{text}");
    assert!(
        line.contains(said) && line.contains("using its default"),
        "{line}"
    );
    assert_eq!(out.status.code(), Some(1));
}

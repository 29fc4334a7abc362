//! End to end: `ccx import`, `search`, `export`, `diff` and `replay` against sessions made with
//! the real Claude Code (`claude -p`, pinned) and the project's stand-in Messages API.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use support::ccx::{ccx, command_says, log_json};
use support::{output_with_timeout, TestEnv};

/// One `claude -p` run per prompt in one session: `--session-id` first, `--resume` after.
fn claude_session(env: &TestEnv, session: &str, prompts: &[&str]) -> PathBuf {
    env.claude_print(&env.project, session, prompts, false);
    env.transcript_path(session)
        .expect("the session's transcript")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "ccx failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    out
}

fn branch_name(session: &str) -> String {
    format!("import-{}", &session[..8])
}

/// `ccx import` of the transcript at `path` (Claude session `session`), which must succeed;
/// returns its output and the branch it imports to.
fn import(env: &TestEnv, path: &std::path::Path, session: &str) -> (std::process::Output, String) {
    let out = ok(ccx(env, &["import", path.to_str().unwrap()]));
    (out, branch_name(session))
}

/// Asserts that ccx failed and said `text` on its standard error.
fn assert_failed_saying(out: &std::process::Output, text: &str) {
    assert!(!out.status.success(), "{}", stdout(out));
    assert!(stderr(out).contains(text), "{}", stderr(out));
}

/// Asserts that ccx printed `text` on its standard output.
fn assert_said(out: &std::process::Output, text: &str) {
    assert!(stdout(out).contains(text), "{}", stdout(out));
}

/// A replay of branch `name` stopped after its first turn: `name-replay` holds just the turn of
/// `done`, and the turn `never sent` never reached the API.
fn assert_replay_stopped_after(env: &TestEnv, name: &str, done: &str) {
    let turns = log_json(env, &["--branch", &format!("{name}-replay")]);
    assert_eq!(turns.len(), 1, "{turns:#?}");
    assert_eq!(turns[0]["prompt"], done);
    assert!(!env
        .standin
        .requests()
        .iter()
        .any(|r| r.user_text == "never sent"));
}

/// The context size the stand-in reported for the last main request carrying `prompt`.
fn reported_context(env: &TestEnv, prompt: &str) -> u64 {
    env.standin
        .main_requests()
        .iter()
        .rev()
        .find(|r| r.user_text == prompt)
        .unwrap_or_else(|| panic!("no request for {prompt:?}"))
        .usage
        .context_tokens()
}

const S1: &str = "11111111-aaaa-4bbb-8ccc-000000000001";
const S2: &str = "22222222-aaaa-4bbb-8ccc-000000000002";
const PROMPTS: [&str; 3] = [
    "plan the parser",
    "write the zebra tokenizer",
    "summarize what changed",
];

#[test]
fn import_search_export_and_diff() {
    let env = TestEnv::new();
    let path = claude_session(&env, S1, &PROMPTS);

    let (out, name) = import(&env, &path, S1);
    assert_said(&out, "imported 3 turns on 1 branch");
    let turns = log_json(&env, &["--branch", &name]);
    assert_eq!(turns.len(), 3, "{turns:#?}");
    for (turn, prompt) in turns.iter().zip(PROMPTS) {
        assert_eq!(turn["prompt"], prompt);
        assert_eq!(turn["reply"], format!("echo: {prompt}"));
        assert_eq!(turn["context_tokens"], reported_context(&env, prompt));
        assert_eq!(turn["kind"], "prompt");
        assert_eq!(turn["session_id"], S1);
        assert!(!turn["ended_at"].is_null());
    }
    assert!(turns[0]["parent"].is_null());
    assert_eq!(turns[1]["parent"], turns[0]["id"]);

    // A second import adds nothing (by path, and with --all).
    let out = ok(ccx(&env, &["import", path.to_str().unwrap()]));
    assert_said(&out, "nothing new to import");
    let out = ok(ccx(&env, &["import", "--all"]));
    assert_said(&out, "nothing new to import");
    assert_eq!(log_json(&env, &["--all"]).len(), 3);

    // Search finds the second turn by a word only it holds.
    let out = ok(ccx(&env, &["search", "ZEBRA", "--json"]));
    let hits: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(hits[0]["id"], turns[1]["id"]);
    let out = ok(ccx(&env, &["search", "zebra", "tokenizer"]));
    let text = stdout(&out);
    assert!(text.contains(&format!("#{}", turns[1]["id"])), "{text}");
    assert!(text.contains("write the zebra tokenizer"), "{text}");
    let out = ccx(&env, &["search", "nowhere-to-be-found"]);
    assert!(!out.status.success());

    // The Markdown export holds every prompt and reply, in order.
    let out = ok(ccx(&env, &["export", &name]));
    let md = stdout(&out);
    assert!(md.starts_with("# "), "{md}");
    let mut at = 0;
    for prompt in PROMPTS {
        for needle in [prompt.to_string(), format!("echo: {prompt}")] {
            let found = md[at..]
                .find(&needle)
                .unwrap_or_else(|| panic!("{needle:?} missing or out of order in:\n{md}"));
            at += found + needle.len();
        }
    }
    let out = ok(ccx(&env, &["export", &name, "--format", "json"]));
    let records: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.len(), 3);

    // A second session sharing the first prompt and differing in the second: diff names turn 2.
    let other = [PROMPTS[0], "write the lexer instead"];
    let path2 = claude_session(&env, S2, &other);
    let (_, name2) = import(&env, &path2, S2);
    let turns2 = log_json(&env, &["--branch", &name2]);
    assert_eq!(turns2.len(), 2);
    let out = ok(ccx(&env, &["diff", &name, &name2, "--json"]));
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(diff["common"], serde_json::json!([]));
    assert!(diff["fork_turn"].is_null());
    assert_eq!(diff["first_difference"]["index"], 1, "{diff:#}");
    assert_eq!(diff["first_difference"]["a"], turns[1]["id"]);
    assert_eq!(diff["first_difference"]["b"], turns2[1]["id"]);
    assert_eq!(diff["a"].as_array().unwrap().len(), 3);
    assert_eq!(diff["b"].as_array().unwrap().len(), 2);
    let out = ok(ccx(&env, &["diff", &name, &name2]));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "first difference: turn 2 ({name} #{} vs {name2} #{})",
            turns[1]["id"], turns2[1]["id"]
        )),
        "{text}"
    );
    assert!(text.contains("write the lexer instead"), "{text}");

    let out = ccx(&env, &["diff", &name, "no-such-branch"]);
    assert_failed_saying(&out, "no branch 'no-such-branch'");
}

#[test]
fn imported_branch_replays_headlessly_onto_a_new_branch() {
    let env = TestEnv::new();
    let path = claude_session(&env, S1, &PROMPTS);
    let (_, name) = import(&env, &path, S1);
    let before = env.standin.main_requests().len();

    let mut cmd = env.command(support::ccx_path());
    cmd.args(["replay", &name]);
    let out = output_with_timeout(&mut cmd, Duration::from_secs(300)).expect("ccx replay");
    let out = ok(out);
    let replay = format!("{name}-replay");
    assert!(
        stdout(&out).contains(&format!("replayed 3 turns of {name} onto {replay}")),
        "{}",
        stdout(&out)
    );
    // Plain progress lines when stderr is not a terminal.
    assert!(stderr(&out).contains("turn 2/3"), "{}", stderr(&out));

    // The stand-in got the same three prompts, in order.
    let sent: Vec<String> = env.standin.main_requests()[before..]
        .iter()
        .map(|r| r.user_text.clone())
        .collect();
    assert_eq!(sent, PROMPTS, "replayed requests");

    // A new root branch holds the replayed turns.
    let out = ok(ccx(&env, &["tree", "--json"]));
    let branches: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let record = branches
        .iter()
        .find(|b| b["name"] == replay.as_str())
        .unwrap_or_else(|| panic!("no {replay} in {branches:#?}"));
    assert!(record["parent_branch"].is_null());
    assert!(record["fork_turn"].is_null());
    let turns = log_json(&env, &["--branch", &replay]);
    assert_eq!(turns.len(), 3, "{turns:#?}");
    for (turn, prompt) in turns.iter().zip(PROMPTS) {
        assert_eq!(turn["prompt"], prompt);
        assert_eq!(turn["kind"], "replay");
        assert_eq!(turn["reply"], format!("echo: {prompt}"));
        assert_eq!(turn["session_id"], record["session_id"]);
        assert_eq!(turn["context_tokens"], reported_context(&env, prompt));
    }
    assert!(turns[0]["parent"].is_null());

    // The replay is a conversation: its last request carried the earlier turns.
    let last = env.standin.main_requests().last().cloned().unwrap();
    assert!(last.history_contains(PROMPTS[0]));

    // Identical prompts and replies: diff sees no difference.
    let out = ok(ccx(&env, &["diff", &name, &replay, "--json"]));
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(diff["first_difference"].is_null(), "{diff:#}");

    // A range: --from the second turn; a second replay gets the next free name.
    let out = ok(ccx(
        &env,
        &[
            "replay",
            &name,
            "--from",
            &format!("{name}~1"),
            "--to",
            &name,
        ],
    ));
    assert!(
        stdout(&out).contains(&format!("replayed 2 turns of {name} onto {replay}-2")),
        "{}",
        stdout(&out)
    );
}

/// [`import`] of a [`synthetic_transcript`] of `prompts`.
fn import_made_up(
    env: &TestEnv,
    session: &str,
    prompts: &[&str],
) -> (std::process::Output, String) {
    import(env, &synthetic_transcript(env, session, prompts), session)
}

/// A transcript written by hand (a conversation Claude Code could have had), for branches whose
/// prompts must behave differently on replay than they did originally.
fn synthetic_transcript(env: &TestEnv, session: &str, prompts: &[&str]) -> PathBuf {
    let mut lines = Vec::new();
    let mut parent: Option<String> = None;
    for (i, prompt) in prompts.iter().enumerate() {
        let (u, a) = (format!("{session}-u{i}"), format!("{session}-a{i}"));
        lines.push(serde_json::json!({
            "type": "user", "uuid": u, "parentUuid": parent, "sessionId": session,
            "timestamp": "2026-01-01T12:00:00.000Z",
            "message": {"role": "user", "content": prompt}
        }));
        lines.push(serde_json::json!({
            "type": "assistant", "uuid": a, "parentUuid": u, "sessionId": session,
            "timestamp": "2026-01-01T12:00:01.000Z",
            "message": {"id": format!("msg-{i}"), "role": "assistant", "model": "m",
                        "content": [{"type": "text", "text": format!("answer {i}")}],
                        "usage": {"input_tokens": 1000, "output_tokens": 2,
                                  "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}
        }));
        parent = Some(a);
    }
    let path = env.scratch.join(format!("{session}.jsonl"));
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn replay_stops_on_a_claude_failure_and_keeps_the_turns_done() {
    let mut env = TestEnv::new();
    env.set_var("CLAUDE_CODE_MAX_RETRIES", "0");
    let session = "33333333-aaaa-4bbb-8ccc-000000000003";
    let prompts = ["first fine", "then fails [[status:500]]", "never sent"];
    let (out, name) = import_made_up(&env, session, &prompts);
    assert_said(&out, "imported 3 turns");

    let mut cmd = env.command(support::ccx_path());
    cmd.args(["replay", &name]);
    let out = output_with_timeout(&mut cmd, Duration::from_secs(180)).expect("ccx replay");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("claude failed on turn 2/3"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("ccx:")).count(),
        1,
        "one line: {err}"
    );
    assert_said(&out, "replayed 1 of 3 turns");
    assert_replay_stopped_after(&env, &name, "first fine");
}

#[test]
fn ctrl_c_stops_a_replay_cleanly() {
    let env = TestEnv::new();
    let session = "66666666-aaaa-4bbb-8ccc-000000000006";
    let prompts = ["quick one", "slow one [[sleep:60000]]", "never sent"];
    let (_, name) = import_made_up(&env, session, &prompts);

    let mut child = env
        .command(support::ccx_path())
        .args(["replay", &name])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ccx replay");
    support::wait_until(Duration::from_secs(120), || {
        env.standin
            .requests()
            .iter()
            .any(|r| r.user_text.starts_with("slow one"))
            .then_some(())
    })
    .expect("the slow turn reached the stand-in");
    let sent_at = std::time::Instant::now();
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = support::wait_until(Duration::from_secs(20), || child.try_wait().unwrap())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("ccx replay did not stop on SIGINT")
        });
    assert!(sent_at.elapsed() < Duration::from_secs(15));
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(130), "{}", stderr(&out));
    assert_said(&out, "interrupted: replayed 1 of 3 turns");
    assert_replay_stopped_after(&env, &name, "quick one");
    // The claude run in flight was stopped: no process carries the replay's session any more.
    let replay_session = env
        .standin
        .requests()
        .iter()
        .find(|r| r.user_text.starts_with("slow one"))
        .and_then(|r| r.session_id.clone())
        .expect("the slow request's session id");
    let running = || {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .any(|c| String::from_utf8_lossy(&c).contains(&replay_session))
    };
    assert!(
        support::wait_until(Duration::from_secs(30), || (!running()).then_some(())).is_some(),
        "claude --resume {replay_session} still runs"
    );
}

#[test]
fn export_redacts_and_does_not_overwrite_without_force() {
    let env = TestEnv::new();
    let key = "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1234";
    let session = "55555555-aaaa-4bbb-8ccc-000000000005";
    let prompt = format!("use the key {key} for the client [[reply:noted, no secrets here]]");
    let path = claude_session(&env, session, &[&prompt]);
    let (_, name) = import(&env, &path, session);

    let out = ok(ccx(&env, &["export", &name]));
    assert!(
        stdout(&out).contains(key),
        "unredacted export keeps the prompt"
    );

    let out = ok(ccx(&env, &["export", &name, "--redact"]));
    assert!(!stdout(&out).contains(key), "{}", stdout(&out));
    assert!(stdout(&out).contains("[REDACTED"), "{}", stdout(&out));
    assert!(stderr(&out).contains("masked 1 secret"), "{}", stderr(&out));

    // -o FILE: written owner-only; an existing FILE is kept unless --force.
    let file = env.scratch.join("out.md");
    ok(ccx(
        &env,
        &["export", &name, "-o", file.to_str().unwrap(), "--redact"],
    ));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("noted, no secrets here") && !text.contains(key));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::write(&file, "mine").unwrap();
    let out = ccx(&env, &["export", &name, "-o", file.to_str().unwrap()]);
    assert_failed_saying(&out, "--force");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    ok(ccx(
        &env,
        &[
            "export",
            &name,
            "-o",
            file.to_str().unwrap(),
            "--force",
            "--format",
            "json",
        ],
    ));
    let records: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(records[0]["prompt"], prompt.as_str());
}

#[test]
fn output_into_a_pipe_closed_early_ends_quietly() {
    let env = TestEnv::new();
    let prompts: Vec<String> = (0..300)
        .map(|i| format!("zebra question {i} {}", "x".repeat(500)))
        .collect();
    let prompts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let (out, branch) = import_made_up(&env, S1, &prompts);
    assert_said(&out, "imported 300 turns");
    // Each writes far more than a pipe holds (64 KiB), so the reader's going is certain to
    // be seen.
    let listings: [&[&str]; 3] = [
        &["search", "zebra", "--json"],
        &["log", "--all", "--json"],
        &["export", &branch],
    ];
    for args in listings {
        let mut child = env
            .command(support::ccx_path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Read a little of the output (far less than it writes), then go away.
        let mut first = [0u8; 16];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("ccx {args:?} did not end once its reader went away");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(141), "ccx {args:?}: {err}");
        assert_eq!(err, "", "ccx {args:?} says nothing");
    }
}

/// A session whose one turn runs a Bash command (the stand-in asks for it), imported: deep
/// search finds the turn by its command and by its output, and the HTML export shows the call
/// in a collapsible element.
#[test]
fn deep_search_and_html_export_see_tool_calls() {
    let env = TestEnv::new();
    let session = "66666666-aaaa-4bbb-8ccc-000000000006";
    let prompt =
        r#"list it [[tool:Bash:{"command":"echo wombat-$((6*7))-out","description":"say it"}]]"#;
    let mut cmd = env.claude();
    // The prompt before --allowedTools, which takes every word after it.
    cmd.args([
        "-p",
        "--session-id",
        session,
        prompt,
        "--allowedTools",
        "Bash",
    ]);
    let out = output_with_timeout(&mut cmd, Duration::from_secs(120)).expect("claude -p");
    assert!(out.status.success(), "{}", stderr(&out));
    let path = env.transcript_path(session).expect("the transcript");
    let (_, name) = import(&env, &path, session);

    // The command (in the tool input) and the output (only in the tool result).
    let out = ok(ccx(&env, &["search", "wombat-42-out", "--json"]));
    let hits: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(hits[0]["matched_in"], serde_json::json!(["tools"]));
    // (The prompt holds the command too, in the stand-in's directive: look in tools only.)
    let out = ok(ccx(&env, &["search", "6*7", "--in", "tools"]));
    let text = stdout(&out);
    assert!(
        text.contains("Bash input: echo wombat-$((6*7))-out"),
        "{text}"
    );
    let out = ok(ccx(&env, &["search", "wombat-42"]));
    let text = stdout(&out);
    assert!(text.contains("Bash output: wombat-42-out"), "{text}");
    // Not with --in prompt,reply; yes with a regex over tools.
    let out = ccx(&env, &["search", "wombat-42-out", "--in", "prompt,reply"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let out = ok(ccx(
        &env,
        &[
            "search",
            "--regex",
            r"wombat-\d+-out",
            "--in",
            "tools",
            "--json",
        ],
    ));
    let hits: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    // --branch and --since narrow; bad input is one line and fails.
    ok(ccx(
        &env,
        &["search", "wombat", "--branch", &name, "--since", "1h"],
    ));
    let out = ccx(&env, &["search", "wombat", "--since", "2999-01-01"]);
    assert!(!out.status.success());
    for (args, said) in [
        (
            vec!["search", "wombat", "--branch", "nope"],
            "no branch 'nope'",
        ),
        (
            vec!["search", "--regex", "wombat(", "--json"],
            "bad regex 'wombat('",
        ),
        (
            vec!["search", "wombat", "--in", "files"],
            "--in takes prompt, reply and tools",
        ),
        (
            vec!["search", "wombat", "--since", "yesterday"],
            "--since takes a date",
        ),
    ] {
        let out = ccx(&env, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(said), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }

    // HTML: one turn, its Bash call collapsed with the command and its output.
    let file = env.scratch.join("conversation.html");
    ok(ccx(&env, &["export", &name, "-o", file.to_str().unwrap()]));
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert_eq!(html.matches("<article class=\"turn\"").count(), 1, "{html}");
    assert!(html.contains("<details class=\"tool\"><summary><span class=\"tool-name\">Bash</span> <code>echo wombat-$((6*7))-out</code>"), "{html}");
    assert!(html.contains("wombat-42-out"), "{html}");
    support::browser::check_html_export(&file, 1, 1);

    // An unwritable path: one line, nothing written, non-zero exit.
    let out = ccx(
        &env,
        &[
            "export",
            &name,
            "--format",
            "html",
            "-o",
            "/nonexistent-dir/x.html",
        ],
    );
    assert_failed_saying(&out, "/nonexistent-dir/x.html");
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
}

/// `:export FILE.html` inside a ccx session: the page holds the turn and its Write call,
/// collapsed, and passes the headless-browser check.
#[test]
fn export_html_from_the_editor_in_a_session() {
    use support::ccx::{
        close_editor, open_editor, start_ccx, wait_for_finished_turns, QUICK, TURN,
    };
    let env = TestEnv::new();
    let notes = env.project.join("notes.txt");
    let session = start_ccx(&env, &[]);
    // Enter only once the prompt shows: read together with the text, it would be a newline.
    session.type_text(&format!(
        "note it [[write:{}:hello wombat]]",
        notes.display()
    ));
    session.wait_for_text("hello wombat]]", QUICK).unwrap();
    session.submit();
    session
        .wait_for_text(&format!("● wrote {}", notes.display()), TURN)
        .unwrap();
    let turns = wait_for_finished_turns(&env, 1, &[]);
    open_editor(&session);
    command_says(&session, "export conversation.html", "to conversation.html");
    close_editor(&session);
    session.type_and_submit("/exit");
    session.wait_exit(QUICK).expect("claude exits on /exit");

    let file = env.project.join("conversation.html");
    let html = std::fs::read_to_string(&file).unwrap();
    assert_eq!(html.matches("<article class=\"turn\"").count(), 1, "{html}");
    assert!(
        html.contains(&format!("id=\"turn-{}\"", turns[0]["id"])),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<details class=\"tool\"><summary><span class=\"tool-name\">Write</span> <code>{}</code>",
            notes.display()
        )),
        "{html}"
    );
    assert!(html.contains("hello wombat"), "{html}");
    support::browser::check_html_export(&file, 1, 1);
}

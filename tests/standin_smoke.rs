//! Proves the end-to-end support library (`tests/support`) against the real Claude Code CLI,
//! with no ccx involved: `-p` mode, the interactive TUI in a PTY, a scripted file write, hooks,
//! and the hang-up on closing the PTY. Also: plain HTTP checks of the stand-in, and (ignored)
//! the generator of `tests/fixtures/` and a probe of the Stop-hook/transcript race.

mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

const T: Duration = Duration::from_secs(40);

#[test]
fn standin_http_basics() {
    let s = StandIn::start();
    let mut c = TcpStream::connect(("127.0.0.1", s.port())).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = r#"{"model":"m","stream":false,"tools":[{"name":"Write"}],"messages":[{"role":"user","content":"hi [[reply:yo]] [[usage:5000]]"}]}"#;
    // Two requests on one connection (keep-alive), the second with a chunked body.
    let req1 = format!(
        "POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let chunked = format!(
        "POST /v1/messages/count_tokens HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let get = "GET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    c.write_all(format!("{req1}{chunked}{get}").as_bytes())
        .unwrap();
    let mut all = String::new();
    c.read_to_string(&mut all).unwrap();
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 3, "{all}");
    assert!(all.contains(r#""text":"yo""#), "{all}");
    assert!(all.contains(r#""input_tokens":4700"#), "{all}");
    assert!(all.contains(r#"{"input_tokens":"#), "{all}");
    assert!(all.ends_with("\r\n\r\n{}"), "{all}");
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert!(r.main);
    assert_eq!(r.kind, Kind::Prompt);
    assert_eq!(r.reply_text, "yo");
    assert_eq!(r.usage.context_tokens(), 5000);
    assert_eq!(r.usage.output_tokens, 1);
    assert!(r.history_contains("hi [[reply:yo]]"));
}

#[test]
fn print_mode_reply() {
    let env = TestEnv::new();
    let sid = uuid::Uuid::new_v4().to_string();
    let t = Instant::now();
    let out = output_with_timeout(
        env.claude()
            .args(["-p", "hello [[reply:pong]]", "--session-id", &sid]),
        T,
    )
    .unwrap();
    eprintln!("claude -p took {:?}", t.elapsed());
    let stdout = stdout_of_success(&out);
    assert!(stdout.contains("pong"), "{stdout}");
    let mains = env.standin.main_requests();
    assert_eq!(mains.len(), 1, "{mains:#?}");
    assert!(mains[0].user_text.contains("hello"));
    assert_eq!(mains[0].session_id.as_deref(), Some(sid.as_str()));
    // The transcript is where the harness says it is, with the stand-in's usage.
    let lines = env.transcript_lines(&sid);
    let usage = lines
        .iter()
        .find(|l| l["type"] == "assistant")
        .map(|l| l["message"]["usage"].clone())
        .expect("assistant line in transcript");
    assert_eq!(usage["input_tokens"], mains[0].usage.input_tokens);
    assert_eq!(
        usage["cache_read_input_tokens"],
        mains[0].usage.cache_read_input_tokens
    );
}

/// Claude Code with `args` in a 120x40 PTY, once its prompt shows.
fn claude_at_prompt(env: &TestEnv, args: &[&str]) -> PtySession {
    let session = PtySession::spawn(claude_path(), args, env, 120, 40);
    session.wait_for_text("❯", T).unwrap();
    session
}

#[test]
fn tui_prompt_reply_exit_with_hooks() {
    let env = TestEnv::new();
    let log = env.scratch.join("hooks.jsonl");
    let settings = TestEnv::hook_logging_settings(&log);
    let sid = uuid::Uuid::new_v4().to_string();
    let t = Instant::now();
    let s = claude_at_prompt(&env, &["--settings", &settings, "--session-id", &sid]);
    eprintln!("prompt shown after {:?}", t.elapsed());
    s.type_and_submit("say something");
    s.wait_for_text("● echo: say something", T).unwrap();
    eprintln!("reply shown after {:?}", t.elapsed());
    let mains = env.standin.wait_for_main_requests(1, T);
    assert_eq!(mains[0].user_text, "say something");
    // Stop has fired (the hook log has it) before the prompt takes new input.
    let stop = wait_until(T, || {
        read_jsonl(&log)
            .into_iter()
            .find(|p| p["hook_event_name"] == "Stop")
    })
    .expect("Stop hook payload");
    assert_eq!(stop["session_id"], sid.as_str());
    assert_eq!(stop["last_assistant_message"], "echo: say something");
    s.type_and_submit("/exit");
    assert_eq!(s.wait_exit(T), Some(0), "screen:\n{}", s.screen());
    eprintln!("exited after {:?}", t.elapsed());
    let events: Vec<String> = read_jsonl(&log)
        .iter()
        .map(|p| p["hook_event_name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        &events[..3],
        ["SessionStart", "UserPromptSubmit", "Stop"],
        "{events:?}"
    );
}

#[test]
fn write_directive_writes_file() {
    let env = TestEnv::new();
    let target = env.project.join("sub dir-less.txt");
    let t = Instant::now();
    let out = output_with_timeout(
        env.claude().args([
            "-p",
            &format!("make it [[write:{}:line one\\nline two]]", target.display()),
            // -p refuses the Write without it ("you haven't granted it yet").
            "--permission-mode",
            "acceptEdits",
        ]),
        T,
    )
    .unwrap();
    eprintln!("write turn took {:?}", t.elapsed());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("wrote "), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "line one\nline two"
    );
    let kinds: Vec<Kind> = env.standin.main_requests().iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [Kind::Prompt, Kind::ToolResult]);
}

#[test]
fn closing_the_pty_hangs_up_claude() {
    let env = TestEnv::new();
    let mut s = PtySession::spawn(claude_path(), &[], &env, 100, 30);
    s.wait_for_text("❯", T).unwrap();
    let pid = s.pid();
    let t = Instant::now();
    s.close_pty();
    let gone = wait_until(Duration::from_secs(15), || (!pid_alive(pid)).then_some(()));
    assert!(gone.is_some(), "claude {pid} still alive after SIGHUP");
    eprintln!("claude gone {:?} after the PTY closed", t.elapsed());
}

/// Regenerates `tests/fixtures/` from the real CLI:
/// `cargo test --test standin_smoke regenerate_fixtures -- --ignored`.
#[test]
#[ignore]
fn regenerate_fixtures() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::create_dir_all(fixtures.join("hooks")).unwrap();
    let env = TestEnv::new();
    let log = env.scratch.join("hooks.jsonl");
    let mut settings = TestEnv::hook_logging_settings(&log);
    {
        let mut v: Value = serde_json::from_str(&settings).unwrap();
        let entry = v["hooks"]["Stop"].clone();
        v["hooks"]["SessionEnd"] = entry;
        settings = v.to_string();
    }
    let args = |sid: &str, resume: bool| -> Vec<String> {
        vec![
            "--settings".into(),
            settings.clone(),
            if resume { "--resume" } else { "--session-id" }.into(),
            sid.into(),
            "--permission-mode".into(),
            "acceptEdits".into(),
        ]
    };
    let run = |args: Vec<String>, turns: &[(&str, &str)]| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let s = claude_at_prompt(&env, &a);
        for (prompt, want) in turns {
            s.type_and_submit(prompt);
            s.wait_for_text(want, T).unwrap();
            std::thread::sleep(Duration::from_millis(1500));
        }
        s.type_and_submit("/exit");
        assert_eq!(s.wait_exit(T), Some(0));
    };
    // A: two plain turns.
    let a = uuid::Uuid::new_v4().to_string();
    run(
        args(&a, false),
        &[
            ("first turn", "● echo: first turn"),
            (
                "second turn [[reply:the second reply]]",
                "● the second reply",
            ),
        ],
    );
    std::fs::copy(
        env.transcript_path(&a).unwrap(),
        fixtures.join("transcript-two-turns.jsonl"),
    )
    .unwrap();
    // B: one turn writing a file.
    let b = uuid::Uuid::new_v4().to_string();
    let file = env.project.join("notes.txt");
    let write = format!("write the notes [[write:{}:hello notes]]", file.display());
    run(args(&b, false), &[(&write, "● wrote ")]);
    assert!(file.is_file());
    std::fs::copy(
        env.transcript_path(&b).unwrap(),
        fixtures.join("transcript-tool-write.jsonl"),
    )
    .unwrap();
    // C: a subagent, then /compact with a focus, then one more turn.
    let c = uuid::Uuid::new_v4().to_string();
    let agent = r#"delegate [[tool:Agent:{"description":"sub task","prompt":"subtask please","subagent_type":"general-purpose"}]]"#;
    run(
        args(&c, false),
        &[
            (agent, "● noted"),
            ("/compact keep the plan", "Compacted"),
            ("after compact", "● echo: after compact"),
        ],
    );
    std::fs::copy(
        env.transcript_path(&c).unwrap(),
        fixtures.join("transcript-compact.jsonl"),
    )
    .unwrap();
    // A again, resumed.
    run(args(&a, true), &[("resumed turn", "● echo: resumed turn")]);
    // One payload per event (SessionStart per source).
    let mut seen = std::collections::BTreeSet::new();
    for p in read_jsonl(&log) {
        let ev = p["hook_event_name"].as_str().unwrap_or("").to_string();
        let name = match ev.as_str() {
            "SessionStart" => format!("SessionStart-{}", p["source"].as_str().unwrap_or("")),
            _ => ev,
        };
        if seen.insert(name.clone()) {
            std::fs::write(
                fixtures.join("hooks").join(format!("{name}.json")),
                serde_json::to_string_pretty(&p).unwrap() + "\n",
            )
            .unwrap();
        }
    }
    eprintln!("wrote fixtures: {seen:?}");
}

/// Measures whether the final assistant line is already in the transcript when the Stop hook
/// runs: `cargo test --test standin_smoke stop_hook_transcript_race -- --ignored --nocapture`.
/// (2.1.330: in about half the turns it is not; it lands 10–150 ms later.)
#[test]
#[ignore]
fn stop_hook_transcript_race() {
    let env = TestEnv::new();
    let snap = env.scratch.join("snap");
    std::fs::create_dir_all(&snap).unwrap();
    let sid = uuid::Uuid::new_v4().to_string();
    let cmd = format!(
        "cat > /dev/null; cp {}/.claude/projects/*/{sid}.jsonl {}/$(date +%s%N).jsonl",
        env.home.display(),
        snap.display()
    );
    let entry = serde_json::json!([{ "hooks": [{ "type": "command", "command": cmd }] }]);
    let settings = serde_json::json!({ "hooks": { "Stop": entry } }).to_string();
    let s = claude_at_prompt(&env, &["--settings", &settings, "--session-id", &sid]);
    let n = 10;
    for i in 0..n {
        s.type_and_submit(&format!("turn number {i}"));
        s.wait_for_text(&format!("● echo: turn number {i}"), T)
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    s.type_and_submit("/exit");
    s.wait_exit(T);
    let mut files: Vec<_> = std::fs::read_dir(&snap)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let present = files
        .iter()
        .enumerate()
        .filter(|(i, f)| {
            std::fs::read_to_string(f).unwrap().lines().any(|l| {
                l.contains("\"type\":\"assistant\"")
                    && l.contains(&format!("echo: turn number {i}\""))
            })
        })
        .count();
    eprintln!(
        "final assistant line present when Stop ran: {present}/{}",
        files.len()
    );
}

/// Measures when Claude Code re-runs its `statusLine` command:
/// `cargo test --test standin_smoke statusline_refresh_cadence -- --ignored --nocapture`.
/// (2.1.330: once when the footer mounts, right as the prompt shows; then only on events —
/// a turn's usage, a resize, a model or mode change — debounced by 300 ms; never while idle.
/// With `refreshInterval: N` it also runs every N seconds, idle or not.)
#[test]
#[ignore]
fn statusline_refresh_cadence() {
    let env = TestEnv::new();
    let runs = |log: &std::path::Path| {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    for interval in [None, Some(1)] {
        let log = env.scratch.join(format!("status-{interval:?}.log"));
        let payload = env.scratch.join("payload.json");
        let cmd = format!(
            "cat > '{}'; date +%s%N >> '{}'; echo probe-line",
            payload.display(),
            log.display()
        );
        let mut line = serde_json::json!({ "type": "command", "command": cmd });
        if let Some(n) = interval {
            line["refreshInterval"] = n.into();
        }
        let settings = serde_json::json!({ "statusLine": line }).to_string();
        let mut s = PtySession::spawn(claude_path(), &["--settings", &settings], &env, 120, 40);
        let t = Instant::now();
        s.wait_for_text("❯", T).unwrap();
        let prompt_at = t.elapsed();
        s.wait_for_text("probe-line", T).unwrap();
        eprintln!(
            "[interval {interval:?}] prompt after {prompt_at:?}, status line shown after {:?}, runs so far {}",
            t.elapsed(),
            runs(&log)
        );
        let before = runs(&log);
        std::thread::sleep(Duration::from_secs(6));
        eprintln!(
            "[interval {interval:?}] runs in 6 s idle: {}",
            runs(&log) - before
        );
        let before = runs(&log);
        s.type_text("abc");
        std::thread::sleep(Duration::from_secs(2));
        eprintln!(
            "[interval {interval:?}] runs after typing (2 s): {}",
            runs(&log) - before
        );
        s.send(b"\x15");
        std::thread::sleep(Duration::from_millis(500));
        let before = runs(&log);
        s.type_and_submit("a turn [[reply:done turn]]");
        s.wait_for_text("● done turn", T).unwrap();
        std::thread::sleep(Duration::from_secs(2));
        eprintln!(
            "[interval {interval:?}] runs for one turn (+2 s): {}",
            runs(&log) - before
        );
        let before = runs(&log);
        s.resize(110, 40);
        std::thread::sleep(Duration::from_secs(2));
        eprintln!(
            "[interval {interval:?}] runs after a resize (2 s): {}",
            runs(&log) - before
        );
        let payload: Value =
            serde_json::from_str(&std::fs::read_to_string(&payload).unwrap()).unwrap();
        eprintln!(
            "[interval {interval:?}] payload model {} window {}",
            payload["model"], payload["context_window"]["context_window_size"]
        );
        s.type_and_submit("/exit");
        s.wait_exit(T);
    }
}

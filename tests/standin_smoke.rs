//! Proves the end-to-end support library against the real Claude Code CLI (no ccx involved).

mod support;

use std::time::{Duration, Instant};
use support::*;

#[test]
fn print_mode_reply() {
    let env = TestEnv::new();
    let t = Instant::now();
    let sid = uuid::Uuid::new_v4().to_string();
    let out = output_with_timeout(
        env.claude()
            .args(["-p", "hello [[reply:pong]]", "--session-id", &sid]),
        Duration::from_secs(60),
    )
    .unwrap();
    eprintln!("took {:?}", t.elapsed());
    for r in env.standin.requests() {
        eprintln!("--- {} main={} model={} user_text={:?} reply={:?}", r.path, r.main, r.model, r.user_text, r.reply_text);
        std::fs::write(format!("/tmp/req-{}.json", r.seq), serde_json::to_string_pretty(&r.body).unwrap()).unwrap();
    }
    eprintln!("stdout={} stderr={}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("pong"));
}

#[test]
#[ignore]
fn explore_tui() {
    let env = TestEnv::new();
    let log = env.scratch.join("hooks.jsonl");
    let mut settings: serde_json::Value = serde_json::from_str(&TestEnv::hook_logging_settings(&log)).unwrap();
    settings["statusLine"] = serde_json::json!({"type": "command", "command": "echo CCX-STATUS-OK"});
    let settings = settings.to_string();
    let sid = uuid::Uuid::new_v4().to_string();
    let t = Instant::now();
    let s = PtySession::spawn(claude_path(), &["--settings", &settings, "--session-id", &sid], &env, 120, 40);
    let r = s.wait_for_text("❯", Duration::from_secs(30));
    eprintln!("prompt after {:?}: {:?}\n{}", t.elapsed(), r.is_ok(), s.screen());
    std::thread::sleep(Duration::from_secs(2));
    eprintln!("screen:\n{}", s.screen());
    s.type_and_submit("first turn [[reply:one]]");
    let r = s.wait_for_text("one", Duration::from_secs(30));
    eprintln!("turn1 {:?} after {:?}\n{}", r.is_ok(), t.elapsed(), s.screen());
    std::thread::sleep(Duration::from_secs(2));
    s.type_and_submit("second turn");
    let r = s.wait_for_text("echo: second turn", Duration::from_secs(30));
    eprintln!("turn2 {:?}\n{}", r.is_ok(), s.screen());
    std::thread::sleep(Duration::from_secs(2));
    s.type_and_submit("/exit");
    let code = s.wait_exit(Duration::from_secs(20));
    eprintln!("exit {:?} after {:?}", code, t.elapsed());
    for r in env.standin.requests() {
        eprintln!("--- {} main={} model={} ntools={} max_tokens={} sid={:?} user_text={:?} reply={:?}", r.path, r.main, r.model, r.body["tools"].as_array().map_or(0,|a|a.len()), r.body["max_tokens"], r.session_id, r.user_text, r.reply_text);
    }
    eprintln!("sid={sid}");
    std::fs::copy(&log, "/tmp/explore-hooks.jsonl").unwrap();
    if let Some(p) = env.transcript_path(&sid) { eprintln!("transcript {}", p.display()); std::fs::copy(p, "/tmp/explore-transcript.jsonl").unwrap(); }
    let _ = std::process::Command::new("cp").args(["-r", env.home.to_str().unwrap(), "/tmp/explore-home"]).status();
    std::fs::write("/tmp/explore-raw.bin", s.raw_output()).unwrap();
}

#[test]
#[ignore]
fn explore_hooks() {
    let env = TestEnv::new();
    let log = env.scratch.join("hooks.jsonl");
    let snap = env.scratch.join("snap");
    std::fs::create_dir_all(&snap).unwrap();
    let script = env.scratch.join("hook.sh");
    std::fs::write(&script, format!(r#"#!/bin/sh
p=$(cat)
printf '%s\n' "$p" >> {log}
tp=$(printf '%s' "$p" | jq -r .transcript_path)
ev=$(printf '%s' "$p" | jq -r .hook_event_name)
n=$(date +%s%N)
env | grep -i -E 'claude|anthropic|ccx' | sort > {snap}/$n-$ev.env
cp "$tp" {snap}/$n-$ev.jsonl 2>/dev/null || echo missing > {snap}/$n-$ev.missing
"#, log = log.display(), snap = snap.display())).unwrap();
    std::process::Command::new("chmod").args(["+x", script.to_str().unwrap()]).status().unwrap();
    let entry = serde_json::json!([{ "hooks": [{ "type": "command", "command": script.to_str().unwrap() }] }]);
    let settings = serde_json::json!({"hooks": {"SessionStart": entry, "UserPromptSubmit": entry, "Stop": entry, "PreCompact": entry, "SubagentStop": entry, "SessionEnd": entry, "PostCompact": entry}}).to_string();
    // user-level settings with its own Stop hook, to check merging
    let ulog = env.scratch.join("user-hooks.jsonl");
    std::fs::create_dir_all(env.home.join(".claude")).unwrap();
    std::fs::write(env.home.join(".claude/settings.json"), serde_json::json!({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": format!("cat >> {}; echo >> {}", ulog.display(), ulog.display())}]}]}}).to_string()).unwrap();
    let sid = uuid::Uuid::new_v4().to_string();
    let wfile = env.project.join("tui-written.txt");
    let t = Instant::now();
    let s = PtySession::spawn(claude_path(), &["--settings", &settings, "--session-id", &sid], &env, 120, 40);
    s.wait_for_text("❯", Duration::from_secs(30)).unwrap();
    eprintln!("prompt at {:?}", t.elapsed());
    s.type_and_submit("first [[reply:alpha-reply]]");
    s.wait_for_text("● alpha-reply", Duration::from_secs(30)).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    s.type_and_submit(&format!("please write [[write:{}:hello from tui]]", wfile.display()));
    let r = s.wait_for_text("wrote ", Duration::from_secs(30));
    eprintln!("write: {:?} exists={}\n{}", r.is_ok(), wfile.exists(), s.screen());
    std::thread::sleep(Duration::from_secs(1));
    s.type_and_submit(r#"delegate [[tool:Agent:{"description":"sub task","prompt":"subtask please","subagent_type":"general-purpose"}]]"#);
    let r = s.wait_for_text("tool result received", Duration::from_secs(30));
    eprintln!("agent: {:?}\n{}", r.is_ok(), s.screen());
    std::thread::sleep(Duration::from_secs(1));
    s.type_and_submit("/compact keep it short");
    let r = s.wait_for_text("ompact", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    eprintln!("compact: {:?}\n{}", r.is_ok(), s.screen());
    s.type_and_submit("after compact");
    let r = s.wait_for_text("echo: after compact", Duration::from_secs(30));
    eprintln!("after: {:?}", r.is_ok());
    std::thread::sleep(Duration::from_secs(1));
    s.type_and_submit("/exit");
    eprintln!("exit {:?}", s.wait_exit(Duration::from_secs(20)));
    drop(s);
    // resume
    let t = Instant::now();
    let s = PtySession::spawn(claude_path(), &["--settings", &settings, "--resume", &sid], &env, 120, 40);
    s.wait_for_text("❯", Duration::from_secs(30)).unwrap();
    eprintln!("resume prompt at {:?}", t.elapsed());
    std::thread::sleep(Duration::from_secs(1));
    s.type_and_submit("resumed turn");
    let r = s.wait_for_text("echo: resumed turn", Duration::from_secs(30));
    eprintln!("resumed: {:?}", r.is_ok());
    std::thread::sleep(Duration::from_secs(1));
    s.type_and_submit("/exit");
    eprintln!("exit {:?}", s.wait_exit(Duration::from_secs(20)));
    drop(s);
    for r in env.standin.requests() {
        eprintln!("--- {} main={} model={} ntools={} nmsg={} sid={:?} tool_result={} user_text={:?} reply={:?} tool={:?} sys0={:?}", r.path, r.main, r.model, r.body["tools"].as_array().map_or(0,|a|a.len()), r.message_count(), r.session_id, r.has_tool_result, r.user_text.chars().take(100).collect::<String>(), r.reply_text.chars().take(60).collect::<String>(), r.tool_use, r.system_text().chars().take(250).collect::<String>());
    }
    eprintln!("sid={sid}");
    let _ = std::process::Command::new("rm").args(["-rf", "/tmp/explore2"]).status();
    let _ = std::process::Command::new("cp").args(["-r", env.root().to_str().unwrap(), "/tmp/explore2"]).status();
    for (i, r) in env.standin.requests().iter().enumerate() {
        std::fs::write(format!("/tmp/explore2/req-{i}.json"), serde_json::to_string_pretty(&r.body).unwrap()).unwrap();
    }
}

#[test]
#[ignore]
fn explore_stop_timing() {
    let mut env = TestEnv::new();
    let mode = std::env::var("EXPLORE_MODE").unwrap_or_else(|_| "async".into());
    env.set_var("EXPLORE_MODE", &mode);
    let log = env.scratch.join("hooks.jsonl");
    let timing = env.scratch.join("timing.txt");
    let script = env.scratch.join("hook.sh");
    std::fs::write(&script, format!(r#"#!/bin/sh
p=$(cat)
printf '%s\n' "$p" >> {log}
tp=$(printf '%s' "$p" | jq -r .transcript_path)
ev=$(printf '%s' "$p" | jq -r .hook_event_name)
if [ "$ev" = Stop ] || [ "$ev" = SubagentStop ]; then
  msg=$(printf '%s' "$p" | jq -r .last_assistant_message | head -1)
  start=$(date +%s%N)
  if grep -qF "$msg" "$tp"; then echo "$ev $msg: present-at-hook" >> {timing}
  elif [ "$EXPLORE_MODE" = sync ]; then
    i=0; while [ $i -lt 300 ]; do if grep -qF "$msg" "$tp"; then echo "$ev $msg: sync appeared after $(( ($(date +%s%N)-start)/1000000 )) ms" >> {timing}; exit 0; fi; sleep 0.01; i=$((i+1)); done; echo "$ev $msg: sync never (3s)" >> {timing}
  else
  ( i=0; while [ $i -lt 500 ]; do if grep -qF "$msg" "$tp"; then echo "$ev $msg: appeared after $(( ($(date +%s%N)-start)/1000000 )) ms" >> {timing}; exit; fi; sleep 0.01; i=$((i+1)); done; echo "$ev $msg: never" >> {timing} ) >/dev/null 2>&1 &
  fi
fi
"#, log = log.display(), timing = timing.display())).unwrap();
    std::process::Command::new("chmod").args(["+x", script.to_str().unwrap()]).status().unwrap();
    let entry = serde_json::json!([{ "hooks": [{ "type": "command", "command": script.to_str().unwrap() }] }]);
    let settings = serde_json::json!({"hooks": {"SessionStart": entry, "UserPromptSubmit": entry, "Stop": entry, "PreCompact": entry, "SubagentStop": entry, "SessionEnd": entry}}).to_string();
    let sid = uuid::Uuid::new_v4().to_string();
    let wfile = env.project.join("w.txt");
    let s = PtySession::spawn(claude_path(), &["--settings", &settings, "--session-id", &sid, "--permission-mode", "acceptEdits"], &env, 120, 40);
    s.wait_for_text("❯", Duration::from_secs(30)).unwrap();
    let turns = vec![
        ("turn one".to_string(), "echo: turn one".to_string()),
        ("turn two".to_string(), "echo: turn two".to_string()),
        (format!("write it [[write:{}:abc]]", wfile.display()), format!("wrote {}", wfile.display())),
        ("turn slow [[sleep:1500]]".to_string(), "echo: turn slow".to_string()),
        (r#"delegate [[tool:Agent:{"description":"sub task","prompt":"subtask please","subagent_type":"general-purpose"}]]"#.to_string(), "tool result received".to_string()),
        ("turn three".to_string(), "echo: turn three".to_string()),
    ];
    for (p, want) in &turns {
        s.type_and_submit(p);
        let r = s.wait_for_text(&format!("● {want}"), Duration::from_secs(30));
        eprintln!("{p}: {:?}", r.is_ok());
        if r.is_err() { eprintln!("{}", s.screen()); }
        std::thread::sleep(Duration::from_millis(1500));
    }
    s.type_and_submit("/compact keep it short");
    std::thread::sleep(Duration::from_secs(4));
    eprintln!("compact screen:\n{}", s.screen());
    s.type_and_submit("after compact");
    let r = s.wait_for_text("● echo: after compact", Duration::from_secs(30));
    eprintln!("after compact: {:?}", r.is_ok());
    std::thread::sleep(Duration::from_secs(2));
    s.type_and_submit("/exit");
    eprintln!("exit {:?}", s.wait_exit(Duration::from_secs(20)));
    drop(s);
    std::thread::sleep(Duration::from_secs(2));
    eprintln!("TIMING:\n{}", std::fs::read_to_string(&timing).unwrap_or_default());
    for r in env.standin.requests() {
        eprintln!("--- main={} model={} ntools={} nmsg={} sid={:?} tool_result={} user_text={:?} reply={:?} tool={:?} sys0={:?}", r.main, r.model, r.body["tools"].as_array().map_or(0,|a|a.len()), r.message_count(), r.session_id, r.has_tool_result, r.user_text.chars().take(100).collect::<String>(), r.reply_text.chars().take(60).collect::<String>(), r.tool_use, r.system_text().chars().take(200).collect::<String>());
    }
    let dst = format!("/tmp/explore3-{mode}");
    let _ = std::process::Command::new("rm").args(["-rf", &dst]).status();
    let _ = std::process::Command::new("cp").args(["-r", env.root().to_str().unwrap(), &dst]).status();
    for (i, r) in env.standin.requests().iter().enumerate() {
        std::fs::write(format!("{dst}/req-{i}.json"), serde_json::to_string_pretty(&r.body).unwrap()).unwrap();
    }
}

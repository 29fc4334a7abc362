//! What a newer Claude Code may send that ccx does not know — transcript entry types, hook
//! payload fields (unknown ones, missing optional ones, known ones of a new type), statusLine
//! fields — never stops recording: turns are still recorded, nothing panics, and each unknown
//! name is noted once in `ccx.log` and in the data directory's list that `ccx doctor` shows.
//!
//! One test binary with one data directory for all its tests (`CCX_DATA_DIR` is set once,
//! before any test reads it); tests use names of their own so they do not see each other's.

use ccx::hooks::bridge::Bridge;
use ccx::hooks::wire::{parse_hook_payload, HookEvent, HookMessage};
use ccx::recorder::Recorder;
use ccx::store::Store;
use ccx::unknowns::{read_seen, seen_file, Kind};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The data directory of this test binary (created once, kept until the process ends, in
/// cargo's scratch folder for integration tests rather than in `/tmp`: a static is never
/// dropped, so the folder outlives the run).
fn data_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("ccx-tolerance-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        std::env::set_var("CCX_DATA_DIR", dir.path());
        dir
    })
    .path()
}

fn seen(kind: Kind) -> Vec<String> {
    read_seen(&seen_file(data_dir()))
        .into_iter()
        .filter(|s| s.kind == kind)
        .map(|s| s.name)
        .collect()
}

fn log_lines_naming(name: &str) -> usize {
    std::fs::read_to_string(data_dir().join("ccx.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&format!("{name:?}")))
        .count()
}

fn append(path: &Path, lines: &[Value]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
}

const SID: &str = "0b7c2a51-1111-4222-8333-944445555666";

fn user(uuid: &str, parent: Option<&str>, text: &str) -> Value {
    json!({"type": "user", "uuid": uuid, "parentUuid": parent, "sessionId": SID,
        "version": "2.1.399", "message": {"role": "user", "content": text}})
}

fn assistant(uuid: &str, parent: &str, id: &str, text: &str, context: u64) -> Value {
    json!({"type": "assistant", "uuid": uuid, "parentUuid": parent, "sessionId": SID,
        "version": "2.1.399", "message": {"id": id, "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": context - 100, "cache_read_input_tokens": 60,
                "cache_creation_input_tokens": 40, "output_tokens": 7}}})
}

/// A hook event from payload JSON, the way the bridge parses it.
fn event(payload: Value) -> HookEvent {
    parse_hook_payload(payload.to_string().as_bytes()).expect("payload accepted")
}

/// Hands `recorder` the hook event `name` of session [`SID`] with transcript `path` and the
/// event's own `fields`.
fn hook(recorder: &mut Recorder, name: &str, path: &str, fields: Value) {
    let mut payload = fields;
    payload["session_id"] = json!(SID);
    payload["hook_event_name"] = json!(name);
    payload["transcript_path"] = json!(path);
    recorder.handle(event(payload)).unwrap();
}

fn recorder() -> (Recorder, Arc<Store>, tempfile::TempDir) {
    data_dir();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    (Recorder::new(store.clone()), store, dir)
}

#[test]
fn unknown_transcript_entry_types_never_stop_recording_and_are_noted_once() {
    let (mut recorder, store, dir) = recorder();
    let transcript: PathBuf = dir.path().join(format!("{SID}.jsonl"));
    let path = transcript.to_string_lossy().to_string();
    hook(
        &mut recorder,
        "SessionStart",
        &path,
        json!({"source": "startup"}),
    );

    // Turn 1, among entry types Claude Code writes (known) and made-up ones (unknown).
    hook(
        &mut recorder,
        "UserPromptSubmit",
        &path,
        json!({"prompt": "first question"}),
    );
    append(
        &transcript,
        &[
            json!({"type": "custom-title", "customTitle": "a title", "sessionId": SID}),
            json!({"type": "ai-title", "aiTitle": "an ai title", "sessionId": SID}),
            user("u1", None, "first question"),
            json!({"type": "tolerance-marker-one", "uuid": "x1", "parentUuid": "u1",
                "payload": {"deep": [1, 2, 3]}}),
            assistant("a1", "u1", "msg_1", "first answer", 12_345),
            json!({"type": "last-prompt", "lastPrompt": "first question", "sessionId": SID}),
            json!({"noTypeAtAll": true}),
            json!({"type": 42, "uuid": "weird"}),
        ],
    );
    let stop = |answer: &str| json!({"last_assistant_message": answer});
    hook(&mut recorder, "Stop", &path, stop("first answer"));

    // Turn 2: a line pointing at another session (`forkedFrom`) and the same made-up type again.
    hook(
        &mut recorder,
        "UserPromptSubmit",
        &path,
        json!({"prompt": "second question"}),
    );
    let mut forked = user("u2", Some("a1"), "second question");
    forked["forkedFrom"] = json!({"sessionId": "9e1d0c4b-0000-4000-8000-000000000000",
        "messageUuid": "elsewhere"});
    append(
        &transcript,
        &[
            forked,
            json!({"type": "tolerance-marker-one", "uuid": "x2", "parentUuid": "u2"}),
            json!({"type": "tolerance-marker-two", "uuid": "x3", "parentUuid": "x2"}),
            assistant("a2", "x3", "msg_2", "second answer", 23_456),
        ],
    );
    hook(&mut recorder, "Stop", &path, stop("second answer"));

    let turns = store.all_turns().unwrap();
    assert_eq!(turns.len(), 2, "{turns:#?}");
    assert_eq!(turns[0].prompt, "first question");
    assert_eq!(turns[0].reply, "first answer");
    assert_eq!(turns[0].context_tokens, 12_345);
    assert_eq!(turns[1].prompt, "second question");
    assert_eq!(turns[1].reply, "second answer");
    assert_eq!(turns[1].context_tokens, 23_456);
    assert!(turns.iter().all(|t| !t.interrupted && t.ended_at.is_some()));
    // Every line is kept for rebuilding, unknown ones included.
    let kept: Vec<Value> = turns
        .iter()
        .flat_map(|t| store.entries(t.id).unwrap())
        .collect();
    assert!(kept.iter().any(|e| e["type"] == "tolerance-marker-two"));
    assert!(kept.iter().any(|e| e.get("forkedFrom").is_some()));

    let types = seen(Kind::TranscriptEntry);
    for made_up in ["tolerance-marker-one", "tolerance-marker-two", ""] {
        assert!(
            types.iter().any(|t| t == made_up),
            "{made_up:?} in {types:?}"
        );
    }
    for known in [
        "custom-title",
        "ai-title",
        "last-prompt",
        "user",
        "assistant",
    ] {
        assert!(!types.iter().any(|t| t == known), "{known} is known");
    }
    assert_eq!(log_lines_naming("tolerance-marker-one"), 1, "logged once");
    assert_eq!(log_lines_naming("tolerance-marker-two"), 1, "logged once");
}

#[test]
fn hook_payloads_with_unknown_and_missing_optional_fields_still_record_turns() {
    let (mut recorder, store, dir) = recorder();
    let sid = "5f0e3c2a-aaaa-4bbb-8ccc-ddddeeeeffff";
    let transcript = dir.path().join(format!("{sid}.jsonl"));
    let path = transcript.to_string_lossy().to_string();
    // SessionStart with none of its optional fields but the transcript, and new ones.
    recorder
        .handle(event(
            json!({"session_id": sid, "hook_event_name": "SessionStart",
            "transcript_path": path, "tolerance_new_field": {"x": 1}}),
        ))
        .unwrap();
    // A prompt without transcript_path or cwd, with a known field of a new type.
    recorder
        .handle(event(
            json!({"session_id": sid, "hook_event_name": "UserPromptSubmit",
            "prompt": "plain prompt", "permission_mode": {"mode": "auto"},
            "tolerance_other_field": [1, 2]}),
        ))
        .unwrap();
    let line = |v: Value| {
        let mut v = v;
        v["sessionId"] = json!(sid);
        v
    };
    append(
        &transcript,
        &[
            line(user("p1", None, "plain prompt")),
            line(assistant("r1", "p1", "msg_p", "plain reply", 5_000)),
        ],
    );
    // Stop without last_assistant_message, transcript_path or stop_hook_active.
    recorder
        .handle(event(json!({"session_id": sid, "hook_event_name": "Stop"})))
        .unwrap();
    // An event ccx does not know at all.
    recorder
        .handle(event(
            json!({"session_id": sid, "hook_event_name": "ToleranceEvent"}),
        ))
        .unwrap();
    // A prompt with no prompt field (and nothing new in the transcript) is no error either.
    recorder
        .handle(event(
            json!({"session_id": sid, "hook_event_name": "UserPromptSubmit"}),
        ))
        .unwrap();
    recorder.finish_all().unwrap();

    let turns = store.all_turns().unwrap();
    let turn = turns
        .iter()
        .find(|t| t.prompt == "plain prompt")
        .unwrap_or_else(|| panic!("{turns:#?}"));
    assert_eq!(turn.reply, "plain reply");
    assert_eq!(turn.context_tokens, 5_000);
    assert!(!turn.interrupted && turn.ended_at.is_some());
}

#[test]
fn the_bridge_notes_unknown_hook_fields_and_fields_of_a_new_type_once() {
    data_dir();
    let runtime = tempfile::tempdir().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let bridge = Bridge::start(runtime.path(), move |e| {
        let _ = tx.send(e);
    })
    .unwrap();
    let sid = "7a7a7a7a-1234-4567-89ab-cdefcdefcdef";
    let send = |payload: Value| {
        let message = HookMessage {
            secret: bridge.secret.clone(),
            payload,
            nonce: None,
        };
        let mut stream = std::os::unix::net::UnixStream::connect(&bridge.socket_path).unwrap();
        stream.write_all(&message.to_line()).unwrap();
    };
    for _ in 0..3 {
        send(json!({"session_id": sid, "hook_event_name": "SessionStart",
            "source": "startup", "model": {"id": "a-model"}, "tolerance_bridge_field": 1}));
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(HookEvent::SessionStart { session_id, .. }) => assert_eq!(session_id, sid),
            other => panic!("the payload was not delivered: {other:?}"),
        }
    }
    assert!(seen(Kind::HookField).contains(&"tolerance_bridge_field".to_string()));
    assert!(seen(Kind::HookFieldType).contains(&"model".to_string()));
    assert_eq!(log_lines_naming("tolerance_bridge_field"), 1);
}

#[test]
fn the_status_line_notes_unknown_fields_and_still_prints() {
    data_dir();
    let run = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ccx"))
        .arg(ccx::status::STATUS_SUBCOMMAND)
        .env("CCX_DATA_DIR", data_dir())
        .env("CCX_HOOK_SOCKET", run.path().join("hook.sock"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let payload = json!({"session_id": SID, "model": {"id": "m"}, "tolerance_status_field": true,
        "context_window": {"current_usage": {"input_tokens": 1000,
            "cache_read_input_tokens": 234, "cache_creation_input_tokens": 0}}});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ccx · 1.2k ctx"
    );
    assert!(seen(Kind::StatusLineField).contains(&"tolerance_status_field".to_string()));
}

#[test]
fn doctor_warns_about_a_newer_claude_code_and_lists_unknowns_without_failing() {
    data_dir();
    // Something no other test here notes, so the list below is known to hold it.
    ccx::unknowns::note(
        Kind::TranscriptEntry,
        vec!["tolerance-doctor-marker".into()],
    );
    let dir = tempfile::tempdir().unwrap();
    let newest = ccx::compat::newest_passing(ccx::compat::TABLE).expect("a tested version");
    let newer = ccx::compat::Version(newest.version.0, newest.version.1, newest.version.2 + 7);
    let claude = dir.path().join("claude");
    std::fs::write(
        &claude,
        format!("#!/bin/sh\necho '{newer} (Claude Code)'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&claude, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccx"))
        .args(["doctor", "--json"])
        .current_dir(dir.path())
        .env("CCX_DATA_DIR", data_dir())
        .env("CCX_CLAUDE", &claude)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let detail = |name: &str| {
        checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} check: {checks:#?}"))["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let tested = detail("tested");
    assert!(
        tested.starts_with("warning: ")
            && tested.contains(&format!("{newer} is newer"))
            && tested.contains(&newest.version.to_string()),
        "{tested}"
    );
    assert!(detail("unknown").contains("\"tolerance-doctor-marker\""));
    assert!(
        checks
            .iter()
            .filter(|c| c["name"] == "tested" || c["name"] == "unknown")
            .all(|c| c["ok"] == true),
        "a warning, never a failure: {checks:#?}"
    );
    assert_eq!(out.status.code(), Some(0), "{checks:#?}");
}

//! End to end: the context handoffs with the real Claude Code (pinned) and the stand-in API —
//! `:summarize-from-here` saved as a brief, `:brief` seeding a fresh session, `:compact FOCUS`,
//! and a subagent whose report `:pull` brings back.

mod support;

use std::time::Duration;
use support::ccx::{
    ask, assert_opens_a_fresh_branch, close_editor, meta, meta_switch, session_with_turns,
    start_ccx, wait_for_finished_turns, wait_request, QUICK, TURN,
};
use support::standin::Kind;
use support::{wait_until, PtySession, TestEnv};

/// The work handed off.
const PARSER_WORK: [(&str, &str); 2] = [
    ("build the parser", "parser started"),
    ("add the tests", "tests added"),
];

/// In the open editor, runs `:jobs` until its listing shows `state` (a job's end), then
/// leaves the editor.
fn jobs_until(session: &PtySession, state: &str) {
    let shown = wait_until(TURN, || {
        session.type_text("jobs");
        session.send(b"\r");
        std::thread::sleep(Duration::from_millis(500));
        session.screen().contains(state).then_some(())
    });
    assert!(shown.is_some(), "no job {state}: {}", session.screen());
    close_editor(session);
}

#[test]
fn summarize_then_brief_hands_off_to_a_fresh_session() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &PARSER_WORK);

    meta_switch(&session, "summarize-from-here");
    let summary = wait_request(&env, "for the summary", |r| {
        r.user_text.contains("## Next step")
    });
    assert!(
        summary.history_contains("build the parser") && summary.history_contains("add the tests")
    );
    let turns = wait_for_finished_turns(&env, 3, &[]);
    let recorded = &turns[2];
    assert_eq!(recorded["kind"], "summary");
    assert_eq!(recorded["input"], "summarize-from-here");
    let summary_reply = recorded["reply"].as_str().unwrap().to_string();
    assert!(summary_reply.starts_with("echo: "), "{summary_reply}");

    meta_switch(&session, "brief");
    let first = wait_request(&env, "opening the brief session", |r| {
        r.user_text.contains("<handoff>")
    });
    let texts = first.message_texts();
    assert!(
        texts.iter().all(|(role, _)| role != "assistant"),
        "a fresh session: {texts:#?}"
    );
    let users: Vec<&String> = texts
        .iter()
        .filter(|(role, _)| role == "user")
        .map(|(_, t)| t)
        .collect();
    assert_eq!(users.len(), 1, "one user message: {users:#?}");
    // Claude wraps pasted text in <pasted_content> tags (escaping nested ones), so look for
    // the summary's own words inside the handoff rather than the exact bytes.
    let handoff = users[0]
        .split("<handoff>")
        .nth(1)
        .expect("a <handoff> section");
    assert!(
        handoff.contains("Write a handoff of everything in this conversation"),
        "it carries the saved summary: {handoff}"
    );
    assert!(
        !first.history_contains("build the parser [[reply"),
        "none of the old conversation"
    );
    let turns = wait_for_finished_turns(&env, 4, &["--all"]);
    let brief_turn = turns
        .iter()
        .find(|t| t["kind"] == "brief")
        .expect("a brief turn");
    assert_opens_a_fresh_branch(brief_turn);
}

#[test]
fn compact_forwards_the_focus() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("a long exploration", "explored")]);
    meta_switch(&session, "compact keep the parser plan and drop the rest");
    let request = wait_request(&env, "compacting", |r| r.kind == Kind::Compact);
    assert!(
        request.body.to_string().contains("keep the parser plan"),
        "the compaction request carries the focus"
    );
    let compact = wait_until(TURN, || {
        support::ccx::log_json(&env, &[])
            .into_iter()
            .find(|t| t["kind"] == "compact" && !t["ended_at"].is_null())
    })
    .expect("a compact turn recorded");
    assert!(compact["prompt"]
        .as_str()
        .unwrap()
        .contains("keep the parser plan"));
}

#[test]
fn a_subagent_runs_clean_and_pull_brings_back_only_its_report() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("main work so far", "main reply")]);

    meta(
        &session,
        "subagent find the answer [[reply:the answer is 42]]",
    );
    session.wait_for_text("job #1 started", QUICK).unwrap();
    let sub = wait_request(&env, "from the subagent", |r| {
        r.user_text.contains("You are a subagent")
    });
    assert!(!sub.history_contains("main work so far"), "a clean context");
    // Progress and the end show in :jobs.
    jobs_until(&session, "done");

    meta_switch(&session, "pull");
    let pulled = wait_request(&env, "with the pulled report", |r| {
        r.kind == Kind::Prompt && r.user_text.contains("<report>")
    });
    assert!(pulled.user_text.contains("the answer is 42"));
    assert!(
        pulled.history_contains("main work so far"),
        "into the main session"
    );
    let turns = wait_for_finished_turns(&env, 2, &[]);
    assert_eq!(turns[1]["kind"], "subagent");
    // The subagent's own turns are kept as a side branch.
    let all = support::ccx::log_json(&env, &["--all"]);
    assert!(
        all.iter()
            .any(|t| t["branch"].as_str().unwrap().starts_with("subagent-")),
        "{all:#?}"
    );
}

#[test]
fn a_failing_subagent_ends_failed_and_the_session_goes_on() {
    let mut env = TestEnv::new();
    env.set_var("CLAUDE_CODE_MAX_RETRIES", "0");
    let session = start_ccx(&env, &[]);
    meta(&session, "subagent doomed task [[status:500]]");
    session.wait_for_text("job #1 started", QUICK).unwrap();
    jobs_until(&session, "failed");
    ask(&session, "still fine [[reply:yes fine]]", "yes fine");
}

/// An "editor" that replaces the brief's template with a brief of its own.
const BRIEF_EDITOR: &str = "printf '# Brief\\n\\n## Goal\\nship the tokenizer rewrite\\n' > \"$1\"";

#[test]
fn brief_written_in_the_editor_seeds_a_fresh_session() {
    let mut env = TestEnv::new();
    let editor = support::harness::write_script(&env.scratch, "fake-editor.sh", BRIEF_EDITOR);
    env.set_var("EDITOR", &editor.to_string_lossy());
    let session = start_ccx(&env, &[]);
    meta_switch(&session, "brief -e");
    let first = wait_request(&env, "opening the written brief", |r| {
        r.user_text.contains("<handoff>")
    });
    assert!(
        first.user_text.contains("ship the tokenizer rewrite"),
        "{}",
        first.user_text
    );
    let turns = wait_for_finished_turns(&env, 1, &["--all"]);
    assert_eq!(turns[0]["kind"], "brief");
    assert_eq!(turns[0]["input"], "brief -e");
}

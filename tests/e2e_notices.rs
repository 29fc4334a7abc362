//! End to end: every meta-command that sends the person back to Claude says what it did, in one
//! line in Claude's own footer (ccx's status line), right after it returns — `:branch`,
//! `:checkout`, `:rewind`, `:summarize-from-here`, `:brief`, `:clear`, `:pull` — with the real
//! Claude Code (pinned) and the stand-in API. Also: a job is pulled once, and the prompts ccx
//! sent are labelled by what they are in `ccx log`.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::ccx::{
    ask, ask_for, ccx, close_editor, log_json, meta, meta_switch, session_with_turns, start_ccx,
    wait_for_finished_turns, QUICK, TURN, TWO_EXCHANGES,
};
use support::{wait_until, PtySession, TestEnv};

/// How long a notice stays in the footer (ccx's `NOTICE_SHOWN_FOR`): it must show within it.
const NOTICE: Duration = Duration::from_secs(10);

/// Waits for `text` in ccx's line of Claude's footer (`ccx · …text…`).
fn notice(session: &PtySession, text: &str) {
    let started = std::time::Instant::now();
    session
        .wait_for(NOTICE, |s| {
            s.lines()
                .any(|line| line.trim_start().starts_with("ccx · ") && line.contains(text))
        })
        .unwrap_or_else(|screen| panic!("no {text:?} in the footer:\n{screen}"));
    eprintln!("footer notice {text:?} shown after {:?}", started.elapsed());
}

/// The finished turn of `kind` on a branch of the session (not a subagent's own), waiting
/// for it.
fn finished_turn(env: &TestEnv, kind: &str) -> Value {
    wait_until(TURN, || {
        log_json(env, &["--all"]).into_iter().rev().find(|t| {
            t["kind"] == kind
                && !t["ended_at"].is_null()
                && !t["branch"].as_str().unwrap_or("").starts_with("subagent-")
        })
    })
    .unwrap_or_else(|| panic!("no finished {kind} turn: {:#?}", log_json(env, &["--all"])))
}

#[test]
fn every_switching_command_says_its_result_in_the_footer() {
    let env = TestEnv::new();
    let (session, turns) = session_with_turns(&env, &TWO_EXCHANGES);
    let first = turns[0]["id"].as_u64().unwrap();

    meta_switch(&session, &format!("branch side {first}"));
    notice(
        &session,
        &format!("on branch side, forked after #{first} of main; main is kept"),
    );

    meta_switch(&session, "checkout main");
    notice(&session, "on branch main");

    meta_switch(&session, "rewind");
    notice(&session, &format!("rewound to #{first} on new branch "));

    meta_switch(&session, "summarize-from-here");
    let summary = finished_turn(&env, "summary");
    let brief_name = format!("summary-{}", summary["id"]);
    notice(&session, &format!("handoff saved as brief {brief_name}"));

    meta_switch(&session, "brief");
    notice(&session, &format!(", seeded with brief {brief_name}"));
    let brief = finished_turn(&env, "brief");
    assert_eq!(brief["input"], format!("brief {brief_name}"));

    meta_switch(&session, "clear");
    notice(&session, "fresh session on new branch ");
    ask_for(&session, "in the clear", "clear reply");

    // A subagent's report, pulled once; the footer offers it until then.
    meta(
        &session,
        "subagent find the answer [[reply:the answer is 42]]",
    );
    session.wait_for_text("job #1 started", QUICK).unwrap();
    close_editor(&session);
    session
        .wait_for_text("job #1 done: :pull 1", TURN)
        .expect("the footer offers the finished job");
    meta_switch(&session, "pull");
    notice(&session, "job #1 pulled");
    let pulled = finished_turn(&env, "subagent");
    assert_eq!(pulled["input"], "pull 1");
    session
        .wait_for(TURN, |s| {
            !s.contains("ccx · job #1 pulled") && s.contains("ccx · ")
        })
        .expect("the notice goes after a few seconds");
    assert!(
        !session.screen().contains(":pull 1"),
        "the footer stops offering a pulled job:\n{}",
        session.screen()
    );
    let requests = env.standin.main_requests().len();
    meta(&session, "pull 1");
    session
        .wait_for_text("job #1's report was pulled already; nothing sent", QUICK)
        .unwrap();
    close_editor(&session);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        env.standin.main_requests().len(),
        requests,
        "a second pull sends nothing"
    );

    // The prompts ccx sent read as what they are in the log.
    let out = ccx(&env, &["log", "--all"]);
    let log = String::from_utf8_lossy(&out.stdout);
    for label in [
        "[summary] Write a handoff",
        &format!("[brief {brief_name}] This session"),
        "[pull #1] A subagent",
    ] {
        assert!(log.contains(label), "{label:?} missing in:\n{log}");
    }
    assert!(!log.contains("pasted_content"), "{log}");
}

#[test]
fn the_persons_own_status_line_stays_beside_ccxs_notices() {
    let env = TestEnv::new();
    let settings = serde_json::json!({"statusLine": {"type": "command",
        "command": "cat > /dev/null; echo their-own-line"}})
    .to_string();
    let session = start_ccx(&env, &["--settings", &settings]);
    ask(&session, "one [[reply:answer one]]", "answer one");
    let turns = wait_for_finished_turns(&env, 1, &[]);
    let first = turns[0]["id"].as_u64().unwrap();
    session
        .wait_for(TURN, |s| {
            s.lines()
                .any(|l| l.contains("ccx · main · #") && l.contains("their-own-line"))
        })
        .unwrap_or_else(|screen| panic!("ccx's footer and theirs:\n{screen}"));
    meta_switch(&session, &format!("branch side {first}"));
    notice(&session, "on branch side, forked after");
    assert!(
        session
            .screen()
            .lines()
            .any(|l| l.contains("on branch side") && l.contains("their-own-line")),
        "{}",
        session.screen()
    );
}

//! End to end: `:merge BRANCH` and `:btw QUESTION` in a ccx session running the real Claude
//! Code (pinned) against the stand-in API, whose headless forks (`claude -p --resume …
//! --fork-session --no-session-persistence`) the stand-in answers too.

mod support;

use serde_json::Value;
use support::ccx::{
    ask, ccx, meta, meta_switch, start_ccx, wait_request, EDITOR_MARK, QUICK, TURN,
};
use support::{wait_until, TestEnv};

fn stdout(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn branch_turns(env: &TestEnv, branch: &str) -> Vec<Value> {
    serde_json::from_str(&stdout(ccx(env, &["log", "--branch", branch, "--json"]))).unwrap()
}

/// The finished turns of `branch`, once there are `n`.
fn wait_turns(env: &TestEnv, branch: &str, n: usize) -> Vec<Value> {
    wait_until(TURN, || {
        let turns = branch_turns(env, branch);
        (turns.iter().filter(|t| !t["ended_at"].is_null()).count() >= n).then_some(turns)
    })
    .unwrap_or_else(|| panic!("{branch} never had {n} finished turns"))
}

/// Session transcripts Claude Code holds for the project.
fn transcripts(env: &TestEnv) -> usize {
    let dir = env
        .transcripts_root()
        .join(ccx::claude::paths::project_dir_name(&env.project));
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
                .count()
        })
        .unwrap_or(0)
}

/// Leaves the editor with Esc once `text` shows.
fn close_after(session: &support::PtySession, text: &str) {
    // The text, and the editor reading its next line (its `: ` prompt last).
    session
        .wait_for(TURN, |s| s.contains(text) && s.trim_end().ends_with(':'))
        .unwrap_or_else(|screen| panic!("{text:?} never showed:\n{screen}"));
    session.send(b"\x1b");
    session
        .wait_for(QUICK, |s| !s.contains(EDITOR_MARK))
        .expect("Esc returns to Claude");
}

#[test]
fn merge_brings_a_branchs_findings_back_once_and_btw_keeps_an_aside() {
    let env = TestEnv::new();
    let session = start_ccx(&env, &[]);
    ask(
        &session,
        "base question [[reply:base answer]]",
        "base answer",
    );
    meta_switch(&session, "branch side");
    ask(
        &session,
        "try approach A [[reply:approach A times out]]",
        "approach A times out",
    );
    let side = wait_turns(&env, "side", 2);
    let side_head = side.last().unwrap()["id"].as_u64().unwrap();
    meta_switch(&session, "checkout main");
    ask(&session, "main work [[reply:main answer]]", "main answer");
    wait_turns(&env, "main", 2);
    let sessions_before = transcripts(&env);

    // Bad input first: one line each, nothing sent.
    meta(&session, "merge main");
    close_after(
        &session,
        "cannot merge the current branch (main) into itself",
    );
    meta(&session, "merge sdie");
    close_after(&session, "no branch 'sdie' (did you mean 'side'?)");

    meta(
        &session,
        "merge side --focus timeouts [[reply:A times out after 30 s; B works]]",
    );
    session
        .wait_for_text("A times out after 30 s; B works", TURN)
        .unwrap();
    session.wait_for_text("y: send it", QUICK).unwrap();
    session.type_text("y");
    session.send(b"\r");
    let merged = wait_until(TURN, || {
        let turns = branch_turns(&env, "main");
        turns
            .into_iter()
            .find(|t| t["kind"] == "merge" && !t["ended_at"].is_null())
    })
    .expect("a finished merge turn on main");
    let merge_id = merged["id"].as_u64().unwrap();
    assert!(merged["prompt"]
        .as_str()
        .unwrap()
        .starts_with("Findings merged from branch side"));
    // The fork that distilled was side's conversation, not main's.
    let distil = wait_request(&env, "the distil request", |r| {
        r.user_text.contains("is about to be merged")
    });
    assert!(distil.history_contains("try approach A") && !distil.history_contains("main work"));
    let sent = wait_request(&env, "the merge turn", |r| {
        r.main && r.user_text.contains("Findings merged from branch side")
    });
    assert!(sent.user_text.contains("A times out after 30 s; B works"));
    assert!(stdout(ccx(&env, &["show", &merge_id.to_string()]))
        .contains(&format!("merged from: side (its head then: #{side_head})")));
    assert!(stdout(ccx(&env, &["tree"]))
        .contains(&format!("merge: side #{side_head} ─▶ main #{merge_id}")));
    assert_eq!(transcripts(&env), sessions_before, "no session left behind");

    // Merged again with nothing new: one line.
    meta(&session, "merge side");
    close_after(
        &session,
        &format!("nothing new on side since it was last merged here (at #{side_head})"),
    );

    // A side question: answered by a fork, kept as an aside, nothing in the live context.
    meta(
        &session,
        "btw what was the zebra rule? [[reply:stripes, always]]",
    );
    close_after(&session, "stripes, always");
    let aside = wait_turns(&env, "btw-1", 1);
    let aside = aside.last().unwrap();
    assert_eq!(aside["kind"], "aside");
    assert_eq!(aside["reply"], "stripes, always");
    let found = stdout(ccx(&env, &["search", "stripes", "--json"]));
    assert!(found.contains("\"kind\": \"aside\""), "{found}");
    ask(
        &session,
        "after the aside [[reply:still here]]",
        "still here",
    );
    let next = wait_request(&env, "the next main turn", |r| {
        r.main && r.user_text.contains("after the aside")
    });
    assert!(
        !next.history_contains("zebra rule"),
        "the aside stayed out of the live context"
    );
    assert_eq!(transcripts(&env), sessions_before, "no session left behind");
}

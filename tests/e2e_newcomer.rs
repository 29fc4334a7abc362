//! End to end, what a newcomer meets first with the real Claude Code (pinned) and the stand-in
//! API: ccx's hooks stay invisible after `:compact`, and on exit ccx adds its own
//! `ccx --resume <id>` line after Claude's, which really resumes the conversation recorded, on
//! the branch that carries it.

mod support;

use support::ccx::{
    ask, log_json, meta_switch, start_ccx, wait_for_finished_turns, wait_request, TURN,
};
use support::standin::Kind;
use support::{wait_until, TestEnv};

#[test]
fn compact_shows_no_line_from_ccx_hooks() {
    let env = TestEnv::new();
    let session = start_ccx(&env, &[]);
    ask(&session, "explore it [[reply:explored]]", "explored");
    wait_for_finished_turns(&env, 1, &[]);
    meta_switch(&session, "compact keep the plan");
    wait_request(&env, "compacting", |r| r.kind == Kind::Compact);
    wait_until(TURN, || {
        log_json(&env, &[])
            .into_iter()
            .find(|t| t["kind"] == "compact" && !t["ended_at"].is_null())
    })
    .expect("a compact turn recorded");
    // Claude has drawn the compaction's outcome (the SessionStart hook of source `compact`
    // ran before the turn was finished); give its screen a moment to settle.
    session.wait_for_text("❯", TURN).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let screen = session.screen();
    for hidden in [
        "PreCompact",
        "SessionStart",
        "__hook",
        "completed successfully",
    ] {
        assert!(
            !screen.contains(hidden),
            "ccx's hook shows on Claude's screen ({hidden}):\n{screen}"
        );
    }
}

#[test]
fn exit_offers_ccx_resume_which_resumes_recorded_on_the_same_branch() {
    let env = TestEnv::new();
    // A first conversation (branch main), then a second one (its own branch).
    let first = start_ccx(&env, &[]);
    ask(&first, "on main [[reply:main answer]]", "main answer");
    wait_for_finished_turns(&env, 1, &[]);
    first.type_and_submit("/exit");
    assert_eq!(first.wait_exit(TURN), Some(0), "{}", first.screen());

    let second = start_ccx(&env, &[]);
    ask(
        &second,
        "second talk [[reply:second answer]]",
        "second answer",
    );
    let turns = wait_for_finished_turns(&env, 2, &["--all"]);
    let second_turn = turns
        .iter()
        .find(|t| t["prompt"] == "second talk [[reply:second answer]]")
        .expect("the second conversation's turn")
        .clone();
    let branch = second_turn["branch"].as_str().unwrap().to_string();
    assert_eq!(branch, "session-2", "a second conversation's branch");
    let session_id = second_turn["session_id"].as_str().unwrap().to_string();

    second.type_and_submit("/exit");
    assert_eq!(second.wait_exit(TURN), Some(0), "{}", second.screen());
    let expected = format!("ccx --resume {session_id}");
    second
        .wait_for(TURN, |s| s.contains(&expected))
        .unwrap_or_else(|screen| panic!("no `{expected}` line after exit:\n{screen}"));
    let screen = second.screen();
    let claude_line = screen
        .find(&format!("claude --resume {session_id}"))
        .unwrap_or_else(|| panic!("Claude's own line:\n{screen}"));
    assert!(claude_line < screen.find(&expected).unwrap(), "{screen}");
    assert!(screen.contains("on branch session-2"), "{screen}");

    let resumed = start_ccx(&env, &["--resume", &session_id]);
    ask(
        &resumed,
        "after resume [[reply:resumed answer]]",
        "resumed answer",
    );
    let turns = wait_for_finished_turns(&env, 2, &["--branch", &branch]);
    let last = turns.last().unwrap();
    assert_eq!(last["prompt"], "after resume [[reply:resumed answer]]");
    assert_eq!(
        last["branch"],
        branch.as_str(),
        "recorded on the branch it resumed"
    );
    assert_eq!(
        last["parent"], second_turn["id"],
        "after the turn it resumed"
    );
    let request = wait_request(&env, "after the resume", |r| {
        r.user_text.contains("after resume")
    });
    assert!(
        request.history_contains("second talk") && !request.history_contains("on main"),
        "Claude got that conversation back"
    );
    resumed.type_and_submit("/exit");
    assert_eq!(resumed.wait_exit(TURN), Some(0));
}

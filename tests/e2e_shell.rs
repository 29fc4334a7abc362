//! End to end: ccx's meta-command editor over the real Claude Code (pinned), against the
//! project's stand-in Messages API, with a private HOME per test.

mod support;

use std::time::Duration;
use support::ccx::{
    ask_for, close_editor, command_says, open_editor, session_with_turns, start_ccx,
    wait_for_finished_turns, EDITOR_MARK, QUICK, TURN, TWO_EXCHANGES,
};
use support::{wait_until, TestEnv};

/// Claude's screen once it has stopped changing (the same for a whole second), so a later
/// comparison is not upset by a spinner or footer still being drawn; bounded.
fn settled_screen(session: &support::PtySession) -> String {
    let mut last = session.screen();
    let settled = wait_until(support::ccx::TURN, || {
        std::thread::sleep(Duration::from_secs(1));
        let now = session.screen();
        let same = now == last;
        last = now;
        same.then(|| last.clone())
    });
    settled.unwrap_or_else(|| panic!("Claude's screen never settled:\n{last}"))
}

#[test]
fn colon_opens_the_editor_and_esc_restores_claudes_screen_exactly() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("before", "the answer before")]);
    let before = settled_screen(&session);

    open_editor(&session);
    assert!(
        !session.screen().contains("the answer before"),
        "the editor has the whole view"
    );
    close_editor(&session);
    // Claude's screen, exactly as it was.
    session
        .wait_for(QUICK, |s| s == before)
        .unwrap_or_else(|now| {
            panic!("screen differs after Esc.\n--- before ---\n{before}\n--- after ---\n{now}")
        });

    // Claude never received the colon: the next prompt arrives exactly as typed.
    ask_for(&session, "after", "the answer after");
    let main = env.standin.main_requests();
    let last = main.last().unwrap();
    assert_eq!(last.user_text, "after [[reply:the answer after]]");
    assert!(main.iter().all(|r| !r.user_text.starts_with(':')));
}

#[test]
fn log_in_the_editor_lists_the_sessions_turns() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &TWO_EXCHANGES);

    open_editor(&session);
    command_says(
        &session,
        "log",
        "second question [[reply:second answer]] → second answer",
    );
    let screen = session.screen();
    assert!(screen.contains("#1") && screen.contains("#2"), "{screen}");
    assert!(
        screen.contains("first question [[reply:first answer]] → first answer"),
        "{screen}"
    );
    close_editor(&session);
}

#[test]
fn a_colon_typed_mid_line_reaches_claude_intact() {
    let env = TestEnv::new();
    let session = start_ccx(&env, &[]);
    // One key at a time, as a person types.
    for key in ["a", ":", "b", " "] {
        session.send(key.as_bytes());
        std::thread::sleep(Duration::from_millis(150));
    }
    session.type_text("[[reply:colon kept]]");
    session.submit();
    session.wait_for_text("● colon kept", TURN).unwrap();
    assert!(!session.screen().contains(EDITOR_MARK));
    let main = env.standin.main_requests();
    assert_eq!(main.last().unwrap().user_text, "a:b [[reply:colon kept]]");
}

#[test]
fn ctrl_bracket_opens_the_editor_during_a_long_turn_and_the_turn_completes() {
    let env = TestEnv::new();
    let session = start_ccx(&env, &[]);
    session.type_and_submit("slow turn [[sleep:4000]] [[reply:slow turn done]]");
    wait_until(TURN, || {
        env.standin
            .main_requests()
            .iter()
            .any(|r| r.user_text.contains("slow turn"))
            .then_some(())
    })
    .expect("the slow turn reached the stand-in");
    // A prompt is a turn once Claude's transcript shows it (moments after the request).
    wait_until(TURN, || {
        support::ccx::log_json(&env, &[])
            .iter()
            .any(|t| t["prompt"].as_str().unwrap_or("").starts_with("slow turn"))
            .then_some(())
    })
    .expect("the slow turn is in the log");

    session.send(b"\x1d");
    session.wait_for_text(EDITOR_MARK, QUICK).unwrap();
    command_says(&session, "log", "(running)");
    // Claude finishes while the editor is open; nothing of it shows until we return.
    wait_for_finished_turns(&env, 1, &[]);
    assert!(!session.screen().contains("● slow turn done"));
    close_editor(&session);
    session.wait_for_text("● slow turn done", QUICK).unwrap();
    let turns = wait_for_finished_turns(&env, 1, &[]);
    assert_eq!(turns[0]["reply"], "slow turn done");
}

#[test]
fn an_unknown_command_says_so_and_the_session_goes_on() {
    let env = TestEnv::new();
    let session = start_ccx(&env, &[]);
    open_editor(&session);
    command_says(
        &session,
        "lgo",
        "unknown command ':lgo' (did you mean ':log'?)",
    );
    close_editor(&session);
    ask_for(&session, "still working", "yes still working");
    let turns = wait_for_finished_turns(&env, 1, &[]);
    assert_eq!(turns.len(), 1);
}

#[test]
fn the_status_line_shows_branch_turn_and_context() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("measure [[usage:123456]]", "measured")]);
    // Claude runs the status command as the turn ends (and every second, for ccx's notices).
    let shown = session
        .wait_for_text("ccx · main · #1 · 123.5k ctx", TURN)
        .ok();
    assert!(
        shown.is_some(),
        "status line missing; screen:\n{}",
        session.screen()
    );
}

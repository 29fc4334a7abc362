//! End to end: `:` opens ccx's editor wherever Claude's prompt is empty — at the very first
//! prompt (even typed before Claude has drawn it), after Esc, after Ctrl-U, and at once after
//! every move that restarts Claude (`:branch`, `:checkout`, `:rewind`, `:clear`,
//! `:summarize-from-here`, `:brief`, `ccx -c`) — in terminals that answer Claude's start-up
//! queries as xterm, tmux, kitty and WezTerm do (see `support::terminal`). Nothing typed in
//! the editor reaches the API.

mod support;

use std::time::Duration;
use support::ccx::{
    ask, ask_for, close_editor, command_says, session_with_turns, type_command,
    wait_for_finished_turns, EDITOR_MARK, QUICK, START, TURN,
};
use support::terminal::Personality;
use support::{ccx_path, PtySession, TestEnv};

/// Presses `:` at once (no pause for the screen to settle) and expects the editor; then runs
/// `:log` in it and expects `listed` in its output, and goes back to Claude.
fn colon_opens(session: &PtySession, when: &str, listed: &str) {
    colon_opens_then(session, when, |screen| screen.contains(listed), listed);
}

/// As [`colon_opens`], for a listing that is only known to end with the editor's next prompt.
fn colon_opens_and_lists(session: &PtySession, when: &str) {
    let listed_and_prompted = |screen: &str| {
        let lines: Vec<&str> = screen.lines().collect();
        lines.len() >= 4 && lines.iter().filter(|l| l.starts_with(':')).count() >= 2
    };
    colon_opens_then(
        session,
        when,
        listed_and_prompted,
        "a listing and a new `:` prompt",
    );
}

fn colon_opens_then(session: &PtySession, when: &str, done: impl Fn(&str) -> bool, what: &str) {
    let listed = what;
    session.send(b":");
    session
        .wait_for_text(EDITOR_MARK, QUICK)
        .unwrap_or_else(|screen| panic!("`:` {when} did not open the editor:\n{screen}"));
    type_command(session, "log");
    session
        .wait_for(QUICK, done)
        .unwrap_or_else(|screen| panic!("`:log` {when} did not list {listed:?}:\n{screen}"));
    // At once: a key typed right after a listing must not be lost.
    close_editor(session);
}

/// Runs a switching meta-command and waits only until the editor has closed by itself.
fn switch(session: &PtySession, command: &str) {
    session.send(b":");
    session.wait_for_text(EDITOR_MARK, QUICK).unwrap();
    type_command(session, command);
    session
        .wait_for(TURN, |s| !s.contains(EDITOR_MARK))
        .unwrap_or_else(|screen| panic!("`:{command}` did not return to Claude:\n{screen}"));
}

/// No request to the API ever carried a meta-command or an emoji made of one.
fn nothing_typed_in_the_editor_reached_claude(env: &TestEnv) {
    for request in env.standin.requests() {
        for (_, text) in request.message_texts() {
            for leaked in [":log", ":branch", ":checkout", "📜", "💼"] {
                assert!(
                    !text.contains(leaked),
                    "{leaked:?} reached the API in {text:?}"
                );
            }
        }
    }
}

fn colon_everywhere(terminal: Personality) {
    let env = TestEnv::new();
    let session = PtySession::spawn_as(
        terminal,
        ccx_path(),
        &[],
        &env.vars(),
        &env.project,
        120,
        40,
    );
    // Typed before Claude has drawn its prompt: kept for the editor.
    std::thread::sleep(Duration::from_millis(200));
    session.send(b":");
    session
        .wait_for_text(EDITOR_MARK, START)
        .unwrap_or_else(|s| panic!("[{}] `:` at start: {s}", terminal.name));
    command_says(&session, "log", "no turns on main yet");
    close_editor(&session);
    colon_opens(&session, "at the first prompt", "no turns on main yet");

    // Esc in Claude (interrupt / clear input), then `:`.
    session.send(b"\x1b");
    std::thread::sleep(Duration::from_millis(300));
    colon_opens(&session, "after Esc", "no turns on main yet");

    // Text typed, then cleared with Ctrl-U.
    session.type_text("half a thought");
    session.wait_for_text("half a thought", QUICK).unwrap();
    session.send(b"\x15");
    session
        .wait_for(QUICK, |s| !s.contains("half a thought"))
        .expect("Ctrl-U clears Claude's input");
    colon_opens(&session, "after Ctrl-U", "no turns on main yet");

    ask_for(&session, "first step", "step one done");
    ask_for(&session, "second step", "step two done");
    let turns = wait_for_finished_turns(&env, 2, &[]);
    let first = turns[0]["id"].as_u64().unwrap();

    switch(&session, "branch try-x");
    colon_opens(&session, "right after :branch", "step two done");
    switch(&session, "checkout main");
    colon_opens(&session, "right after :checkout", "step two done");
    switch(&session, &format!("rewind {first}"));
    colon_opens(&session, "right after :rewind", "step one done");
    switch(&session, "clear");
    colon_opens_and_lists(&session, "right after :clear");

    ask(&session, "fresh start [[reply:fresh]]", "fresh");
    switch(&session, "summarize-from-here");
    colon_opens(&session, "right after :summarize-from-here", "fresh start");
    session
        .wait_for_text("echo:", TURN)
        .expect("the summary's reply");
    wait_for_finished_turns(&env, 4, &["--all"]);
    switch(&session, "brief");
    colon_opens_and_lists(&session, "right after :brief");

    nothing_typed_in_the_editor_reached_claude(&env);
}

/// One test per terminal personality ([`support::terminal::all`]), so a failure names the
/// terminal.
macro_rules! colon_everywhere_in {
    ($($test:ident: $terminal:expr),* $(,)?) => {$(
        #[test]
        fn $test() {
            colon_everywhere(Personality::by_name($terminal));
        }
    )*};
}

colon_everywhere_in!(
    colon_opens_the_editor_everywhere_in_xterm: "xterm",
    colon_opens_the_editor_everywhere_in_tmux: "tmux",
    colon_opens_the_editor_everywhere_in_kitty: "kitty",
    colon_opens_the_editor_everywhere_in_wezterm: "wezterm",
);

#[test]
fn colon_opens_the_editor_right_after_ccx_continues_a_session() {
    let env = TestEnv::new();
    {
        let (session, _) = session_with_turns(&env, &[("remember this", "noted")]);
        session.type_and_submit("/exit");
        session.wait_exit(QUICK).expect("claude exits on /exit");
    }
    let session = PtySession::spawn_as(
        Personality::by_name("kitty"),
        ccx_path(),
        &["-c"],
        &env.vars(),
        &env.project,
        120,
        40,
    );
    session.wait_for_text("❯", START).unwrap();
    colon_opens(&session, "right after ccx -c", "remember this");
    nothing_typed_in_the_editor_reached_claude(&env);
}

#[test]
fn colon_is_off_for_a_claude_whose_prompt_ccx_cannot_find() {
    let mut env = TestEnv::new();
    // A "Claude Code" that draws `> ` instead of `❯` and echoes what it is sent.
    let fake = support::harness::write_script(
        &env.scratch,
        "fake-claude",
        "case \"$*\" in *--version*) echo '9.9.9 (Claude Code)'; exit 0;; esac\n\
         stty raw -echo 2>/dev/null\nprintf 'fake claude ready\\r\\n> '\nexec cat",
    );
    env.set_var("CCX_CLAUDE", &fake.to_string_lossy());
    let session = PtySession::spawn(ccx_path(), &[], &env, 120, 40);
    session.wait_for_text("fake claude ready", START).unwrap();
    // ccx waits for the prompt it knows while claude starts, then gives up on `:` ...
    session.send(b":");
    session
        .wait_for_text("> :", Duration::from_secs(60))
        .expect("the `:` reaches a Claude whose prompt ccx cannot find");
    let log = std::fs::read_to_string(env.data_dir.join("ccx.log")).unwrap_or_default();
    assert!(log.contains("`:` is off"), "ccx says `:` is off: {log}");
    // ... and from then on `:` goes straight through, while Ctrl-] still opens the editor.
    session.send(b"\x1d");
    session.wait_for_text(EDITOR_MARK, QUICK).unwrap();
    close_editor(&session);
    session.send(b":");
    session
        .wait_for(QUICK, |s| s.matches(':').count() >= 2)
        .expect("a second `:` goes through at once");
    let log = std::fs::read_to_string(env.data_dir.join("ccx.log")).unwrap_or_default();
    assert_eq!(log.matches("`:` is off").count(), 1, "said once: {log}");
}

//! Driving ccx itself in end-to-end tests: start it in a PTY, run its subcommands, read the log.

use super::harness::{ccx_path, output_with_timeout, wait_until, PtySession, TestEnv};
use super::standin::Recorded;
use serde_json::Value;
use std::time::Duration;

/// Claude's start-up and a turn against the stand-in take seconds; allow for a loaded machine.
pub const START: Duration = Duration::from_secs(90);
pub const TURN: Duration = Duration::from_secs(60);

/// ccx (running claude) in a 120x40 PTY, once Claude's prompt shows.
pub fn start_ccx(env: &TestEnv, args: &[&str]) -> PtySession {
    let session = PtySession::spawn(ccx_path(), args, env, 120, 40);
    session
        .wait_for_text("❯", START)
        .expect("Claude's prompt through ccx");
    // Let the TUI settle (it redraws once after the first prompt paint).
    std::thread::sleep(Duration::from_millis(500));
    session
}

/// A ccx subcommand in the test's environment.
pub fn ccx(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let mut cmd = env.command(ccx_path());
    cmd.args(args);
    output_with_timeout(&mut cmd, Duration::from_secs(30)).expect("ccx subcommand finished")
}

/// `ccx log --json [extra]`.
pub fn log_json(env: &TestEnv, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["log", "--json"];
    args.extend_from_slice(extra);
    match ccx_json(env, &args) {
        Value::Array(turns) => turns,
        other => panic!("ccx log --json printed no array: {other}"),
    }
}

/// Waits until the log holds `n` finished turns; returns them.
pub fn wait_for_finished_turns(env: &TestEnv, n: usize, extra: &[&str]) -> Vec<Value> {
    wait_until(TURN, || {
        let turns = log_json(env, extra);
        let finished = turns.iter().filter(|t| !t["ended_at"].is_null()).count();
        (finished >= n).then_some(turns)
    })
    .unwrap_or_else(|| {
        panic!(
            "{n} finished turns never appeared; log: {:#?}",
            log_json(env, extra)
        )
    })
}

/// Types a prompt, submits it, and waits for Claude's reply `reply` on the screen (`● reply`:
/// the typed prompt itself holds the reply text inside its directive).
pub fn ask(session: &PtySession, prompt: &str, reply: &str) {
    session.type_and_submit(prompt);
    session.wait_for_text(&format!("● {reply}"), TURN).unwrap();
}

/// The prompt asking `question` that the stand-in answers with `answer`: `question
/// [[reply:answer]]`.
pub fn scripted(question: &str, answer: &str) -> String {
    format!("{question} [[reply:{answer}]]")
}

/// Asks `question` ([`scripted`] to be answered `answer`) and waits for the answer on screen.
pub fn ask_for(session: &PtySession, question: &str, answer: &str) {
    ask(session, &scripted(question, answer), answer);
}

/// The exchanges most tests start from: `first question` answered `first answer`, then
/// `second question` answered `second answer`.
pub const TWO_EXCHANGES: [(&str, &str); 2] = [
    ("first question", "first answer"),
    ("second question", "second answer"),
];

/// ccx started plainly in `env`, after each `(question, answer)` of `exchanges` was asked in
/// order ([`ask_for`]); returns the session and the log once all of them are finished turns.
pub fn session_with_turns(env: &TestEnv, exchanges: &[(&str, &str)]) -> (PtySession, Vec<Value>) {
    let session = start_ccx(env, &[]);
    for (question, answer) in exchanges {
        ask_for(&session, question, answer);
    }
    let turns = wait_for_finished_turns(env, exchanges.len(), &[]);
    (session, turns)
}

/// `ccx ARGS` (a subcommand printing JSON), asserting that it succeeded; its output parsed.
pub fn ccx_json(env: &TestEnv, args: &[&str]) -> Value {
    let out = ccx(env, args);
    assert!(
        out.status.success(),
        "ccx {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("ccx {args:?} printed no JSON ({e})"))
}

/// The prompts of `turns`, in their order.
pub fn prompts(turns: &[Value]) -> Vec<&str> {
    turns
        .iter()
        .map(|t| t["prompt"].as_str().expect("every turn has a prompt"))
        .collect()
}

/// The first of `turns` whose prompt starts with `prompt_start`.
pub fn turn_with(turns: &[Value], prompt_start: &str) -> Value {
    turns
        .iter()
        .find(|t| t["prompt"].as_str().unwrap_or("").starts_with(prompt_start))
        .unwrap_or_else(|| panic!("no turn {prompt_start:?}: {turns:#?}"))
        .clone()
}

/// Asserts that `turn` began a fresh conversation: the first turn of a new branch, not main.
pub fn assert_opens_a_fresh_branch(turn: &Value) {
    assert_ne!(turn["branch"], "main", "{turn:#}");
    assert!(turn["parent"].is_null(), "{turn:#}");
}

/// `ccx tree --json`: the branches.
pub fn tree(env: &TestEnv) -> Vec<Value> {
    match ccx_json(env, &["tree", "--json"]) {
        Value::Array(branches) => branches,
        other => panic!("ccx tree --json printed no array: {other}"),
    }
}

/// Kills ccx with SIGKILL and waits until the claude it ran (its children, of which there must
/// be one) has ended too; SIGKILLs and fails on one still alive after 20 s.
pub fn kill_9_leaving_no_claude(session: &PtySession) {
    let pids = super::harness::children_of(session.pid());
    assert!(!pids.is_empty(), "claude runs under ccx");
    session.kill_9();
    for pid in pids {
        let gone = wait_until(Duration::from_secs(20), || {
            (!super::harness::pid_alive(pid)).then_some(())
        });
        if gone.is_none() {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("claude (pid {pid}) outlived ccx");
        }
    }
}

/// Ends Claude with `/exit` and asserts that ccx then exits with code 0.
pub fn exit_cleanly(session: &PtySession) {
    session.type_and_submit("/exit");
    assert_eq!(
        session.wait_exit(TURN),
        Some(0),
        "ccx's exit code after /exit; screen:\n{}",
        session.screen()
    );
}

/// Shown in ccx's editor header: its presence means the editor is open.
pub const EDITOR_MARK: &str = ":help lists commands";
/// Bound for things that happen at once in the editor.
pub const QUICK: Duration = Duration::from_secs(15);

/// Opens ccx's editor with `:` on Claude's empty prompt.
pub fn open_editor(session: &PtySession) {
    session.send(b":");
    session.wait_for_text(EDITOR_MARK, QUICK).unwrap();
}

/// Leaves the editor with Esc.
pub fn close_editor(session: &PtySession) {
    session.send(b"\x1b");
    session
        .wait_for(QUICK, |s| !s.contains(EDITOR_MARK))
        .expect("Esc returns to Claude");
}

/// Types a line in the open editor and presses Enter.
pub fn type_command(session: &PtySession, line: &str) {
    session.type_text(line);
    std::thread::sleep(Duration::from_millis(200));
    session.send(b"\r");
}

/// Runs `command` in the open editor and waits until the editor shows `said`.
pub fn command_says(session: &PtySession, command: &str, said: &str) {
    type_command(session, command);
    session
        .wait_for_text(said, QUICK)
        .unwrap_or_else(|screen| panic!("`:{command}` never said {said:?}:\n{screen}"));
}

/// Opens the editor and runs one meta-command in it.
pub fn meta(session: &PtySession, command: &str) {
    open_editor(session);
    type_command(session, command);
}

/// Runs a meta-command that switches conversations and waits until the editor has closed by
/// itself and Claude's prompt is back.
pub fn meta_switch(session: &PtySession, command: &str) {
    meta(session, command);
    session
        .wait_for(TURN, |s| !s.contains(EDITOR_MARK))
        .unwrap_or_else(|screen| panic!("`:{command}` did not return to Claude:\n{screen}"));
    session.wait_for_text("❯", TURN).unwrap();
    std::thread::sleep(Duration::from_millis(500));
}

/// The latest request the stand-in got that satisfies `pred`, waiting for it.
pub fn wait_request(env: &TestEnv, what: &str, pred: impl Fn(&Recorded) -> bool) -> Recorded {
    wait_until(TURN, || {
        env.standin.requests().into_iter().rev().find(|r| pred(r))
    })
    .unwrap_or_else(|| {
        panic!(
            "no request {what}; got {} requests",
            env.standin.requests().len()
        )
    })
}

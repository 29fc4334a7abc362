//! End to end, what a newcomer meets first with the real Claude Code (pinned) and the stand-in
//! API: ccx's hooks stay invisible after `:compact`, and on exit ccx adds its own
//! `ccx --resume <id>` line after Claude's, which really resumes the conversation recorded, on
//! the branch that carries it.

mod support;

use support::ccx::{
    ask, ask_for, close_editor, command_says, exit_cleanly, log_json, meta_switch, open_editor,
    session_with_turns, start_ccx, wait_for_finished_turns, wait_request, EDITOR_MARK, QUICK, TURN,
};
use support::standin::Kind;
use support::{wait_until, TestEnv};

#[test]
fn compact_shows_no_line_from_ccx_hooks() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("explore it", "explored")]);
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
    exit_cleanly(&first);

    let second = start_ccx(&env, &[]);
    ask_for(&second, "second talk", "second answer");
    let turns = wait_for_finished_turns(&env, 2, &["--all"]);
    let second_turn = turns
        .iter()
        .find(|t| t["prompt"] == "second talk [[reply:second answer]]")
        .expect("the second conversation's turn")
        .clone();
    let branch = second_turn["branch"].as_str().unwrap().to_string();
    assert_eq!(branch, "session-2", "a second conversation's branch");
    let session_id = second_turn["session_id"].as_str().unwrap().to_string();

    exit_cleanly(&second);
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
    ask_for(&resumed, "after resume", "resumed answer");
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
    exit_cleanly(&resumed);
}

#[test]
fn a_lone_typo_of_a_subcommand_is_refused_without_a_terminal() {
    let env = TestEnv::new();
    let out = support::ccx::ccx(&env, &["logg"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("did you mean `ccx log`? [y/N/send to Claude]"),
        "{stderr}"
    );
    assert!(env.standin.requests().is_empty(), "Claude was not started");
    assert!(log_json(&env, &["--all"]).is_empty());

    // A prompt of several words, or a word far from every subcommand, still goes to Claude.
    let out = support::ccx::ccx(&env, &["-p", "logg [[reply:as a prompt]]"]);
    assert!(support::stdout_of_success(&out).contains("as a prompt"));
}

#[test]
fn a_missing_claude_path_says_no_executable_there() {
    let env = TestEnv::new();
    let out = support::ccx::ccx(&env, &["--ccx-claude", "/nonexistent/claude", "-p", "hi"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.trim(), "ccx: no executable there: /nonexistent/claude");
}

#[test]
fn listings_of_every_project_name_the_project_and_tree_ends_its_line() {
    let env = TestEnv::new();
    let out = support::ccx::ccx(&env, &["-p", "find the walrus [[reply:walrus found]]"]);
    support::stdout_of_success(&out);
    wait_for_finished_turns(&env, 1, &[]);
    let project = env.project.display().to_string();
    for args in [&["search", "walrus", "--all"][..], &["log", "--all"][..]] {
        let out = support::ccx::ccx(&env, args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text.lines().next(),
            Some(project.as_str()),
            "{args:?}: {text}"
        );
    }
    let tree = support::ccx::ccx(&env, &["tree"]);
    let text = String::from_utf8_lossy(&tree.stdout);
    assert!(
        text.starts_with("* main") && text.ends_with('\n'),
        "{text:?}"
    );
    let show = support::ccx::ccx(&env, &["show", "nope"]);
    assert_eq!(
        String::from_utf8_lossy(&show.stderr).trim(),
        "ccx: no turn or branch 'nope'"
    );
}

#[test]
fn footer_and_editor_agree_on_the_running_turn() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("first", "first done")]);
    session.type_and_submit("second [[sleep:20000]] [[reply:second done]]");
    // While the second turn runs, the footer catches up with the turn ccx recorded.
    session
        .wait_for(QUICK, |s| s.contains("ccx · main · #2"))
        .unwrap_or_else(|screen| panic!("the footer did not reach #2:\n{screen}"));
    open_editor(&session);
    let screen = session.screen();
    let header = screen
        .lines()
        .find(|l| l.contains(EDITOR_MARK))
        .expect("the editor's header");
    assert!(header.contains("ccx · main · #2"), "{header}");
    close_editor(&session);
}

#[test]
fn a_two_word_branch_name_is_explained() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("start", "started")]);
    open_editor(&session);
    command_says(
        &session,
        "branch bad name",
        "no turn or branch 'name': a branch name is one word (`:branch bad-name [TURN]`)",
    );
    close_editor(&session);
}

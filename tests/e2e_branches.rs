//! End to end: branches with the real Claude Code (pinned) and the stand-in API — rewind with
//! a lesson, checkout, rebuilding a branch after Claude deleted its transcripts, code
//! snapshots restored with `--code` (and undone), and `:delete` asking first.

mod support;

use serde_json::Value;
use support::ccx::{
    ask, ask_for, assert_opens_a_fresh_branch, ccx, meta_switch, prompts, session_with_turns,
    start_ccx, tree, turn_with, wait_for_finished_turns, wait_request, EDITOR_MARK, QUICK, TURN,
};
use support::{wait_until, TestEnv};

/// Three turns on main, to rewind among.
const THREE_EXCHANGES: [(&str, &str); 3] = [
    ("first question", "first answer"),
    ("second question", "second answer"),
    ("third question", "third answer"),
];

/// A turn the branches share, then one only main holds.
const SHARED_THEN_MAIN: [(&str, &str); 2] = [
    ("shared start", "shared reply"),
    ("main path", "main outcome"),
];

/// The last main request whose prompt contains `needle`.
fn last_request_with(env: &TestEnv, needle: &str) -> support::Recorded {
    wait_request(env, needle, |r| r.main && r.user_text.contains(needle))
}

#[test]
fn rewind_checkout_and_rebuild_after_transcripts_are_gone() {
    let env = TestEnv::new();
    let (session, turns) = session_with_turns(&env, &THREE_EXCHANGES);
    let first_id = turns[0]["id"].as_u64().unwrap();

    // Rewind to the first turn with a lesson.
    meta_switch(
        &session,
        &format!("rewind {first_id} -- use approach B [[reply:went with B]]"),
    );
    session.wait_for_text("● went with B", TURN).unwrap();
    let request = last_request_with(&env, "use approach B");
    assert!(
        request.history_contains("first question"),
        "the fork keeps the first turn"
    );
    assert!(
        !request.history_contains("second question"),
        "but not the second"
    );
    assert!(!request.history_contains("third question"), "nor the third");

    let branches = tree(&env);
    let fork = branches
        .iter()
        .find(|b| b["name"] != "main")
        .expect("a new branch")
        .clone();
    assert_eq!(fork["fork_turn"], first_id);
    assert_eq!(fork["parent_branch"], "main");
    let fork_name = fork["name"].as_str().unwrap().to_string();
    assert_eq!(fork_name, format!("main-r{first_id}"), "the rewind's name");
    assert!(branches.iter().any(|b| b["name"] == "main"), "main is kept");

    // Back to main: the whole conversation, without the lesson.
    meta_switch(&session, "checkout main");
    ask(&session, "back on main [[reply:main again]]", "main again");
    let request = last_request_with(&env, "back on main");
    for earlier in ["first question", "second question", "third question"] {
        assert!(
            request.history_contains(earlier),
            "main's request holds {earlier:?}"
        );
    }
    assert!(!request.history_contains("use approach B"));

    // Claude Code deletes its transcripts after a while: ccx rebuilds the branch from its log.
    env.remove_transcripts();
    meta_switch(&session, &format!("checkout {fork_name}"));
    ask_for(&session, "after deletion", "still there");
    let request = last_request_with(&env, "after deletion");
    assert!(request.history_contains("first question"));
    assert!(request.history_contains("use approach B"));
    assert!(!request.history_contains("second question"));

    // The log holds every turn, on the right branches (a turn is stored once Claude's
    // transcript shows its prompt, a moment after the request).
    let fork_log: Vec<Value> = wait_until(TURN, || {
        let log = support::ccx::log_json(&env, &["--branch", &fork_name]);
        (log.len() >= 3).then_some(log)
    })
    .unwrap_or_else(|| support::ccx::log_json(&env, &["--branch", &fork_name]));
    assert_eq!(
        prompts(&fork_log),
        [
            "first question [[reply:first answer]]",
            "use approach B [[reply:went with B]]",
            "after deletion [[reply:still there]]"
        ]
    );
}

#[test]
fn code_snapshots_restore_files_and_the_restore_can_be_undone() {
    let env = TestEnv::new();
    let git = |args: &[&str]| support::git(&env.project, args);
    git(&["init", "-q"]);
    let notes = env.project.join("notes.txt");
    let session = start_ccx(&env, &["--permission-mode", "acceptEdits"]);
    ask(
        &session,
        &format!("[[write:{}:version one]]", notes.display()),
        "wrote",
    );
    wait_for_finished_turns(&env, 1, &[]);
    ask(
        &session,
        &format!("[[write:{}:version two]] again", notes.display()),
        "wrote",
    );
    let turns = wait_for_finished_turns(&env, 2, &[]);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "version two");
    assert!(
        turns[0]["snapshot"].is_string(),
        "turns record a snapshot: {turns:#?}"
    );
    assert!(
        turns[0]["snapshot"] != turns[1]["snapshot"],
        "each turn's own: {turns:#?}"
    );
    assert!(turns[0]["files"].to_string().contains("notes.txt"));
    let status_before = git(&["status", "--porcelain"]);

    meta_switch(&session, &format!("rewind {} --code", turns[0]["id"]));
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "version one",
        "--code restored the file"
    );
    assert_eq!(
        git(&["status", "--porcelain"]),
        status_before,
        "the index and branch are untouched"
    );

    assert_eq!(
        git(&["for-each-ref", "refs/ccx/"]),
        "",
        "snapshots live in ccx's side repository, never under the person's refs"
    );

    // The restore is a move in the history, with the file it changed; :undo returns to the
    // branch the rewind left and puts "version two" back.
    let out = ccx(&env, &["history"]);
    let history = String::from_utf8_lossy(&out.stdout);
    assert!(
        history.contains("rewind") && history.contains("[1 files]"),
        "{history}"
    );
    let before_rewind = last_request_with(&env, "again").session_id;
    meta_switch(&session, "undo");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "version two");
    ask(
        &session,
        "after the undo [[reply:back where I was]]",
        "back where I was",
    );
    let request = last_request_with(&env, "after the undo");
    assert!(
        request.history_contains("again"),
        "the conversation holds turn 2 again"
    );
    assert_eq!(request.session_id, before_rewind, "the same Claude session");
}

#[test]
fn delete_asks_first_and_never_deletes_the_current_branch() {
    let env = TestEnv::new();
    let (session, turns) =
        session_with_turns(&env, &[("one", "answer one"), ("two", "answer two")]);
    meta_switch(&session, &format!("branch side {}", turns[0]["id"]));

    session.send(b":");
    session.wait_for_text(EDITOR_MARK, QUICK).unwrap();
    session.type_text("delete side");
    session.send(b"\r");
    session.wait_for_text("the current branch", QUICK).unwrap();
    session.type_text("delete main");
    session.send(b"\r");
    session.wait_for_text("[y/N]", QUICK).unwrap();
    session.send(b"n");
    session.wait_for_text("kept main", QUICK).unwrap();
    assert_eq!(tree(&env).len(), 2, "nothing deleted");
    session.send(b"\x1b");
    session
        .wait_for(QUICK, |s| !s.contains(EDITOR_MARK))
        .unwrap();

    // Confirmed, on another branch: gone, with the turns only it held; shared turns stay.
    meta_switch(&session, "checkout main");
    session.send(b":");
    session.wait_for_text(EDITOR_MARK, QUICK).unwrap();
    session.type_text("delete side");
    session.send(b"\r");
    session.wait_for_text("[y/N]", QUICK).unwrap();
    session.send(b"y");
    session.wait_for_text("deleted side", QUICK).unwrap();
    let names: Vec<Value> = tree(&env).iter().map(|b| b["name"].clone()).collect();
    assert_eq!(names, ["main"]);
    assert_eq!(
        support::ccx::log_json(&env, &["--branch", "main"]).len(),
        2,
        "main's turns are kept"
    );
}

#[test]
fn replay_sends_the_branchs_prompts_one_turn_at_a_time_into_a_fresh_session() {
    let env = TestEnv::new();
    let (session, _) =
        session_with_turns(&env, &[("step one", "one done"), ("step two", "two done")]);
    let before = env.standin.main_requests().len();

    meta_switch(&session, "replay main");
    let replayed = wait_until(TURN, || {
        // The branch appears with its first replayed turn: poll the whole log until then.
        let turns: Vec<Value> = support::ccx::log_json(&env, &["--all"])
            .into_iter()
            .filter(|t| t["branch"] == "main-replay")
            .collect();
        (turns.iter().filter(|t| !t["ended_at"].is_null()).count() == 2).then_some(turns)
    })
    .expect("both turns replayed and recorded");
    assert!(
        replayed.iter().all(|t| t["kind"] == "replay"),
        "{replayed:#?}"
    );
    assert_eq!(replayed[0]["prompt"], "step one [[reply:one done]]");
    assert_eq!(replayed[1]["prompt"], "step two [[reply:two done]]");
    assert!(replayed[0]["parent"].is_null(), "a fresh session");

    let requests: Vec<_> = env
        .standin
        .main_requests()
        .into_iter()
        .skip(before)
        .collect();
    let texts: Vec<&str> = requests.iter().map(|r| r.user_text.as_str()).collect();
    assert_eq!(
        texts,
        ["step one [[reply:one done]]", "step two [[reply:two done]]"],
        "same prompts, same order"
    );
    assert!(
        !requests[0].history_contains("two done"),
        "the first replayed request starts clean"
    );
    assert!(
        requests[1].history_contains("one done"),
        "one turn at a time"
    );
}

#[test]
fn diff_and_export_in_the_editor() {
    let env = TestEnv::new();
    let (session, turns) = session_with_turns(&env, &SHARED_THEN_MAIN);
    meta_switch(&session, &format!("branch side {}", turns[0]["id"]));
    ask(&session, "side path [[reply:side outcome]]", "side outcome");
    wait_for_finished_turns(&env, 3, &["--all"]);

    session.send(b":");
    session.wait_for_text(EDITOR_MARK, QUICK).unwrap();
    session.type_text("diff main side");
    session.send(b"\r");
    session.wait_for_text("side outcome", QUICK).unwrap();
    assert!(
        session.screen().contains("main outcome"),
        "{}",
        session.screen()
    );

    session.type_text("export main");
    session.send(b"\r");
    session
        .wait_for_text("wrote 2 turns of main", QUICK)
        .unwrap();
    let exported = std::fs::read_to_string(env.project.join("main.md")).unwrap();
    let first = exported.find("shared start").expect("first prompt");
    let second = exported.find("main path").expect("second prompt");
    assert!(first < second && exported.contains("main outcome"));
    assert!(!exported.contains("side path"));

    // Exporting again asks before overwriting; "n" keeps the file.
    std::fs::write(env.project.join("main.md"), "mine").unwrap();
    session.type_text("export main");
    session.send(b"\r");
    session.wait_for_text("overwrite it? [y/N]", QUICK).unwrap();
    session.send(b"n");
    session.wait_for_text("as it was", QUICK).unwrap();
    assert_eq!(
        std::fs::read_to_string(env.project.join("main.md")).unwrap(),
        "mine"
    );
    session.send(b"\x1b");
}

#[test]
fn clear_starts_a_fresh_session_and_rename_follows_the_current_branch() {
    let env = TestEnv::new();
    let (session, _) = session_with_turns(&env, &[("old context", "old reply")]);

    meta_switch(&session, "clear");
    ask(&session, "fresh start [[reply:fresh reply]]", "fresh reply");
    let request = wait_request(&env, "in the fresh session", |r| {
        r.main && r.user_text.contains("fresh start")
    });
    assert!(
        !request.history_contains("old context"),
        "a fresh session has none of the old one"
    );
    let turns = wait_for_finished_turns(&env, 2, &["--all"]);
    let fresh = turn_with(&turns, "fresh start [[reply:fresh reply]]");
    assert_opens_a_fresh_branch(&fresh);
    let fresh_branch = fresh["branch"].as_str().unwrap().to_string();

    support::ccx::meta(&session, &format!("rename {fresh_branch} clean-slate"));
    session
        .wait_for_text(&format!("renamed {fresh_branch} to clean-slate"), QUICK)
        .unwrap();
    support::ccx::close_editor(&session);
    // The next turn of this session lands on the renamed branch.
    ask_for(&session, "after rename", "renamed reply");
    let log = wait_until(TURN, || {
        let turns = support::ccx::log_json(&env, &["--branch", "clean-slate"]);
        (turns.len() == 2 && !turns[1]["ended_at"].is_null()).then_some(turns)
    })
    .expect("both turns on clean-slate");
    assert_eq!(log[1]["prompt"], "after rename [[reply:renamed reply]]");
    assert_eq!(log[1]["parent"], log[0]["id"]);
    assert!(tree(&env)
        .iter()
        .all(|b| b["name"] != fresh_branch.as_str()));
}

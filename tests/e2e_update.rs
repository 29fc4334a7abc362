//! End to end: Claude Code updated under a running ccx. The person's `claude` is a link that
//! the update repoints (npm puts a new file under the same path; the native installer repoints
//! a link): the running claude goes on, and the next restart (`:branch`) starts the new
//! version, whose transcript continues the old version's in one branch.
//!
//! The session starts on the pinned version and is updated to the version under test
//! (`$CCX_TEST_CLAUDE_VERSION`); when those are the same, the new one still differs by the
//! wrapper it runs through, which leaves a mark.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;
use support::ccx::{
    ask, ask_for, exit_cleanly, log_json, meta_switch, prompts, start_ccx, wait_for_finished_turns,
    TURN,
};
use support::harness::{children_of, pinned_claude_path};
use support::{claude_path, wait_until, TestEnv};

/// The executable a process runs, resolved.
fn exe_of(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// The claude running under ccx (pid `ccx`) from `exe`, waiting for it to be there.
fn claude_running(ccx: u32, exe: &Path) -> u32 {
    let exe = exe.canonicalize().unwrap();
    wait_until(TURN, || {
        children_of(ccx)
            .into_iter()
            .find(|&pid| exe_of(pid).as_deref() == Some(exe.as_path()))
    })
    .unwrap_or_else(|| {
        let running: Vec<_> = children_of(ccx)
            .into_iter()
            .map(|pid| (pid, exe_of(pid)))
            .collect();
        panic!(
            "no claude from {} under ccx; children: {running:?}",
            exe.display()
        )
    })
}

/// `claude --version`'s number ("2.1.330 (Claude Code)" -> "2.1.330").
fn version_of(env: &TestEnv, exe: &Path) -> String {
    let out = env.command(exe).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_update_under_a_running_session_is_used_at_the_next_branch() {
    let mut env = TestEnv::new();
    let (old_exe, new_exe) = (pinned_claude_path(), claude_path());
    let (old_version, new_version) = (version_of(&env, &old_exe), version_of(&env, &new_exe));
    let bin = env.scratch.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join("claude");
    std::os::unix::fs::symlink(&old_exe, &link).unwrap();
    let mark = env.scratch.join("new-claude-ran");
    let wrapper = support::harness::write_script(
        &bin,
        "claude-updated",
        &format!(
            "echo \"$$\" >> '{}'\nexec '{}' \"$@\"",
            mark.display(),
            new_exe.display()
        ),
    );
    env.set_var("CCX_CLAUDE", link.to_str().unwrap());

    let session = start_ccx(&env, &[]);
    claude_running(session.pid(), &old_exe);
    ask_for(&session, "before the update", "old answer");
    ask_for(&session, "second before", "second old answer");
    let turns = wait_for_finished_turns(&env, 2, &[]);
    let first_id = turns[0]["id"].as_u64().unwrap();
    let old_session = turns[0]["session_id"].as_str().unwrap().to_string();

    // The update: a new link renamed over the old one, as an installer swaps it.
    let swapped = bin.join("claude.new");
    std::os::unix::fs::symlink(&wrapper, &swapped).unwrap();
    std::fs::rename(&swapped, &link).unwrap();
    // The running claude is untouched by it.
    ask_for(&session, "after the update", "still the old one");
    assert!(!mark.exists(), "nothing restarted claude yet");

    meta_switch(&session, &format!("branch updated {first_id}"));
    let new_pid = claude_running(session.pid(), &new_exe);
    assert!(mark.exists(), "the restart went through the updated link");
    ask(
        &session,
        "on the new version [[reply:new answer]] [[usage:43210]]",
        "new answer",
    );

    // The request the new version sent holds the fork's history only.
    let request = support::ccx::wait_request(&env, "on the new version", |r| {
        r.main && r.user_text.contains("on the new version")
    });
    assert!(request.history_contains("before the update"));
    assert!(!request.history_contains("second before"));

    // One branch, both versions: the old version's turn and the new version's, each exact.
    let branch = wait_until(TURN, || {
        let turns = log_json(&env, &["--branch", "updated"]);
        turns
            .iter()
            .all(|t| !t["ended_at"].is_null())
            .then_some(turns)
            .filter(|t| t.len() == 2)
    })
    .unwrap_or_else(|| panic!("{:#?}", log_json(&env, &["--branch", "updated"])));
    assert_eq!(
        prompts(&branch),
        [
            "before the update [[reply:old answer]]",
            "on the new version [[reply:new answer]] [[usage:43210]]"
        ]
    );
    assert_eq!(branch[1]["reply"], "new answer");
    assert_eq!(branch[1]["context_tokens"], 43210);
    assert_eq!(branch[1]["parent"], first_id);
    let new_session = branch[1]["session_id"].as_str().unwrap().to_string();
    assert_ne!(new_session, old_session);
    let versions = |session: &str| -> Vec<String> {
        env.transcript_lines(session)
            .iter()
            .filter_map(|l| l["version"].as_str().map(str::to_string))
            .collect()
    };
    let old_lines = versions(&old_session);
    assert!(
        !old_lines.is_empty() && old_lines.iter().all(|v| *v == old_version),
        "the old session ran {old_version}: {old_lines:?}"
    );
    assert!(
        versions(&new_session).last() == Some(&new_version),
        "the new session's last lines come from {new_version}: {:?}",
        versions(&new_session)
    );

    exit_cleanly(&session);
    assert!(
        wait_until(Duration::from_secs(10), || (!support::pid_alive(new_pid))
            .then_some(()))
        .is_some(),
        "the new claude ended with ccx"
    );
}

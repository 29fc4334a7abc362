//! The newcomer's path on a machine with Rust, npm and git and nothing else: a private HOME,
//! a private CARGO_HOME (its bin folder holds only the rustup proxies; the crate registry is
//! shared as a cache), PATH with only that and the system folders, and a scratch project.
//! `git clone` of this repository inside the project, then `ccx-repo/scripts/run.sh` must end
//! in Claude's prompt inside the project (not the clone) with the build shown; afterwards a
//! new shell finds `ccx` on PATH, `ccx log` shows the turn and `ccx doctor` is all green.
//!
//! Slow (a release build from scratch), so `#[ignore]`d: `scripts/test.sh --slow` runs it.
//! Claude Code is installed by npm from npm's own cache (offline), so no network is used.

mod support;

use std::path::Path;
use std::time::Duration;
use support::{output_with_timeout, stdout_of_success, PtySession, TestEnv};

/// A release build from scratch on a loaded 2-core machine.
const BUILD: Duration = Duration::from_secs(40 * 60);

fn link(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|e| panic!("link {}: {e}", link.display()));
}

#[test]
#[ignore = "slow: a release build in a fresh clone; run by scripts/test.sh --slow"]
fn clone_then_run_sh_ends_in_a_recorded_claude() {
    let env = TestEnv::new();
    let real_home = std::env::var("HOME").unwrap();
    let real_cargo = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{real_home}/.cargo"));
    let rustup = Path::new(&real_cargo).join("bin/rustup");
    let cargo_home = env.root().join("cargo");
    std::fs::create_dir_all(cargo_home.join("bin")).unwrap();
    for tool in ["cargo", "rustc", "rustup"] {
        link(&rustup, &cargo_home.join("bin").join(tool));
    }
    link(
        &Path::new(&real_cargo).join("registry"),
        &cargo_home.join("registry"),
    );
    let real_npm_cache = format!("{real_home}/.npm");
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        cargo_home.join("bin").display()
    );

    let mut vars: Vec<(String, String)> = env
        .vars()
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "CCX_CLAUDE" | "CCX_DATA_DIR" | "PATH" | "CARGO_HOME"
            )
        })
        .collect();
    vars.push(("PATH".into(), path));
    vars.push(("CARGO_HOME".into(), cargo_home.display().to_string()));
    vars.push(("npm_config_cache".into(), real_npm_cache));
    vars.push(("npm_config_offline".into(), "true".into()));

    let repo = env!("CARGO_MANIFEST_DIR");
    let mut clone = std::process::Command::new("git");
    clone
        .args(["clone", "--quiet", repo, "ccx-repo"])
        .current_dir(&env.project)
        .env_clear()
        .envs(vars.iter().cloned());
    let out = output_with_timeout(&mut clone, Duration::from_secs(120)).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let run = PtySession::spawn_as(
        support::terminal::Personality::from_env(),
        env.project.join("ccx-repo/scripts/run.sh"),
        &[],
        &vars,
        &env.project,
        120,
        40,
    );
    run.wait_for_text("building ccx", Duration::from_secs(60))
        .unwrap();
    // `error:` and `error[`, not `thiserror` in cargo's progress.
    run.wait_for(BUILD, |s| {
        s.contains("❯") || s.contains("error:") || s.contains("error[")
    })
    .unwrap_or_else(|screen| panic!("no Claude prompt after the build:\n{screen}"));
    let raw = String::from_utf8_lossy(&run.raw_output()).into_owned();
    assert!(
        raw.contains("Compiling"),
        "cargo's progress is shown:\n{raw}"
    );
    assert!(raw.contains("installing Claude Code 2.1.330"), "{raw}");
    assert!(raw.contains("linked "), "{raw}");
    let screen = run.screen();
    assert!(screen.contains("❯"), "{screen}");
    let project = env.project.display().to_string();
    assert!(
        screen.contains(&project) && !screen.contains("ccx-repo"),
        "Claude runs in the project:\n{screen}"
    );
    std::thread::sleep(Duration::from_millis(500));
    support::ccx::ask(
        &run,
        "hello from a fresh clone [[reply:welcome]]",
        "welcome",
    );
    run.type_and_submit("/exit");
    assert_eq!(run.wait_exit(Duration::from_secs(60)), Some(0));

    // A new shell: `ccx` is on PATH, finds the Claude Code run.sh installed, and the turn is there.
    let shell = |script: &str| {
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["-c", script])
            .current_dir(&env.project)
            .env_clear()
            .envs(vars.iter().cloned());
        output_with_timeout(&mut cmd, Duration::from_secs(120)).unwrap()
    };
    let text = stdout_of_success(&shell("ccx log"));
    assert!(text.contains("hello from a fresh clone"), "{text}");
    let doctor = shell("ccx doctor");
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.status.success(), "ccx doctor:\n{text}");
    assert!(!text.contains("BAD"), "{text}");
    assert!(text.contains("2.1.330"), "{text}");
}

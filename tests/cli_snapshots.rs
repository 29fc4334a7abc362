//! Snapshots of what ccx prints about itself: `ccx --help` (ccx's part, then the pinned
//! Claude Code's), `ccx help log`, `ccx --version`, and the completion scripts for bash, zsh
//! and fish. Each is compared with a plain file under `tests/snapshots/` (the completion scripts
//! as `completions.<shell>.snap`: data, not source); run with
//! `UPDATE_SNAPSHOTS=1` to rewrite them after a deliberate change, and read the diff.

mod support;

use std::path::PathBuf;
use std::time::Duration;
use support::{output_with_timeout, TestEnv};

/// ccx's output for `args`, with fixed data and config paths so the text does not depend on
/// where the test runs.
fn ccx_output(env: &TestEnv, args: &[&str]) -> String {
    let mut cmd = env.command(support::ccx_path());
    cmd.args(args)
        .env("CCX_DATA_DIR", "/data/ccx")
        .env("XDG_CONFIG_HOME", "/config");
    let out = output_with_timeout(&mut cmd, Duration::from_secs(60)).expect("ccx finished");
    assert!(
        out.status.success(),
        "ccx {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header("expected", "actual")
            .to_string();
        panic!("{name} differs from its snapshot (UPDATE_SNAPSHOTS=1 rewrites it):\n{diff}");
    }
}

#[test]
fn help_shows_ccx_then_claude() {
    let env = TestEnv::new();
    let text = ccx_output(&env, &["--help"]);
    assert!(text.starts_with("Claude Code with a turn log"), "{text}");
    let ccx_part = text.find("ccx [--ccx-claude PATH] [CLAUDE ARGS]").unwrap();
    let claude_part = text.find("Usage: claude [options]").unwrap();
    assert!(ccx_part < claude_part, "ccx's part comes first");
    assert_eq!(ccx_output(&env, &["-h"]), text, "-h is the same");
    check("help.txt", &text);
}

#[test]
fn help_without_claude_says_it_is_missing() {
    let env = TestEnv::new();
    // ccx with no Claude Code on PATH nor in $CCX_CLAUDE.
    let without_claude = |arg: &str| {
        let mut cmd = env.command(support::ccx_path());
        cmd.arg(arg)
            .env("CCX_DATA_DIR", "/data/ccx")
            .env("PATH", "/usr/bin:/bin")
            .env_remove("CCX_CLAUDE");
        output_with_timeout(&mut cmd, Duration::from_secs(60)).unwrap()
    };
    let out = without_claude("--help");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("Meta-commands"), "{text}");
    assert!(text.contains("Claude Code is missing"), "{text}");

    let out = without_claude("--version");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!(
            "ccx {} (Claude Code missing: cannot find Claude Code",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
}

#[test]
fn help_for_a_subcommand_and_the_whole_usage() {
    let env = TestEnv::new();
    check("help_log.txt", &ccx_output(&env, &["help", "log"]));
    let usage = ccx_output(&env, &["help"]);
    for part in [
        "ccx [--ccx-claude PATH] [CLAUDE ARGS]",
        ":rewind",
        "Data:",
        "Config:",
    ] {
        assert!(usage.contains(part), "{part} missing in:\n{usage}");
    }
    let meta = ccx_output(&env, &["help", ":rewind"]);
    assert!(
        meta.starts_with(":rewind [TURN] [--code] [-- PROMPT]"),
        "{meta}"
    );
}

#[test]
fn version_names_both() {
    let env = TestEnv::new();
    let text = ccx_output(&env, &["--version"]);
    assert_eq!(ccx_output(&env, &["-V"]), text);
    assert_eq!(ccx_output(&env, &["-v"]), text);
    check("version.txt", &text);
}

#[test]
fn completion_scripts() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = ccx_output(&env, &["completions", shell]);
        assert!(script.contains("replay"), "{shell}: {script}");
        check(&format!("completions.{shell}.snap"), &script);
    }
    let zsh = ccx_output(&env, &["completions", "zsh"]);
    assert!(zsh.contains(":rewind"), "meta-commands for `ccx help`");
    let man = ccx_output(&env, &["man"]);
    assert!(man.contains(".TH ccx 1"), "{man}");
}

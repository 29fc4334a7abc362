//! A hand-testing sandbox, not a test: `scripts/sandbox.sh` runs it (ignored by default) to get
//! the stand-in Messages API and a private HOME/project like the end-to-end tests use, so a
//! person can drive ccx in tmux offline. It writes `env.sh` (the variables to source) into
//! `$CCX_SANDBOX_DIR` and serves until that folder's `stop` file appears or
//! `$CCX_SANDBOX_SECONDS` (default 1800) pass.

mod support;

use std::time::{Duration, Instant};
use support::TestEnv;

#[test]
#[ignore = "a sandbox for hand tests; run through scripts/sandbox.sh"]
fn sandbox() {
    let Ok(dir) = std::env::var("CCX_SANDBOX_DIR") else {
        panic!("CCX_SANDBOX_DIR is not set; use scripts/sandbox.sh");
    };
    let dir = std::path::PathBuf::from(dir);
    let seconds: u64 = std::env::var("CCX_SANDBOX_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1800);
    let env = TestEnv::new();
    let quote = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
    let mut script = String::new();
    for (key, value) in env.vars() {
        script.push_str(&format!("export {key}={}\n", quote(&value)));
    }
    script.push_str(&format!(
        "export CCX_SANDBOX_PROJECT={}\n",
        quote(&env.project.to_string_lossy())
    ));
    std::fs::write(dir.join("env.sh.tmp"), script).expect("write env.sh");
    std::fs::rename(dir.join("env.sh.tmp"), dir.join("env.sh")).expect("publish env.sh");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline && !dir.join("stop").exists() {
        std::thread::sleep(Duration::from_millis(200));
    }
}

//! Scratch probe (not committed): holds a stand-in and env open for manual tmux driving.
mod support;
use std::time::{Duration, Instant};
use support::TestEnv;

#[test]
#[ignore]
fn hold_env() {
    let env = TestEnv::new();
    let mut script = String::new();
    for (k, v) in env.vars() {
        script.push_str(&format!("export {k}='{v}'\n"));
    }
    script.push_str(&format!("cd '{}'\n", env.project.display()));
    script.push_str(&format!("export PROBE_HOME='{}'\n", env.home.display()));
    std::fs::write("/tmp/p13/env.sh", script).unwrap();
    let stop = std::path::Path::new("/tmp/p13/stop");
    let deadline = Instant::now() + Duration::from_secs(3000);
    while !stop.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1000));
        dump(&env);
    }
}
fn dump(env: &TestEnv) {
    let reqs = env.standin.requests();
    let mut out = String::new();
    for r in reqs {
        out.push_str(&format!(
            "{:?} main={} user_text={:?} msgs={:?}\n\n",
            r.kind,
            r.main,
            r.user_text,
            r.message_texts()
        ));
    }
    std::fs::write("/tmp/p13/requests.txt", out).unwrap();
}

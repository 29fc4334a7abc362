//! Fault suite: ccx under kill -9 at random moments, a crashing claude, SIGTERM/SIGHUP, a
//! transcript deleted or garbled under it, a flood of hostile hook messages, and a full disk.
//! Real Claude Code through the harness (like tests/e2e_core.rs) wherever a turn is needed;
//! small shell scripts standing in for claude where only its exit matters.
//!
//! Runs of the kill -9 test: `CCX_FAULT_RUNS` (default 10; 30 when unset and
//! `CCX_FULL_FAULTS=1`). Seeds are printed; `CCX_FAULT_SEED` replays one sequence.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::ccx::{
    ask, ask_for, ccx, exit_cleanly, log_json, session_with_turns, start_ccx,
    wait_for_finished_turns, TURN,
};
use support::harness::{children_of, write_script};
use support::{ccx_path, pid_alive, wait_until, PtySession, TestEnv};

/// A small deterministic PRNG (xorshift64*), seeded per run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn fault_runs() -> u64 {
    match std::env::var("CCX_FAULT_RUNS") {
        Ok(v) => v.parse().expect("CCX_FAULT_RUNS is a number"),
        Err(_) if std::env::var("CCX_FULL_FAULTS").as_deref() == Ok("1") => 30,
        Err(_) => 10,
    }
}

/// Waits up to 20 s for every pid to go; kills leftovers and returns them.
fn leftovers(pids: &[u32]) -> Vec<u32> {
    let mut left = Vec::new();
    for &pid in pids {
        let gone = wait_until(Duration::from_secs(20), || (!pid_alive(pid)).then_some(()));
        if gone.is_none() {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            left.push(pid);
        }
    }
    left
}

#[test]
fn kill_9_at_random_moments_keeps_every_finished_turn() {
    let runs = fault_runs();
    let base: u64 = std::env::var("CCX_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("kill -9 suite: {runs} runs, CCX_FAULT_SEED={base}");
    // One project across all runs: each run's ccx opens the store the previous one was killed
    // holding, so damage would accumulate and show.
    let env = TestEnv::new();
    // prompt -> reply of every turn sent, for checking what the log holds.
    let mut sent: Vec<(String, String)> = Vec::new();
    let mut seen_finished: Vec<(u64, String, String)> = Vec::new();
    let started = Instant::now();
    for run in 0..runs {
        let seed = base.wrapping_add(run);
        let mut rng = Rng::new(seed);
        let turns = 1 + rng.below(2);
        println!("run {run}: seed {seed}, {turns} turns");
        let session = start_ccx(&env, &[]);
        let mut kill_after = Duration::ZERO;
        for t in 0..turns {
            let sleep = rng.below(2500);
            let reply = format!("answer {run} {t} {seed}");
            let prompt = format!("run {run} turn {t} [[reply:{reply}]] [[sleep:{sleep}]]");
            sent.push((prompt.clone(), reply.clone()));
            if t + 1 < turns {
                ask(&session, &prompt, &reply);
            } else {
                session.type_and_submit(&prompt);
                // Somewhere from "just submitted" to "well after the reply".
                kill_after = Duration::from_millis(rng.below(sleep + 4000));
            }
        }
        std::thread::sleep(kill_after);
        // What had finished before the kill (as far as a reader could see).
        for t in log_json(&env, &["--all"]) {
            if !t["ended_at"].is_null() {
                let id = t["id"].as_u64().unwrap();
                if !seen_finished.iter().any(|(i, _, _)| *i == id) {
                    seen_finished.push((
                        id,
                        t["prompt"].as_str().unwrap().to_string(),
                        t["reply"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
        let claude_pids = children_of(session.pid());
        println!("run {run}: kill -9 after {kill_after:?} (claude pids {claude_pids:?})");
        session.kill_9();
        assert!(
            session.wait_exit(Duration::from_secs(20)).is_some(),
            "ccx did not die"
        );
        let left = leftovers(&claude_pids);
        assert!(
            left.is_empty(),
            "run {run} (seed {seed}): claude {left:?} outlived ccx"
        );

        // The store opens and every finished turn is intact.
        let log = log_json(&env, &["--all"]);
        for (id, prompt, reply) in &seen_finished {
            let turn = log
                .iter()
                .find(|t| t["id"].as_u64() == Some(*id))
                .unwrap_or_else(|| {
                    panic!("run {run} (seed {seed}): finished turn #{id} lost: {log:#?}")
                });
            assert_eq!(turn["prompt"], *prompt, "run {run} (seed {seed})");
            assert_eq!(turn["reply"], *reply, "run {run} (seed {seed})");
            assert!(!turn["ended_at"].is_null());
        }
        // A turn the kill cut off before its reply is finished at the next start as
        // interrupted, without one.
        for turn in log
            .iter()
            .filter(|t| !t["ended_at"].is_null() && t["interrupted"] != true)
        {
            let prompt = turn["prompt"].as_str().unwrap();
            let (_, reply) = sent
                .iter()
                .find(|(p, _)| p == prompt)
                .unwrap_or_else(|| panic!("run {run} (seed {seed}): unknown turn {turn:#}"));
            assert_eq!(turn["reply"], *reply, "run {run} (seed {seed}): {turn:#}");
        }
        drop(session);
    }
    println!(
        "kill -9 suite: {runs} runs in {:?}, {} finished turns checked",
        started.elapsed(),
        seen_finished.len()
    );
}

fn run_with_fake_claude(body: &str) -> (u32, String, TestEnv) {
    let mut env = TestEnv::new();
    let fake = write_script(&env.scratch, "fake-claude", body);
    env.set_var("CCX_CLAUDE", &fake.to_string_lossy());
    let session = PtySession::spawn(ccx_path(), &[], &env, 100, 30);
    let code = session
        .wait_exit(Duration::from_secs(60))
        .expect("ccx exits when claude does");
    // Everything ccx wrote before exiting has been read once the PTY reports end of output.
    wait_until(Duration::from_secs(10), || {
        session.output_closed().then_some(())
    });
    let screen = session.screen();
    drop(session);
    (code, screen, env)
}

#[test]
fn claude_exiting_3_makes_ccx_exit_3() {
    let (code, screen, env) = run_with_fake_claude("echo 'fake claude gives up'; exit 3");
    assert_eq!(code, 3, "screen:\n{screen}");
    assert!(screen.contains("fake claude gives up"), "{screen}");
    log_json(&env, &[]);
}

#[test]
fn claude_dying_of_sigsegv_makes_ccx_exit_139() {
    let (code, screen, env) = run_with_fake_claude("echo 'fake claude crashes'; kill -SEGV $$");
    assert_eq!(code, 139, "screen:\n{screen}");
    log_json(&env, &[]);
}

/// Runs ccx (with a claude that only sleeps) in the background of a shell in a PTY, sends it
/// `signal`, and checks the terminal settings are as before and the exit code.
fn signal_restores_terminal(signal: &str, expect_code: u32) {
    let mut env = TestEnv::new();
    let fake = write_script(&env.scratch, "fake-claude", "exec sleep 60");
    env.set_var("CCX_CLAUDE", &fake.to_string_lossy());
    let dir = env.scratch.display().to_string();
    let cmd = format!(
        "cd '{dir}'; stty -g > before; '{ccx}' </dev/tty & pid=$!; sleep 3; \
         stty -g > during; kill -{signal} $pid; wait $pid; echo \"code=$?\"; stty -g > after; \
         cmp before after && echo SAME-SETTINGS; sleep 1",
        ccx = ccx_path().display()
    );
    let session = PtySession::spawn("/bin/sh", &["-c", &cmd], &env, 100, 30);
    let code = session.wait_exit(Duration::from_secs(60));
    let text = String::from_utf8_lossy(&session.raw_output()).to_string();
    let before = std::fs::read_to_string(env.scratch.join("before")).unwrap_or_default();
    let after = std::fs::read_to_string(env.scratch.join("after")).unwrap_or_default();
    assert!(code.is_some(), "the shell finished: {text}");
    assert!(
        text.contains(&format!("code={expect_code}")),
        "ccx's exit code after SIG{signal}: {text:?}"
    );
    let during = std::fs::read_to_string(env.scratch.join("during")).unwrap_or_default();
    assert_ne!(
        before, during,
        "ccx had the terminal in raw mode (else this proves nothing)"
    );
    assert_eq!(before, after, "terminal settings after SIG{signal}");
    assert!(text.contains("SAME-SETTINGS"), "{text:?}");
    // The sleeping claude is gone too.
    let out = std::process::Command::new("pgrep")
        .args(["-f", &fake.to_string_lossy()])
        .output();
    if let Ok(out) = out {
        assert!(
            out.stdout.is_empty(),
            "fake claude still running: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn sigterm_restores_the_terminal_and_exits_143() {
    signal_restores_terminal("TERM", 143);
}

#[test]
fn sighup_restores_the_terminal_and_exits_129() {
    signal_restores_terminal("HUP", 129);
}

/// One turn, then `damage` the session's transcript, then another turn: ccx keeps running and
/// records it.
fn transcript_damaged_mid_session(what: &str, damage: impl Fn(&Path)) {
    let env = TestEnv::new();
    let (session, turns) = session_with_turns(&env, &[("before", "answer before")]);
    let session_id = turns[0]["session_id"].as_str().unwrap().to_string();
    let path = env
        .transcript_path(&session_id)
        .expect("the session's transcript");
    damage(&path);
    ask(&session, "after [[reply:answer after]]", "answer after");
    let turns = wait_for_finished_turns(&env, 2, &[]);
    assert_eq!(session.try_exit(), None, "{what}: ccx is still running");
    let after = turns
        .iter()
        .find(|t| t["prompt"] == "after [[reply:answer after]]")
        .unwrap_or_else(|| panic!("{what}: the turn after is recorded: {turns:#?}"));
    assert_eq!(after["reply"], "answer after", "{what}");
    let first = turns
        .iter()
        .find(|t| t["prompt"] == "before [[reply:answer before]]")
        .unwrap();
    assert_eq!(first["reply"], "answer before", "{what}");
    let out = ccx(&env, &["log"]);
    assert!(out.status.success(), "{what}: ccx log");
    session.type_and_submit("/exit");
    assert_eq!(session.wait_exit(TURN), Some(0), "{what}: clean exit");
}

#[test]
fn transcript_deleted_mid_session_is_survived() {
    transcript_damaged_mid_session("deleted", |p| std::fs::remove_file(p).unwrap());
}

#[test]
fn transcript_garbled_mid_session_is_survived() {
    transcript_damaged_mid_session("truncated and garbled", |p| {
        let text = std::fs::read(p).unwrap();
        let mut garbled = text[..text.len() / 2].to_vec();
        garbled
            .extend_from_slice(b"\x00\xff{\"type\":\"assistant\",\"message\":{\"content\":[{{{\n");
        garbled.extend((0..4096u32).map(|i| (i * 7919 % 251) as u8));
        garbled.extend_from_slice(b"\n{\"type\":\"user\",\"uuid\":123,\"message\":null}\n");
        std::fs::write(p, garbled).unwrap();
    });
}

/// The hook socket of the ccx with this pid.
fn hook_socket(env: &TestEnv, ccx_pid: u32) -> PathBuf {
    let runtime = env.runtime_dir();
    std::fs::read_dir(&runtime)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("run-{ccx_pid}-"))
        })
        .map(|e| e.path().join("hook.sock"))
        .expect("the running ccx's hook socket")
}

/// The hook secret from a claude process's environment (the test runs as the same user).
fn hook_secret(claude_pid: u32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{claude_pid}/environ")).ok()?;
    environ
        .split(|b| *b == 0)
        .filter_map(|kv| std::str::from_utf8(kv).ok())
        .find_map(|kv| kv.strip_prefix("CCX_HOOK_SECRET=").map(str::to_string))
}

fn send_raw(socket: &Path, bytes: &[u8]) {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return;
    };
    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
}

#[test]
fn a_flood_of_hostile_hook_messages_is_dropped_and_ccx_stays_responsive() {
    let env = TestEnv::new();
    let (session, turns) = session_with_turns(&env, &[("before flood", "pre flood")]);
    let own_session = turns[0]["session_id"].as_str().unwrap().to_string();
    let socket = hook_socket(&env, session.pid());
    let secret = children_of(session.pid()).into_iter().find_map(hook_secret);
    println!(
        "hook socket {}, secret known: {}",
        socket.display(),
        secret.is_some()
    );
    let log_path = env.data_dir.join("ccx.log");
    let log_before = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);

    const THREADS: usize = 4;
    const PER_THREAD: usize = 500;
    let deadline = Instant::now() + Duration::from_secs(180);
    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let socket = socket.clone();
            let secret = secret.clone();
            let own = own_session.clone();
            std::thread::spawn(move || {
                let mut rng = Rng::new(t as u64 + 99);
                let mut sent = 0;
                for i in 0..PER_THREAD {
                    if Instant::now() > deadline {
                        break;
                    }
                    let foreign = format!("foreign-{t}-{i}");
                    let line: Vec<u8> = match i % 5 {
                        // garbage
                        0 => (0..1 + rng.below(2000)).map(|_| rng.next() as u8).collect(),
                        // oversized: 40 MB (once per thread)
                        1 if i == 1 => vec![b'x'; 40 << 20],
                        // wrong secret, for ccx's own session
                        1 | 2 => serde_json::json!({"secret": "not-the-secret", "payload": {
                            "session_id": own, "hook_event_name": "UserPromptSubmit",
                            "prompt": "forged prompt", "transcript_path": "/dev/null"}})
                        .to_string()
                        .into_bytes(),
                        // valid-looking messages for sessions this ccx does not run (with the
                        // real secret when it is known)
                        _ => serde_json::json!({
                            "secret": secret.clone().unwrap_or_else(|| "guess".into()),
                            "payload": {
                                "session_id": foreign,
                                "hook_event_name": if i % 2 == 0 { "UserPromptSubmit" } else { "Stop" },
                                "prompt": "foreign prompt", "last_assistant_message": "foreign reply",
                                "transcript_path": "/dev/null", "cwd": "/"}})
                        .to_string()
                        .into_bytes(),
                    };
                    send_raw(&socket, &line);
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let sent: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    println!("sent {sent} hostile messages in {:?}", started.elapsed());
    assert!(sent >= 1000, "the flood was cut short: {sent}");

    // ccx is responsive: a real turn completes and is recorded.
    assert_eq!(session.try_exit(), None, "ccx survived the flood");
    ask(&session, "after flood [[reply:post flood]]", "post flood");
    let turns = wait_for_finished_turns(&env, 2, &[]);
    assert_eq!(turns.len(), 2, "nothing forged recorded: {turns:#?}");
    assert!(turns
        .iter()
        .all(|t| !t["prompt"].as_str().unwrap().contains("forged")
            && !t["prompt"].as_str().unwrap().contains("foreign")));
    assert_eq!(turns[1]["reply"], "post flood");

    // Drops were counted, and the diagnostic log stayed small.
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let most = text
        .lines()
        .filter_map(|l| l.split("dropped message #").nth(1))
        .filter_map(|r| r.split(':').next()?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let grown = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0) - log_before;
    println!("ccx.log grew {grown} bytes; highest drop count logged #{most}");
    assert!(most >= 1000, "drops counted: {text}");
    assert!(grown < 300 * 1024, "ccx.log grew {grown} bytes");
    exit_cleanly(&session);
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(at).unwrap();
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs(at.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fills the filesystem holding `dir` with a file; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if f.write_all(&block).is_err() {
            break;
        }
    }
    // Whatever fits in smaller pieces too.
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
    path
}

/// A full disk: the footer says so, Claude keeps running, and ccx exiting while the disk is
/// still full says what it could not save.
#[test]
fn a_full_disk_shows_in_the_footer_and_exit_says_what_was_not_saved() {
    full_disk(false);
}

/// A full disk, then space again: what happened meanwhile (kept in memory) is stored, ccx.log
/// said it once, and later turns are recorded.
#[test]
fn recording_resumes_once_a_full_disk_has_space_again() {
    full_disk(true);
}

/// How many lines of the data dir's ccx.log contain `needle`.
fn log_lines_with(data: &Path, needle: &str) -> usize {
    std::fs::read_to_string(data.join("ccx.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

fn full_disk(space_comes_back: bool) {
    let mut env = TestEnv::new();
    let data = env.root().join("tmpfs-data");
    let _mount = match Tmpfs::mount(&data, "16m") {
        Ok(m) => m,
        Err(e) => {
            println!("SKIPPED: cannot mount a tmpfs here ({e}); the full-disk test needs it");
            return;
        }
    };
    env.set_var("CCX_DATA_DIR", &data.to_string_lossy());
    let (session, _) = session_with_turns(&env, &[("stored first", "first kept")]);

    let filler = fill(&data);
    println!(
        "filled the data dir's tmpfs ({} bytes of filler)",
        std::fs::metadata(&filler).unwrap().len()
    );
    // The person still sees Claude's reply, the footer says recording stopped, and the
    // session goes on.
    ask_for(&session, "while full", "seen while full");
    session
        .wait_for_text("not recording: disk full", TURN)
        .unwrap_or_else(|screen| panic!("the footer does not say the disk is full:\n{screen}"));
    assert_eq!(session.try_exit(), None, "ccx keeps running on a full disk");

    if !space_comes_back {
        exit_cleanly(&session);
        // Claude may or may not have stored the prompt before the space ran out; the reply
        // came after, so it is named.
        let output = wait_until(Duration::from_secs(10), || {
            let output = String::from_utf8_lossy(&session.raw_output()).into_owned();
            let line = output
                .lines()
                .find(|l| l.contains("ccx: not saved in the turn log (disk full): "))?;
            line.contains("reply (\"seen while full\")").then_some(())
        });
        assert!(
            output.is_some(),
            "ccx did not say what it could not save:\n{}",
            String::from_utf8_lossy(&session.raw_output())
        );
        std::fs::remove_file(&filler).unwrap();
        let turns = log_json(&env, &[]);
        let first = turns
            .iter()
            .find(|t| t["prompt"] == "stored first [[reply:first kept]]")
            .unwrap_or_else(|| panic!("the earlier turn survives: {turns:#?}"));
        assert_eq!(first["reply"], "first kept");
        return;
    }

    // Space comes back: the turn made while full is stored, reply and all.
    std::fs::remove_file(&filler).unwrap();
    let kept = wait_until(TURN, || {
        log_json(&env, &[]).into_iter().find(|t| {
            t["prompt"] == "while full [[reply:seen while full]]" && !t["ended_at"].is_null()
        })
    });
    let kept = kept.unwrap_or_else(|| {
        panic!(
            "the turn made while the disk was full is not stored: {:#?}\nccx.log:\n{}",
            log_json(&env, &[]),
            std::fs::read_to_string(data.join("ccx.log")).unwrap_or_default()
        )
    });
    assert_eq!(kept["reply"], "seen while full");
    let turns = log_json(&env, &[]);
    assert!(
        turns.iter().any(|t| t["reply"] == "first kept"),
        "the earlier turn survives: {turns:#?}"
    );
    assert_eq!(
        log_lines_with(&data, "not recording: disk full"),
        1,
        "ccx.log says it once:\n{}",
        std::fs::read_to_string(data.join("ccx.log")).unwrap_or_default()
    );

    // And recording goes on.
    ask_for(&session, "after space", "recorded again");
    let turns = wait_until(TURN, || {
        let turns = log_json(&env, &[]);
        turns
            .iter()
            .any(|t| t["reply"] == "recorded again")
            .then_some(turns)
    });
    assert!(
        turns.is_some(),
        "a turn after space was freed is recorded: {:#?}\nccx.log:\n{}",
        log_json(&env, &[]),
        std::fs::read_to_string(data.join("ccx.log")).unwrap_or_default()
    );
    session
        .wait_for(TURN, |screen| !screen.contains("not recording"))
        .unwrap_or_else(|screen| panic!("the footer still says recording stopped:\n{screen}"));
    exit_cleanly(&session);
    let output = String::from_utf8_lossy(&session.raw_output()).into_owned();
    assert!(!output.contains("not saved"), "{output}");
}

#[test]
fn a_running_subagent_dies_with_ccx_even_on_kill_9() {
    let env = TestEnv::new();
    let session = start_ccx(&env, &[]);
    support::ccx::meta(&session, "subagent slow helper [[sleep:60000]]");
    session
        .wait_for_text("job #1 started", support::ccx::QUICK)
        .unwrap();
    // The subagent is a `claude -p … --output-format stream-json` child of ccx.
    let is_job = |pid: &u32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains("stream-json"))
            .unwrap_or(false)
    };
    let job = wait_until(TURN, || {
        children_of(session.pid()).into_iter().find(|p| is_job(p))
    })
    .expect("the subagent's claude runs under ccx");
    session.kill_9();
    let gone = wait_until(Duration::from_secs(20), || (!pid_alive(job)).then_some(()));
    if gone.is_none() {
        unsafe { libc::kill(job as i32, libc::SIGKILL) };
        panic!("the subagent (pid {job}) outlived ccx");
    }
}

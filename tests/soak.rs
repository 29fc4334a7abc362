//! Soak: two ccx sessions of one project doing `CCX_SOAK_TURNS` turns each (default 100), two
//! readers running `ccx log` in a loop the whole time, and the process that owns the turn log
//! killed with SIGKILL `CCX_SOAK_KILLS` times (default 5) at random turns (after a random
//! pause; the owner is between turns, so a turn it had begun is not cut off — finishing a turn
//! cut off by a crash is a separate matter). Checks: every turn whose reply Claude showed is in
//! the log, finished, with its reply; no turn stays open; a turn a reader once saw finished is
//! never missing or changed later; readers never fail; no claude outlives its ccx.
//!
//! Takes minutes: `#[ignore]`d, run by `scripts/test.sh --slow` or
//! `cargo test --test soak -- --ignored --nocapture`. `CCX_SOAK_SEED` replays a run.

mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::ccx::{ccx, log_json, start_ccx, START, TURN};
use support::harness::children_of;
use support::{pid_alive, wait_until, PtySession, TestEnv};

/// The whole soak must end within this.
const SOAK_LIMIT: Duration = Duration::from_secs(30 * 60);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*, seeded per run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// What the readers saw: every turn seen finished (id → prompt, reply, and when the read that
/// saw it ended) and every problem.
#[derive(Default)]
struct Readings {
    finished: HashMap<u64, (String, String, Instant)>,
    problems: Vec<String>,
    reads: u64,
}

fn read_once(env: &TestEnv, readings: &Mutex<Readings>) {
    let began = Instant::now();
    let out = ccx(env, &["log", "--all", "--json"]);
    let ended = Instant::now();
    let mut r = readings.lock().unwrap();
    r.reads += 1;
    if !out.status.success() {
        let problem = format!(
            "a reader failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        r.problems.push(problem);
        return;
    }
    let turns: Vec<Value> = match serde_json::from_slice(&out.stdout) {
        Ok(t) => t,
        Err(e) => return r.problems.push(format!("a reader got no JSON array: {e}")),
    };
    let now: HashMap<u64, &Value> = turns
        .iter()
        .filter_map(|t| Some((t["id"].as_u64()?, t)))
        .collect();
    let mut problems = Vec::new();
    // Only what a read that ended before this one began saw must show here (two readers run
    // side by side; an older read may finish after a newer one).
    for (id, (prompt, reply, _)) in r.finished.iter().filter(|(_, (_, _, seen))| *seen < began) {
        match now.get(id) {
            None => problems.push(format!("finished turn #{id} ({prompt}) went missing")),
            Some(t) if t["prompt"] != *prompt || t["reply"] != *reply => {
                problems.push(format!("finished turn #{id} changed: {t}"))
            }
            _ => {}
        }
    }
    r.problems.extend(problems);
    for t in &turns {
        if let (Some(id), false) = (t["id"].as_u64(), t["ended_at"].is_null()) {
            r.finished.entry(id).or_insert_with(|| {
                (
                    t["prompt"].as_str().unwrap_or("").to_string(),
                    t["reply"].as_str().unwrap_or("").to_string(),
                    ended,
                )
            });
        }
    }
}

/// The pid holding sled's lock on the turn log (from /proc/locks), if any.
fn owner_pid(env: &TestEnv) -> Option<u32> {
    let store =
        ccx::paths::project_store_dir(&env.data_dir, &ccx::paths::project_dir(&env.project));
    let inode = std::fs::metadata(store.join("db").join("db")).ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
        let pid: u32 = fields.get(4)?.parse().ok()?;
        let ino: u64 = fields.get(5)?.rsplit(':').next()?.parse().ok()?;
        (ino == inode).then_some(pid)
    })
}

/// Every process started from this test's environment that is still alive.
fn ours_alive(env: &TestEnv) -> Vec<u32> {
    let needle = format!("HOME={}", env.home.display());
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid_alive(pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

struct Sessions {
    live: [Option<PtySession>; 2],
}

#[test]
#[ignore]
fn soak_two_sessions_readers_and_the_owner_killed() {
    let turns = env_number("CCX_SOAK_TURNS", 100);
    let kills = env_number("CCX_SOAK_KILLS", 5);
    let seed = env_number(
        "CCX_SOAK_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    println!("soak: {turns} turns x 2 sessions, {kills} kills, CCX_SOAK_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let mut kill_at: Vec<u64> = (0..kills)
        .map(|_| 1 + rng.below(turns.max(2) - 1))
        .collect();
    kill_at.sort();
    let started = Instant::now();
    let env = TestEnv::new();

    let stop = Arc::new(AtomicBool::new(false));
    let readings = Arc::new(Mutex::new(Readings::default()));
    std::thread::scope(|scope| {
        for _ in 0..2 {
            let (env, stop, readings) = (&env, stop.clone(), readings.clone());
            scope.spawn(move || {
                while !stop.load(Ordering::SeqCst) && started.elapsed() < SOAK_LIMIT {
                    read_once(env, &readings);
                }
            });
        }

        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drive(&env, turns, &kill_at, &mut rng, started)
        }));
        stop.store(true, Ordering::SeqCst);
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    });

    // Every turn Claude answered is in the log, finished, with its reply; none stays open.
    let log = log_json(&env, &["--all"]);
    let open: Vec<&Value> = log.iter().filter(|t| t["ended_at"].is_null()).collect();
    assert!(open.is_empty(), "turns left open: {open:#?}");
    for who in ["a", "b"] {
        for i in 0..turns {
            let prompt = prompt_of(who, i);
            let turn = log
                .iter()
                .find(|t| t["prompt"] == prompt)
                .unwrap_or_else(|| panic!("turn {who} {i} is missing from the log"));
            assert_eq!(turn["reply"], reply_of(who, i), "{turn:#}");
        }
    }
    assert_eq!(log.len() as u64, 2 * turns, "no turn twice");
    let readings = readings.lock().unwrap();
    assert!(
        readings.problems.is_empty(),
        "readers saw problems ({} reads): {:#?}",
        readings.reads,
        readings.problems
    );
    let left = wait_until(Duration::from_secs(20), || {
        let left = ours_alive(&env);
        left.is_empty().then_some(())
    });
    assert!(
        left.is_some(),
        "processes outlived the soak: {:?}",
        ours_alive(&env)
    );
    println!(
        "soak: {} turns, {} reads, {} kills in {:?}",
        log.len(),
        readings.reads,
        kill_at.len(),
        started.elapsed()
    );
}

fn prompt_of(who: &str, i: u64) -> String {
    format!("soak {who} {i} [[reply:soak {who} {i} done]]")
}

fn reply_of(who: &str, i: u64) -> String {
    format!("soak {who} {i} done")
}

/// Runs both sessions' turns side by side, killing the owner at the turns in `kill_at`.
fn drive(env: &TestEnv, turns: u64, kill_at: &[u64], rng: &mut Rng, started: Instant) {
    let mut sessions = Sessions {
        live: [Some(start_ccx(env, &[])), Some(start_ccx(env, &[]))],
    };
    let names = ["a", "b"];
    for i in 0..turns {
        assert!(started.elapsed() < SOAK_LIMIT, "the soak ran out of time");
        for (k, who) in names.iter().enumerate() {
            sessions.live[k]
                .as_ref()
                .unwrap()
                .type_and_submit(&prompt_of(who, i));
        }
        for (k, who) in names.iter().enumerate() {
            let session = sessions.live[k].as_ref().unwrap();
            session
                .wait_for_text(&format!("● {}", reply_of(who, i)), TURN)
                .unwrap_or_else(|screen| panic!("turn {who} {i}: {screen}"));
        }
        // Both turns recorded before anything is killed.
        let finished = wait_until(TURN, || {
            let log = log_json(env, &["--all"]);
            names
                .iter()
                .all(|who| {
                    log.iter()
                        .any(|t| t["prompt"] == prompt_of(who, i) && !t["ended_at"].is_null())
                })
                .then_some(())
        });
        assert!(finished.is_some(), "turns {i} were not recorded");

        for _ in kill_at.iter().filter(|&&k| k == i) {
            std::thread::sleep(Duration::from_millis(rng.below(1000)));
            let owner = wait_until(Duration::from_secs(30), || {
                let pid = owner_pid(env)?;
                sessions
                    .live
                    .iter()
                    .position(|s| s.as_ref().is_some_and(|s| s.pid() == pid))
            });
            let Some(k) = owner else {
                println!("turn {i}: no session owns the log now (a reader does); no kill");
                continue;
            };
            let victim = sessions.live[k].take().unwrap();
            let claude = children_of(victim.pid());
            println!(
                "turn {i}: kill -9 of {} (pid {}, claude {claude:?})",
                names[k],
                victim.pid()
            );
            victim.kill_9();
            assert!(victim.wait_exit(Duration::from_secs(20)).is_some());
            for pid in claude {
                let gone = wait_until(Duration::from_secs(20), || (!pid_alive(pid)).then_some(()));
                assert!(gone.is_some(), "claude {pid} outlived its ccx");
            }
            drop(victim);
            let restarted = start_ccx(env, &[]);
            restarted
                .wait_for_text("❯", START)
                .expect("the restarted session's prompt");
            sessions.live[k] = Some(restarted);
        }
    }
    for session in sessions.live.iter().flatten() {
        session.type_and_submit("/exit");
        assert_eq!(session.wait_exit(TURN), Some(0));
    }
}

//! Many processes, one store: several ccx processes write and read the same project's turn
//! log at once, and a client takes over when the owning process goes away.
//!
//! The test binary re-executes itself (`--exact child_entry`) with `CCX_STORE_CHILD=<role>` to
//! get real separate processes; children talk to the parent with `CCX:` lines on stdout and
//! take orders as lines on stdin. Every wait is bounded.

use ccx::model::{now_rfc3339, Turn, TurnEnd, TurnStart};
use ccx::store::Store;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const ROLE: &str = "CCX_STORE_CHILD";
const WAIT: Duration = Duration::from_secs(60);

fn start(prompt: &str) -> TurnStart {
    TurnStart {
        branch: "main".into(),
        prompt: prompt.into(),
        session_id: "s".into(),
        started_at: now_rfc3339(),
        ..Default::default()
    }
}

fn end(prompt: &str) -> TurnEnd {
    TurnEnd {
        reply: format!("reply to {prompt}"),
        ended_at: now_rfc3339(),
        output_tokens: 1,
        entries: vec![serde_json::json!({ "prompt": prompt })],
        ..TurnEnd::default()
    }
}

/// One complete turn, as the recorder makes it.
fn write_turn(store: &Store, prompt: &str) -> Turn {
    let t = store.begin_turn(start(prompt)).expect("begin_turn");
    store.finish_turn(t.id, end(prompt)).expect("finish_turn")
}

fn write_turns(store: &Store, prefix: &str, n: usize) {
    for i in 0..n {
        write_turn(store, &format!("{prefix}-{i}"));
    }
}

/// Ids 1..=k in order, every one a complete or running turn on a single chain.
fn check_prefix(turns: &[Turn]) {
    for (i, t) in turns.iter().enumerate() {
        assert_eq!(t.id.get(), i as u64 + 1, "ids are contiguous from 1");
        let want_parent = if i == 0 { None } else { Some(i as u64) };
        assert_eq!(
            t.parent.map(|p| p.get()),
            want_parent,
            "turn #{} follows the previous one",
            t.id
        );
    }
}

fn env_of(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"))
}

/// Read one line from stdin with a deadline (the parent may die and leave it open).
fn read_order() -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(WAIT).unwrap_or_default().trim().to_owned()
}

/// The children's entry point; a no-op in a normal test run.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let dir = PathBuf::from(env_of("CCX_STORE_DIR"));
    let store = Store::open(&dir).expect("child open");
    match role.as_str() {
        "writer" => {
            println!("CCX:OPEN owner={}", store.is_owner());
            assert_eq!(read_order(), "go");
            let n: usize = env_of("CCX_STORE_N").parse().unwrap();
            write_turns(&store, &env_of("CCX_STORE_PREFIX"), n);
            println!("CCX:DONE");
        }
        "reader" => {
            let turns = store.all_turns().expect("all_turns");
            check_prefix(&turns);
            let lineage = store.lineage("main").expect("lineage");
            assert!(lineage.len() >= turns.len());
            check_prefix(&lineage[..turns.len()]);
            println!("CCX:READ {} owner={}", turns.len(), store.is_owner());
        }
        "owner" => {
            assert!(store.is_owner(), "the owner child must open first");
            write_turns(&store, "owner", 20);
            println!("CCX:READY");
            match read_order().as_str() {
                "quit" => drop(store),
                // Exit without dropping anything, like a crash (no socket clean-up).
                _ => {
                    std::mem::forget(store);
                    std::process::exit(0);
                }
            }
        }
        other => panic!("unknown role {other}"),
    }
}

struct Kid {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

fn spawn(role: &str, dir: &Path, env: &[(&str, String)]) -> Kid {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env("CCX_STORE_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn child");
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The harness may print "test child_entry ... " on the same line first.
            if let Some(at) = line.find("CCX:") {
                if tx.send(line[at + 4..].to_owned()).is_err() {
                    break;
                }
            }
        }
    });
    Kid {
        stdin: child.stdin.take(),
        child,
        lines,
    }
}

impl Kid {
    fn expect(&self, prefix: &str) -> String {
        let msg = self
            .lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|e| panic!("child said nothing ({e}) while waiting for {prefix}"));
        assert!(msg.starts_with(prefix), "expected {prefix}, got {msg}");
        msg
    }

    fn order(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn wait_ok(mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "child failed: {status}");
                return;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("child did not finish in time");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every expected prompt present exactly once, completed, on one chain 1..=total.
fn check_all(store: &Store, expected: &HashSet<String>) {
    let turns = store.all_turns().unwrap();
    assert_eq!(turns.len(), expected.len());
    check_prefix(&turns);
    let mut seen = HashSet::new();
    for t in &turns {
        assert!(expected.contains(&t.prompt), "unexpected turn {}", t.prompt);
        assert!(
            seen.insert(t.prompt.clone()),
            "turn {} recorded twice",
            t.prompt
        );
        assert_eq!(t.reply, format!("reply to {}", t.prompt));
        assert!(!t.is_running());
        let entries = store.entries(t.id).unwrap();
        assert_eq!(entries, vec![serde_json::json!({ "prompt": t.prompt })]);
    }
    let lineage = store.lineage("main").unwrap();
    assert_eq!(lineage, turns);
}

fn names(prefix: &str, n: usize) -> impl Iterator<Item = String> + '_ {
    (0..n).map(move |i| format!("{prefix}-{i}"))
}

#[test]
fn two_writers_and_a_reader() {
    const N: usize = 200;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let mut writer = spawn(
        "writer",
        &dir,
        &[
            ("CCX_STORE_N", N.to_string()),
            ("CCX_STORE_PREFIX", "child".into()),
        ],
    );
    writer.expect("OPEN");
    let store = Store::open(&dir).unwrap();
    writer.order("go");

    let mut reader = None;
    for (i, prompt) in names("parent", N).enumerate() {
        write_turn(&store, &prompt);
        if i + 1 == N / 2 {
            reader = Some(spawn("reader", &dir, &[]));
        }
    }
    writer.expect("DONE");
    writer.wait_ok();
    let reader = reader.unwrap();
    let read = reader.expect("READ ");
    let seen: usize = read["READ ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (N / 2..=2 * N).contains(&seen),
        "the reader saw {seen} turns"
    );
    reader.wait_ok();

    let expected: HashSet<String> = names("parent", N).chain(names("child", N)).collect();
    check_all(&store, &expected);
}

fn owner_goes_away(crash: bool) {
    const N: usize = 300;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let owner = spawn("owner", &dir, &[]);
    owner.expect("READY");
    let store = Store::open(&dir).unwrap();
    assert!(!store.is_owner());

    let mut owner = Some(owner);
    for (i, prompt) in names("client", N).enumerate() {
        write_turn(&store, &prompt);
        if i == N / 3 {
            let mut o = owner.take().unwrap();
            if crash {
                o.child.kill().unwrap();
                o.child.wait().unwrap();
            } else {
                o.order("quit");
                o.wait_ok();
            }
        }
    }
    assert!(store.is_owner(), "the client took over");
    let expected: HashSet<String> = names("client", N).chain(names("owner", 20)).collect();
    check_all(&store, &expected);
}

#[test]
fn client_takes_over_when_the_owner_exits() {
    owner_goes_away(false);
}

#[test]
fn client_takes_over_when_the_owner_is_killed() {
    owner_goes_away(true);
}

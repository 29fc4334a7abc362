//! Subagent jobs (`ccx::jobs`) against the real Claude Code CLI and the offline stand-in:
//! a job that ends Done with its report, one whose API answers 500 (Failed, fast), one killed
//! mid-turn (Killed, process gone), one stopped by the idle timeout, one that writes a file,
//! and the side branch a finished job leaves in the turn log.
//! The ignored `capture_stream_json` regenerates `tests/fixtures/stream-json/`.

mod support;

use ::ccx::jobs::{JobInfo, JobManager, JobState};
use ::ccx::model::TurnKind;
use ::ccx::store::Store;
use ::ccx::store_slot::StoreSlot;
use ::ccx::templates::Templates;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

type Seen = Arc<Mutex<Vec<JobInfo>>>;

fn manager(env: &TestEnv, store: StoreSlot) -> (JobManager, Seen) {
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let m = JobManager::new(
        claude_path(),
        env.project.clone(),
        env.vars(),
        store,
        Templates::default(),
        Box::new(move |i| s2.lock().unwrap().push(i.clone())),
    );
    (m, seen)
}

fn no_store() -> StoreSlot {
    let slot = StoreSlot::default();
    slot.fill(Err("no store in this test".into()));
    slot
}

fn wait_end(m: &JobManager, id: &str, timeout: Duration) -> JobInfo {
    wait_until(timeout, || m.get(id).filter(|i| !i.state.is_running()))
        .unwrap_or_else(|| panic!("job {id} still running: {:?}", m.get(id)))
}

/// PIDs of live processes whose command line mentions `needle`.
fn processes_with(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(needle) && pid_alive(pid) {
                out.push(pid);
            }
        }
    }
    out
}

#[test]
fn a_job_ends_done_with_its_report() {
    let env = TestEnv::new();
    let (m, seen) = manager(&env, no_store());
    let task = "find the answer [[reply:the answer is 42]]";
    let id = m.start(task, None).unwrap();
    assert_eq!(id, "1");
    let info = wait_end(&m, &id, Duration::from_secs(60));
    assert_eq!(info.state, JobState::Done, "{info:?}");
    assert_eq!(info.report.as_deref(), Some("the answer is 42"));
    assert_eq!(info.tool_calls, 0);
    assert_eq!(info.task, task);
    assert_eq!(info.branch, None);

    let reqs: Vec<Recorded> = env
        .standin
        .main_requests()
        .into_iter()
        .filter(|r| r.session_id.as_deref() == Some(info.session_id.as_str()))
        .collect();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(info.tokens, reqs[0].usage.context_tokens());
    // A clean context: the only user text is the framed task.
    let user: Vec<String> = reqs[0]
        .message_texts()
        .into_iter()
        .filter(|(role, _)| role == "user")
        .map(|(_, t)| t)
        .collect();
    assert_eq!(user, vec![Templates::default().subagent_prompt(task, None)]);
    let roles: Vec<&str> = reqs[0].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap_or(""))
        .collect();
    eprintln!("roles: {roles:?}");
    assert!(!roles.contains(&"assistant"), "{roles:?}");

    assert_eq!(m.latest_done().map(|i| i.id), Some(id.clone()));
    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.state, JobState::Done);
    assert!(seen[..seen.len() - 1].iter().all(|i| i.state.is_running()));
    assert!(::ccx::jobs::job_line(last).starts_with("#1 done "));
}

#[test]
fn an_api_error_fails_fast() {
    let env = TestEnv::new();
    let (m, _) = manager(&env, no_store());
    let t = Instant::now();
    let id = m.start("boom [[status:500]]", None).unwrap();
    let info = wait_end(&m, &id, Duration::from_secs(60));
    let JobState::Failed(reason) = &info.state else {
        panic!("{info:?}");
    };
    assert!(
        reason.contains("500") && reason.contains("API Error"),
        "{reason}"
    );
    assert!(!reason.contains('\n'));
    assert!(t.elapsed() < Duration::from_secs(60));
    assert_eq!(info.report, None);
    assert_eq!(m.latest_done(), None);
    eprintln!("failed after {:?}: {reason}", t.elapsed());
}

#[test]
fn kill_stops_the_job_and_its_process() {
    let env = TestEnv::new();
    let store = Arc::new(Store::open(&env.scratch.join("store")).unwrap());
    let slot = StoreSlot::default();
    slot.fill(Ok(store.clone()));
    let (m, _) = manager(&env, slot);
    let id = m.start("wait a while [[sleep:30000]]", None).unwrap();
    let sid = m.get(&id).unwrap().session_id;
    env.standin
        .try_wait_for_main_requests(1, Duration::from_secs(30))
        .expect("the job's request reached the stand-in");
    let pids = processes_with(&sid);
    assert!(!pids.is_empty(), "claude runs");
    let t = Instant::now();
    m.kill(&id).unwrap();
    let info = m.get(&id).unwrap();
    assert_eq!(info.state, JobState::Killed);
    // Bounded by the kill's own deadline (grace, then SIGKILL), with room for a loaded machine.
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert!(processes_with(&sid).is_empty(), "claude is gone");
    // Its turn so far is kept, marked as cut short.
    let turns = store
        .lineage(info.branch.as_deref().expect("recorded"))
        .unwrap();
    assert_eq!(turns.len(), 1);
    assert!(turns[0].interrupted);
    assert_eq!(turns[0].kind, TurnKind::Subagent);
    assert!(m.kill(&id).unwrap_err().to_string().contains("not running"));
    assert!(m.kill("#7").is_err());
}

#[test]
fn an_idle_job_times_out_and_shutdown_ends_the_rest() {
    let env = TestEnv::new();
    let (m, _) = manager(&env, no_store());
    let m = m.with_timeout(Duration::from_secs(3));
    let a = m.start("wait [[sleep:30000]]", None).unwrap();
    let info = wait_end(&m, &a, Duration::from_secs(20));
    let JobState::Failed(reason) = &info.state else {
        panic!("{info:?}");
    };
    assert!(reason.contains("no output for"), "{reason}");
    assert!(processes_with(&info.session_id).is_empty());

    let m = m.with_timeout(Duration::from_secs(600));
    let b = m.start("wait again [[sleep:30000]]", None).unwrap();
    let sid = m.get(&b).unwrap().session_id;
    wait_until(Duration::from_secs(30), || {
        (!processes_with(&sid).is_empty()).then_some(())
    })
    .unwrap();
    m.shutdown();
    assert_eq!(m.get(&b).unwrap().state, JobState::Killed);
    assert!(processes_with(&sid).is_empty());
}

#[test]
fn a_job_writes_in_the_project() {
    let env = TestEnv::new();
    let (m, _) = manager(&env, no_store());
    let path = env.project.join("found.txt");
    let id = m
        .start(
            &format!("write it down [[write:{}:x = 42]]", path.display()),
            Some("the brief says: use found.txt"),
        )
        .unwrap();
    let info = wait_end(&m, &id, Duration::from_secs(60));
    assert_eq!(info.state, JobState::Done, "{info:?}");
    assert_eq!(info.tool_calls, 1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "x = 42");
    assert_eq!(
        info.report.as_deref(),
        Some(format!("wrote {}", path.display()).as_str())
    );
    let first = &env.standin.main_requests()[0];
    assert!(first.user_text.contains("the brief says: use found.txt"));
}

#[test]
fn a_finished_job_is_recorded_as_a_side_branch() {
    let env = TestEnv::new();
    let store_dir = env.scratch.join("store");
    let store = Arc::new(Store::open(&store_dir).unwrap());
    let slot = StoreSlot::default();
    slot.fill(Ok(store.clone()));
    let (m, _) = manager(&env, slot);
    let task = "find the answer [[reply:the answer is 42]]";
    let id = m.start(task, None).unwrap();
    let info = wait_end(&m, &id, Duration::from_secs(60));
    assert_eq!(info.state, JobState::Done, "{info:?}");
    let branch = info.branch.clone().expect("recorded");
    assert_eq!(branch, format!("subagent-1-{}", &info.session_id[..8]));
    let b = store.branch(&branch).unwrap().unwrap();
    assert_eq!(b.session_id, info.session_id);
    assert_eq!(b.parent_branch, None);
    let turns = store.lineage(&branch).unwrap();
    assert_eq!(turns.len(), 1);
    let t = &turns[0];
    assert_eq!(t.kind, TurnKind::Subagent);
    assert_eq!(t.input.as_deref(), Some(task));
    assert_eq!(t.prompt, Templates::default().subagent_prompt(task, None));
    assert_eq!(t.reply, "the answer is 42");
    assert_eq!(t.context_tokens, info.tokens);
    assert!(t.output_tokens > 0 && t.est_tokens > 0);
    assert!(!t.interrupted && t.ended_at.is_some());
    assert!(!store.entries(t.id).unwrap().is_empty());
}

#[test]
#[ignore]
fn capture_stream_json() {
    let env = TestEnv::new();
    let out_dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stream-json");
    let path = env.project.join("notes.txt");
    let outside = env.home.join("x.txt");
    let cases = [
        (
            "reply",
            "find the answer [[reply:the answer is 42]]".to_string(),
        ),
        (
            "tool-write",
            format!("write it [[write:{}:hello]]", path.display()),
        ),
        ("error-500", "boom [[status:500]]".to_string()),
        (
            "denied-write",
            format!("write it [[write:{}:hello]]", outside.display()),
        ),
    ];
    for (name, prompt) in cases {
        let sid = uuid::Uuid::new_v4().to_string();
        let mut cmd = env.claude();
        cmd.args(["-p", &prompt, "--output-format", "stream-json", "--verbose"])
            .args(["--session-id", &sid]);
        if name != "denied-write" {
            cmd.args(["--permission-mode", "acceptEdits"]);
        }
        cmd.env("CLAUDE_CODE_MAX_RETRIES", "0");
        let out = output_with_timeout(&mut cmd, Duration::from_secs(60)).unwrap();
        std::fs::write(out_dir.join(format!("{name}.jsonl")), &out.stdout).unwrap();
    }
}

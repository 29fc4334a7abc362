//! Subagent jobs (`:subagent`, `:jobs`, `:kill`, `:pull`): a task run by a separate Claude
//! Code process with a clean context, in the background, in the project directory.
//!
//! A job is `claude -p --output-format stream-json --verbose --session-id <new> --permission-mode
//! acceptEdits -- <prompt>` with stdin null, in its own process group. Its stdout is one JSON
//! event per line (shapes seen with Claude Code 2.1.330, samples in
//! `tests/fixtures/stream-json/`):
//!
//! - `{"type":"system","subtype":"init","session_id":…,"cwd":…,"tools":[…],…}` first;
//! - `{"type":"assistant","message":{"id","model","content":[…],"usage":{…}},
//!   "parent_tool_use_id":null,…}`, one per content block (text or `tool_use`); an API error is
//!   an assistant message of model `<synthetic>` with zero usage;
//! - `{"type":"user","message":{"content":[{"type":"tool_result",…}]},"tool_use_result":…}`;
//! - `{"type":"system","subtype":"permission_denied","tool_name":…}` when a tool needs a
//!   permission `-p` cannot ask for (the tool result is an error; claude carries on);
//! - last, `{"type":"result","subtype":"success","is_error":false,"result":"<final text>",
//!   "usage":{…summed over the run…},"terminal_reason":"completed",…}`. An API failure is
//!   `"subtype":"success","is_error":true,"result":"API Error: 500 …"` with exit status 1.
//!
//! From these the job counts tool calls, tracks the context of its latest API call (input +
//! cache read + cache creation of the latest main-thread assistant usage) and takes the final
//! report (the result text). It ends `Done`, `Failed(reason)` (claude's error result, a non-zero
//! exit, no output for the idle timeout, claude missing) or `Killed`, and its turns are then
//! recorded from its transcript as a root branch `subagent-<id>-<session prefix>` of kind
//! `subagent`.
//!
//! Every signal is sent by the job's supervisor thread, to the job's process group, before the
//! child is reaped (it is observed with `waitid(WNOWAIT)` first), so a signal can never reach an
//! unrelated process that reused the PID. When claude exits, whatever it left in its group is
//! killed too: no job outlives its run, and [`JobManager::shutdown`] ends them all.

use crate::claude::command::{die_with_parent, ClaudeCommand};
use crate::claude::env::is_nested_session_var;
use crate::claude::paths;
use crate::claude::usage::Usage;
use crate::model::{now_rfc3339, TurnKind, TurnStart};
use crate::render::first_line;
use crate::store::Store;
use crate::store_slot::StoreSlot;
use crate::templates::Templates;
use crate::transcript;
use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Default idle timeout: a job that prints nothing for this long is stopped.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// From SIGTERM to SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How often the supervisor looks at its child.
const POLL: Duration = Duration::from_millis(50);
/// How long the output readers may take to finish once claude has exited.
const DRAIN_WAIT: Duration = Duration::from_secs(2);
/// How long recording a finished job waits for the turn log to open.
const STORE_WAIT: Duration = Duration::from_secs(5);
/// Longest stdout line kept (a longer one is skipped).
const MAX_LINE: usize = 64 << 20;
/// What `CLAUDE_CODE_MAX_RETRIES` a job gets unless the caller chose: an API answering 5xx
/// then fails in seconds instead of retrying for minutes.
const JOB_MAX_RETRIES: &str = "2";

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "lowercase")]
pub enum JobState {
    Running,
    Done,
    /// With the reason, one line.
    Failed(String),
    Killed,
}

impl JobState {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed(_) => "failed",
            JobState::Killed => "killed",
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self, JobState::Running)
    }
}

/// A snapshot of one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobInfo {
    /// "1", "2", … per manager.
    pub id: String,
    /// The task as typed.
    pub task: String,
    pub state: JobState,
    /// RFC 3339.
    pub started_at: String,
    /// Seconds since start (while running) or the run's duration.
    pub elapsed_secs: u64,
    /// Tool calls made so far.
    pub tool_calls: u64,
    /// Context of its latest API call (input + cache read + cache creation).
    pub tokens: u64,
    /// The final report (claude's result text), once Done.
    pub report: Option<String>,
    /// The Claude session the job runs as.
    pub session_id: String,
    /// The side branch holding its turns, once recorded.
    pub branch: Option<String>,
    /// Its report has been sent into the session (`:pull`); it is not offered again.
    pub pulled: bool,
}

/// What claude's stream-json output told so far. Feed it line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamState {
    /// From the `init` event.
    pub session_id: Option<String>,
    pub tool_calls: u64,
    /// Context of the latest main-thread, non-synthetic API call.
    pub tokens: u64,
    /// The last `result` event.
    pub result: Option<StreamResult>,
    /// Text of the latest assistant text block (a fallback reason when there is no result).
    pub last_text: Option<String>,
    tool_ids: HashSet<String>,
}

/// The `result` event that ends a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamResult {
    /// "success", "error_max_turns", "error_during_execution", …
    pub subtype: String,
    pub is_error: bool,
    /// The final text ("" when absent).
    pub text: String,
    /// `errors` strings, when given.
    pub errors: Vec<String>,
}

impl StreamResult {
    /// True when the run ended as it should: `success` and not `is_error`.
    pub fn succeeded(&self) -> bool {
        self.subtype == "success" && !self.is_error
    }

    /// Why the run failed, one line.
    pub fn reason(&self) -> String {
        let text = if self.text.trim().is_empty() {
            self.errors.join("; ")
        } else {
            self.text.clone()
        };
        let line = first_line(&text, 300);
        if line.is_empty() {
            format!("claude ended with {}", self.subtype)
        } else {
            line
        }
    }
}

impl StreamState {
    /// Takes one stdout line; returns true when a value shown in progress changed
    /// (tool calls, tokens, session, result). Lines that are not JSON objects are ignored.
    pub fn feed(&mut self, line: &str) -> bool {
        let Ok(event) = serde_json::from_str::<Value>(line.trim()) else {
            return false;
        };
        let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match event.get("type").and_then(Value::as_str) {
            Some("system") => {
                if str_of(&event, "subtype").as_deref() == Some("init") {
                    let sid = str_of(&event, "session_id");
                    if sid.is_some() && sid != self.session_id {
                        self.session_id = sid;
                        return true;
                    }
                }
                false
            }
            Some("assistant") => {
                let Some(message) = event.get("message") else {
                    return false;
                };
                let mut changed = false;
                for block in message
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    match block.get("type").and_then(Value::as_str) {
                        Some("tool_use") | Some("server_tool_use") => {
                            let id = str_of(block, "id").unwrap_or_default();
                            if id.is_empty() || self.tool_ids.insert(id) {
                                self.tool_calls += 1;
                                changed = true;
                            }
                        }
                        Some("text") => {
                            if let Some(t) = str_of(block, "text") {
                                self.last_text = Some(t);
                            }
                        }
                        _ => {}
                    }
                }
                let main_thread = event.get("parent_tool_use_id").is_none_or(Value::is_null);
                let synthetic = message.get("model").and_then(Value::as_str) == Some("<synthetic>");
                if main_thread && !synthetic {
                    if let Some(usage) = message.get("usage") {
                        let tokens = Usage::from_json(usage).context_tokens();
                        if tokens > 0 && tokens != self.tokens {
                            self.tokens = tokens;
                            changed = true;
                        }
                    }
                }
                changed
            }
            Some("result") => {
                self.result = Some(StreamResult {
                    subtype: str_of(&event, "subtype").unwrap_or_default(),
                    is_error: event
                        .get("is_error")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    text: str_of(&event, "result").unwrap_or_default(),
                    errors: event
                        .get("errors")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.as_str().map(str::to_owned))
                        .collect(),
                });
                true
            }
            _ => false,
        }
    }
}

/// "950", "23k", "1.2M".
fn tokens_short(n: u64) -> String {
    if n < 1000 {
        n.to_string()
    } else if n < 1_000_000 {
        format!("{}k", (n + 500) / 1000)
    } else {
        format!("{:.1}M", n as f64 / 1_000_000.0)
    }
}

/// "12s", "1m12s", "1h02m".
fn duration_short(secs: u64) -> String {
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// One line for `:jobs` and the status line:
/// `#2 running 1m12s · 7 tools · 23k ctx · <task first line>` (a failed job ends with
/// ` — <reason>`).
pub fn job_line(info: &JobInfo) -> String {
    let tools = if info.tool_calls == 1 {
        "1 tool".to_owned()
    } else {
        format!("{} tools", info.tool_calls)
    };
    let mut line = format!(
        "#{} {} {} · {} · {} ctx · {}",
        info.id,
        info.state.as_str(),
        duration_short(info.elapsed_secs),
        tools,
        tokens_short(info.tokens),
        first_line(&info.task, 60)
    );
    if let JobState::Failed(reason) = &info.state {
        line.push_str(" — ");
        line.push_str(&first_line(reason, 100));
    }
    if info.pulled {
        line.push_str(" · pulled");
    }
    line
}

/// What the footer says about the jobs (given in start order): how many run, and how the
/// latest ended one came out, offering `:pull` for a finished one until it is pulled.
pub fn footer_summary<'a>(jobs: impl IntoIterator<Item = &'a JobInfo>) -> Option<String> {
    let jobs: Vec<&JobInfo> = jobs.into_iter().collect();
    let running = jobs.iter().filter(|j| j.state.is_running()).count();
    let last_ended = jobs.iter().rev().find(|j| !j.state.is_running());
    let mut words = Vec::new();
    if running > 0 {
        words.push(format!(
            "{running} job{} running",
            if running == 1 { "" } else { "s" }
        ));
    }
    // A pulled job is done with: the footer stops offering it.
    if let Some(job) = last_ended.filter(|j| !j.pulled) {
        words.push(match job.state {
            JobState::Done => format!("job #{} done: :pull {}", job.id, job.id),
            ref other => format!("job #{} {}", job.id, other.as_str()),
        });
    }
    (!words.is_empty()).then(|| words.join(", "))
}

/// Why a job was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopWhy {
    Kill,
    Idle,
}

struct JobData {
    info: JobInfo,
    stream: StreamState,
    started: Instant,
    ended: Option<Instant>,
    last_output: Instant,
    last_stderr: Option<String>,
    stop: Option<StopWhy>,
    /// The framed prompt claude received.
    prompt: String,
}

impl JobData {
    /// A job just started: running, nothing seen yet.
    fn new(id: &str, task: &str, session_id: &str, prompt: &str) -> JobData {
        let now = Instant::now();
        JobData {
            info: JobInfo {
                id: id.to_owned(),
                task: task.to_owned(),
                state: JobState::Running,
                started_at: now_rfc3339(),
                elapsed_secs: 0,
                tool_calls: 0,
                tokens: 0,
                report: None,
                session_id: session_id.to_owned(),
                branch: None,
                pulled: false,
            },
            stream: StreamState::default(),
            started: now,
            ended: None,
            last_output: now,
            last_stderr: None,
            stop: None,
            prompt: prompt.to_owned(),
        }
    }

    fn snapshot(&self) -> JobInfo {
        let mut info = self.info.clone();
        let end = self.ended.unwrap_or_else(Instant::now);
        info.elapsed_secs = end.saturating_duration_since(self.started).as_secs();
        info
    }
}

struct Job {
    data: Mutex<JobData>,
    /// Signalled when the job's state leaves Running.
    ended: Condvar,
}

impl Job {
    fn lock(&self) -> MutexGuard<'_, JobData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type OnChange = Box<dyn Fn(&JobInfo) + Send + Sync>;

struct Shared {
    claude: PathBuf,
    cwd: PathBuf,
    env: Vec<(String, String)>,
    store: StoreSlot,
    templates: Templates,
    on_change: OnChange,
    idle_timeout_ms: AtomicU64,
    next_id: AtomicU64,
    jobs: Mutex<Vec<Arc<Job>>>,
}

impl Shared {
    fn notify(&self, info: &JobInfo) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.on_change)(info)));
    }

    fn jobs(&self) -> Vec<Arc<Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn find(&self, id: &str) -> Option<Arc<Job>> {
        let id = id.trim().trim_start_matches('#');
        self.jobs().into_iter().find(|j| j.lock().info.id == id)
    }

    /// The claude of a job: headless, stdin null, its output piped, in its own process group,
    /// tied to ccx's life, with the caller's environment.
    fn command(&self, session_id: &str, prompt: &str) -> std::process::Command {
        let mut cmd =
            ClaudeCommand::job(&self.claude, &self.cwd, &session_id.into(), prompt).into_process();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // If ccx dies without shutting its jobs down (kill -9), the job dies with it. The
        // signal follows the spawning thread, which is ccx's input thread: it lives as long
        // as ccx does.
        die_with_parent(&mut cmd, libc::SIGKILL);
        for (key, value) in &self.env {
            if is_nested_session_var(key) {
                cmd.env_remove(key);
            } else {
                cmd.env(key, value);
            }
        }
        if self.var("CLAUDE_CODE_MAX_RETRIES").is_none() {
            cmd.env("CLAUDE_CODE_MAX_RETRIES", JOB_MAX_RETRIES);
        }
        cmd
    }

    /// A variable as the job will see it: the caller's env first, then ccx's own.
    fn var(&self, key: &str) -> Option<String> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(key).ok())
            .filter(|v| !v.is_empty())
    }
}

/// Runs and tracks subagent jobs. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct JobManager {
    shared: Arc<Shared>,
}

impl JobManager {
    /// `claude`: the Claude Code executable; `cwd`: where jobs run; `env`: variables added to
    /// (or replacing) ccx's own environment for every job; `store`: where finished jobs are
    /// recorded (when it opens); `on_change`: called from a job's threads on progress and once
    /// when it ends.
    pub fn new(
        claude: PathBuf,
        cwd: PathBuf,
        env: Vec<(String, String)>,
        store: StoreSlot,
        templates: Templates,
        on_change: Box<dyn Fn(&JobInfo) + Send + Sync>,
    ) -> JobManager {
        JobManager {
            shared: Arc::new(Shared {
                claude,
                cwd,
                env,
                store,
                templates,
                on_change,
                idle_timeout_ms: AtomicU64::new(DEFAULT_IDLE_TIMEOUT.as_millis() as u64),
                next_id: AtomicU64::new(1),
                jobs: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Sets the idle timeout: a job that prints nothing for this long is stopped and fails.
    /// Applies to every job of this manager, running ones included.
    pub fn with_timeout(self, idle: Duration) -> JobManager {
        let ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX).max(1);
        self.shared.idle_timeout_ms.store(ms, Ordering::Relaxed);
        self
    }

    /// Starts `claude -p <subagent_prompt(task, brief)> --output-format stream-json --verbose
    /// --session-id <new uuid> --permission-mode acceptEdits` in cwd, stdin null, with
    /// CLAUDECODE* removed from its env, and returns the job id at once. A claude that cannot
    /// be started gives a job that is already Failed.
    pub fn start(&self, task: &str, brief: Option<&str>) -> Result<String> {
        let task = task.trim();
        if task.is_empty() {
            bail!("a subagent needs a task: :subagent [--brief NAME] TASK");
        }
        let shared = &self.shared;
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        let session_id = uuid::Uuid::new_v4().to_string();
        let prompt = shared.templates.subagent_prompt(task, brief);
        let job = Arc::new(Job {
            data: Mutex::new(JobData::new(&id, task, &session_id, &prompt)),
            ended: Condvar::new(),
        });
        shared
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(job.clone());
        let child = match shared.command(&session_id, &prompt).spawn() {
            Ok(child) => child,
            Err(e) => {
                let reason = format!("cannot start {}: {e}", shared.claude.display());
                let info = {
                    let mut d = job.lock();
                    d.info.state = JobState::Failed(first_line(&reason, 300));
                    d.ended = Some(Instant::now());
                    d.snapshot()
                };
                job.ended.notify_all();
                shared.notify(&info);
                return Ok(id);
            }
        };
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name(format!("ccx-job-{id}"))
            .spawn(move || supervise(shared, job, child))?;
        Ok(id)
    }

    /// Every job, in start order.
    pub fn list(&self) -> Vec<JobInfo> {
        self.shared
            .jobs()
            .iter()
            .map(|j| j.lock().snapshot())
            .collect()
    }

    /// One job by id ("2" or "#2").
    pub fn get(&self, id: &str) -> Option<JobInfo> {
        self.shared.find(id).map(|j| j.lock().snapshot())
    }

    /// The job that finished Done most recently and is not pulled yet (for `:pull` with no
    /// argument).
    pub fn latest_done(&self) -> Option<JobInfo> {
        self.shared
            .jobs()
            .iter()
            .filter_map(|j| {
                let d = j.lock();
                (d.info.state == JobState::Done && !d.info.pulled).then(|| (d.ended, d.snapshot()))
            })
            .max_by_key(|(ended, _)| *ended)
            .map(|(_, info)| info)
    }

    /// Takes job `id`'s report to send it into the session, marking the job pulled, in one
    /// step: a job's report is handed out once. Fails, changing nothing, when there is no such
    /// job, it has not finished Done, or it was pulled already.
    pub fn take_report(&self, id: &str) -> Result<(JobInfo, String)> {
        let id = id.trim().trim_start_matches('#');
        let Some(job) = self.shared.find(id) else {
            bail!("no job #{id} (:jobs lists them)");
        };
        let info = {
            let mut d = job.lock();
            let report = match (&d.info.state, &d.info.report) {
                (JobState::Done, Some(report)) => report.clone(),
                (state, _) => bail!(
                    "job #{id} is {}; only a finished job's report can be pulled",
                    state.as_str()
                ),
            };
            if d.info.pulled {
                bail!("job #{id}'s report was pulled already; nothing sent");
            }
            d.info.pulled = true;
            (d.snapshot(), report)
        };
        self.shared.notify(&info.0);
        Ok(info)
    }

    /// Stops a running job: SIGTERM to its process group, SIGKILL after 3 s. Returns once it
    /// has ended (at most a few seconds); it ends Killed.
    pub fn kill(&self, id: &str) -> Result<()> {
        let Some(job) = self.shared.find(id) else {
            let ids: Vec<String> = self
                .list()
                .into_iter()
                .map(|i| format!("#{}", i.id))
                .collect();
            if ids.is_empty() {
                bail!("no job {id}: no subagent jobs have been started");
            }
            bail!("no job {id} (jobs: {})", ids.join(", "));
        };
        {
            let mut d = job.lock();
            if !d.info.state.is_running() {
                bail!(
                    "job #{} is not running ({})",
                    d.info.id,
                    d.info.state.as_str()
                );
            }
            d.stop.get_or_insert(StopWhy::Kill);
        }
        wait_ended(&job, KILL_GRACE + Duration::from_secs(3));
        Ok(())
    }

    /// Kills every running job and waits (a few seconds at most) for them to end: ccx is
    /// exiting.
    pub fn shutdown(&self) {
        let jobs = self.shared.jobs();
        for job in &jobs {
            let mut d = job.lock();
            if d.info.state.is_running() {
                d.stop.get_or_insert(StopWhy::Kill);
            }
        }
        let deadline = Instant::now() + KILL_GRACE + Duration::from_secs(3);
        for job in &jobs {
            wait_ended(job, deadline.saturating_duration_since(Instant::now()));
        }
    }
}

fn wait_ended(job: &Job, timeout: Duration) {
    let d = job.lock();
    let _ = job
        .ended
        .wait_timeout_while(d, timeout, |d| d.info.state.is_running())
        .unwrap_or_else(|e| e.into_inner());
}

/// Sends `signal` to the job's process group.
fn signal_group(pgid: u32, signal: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        if pgid > 0 {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
            unsafe {
                libc::kill(-pgid, signal);
            }
        }
    }
}

/// True once the child has exited, without reaping it (its PID, and so its process group id,
/// stay reserved until `Child::wait`).
fn has_exited(pid: u32) -> bool {
    let pid = libc::id_t::from(pid);
    // SAFETY: waitid fills a zeroed siginfo_t we own; WNOWAIT leaves the child waitable.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let rc = libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        if rc != 0 {
            // ECHILD: nothing to wait for any more.
            return std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR);
        }
        info.si_pid() != 0
    }
}

/// Reads lines of at most MAX_LINE bytes (longer ones are skipped); None at EOF or error.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> Option<()> {
    buf.clear();
    let mut too_long = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        if chunk.is_empty() {
            return (!buf.is_empty() || too_long).then_some(());
        }
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..=i], true),
            None => (chunk, false),
        };
        let n = part.len();
        if !too_long {
            if buf.len() + n > MAX_LINE {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
        }
        reader.consume(n);
        if done {
            if too_long {
                buf.clear();
            }
            return Some(());
        }
    }
}

fn read_stdout(shared: Arc<Shared>, job: Arc<Job>, out: impl Read) {
    let mut reader = BufReader::with_capacity(64 << 10, out);
    let mut buf = Vec::new();
    while read_line(&mut reader, &mut buf).is_some() {
        let line = String::from_utf8_lossy(&buf);
        let info = {
            let mut d = job.lock();
            d.last_output = Instant::now();
            if !d.stream.feed(&line) {
                continue;
            }
            d.info.tool_calls = d.stream.tool_calls;
            d.info.tokens = d.stream.tokens;
            if !d.info.state.is_running() {
                continue;
            }
            d.snapshot()
        };
        shared.notify(&info);
    }
}

fn read_stderr(job: Arc<Job>, err: impl Read) {
    let mut reader = BufReader::new(err);
    let mut buf = Vec::new();
    while read_line(&mut reader, &mut buf).is_some() {
        let line = String::from_utf8_lossy(&buf);
        let mut d = job.lock();
        d.last_output = Instant::now();
        let line = first_line(&line, 300);
        if !line.is_empty() {
            d.last_stderr = Some(line);
        }
    }
}

/// Owns the child: watches it, delivers stop requests, decides how it ended, records it.
fn supervise(shared: Arc<Shared>, job: Arc<Job>, mut child: Child) {
    let pid = child.id();
    let readers = start_readers(&shared, &job, &mut child);
    watch_until_exit(&shared, &job, pid);
    // claude has exited but is not reaped yet: its group id cannot have been reused, so
    // whatever it left behind in its group can be stopped safely, and the pipes close.
    signal_group(pid, libc::SIGKILL);
    let status = child.wait().ok();
    let drain_until = Instant::now() + DRAIN_WAIT;
    for reader in readers {
        while !reader.is_finished() && Instant::now() < drain_until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if reader.is_finished() {
            let _ = reader.join();
        }
    }
    conclude(&shared, &job, status);
}

/// The threads reading the child's stdout (its events) and stderr (its last words).
fn start_readers(
    shared: &Arc<Shared>,
    job: &Arc<Job>,
    child: &mut Child,
) -> Vec<std::thread::JoinHandle<()>> {
    [
        child.stdout.take().and_then(|out| {
            let (s, j) = (shared.clone(), job.clone());
            std::thread::Builder::new()
                .name("ccx-job-out".into())
                .spawn(move || read_stdout(s, j, out))
                .ok()
        }),
        child.stderr.take().and_then(|err| {
            let j = job.clone();
            std::thread::Builder::new()
                .name("ccx-job-err".into())
                .spawn(move || read_stderr(j, err))
                .ok()
        }),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Watches the child until it has exited (without reaping it), delivering a stop request or
/// the idle timeout as SIGTERM to its group, then SIGKILL after [`KILL_GRACE`].
fn watch_until_exit(shared: &Shared, job: &Job, pid: u32) {
    let mut term_sent: Option<Instant> = None;
    let mut kill_sent = false;
    while !has_exited(pid) {
        let idle = Duration::from_millis(shared.idle_timeout_ms.load(Ordering::Relaxed));
        let stop = {
            let mut d = job.lock();
            if d.stop.is_none() && d.last_output.elapsed() >= idle {
                d.stop = Some(StopWhy::Idle);
            }
            d.stop
        };
        if stop.is_some() {
            match term_sent {
                None => {
                    signal_group(pid, libc::SIGTERM);
                    term_sent = Some(Instant::now());
                }
                Some(at) if !kill_sent && at.elapsed() >= KILL_GRACE => {
                    signal_group(pid, libc::SIGKILL);
                    kill_sent = true;
                }
                _ => {}
            }
        }
        std::thread::sleep(POLL);
    }
}

/// Once the child is reaped: decides how the job came out, records its turns, and tells.
fn conclude(shared: &Shared, job: &Job, status: Option<std::process::ExitStatus>) {
    let (state, report) = {
        let d = job.lock();
        let idle = Duration::from_millis(shared.idle_timeout_ms.load(Ordering::Relaxed));
        outcome(&d, status, idle)
    };
    let (id, session_id, task, prompt, stream) = {
        let mut d = job.lock();
        d.ended = Some(Instant::now());
        (
            d.info.id.clone(),
            d.info.session_id.clone(),
            d.info.task.clone(),
            d.prompt.clone(),
            d.stream.clone(),
        )
    };
    let branch = record(
        shared,
        &RecordJob {
            id: &id,
            session_id: &session_id,
            task: &task,
            prompt: &prompt,
            stream: &stream,
            killed: state != JobState::Done,
        },
    );
    let info = {
        let mut d = job.lock();
        d.info.state = state;
        d.info.report = report;
        d.info.branch = branch;
        d.snapshot()
    };
    job.ended.notify_all();
    shared.notify(&info);
}

/// How a job whose process has ended came out.
fn outcome(
    d: &JobData,
    status: Option<std::process::ExitStatus>,
    idle: Duration,
) -> (JobState, Option<String>) {
    use std::os::unix::process::ExitStatusExt;
    match d.stop {
        Some(StopWhy::Kill) => return (JobState::Killed, None),
        Some(StopWhy::Idle) => {
            return (
                JobState::Failed(format!(
                    "no output for {}; stopped",
                    duration_short(idle.as_secs())
                )),
                None,
            )
        }
        None => {}
    }
    if let Some(result) = &d.stream.result {
        return if result.succeeded() {
            (JobState::Done, Some(result.text.clone()))
        } else {
            (JobState::Failed(result.reason()), None)
        };
    }
    let how = match status {
        Some(s) if s.success() => "claude ended without a final report".to_owned(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("claude exited with status {code}"),
            (None, Some(sig)) => format!("claude was killed by signal {sig}"),
            _ => format!("claude ended: {s}"),
        },
        None => "claude ended (status unknown)".to_owned(),
    };
    let reason = match &d.last_stderr {
        Some(line) => format!("{how}: {line}"),
        None => how,
    };
    (JobState::Failed(first_line(&reason, 300)), None)
}

struct RecordJob<'a> {
    id: &'a str,
    session_id: &'a str,
    task: &'a str,
    prompt: &'a str,
    stream: &'a StreamState,
    /// Not Done: the last turn was cut short.
    killed: bool,
}

/// The job's transcript: where Claude Code puts it for cwd, else wherever it is found under
/// `projects/`.
fn find_transcript(shared: &Shared, session_id: &str) -> Option<PathBuf> {
    let config = paths::config_dir_with(|key| shared.var(key).map(OsString::from))?;
    let path = paths::transcript_path_in(&config, &shared.cwd, session_id);
    if path.is_file() {
        return Some(path);
    }
    let name = format!("{session_id}.jsonl");
    std::fs::read_dir(config.join("projects"))
        .ok()?
        .flatten()
        .map(|e| e.path().join(&name))
        .find(|p| p.is_file())
}

/// Records a finished job's turns as the branch `subagent-<id>-<session prefix>`; returns the
/// branch name, or None when there is no store or nothing to record.
fn record(shared: &Shared, job: &RecordJob) -> Option<String> {
    let store = shared.store.get(STORE_WAIT).ok()?;
    match record_in(shared, &store, job) {
        Ok(branch) => Some(branch),
        Err(e) => {
            crate::diag::log(&format!("recording subagent job #{}: {e:#}", job.id));
            None
        }
    }
}

fn record_in(shared: &Shared, store: &Store, job: &RecordJob) -> Result<String> {
    // The job's own name (not the first free one): recording the job again adds to it.
    let branch = crate::branch_names::candidates(crate::branch_names::NewBranch::Subagent {
        job: job.id,
        session: job.session_id,
    })
    .next()
    .unwrap_or_else(|| format!("subagent-{}", job.id));
    let lines = find_transcript(shared, job.session_id)
        .and_then(|p| transcript::read_transcript(&p).ok())
        .unwrap_or_default();
    let mut turns = transcript::split_turns(&lines);
    if turns.is_empty() {
        // No transcript (killed before claude wrote one): what the stream told.
        turns.push((
            Vec::new(),
            transcript::TurnFacts {
                prompt: Some(job.prompt.to_owned()),
                reply: job
                    .stream
                    .result
                    .as_ref()
                    .filter(|r| r.succeeded())
                    .map(|r| r.text.clone())
                    .unwrap_or_default(),
                context_tokens: job.stream.tokens,
                ..Default::default()
            },
        ));
    }
    let count = turns.len();
    for (k, (entries, facts)) in turns.into_iter().enumerate() {
        let stamp = |e: &Value| {
            e.get("timestamp")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let first_stamp = entries.iter().find_map(stamp);
        let last_stamp = entries.iter().rev().find_map(stamp);
        let prompt = facts.prompt.clone().unwrap_or_else(|| {
            if k == 0 {
                job.prompt.to_owned()
            } else {
                String::new()
            }
        });
        let turn = store.begin_turn(TurnStart {
            branch: branch.clone(),
            kind: TurnKind::Subagent,
            prompt: prompt.clone(),
            input: (k == 0).then(|| job.task.to_owned()),
            session_id: job.session_id.into(),
            started_at: first_stamp.unwrap_or_default(),
            ..Default::default()
        })?;
        let killed_here = job.killed && k + 1 == count;
        let mut end = facts.into_end(&prompt, last_stamp.unwrap_or_else(now_rfc3339), entries);
        end.interrupted |= killed_here;
        store.finish_turn(turn.id, end)?;
    }
    Ok(branch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = include_str!("../tests/fixtures/stream-json/reply.jsonl");
    const TOOL_WRITE: &str = include_str!("../tests/fixtures/stream-json/tool-write.jsonl");
    const DENIED: &str = include_str!("../tests/fixtures/stream-json/denied-write.jsonl");
    const ERROR_500: &str = include_str!("../tests/fixtures/stream-json/error-500.jsonl");

    fn feed_all(text: &str) -> StreamState {
        let mut s = StreamState::default();
        for line in text.lines() {
            s.feed(line);
        }
        s
    }

    #[test]
    fn parses_a_plain_reply() {
        let s = feed_all(REPLY);
        assert_eq!(s.session_id.as_ref().map(String::len), Some(36));
        assert_eq!(s.tool_calls, 0);
        assert_eq!(s.tokens, 720 + 200 + 100);
        let r = s.result.unwrap();
        assert!(r.succeeded());
        assert_eq!(r.text, "the answer is 42");
    }

    #[test]
    fn counts_tools_and_keeps_the_latest_context() {
        let s = feed_all(TOOL_WRITE);
        assert_eq!(s.tool_calls, 1);
        // The second API call, not the sum the result line reports.
        assert_eq!(s.tokens, 740 + 200 + 100);
        assert!(s.result.as_ref().unwrap().succeeded());
        assert!(s.result.unwrap().text.starts_with("wrote /"));
    }

    #[test]
    fn a_denied_permission_is_claudes_own_business() {
        let s = feed_all(DENIED);
        assert_eq!(s.tool_calls, 1);
        let r = s.result.unwrap();
        assert!(r.succeeded());
        assert!(r.text.starts_with("write failed:"));
    }

    #[test]
    fn an_api_error_is_a_failure_with_a_reason() {
        let s = feed_all(ERROR_500);
        // The synthetic error message has zero usage and does not count.
        assert_eq!(s.tokens, 0);
        let r = s.result.unwrap();
        assert_eq!(r.subtype, "success");
        assert!(r.is_error && !r.succeeded());
        assert!(r.reason().starts_with("API Error: 500"), "{}", r.reason());
        assert!(!r.reason().contains('\n'));
    }

    #[test]
    fn feed_ignores_noise_and_dedups_tool_ids() {
        let mut s = StreamState::default();
        assert!(!s.feed("not json"));
        assert!(!s.feed(""));
        assert!(!s.feed("[1,2]"));
        let tool = r#"{"type":"assistant","message":{"model":"m","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{}}],"usage":{"input_tokens":10}},"parent_tool_use_id":null}"#;
        assert!(s.feed(tool));
        assert!(!s.feed(tool));
        assert_eq!(s.tool_calls, 1);
        assert_eq!(s.tokens, 10);
        // A nested subagent's call counts as a tool, but its context is not the job's.
        let nested = r#"{"type":"assistant","message":{"model":"m","content":[{"type":"tool_use","id":"t2","name":"Read","input":{}}],"usage":{"input_tokens":99999}},"parent_tool_use_id":"t1"}"#;
        assert!(s.feed(nested));
        assert_eq!((s.tool_calls, s.tokens), (2, 10));
        let err = r#"{"type":"result","subtype":"error_max_turns","is_error":true,"errors":["too many turns"]}"#;
        assert!(s.feed(err));
        assert_eq!(s.result.as_ref().unwrap().reason(), "too many turns");
    }

    fn info(state: JobState, secs: u64, tools: u64, tokens: u64, task: &str) -> JobInfo {
        JobInfo {
            id: "2".into(),
            task: task.into(),
            state,
            started_at: String::new(),
            elapsed_secs: secs,
            tool_calls: tools,
            tokens,
            report: None,
            session_id: String::new(),
            branch: None,
            pulled: false,
        }
    }

    #[test]
    fn job_lines() {
        assert_eq!(
            job_line(&info(
                JobState::Running,
                72,
                7,
                23_400,
                "find the bug\nin detail"
            )),
            "#2 running 1m12s · 7 tools · 23k ctx · find the bug"
        );
        assert_eq!(
            job_line(&info(JobState::Done, 5, 1, 950, "x")),
            "#2 done 5s · 1 tool · 950 ctx · x"
        );
        assert_eq!(
            job_line(&info(JobState::Killed, 3725, 0, 1_250_000, "y")),
            "#2 killed 1h02m · 0 tools · 1.2M ctx · y"
        );
        let long = "a".repeat(100);
        let line = job_line(&info(
            JobState::Failed("API Error: 500\nmore".into()),
            0,
            0,
            0,
            &long,
        ));
        assert!(line.ends_with("… — API Error: 500"), "{line}");
        assert!(line.contains(&"a".repeat(59)) && !line.contains(&"a".repeat(60)));
    }

    #[test]
    fn a_job_is_pulled_once_and_the_footer_stops_offering_it() {
        let dir = tempfile::tempdir().unwrap();
        // A stand-in for claude that prints a finished run's stream.
        let fixture = dir.path().join("reply.jsonl");
        std::fs::write(&fixture, REPLY).unwrap();
        let fake = crate::test_support::script(
            dir.path(),
            "claude",
            &format!("cat '{}'", fixture.display()),
        );
        let slot = StoreSlot::default();
        slot.fill(Err("no store in this test".into()));
        let seen = Arc::new(Mutex::new(Vec::<JobInfo>::new()));
        let s2 = seen.clone();
        let m = JobManager::new(
            fake,
            dir.path().to_path_buf(),
            Vec::new(),
            slot,
            Templates::default(),
            Box::new(move |i| s2.lock().unwrap().push(i.clone())),
        );
        let id = m.start("find the answer", None).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while m.get(&id).unwrap().state.is_running() {
            assert!(Instant::now() < deadline, "the job never ended");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(m.get(&id).unwrap().state, JobState::Done);
        let footer = |m: &JobManager| footer_summary(&m.list());
        assert_eq!(footer(&m).as_deref(), Some("job #1 done: :pull 1"));
        assert_eq!(m.latest_done().map(|j| j.id), Some("1".to_string()));

        let (info, report) = m.take_report("#1").unwrap();
        assert_eq!(report, "the answer is 42");
        assert!(info.pulled && m.get("1").unwrap().pulled);
        // The change reached the footer's reporter, and the footer no longer offers it.
        assert!(seen.lock().unwrap().last().unwrap().pulled);
        assert_eq!(footer(&m), None);
        assert!(job_line(&m.get("1").unwrap()).ends_with(" · pulled"));
        assert_eq!(
            m.latest_done(),
            None,
            "a pulled job is not the default any more"
        );
        // A second pull says so and hands out nothing.
        let again = m.take_report("1").unwrap_err().to_string();
        assert_eq!(again, "job #1's report was pulled already; nothing sent");
        assert_eq!(
            m.take_report("7").unwrap_err().to_string(),
            "no job #7 (:jobs lists them)"
        );
        m.shutdown();
    }

    #[test]
    fn the_footer_counts_running_jobs_and_names_the_last_ended() {
        let running = info(JobState::Running, 1, 0, 0, "a");
        let done = JobInfo {
            id: "3".into(),
            ..info(JobState::Done, 1, 0, 0, "b")
        };
        assert_eq!(footer_summary(&[]), None);
        assert_eq!(
            footer_summary(&[running.clone(), done.clone()]).as_deref(),
            Some("1 job running, job #3 done: :pull 3")
        );
        let pulled = JobInfo {
            pulled: true,
            ..done
        };
        assert_eq!(
            footer_summary(&[running.clone(), pulled]).as_deref(),
            Some("1 job running")
        );
        let failed = info(JobState::Failed("boom".into()), 1, 0, 0, "c");
        assert_eq!(
            footer_summary(&[running.clone(), running, failed]).as_deref(),
            Some("2 jobs running, job #2 failed")
        );
    }

    #[test]
    fn long_lines_are_skipped_not_buffered_forever() {
        let data = b"short\nsecond".to_vec();
        let mut r = BufReader::with_capacity(2, &data[..]);
        let mut buf = Vec::new();
        assert!(read_line(&mut r, &mut buf).is_some());
        assert_eq!(buf, b"short\n");
        assert!(read_line(&mut r, &mut buf).is_some());
        assert_eq!(buf, b"second");
        assert!(read_line(&mut r, &mut buf).is_none());
    }

    #[test]
    fn a_missing_claude_fails_at_once() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let m = JobManager::new(
            PathBuf::from("/nonexistent/claude"),
            std::env::temp_dir(),
            Vec::new(),
            StoreSlot::default(),
            Templates::default(),
            Box::new(move |i| s2.lock().unwrap().push(i.clone())),
        );
        assert!(m.start("  ", None).is_err());
        let id = m.start("do it", None).unwrap();
        assert_eq!(id, "1");
        let info = m.get("#1").unwrap();
        match &info.state {
            JobState::Failed(r) => assert!(r.contains("cannot start /nonexistent/claude"), "{r}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(m.kill("1").unwrap_err().to_string().contains("not running"));
        assert!(m.kill("9").unwrap_err().to_string().contains("jobs: #1"));
        assert_eq!(m.latest_done(), None);
        m.shutdown();
    }
}

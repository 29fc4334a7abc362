//! Test environment and PTY driver for end-to-end tests against the real Claude Code CLI.
//!
//! [`TestEnv`] makes a private world per test: a temp dir with its own `HOME` (whose
//! `.claude.json` skips onboarding, approves the API key and trusts the project), a project
//! directory, a ccx data dir and a running [`StandIn`]. [`TestEnv::vars`] is the full environment
//! for child processes (start from `env_clear`); [`TestEnv::command`] builds a
//! `std::process::Command` with it; [`PtySession`] runs a program in a real PTY with a vt100
//! screen model, for the interactive TUI. The Claude Code version is the pinned one, or
//! `$CCX_TEST_CLAUDE_VERSION` ([`claude_path`]), so the same tests run against any version.
//!
//! Facts used here (Claude Code 2.1.330, measured on 2 cores):
//! - the TUI shows its prompt `❯` 0.5–1.5 s after start (no first-run screen with the
//!   `.claude.json` written here); text written to the PTY followed by a *separate* `\r` write
//!   submits it ([`PtySession::submit`] pauses 300 ms before the `\r`). `/exit` exits 0.
//! - permissions: pass `--permission-mode acceptEdits` whenever a turn uses a tool. `-p` refuses a
//!   `Write` without it; the TUI's default `auto` mode runs a `Write` in the project but stops at
//!   a dialog for the `Agent` tool (its safety check needs the real server);
//!   `--dangerously-skip-permissions` is refused when running as root.
//! - closing every master fd of the PTY ([`PtySession::close_pty`]) hangs up claude: it exits
//!   (code 0) within ~0.3 s, firing `SessionEnd` with `reason: "other"` (no `Stop` mid-turn).
//! - `-p` needs stdin not to be a terminal or an open pipe: [`TestEnv::command`] sets it to null.

#![allow(dead_code)]

use super::standin::StandIn;
use super::terminal::{Personality, Responder};
use portable_pty::{CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The API key the tests use (any string works against the stand-in).
pub const API_KEY: &str = "sk-ant-api03-ccx-test-key-0123456789abcdefghijklmnopqrstuvwxyz-AA";

/// The environment variable choosing which Claude Code version the end-to-end tests run
/// (`scripts/compat.sh` sets it per version); unset means the pinned one.
pub const VERSION_VAR: &str = "CCX_TEST_CLAUDE_VERSION";

/// The Claude Code version the tests run: `$CCX_TEST_CLAUDE_VERSION`, else the pinned one
/// (`None`: whatever `scripts/install-claude.sh` pins).
pub fn claude_version_under_test() -> Option<String> {
    std::env::var(VERSION_VAR)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Path of the Claude Code executable under test ([`claude_version_under_test`]); installs it
/// (once per test binary) via `scripts/install-claude.sh` if missing.
pub fn claude_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| install_claude(claude_version_under_test().as_deref()))
        .clone()
}

/// Path of the pinned Claude Code executable, whatever version is under test.
pub fn pinned_claude_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| install_claude(None)).clone()
}

/// Runs `scripts/install-claude.sh` for `version` (`None`: the pinned one) and returns the
/// executable's path.
fn install_claude(version: Option<&str>) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("scripts/install-claude.sh"))
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    match version {
        Some(v) => cmd.env("CLAUDE_CODE_VERSION", v),
        None => cmd.env_remove("CLAUDE_CODE_VERSION"),
    };
    let out = cmd.output().expect("running scripts/install-claude.sh");
    assert!(
        out.status.success(),
        "scripts/install-claude.sh failed: {}",
        out.status
    );
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
    assert!(p.is_file(), "claude executable missing: {}", p.display());
    p
}

/// How long a test's leftover processes get to die before its temp dir is removed.
const LEFTOVER_GRACE: Duration = Duration::from_secs(10);

/// The processes started from one test's environment: those whose `HOME` is its private home
/// (ccx, claude, hooks, subagents; nothing else has that HOME).
fn processes_with_home(home: &Path) -> Vec<u32> {
    let mut needle = b"HOME=".to_vec();
    needle.extend_from_slice(home.as_os_str().as_encoded_bytes());
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && pid_alive(pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|var| var == needle.as_slice()))
                .unwrap_or(false)
        })
        .collect()
}

impl Drop for TestEnv {
    /// Prints what Claude Code sent in this test that ccx did not know ([`ccx::unknowns`]);
    /// ends whatever this test started that is still running (a claude that outlived its ccx
    /// would go on writing into the private home), then removes the temp dir, retrying while
    /// a process that just died may still be flushing; says so when it cannot.
    fn drop(&mut self) {
        for seen in ccx::unknowns::read_seen(&ccx::unknowns::seen_file(&self.data_dir)) {
            println!("{UNKNOWN_MARK}{} {:?}", seen.kind.label(), seen.name);
        }
        let deadline = Instant::now() + LEFTOVER_GRACE;
        loop {
            let left = processes_with_home(&self.home);
            if left.is_empty() || Instant::now() >= deadline {
                break;
            }
            for pid in left {
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGKILL);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let root = self.dir.path().to_path_buf();
        if !remove_tree(&root, 20, Duration::from_millis(100)) {
            eprintln!(
                "warning: could not remove the test's temp dir {}",
                root.display()
            );
        }
    }
}

/// Path of the ccx binary built for this test run (only valid inside integration tests of the
/// `ccx` package).
pub fn ccx_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ccx"))
}

/// A private world for one test. Dropping it stops the stand-in and deletes the temp dir.
pub struct TestEnv {
    pub standin: StandIn,
    /// Private `HOME`.
    pub home: PathBuf,
    /// Project directory (canonical absolute path); the cwd of commands and PTY sessions.
    pub project: PathBuf,
    /// `CCX_DATA_DIR`.
    pub data_dir: PathBuf,
    /// Scratch space inside the temp dir (not the project), e.g. for hook logs.
    pub scratch: PathBuf,
    extra: Vec<(String, String)>,
    // last: removed after everything above is done with it
    dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("ccx-e2e-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path().canonicalize().expect("canonicalize temp dir");
        let home = root.join("home");
        let project = root.join("project");
        let data_dir = root.join("ccx-data");
        let scratch = root.join("scratch");
        for d in [&home, &project, &data_dir, &scratch, &root.join("tmp")] {
            std::fs::create_dir_all(d).expect("create test dirs");
        }
        let project = project.canonicalize().expect("canonicalize project");
        let env = TestEnv {
            standin: StandIn::start(),
            home,
            project,
            data_dir,
            scratch,
            extra: Vec::new(),
            dir,
        };
        env.write_claude_json();
        env
    }

    fn write_claude_json(&self) {
        let key_tail: String = {
            let chars: Vec<char> = API_KEY.chars().collect();
            chars[chars.len().saturating_sub(20)..].iter().collect()
        };
        let project = self.project.to_string_lossy().to_string();
        let cfg = serde_json::json!({
            "hasCompletedOnboarding": true,
            "lastOnboardingVersion": "2.1.330",
            "theme": "dark",
            "numStartups": 1,
            "bypassPermissionsModeAccepted": true,
            "autoUpdates": false,
            "customApiKeyResponses": { "approved": [key_tail], "rejected": [] },
            "projects": {
                project: {
                    "hasTrustDialogAccepted": true,
                    "hasCompletedProjectOnboarding": true,
                    "projectOnboardingSeenCount": 1,
                    "allowedTools": []
                }
            }
        });
        std::fs::write(
            self.home.join(".claude.json"),
            serde_json::to_string_pretty(&cfg).unwrap(),
        )
        .expect("write .claude.json");
    }

    /// ccx's runtime dir for this env's processes (`$TMPDIR/ccx-<uid>`: the env's `TMPDIR` is
    /// private to the test), where the sockets of running sessions live.
    pub fn runtime_dir(&self) -> PathBuf {
        let uid = unsafe { libc::getuid() };
        self.root().join("tmp").join(format!("ccx-{uid}"))
    }

    /// The temp dir holding home, project, data dir and scratch.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Add (or override) an environment variable for every child started from this env.
    pub fn set_var(&mut self, key: &str, value: &str) {
        self.extra.retain(|(k, _)| k != key);
        self.extra.push((key.to_string(), value.to_string()));
    }

    /// The complete environment for child processes (use with `env_clear`).
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, val: String| {
            v.retain(|(key, _)| key != k);
            v.push((k.to_string(), val));
        };
        set(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        );
        let real_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        set(
            "RUSTUP_HOME",
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup")),
        );
        set(
            "CARGO_HOME",
            std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{real_home}/.cargo")),
        );
        set("HOME", self.home.to_string_lossy().into());
        set(
            "USER",
            std::env::var("USER").unwrap_or_else(|_| "root".into()),
        );
        set("SHELL", "/bin/bash".into());
        set("LANG", "C.UTF-8".into());
        set("TERM", "xterm-256color".into());
        // A private TMPDIR: Claude's scratch folders and sockets, and ccx's runtime dir, go
        // inside the test's temp dir and are removed with it.
        set("TMPDIR", self.root().join("tmp").to_string_lossy().into());
        set("ANTHROPIC_BASE_URL", self.standin.url());
        set("ANTHROPIC_API_KEY", API_KEY.into());
        set("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into());
        set("DISABLE_AUTOUPDATER", "1".into());
        set("CCX_DATA_DIR", self.data_dir.to_string_lossy().into());
        set("CCX_CLAUDE", claude_path().to_string_lossy().into());
        for (k, val) in &self.extra {
            set(k, val.clone());
        }
        v.retain(|(k, _)| !k.starts_with("CLAUDECODE"));
        v
    }

    /// A command with exactly [`vars`](Self::vars) as environment, cwd = project, stdin null.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .envs(self.vars())
            .current_dir(&self.project)
            .stdin(Stdio::null());
        c
    }

    /// `claude` with the env; add args yourself.
    pub fn claude(&self) -> Command {
        self.command(claude_path())
    }

    /// One `claude -p PROMPT` run in `dir` per prompt, all in the session `session`:
    /// `--session-id` first (`--resume` when `resume`, to continue it), `--resume` after. Each
    /// run must succeed.
    pub fn claude_print(&self, dir: &Path, session: &str, prompts: &[&str], resume: bool) {
        for (i, prompt) in prompts.iter().enumerate() {
            let how = if i == 0 && !resume {
                "--session-id"
            } else {
                "--resume"
            };
            let mut cmd = self.claude();
            cmd.current_dir(dir).args(["-p", how, session, prompt]);
            let out = output_with_timeout(&mut cmd, Duration::from_secs(120)).expect("claude -p");
            assert!(
                out.status.success(),
                "claude -p failed: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// `~/.claude/projects` of the private HOME.
    pub fn transcripts_root(&self) -> PathBuf {
        self.home.join(".claude").join("projects")
    }

    /// Delete every transcript, as Claude Code's clean-up sweep does. A live Claude may
    /// write a line into its session directory while the tree is being removed (the
    /// removal then meets a directory that is no longer empty), so the removal runs again
    /// until the tree is gone, a bounded number of times.
    pub fn remove_transcripts(&self) {
        let root = self.transcripts_root();
        if !remove_tree(&root, 50, Duration::from_millis(20)) {
            panic!("could not remove {} in 50 tries", root.display());
        }
    }

    /// Find `<session_id>.jsonl` under `~/.claude/projects/*/`.
    pub fn transcript_path(&self, session_id: &str) -> Option<PathBuf> {
        let name = format!("{session_id}.jsonl");
        for e in std::fs::read_dir(self.transcripts_root()).ok()?.flatten() {
            let p = e.path().join(&name);
            if p.is_file() {
                return Some(p);
            }
        }
        None
    }

    /// Parsed lines of a session's transcript (empty if there is none yet).
    pub fn transcript_lines(&self, session_id: &str) -> Vec<serde_json::Value> {
        self.transcript_path(session_id)
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|s| {
                s.lines()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `--settings` JSON installing hooks for SessionStart, UserPromptSubmit, Stop, PreCompact
    /// and SubagentStop that append each payload (one JSON per line) to `log`.
    pub fn hook_logging_settings(log: &Path) -> String {
        let cmd = format!(
            "cat >> '{0}'; echo >> '{0}'",
            log.to_string_lossy().replace('\'', "'\\''")
        );
        let entry = serde_json::json!([{ "hooks": [{ "type": "command", "command": cmd }] }]);
        serde_json::json!({
            "hooks": {
                "SessionStart": entry,
                "UserPromptSubmit": entry,
                "Stop": entry,
                "PreCompact": entry,
                "SubagentStop": entry,
            }
        })
        .to_string()
    }
}

/// Starts each line a test prints for what Claude Code sent that ccx did not know
/// (`scripts/compat.sh` collects them from tests run with `--nocapture`).
pub const UNKNOWN_MARK: &str = "ccx-compat-unknown: ";

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv::new()
    }
}

/// Parse a JSON-lines log (like the one [`TestEnv::hook_logging_settings`] writes).
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim().is_empty())
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Poll `f` every 50 ms until it returns `Some`, or `None` after `timeout`.
pub fn wait_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The standard output of `out`, a process that must have succeeded (else the test fails,
/// showing both its streams).
pub fn stdout_of_success(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}: {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `git ARGS` run in `dir` (a fixed identity for commits, no optional locks), which must
/// succeed: its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t");
    let out = output_with_timeout(&mut cmd, Duration::from_secs(60)).expect("git finished");
    stdout_of_success(&out)
}

/// Writes an executable `sh` script `body` as `dir/name` and returns its path.
pub fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Reads `from` to its end on a thread of its own; the thread returns what it read.
fn read_to_end_in_thread(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut read = Vec::new();
        let _ = from.read_to_end(&mut read);
        read
    })
}

/// Run `cmd` (stdout/stderr captured) and wait at most `timeout`; on timeout the process is
/// killed and `Err` says so with what it printed.
pub fn output_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<Output, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {cmd:?}: {e}"))?;
    // Both pipes drained at once, so a child filling one never blocks on it.
    let t_out = read_to_end_in_thread(child.stdout.take().unwrap());
    let t_err = read_to_end_in_thread(child.stderr.take().unwrap());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    // Grandchildren may hold the pipes open: don't wait for them forever.
    let join = |t: std::thread::JoinHandle<Vec<u8>>| {
        let until = Instant::now() + Duration::from_secs(5);
        while !t.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if t.is_finished() {
            t.join().unwrap_or_default()
        } else {
            Vec::new()
        }
    };
    let stdout = join(t_out);
    let stderr = join(t_err);
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(format!(
            "timed out after {timeout:?}: {cmd:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        )),
    }
}

struct Screen {
    parser: vt100::Parser,
    raw: Vec<u8>,
    eof: bool,
}

/// A program running in a real PTY, with a vt100 model of its screen.
pub struct PtySession {
    screen: Arc<Mutex<Screen>>,
    tx: Option<mpsc::Sender<Vec<u8>>>,
    child: Mutex<Box<dyn portable_pty::Child + Send + Sync>>,
    exit: Mutex<Option<u32>>,
    master: Mutex<Option<Box<dyn MasterPty + Send>>>,
    pid: u32,
    cols: u16,
    rows: u16,
    stop: Arc<AtomicBool>,
}

impl PtySession {
    /// Spawn `program args` in a new PTY of `cols`×`rows`, in the env's project dir, with
    /// exactly the env's variables.
    pub fn spawn(
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
        env: &TestEnv,
        cols: u16,
        rows: u16,
    ) -> PtySession {
        let terminal = Personality::from_env();
        Self::spawn_as(
            terminal,
            program,
            args,
            &env.vars(),
            &env.project,
            cols,
            rows,
        )
    }

    /// Spawn with the environment `vars` in `cwd`, in a terminal that answers queries as
    /// `terminal` does (see [`super::terminal`]; `Personality::from_env()` for the test
    /// run's); each reply is written in two pieces, split at a different byte
    /// each time, as a slow terminal or link may deliver it.
    pub fn spawn_as(
        terminal: Personality,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
        vars: &[(String, String)],
        cwd: &Path,
        cols: u16,
        rows: u16,
    ) -> PtySession {
        let pty = portable_pty::native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env_clear();
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.cwd(cwd);
        let child = pair.slave.spawn_command(cmd).expect("spawn in pty");
        drop(pair.slave);
        let pid = child.process_id().expect("child pid");
        // Our own duplicates of the master fd: unlike portable-pty's writer, dropping them sends
        // nothing to the child, and the reader polls so it can let go of its fd on request.
        let master_fd = pair.master.as_raw_fd().expect("master fd");
        let reader = dup_file(master_fd);
        let mut writer = dup_file(master_fd);

        let screen = Arc::new(Mutex::new(Screen {
            parser: new_parser(rows, cols),
            raw: Vec::new(),
            eof: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let scr = screen.clone();
        let stop_r = stop.clone();
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let answers = tx.clone();
        let mut responder = Responder::new(terminal);
        let mut replies_sent = 0usize;
        std::thread::Builder::new()
            .name("pty-reader".into())
            .spawn(move || {
                let mut reader = reader;
                let mut buf = [0u8; 8192];
                loop {
                    if stop_r.load(Ordering::SeqCst) {
                        break;
                    }
                    let mut pfd = libc::pollfd {
                        fd: reader.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    let r = unsafe { libc::poll(&mut pfd, 1, 100) };
                    if r == 0
                        || (r < 0
                            && std::io::Error::last_os_error().kind()
                                == std::io::ErrorKind::Interrupted)
                    {
                        continue;
                    }
                    // EIO once every holder of the slave has closed it: end of output.
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                        Ok(n) => {
                            for reply in responder.replies(&buf[..n]) {
                                // Two pieces with a pause between: split at any byte.
                                let cut = 1 + replies_sent % (reply.len() - 1).max(1);
                                replies_sent += 1;
                                let (a, b) = reply.split_at(cut.min(reply.len()));
                                let _ = answers.send(a.to_vec());
                                let _ = answers.send(Vec::new());
                                let _ = answers.send(b.to_vec());
                            }
                            let mut s = scr.lock().unwrap_or_else(|e| e.into_inner());
                            s.raw.extend_from_slice(&buf[..n]);
                            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                s.parser.process(&buf[..n])
                            }));
                            if r.is_err() {
                                // The model is unusable after a panic: start a fresh one.
                                s.parser = new_parser(rows, cols);
                            }
                        }
                    }
                }
                scr.lock().unwrap_or_else(|e| e.into_inner()).eof = true;
            })
            .expect("spawn reader thread");
        std::thread::Builder::new()
            .name("pty-writer".into())
            .spawn(move || {
                while let Ok(bytes) = rx.recv() {
                    if bytes.is_empty() {
                        // A pause inside a terminal reply.
                        std::thread::sleep(Duration::from_millis(3));
                        continue;
                    }
                    if writer.write_all(&bytes).is_err() || writer.flush().is_err() {
                        break;
                    }
                }
            })
            .expect("spawn writer thread");
        PtySession {
            screen,
            tx: Some(tx),
            child: Mutex::new(child),
            exit: Mutex::new(None),
            master: Mutex::new(Some(pair.master)),
            pid,
            cols,
            rows,
            stop,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Write raw bytes to the program (through the writer thread; nothing for no bytes).
    pub fn send(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(tx) = &self.tx {
            let _ = tx.send(bytes.to_vec());
        }
    }

    /// Type text (no Enter).
    pub fn type_text(&self, text: &str) {
        self.send(text.as_bytes());
    }

    /// Press Enter: a separate `\r` write, after a short pause so it is not read together with
    /// the typed text (Claude treats one read of text + `\r` as a paste).
    pub fn submit(&self) {
        std::thread::sleep(Duration::from_millis(300));
        self.send(b"\r");
    }

    /// `type_text(text)` then `submit()`, once the program shows the end of the text (it has
    /// read it): on a loaded machine a program that reads late would otherwise get the text
    /// and the `\r` in one read, and take them for a paste. Bounded: after a while it presses
    /// Enter anyway (text the program shows differently).
    pub fn type_and_submit(&self, text: &str) {
        self.type_text(text);
        let tail: String = {
            let chars: Vec<char> = text.trim_end().chars().collect();
            chars[chars.len().saturating_sub(12)..].iter().collect()
        };
        if !tail.is_empty() {
            let _ = self.wait_for(Duration::from_secs(10), |screen| {
                screen.contains(&tail) || screen.replace('\n', "").contains(&tail)
            });
        }
        self.submit();
    }

    /// The screen's text (rows joined by `\n`, trailing blanks trimmed).
    pub fn screen(&self) -> String {
        self.screen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .parser
            .screen()
            .contents()
    }

    /// Everything the program wrote so far.
    pub fn raw_output(&self) -> Vec<u8> {
        self.screen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .raw
            .clone()
    }

    /// Whether the reader saw EOF (all holders of the PTY slave closed it).
    pub fn output_closed(&self) -> bool {
        self.screen.lock().unwrap_or_else(|e| e.into_inner()).eof
    }

    /// Wait until the screen contains `needle`; `Err` holds the screen at timeout.
    pub fn wait_for_text(&self, needle: &str, timeout: Duration) -> Result<(), String> {
        self.wait_for(timeout, |s| s.contains(needle))
            .map_err(|screen| {
                format!("timed out after {timeout:?} waiting for {needle:?}; screen:\n{screen}")
            })
    }

    /// Wait until `pred(screen)` holds; `Err(screen)` at timeout.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if pred(&s) {
                return Ok(());
            }
            if let Some(code) = self.try_exit() {
                // Give the reader a moment to drain the last output, then look once more.
                std::thread::sleep(Duration::from_millis(200));
                let s = self.screen();
                if pred(&s) {
                    return Ok(());
                }
                return Err(format!("[process exited with code {code}]\n{s}"));
            }
            if Instant::now() >= deadline {
                return Err(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Exit code if the program has exited (128 + signal number is not available: a signal
    /// death reports 1, see portable-pty).
    pub fn try_exit(&self) -> Option<u32> {
        let mut exit = self.exit.lock().unwrap();
        if exit.is_none() {
            if let Ok(Some(st)) = self.child.lock().unwrap().try_wait() {
                *exit = Some(st.exit_code());
            }
        }
        *exit
    }

    /// Wait up to `timeout` for the program to exit; its exit code, or `None` if still running.
    pub fn wait_exit(&self, timeout: Duration) -> Option<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(c) = self.try_exit() {
                return Some(c);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL the child (by PID, only if it has not been reaped yet).
    pub fn kill_9(&self) {
        if self.try_exit().is_none() {
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }

    /// Close our side of the PTY (every master fd: writer, reader within 100 ms, master) without
    /// killing the child, as a dying terminal or proxy would: the kernel then hangs up the
    /// child's session (SIGHUP to the session leader).
    pub fn close_pty(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.tx = None;
        self.master.lock().unwrap().take();
    }

    /// Change the PTY size (and the screen model's).
    pub fn resize(&mut self, cols: u16, rows: u16) {
        if let Some(m) = self.master.lock().unwrap().as_ref() {
            let _ = m.resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            });
        }
        self.screen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .parser
            .set_size(nz(rows), nz(cols));
        self.cols = cols;
        self.rows = rows;
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        if self.try_exit().is_none() {
            let pid = self.pid as libc::pid_t;
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                // The child is a session (and process group) leader: take its helpers with it.
                libc::kill(-pid, libc::SIGKILL);
            }
            self.wait_exit(Duration::from_secs(5));
        }
        self.stop.store(true, Ordering::SeqCst);
        self.tx = None;
        self.master.lock().unwrap().take();
    }
}

fn dup_file(fd: std::os::fd::RawFd) -> std::fs::File {
    use std::os::fd::FromRawFd;
    let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    assert!(
        d >= 0,
        "dup pty master: {}",
        std::io::Error::last_os_error()
    );
    unsafe { std::fs::File::from_raw_fd(d) }
}

/// The PIDs of the processes whose parent is `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_string))
                })
                .is_some_and(|ppid| ppid == pid.to_string())
        })
        .collect()
}

/// Whether a process with this PID exists (and is not a zombie).
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            // state is the field after the ")" of the command name
            let state = s
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start())
                .unwrap_or("");
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n.max(1)).unwrap()
}

fn new_parser(rows: u16, cols: u16) -> vt100::Parser {
    vt100::Parser::new(nz(rows), nz(cols), 1000)
}

/// Removes the folder `root` and all under it, trying again up to `tries` times, `pause` apart,
/// while something still writes into it; whether it is gone.
fn remove_tree(root: &Path, tries: usize, pause: Duration) -> bool {
    for _ in 0..tries {
        match std::fs::remove_dir_all(root) {
            Ok(()) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            Err(_) => std::thread::sleep(pause),
        }
    }
    !root.exists()
}

//! The receiving end of the hook bridge: a Unix socket in a private directory (0700, socket
//! 0600) where ccx's own hook processes report. A message is accepted only with this run's
//! secret, and (SessionStart aside) only for sessions this ccx runs; everything else is
//! logged, counted and dropped. Runs on a small tokio runtime on its own thread.
//!
//! The socket's path and the secret reach the hook processes through a key file (0600, in the
//! run directory) named in the hook command itself — never through the environment, which
//! every process Claude runs (each Bash tool call) would inherit.

use super::wire::{HookEvent, HookMessage, MAX_HOOK_MESSAGE_BYTES};
use crate::diag;
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Environment variables through which claude's hook processes find this ccx.
pub const ENV_SOCKET: &str = "CCX_HOOK_SOCKET";
pub const ENV_SECRET: &str = "CCX_HOOK_SECRET";

/// The file in the run directory holding the socket path and the secret for the hooks.
pub const KEY_FILE: &str = "hook.key";

/// What the key file holds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct HookKey {
    socket: PathBuf,
    secret: String,
}

/// The socket and secret a hook process reports with: from the key file named by `key_file`
/// (its argument), else (a claude started by an older ccx) from the environment.
pub fn hook_credentials(key_file: Option<std::ffi::OsString>) -> Option<(PathBuf, String)> {
    match key_file {
        Some(path) => {
            let key: HookKey = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
            Some((key.socket, key.secret))
        }
        None => Some((
            PathBuf::from(std::env::var_os(ENV_SOCKET)?),
            std::env::var(ENV_SECRET).ok()?,
        )),
    }
}

/// How long one hook connection may take to deliver its message.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection may send nothing before it is cut: a real hook writes its line in
/// microseconds, so a connection that stalls only holds a slot another hook may need (the
/// hook tries again if it was the one cut).
const IDLE_TIMEOUT: Duration = Duration::from_millis(250);
/// How many recent message nonces are remembered (a hook that retries sends its nonce again).
const RECENT_NONCES: usize = 1024;

/// Counts of what the bridge accepted and dropped.
#[derive(Debug, Default)]
pub struct BridgeStats {
    pub accepted: AtomicU64,
    pub dropped: AtomicU64,
}

/// A running bridge. Dropping it removes its directory (and socket).
pub struct Bridge {
    pub socket_path: PathBuf,
    pub secret: String,
    pub stats: Arc<BridgeStats>,
    sessions: Arc<Mutex<HashSet<String>>>,
    dir: PathBuf,
}

impl Bridge {
    /// Listens in a new private directory under `runtime_dir`; accepted events go to `deliver`.
    pub fn start(
        runtime_dir: &Path,
        deliver: impl Fn(HookEvent) + Send + Sync + 'static,
    ) -> Result<Bridge> {
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        remove_stale_run_dirs(runtime_dir);
        // Named apart from the secret: nothing of it shows in a path.
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let dir = runtime_dir.join(format!("run-{}-{}", std::process::id(), &tag[..8]));
        crate::paths::ensure_private_dir(&dir)?;
        let socket_path = dir.join("hook.sock");
        let std_listener = std::os::unix::net::UnixListener::bind(&socket_path)
            .with_context(|| format!("cannot listen on {}", socket_path.display()))?;
        std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o600))?;
        write_key(
            &dir.join(KEY_FILE),
            &HookKey {
                socket: socket_path.clone(),
                secret: secret.clone(),
            },
        )?;
        std_listener.set_nonblocking(true)?;
        let stats = Arc::new(BridgeStats::default());
        let sessions = Arc::new(Mutex::new(HashSet::new()));
        let gate = Gate {
            secret: secret.clone(),
            recent: Mutex::new(std::collections::VecDeque::new()),
            sessions: sessions.clone(),
            stats: stats.clone(),
            deliver: Box::new(deliver),
        };
        std::thread::Builder::new()
            .name("ccx-hook-bridge".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => return diag::log(&format!("hook bridge: no runtime: {e}")),
                };
                runtime.block_on(serve(std_listener, Arc::new(gate)));
            })?;
        Ok(Bridge {
            socket_path,
            secret,
            stats,
            sessions,
            dir,
        })
    }

    /// The bridge's private run directory (the status line's files live there too).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Accepts events for `session_id` from now on (a session ccx started or resumed).
    pub fn allow_session(&self, session_id: &str) {
        lock(&self.sessions).insert(session_id.to_string());
    }

    /// The key file a hook command names (see the module doc).
    pub fn key_file(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Notes what an admitted payload holds that this ccx does not know (see [`crate::unknowns`]).
fn note_unknowns(payload: &serde_json::Value) {
    use crate::unknowns::{note, unknown_fields, Kind, KNOWN_HOOK_FIELDS};
    note(Kind::HookField, unknown_fields(payload, KNOWN_HOOK_FIELDS));
    let mistyped = super::wire::mistyped_fields(payload);
    note(
        Kind::HookFieldType,
        mistyped.into_iter().map(str::to_string).collect(),
    );
}

/// Decides what may pass.
struct Gate {
    secret: String,
    recent: Mutex<std::collections::VecDeque<String>>,
    sessions: Arc<Mutex<HashSet<String>>>,
    stats: Arc<BridgeStats>,
    deliver: Box<dyn Fn(HookEvent) + Send + Sync>,
}

impl Gate {
    fn admit(&self, line: &[u8]) -> std::result::Result<HookEvent, String> {
        let message =
            HookMessage::from_line(line).map_err(|e| format!("not a hook message: {e}"))?;
        if !message.secret_matches(&self.secret) {
            return Err("wrong secret".into());
        }
        if let Some(nonce) = &message.nonce {
            let mut recent = lock(&self.recent);
            if recent.contains(nonce) {
                return Err("a message already taken, sent again".into());
            }
            if recent.len() >= RECENT_NONCES {
                recent.pop_front();
            }
            recent.push_back(nonce.clone());
        }
        let event = message.event().map_err(|e| e.to_string())?;
        let session = event.session_id().to_string();
        let mut sessions = lock(&self.sessions);
        match event {
            // Only our own claude has the secret: a session it starts becomes ours.
            HookEvent::SessionStart { .. } => {
                sessions.insert(session);
            }
            _ if !sessions.contains(&session) => {
                return Err(format!(
                    "event for a session this ccx does not run: {session}"
                ));
            }
            _ => {}
        }
        drop(sessions);
        note_unknowns(&message.payload);
        Ok(event)
    }

    fn take(&self, line: &[u8]) {
        match self.admit(line) {
            Ok(event) => {
                self.stats.accepted.fetch_add(1, Ordering::Relaxed);
                (self.deliver)(event);
            }
            Err(reason) => self.drop_message(&reason),
        }
    }

    fn drop_message(&self, reason: &str) {
        let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        // Log the first few and then every thousandth, so a flood cannot fill the disk.
        if n <= 20 || n.is_multiple_of(1000) {
            diag::log(&format!("hook bridge: dropped message #{n}: {reason}"));
        }
    }
}

async fn serve(listener: std::os::unix::net::UnixListener, gate: Arc<Gate>) {
    let listener = match tokio::net::UnixListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => return diag::log(&format!("hook bridge: cannot listen: {e}")),
    };
    // Bound the connections handled at once so a flood cannot exhaust memory.
    let permits = Arc::new(tokio::sync::Semaphore::new(64));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            gate.drop_message("too many hook connections at once");
            continue;
        };
        let gate = gate.clone();
        tokio::spawn(async move {
            let mut stream = stream;
            let read = read_message(&mut stream).await;
            drop(permit);
            match read {
                Ok(line) => {
                    // Received whole: the hook may stop trying.
                    let _ = tokio::time::timeout(IDLE_TIMEOUT, stream.write_all(b"k")).await;
                    drop(stream);
                    gate.take(line.trim_ascii_end());
                }
                Err(reason) => gate.drop_message(&reason),
            }
        });
    }
}

/// Writes the key file, readable by the owner only from its creation.
fn write_key(path: &Path, key: &HookKey) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(&serde_json::to_vec(key)?)?;
    Ok(())
}

/// Reads one message to the end of the connection, cutting a connection that stalls for
/// [`IDLE_TIMEOUT`], takes longer than [`READ_TIMEOUT`] in all, or sends too much.
async fn read_message(stream: &mut tokio::net::UnixStream) -> std::result::Result<Vec<u8>, String> {
    let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
    let mut line = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let wait =
            IDLE_TIMEOUT.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Err(_) => return Err("message not delivered in time (connection cut)".into()),
            Ok(Err(e)) => return Err(format!("read failed: {e}")),
            Ok(Ok(0)) => return Ok(line),
            Ok(Ok(n)) => {
                line.extend_from_slice(&buf[..n]);
                if line.len() > MAX_HOOK_MESSAGE_BYTES {
                    return Err("oversized message".into());
                }
            }
        }
    }
}

/// Removes the run directories of ccx processes that are gone (killed before cleaning up).
fn remove_stale_run_dirs(runtime_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(runtime_dir) else {
        return;
    };
    for entry in entries.flatten().take(10_000) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("run-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::mpsc;

    /// A bridge in a fresh directory (kept while the test runs) and the events it reports.
    fn started() -> (tempfile::TempDir, Bridge, mpsc::Receiver<HookEvent>) {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let bridge = Bridge::start(dir.path(), move |e| {
            let _ = tx.send(e);
        })
        .unwrap();
        (dir, bridge, rx)
    }

    fn send(bridge: &Bridge, line: &str) {
        let mut s = std::os::unix::net::UnixStream::connect(&bridge.socket_path).unwrap();
        s.write_all(line.as_bytes()).unwrap();
    }

    fn message(secret: &str, event: &str, session: &str) -> String {
        serde_json::json!({"secret": secret, "payload": {
            "session_id": session, "hook_event_name": event, "transcript_path": "/t.jsonl",
            "cwd": "/p", "prompt": "hi"}})
        .to_string()
    }

    #[test]
    fn accepts_own_sessions_and_drops_the_rest() {
        let (_dir, bridge, rx) = started();
        let mode = std::fs::metadata(&bridge.socket_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let secret = bridge.secret.clone();
        // Forged: wrong secret, even for a SessionStart.
        send(&bridge, &message("nope", "SessionStart", "s1"));
        // Foreign: right secret but a session nobody started.
        send(&bridge, &message(&secret, "UserPromptSubmit", "s2"));
        send(&bridge, "garbage");
        send(&bridge, &message(&secret, "SessionStart", "s1"));
        let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(matches!(first, HookEvent::SessionStart { .. }));
        send(&bridge, &message(&secret, "UserPromptSubmit", "s1"));
        let second = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(matches!(second, HookEvent::PromptSubmitted { .. }));
        bridge.allow_session("s3");
        send(&bridge, &message(&secret, "Stop", "s3"));
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            HookEvent::Stopped { .. }
        ));
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        assert_eq!(bridge.stats.dropped.load(Ordering::Relaxed), 3);
        assert_eq!(bridge.stats.accepted.load(Ordering::Relaxed), 3);
    }

    /// The flood: 200 connections each holding a partial line. A real hook's message
    /// still arrives (slow connections are cut early, the hook tries again), and once only.
    #[test]
    fn a_flood_of_stalled_connections_does_not_lose_a_real_message() {
        let (_dir, bridge, rx) = started();
        let stalled: Vec<_> = (0..200)
            .filter_map(|_| {
                let mut s = std::os::unix::net::UnixStream::connect(&bridge.socket_path).ok()?;
                s.write_all(b"{\"secret\": \"partial").ok()?;
                Some(s)
            })
            .collect();
        assert!(stalled.len() > 64, "the flood holds every slot");
        let mut line = serde_json::to_vec(&HookMessage {
            secret: bridge.secret.clone(),
            payload: serde_json::from_str(&message("x", "SessionStart", "s1"))
                .map(|v: serde_json::Value| v["payload"].clone())
                .unwrap(),
            nonce: Some("n-1".into()),
        })
        .unwrap();
        line.push(b'\n');
        let delivered = super::super::client::send(
            &bridge.socket_path,
            &line,
            super::super::client::SEND_BUDGET,
        );
        assert!(delivered, "the hook's message was acknowledged");
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            HookEvent::SessionStart { .. }
        ));
        // The same message again (a retry whose acknowledgement was lost) is taken once.
        assert!(super::super::client::send(
            &bridge.socket_path,
            &line,
            Duration::from_secs(3)
        ));
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        drop(stalled);
    }
}

//! The sending end of the hook bridge: `ccx __hook`, run by Claude Code for each hook event
//! with the payload on stdin. It forwards the payload to the running ccx and exits 0, printing
//! nothing: it never fails Claude's turn, even when ccx is gone or the payload is bad.
//!
//! The running ccx acknowledges each message it has read whole (one byte). Without that
//! answer — every connection slot busy, a connection cut, ccx briefly stalled — the hook tries
//! again with backoff for at most [`SEND_BUDGET`], so a prompt is not lost to a burst of other
//! connections. Each message carries a nonce, so one sent twice is taken once.

use super::bridge::hook_credentials;
use super::wire::{HookMessage, MAX_HOOK_MESSAGE_BYTES};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// The longest the hook keeps trying to deliver (a normal delivery takes a millisecond).
pub const SEND_BUDGET: Duration = Duration::from_secs(3);
/// How long one attempt may wait on the socket (writing, then for the acknowledgement).
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);
/// The first pause between attempts; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(200);

/// Runs the hook; always returns exit code 0.
pub fn run() -> i32 {
    let _ = forward();
    0
}

fn forward() -> Option<()> {
    let (socket, secret) = hook_credentials(std::env::args_os().nth(2))?;
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_HOOK_MESSAGE_BYTES as u64)
        .read_to_end(&mut input)
        .ok()?;
    let payload: serde_json::Value = serde_json::from_slice(&input).ok()?;
    let message = HookMessage {
        secret,
        payload,
        nonce: Some(uuid::Uuid::new_v4().simple().to_string()),
    };
    send(Path::new(&socket), &message.to_line(), SEND_BUDGET).then_some(())
}

/// How one attempt ended.
enum Attempt {
    Acknowledged,
    /// Nothing listens there (ccx has exited): trying again cannot help.
    Gone,
    /// Connected (or the queue was full) but not acknowledged: worth another try.
    Unanswered,
}

/// Delivers `line` to the bridge at `socket`, trying again with backoff until it is
/// acknowledged or `budget` is spent; gives up at once when nothing listens there. True when
/// acknowledged.
pub fn send(socket: &Path, line: &[u8], budget: Duration) -> bool {
    let deadline = Instant::now() + budget;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match attempt(socket, line, left) {
            Attempt::Acknowledged => return true,
            Attempt::Gone => return false,
            Attempt::Unanswered => {}
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(backoff.min(left));
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection: the line, then the bridge's one-byte acknowledgement.
fn attempt(socket: &Path, line: &[u8], left: Duration) -> Attempt {
    let timeout = ATTEMPT_TIMEOUT
        .max(large_payload_allowance(line.len()))
        .min(left)
        .max(Duration::from_millis(1));
    let mut stream = match UnixStream::connect(socket) {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Attempt::Gone
        }
        Err(_) => return Attempt::Unanswered,
    };
    let delivered = (|| -> std::io::Result<bool> {
        stream.set_write_timeout(Some(timeout))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(line)?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut ack = [0u8; 1];
        Ok(stream.read(&mut ack)? == 1)
    })();
    match delivered {
        Ok(true) => Attempt::Acknowledged,
        _ => Attempt::Unanswered,
    }
}

/// Big payloads (a pasted file as a prompt) get time proportional to their size.
fn large_payload_allowance(len: usize) -> Duration {
    Duration::from_millis((len / (1024 * 1024)) as u64 * 50)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With ccx gone (no socket, or nothing listening) the hook gives up at once: Claude is
    /// never held up by retries that cannot succeed.
    #[test]
    fn a_gone_ccx_costs_no_retries() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("hook.sock");
        let started = Instant::now();
        assert!(!send(&missing, b"{}\n", SEND_BUDGET));
        drop(std::os::unix::net::UnixListener::bind(&missing).unwrap());
        assert!(!send(&missing, b"{}\n", SEND_BUDGET));
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
    }
}

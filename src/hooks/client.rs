//! The sending end of the hook bridge: `ccx __hook`, run by Claude Code for each hook event
//! with the payload on stdin. It forwards the payload to the running ccx and exits 0 at once,
//! printing nothing: it never delays Claude noticeably and never fails Claude's turn, even when
//! ccx is gone or the payload is bad.

use super::bridge::hook_credentials;
use super::wire::{HookMessage, MAX_HOOK_MESSAGE_BYTES};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long the hook may wait on the socket.
const SOCKET_TIMEOUT: Duration = Duration::from_millis(100);

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
    let mut line = serde_json::to_vec(&HookMessage { secret, payload }).ok()?;
    line.push(b'\n');
    let mut stream = UnixStream::connect(socket).ok()?;
    stream
        .set_write_timeout(Some(
            SOCKET_TIMEOUT.max(large_payload_allowance(line.len())),
        ))
        .ok()?;
    stream.write_all(&line).ok()?;
    stream.shutdown(std::net::Shutdown::Write).ok()
}

/// Big payloads (a pasted file as a prompt) get time proportional to their size.
fn large_payload_allowance(len: usize) -> Duration {
    Duration::from_millis((len / (1024 * 1024)) as u64 * 50)
}

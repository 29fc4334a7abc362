//! Waits for a child process to end, or for a deadline: its input fed and its output read on
//! threads of their own (so neither pipe can fill and stall it), and at the deadline its
//! whole process group killed. Git commands (`snapshot`, the effects journal) and the
//! headless Claude of `:btw` and `:merge` run through it.

use std::io::{Read, Write};
use std::process::{Child, Output};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Writes `input` to `child`'s stdin (when both are there) and closes it, reads its stdout and
/// stderr to their ends, and waits for it until `deadline`. At the deadline it kills the
/// child's process group (the child must lead one: `process_group(0)`) and the child, and
/// returns None. An error only when the child's state cannot be read.
pub fn wait_until(
    mut child: Child,
    input: Option<Vec<u8>>,
    deadline: Instant,
) -> std::io::Result<Option<Output>> {
    let writer = match (input, child.stdin.take()) {
        (Some(data), Some(mut stdin)) => Some(thread::spawn(move || {
            let _ = stdin.write_all(&data);
        })),
        _ => None,
    };
    let stdout = read_to_end_on_a_thread(child.stdout.take());
    let stderr = read_to_end_on_a_thread(child.stderr.take());
    let mut pause = Duration::from_micros(200);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                // SAFETY: kill(2) of the process group the caller made for this child.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    Ok(Some(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }))
}

/// Reads `from` (if there is one) to its end on a thread of its own.
pub fn read_to_end_on_a_thread(from: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut from) = from {
            let _ = from.read_to_end(&mut bytes);
        }
        bytes
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    fn shell(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap()
    }

    #[test]
    fn input_goes_in_and_large_output_comes_back_whole() {
        let child = shell("cat; head -c 1000000 /dev/zero >&2");
        let soon = Instant::now() + Duration::from_secs(30);
        let out = wait_until(child, Some(b"hello".to_vec()), soon)
            .unwrap()
            .expect("ended in time");
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hello");
        assert_eq!(out.stderr.len(), 1_000_000);
    }

    #[test]
    fn at_the_deadline_the_whole_group_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("late");
        // A grandchild that would write the mark after the deadline, were it not killed too.
        let child = shell(&format!("(sleep 2; touch {}) & sleep 30", mark.display()));
        let started = Instant::now();
        let out = wait_until(child, None, started + Duration::from_millis(200)).unwrap();
        assert!(out.is_none());
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_secs(3));
        assert!(!mark.exists(), "the group's other process was left running");
    }
}

//! The one owner of a child process started in the PTY: a waiter thread reaps it and reports its
//! exit, and every signal to it goes through the same owner, which sends it only while the child
//! is not yet reaped. The waiter first sees the exit with `waitid(WNOWAIT)` (the child stays a
//! zombie, so its PID cannot be reused), marks it under the lock the signallers take, and only
//! then reaps; so a signal can never reach an unrelated process that took over the PID.

use crate::proxy::ChildExit;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

type PtyChild = Box<dyn portable_pty::Child + Send + Sync>;

/// A handle to signal a child; cloneable, and safe to use after the child has gone.
#[derive(Clone)]
pub struct ChildSignaller {
    pid: u32,
    /// True once the child has exited (it may be reaped from then on).
    exited: Arc<Mutex<bool>>,
}

impl ChildSignaller {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `signal` if the child has not exited; whether it was sent.
    pub fn signal(&self, signal: libc::c_int) -> bool {
        let exited = lock(&self.exited);
        let Ok(pid) = libc::pid_t::try_from(self.pid) else {
            return false;
        };
        if *exited || pid <= 0 {
            return false;
        }
        // SAFETY: kill(2) on our own child, which is not reaped while we hold the lock.
        unsafe { libc::kill(pid, signal) == 0 }
    }

    /// SIGHUP now; SIGKILL after `grace` if the child has still not exited.
    pub fn end(&self, grace: Duration) {
        if !self.signal(libc::SIGHUP) {
            return;
        }
        let later = self.clone();
        let _ = std::thread::Builder::new()
            .name("ccx-end-child".into())
            .spawn(move || {
                std::thread::sleep(grace);
                later.signal(libc::SIGKILL);
            });
    }
}

/// Starts the waiter thread for `child`: it calls `report` with the exit once reaped. Returns
/// the handle that signals the child.
pub fn watch(
    mut child: PtyChild,
    report: impl FnOnce(ChildExit) + Send + 'static,
) -> std::io::Result<ChildSignaller> {
    let signaller = ChildSignaller {
        pid: child.process_id().unwrap_or(0),
        exited: Arc::new(Mutex::new(false)),
    };
    let owner = signaller.clone();
    std::thread::Builder::new()
        .name("ccx-wait".into())
        .spawn(move || {
            wait_exited_unreaped(owner.pid);
            *lock(&owner.exited) = true;
            let exit = match child.wait() {
                Ok(status) => exit_of(&status),
                Err(_) => ChildExit::Code(1),
            };
            report(exit);
        })?;
    Ok(signaller)
}

/// Blocks until the child `pid` has exited, leaving it waitable (a zombie).
fn wait_exited_unreaped(pid: u32) {
    let id: libc::id_t = pid;
    if id == 0 {
        return;
    }
    loop {
        // SAFETY: waitid fills a zeroed siginfo_t we own; WNOWAIT leaves the child waitable.
        let rc = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT)
        };
        // Anything but EINTR (ECHILD included) means there is nothing left to wait for.
        if rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// portable-pty reports a signal by its `strsignal` name; map it back to its number.
fn exit_of(status: &portable_pty::ExitStatus) -> ChildExit {
    match status.signal() {
        Some(name) => ChildExit::Signal(signal_number(name).unwrap_or(libc::SIGKILL)),
        None => ChildExit::Code(status.exit_code() as i32),
    }
}

fn signal_number(name: &str) -> Option<i32> {
    (1..65).find(|&n| {
        // SAFETY: strsignal returns a static string (or null) for any number.
        let text = unsafe { libc::strsignal(n) };
        !text.is_null() && unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy() == name
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portable_pty::{CommandBuilder, PtySize};
    use std::sync::mpsc;

    #[test]
    fn signal_names_map_back() {
        let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(libc::SIGTERM)) };
        assert_eq!(signal_number(&name.to_string_lossy()), Some(libc::SIGTERM));
        assert_eq!(signal_number("no such signal"), None);
        assert_eq!(ChildExit::Signal(9).shell_code(), 137);
        assert_eq!(ChildExit::Code(3).shell_code(), 3);
    }

    /// Starts `script` in a new PTY; the PTY's master is returned too, to keep it open.
    fn start(script: &str) -> (PtyChild, Box<dyn portable_pty::MasterPty + Send>) {
        let pty = portable_pty::native_pty_system()
            .openpty(PtySize::default())
            .unwrap();
        let mut cmd = CommandBuilder::new("sh");
        cmd.args(["-c", script]);
        (pty.slave.spawn_command(cmd).unwrap(), pty.master)
    }

    #[test]
    fn the_waiter_reports_the_exit_and_no_signal_follows_it() {
        let (tx, rx) = mpsc::channel();
        let (child, _pty) = start("exit 3");
        let child = watch(child, move |exit| tx.send(exit).unwrap()).unwrap();
        let exit = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(exit, ChildExit::Code(3));
        // Reaped: its PID may belong to someone else now, so nothing is sent.
        assert!(!child.signal(0));
        assert!(!child.signal(libc::SIGKILL));
    }

    #[test]
    fn ending_a_child_hangs_it_up_and_kills_it_if_it_ignores_that() {
        let (tx, rx) = mpsc::channel();
        let (child, _pty) = start("exec sleep 30");
        let child = watch(child, move |e| tx.send(e).unwrap()).unwrap();
        assert!(child.signal(0), "alive and ours");
        child.end(Duration::from_secs(2));
        let exit = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(exit, ChildExit::Signal(libc::SIGHUP));

        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let (tx, rx) = mpsc::channel();
        let (stubborn, _pty) = start(&format!(
            "trap '' HUP; touch '{}'; while :; do sleep 0.05; done",
            ready.display()
        ));
        let stubborn = watch(stubborn, move |e| tx.send(e).unwrap()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !ready.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(ready.exists(), "the script set its trap");
        stubborn.end(Duration::from_millis(200));
        let exit = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(
            exit,
            ChildExit::Signal(libc::SIGKILL),
            "killed after the grace"
        );
    }
}

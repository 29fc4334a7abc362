//! The thin terminal shell around the proxy engine: raw mode on the real terminal, its size,
//! SIGWINCH and terminating signals, and putting the terminal back on the way out.

use crate::proxy::{InputFilter, Proxy, ProxyHandle, ProxyOutcome, Spawned};
use crate::screen::ScreenModel;
use crate::terminal::{self, RawModeGuard};
use anyhow::Result;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGWINCH};
use std::fs::File;
use std::os::fd::FromRawFd;

/// The size to give a child: the real terminal's, else 24 x 80.
pub fn terminal_size() -> (u16, u16) {
    terminal::size(0)
        .or_else(|| terminal::size(1))
        .unwrap_or((24, 80))
}

/// Runs a spawned child against the real terminal until it ends. `make_filter` builds the
/// input filter from the proxy handle (to inject input, resize or hold output from there).
pub fn run_on_terminal<F: InputFilter>(
    spawned: Spawned,
    screen: Option<ScreenModel>,
    make_filter: impl FnOnce(ProxyHandle) -> F,
) -> Result<ProxyOutcome> {
    let (proxy, handle) = Proxy::new(spawned);
    let guard = RawModeGuard::enter(0)?;
    watch_signals(handle.clone())?;
    let filter = make_filter(handle);
    let input = dup_fd(0)?;
    let output = dup_fd(1)?;
    let outcome = proxy.run(input, filter, output, screen);
    if let Ok(outcome) = &outcome {
        terminal::write_stdout_best_effort(&terminal::reset_sequence(outcome.left_modes));
    }
    drop(guard);
    outcome
}

/// The exit code ccx reports for an outcome: 128 + signal when ccx itself was signalled,
/// else the child's code (128 + signal when the child was killed).
pub fn exit_code(outcome: &ProxyOutcome) -> i32 {
    match outcome.terminated_by {
        Some(signal) => 128 + signal,
        None if outcome.ended_on_request => 0,
        None => outcome.exit.shell_code(),
    }
}

fn watch_signals(handle: ProxyHandle) -> Result<()> {
    let mut signals =
        signal_hook::iterator::Signals::new([SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGQUIT])?;
    std::thread::Builder::new()
        .name("ccx-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGWINCH {
                    if let Some((rows, cols)) = terminal::size(0).or_else(|| terminal::size(1)) {
                        handle.resize(rows, cols);
                    }
                } else {
                    handle.terminate(signal);
                }
            }
        })?;
    Ok(())
}

/// An unbuffered File on a duplicate of `fd` (stdout's LineWriter would flush per line).
fn dup_fd(fd: i32) -> Result<File> {
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(unsafe { File::from_raw_fd(copy) })
}

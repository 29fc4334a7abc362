//! The PTY proxy engine: runs a program in a pseudo-terminal and copies bytes both ways
//! untouched. It takes its input, output, screen model and control channel as arguments, so
//! tests run it over a real PTY with small programs and sinks; raw mode, the real stdin and
//! signals stay in the thin callers (`exec`, `session`).
//!
//! The PTY outlives its child: on request the proxy ends the child and starts another program
//! in the same PTY (ccx restarts claude on another conversation that way). The proxy ends when
//! a child exits that nobody asked to replace.

use crate::screen::ScreenModel;
use anyhow::{Context, Result};
use portable_pty::{CommandBuilder, MasterPty, PtySize, SlavePty};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long output may keep coming after the last child exited (a grandchild may hold the PTY).
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);
/// Read size on both paths.
const CHUNK: usize = 64 * 1024;
/// How long a child asked to end (SIGHUP) has before SIGKILL.
const END_GRACE: Duration = Duration::from_secs(2);

/// Rewrites or intercepts keys on their way to the child. It runs on the input thread, the one
/// reader of the input, so it may take the input over for a while (ccx's editor does).
pub trait InputFilter: Send + 'static {
    /// Handles one chunk of input, forwarding what the child should get through `to_child`.
    fn on_input(&mut self, input: &[u8], to_child: &Sender<Vec<u8>>);

    /// How long to wait for more input before calling [`InputFilter::on_pause`] (the filter
    /// holds an incomplete sequence, e.g. a lone Esc); None waits for input as long as it takes.
    fn pause_after(&self) -> Option<Duration> {
        None
    }

    /// No input came for [`InputFilter::pause_after`].
    fn on_pause(&mut self, _to_child: &Sender<Vec<u8>>) {}
}

/// Where the proxy reads input from: a reader that can also wait, bounded, for input.
pub trait InputSource: Read + Send + 'static {
    /// Waits up to `timeout` for input; false when none came (true when unsure).
    fn wait_readable(&mut self, _timeout: Duration) -> bool {
        true
    }
}

impl InputSource for std::fs::File {
    fn wait_readable(&mut self, timeout: Duration) -> bool {
        use std::os::fd::AsRawFd;
        // On an error (EINTR included) say "readable": the read that follows tells the truth.
        crate::terminal::wait_readable(self.as_raw_fd(), timeout).unwrap_or(true)
    }
}

impl InputSource for &'static [u8] {}

/// Forwards every byte unchanged.
pub struct PassThrough;

impl InputFilter for PassThrough {
    fn on_input(&mut self, input: &[u8], to_child: &Sender<Vec<u8>>) {
        let _ = to_child.send(input.to_vec());
    }
}

/// Decides whether the child's output reaches the terminal. While held, output only feeds the
/// screen model; releasing writes one repaint of the model, so the terminal shows exactly what
/// the child drew meanwhile. Output is fed to the model inside the gate's lock, so a repaint
/// asked for under the lock reflects every byte before it.
#[derive(Clone, Default)]
pub struct OutputGate {
    held: Arc<Mutex<bool>>,
}

impl OutputGate {
    /// Stops the child's output from reaching the terminal (waits for a write in progress).
    pub fn hold(&self) {
        *lock(&self.held) = true;
    }

    /// Writes `repaint()` to `out` and lets output through again, with no output in between.
    pub fn release(&self, repaint: impl FnOnce() -> Vec<u8>, out: &mut impl Write) {
        let mut held = lock(&self.held);
        let bytes = repaint();
        let _ = out.write_all(&bytes).and_then(|_| out.flush());
        *held = false;
    }

    pub fn is_held(&self) -> bool {
        *lock(&self.held)
    }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    Code(i32),
    Signal(i32),
}

impl ChildExit {
    /// The exit code a shell would report: the code, or 128 + signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ChildExit::Code(c) => c,
            ChildExit::Signal(s) => 128 + s,
        }
    }
}

/// The answer to a restart: the new child's PID, or why it could not start.
pub type RestartResult = std::result::Result<u32, String>;

/// Events the proxy loop reacts to.
enum Event {
    OutputDone,
    /// A child ended; `generation` says which one.
    ChildExited {
        generation: u64,
        exit: ChildExit,
    },
    Resize {
        rows: u16,
        cols: u16,
    },
    Terminate(i32),
    EndOnRequest,
    /// The restarted child with this PID is up: its fallback is no longer wanted.
    Started(u32),
    Restart {
        cmd: Box<CommandBuilder>,
        fallback: Option<Box<CommandBuilder>>,
        reply: Sender<RestartResult>,
    },
}

/// A restarted child that dies this soon is taken to have refused to start (e.g. claude could
/// not resume a conversation); its fallback, if any, starts instead of ending the session.
const FALLBACK_WINDOW: Duration = Duration::from_secs(15);

/// A child running in a PTY, not yet proxied.
pub struct Spawned {
    master: Box<dyn MasterPty + Send>,
    slave: Box<dyn SlavePty + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    pid: u32,
    rows: u16,
    cols: u16,
}

impl Spawned {
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

/// Starts `cmd` in a new PTY of `rows` x `cols` (the command's cwd must be set by the caller).
pub fn spawn(cmd: CommandBuilder, rows: u16, cols: u16) -> Result<Spawned> {
    let pty = portable_pty::native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .context("cannot open a pseudo-terminal")?;
    let child = spawn_on(pty.slave.as_ref(), cmd)?;
    let pid = child.process_id().unwrap_or(0);
    Ok(Spawned {
        master: pty.master,
        slave: pty.slave,
        child,
        pid,
        rows,
        cols,
    })
}

fn spawn_on(
    slave: &(dyn SlavePty + Send),
    mut cmd: CommandBuilder,
) -> Result<Box<dyn portable_pty::Child + Send + Sync>> {
    // The program makes its files as it would without ccx (ccx's own umask is 077).
    cmd.umask(crate::paths::inherited_umask());
    let program = cmd
        .get_argv()
        .first()
        .map(|p| p.to_string_lossy().into_owned());
    slave
        .spawn_command(cmd)
        .with_context(|| format!("cannot start {}", program.unwrap_or_default()))
}

/// Controls a running proxy from other threads: resize, inject input, restart, terminate.
#[derive(Clone)]
pub struct ProxyHandle {
    events: Sender<Event>,
    input_tx: Sender<Vec<u8>>,
    gate: OutputGate,
    pid: Arc<AtomicU32>,
    started: Arc<Mutex<Instant>>,
    last_query: Arc<Mutex<Option<Instant>>>,
}

impl ProxyHandle {
    pub fn resize(&self, rows: u16, cols: u16) {
        let _ = self.events.send(Event::Resize { rows, cols });
    }

    /// The gate on the child's output (see [`OutputGate`]).
    pub fn output_gate(&self) -> OutputGate {
        self.gate.clone()
    }

    /// Sends bytes to the child as if typed (the PTY writer thread is their one owner).
    pub fn send_input(&self, bytes: Vec<u8>) {
        let _ = self.input_tx.send(bytes);
    }

    /// Asks the child to end (SIGHUP, then SIGKILL if it lingers) because ccx got `signal`.
    pub fn terminate(&self, signal: i32) {
        let _ = self.events.send(Event::Terminate(signal));
    }

    /// Ends the child because the person asked ccx to quit (reported as a clean exit).
    pub fn end_child_on_request(&self) {
        let _ = self.events.send(Event::EndOnRequest);
    }

    /// Says the restarted child `pid` started well (it showed its prompt), so its exiting from
    /// now on ends the session as any exit does, instead of starting its fallback.
    pub fn confirm_started(&self, pid: u32) {
        let _ = self.events.send(Event::Started(pid));
    }

    /// Ends the current child and starts `cmd` in the same PTY; waits (at most `timeout`) for
    /// the new child's PID. The proxy goes on with the new child. If that child exits on its
    /// own soon after starting, `fallback` (if given) is started in its place.
    pub fn restart(
        &self,
        cmd: CommandBuilder,
        fallback: Option<CommandBuilder>,
        timeout: Duration,
    ) -> RestartResult {
        let (reply, answer) = mpsc::channel();
        self.events
            .send(Event::Restart {
                cmd: Box::new(cmd),
                fallback: fallback.map(Box::new),
                reply,
            })
            .map_err(|_| "the session has ended".to_string())?;
        answer
            .recv_timeout(timeout)
            .map_err(|_| "the restart did not finish in time".to_string())?
    }

    /// The PID of the current child.
    pub fn child_pid(&self) -> u32 {
        self.pid.load(Ordering::SeqCst)
    }

    /// When the current child was started.
    pub fn child_started(&self) -> Instant {
        *lock(&self.started)
    }

    /// When the child last sent the terminal a query it answers on standard input.
    pub fn last_terminal_query(&self) -> Option<Instant> {
        *lock(&self.last_query)
    }
}

/// A proxy ready to run.
pub struct Proxy {
    spawned: Spawned,
    events_tx: Sender<Event>,
    events_rx: Receiver<Event>,
    input_tx: Sender<Vec<u8>>,
    input_rx: Receiver<Vec<u8>>,
    gate: OutputGate,
    pid: Arc<AtomicU32>,
    started: Arc<Mutex<Instant>>,
    last_query: Arc<Mutex<Option<Instant>>>,
}

/// What `Proxy::run` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyOutcome {
    pub exit: ChildExit,
    /// The signal ccx itself was asked to end by, if any.
    pub terminated_by: Option<i32>,
    /// The person asked ccx to end the child (`:quit`).
    pub ended_on_request: bool,
    /// Terminal modes the child left switched on.
    pub left_modes: crate::terminal::LeftModes,
}

impl Proxy {
    pub fn new(spawned: Spawned) -> (Proxy, ProxyHandle) {
        let (events_tx, events_rx) = mpsc::channel();
        let (input_tx, input_rx) = mpsc::channel();
        let gate = OutputGate::default();
        let pid = Arc::new(AtomicU32::new(spawned.pid));
        let started = Arc::new(Mutex::new(Instant::now()));
        let last_query = Arc::new(Mutex::new(None));
        let handle = ProxyHandle {
            events: events_tx.clone(),
            input_tx: input_tx.clone(),
            gate: gate.clone(),
            pid: pid.clone(),
            started: started.clone(),
            last_query: last_query.clone(),
        };
        let proxy = Proxy {
            spawned,
            events_tx,
            events_rx,
            input_tx,
            input_rx,
            gate,
            pid,
            started,
            last_query,
        };
        (proxy, handle)
    }

    /// Copies `input` (through `filter`) to the child and the child's output to `output`
    /// (and to `screen`), until a child has exited unasked and its output is drained.
    pub fn run(
        self,
        input: impl InputSource,
        mut filter: impl InputFilter,
        mut output: impl Write + Send + 'static,
        screen: Option<ScreenModel>,
    ) -> Result<ProxyOutcome> {
        let Proxy {
            spawned,
            events_tx,
            events_rx,
            input_tx,
            input_rx,
            gate,
            pid: shared_pid,
            started: shared_started,
            last_query,
        } = self;
        let Spawned {
            master,
            slave,
            child,
            pid,
            rows,
            cols,
        } = spawned;
        let master: Arc<Mutex<Box<dyn MasterPty + Send>>> = Arc::new(Mutex::new(master));
        let mut reader = lock(&master)
            .try_clone_reader()
            .context("cannot read the PTY")?;
        let mut writer = lock(&master)
            .take_writer()
            .context("cannot write the PTY")?;
        if let Some(screen) = &screen {
            screen.resize(rows, cols);
        }

        // The PTY writer: sole owner of the writer, so injected and typed input never interleave
        // mid-chunk. It keeps the writer alive until the proxy ends (dropping it sends EOF).
        let writer_thread = std::thread::Builder::new()
            .name("ccx-pty-writer".into())
            .spawn(move || {
                for bytes in input_rx {
                    if writer
                        .write_all(&bytes)
                        .and_then(|_| writer.flush())
                        .is_err()
                    {
                        break;
                    }
                }
            })?;

        // Input pump: may block forever on a terminal; it is never joined.
        let typed = input_tx.clone();
        std::thread::Builder::new()
            .name("ccx-input".into())
            .spawn(move || {
                let mut input = input;
                let mut buf = vec![0u8; CHUNK];
                loop {
                    if let Some(pause) = filter.pause_after() {
                        if !input.wait_readable(pause) {
                            filter.on_pause(&typed);
                            continue;
                        }
                    }
                    match input.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => filter.on_input(&buf[..n], &typed),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    }
                }
            })?;

        // Output: the hot path. Copy first, then hand the bytes to the screen model (which never
        // makes the copy wait for its parser; see `ScreenModel`).
        let screen_for_resize = screen.clone();
        let done = events_tx.clone();
        let output_gate = gate.clone();
        let modes = Arc::new(Mutex::new(crate::terminal::ModeTracker::default()));
        let tracked = modes.clone();
        let output_thread = std::thread::Builder::new()
            .name("ccx-pty-reader".into())
            .spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            lock(&tracked).observe(&buf[..n]);
                            let held = lock(&output_gate.held);
                            if !*held && crate::terminal::holds_terminal_query(&buf[..n]) {
                                *lock(&last_query) = Some(Instant::now());
                            }
                            if !*held
                                && output
                                    .write_all(&buf[..n])
                                    .and_then(|_| output.flush())
                                    .is_err()
                            {
                                break;
                            }
                            if let Some(screen) = &screen {
                                screen.feed(&buf[..n]);
                            }
                            drop(held);
                            // Only a model far behind makes the copy wait, and never while
                            // the gate is locked (the editor must open at once).
                            if let Some(screen) = &screen {
                                screen.wait_for_room();
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        // EIO from the PTY is the end of output.
                        Err(_) => break,
                    }
                }
                let _ = done.send(Event::OutputDone);
            })?;

        let mut generation = 0u64;
        wait_for(child, generation, events_tx.clone())?;

        let mut slave = Some(slave);
        let mut current_pid = pid;
        let mut pending_restart: Option<(Box<CommandBuilder>, Sender<RestartResult>)> = None;
        let mut pending_fallback: Option<Box<CommandBuilder>> = None;
        let mut armed_fallback: Option<(Box<CommandBuilder>, std::time::Instant)> = None;
        let mut exit = None;
        let mut output_done = false;
        let mut terminated_by = None;
        let mut ended_on_request = false;
        while exit.is_none() || !output_done {
            let event = if exit.is_some() {
                match events_rx.recv_timeout(DRAIN_AFTER_EXIT) {
                    Ok(e) => e,
                    Err(_) => break,
                }
            } else {
                match events_rx.recv() {
                    Ok(e) => e,
                    Err(_) => break,
                }
            };
            match event {
                Event::OutputDone => output_done = true,
                Event::ChildExited {
                    generation: g,
                    exit: e,
                } if g == generation => {
                    // Asked for: the next program. Unasked but right after a restart: its fallback.
                    let next = match pending_restart.take() {
                        Some((cmd, reply)) => {
                            armed_fallback = pending_fallback
                                .take()
                                .map(|f| (f, std::time::Instant::now()));
                            Some((cmd, Some(reply)))
                        }
                        None => armed_fallback
                            .take()
                            .filter(|(_, at)| at.elapsed() < FALLBACK_WINDOW)
                            .map(|(cmd, _)| (cmd, None)),
                    };
                    let restarted = next.zip(slave.as_ref()).map(|((cmd, reply), slave)| {
                        let started = spawn_on(slave.as_ref(), *cmd).and_then(|child| {
                            generation += 1;
                            current_pid = child.process_id().unwrap_or(0);
                            *lock(&shared_started) = Instant::now();
                            shared_pid.store(current_pid, Ordering::SeqCst);
                            wait_for(child, generation, events_tx.clone()).map(|_| current_pid)
                        });
                        let ok = started.is_ok();
                        if let Some(reply) = reply {
                            let _ = reply.send(started.map_err(|e| format!("{e:#}")));
                        }
                        ok
                    });
                    if restarted != Some(true) {
                        exit = Some(e);
                        // Without our copy of the slave, EOF comes once the child's side closes.
                        slave = None;
                    }
                }
                Event::ChildExited { .. } => {}
                Event::Resize { rows, cols } => {
                    if let Some(screen) = &screen_for_resize {
                        screen.resize(rows, cols);
                    }
                    let _ = lock(&master).resize(PtySize {
                        rows,
                        cols,
                        pixel_width: 0,
                        pixel_height: 0,
                    });
                }
                Event::Started(pid) => {
                    if pid == current_pid {
                        armed_fallback = None;
                    }
                }
                Event::EndOnRequest => {
                    ended_on_request = true;
                    armed_fallback = None;
                    end_child(current_pid);
                }
                Event::Terminate(signal) => {
                    terminated_by.get_or_insert(signal);
                    pending_restart = None;
                    armed_fallback = None;
                    end_child(current_pid);
                }
                Event::Restart {
                    cmd,
                    fallback,
                    reply,
                } => {
                    if exit.is_some() || terminated_by.is_some() || ended_on_request {
                        let _ = reply.send(Err("the session is ending".into()));
                    } else {
                        pending_restart = Some((cmd, reply));
                        pending_fallback = fallback;
                        end_child(current_pid);
                    }
                }
            }
        }
        drop(events_tx);
        drop(input_tx);
        if output_done {
            let _ = output_thread.join();
        }
        // The writer thread ends once every input sender is gone; don't wait on a blocked pump.
        drop(writer_thread);
        let left_modes = lock(&modes).modes();
        Ok(ProxyOutcome {
            exit: exit.unwrap_or(ChildExit::Code(1)),
            terminated_by,
            ended_on_request,
            left_modes,
        })
    }
}

/// Waits for `child` on its own thread and reports its exit as `generation`.
fn wait_for(
    mut child: Box<dyn portable_pty::Child + Send + Sync>,
    generation: u64,
    events: Sender<Event>,
) -> Result<()> {
    std::thread::Builder::new()
        .name("ccx-wait".into())
        .spawn(move || {
            let exit = match child.wait() {
                Ok(status) => exit_of(&status),
                Err(_) => ChildExit::Code(1),
            };
            let _ = events.send(Event::ChildExited { generation, exit });
        })?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// SIGHUP now, SIGKILL after a grace period if the child is still there.
fn end_child(pid: u32) {
    if pid == 0 {
        return;
    }
    let pid = pid as libc::pid_t;
    unsafe { libc::kill(pid, libc::SIGHUP) };
    std::thread::spawn(move || {
        std::thread::sleep(END_GRACE);
        // Still there (and not yet reaped, so the PID is still this child's): kill it.
        if unsafe { libc::kill(pid, 0) } == 0 {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
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
        let text = unsafe { libc::strsignal(n) };
        !text.is_null() && unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy() == name
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_map_back() {
        let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(libc::SIGTERM)) };
        assert_eq!(signal_number(&name.to_string_lossy()), Some(libc::SIGTERM));
        assert_eq!(signal_number("no such signal"), None);
        assert_eq!(ChildExit::Signal(9).shell_code(), 137);
        assert_eq!(ChildExit::Code(3).shell_code(), 3);
    }
}

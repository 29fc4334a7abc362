//! The PTY proxy engine: runs a program in a pseudo-terminal and copies bytes both ways
//! untouched. It takes its input, output, screen model and control channel as arguments, so
//! tests run it over a real PTY with small programs and sinks; raw mode, the real stdin and
//! signals stay in the thin callers (`exec`, `session`).
//!
//! The PTY outlives its child: on request the proxy ends the child and starts another program
//! in the same PTY (ccx restarts claude on another conversation that way). The proxy ends when
//! a child exits that nobody asked to replace.

use crate::owned_child::{self, ChildSignaller};
pub use crate::pty_io::ChildInput;
use crate::pty_io::{InputQueue, PtyReader};
use crate::screen::ScreenModel;
use crate::supervisor::{Supervisor, SupervisorAction, SupervisorEvent};
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
    fn on_input(&mut self, input: &[u8], to_child: &ChildInput);

    /// How long to wait for more input before calling [`InputFilter::on_pause`] (the filter
    /// holds an incomplete sequence, e.g. a lone Esc); None waits for input as long as it takes.
    fn pause_after(&self) -> Option<Duration> {
        None
    }

    /// No input came for [`InputFilter::pause_after`].
    fn on_pause(&mut self, _to_child: &ChildInput) {}
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
    fn on_input(&mut self, input: &[u8], to_child: &ChildInput) {
        to_child.send(input.to_vec());
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
}

pub use crate::owned_child::ChildExit;

pub use crate::supervisor::RestartResult;

/// A lifecycle event as the proxy's supervisor takes it.
type Lifecycle = SupervisorEvent<Box<CommandBuilder>, Sender<RestartResult>>;

/// Events the proxy loop reacts to.
enum Event {
    Resize { rows: u16, cols: u16 },
    Lifecycle(Lifecycle),
}

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
    input_tx: ChildInput,
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

    /// Sends bytes to the child as if typed, after every byte sent before (see [`ChildInput`]).
    pub fn send_input(&self, bytes: Vec<u8>) {
        self.input_tx.send(bytes);
    }

    /// Asks the child to end (SIGHUP, then SIGKILL if it lingers) because ccx got `signal`.
    pub fn terminate(&self, signal: i32) {
        self.lifecycle(SupervisorEvent::Terminate(signal));
    }

    /// Ends the child because the person asked ccx to quit (reported as a clean exit).
    pub fn end_child_on_request(&self) {
        self.lifecycle(SupervisorEvent::EndOnRequest);
    }

    /// Says the restarted child `pid` started well (it showed its prompt), so its exiting from
    /// now on ends the session as any exit does, instead of starting its fallback.
    pub fn confirm_started(&self, pid: u32) {
        self.lifecycle(SupervisorEvent::Started(pid));
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
            .send(Event::Lifecycle(SupervisorEvent::Restart {
                cmd: Box::new(cmd),
                fallback: fallback.map(Box::new),
                reply,
            }))
            .map_err(|_| "the session has ended".to_string())?;
        answer
            .recv_timeout(timeout)
            .map_err(|_| "the restart did not finish in time".to_string())?
    }

    fn lifecycle(&self, event: Lifecycle) {
        let _ = self.events.send(Event::Lifecycle(event));
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
    /// What the proxy shares with its handles (the senders' other ends are below).
    shared: ProxyHandle,
    events_rx: Receiver<Event>,
    input_queue: InputQueue,
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
        let (input_tx, input_queue) = crate::pty_io::channel();
        let handle = ProxyHandle {
            events: events_tx,
            input_tx,
            gate: OutputGate::default(),
            pid: Arc::new(AtomicU32::new(spawned.pid)),
            started: Arc::new(Mutex::new(Instant::now())),
            last_query: Arc::new(Mutex::new(None)),
        };
        let proxy = Proxy {
            spawned,
            shared: handle.clone(),
            events_rx,
            input_queue,
        };
        (proxy, handle)
    }

    /// Copies `input` (through `filter`) to the child and the child's output to `output`
    /// (and to `screen`), until a child has exited unasked and its output is drained.
    pub fn run(
        self,
        input: impl InputSource,
        filter: impl InputFilter,
        output: impl Write + Send + 'static,
        screen: Option<ScreenModel>,
    ) -> Result<ProxyOutcome> {
        let Proxy {
            spawned,
            shared,
            events_rx,
            input_queue,
        } = self;
        let ProxyHandle {
            events: events_tx,
            input_tx,
            gate,
            pid,
            started,
            last_query,
        } = shared;
        let Spawned {
            master,
            slave,
            child,
            pid: first_pid,
            rows,
            cols,
        } = spawned;
        let master_fd = crate::pty_io::master_fd(master.as_ref())?;
        let reader = PtyReader::new(master_fd)?;
        let writer = master.take_writer().context("cannot write the PTY")?;
        if let Some(screen) = &screen {
            screen.resize(rows, cols);
        }
        let writer_thread = input_queue.start(master_fd, writer)?;
        start_input_pump(input, filter, input_tx.clone())?;
        let modes = Arc::new(Mutex::new(crate::terminal::ModeTracker::default()));
        let copy = OutputCopy {
            gate,
            screen: screen.clone(),
            modes: modes.clone(),
            last_query,
            done: events_tx.clone(),
        };
        let output_thread = copy.start(reader, output)?;
        let child = owned_child::watch(child, exit_reporter(&events_tx, 0))?;
        let mut live = Live {
            master,
            slave: Some(slave),
            child,
            events: events_tx,
            pid,
            started,
            screen,
        };
        let (ending, output_done) = live.supervise(events_rx, first_pid);
        drop(live);
        drop(input_tx);
        if output_done {
            let _ = output_thread.join();
        }
        // The writer thread ends once every input sender is gone; don't wait on a blocked pump.
        drop(writer_thread);
        let left_modes = lock(&modes).modes();
        Ok(ProxyOutcome {
            exit: ending.exit,
            terminated_by: ending.terminated_by,
            ended_on_request: ending.ended_on_request,
            left_modes,
        })
    }
}

/// The input pump: reads the input and hands it to the filter. It may block forever on a
/// terminal, so it is never joined. It shares no lock with the output copy or the screen model.
fn start_input_pump(
    mut input: impl InputSource,
    mut filter: impl InputFilter,
    typed: ChildInput,
) -> Result<()> {
    std::thread::Builder::new()
        .name("ccx-input".into())
        .spawn(move || {
            crate::thread_priority::on_the_keystroke_path();
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
    Ok(())
}

/// The output copy: the hot path. It copies first, then hands the bytes to the screen model,
/// which never makes the copy wait for its parser (see [`ScreenModel`]).
struct OutputCopy {
    gate: OutputGate,
    screen: Option<ScreenModel>,
    modes: Arc<Mutex<crate::terminal::ModeTracker>>,
    last_query: Arc<Mutex<Option<Instant>>>,
    done: Sender<Event>,
}

impl OutputCopy {
    fn start(
        self,
        mut reader: impl Read + Send + 'static,
        mut output: impl Write + Send + 'static,
    ) -> Result<std::thread::JoinHandle<()>> {
        let thread = std::thread::Builder::new()
            .name("ccx-pty-reader".into())
            .spawn(move || {
                crate::thread_priority::on_the_keystroke_path();
                let mut buf = vec![0u8; CHUNK];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if !self.pass(&buf[..n], &mut output) {
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        // EIO from the PTY is the end of output.
                        Err(_) => break,
                    }
                }
                let _ = self
                    .done
                    .send(Event::Lifecycle(SupervisorEvent::OutputDone));
            })?;
        Ok(thread)
    }

    /// Copies one read to the terminal (unless held) and to the screen model; false when the
    /// terminal is gone.
    fn pass(&self, bytes: &[u8], output: &mut impl Write) -> bool {
        lock(&self.modes).observe(bytes);
        let held = lock(&self.gate.held);
        if !*held && crate::terminal::holds_terminal_query(bytes) {
            *lock(&self.last_query) = Some(Instant::now());
        }
        if !*held
            && output
                .write_all(bytes)
                .and_then(|_| output.flush())
                .is_err()
        {
            return false;
        }
        if let Some(screen) = &self.screen {
            screen.feed(bytes);
        }
        drop(held);
        // Only a model far behind makes the copy wait, and never while the gate is locked (the
        // editor must open at once).
        if let Some(screen) = &self.screen {
            screen.wait_for_room();
        }
        true
    }
}

/// Reports a child's exit to the proxy loop as `generation`.
fn exit_reporter(events: &Sender<Event>, generation: u64) -> impl FnOnce(ChildExit) + Send {
    let events = events.clone();
    move |exit| {
        let _ = events.send(Event::Lifecycle(SupervisorEvent::ChildExited {
            generation,
            exit,
        }));
    }
}

/// The running session's PTY and child, changed by the supervisor's actions.
struct Live {
    master: Box<dyn MasterPty + Send>,
    /// The proxy's copy of the slave side, kept so that a restart can start the next program.
    slave: Option<Box<dyn SlavePty + Send>>,
    child: ChildSignaller,
    events: Sender<Event>,
    pid: Arc<AtomicU32>,
    started: Arc<Mutex<Instant>>,
    screen: Option<ScreenModel>,
}

impl Live {
    /// Runs the events through the supervisor until the session is over; how it ended and
    /// whether the output was drained.
    fn supervise(
        &mut self,
        events: Receiver<Event>,
        first_pid: u32,
    ) -> (crate::supervisor::Ending, bool) {
        let mut supervisor = Supervisor::new(first_pid);
        let mut output_done = false;
        while !supervisor.is_done() {
            let event = if supervisor.is_draining() {
                events.recv_timeout(DRAIN_AFTER_EXIT).ok()
            } else {
                events.recv().ok()
            };
            match event {
                None => break,
                Some(Event::Resize { rows, cols }) => self.resize(rows, cols),
                Some(Event::Lifecycle(event)) => {
                    output_done |= matches!(event, SupervisorEvent::OutputDone);
                    let actions = supervisor.on_event(event, Instant::now());
                    self.carry_out(&mut supervisor, actions);
                }
            }
        }
        (supervisor.ending(), output_done)
    }

    fn carry_out(
        &mut self,
        supervisor: &mut Supervisor<Box<CommandBuilder>, Sender<RestartResult>>,
        actions: Vec<SupervisorAction<Box<CommandBuilder>, Sender<RestartResult>>>,
    ) {
        let mut todo = std::collections::VecDeque::from(actions);
        while let Some(action) = todo.pop_front() {
            match action {
                SupervisorAction::EndChild => self.child.end(END_GRACE),
                SupervisorAction::Reply(reply, result) => {
                    let _ = reply.send(result);
                }
                SupervisorAction::CloseSlave => self.slave = None,
                SupervisorAction::Spawn { cmd, generation } => {
                    let result = self.spawn(*cmd, generation);
                    let more =
                        supervisor.on_event(SupervisorEvent::Spawned(result), Instant::now());
                    todo.extend(more);
                }
            }
        }
    }

    /// Starts `cmd` in the PTY as child `generation`; its PID.
    fn spawn(&mut self, cmd: CommandBuilder, generation: u64) -> RestartResult {
        let slave = self.slave.as_ref().ok_or("the session is ending")?;
        let child = spawn_on(slave.as_ref(), cmd).map_err(|e| format!("{e:#}"))?;
        let child = owned_child::watch(child, exit_reporter(&self.events, generation))
            .map_err(|e| format!("cannot wait for the new program: {e}"))?;
        *lock(&self.started) = Instant::now();
        self.pid.store(child.pid(), Ordering::SeqCst);
        self.child = child;
        Ok(self.child.pid())
    }

    fn resize(&self, rows: u16, cols: u16) {
        if let Some(screen) = &self.screen {
            screen.resize(rows, cols);
        }
        let _ = self.master.resize(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

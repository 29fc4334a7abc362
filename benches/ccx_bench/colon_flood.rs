//! `:` pressed during a flood: how long until ccx's editor draws its prompt, and whether the
//! repaint on return leaves the terminal exactly as the child drew it.
//!
//! - `prompt-flood RATE_MB dir=DIR`: the stand-in claude (its terminal in raw mode): draws an
//!   empty prompt (`❯ `, the cursor after it) and then, every millisecond, RATE_MB/1000 MB of
//!   80-column lines scrolling up with the prompt drawn again below them, each frame one
//!   synchronized update as Claude Code draws (RATE_MB 0: as fast as the terminal takes it). SIGUSR1 pauses it: it draws a last frame (colours, a line elsewhere
//!   on the screen, the prompt) and writes the last bytes it wrote to `DIR/tail` (from a line
//!   start, more than two screens of lines); SIGUSR2 resumes. Its PID is in `DIR/pid`.
//! - `colon-flood CCX samples=N rate_mb=R dir=DIR`: runs a recorded `ccx` session whose claude
//!   is that stand-in, reading its terminal all the time (as a terminal does), and for each
//!   sample presses `:` and times until the editor's header arrives, then pauses the flood,
//!   returns with Enter and checks that a fresh terminal fed only the bytes ccx wrote after
//!   the return shows what vt100 makes of the stand-in's own bytes. Samples alternate between
//!   the flood running (the figure) and the flood paused (the anchor: the same session at
//!   rest). A `:` that reached the stand-in instead (the screen did not show the empty prompt
//!   when asked) counts as a miss, and is erased with a backspace. `COLON_DEBUG=1` prints every
//!   sample and what arrived after a miss.

use super::{ms, opt, opt_str, pty_size, report_dist, result, Res};
use portable_pty::native_pty_system;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What ccx's editor prints first (its header's hint).
const HEADER: &[u8] = b":help lists commands";
/// The bytes kept for the tail: far more than two screens of 81-byte lines.
const TAIL: usize = 64 << 10;
const SETUP: &[u8] = b"\x1b[2J\x1b[H";

fn line(n: u64) -> Vec<u8> {
    format!(
        "{:<78}\r\n",
        format!("flood line {n} of plain text for the screen model")
    )
    .into_bytes()
}

/// The stand-in claude's flood (see the module doc).
pub fn prompt_flood(args: &[String]) -> Res<()> {
    let rate: f64 = args
        .first()
        .and_then(|r| r.parse().ok())
        .ok_or("prompt-flood RATE_MB dir=DIR")?;
    let dir = PathBuf::from(opt_str(args, "dir").ok_or("prompt-flood needs dir=DIR")?);
    let pause = Arc::new(AtomicBool::new(false));
    let resume = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(libc::SIGUSR1, pause.clone())?;
    signal_hook::flag::register(libc::SIGUSR2, resume.clone())?;
    std::fs::write(dir.join("pid"), std::process::id().to_string())?;
    // Whatever reaches claude (a `:` the filter let through) is read and dropped.
    std::thread::spawn(|| {
        let mut sink = [0u8; 4096];
        let mut input = std::io::stdin();
        while matches!(input.read(&mut sink), Ok(n) if n > 0) {}
    });
    let mut out = Emitter {
        out: std::io::stdout().lock(),
        tail: Vec::with_capacity(2 * TAIL),
    };
    let per_block = if rate > 0.0 {
        ((rate * 1e3) as usize / 80).max(1)
    } else {
        400
    };
    out.emit(SETUP)?;
    out.emit("❯ ".as_bytes())?;
    let mut n = 0u64;
    let mut next = Instant::now();
    let mut paused = false;
    loop {
        if pause.swap(false, Ordering::SeqCst) && !paused {
            paused = true;
            let frame = b"\r\x1b[1;33mwarning: the flood paused\x1b[0m\r\n\x1b[3;20H\x1b[7mboxed\x1b[0m\x1b[24;1H\x1b[K";
            out.emit(frame)?;
            out.emit("❯ ".as_bytes())?;
            write_tail(&dir, &out.tail)?;
        }
        if resume.swap(false, Ordering::SeqCst) {
            paused = false;
            next = Instant::now();
        }
        if paused {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        // One synchronized update a frame, as Claude Code draws.
        let mut block = b"\x1b[?2026h\r".to_vec();
        for _ in 0..per_block {
            block.extend(line(n));
            n += 1;
        }
        block.extend_from_slice("❯ \x1b[?2026l".as_bytes());
        if out.emit(&block).is_err() {
            return Ok(()); // the terminal is gone
        }
        if rate > 0.0 {
            next += Duration::from_millis(1);
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
}

/// The stand-in's terminal output, keeping the last bytes written.
struct Emitter {
    out: std::io::StdoutLock<'static>,
    tail: Vec<u8>,
}

impl Emitter {
    fn emit(&mut self, bytes: &[u8]) -> Res<()> {
        self.out.write_all(bytes)?;
        self.out.flush()?;
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
        Ok(())
    }
}

/// Writes the tail from its first line start, renamed into place (its presence says paused).
fn write_tail(dir: &Path, tail: &[u8]) -> Res<()> {
    let from = memchr::memmem::find(tail, b"\r\n").map_or(0, |at| at + 2);
    let part = dir.join("tail.part");
    std::fs::write(&part, &tail[from..])?;
    std::fs::rename(part, dir.join("tail"))?;
    Ok(())
}

/// The session's terminal: a thread reads it all the time; the driver watches for a needle
/// (its arrival time taken by the reader) and collects what arrives after a mark.
#[derive(Default)]
struct Watch {
    collected: Vec<u8>,
    collecting: bool,
    needle: Option<&'static [u8]>,
    found_at: Option<Instant>,
    closed: bool,
}

struct Terminal {
    watch: Arc<(Mutex<Watch>, Condvar)>,
    writer: Box<dyn Write + Send>,
}

impl Terminal {
    fn start(mut reader: Box<dyn Read + Send>, writer: Box<dyn Write + Send>) -> Terminal {
        let watch = Arc::new((Mutex::new(Watch::default()), Condvar::new()));
        let shared = watch.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let now = Instant::now();
                let mut w = shared.0.lock().unwrap();
                if w.collecting {
                    w.collected.extend_from_slice(&buf[..n]);
                    let from = w.collected.len().saturating_sub(n + 64);
                    if let Some(needle) = w.needle {
                        if w.found_at.is_none()
                            && memchr::memmem::find(&w.collected[from..], needle).is_some()
                        {
                            w.found_at = Some(now);
                        }
                    }
                    shared.1.notify_all();
                }
            }
            shared.0.lock().unwrap().closed = true;
            shared.1.notify_all();
        });
        Terminal { watch, writer }
    }

    /// Starts collecting afresh, watching for `needle`.
    fn mark(&self, needle: Option<&'static [u8]>) {
        let mut w = self.watch.0.lock().unwrap();
        w.collected.clear();
        w.collecting = true;
        w.needle = needle;
        w.found_at = None;
    }

    fn type_bytes(&mut self, bytes: &[u8]) -> Res<Instant> {
        let at = Instant::now();
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(at)
    }

    /// When the needle arrived, waiting at most `timeout`.
    fn found(&self, timeout: Duration) -> Option<Instant> {
        let (lock, cv) = &*self.watch;
        let w = lock.lock().unwrap();
        let (w, _) = cv
            .wait_timeout_while(w, timeout, |w| w.found_at.is_none() && !w.closed)
            .unwrap();
        w.found_at
    }

    /// Waits (at most `timeout`) until the bytes collected satisfy `done`; when they did.
    fn collected_until(&self, timeout: Duration, done: impl Fn(&[u8]) -> bool) -> Option<Instant> {
        let (lock, cv) = &*self.watch;
        let deadline = Instant::now() + timeout;
        let mut w = lock.lock().unwrap();
        loop {
            if done(&w.collected) {
                return Some(Instant::now());
            }
            let now = Instant::now();
            if now >= deadline || w.closed {
                return None;
            }
            w = cv.wait_timeout(w, deadline - now).unwrap().0;
        }
    }

    fn stop_collecting(&self) {
        let mut w = self.watch.0.lock().unwrap();
        w.collecting = false;
        w.collected = Vec::new();
    }
}

/// The screen vt100 makes of `bytes` on a fresh 24 x 80 terminal: its cells and its cursor.
fn screen_of(bytes: &[u8]) -> (Vec<u8>, (u16, u16)) {
    let size = |n| std::num::NonZeroU16::new(n).unwrap();
    let mut parser = vt100::Parser::new(size(24), size(80), 0);
    parser.process(bytes);
    let screen = parser.screen();
    (screen.contents_formatted().into(), screen.cursor_position())
}

/// Sends `signal` to the stand-in (its PID from `DIR/pid`, a process this program started).
fn signal_standin(dir: &Path, signal: libc::c_int) -> Res<()> {
    let pid: libc::pid_t = std::fs::read_to_string(dir.join("pid"))?.trim().parse()?;
    unsafe { libc::kill(pid, signal) };
    Ok(())
}

fn wait_file(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

#[derive(Default)]
struct Tally {
    flood: Vec<f64>,
    rest: Vec<f64>,
    /// From Enter in the editor to Claude's screen shown exactly again.
    flood_back: Vec<f64>,
    rest_back: Vec<f64>,
    misses: usize,
    exact: usize,
    inexact: usize,
}

/// The `colon-flood` driver (see the module doc).
pub fn colon_flood(args: &[String]) -> Res<()> {
    let ccx = args.first().ok_or("colon-flood CCX dir=DIR")?.clone();
    let samples: usize = opt(args, "samples", 100);
    let rate: f64 = opt(args, "rate_mb", 10.0);
    let dir = PathBuf::from(opt_str(args, "dir").ok_or("colon-flood needs dir=DIR")?);
    let me = std::env::current_exe()?;
    let _ = std::fs::remove_file(dir.join("pid"));
    let script = format!(
        "#!/bin/sh\nstty raw -echo\nexec '{}' prompt-flood {rate} dir='{}'\n",
        me.display(),
        dir.display()
    );
    let (cmd, _) = super::ccx_with_standin(&ccx, &dir, "flood-claude", &script)?;
    let pair = native_pty_system().openpty(pty_size())?;
    let mut child = pair.slave.spawn_command(cmd)?;
    drop(pair.slave);
    let mut term = Terminal::start(pair.master.try_clone_reader()?, pair.master.take_writer()?);
    if !wait_file(&dir.join("pid"), Duration::from_secs(30)) {
        return Err("the stand-in claude did not start".into());
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut tally = Tally::default();
    let started = Instant::now();
    for i in 0..samples * 2 {
        let flooding = i % 2 == 0;
        sample(&mut term, &dir, flooding, &mut tally)?;
    }
    eprintln!(
        "colon-flood: {} samples each in {:.1} s ({} misses, {} inexact)",
        samples,
        started.elapsed().as_secs_f64(),
        tally.misses,
        tally.inexact
    );
    report_dist("colon_flood", &tally.flood);
    report_dist("colon_rest", &tally.rest);
    report_dist("colon_flood_back", &tally.flood_back);
    report_dist("colon_rest_back", &tally.rest_back);
    result("colon_misses", tally.misses);
    result("colon_exact", tally.exact);
    result("colon_inexact", tally.inexact);
    let _ = signal_standin(&dir, libc::SIGTERM);
    super::end(&mut child, libc::SIGTERM);
    Ok(())
}

/// One `:`: with the flood running or paused; then the return and its check.
fn sample(term: &mut Terminal, dir: &Path, flooding: bool, tally: &mut Tally) -> Res<()> {
    let tail = dir.join("tail");
    if flooding {
        let _ = std::fs::remove_file(&tail);
        signal_standin(dir, libc::SIGUSR2)?;
        // Let the flood run a while (and the model fall behind, if it does).
        std::thread::sleep(Duration::from_millis(150));
    } else {
        signal_standin(dir, libc::SIGUSR1)?;
        if !wait_file(&tail, Duration::from_secs(10)) {
            return Err("the stand-in did not pause".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    term.mark(Some(HEADER));
    let pressed = term.type_bytes(b":")?;
    let Some(opened) = term.found(Duration::from_secs(3)) else {
        tally.misses += 1;
        if std::env::var_os("COLON_DEBUG").is_some() {
            let w = term.watch.0.lock().unwrap();
            let from = w.collected.len().saturating_sub(400);
            eprintln!(
                "miss ({} bytes after `:`): {:?}",
                w.collected.len(),
                String::from_utf8_lossy(&w.collected[from..])
            );
        }
        term.stop_collecting();
        term.type_bytes(b"\x7f")?;
        return Ok(());
    };
    let took = ms(opened - pressed);
    if std::env::var_os("COLON_DEBUG").is_some() {
        eprintln!(
            "colon-flood: {} {took:.2} ms",
            if flooding { "flood" } else { "rest" }
        );
    }
    if flooding {
        tally.flood.push(took);
        // Pause the flood while the editor is open: what it drew meanwhile goes to the model.
        signal_standin(dir, libc::SIGUSR1)?;
        if !wait_file(&tail, Duration::from_secs(10)) {
            return Err("the stand-in did not pause".into());
        }
    } else {
        tally.rest.push(took);
    }
    let mut expected_bytes = SETUP.to_vec();
    expected_bytes.extend(std::fs::read(&tail)?);
    let expected = screen_of(&expected_bytes);
    term.mark(None);
    let enter = term.type_bytes(b"\r")?;
    match term.collected_until(Duration::from_secs(10), |got| screen_of(got) == expected) {
        Some(shown) => {
            tally.exact += 1;
            let back = if flooding {
                &mut tally.flood_back
            } else {
                &mut tally.rest_back
            };
            back.push(ms(shown - enter));
        }
        None => tally.inexact += 1,
    }
    term.stop_collecting();
    Ok(())
}

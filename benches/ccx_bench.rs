//! ccx's benchmark driver, run by `scripts/bench.sh` (not a timed test: every figure is measured
//! beside an anchor in the same run and reported as a ratio or a difference).
//!
//! Each subcommand measures one figure and prints `RESULT <key> <value>` lines on stdout
//! (progress goes to stderr):
//!
//! - `gen FILE MB`: writes MB (10^6 bytes) of 80-column text (79 characters + `\n`).
//! - `pty-copy CMD [ARGS]`: the bare anchor: runs CMD in a portable-pty PTY and copies its
//!   output to stdout, nothing else (no input pump, no screen model).
//! - `pty-read name=NAME -- CMD [ARGS]`: this process is CMD's terminal: runs it in a PTY of
//!   24 x 80, reads every byte until the PTY closes and reports the bytes and the seconds to
//!   the first and to the last byte (the recorded-session flood: a `ccx` session against
//!   `script`).
//! - `model FILE`: where a session's output path spends its time: the file in 64 KiB reads
//!   through each stage alone (the copy, the mode tracker, the query detector, the keyboard
//!   mode scan, vt100 in 64 KiB and in 256 KiB pieces).
//! - `keystroke CCX samples=N gap_us=G`: keystroke round trip through `CCX exec -- sh -c
//!   'stty raw -echo; cat'` and through the same command in a bare PTY, sample by sample
//!   alternated; this process owns both outer PTYs.
//! - `keystroke-flood CCX rounds=R samples=N rate_mb=R dir=DIR`: the same round trip through a
//!   recorded `ccx` session whose stand-in claude echoes in raw mode while `trickle` floods its
//!   terminal, against the same stand-in in a bare PTY, interleaved, in rounds each reported with
//!   the machine's load (see `ccx_bench/keystroke_flood.rs`).
//! - `trickle MB_PER_S secs=S [eol=lf]`: writes 80-byte lines (ending in CR LF, or LF alone) to
//!   stdout at that rate for S seconds.
//! - `colon-flood CCX samples=N rate_mb=R dir=DIR` (and its stand-in, `prompt-flood`): `:`
//!   pressed during a flood until ccx's editor shows, and the repaint's exactness on return
//!   (see `ccx_bench/colon_flood.rs`).
//! - `store CCX data=DIR project=DIR turns=N samples=N hook_samples=N transcript_turns=N`:
//!   fills the project's store (the one `ccx` run in `project` with `CCX_DATA_DIR=data` opens)
//!   with N turns, then times `finish_turn` against a plain sled insert + flush, then the hook
//!   path: `CCX __hook` with a Stop payload → exit, and → turn durable in the store.
//! - `rss wait_ms=MS -- CMD [ARGS]`: runs CMD in a PTY, waits, reads its VmRSS, ends it.
//! - `confirm lines=N samples=N`: the recorder on a session whose transcript already holds N
//!   lines: per turn, the prompt's line is appended and `UserPromptSubmit` handled (the prompt is
//!   confirmed in the transcript), then the reply's line and `Stop` (the turn finished from the
//!   transcript, durable). Beside it, what reading the transcript costs: the follower's read of
//!   the appended tail, and (the anchor) reading and parsing the whole file.
//!
//! - `archive-gen claude=DIR projects=DIR files=N per_project=N turns=N`: writes N Claude Code
//!   session transcripts of `turns` turns each under `DIR/projects/<project>/`, `per_project`
//!   to a project (each project a folder under `projects=`, named by the lines' `cwd`), all
//!   last written two hours ago (for `ccx archive`).
//!
//! Only processes this program starts are signalled, by their PID.

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "ccx_bench/colon_flood.rs"]
mod colon_flood;
#[path = "ccx_bench/keystroke_flood.rs"]
mod keystroke_flood;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// A subcommand: it runs with the arguments after its name.
type Subcommand = fn(&[String]) -> Res<()>;

/// The subcommands scripts/bench.sh runs, by name.
const SUBCOMMANDS: &[(&str, Subcommand)] = &[
    ("gen", gen),
    ("pty-copy", pty_copy),
    ("pty-read", pty_read),
    ("model", model),
    ("keystroke", keystroke),
    ("keystroke-flood", keystroke_flood::keystroke_flood),
    ("trickle", trickle),
    ("prompt-flood", colon_flood::prompt_flood),
    ("colon-flood", colon_flood::colon_flood),
    ("store", store),
    ("rss", rss),
    ("fork", fork),
    ("search", search),
    ("gen-transcript", gen_transcript),
    ("parse", parse),
    ("confirm", confirm),
    ("archive-gen", archive_gen),
];

fn main() {
    // `cargo bench` appends `--bench`; ignore it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let name = args.first().map(String::as_str);
    let Some((_, run)) = SUBCOMMANDS.iter().find(|(n, _)| Some(*n) == name) else {
        let names: Vec<&str> = SUBCOMMANDS.iter().map(|(n, _)| *n).collect();
        eprintln!(
            "ccx_bench: run scripts/bench.sh (subcommands: {})",
            names.join(", ")
        );
        return;
    };
    if let Err(e) = run(&args[1..]) {
        eprintln!("ccx_bench: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------- helpers

fn opt<T: std::str::FromStr>(args: &[String], key: &str, default: T) -> T {
    let prefix = format!("{key}=");
    args.iter()
        .find_map(|a| a.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn opt_str(args: &[String], key: &str) -> Option<String> {
    let prefix = format!("{key}=");
    args.iter()
        .find_map(|a| a.strip_prefix(&prefix))
        .map(str::to_owned)
}

/// The folder given as `key=DIR`, which must be there.
fn dir_opt(args: &[String], key: &str) -> Res<PathBuf> {
    let dir = opt_str(args, key).ok_or_else(|| format!("{key}=DIR missing"))?;
    Ok(PathBuf::from(dir))
}

fn result(key: &str, value: impl std::fmt::Display) {
    println!("RESULT {key} {value}");
}

/// Value at percentile `p` (nearest rank) of unsorted samples, in the samples' unit.
fn pct(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn report_dist(prefix: &str, samples_ms: &[f64]) {
    result(
        &format!("{prefix}_p50_ms"),
        format!("{:.4}", pct(samples_ms, 50.0)),
    );
    result(
        &format!("{prefix}_p99_ms"),
        format!("{:.4}", pct(samples_ms, 99.0)),
    );
    result(
        &format!("{prefix}_max_ms"),
        format!("{:.4}", pct(samples_ms, 100.0)),
    );
    result(&format!("{prefix}_n"), samples_ms.len());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pty_size() -> PtySize {
    PtySize {
        rows: 24,
        cols: 80,
        pixel_width: 0,
        pixel_height: 0,
    }
}

fn command(argv: &[String]) -> Res<CommandBuilder> {
    let (program, rest) = argv.split_first().ok_or("missing command")?;
    let mut cmd = CommandBuilder::new(program);
    cmd.args(rest);
    cmd.cwd(std::env::current_dir()?);
    Ok(cmd)
}

/// Waits for `fd` to become readable, at most `timeout`.
fn readable(fd: i32, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    loop {
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return n > 0;
    }
}

/// Ends a child this program started: `signal` to its PID, then SIGKILL after 5 s.
fn end(child: &mut Box<dyn Child + Send + Sync>, signal: i32) {
    let Some(pid) = child.process_id() else {
        return;
    };
    unsafe { libc::kill(pid as libc::pid_t, signal) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
}

// ---------------------------------------------------------------- gen

/// The `FILE MB` arguments of a generator (`usage` is its refusal when they are missing).
fn file_and_mb<'a>(args: &'a [String], usage: &'static str) -> Res<(&'a String, u64)> {
    match (args.first(), args.get(1).and_then(|m| m.parse().ok())) {
        (Some(path), Some(mb)) => Ok((path, mb)),
        _ => Err(usage.into()),
    }
}

fn gen(args: &[String]) -> Res<()> {
    let (path, mb) = file_and_mb(args, "gen FILE MB")?;
    let words = [
        "the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "turn", "branch",
        "store", "proxy", "terminal", "context", "window", "record", "session", "claude", "ccx",
    ];
    // A block of 2000 varied lines, repeated: realistic text, cheap to write.
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut block = Vec::new();
    for _ in 0..2000 {
        let mut line = String::new();
        loop {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let w = words[(seed % words.len() as u64) as usize];
            if line.len() + w.len() + 1 > 79 {
                break;
            }
            line.push_str(w);
            line.push(' ');
        }
        block.extend_from_slice(format!("{line:<79}\n").as_bytes());
    }
    let target = mb * 1_000_000;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0u64;
    while written + (block.len() as u64) <= target {
        out.write_all(&block)?;
        written += block.len() as u64;
    }
    let rest = ((target - written) / 80 * 80) as usize;
    out.write_all(&block[..rest])?;
    written += rest as u64;
    out.flush()?;
    result("gen_bytes", written);
    Ok(())
}

// ---------------------------------------------------------------- pty-copy

fn pty_copy(argv: &[String]) -> Res<()> {
    let pair = native_pty_system().openpty(pty_size())?;
    let mut child = pair.slave.spawn_command(command(argv)?)?;
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader()?;
    // Unbuffered stdout, as a proxy writes it.
    let mut out = unsafe { std::fs::File::from_raw_fd(libc::dup(1)) };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.write_all(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break, // EIO: the child is gone
        }
    }
    let status = child.wait()?;
    std::process::exit(if status.success() { 0 } else { 1 });
}

// ---------------------------------------------------------------- pty-read

fn pty_read(args: &[String]) -> Res<()> {
    let name = opt_str(args, "name").unwrap_or_else(|| "run".into());
    let at = args
        .iter()
        .position(|a| a == "--")
        .ok_or("pty-read name=NAME -- CMD")?;
    let pair = native_pty_system().openpty(pty_size())?;
    let started = Instant::now();
    let mut child = pair.slave.spawn_command(command(&args[at + 1..])?)?;
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader()?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    let mut last = started;
    let mut first = None;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                bytes += n as u64;
                last = Instant::now();
                first.get_or_insert(last);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break, // EIO: every writer is gone
        }
    }
    let status = child.wait()?;
    let exited = started.elapsed();
    result(&format!("{name}_bytes"), bytes);
    result(
        &format!("{name}_secs"),
        format!("{:.6}", (last - started).as_secs_f64()),
    );
    result(
        &format!("{name}_first_secs"),
        format!("{:.6}", (first.unwrap_or(last) - started).as_secs_f64()),
    );
    result(
        &format!("{name}_exit_secs"),
        format!("{:.6}", exited.as_secs_f64()),
    );
    result(&format!("{name}_ok"), status.success());
    Ok(())
}

// ---------------------------------------------------------------- model

fn model(args: &[String]) -> Res<()> {
    let path = args.first().ok_or("model FILE")?;
    // As the PTY delivers it: \n becomes \r\n.
    let raw = std::fs::read(path)?;
    let mut data = Vec::with_capacity(raw.len() + raw.len() / 40);
    for line in raw.split_inclusive(|&b| b == b'\n') {
        match line.strip_suffix(b"\n") {
            Some(text) => {
                data.extend_from_slice(text);
                data.extend_from_slice(b"\r\n");
            }
            None => data.extend_from_slice(line),
        }
    }
    drop(raw);
    let mb = data.len() as f64 / 1e6;
    let stage = |key: &str, f: &mut dyn FnMut(&[u8])| {
        let t = Instant::now();
        for chunk in data.chunks(64 * 1024) {
            f(chunk);
        }
        let secs = t.elapsed().as_secs_f64();
        eprintln!("ccx_bench: model: {key}: {:.1} MB/s", mb / secs);
        result(&format!("model_{key}_mbs"), format!("{:.1}", mb / secs));
    };
    let mut sink = vec![0u8; 64 * 1024];
    stage("copy", &mut |c| {
        sink[..c.len()].copy_from_slice(std::hint::black_box(c));
        std::hint::black_box(&mut sink);
    });
    let mut tracker = ccx::terminal::ModeTracker::default();
    stage("modes", &mut |c| tracker.observe(c));
    let mut queries = 0u64;
    stage("queries", &mut |c| {
        queries += u64::from(ccx::terminal::holds_terminal_query(c))
    });
    let mut keyboard = ccx::screen::KeyboardModes::default();
    stage("keyboard", &mut |c| keyboard.observe(c));
    let mut parser = vt100::Parser::new(
        std::num::NonZeroU16::new(24).unwrap(),
        std::num::NonZeroU16::new(80).unwrap(),
        0,
    );
    stage("vt100_64k", &mut |c| parser.process(c));
    let t = Instant::now();
    for chunk in data.chunks(256 * 1024) {
        parser.process(chunk);
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!("ccx_bench: model: vt100_256k: {:.1} MB/s", mb / secs);
    result("model_vt100_256k_mbs", format!("{:.1}", mb / secs));
    // The whole session model: feed in 64 KiB reads, wait until parsed.
    let (screen, _thread) = ccx::screen::ScreenModel::spawn(24, 80);
    let t = Instant::now();
    for chunk in data.chunks(64 * 1024) {
        screen.feed(chunk);
        screen.wait_for_room();
    }
    let fed = Instant::now();
    let _ = screen.contents();
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "ccx_bench: model: ScreenModel: {:.1} MB/s fed, {:.1} MB/s parsed",
        mb / (fed - t).as_secs_f64(),
        mb / secs
    );
    result("model_screen_mbs", format!("{:.1}", mb / secs));
    Ok(())
}

// ---------------------------------------------------------------- keystroke under a flood

fn trickle(args: &[String]) -> Res<()> {
    let rate: f64 = args
        .first()
        .and_then(|r| r.parse().ok())
        .ok_or("trickle MB_PER_S")?;
    let secs: u64 = opt(args, "secs", 120);
    // Lines end as a raw-mode program ends them (CR LF), unless `eol=lf`.
    let eol = if opt_str(args, "eol").as_deref() == Some("lf") {
        "\n"
    } else {
        "\r\n"
    };
    let text = "flood text of eighty columns, without any digit at all";
    let line = format!("{text:<width$}{eol}", width = 80 - eol.len());
    // 1 ms worth of lines per write.
    let per_ms = ((rate * 1e3) as usize / line.len()).max(1);
    let block = line.repeat(per_ms);
    let mut out = unsafe { std::fs::File::from_raw_fd(libc::dup(1)) };
    let start = Instant::now();
    let mut next = start;
    while start.elapsed() < Duration::from_secs(secs) {
        if out.write_all(block.as_bytes()).is_err() {
            break; // the terminal is gone
        }
        next += Duration::from_millis(1);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    Ok(())
}

/// A ccx to start in `dir` (in its `project`, with `home` and `data` beside it) whose claude is
/// the shell script `script`, written as `dir/NAME`: the command and the script's path.
fn ccx_with_standin(
    ccx: &str,
    dir: &Path,
    name: &str,
    script: &str,
) -> Res<(CommandBuilder, PathBuf)> {
    for sub in ["home", "data", "project"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let standin = dir.join(name);
    std::fs::write(&standin, script)?;
    std::fs::set_permissions(
        &standin,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    let mut cmd = CommandBuilder::new(ccx);
    cmd.cwd(dir.join("project"));
    cmd.env("HOME", dir.join("home"));
    cmd.env("CCX_DATA_DIR", dir.join("data"));
    cmd.env("CCX_CLAUDE", &standin);
    Ok((cmd, standin))
}

/// Keystroke round trips through a bare session and a ccx one, alternately.
struct Race {
    /// The benchmark's name, for the closing line.
    what: &'static str,
    /// Results are `{prefix}_bare` and `{prefix}_ccx`.
    prefix: &'static str,
    /// The bytes typed, in turn.
    keys: &'static [u8],
    warmup: usize,
    samples: usize,
    /// The pause after each keystroke.
    gap: Duration,
}

impl Race {
    /// Times `warmup + samples` keystrokes in each of `sessions` (bare, then ccx), alternating
    /// which goes first so neither always follows the other, through its `echoes` reader when it
    /// has one; reports the samples after the warm-up, then ends both sessions.
    fn run(&self, sessions: &mut [PtySession; 2], echoes: &[EchoReader]) -> Res<()> {
        let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let started = Instant::now();
        for i in 0..(self.warmup + self.samples) {
            let byte = self.keys[i % self.keys.len()];
            let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
            for k in order {
                let t = match echoes.get(k) {
                    Some(echo) => echo.round_trip(&mut sessions[k], byte)?,
                    None => sessions[k].round_trip(byte)?,
                };
                if i >= self.warmup {
                    times[k].push(t);
                }
                std::thread::sleep(self.gap);
            }
        }
        eprintln!(
            "{}: {} samples each in {:.1} s",
            self.what,
            self.samples,
            started.elapsed().as_secs_f64()
        );
        report_dist(&format!("{}_bare", self.prefix), &times[0]);
        report_dist(&format!("{}_ccx", self.prefix), &times[1]);
        for s in sessions.iter_mut() {
            end(&mut s.child, libc::SIGTERM);
        }
        Ok(())
    }
}

/// Reads a session's terminal all the time on its own thread and reports when each digit
/// (an echo: the flood holds none) arrived.
struct EchoReader {
    digits: std::sync::mpsc::Receiver<(Instant, u8)>,
}

impl EchoReader {
    fn start(session: &mut PtySession) -> Res<EchoReader> {
        let mut reader = session.master.try_clone_reader()?;
        let (tx, digits) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let now = Instant::now();
                for &b in buf[..n].iter().filter(|b| b.is_ascii_digit()) {
                    if tx.send((now, b)).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(EchoReader { digits })
    }

    /// Writes one byte and times until the reader saw it come back.
    fn round_trip(&self, session: &mut PtySession, byte: u8) -> Res<f64> {
        while self.digits.try_recv().is_ok() {}
        let t0 = Instant::now();
        session.writer.write_all(&[byte])?;
        session.writer.flush()?;
        loop {
            let (at, b) = self
                .digits
                .recv_timeout(Duration::from_secs(5))
                .map_err(|_| format!("{}: no echo within 5 s", session.name))?;
            if b == byte && at >= t0 {
                return Ok(ms(at - t0));
            }
        }
    }
}

// ---------------------------------------------------------------- keystroke

/// A program running in a PTY this process owns.
struct PtySession {
    name: &'static str,
    /// Kept open for the session's life (closing it hangs up the child).
    master: Box<dyn MasterPty + Send>,
    reader: Box<dyn Read + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    fd: i32,
}

impl PtySession {
    fn start(name: &'static str, argv: &[String]) -> Res<PtySession> {
        PtySession::start_command(name, command(argv)?)
    }

    fn start_command(name: &'static str, cmd: CommandBuilder) -> Res<PtySession> {
        let pair = native_pty_system().openpty(pty_size())?;
        let child = pair.slave.spawn_command(cmd)?;
        drop(pair.slave);
        let reader = pair.master.try_clone_reader()?;
        let writer = pair.master.take_writer()?;
        let fd = pair.master.as_raw_fd().ok_or("no PTY fd")?;
        Ok(PtySession {
            name,
            master: pair.master,
            reader,
            writer,
            child,
            fd,
        })
    }

    /// Reads until `needle` has been seen, at most `timeout`.
    fn wait_for(&mut self, needle: &[u8], timeout: Duration) -> Res<()> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if !readable(self.fd, deadline.saturating_duration_since(Instant::now())) {
                break;
            }
            let n = self.reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if seen.windows(needle.len()).any(|w| w == needle) {
                return Ok(());
            }
        }
        Err(format!(
            "{}: {:?} not seen in {timeout:?}; got {:?}",
            self.name,
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(&seen)
        )
        .into())
    }

    /// Writes one byte and times until it comes back.
    fn round_trip(&mut self, byte: u8) -> Res<f64> {
        let mut buf = [0u8; 4096];
        let t0 = Instant::now();
        self.writer.write_all(&[byte])?;
        self.writer.flush()?;
        loop {
            if !readable(self.fd, Duration::from_secs(5)) {
                return Err(format!("{}: no echo within 5 s", self.name).into());
            }
            let n = self.reader.read(&mut buf)?;
            if n == 0 {
                return Err(format!("{}: EOF", self.name).into());
            }
            if buf[..n].contains(&byte) {
                return Ok(ms(t0.elapsed()));
            }
        }
    }
}

fn keystroke(args: &[String]) -> Res<()> {
    let ccx = args.first().ok_or("keystroke CCX samples=N")?.clone();
    let samples: usize = opt(args, "samples", 2000);
    let warmup: usize = opt(args, "warmup", 100);
    let gap = Duration::from_micros(opt(args, "gap_us", 1000));
    let inner = "stty raw -echo; printf READY; exec cat".to_string();
    let bare_argv = vec!["sh".to_string(), "-c".to_string(), inner.clone()];
    let ccx_argv = vec![
        ccx,
        "exec".into(),
        "--".into(),
        "sh".into(),
        "-c".into(),
        inner,
    ];
    let mut sessions = [
        PtySession::start("bare", &bare_argv)?,
        PtySession::start("ccx", &ccx_argv)?,
    ];
    for s in sessions.iter_mut() {
        s.wait_for(b"READY", Duration::from_secs(10))?;
    }
    std::thread::sleep(Duration::from_millis(200));
    let race = Race {
        what: "keystroke",
        prefix: "key",
        keys: b"abcdefghijklmnopqrstuvwxyz",
        warmup,
        samples,
        gap,
    };
    race.run(&mut sessions, &[])
}

// ---------------------------------------------------------------- store

use ccx::model::{TurnEnd, TurnKind, TurnStart};
use ccx::store::Store;
use serde_json::json;

fn entry_lines(
    session: &str,
    i: u64,
    prompt: &str,
    reply: &str,
) -> (serde_json::Value, serde_json::Value) {
    let user = json!({
        "parentUuid": if i > 1 { Some(format!("a{}", i - 1)) } else { None },
        "sessionId": session, "version": "2.1.330", "cwd": "/w", "userType": "external",
        "isSidechain": false, "type": "user", "uuid": format!("u{i}"),
        "message": {"role": "user", "content": prompt},
        "timestamp": "2025-01-01T00:00:00.100Z"
    });
    let assistant = json!({
        "parentUuid": format!("u{i}"), "sessionId": session, "version": "2.1.330", "cwd": "/w",
        "userType": "external", "isSidechain": false, "type": "assistant", "uuid": format!("a{i}"),
        "message": {"id": format!("msg_{i}"), "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": reply}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 4, "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 1000 + i, "output_tokens": 9}},
        "timestamp": "2025-01-01T00:00:01.000Z"
    });
    (user, assistant)
}

/// The tool output of 1 turn in 1000: its word "segfault" is in no prompt or reply (deep
/// search's rare word, in scripts/bench.sh).
const RARE_TOOL_OUTPUT: &str = "error: test process exited with a segfault (signal 11)";

/// The Bash command a stored turn runs and the output it got (3 lines; 1 turn in 1000 says
/// [`RARE_TOOL_OUTPUT`]).
fn tool_of(i: u64) -> (String, String) {
    let h = mix(i);
    let func = FUNCS[((h >> 8) % 40) as usize];
    let command = format!("cargo test {func} -- --nocapture");
    let verdict = if i % 1000 == 500 {
        RARE_TOOL_OUTPUT
    } else {
        "test result: ok. 3 passed; 0 failed"
    };
    let output = format!("running 3 tests\ntest {func}_works ... ok\n{verdict} (run {i})");
    (command, output)
}

/// The transcript lines of a Bash call and its result, as Claude Code writes them.
fn tool_lines(session: &str, i: u64) -> (serde_json::Value, serde_json::Value) {
    let (command, output) = tool_of(i);
    let call = json!({
        "parentUuid": format!("u{i}"), "sessionId": session, "version": "2.1.330", "cwd": "/w",
        "userType": "external", "isSidechain": false, "type": "assistant", "uuid": format!("t{i}"),
        "message": {"id": format!("msg_t{i}"), "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [{"type": "tool_use", "id": format!("toolu_{i}"),
            "name": "Bash", "input": {"command": command, "description": "run the tests"}}],
            "stop_reason": "tool_use"},
        "timestamp": "2025-01-01T00:00:00.500Z"
    });
    let result = json!({
        "parentUuid": format!("t{i}"), "sessionId": session, "version": "2.1.330", "cwd": "/w",
        "userType": "external", "isSidechain": false, "type": "user", "uuid": format!("r{i}"),
        "message": {"role": "user", "content": [{"tool_use_id": format!("toolu_{i}"),
            "type": "tool_result", "content": output, "is_error": false}]},
        "timestamp": "2025-01-01T00:00:00.800Z"
    });
    (call, result)
}

fn turn_start(session: &str, branch: &str, prompt: String) -> TurnStart {
    TurnStart {
        branch: branch.into(),
        kind: TurnKind::Prompt,
        prompt,
        input: None,
        session_id: session.into(),
        started_at: String::new(),
        ..Default::default()
    }
}

fn turn_end(session: &str, i: u64, prompt: &str, reply: String) -> TurnEnd {
    let (u, a) = entry_lines(session, i, prompt, &reply);
    let (call, result) = tool_lines(session, i);
    TurnEnd {
        reply,
        ended_at: ccx::model::now_rfc3339(),
        context_tokens: 1104 + i,
        output_tokens: 9,
        est_tokens: 30,
        interrupted: false,
        files: vec![],
        snapshot: None,
        entries: vec![u, call, result, a],
    }
}

/// Varied words for the turns' text (so a search has something to tell apart): a source
/// file name (20, so each is in ~5% of the prompts) and a function name (40) per turn.
const FILES: [&str; 20] = [
    "main", "parser", "lexer", "store", "engine", "client", "server", "proxy", "screen", "keys",
    "render", "config", "paths", "session", "recorder", "tokens", "hooks", "bridge", "model",
    "refs",
];
const FUNCS: [&str; 40] = [
    "dispatch",
    "parse",
    "open",
    "close",
    "flush",
    "render",
    "resolve",
    "spawn",
    "restart",
    "read",
    "write",
    "encode",
    "decode",
    "merge",
    "split",
    "lookup",
    "insert",
    "remove",
    "replay",
    "rewind",
    "branch",
    "checkout",
    "export",
    "import",
    "search",
    "compact",
    "summarize",
    "handle",
    "finish",
    "begin",
    "connect",
    "listen",
    "accept",
    "serve",
    "execute",
    "validate",
    "estimate",
    "count",
    "format",
    "print",
];
/// A word found in the reply of one turn in 1000 (the rare search word).
pub const RARE_WORD: &str = "quixotic";

fn mix(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9e3779b97f4a7c15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58476d1ce4e5b9);
    x ^ (x >> 29)
}

fn prompt_of(i: u64) -> String {
    let h = mix(i);
    let file = FILES[(h % 20) as usize];
    let func = FUNCS[((h >> 8) % 40) as usize];
    format!("prompt {i}: please read src/{file}.rs and explain what the {func} function does")
}

fn reply_of(i: u64) -> String {
    let h = mix(i);
    let func = FUNCS[((h >> 8) % 40) as usize];
    let odd = if i % 1000 == 7 { RARE_WORD } else { "chosen" };
    format!("reply {i}: {func} matches the parsed invocation and runs the {odd} command, returning its exit code.")
}

/// Fills the bench store with `turns` turns (each begun and finished, flushed), writing their
/// text to `text_out`; the bytes of the first turn's record and of its entries.
fn fill_store(
    store: &Store,
    session: &str,
    turns: u64,
    mut text_out: Option<&mut std::io::BufWriter<std::fs::File>>,
) -> Res<(Vec<u8>, Vec<u8>)> {
    let t0 = Instant::now();
    let mut last_report = Instant::now();
    let mut sample_turn_bytes = Vec::new();
    let mut sample_entry_bytes = Vec::new();
    for i in 1..=turns {
        let prompt = prompt_of(i);
        let turn = store.begin_turn(turn_start(session, "main", prompt.clone()))?;
        let end = turn_end(session, i, &prompt, reply_of(i));
        if let Some(out) = text_out.as_mut() {
            let (command, output) = tool_of(i);
            writeln!(out, "{prompt}\n{}\n{command}\n{output}", end.reply)?;
        }
        if i == 1 {
            sample_entry_bytes = serde_json::to_vec(&end.entries)?;
        }
        let done = store.finish_turn(turn.id, end)?;
        if i == 1 {
            sample_turn_bytes = serde_json::to_vec(&done)?;
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "store: filled {i}/{turns} turns ({:.0} s)",
                t0.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    let fill = t0.elapsed().as_secs_f64();
    result("fill_turns", turns);
    result("fill_secs", format!("{fill:.2}"));
    result("fill_turns_per_sec", format!("{:.0}", turns as f64 / fill));
    result("turn_bytes", sample_turn_bytes.len());
    result("entries_bytes", sample_entry_bytes.len());
    Ok((sample_turn_bytes, sample_entry_bytes))
}

/// `finish_turn` (flushed) against a plain sled database of the same size doing an insert of
/// the same two records and a flush, alternated, `samples` each.
fn finish_turn_samples(
    store: &Store,
    session: &str,
    turns: u64,
    samples: usize,
    anchor_dir: &Path,
    sample_turn_bytes: &[u8],
    sample_entry_bytes: &[u8],
) -> Res<()> {
    // Anchor: plain sled, same sizes, same number of records, same cache size.
    let t1 = Instant::now();
    let db = sled::Config::new()
        .path(anchor_dir)
        .cache_capacity(64 << 20)
        .open()?;
    let a_turns = db.open_tree("turns")?;
    let a_entries = db.open_tree("entries")?;
    for i in 1..=turns {
        a_turns.insert(i.to_be_bytes(), sample_turn_bytes)?;
        a_entries.insert(i.to_be_bytes(), sample_entry_bytes)?;
    }
    db.flush()?;
    result(
        "anchor_fill_secs",
        format!("{:.2}", t1.elapsed().as_secs_f64()),
    );
    let mut begin_ms = Vec::new();
    let mut finish_ms = Vec::new();
    let mut anchor_ms = Vec::new();
    for k in 0..samples as u64 {
        let i = turns + 1 + k;
        let prompt = prompt_of(i);
        let t = Instant::now();
        let turn = store.begin_turn(turn_start(session, "main", prompt.clone()))?;
        begin_ms.push(ms(t.elapsed()));
        let end = turn_end(session, i, &prompt, reply_of(i));
        let t = Instant::now();
        store.finish_turn(turn.id, end)?;
        finish_ms.push(ms(t.elapsed()));

        let t = Instant::now();
        a_turns.insert(i.to_be_bytes(), sample_turn_bytes)?;
        a_entries.insert(i.to_be_bytes(), sample_entry_bytes)?;
        db.flush()?;
        anchor_ms.push(ms(t.elapsed()));
    }
    report_dist("finish", &finish_ms);
    report_dist("begin", &begin_ms);
    report_dist("sled_anchor", &anchor_ms);
    Ok(())
}

fn store(args: &[String]) -> Res<()> {
    let ccx_bin = PathBuf::from(args.first().ok_or("store CCX data=DIR project=DIR")?);
    let data = dir_opt(args, "data")?;
    let project = dir_opt(args, "project")?;
    let turns: u64 = opt(args, "turns", 100_000);
    let samples: usize = opt(args, "samples", 200);
    let hook_samples: usize = opt(args, "hook_samples", 200);
    let transcript_turns: u64 = opt(args, "transcript_turns", 500);
    let anchor_dir = dir_opt(args, "anchor")?;
    // The same prompts and replies as plain text, one per line (the search anchor's input).
    let mut text_out = match opt_str(args, "text") {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };

    let store_dir = ccx::paths::project_store_dir(&data, &ccx::paths::project_dir(&project));
    let store = std::sync::Arc::new(Store::open(&store_dir)?);
    if !store.is_owner() {
        return Err("the bench store is owned by another process".into());
    }
    let session = uuid::Uuid::new_v4().to_string();

    let (turn_bytes, entry_bytes) = fill_store(&store, &session, turns, text_out.as_mut())?;
    if let Some(mut out) = text_out.take() {
        out.flush()?;
    }
    finish_turn_samples(
        &store,
        &session,
        turns,
        samples,
        &anchor_dir,
        &turn_bytes,
        &entry_bytes,
    )?;
    hook_path(
        &ccx_bin,
        &data,
        &project,
        store,
        hook_samples,
        transcript_turns,
    )
}

// ---------------------------------------------------------------- hook path

use ccx::hooks::bridge::Bridge;
use ccx::hooks::wire::HookEvent;
use std::sync::mpsc;

fn append_lines(path: &Path, lines: &[serde_json::Value]) -> Res<()> {
    let mut out = Vec::new();
    for l in lines {
        serde_json::to_writer(&mut out, l)?;
        out.push(b'\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&out)?;
    Ok(())
}

/// Runs `program args` with `payload` on stdin; returns how long until it exited.
fn run_with_stdin(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    payload: &[u8],
) -> Res<f64> {
    let t = Instant::now();
    let mut child = std::process::Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    // A program that does not read its stdin (the anchor) closes the pipe early: not an error.
    match stdin.write_all(payload) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    drop(stdin);
    let status = child.wait()?;
    let elapsed = ms(t.elapsed());
    if !status.success() {
        return Err(format!("{} exited with {status}", program.display()).into());
    }
    Ok(elapsed)
}

fn hook_path(
    ccx_bin: &Path,
    data: &Path,
    project: &Path,
    store: std::sync::Arc<Store>,
    samples: usize,
    transcript_turns: u64,
) -> Res<()> {
    let runtime = ccx::runtime_dir::runtime_dir()?;
    let (tx, rx) = mpsc::channel::<HookEvent>();
    let bridge = Bridge::start(&runtime, move |e| {
        let _ = tx.send(e);
    })?;
    let session = uuid::Uuid::new_v4().to_string();
    bridge.allow_session(&session);

    // The recorder thread, as in a ccx session, reporting when each event is handled.
    let (done_tx, done_rx) = mpsc::channel::<(bool, Instant)>();
    let recorder_store = store.clone();
    std::thread::spawn(move || {
        let mut recorder = ccx::recorder::Recorder::new(recorder_store);
        for event in rx {
            let stop = matches!(event, HookEvent::Stopped { .. });
            if let Err(e) = recorder.handle(event) {
                eprintln!("recorder: {e:#}");
            }
            let _ = done_tx.send((stop, Instant::now()));
        }
    });

    // A transcript that already holds `transcript_turns` turns, as in a long session.
    let transcript = project.join(format!("{session}.jsonl"));
    let pad = "x".repeat(600);
    let mut prior = Vec::new();
    for i in 1..=transcript_turns {
        let (u, a) = entry_lines(
            &session,
            i,
            &format!("{} {pad}", prompt_of(i)),
            &format!("{} {pad}", reply_of(i)),
        );
        prior.push(u);
        prior.push(a);
    }
    append_lines(&transcript, &prior)?;

    // The hooks find the bridge through the key file named in their command line.
    let key = bridge.key_file().to_string_lossy().into_owned();
    let env = vec![(
        "CCX_DATA_DIR".to_string(),
        data.to_string_lossy().into_owned(),
    )];
    let true_bin = PathBuf::from(if Path::new("/bin/true").exists() {
        "/bin/true"
    } else {
        "/usr/bin/true"
    });
    let payload = |event: &str, extra: serde_json::Value| -> Vec<u8> {
        let mut p = json!({
            "session_id": session, "transcript_path": transcript.to_string_lossy(),
            "cwd": project.to_string_lossy(), "hook_event_name": event,
            "permission_mode": "default"
        });
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        serde_json::to_vec(&p).unwrap()
    };
    let wait_done = |want_stop: bool| -> Res<Instant> {
        loop {
            let (stop, at) = done_rx
                .recv_timeout(Duration::from_secs(10))
                .map_err(|_| "recorder did not answer in 10 s")?;
            if stop == want_stop {
                return Ok(at);
            }
        }
    };

    let start_payload = payload("SessionStart", json!({"source": "startup"}));
    run_with_stdin(ccx_bin, &["__hook", &key], &env, &start_payload)?;
    wait_done(false)?;

    let mut exit_ms = Vec::new();
    let mut durable_ms = Vec::new();
    let mut true_ms = Vec::new();
    let mut first = None;
    let mut last_reply = String::new();
    for k in 0..=samples as u64 {
        let i = transcript_turns + 1 + k;
        let prompt = prompt_of(i);
        let reply = reply_of(i);
        let (u, a) = entry_lines(&session, i, &prompt, &reply);
        append_lines(&transcript, &[u])?;
        run_with_stdin(
            ccx_bin,
            &["__hook", &key],
            &env,
            &payload("UserPromptSubmit", json!({"prompt": prompt})),
        )?;
        wait_done(false)?;
        append_lines(&transcript, &[a])?;

        let stop_payload = payload(
            "Stop",
            json!({"stop_hook_active": false, "last_assistant_message": reply}),
        );
        let t0 = Instant::now();
        let exited = run_with_stdin(ccx_bin, &["__hook", &key], &env, &stop_payload)?;
        let durable = ms(wait_done(true)?.duration_since(t0));
        // Anchor: starting and ending a trivial process with the same stdin.
        let trivial = run_with_stdin(&true_bin, &[], &[], &stop_payload)?;
        if k == 0 {
            // The first Stop of a session (builds the token counter, reads the whole transcript).
            first = Some((exited, durable));
        } else {
            exit_ms.push(exited);
            durable_ms.push(durable);
            true_ms.push(trivial);
        }
        last_reply = reply;
    }
    let stored = store
        .all_turns()?
        .into_iter()
        .rev()
        .find(|t| t.session_id == session);
    let ok = stored
        .as_ref()
        .is_some_and(|t| t.reply == last_reply && t.ended_at.is_some());
    result("hook_recorded_ok", ok);
    let size = std::fs::metadata(&transcript)?.len();
    result("hook_transcript_bytes", size);
    if let Some((e, d)) = first {
        result("hook_first_exit_ms", format!("{e:.3}"));
        result("hook_first_durable_ms", format!("{d:.3}"));
    }
    report_dist("hook_exit", &exit_ms);
    report_dist("hook_durable", &durable_ms);
    report_dist("true_exit", &true_ms);
    drop(bridge);
    Ok(())
}

// ---------------------------------------------------------------- rss

fn status_field(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| {
            rest.trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
}

fn rss(args: &[String]) -> Res<()> {
    let split = args
        .iter()
        .position(|a| a == "--")
        .ok_or("rss wait_ms=MS -- CMD")?;
    let wait = Duration::from_millis(opt(&args[..split], "wait_ms", 2000));
    let name = opt_str(&args[..split], "name").unwrap_or_else(|| "rss".into());
    let argv = &args[split + 1..];
    let pair = native_pty_system().openpty(pty_size())?;
    let mut child = pair.slave.spawn_command(command(argv)?)?;
    drop(pair.slave);
    let pid = child.process_id().ok_or("no pid")?;
    let mut reader = pair.master.try_clone_reader()?;
    let drain = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if seen.len() < 4096 {
                seen.extend_from_slice(&buf[..n]);
            }
        }
        seen
    });
    std::thread::sleep(wait);
    if let Ok(Some(status)) = child.try_wait() {
        drop(pair.master);
        let seen = drain.join().unwrap_or_default();
        return Err(format!(
            "{name}: exited early ({status:?}): {}",
            String::from_utf8_lossy(&seen)
        )
        .into());
    }
    let rss = status_field(pid, "VmRSS").ok_or("no VmRSS")?;
    let hwm = status_field(pid, "VmHWM").unwrap_or(0);
    let threads = status_field(pid, "Threads").unwrap_or(0);
    result(&format!("{name}_rss_kb"), rss);
    result(&format!("{name}_hwm_kb"), hwm);
    result(&format!("{name}_threads"), threads);
    end(&mut child, libc::SIGTERM);
    drop(pair.master);
    let _ = drain.join();
    Ok(())
}

// ---------------------------------------------------------------- fork (and the export branch)

/// Pads `text` with words up to about `bytes` bytes.
fn padded(text: String, bytes: usize) -> String {
    let mut s = text;
    let filler = " the store keeps every turn of the branch so a fork can rebuild the conversation";
    while s.len() < bytes {
        s.push_str(filler);
    }
    s.truncate(bytes.max(1));
    s
}

/// The transcript lines of one turn of a long branch, shaped like Claude Code 2.1.330's: the
/// prompt, an assistant tool use, its tool result, the assistant's reply; each about
/// `line_bytes` bytes, chained by uuid/parentUuid from `prev` (the previous turn's last uuid).
fn fork_turn_lines(
    session: &str,
    i: u64,
    prev: Option<String>,
    lines: usize,
    line_bytes: usize,
) -> (Vec<serde_json::Value>, String) {
    let mut out = Vec::with_capacity(lines);
    let mut parent = prev;
    let base = |kind: &str, uuid: &str, parent: &Option<String>| {
        json!({
            "parentUuid": parent, "isSidechain": false, "type": kind, "uuid": uuid,
            "timestamp": "2026-11-22T03:31:41.614Z", "userType": "external", "entrypoint": "cli",
            "cwd": "/home/dev/project", "sessionId": session, "version": "2.1.330", "gitBranch": "main"
        })
    };
    // Each line's text is sized so the whole line comes to about `line_bytes`.
    let room = line_bytes.saturating_sub(420).max(16);
    for k in 0..lines {
        let uuid = uuid::Uuid::new_v4().to_string();
        let line = match k % 4 {
            0 => {
                let mut l = base("user", &uuid, &parent);
                l["promptId"] = json!(uuid::Uuid::new_v4().to_string());
                l["message"] = json!({"role": "user", "content": padded(prompt_of(i), room)});
                l["origin"] = json!({"kind": "human"});
                l["promptSource"] = json!("typed");
                l
            }
            1 => {
                let mut l = base("assistant", &uuid, &parent);
                l["message"] = json!({"id": format!("msg_{i}_{k}"), "type": "message", "role": "assistant",
                    "model": "claude-opus-5-5", "content": [{"type": "tool_use", "id": format!("toolu_{i}_{k}"),
                    "name": "Read", "input": {"file_path": format!("/home/dev/project/src/{}.rs", FILES[(mix(i) % 20) as usize]),
                    "description": padded(String::new(), room.saturating_sub(120))}}],
                    "stop_reason": "tool_use", "usage": {"input_tokens": 4, "cache_read_input_tokens": 20000 + i, "output_tokens": 60}});
                l
            }
            2 => {
                let mut l = base("user", &uuid, &parent);
                let content = padded(format!("fn main() {{\n    // turn {i}\n"), room);
                l["message"] = json!({"role": "user", "content": [{"tool_use_id": format!("toolu_{i}_1"), "type": "tool_result", "content": content}]});
                l["toolUseResult"] = json!({"type": "text"});
                l
            }
            _ => {
                let mut l = base("assistant", &uuid, &parent);
                l["message"] = json!({"id": format!("msg_{i}_{k}"), "type": "message", "role": "assistant",
                    "model": "claude-opus-5-5", "content": [{"type": "text", "text": padded(reply_of(i), room)}],
                    "stop_reason": "end_turn", "usage": {"input_tokens": 4, "cache_read_input_tokens": 21000 + i, "output_tokens": 200}});
                l
            }
        };
        parent = Some(uuid);
        out.push(line);
    }
    (out, parent.unwrap_or_default())
}

/// What `Controller::rebuild_session` and `fork` do before claude starts, with the same public
/// functions (`rebuild_session` itself needs a running session: a PTY proxy and a recorder):
/// walk the parent links from `at` to the root (`store.turn`), read each turn's entries
/// (`store.entries`), write the new transcript (`transcript::write_transcript`), take its last
/// uuid, and store the new branch (`store.create_branch`). Returns the phases' times (ms) and
/// the transcript's path.
fn rebuild(store: &Store, at: u64, out_dir: &Path, name: &str) -> Res<([f64; 4], PathBuf)> {
    let t0 = Instant::now();
    let turn = store.turn(ccx::ids::TurnId(at))?.ok_or("no such turn")?;
    let mut chain = vec![turn.clone()];
    let mut parent = turn.parent;
    while let Some(id) = parent {
        let t = store.turn(id)?.ok_or("missing turn")?;
        parent = t.parent;
        chain.push(t);
    }
    chain.reverse();
    let t1 = Instant::now();
    let mut entries = Vec::new();
    for t in &chain {
        entries.extend(store.entries(t.id)?);
    }
    if entries.is_empty() {
        return Err("no entries".into());
    }
    let t2 = Instant::now();
    let session_id = uuid::Uuid::new_v4().to_string();
    let path = out_dir.join(format!("{session_id}.jsonl"));
    ccx::transcript::write_transcript(&path, &entries, &session_id)?;
    let _history_ends_at = ccx::recorder::last_uuid_of(&entries);
    let t3 = Instant::now();
    store.create_branch(ccx::model::Branch {
        name: name.to_string(),
        session_id: session_id.into(),
        parent_branch: Some(turn.branch.clone()),
        fork_turn: Some(turn.id),
        head: Some(turn.id),
        created_at: String::new(),
    })?;
    let t4 = Instant::now();
    Ok(([ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t4 - t3)], path))
}

/// `fork data=DIR project=DIR out=DIR turns=N lines=N line_bytes=N samples=N export_turns=N
/// export_reply_bytes=N`: a fresh store with a `long` branch of N turns whose turns carry
/// `lines` transcript lines of ~`line_bytes` each, and an `export` branch of `export_turns`
/// turns. Then times the fork after the last turn of `long`, as the owner and through a client
/// `Store` (a second open of the same store in this process), alternated with the anchor:
/// `std::fs::copy` of a file holding the same bytes (and copy + fsync, as write_transcript syncs).
fn fork(args: &[String]) -> Res<()> {
    let data = dir_opt(args, "data")?;
    let project = dir_opt(args, "project")?;
    let out_dir = dir_opt(args, "out")?;
    let turns: u64 = opt(args, "turns", 1000);
    let lines: usize = opt(args, "lines", 4);
    let line_bytes: usize = opt(args, "line_bytes", 1000);
    let samples: usize = opt(args, "samples", 10);
    let export_turns: u64 = opt(args, "export_turns", 10_000);
    let export_reply_bytes: usize = opt(args, "export_reply_bytes", 1500);
    std::fs::create_dir_all(&out_dir)?;

    let store_dir = ccx::paths::project_store_dir(&data, &ccx::paths::project_dir(&project));
    let store = Store::open(&store_dir)?;
    if !store.is_owner() {
        return Err("the fork store is owned by another process".into());
    }
    // The long branch.
    let t0 = Instant::now();
    let session = uuid::Uuid::new_v4().to_string();
    let mut prev = None;
    let mut head = 0;
    let mut line_total = 0usize;
    for i in 1..=turns {
        let prompt = prompt_of(i);
        let turn = store.begin_turn(turn_start(&session, "long", prompt.clone()))?;
        let (entries, last) = fork_turn_lines(&session, i, prev.take(), lines, line_bytes);
        line_total += entries
            .iter()
            .map(|e| serde_json::to_vec(e).map(|v| v.len() + 1).unwrap_or(0))
            .sum::<usize>();
        prev = Some(last);
        let mut end = turn_end(&session, i, &prompt, reply_of(i));
        end.entries = entries;
        store.finish_turn(turn.id, end)?;
        head = turn.id.get();
    }
    result(
        "fork_fill_secs",
        format!("{:.2}", t0.elapsed().as_secs_f64()),
    );
    result("fork_turns", turns);
    result("fork_lines", turns as usize * lines);
    result(
        "fork_line_bytes",
        line_total / (turns as usize * lines).max(1),
    );

    // The export branch: prompts and replies of realistic sizes (a reply with a code block).
    let t0 = Instant::now();
    let session2 = uuid::Uuid::new_v4().to_string();
    for i in 1..=export_turns {
        let prompt = format!(
            "{} — and then make the change, keeping the tests green",
            prompt_of(i)
        );
        let turn = store.begin_turn(turn_start(&session2, "export", prompt.clone()))?;
        let body = padded(reply_of(i), export_reply_bytes.saturating_sub(120));
        let reply = format!(
            "{body}\n\n```rust\nfn {}() -> Result<()> {{\n    Ok(())\n}}\n```\n",
            FUNCS[(i % 40) as usize]
        );
        let mut end = turn_end(&session2, i, &prompt, reply);
        end.files = vec![format!("src/{}.rs", FILES[(mix(i) % 20) as usize])];
        store.finish_turn(turn.id, end)?;
    }
    result(
        "export_fill_secs",
        format!("{:.2}", t0.elapsed().as_secs_f64()),
    );
    result("export_turns", export_turns);

    // The client: a second open of the same store while this one holds it.
    let client = Store::open(&store_dir)?;
    if client.is_owner() {
        return Err("the second open did not become a client".into());
    }
    // Warm-up, and the file the anchor copies (the same bytes as a fork writes).
    let (_, anchor_src) = rebuild(&store, head, &out_dir, "fork-warm")?;
    let bytes = std::fs::metadata(&anchor_src)?.len();
    result("fork_bytes", bytes);
    let mut owner_ms = Vec::new();
    let mut client_ms = Vec::new();
    let mut copy_ms = Vec::new();
    let mut copy_sync_ms = Vec::new();
    let mut phases: [Vec<f64>; 4] = Default::default();
    let mut client_phases: [Vec<f64>; 4] = Default::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    for k in 0..samples {
        if Instant::now() > deadline {
            eprintln!("fork: stopped after {k} samples (120 s)");
            break;
        }
        let (p, path) = rebuild(&store, head, &out_dir, &format!("fork-o{k}"))?;
        owner_ms.push(p.iter().sum());
        for (v, x) in phases.iter_mut().zip(p) {
            v.push(x);
        }
        std::fs::remove_file(path)?;
        let (p, path) = rebuild(&client, head, &out_dir, &format!("fork-c{k}"))?;
        client_ms.push(p.iter().sum());
        for (v, x) in client_phases.iter_mut().zip(p) {
            v.push(x);
        }
        std::fs::remove_file(path)?;
        let dst = out_dir.join("copy.jsonl");
        let t = Instant::now();
        std::fs::copy(&anchor_src, &dst)?;
        copy_ms.push(ms(t.elapsed()));
        std::fs::remove_file(&dst)?;
        let t = Instant::now();
        std::fs::copy(&anchor_src, &dst)?;
        std::fs::File::open(&dst)?.sync_all()?;
        copy_sync_ms.push(ms(t.elapsed()));
        std::fs::remove_file(&dst)?;
    }
    report_dist("fork_owner", &owner_ms);
    report_dist("fork_client", &client_ms);
    report_dist("fork_copy", &copy_ms);
    report_dist("fork_copy_sync", &copy_sync_ms);
    for (name, v) in ["chain", "entries", "write", "branch"].iter().zip(&phases) {
        result(
            &format!("fork_owner_{name}_p50_ms"),
            format!("{:.3}", pct(v, 50.0)),
        );
    }
    for (name, v) in ["chain", "entries", "write", "branch"]
        .iter()
        .zip(&client_phases)
    {
        result(
            &format!("fork_client_{name}_p50_ms"),
            format!("{:.3}", pct(v, 50.0)),
        );
    }
    drop(client);
    Ok(())
}

// ---------------------------------------------------------------- search (in process)

/// `search data=DIR project=DIR word=W samples=N`: what `ccx search W --json` does, phase by
/// phase, in this process: open the store, load the candidate turns (the store's pre-filter:
/// records holding every query word), match and rank them, render the JSON.
fn search(args: &[String]) -> Res<()> {
    let data = dir_opt(args, "data")?;
    let project = dir_opt(args, "project")?;
    let word = opt_str(args, "word").ok_or("word=W missing")?;
    let name = opt_str(args, "name").unwrap_or_else(|| "search".into());
    let samples: usize = opt(args, "samples", 3);
    let deep = opt::<u8>(args, "deep", 0) == 1;
    let store_dir = ccx::paths::project_store_dir(&data, &ccx::paths::project_dir(&project));
    let (mut open_ms, mut load_ms, mut match_ms, mut json_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut hits_n = 0;
    let mut turns_n = 0;
    let mut candidates_n = 0;
    let mut json_bytes = 0;
    for _ in 0..samples {
        let t0 = Instant::now();
        let store = Store::open(&store_dir)?;
        let t1 = Instant::now();
        // Deep (the default of `ccx search`): prompt, reply and tool calls, from the search
        // texts; else prompt and reply, from the turn records.
        let found: Vec<(ccx::model::Turn, Vec<String>)> = if deep {
            store.deep_search_candidates(std::slice::from_ref(&word))?
        } else {
            store
                .search_candidates(std::slice::from_ref(&word))?
                .into_iter()
                .map(|t| (t, Vec::new()))
                .collect()
        };
        let t2 = Instant::now();
        let matcher = ccx::commands::search::Matcher::new(&word)?;
        let docs: Vec<ccx::commands::search::Doc<'_>> = found
            .iter()
            .map(|(turn, tools)| ccx::commands::search::Doc { turn, tools })
            .collect();
        let fields = ccx::commands::search::Fields {
            tools: deep,
            ..Default::default()
        };
        let hits = ccx::commands::search::search_docs(&docs, &matcher, fields);
        let turns = &found;
        let t3 = Instant::now();
        let records: Vec<&ccx::model::Turn> = hits.iter().map(|h| h.turn).collect();
        let mut out = Vec::new();
        serde_json::to_writer_pretty(&mut out, &records)?;
        let t4 = Instant::now();
        open_ms.push(ms(t1 - t0));
        load_ms.push(ms(t2 - t1));
        match_ms.push(ms(t3 - t2));
        json_ms.push(ms(t4 - t3));
        hits_n = hits.len();
        candidates_n = turns.len();
        json_bytes = out.len();
        if turns_n == 0 {
            turns_n = store.all_turns()?.len();
        }
        drop(store);
    }
    // The medians, with the decimals each needs.
    for (step, samples, decimals) in [
        ("open", &open_ms, 1),
        ("load", &load_ms, 1),
        ("match", &match_ms, 2),
        ("json", &json_ms, 2),
    ] {
        let median = pct(samples, 50.0);
        result(&format!("{name}_{step}_ms"), format!("{median:.decimals$}"));
    }
    result(&format!("{name}_hits"), hits_n);
    result(&format!("{name}_turns"), turns_n);
    result(&format!("{name}_candidates"), candidates_n);
    result(&format!("{name}_json_bytes"), json_bytes);
    Ok(())
}

// ---------------------------------------------------------------- import

/// `gen-transcript FILE MB`: a Claude Code 2.1.330-style session transcript of about MB
/// (10^6 bytes): turns of a snapshot line, the prompt, an environment attachment, a Read tool
/// use and its result (a source file), an Edit tool use and its result, the reply, and the two
/// system lines Claude Code writes at the end of a turn; all chained by uuid/parentUuid.
fn gen_transcript(args: &[String]) -> Res<()> {
    let (path, mb) = file_and_mb(args, "gen-transcript FILE MB")?;
    let target = mb * 1_000_000;
    let session = uuid::Uuid::new_v4().to_string();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0u64;
    let mut lines = 0u64;
    let mut parent: Option<String> = None;
    let mut i = 0u64;
    let source: String = (0..60)
        .map(|n| format!("    let value_{n} = compute({n}, &input)?; // keep the order\n"))
        .collect();
    let common = |i: u64, kind: &str, uuid: &str, parent: &Option<String>| {
        json!({
            "parentUuid": parent, "isSidechain": false, "type": kind, "uuid": uuid,
            "timestamp": format!("2026-11-22T03:{:02}:{:02}.614Z", (i / 60) % 60, i % 60),
            "userType": "external", "entrypoint": "cli", "cwd": "/home/dev/project",
            "sessionId": session, "version": "2.1.330", "gitBranch": "main"
        })
    };
    while written < target {
        i += 1;
        let file = format!("/home/dev/project/src/{}.rs", FILES[(mix(i) % 20) as usize]);
        let mut turn: Vec<serde_json::Value> = Vec::new();
        let u_prompt = uuid::Uuid::new_v4().to_string();
        turn.push(json!({"type": "file-history-snapshot", "messageId": u_prompt,
            "snapshot": {"messageId": u_prompt, "trackedFileBackups": {}, "timestamp": "2026-11-22T03:31:41.698Z"},
            "isSnapshotUpdate": false}));
        let mut l = common(i, "user", &u_prompt, &parent);
        l["promptId"] = json!(uuid::Uuid::new_v4().to_string());
        l["message"] = json!({"role": "user", "content": prompt_of(i)});
        l["permissionMode"] = json!("acceptEdits");
        l["origin"] = json!({"kind": "human"});
        l["promptSource"] = json!("typed");
        l["turnOrigin"] = json!("human");
        turn.push(l);
        let mut prev = u_prompt;
        let push = |turn: &mut Vec<serde_json::Value>,
                    mut l: serde_json::Value,
                    uuid: String,
                    prev: &mut String| {
            l["parentUuid"] = json!(prev.clone());
            *prev = uuid;
            turn.push(l);
        };
        let u = uuid::Uuid::new_v4().to_string();
        let mut l = common(i, "attachment", &u, &None);
        l["attachment"] = json!({"type": "environment", "snapshot": {"workingDirectory": "/home/dev/project", "isGitRepo": true, "platform": "linux"}});
        l["rendered"] = json!([{"content": format!("<system-reminder>\n# Environment\n{}\n</system-reminder>", padded(String::new(), 700))}]);
        l["renderedRole"] = json!("system");
        push(&mut turn, l, u, &mut prev);
        let usage = |out: u64| json!({"input_tokens": 4, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 20000 + i, "output_tokens": out});
        let u = uuid::Uuid::new_v4().to_string();
        let mut l = common(i, "assistant", &u, &None);
        l["requestId"] = json!(format!("req_{i}_1"));
        l["message"] = json!({"id": format!("msg_{i}_1"), "type": "message", "role": "assistant", "model": "claude-opus-5-5",
            "content": [{"type": "tool_use", "id": format!("toolu_{i}_1"), "name": "Read", "input": {"file_path": file}}],
            "stop_reason": "tool_use", "stop_sequence": null, "usage": usage(60)});
        push(&mut turn, l, u, &mut prev);
        let u = uuid::Uuid::new_v4().to_string();
        let mut l = common(i, "user", &u, &None);
        l["message"] = json!({"role": "user", "content": [{"tool_use_id": format!("toolu_{i}_1"), "type": "tool_result", "content": source}]});
        l["toolUseResult"] = json!({"type": "text", "file": {"filePath": file, "numLines": 60}});
        push(&mut turn, l, u, &mut prev);
        let u = uuid::Uuid::new_v4().to_string();
        let mut l = common(i, "assistant", &u, &None);
        l["requestId"] = json!(format!("req_{i}_2"));
        l["message"] = json!({"id": format!("msg_{i}_2"), "type": "message", "role": "assistant", "model": "claude-opus-5-5",
            "content": [{"type": "tool_use", "id": format!("toolu_{i}_2"), "name": "Edit",
                "input": {"file_path": file, "old_string": "let value_3 = compute(3, &input)?;", "new_string": format!("let value_3 = compute({i}, &input)?;")}}],
            "stop_reason": "tool_use", "stop_sequence": null, "usage": usage(120)});
        push(&mut turn, l, u, &mut prev);
        let u = uuid::Uuid::new_v4().to_string();
        let mut l = common(i, "user", &u, &None);
        l["message"] = json!({"role": "user", "content": [{"tool_use_id": format!("toolu_{i}_2"), "type": "tool_result", "content": format!("The file {file} has been updated.")}]});
        l["toolUseResult"] = json!({"filePath": file, "oldString": "let value_3", "newString": "let value_3", "structuredPatch": []});
        push(&mut turn, l, u, &mut prev);
        let u = uuid::Uuid::new_v4().to_string();
        let mut l = common(i, "assistant", &u, &None);
        l["requestId"] = json!(format!("req_{i}_3"));
        l["message"] = json!({"id": format!("msg_{i}_3"), "type": "message", "role": "assistant", "model": "claude-opus-5-5",
            "content": [{"type": "text", "text": padded(reply_of(i), 1200)}],
            "stop_reason": "end_turn", "stop_sequence": null, "usage": usage(300)});
        push(&mut turn, l, u, &mut prev);
        let u = uuid::Uuid::new_v4().to_string();
        let mut l = common(i, "system", &u, &None);
        l["subtype"] = json!("stop_hook_summary");
        l["hookCount"] = json!(1);
        l["hookInfos"] = json!([{"command": "ccx __hook"}]);
        l["hookErrors"] = json!([]);
        l["level"] = json!("suggestion");
        push(&mut turn, l, u, &mut prev);
        let u = uuid::Uuid::new_v4().to_string();
        let mut l = common(i, "system", &u, &None);
        l["subtype"] = json!("turn_duration");
        l["durationMs"] = json!(4000 + i % 1000);
        l["isMeta"] = json!(false);
        push(&mut turn, l, u, &mut prev);
        parent = Some(prev);
        for l in &turn {
            let bytes = serde_json::to_vec(l)?;
            out.write_all(&bytes)?;
            out.write_all(b"\n")?;
            written += bytes.len() as u64 + 1;
            lines += 1;
        }
    }
    out.flush()?;
    result("tr_bytes", written);
    result("tr_lines", lines);
    result("tr_turns", i);
    Ok(())
}

/// `parse FILE`: the anchor (serde_json parse of every line, one thread), then the pure parts
/// of `ccx import` on the same file: `transcript::read_transcript`, `import::into_conversations`
/// + `import::plan_turns_owned`, encoding the entries and the token estimates (no store writes).
fn parse(args: &[String]) -> Res<()> {
    let path = PathBuf::from(args.first().ok_or("parse FILE")?);
    let t0 = Instant::now();
    let text = std::fs::read(&path)?;
    let mut n = 0usize;
    for line in text.split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(line)?;
        std::hint::black_box(&v);
        n += 1;
    }
    result("parse_secs", format!("{:.3}", t0.elapsed().as_secs_f64()));
    result("parse_lines", n);
    drop(text);
    let t1 = Instant::now();
    let lines = ccx::transcript::read_transcript_keeping(&path, ccx::transcript::Keep::Text)?;
    result(
        "read_transcript_secs",
        format!("{:.3}", t1.elapsed().as_secs_f64()),
    );
    // The path `ccx import` takes: lines moved into their conversations, then into turns.
    let t5 = Instant::now();
    let chains: Vec<_> = ccx::commands::import::into_conversations(lines)
        .into_iter()
        .map(ccx::commands::import::plan_turns_owned)
        .collect();
    result(
        "owned_plan_secs",
        format!("{:.3}", t5.elapsed().as_secs_f64()),
    );
    result("planned_turns", chains.iter().map(Vec::len).sum::<usize>());
    let t6 = Instant::now();
    let mut encoded = 0usize;
    let mut estimated = 0u64;
    for turn in chains.iter().flatten() {
        encoded += ccx::commands::import::entries_json(&turn.entries)?.len();
    }
    let t7 = Instant::now();
    for turn in chains.iter().flatten() {
        estimated += ccx::tokens::estimate_tokens(turn.facts.prompt.as_deref().unwrap_or(""))
            + ccx::tokens::estimate_tokens(&turn.facts.reply);
    }
    let t8 = Instant::now();
    result("encode_secs", format!("{:.3}", (t7 - t6).as_secs_f64()));
    result("estimate_secs", format!("{:.3}", (t8 - t7).as_secs_f64()));
    result("encoded_bytes", encoded);
    std::hint::black_box(estimated);
    Ok(())
}

// ---------------------------------------------------------------- confirm

/// The recorder confirming and finishing turns from a long transcript (see the module doc).
/// Writes `turns` turns (a prompt and a reply line each, ~700 bytes a line) to `transcript`.
fn write_prior_turns(transcript: &Path, session: &str, turns: u64) -> Res<()> {
    let pad = "x".repeat(600);
    let mut prior = Vec::new();
    for i in 1..=turns {
        let (u, a) = entry_lines(
            session,
            i,
            &format!("{} {pad}", prompt_of(i)),
            &format!("{} {pad}", reply_of(i)),
        );
        prior.push(u);
        prior.push(a);
    }
    append_lines(transcript, &prior)
}

fn confirm(args: &[String]) -> Res<()> {
    let lines: u64 = opt(args, "lines", 10_000);
    let samples: u64 = opt(args, "samples", 500);
    let dir = tempfile::tempdir()?;
    let transcripts = dir.path().join("projects");
    std::fs::create_dir_all(&transcripts)?;
    let store = std::sync::Arc::new(Store::open(&dir.path().join("store"))?);
    let session = "bench-confirm-0000".to_string();
    let transcript = transcripts.join(format!("{session}.jsonl"));
    write_prior_turns(&transcript, &session, lines / 2)?;
    let mut recorder =
        ccx::recorder::Recorder::new(store.clone()).with_transcripts_dir(transcripts.clone());
    let first = Instant::now();
    recorder.handle(HookEvent::SessionStart {
        session_id: session.as_str().into(),
        transcript_path: None,
        source: Some("startup".into()),
    })?;
    result(
        "confirm_first_read_ms",
        format!("{:.3}", ms(first.elapsed())),
    );
    let mut follower = ccx::conversation::Follower::new(transcript.clone());
    follower.refresh()?;
    let (mut prompt_ms, mut durable_ms, mut tail_ms, mut full_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in 0..samples {
        let i = lines / 2 + 1 + k;
        let (prompt, reply) = (prompt_of(i), reply_of(i));
        let (u, a) = entry_lines(&session, i, &prompt, &reply);
        append_lines(&transcript, &[u])?;
        let t0 = Instant::now();
        recorder.handle(HookEvent::PromptSubmitted {
            session_id: session.as_str().into(),
            transcript_path: None,
            prompt: prompt.clone(),
            prompt_id: None,
        })?;
        prompt_ms.push(ms(t0.elapsed()));
        append_lines(&transcript, &[a])?;
        let t0 = Instant::now();
        recorder.handle(HookEvent::Stopped {
            session_id: session.as_str().into(),
            transcript_path: None,
            last_message: Some(reply.clone()),
        })?;
        durable_ms.push(ms(t0.elapsed()));
        // What reading the transcript costs by itself: the appended tail...
        let t0 = Instant::now();
        follower.refresh()?;
        let found = follower.position(&format!("u{i}")).is_some();
        tail_ms.push(ms(t0.elapsed()));
        if !found {
            return Err("the follower missed the prompt".into());
        }
        // ... and, as the anchor, the whole file (what a Stop read before).
        if k % 10 == 0 {
            let t0 = Instant::now();
            let all = ccx::transcript::read_transcript(&transcript)?;
            let _ = ccx::transcript::turn_since(&all, Some(&format!("a{}", i - 1)));
            full_ms.push(ms(t0.elapsed()));
        }
    }
    let turns = store.all_turns()?;
    let ok = turns.len() as u64 == samples
        && turns
            .iter()
            .all(|t| t.ended_at.is_some() && !t.reply.is_empty());
    result("confirm_recorded_ok", ok);
    result("confirm_transcript_lines", lines + 2 * samples);
    report_dist("confirm_prompt", &prompt_ms);
    report_dist("confirm_stop_durable", &durable_ms);
    report_dist("confirm_tail_read", &tail_ms);
    report_dist("confirm_full_read", &full_ms);
    Ok(())
}

// ---------------------------------------------------------------- archive

/// Claude Code session transcripts in many projects, for `ccx archive` (see the module doc).
fn archive_gen(args: &[String]) -> Res<()> {
    let claude = dir_opt(args, "claude")?;
    let projects = dir_opt(args, "projects")?;
    let files: u64 = opt(args, "files", 1000);
    let per_project: u64 = opt(args, "per_project", 50).max(1);
    let turns: u64 = opt(args, "turns", 3);
    let written_at = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
    let mut bytes = 0u64;
    for n in 0..files {
        let project = projects.join(format!("p{}", n / per_project));
        std::fs::create_dir_all(&project)?;
        let dir = claude
            .join("projects")
            .join(ccx::claude::paths::project_dir_name(&project));
        std::fs::create_dir_all(&dir)?;
        let session = uuid::Uuid::new_v4().to_string();
        let cwd = project.to_string_lossy().into_owned();
        let mut text = String::new();
        let mut parent: Option<String> = None;
        for i in 1..=turns {
            let (mut user, mut assistant) = entry_lines(&session, i, &prompt_of(i), &reply_of(i));
            let (u, a) = (format!("{session}-u{i}"), format!("{session}-a{i}"));
            user["uuid"] = json!(u);
            user["parentUuid"] = json!(parent);
            user["cwd"] = json!(cwd);
            assistant["uuid"] = json!(a);
            assistant["parentUuid"] = json!(u);
            assistant["cwd"] = json!(cwd);
            assistant["message"]["id"] = json!(format!("msg_{session}_{i}"));
            text.push_str(&format!("{user}\n{assistant}\n"));
            parent = Some(a);
        }
        let path = dir.join(format!("{session}.jsonl"));
        std::fs::write(&path, &text)?;
        std::fs::File::options()
            .write(true)
            .open(&path)?
            .set_modified(written_at)?;
        bytes += text.len() as u64;
    }
    result("archive_files", files);
    result("archive_projects", files.div_ceil(per_project));
    result("archive_mb", format!("{:.1}", bytes as f64 / 1e6));
    Ok(())
}

//! ccx's benchmark driver, run by `scripts/bench.sh` (not a timed test: every figure is measured
//! beside an anchor in the same run and reported as a ratio or a difference).
//!
//! Each subcommand measures one figure and prints `RESULT <key> <value>` lines on stdout
//! (progress goes to stderr):
//!
//! - `gen FILE MB`: writes MB (10^6 bytes) of 80-column text (79 characters + `\n`).
//! - `pty-copy CMD [ARGS]`: the bare anchor: runs CMD in a portable-pty PTY and copies its
//!   output to stdout, nothing else (no input pump, no screen model).
//! - `keystroke CCX samples=N gap_us=G`: keystroke round trip through `CCX exec -- sh -c
//!   'stty raw -echo; cat'` and through the same command in a bare PTY, sample by sample
//!   alternated; this process owns both outer PTYs.
//! - `store CCX data=DIR project=DIR turns=N samples=N hook_samples=N transcript_turns=N`:
//!   fills the project's store (the one `ccx` run in `project` with `CCX_DATA_DIR=data` opens)
//!   with N turns, then times `finish_turn` against a plain sled insert + flush, then the hook
//!   path: `CCX __hook` with a Stop payload → exit, and → turn durable in the store.
//! - `rss wait_ms=MS -- CMD [ARGS]`: runs CMD in a PTY, waits, reads its VmRSS, ends it.
//!
//! Only processes this program starts are signalled, by their PID.

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    // `cargo bench` appends `--bench`; ignore it.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let result = match args.first().map(String::as_str) {
        Some("gen") => gen(&args[1..]),
        Some("pty-copy") => pty_copy(&args[1..]),
        Some("keystroke") => keystroke(&args[1..]),
        Some("store") => store(&args[1..]),
        Some("rss") => rss(&args[1..]),
        _ => {
            eprintln!("ccx_bench: run scripts/bench.sh (subcommands: gen, pty-copy, keystroke, store, rss)");
            Ok(())
        }
    };
    if let Err(e) = result {
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
    args.iter().find_map(|a| a.strip_prefix(&prefix)).map(str::to_owned)
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
    result(&format!("{prefix}_p50_ms"), format!("{:.4}", pct(samples_ms, 50.0)));
    result(&format!("{prefix}_p99_ms"), format!("{:.4}", pct(samples_ms, 99.0)));
    result(&format!("{prefix}_max_ms"), format!("{:.4}", pct(samples_ms, 100.0)));
    result(&format!("{prefix}_n"), samples_ms.len());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pty_size() -> PtySize {
    PtySize { rows: 24, cols: 80, pixel_width: 0, pixel_height: 0 }
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
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
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
    let Some(pid) = child.process_id() else { return };
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

fn gen(args: &[String]) -> Res<()> {
    let path = args.first().ok_or("gen FILE MB")?;
    let mb: u64 = args.get(1).and_then(|m| m.parse().ok()).ok_or("gen FILE MB")?;
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

// ---------------------------------------------------------------- keystroke

/// A program running in a PTY this process owns.
struct PtySession {
    name: &'static str,
    /// Kept open for the session's life (closing it hangs up the child).
    _master: Box<dyn MasterPty + Send>,
    reader: Box<dyn Read + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    fd: i32,
}

impl PtySession {
    fn start(name: &'static str, argv: &[String]) -> Res<PtySession> {
        let pair = native_pty_system().openpty(pty_size())?;
        let child = pair.slave.spawn_command(command(argv)?)?;
        drop(pair.slave);
        let reader = pair.master.try_clone_reader()?;
        let writer = pair.master.take_writer()?;
        let fd = pair.master.as_raw_fd().ok_or("no PTY fd")?;
        Ok(PtySession { name, _master: pair.master, reader, writer, child, fd })
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
    let ccx_argv = vec![ccx, "exec".into(), "--".into(), "sh".into(), "-c".into(), inner];
    let mut sessions = [PtySession::start("bare", &bare_argv)?, PtySession::start("ccx", &ccx_argv)?];
    for s in sessions.iter_mut() {
        s.wait_for(b"READY", Duration::from_secs(10))?;
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let started = Instant::now();
    for i in 0..(warmup + samples) {
        let byte = b'a' + (i % 26) as u8;
        // Alternate which goes first, so neither always follows the other.
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for k in order {
            let t = sessions[k].round_trip(byte)?;
            if i >= warmup {
                times[k].push(t);
            }
            std::thread::sleep(gap);
        }
    }
    eprintln!("keystroke: {} samples each in {:.1} s", samples, started.elapsed().as_secs_f64());
    report_dist("key_bare", &times[0]);
    report_dist("key_ccx", &times[1]);
    for s in sessions.iter_mut() {
        end(&mut s.child, libc::SIGTERM);
    }
    Ok(())
}

// ---------------------------------------------------------------- store

use ccx::model::{TurnEnd, TurnKind, TurnStart};
use ccx::store::Store;
use serde_json::json;

fn entry_lines(session: &str, i: u64, prompt: &str, reply: &str) -> (serde_json::Value, serde_json::Value) {
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

fn turn_start(session: &str, branch: &str, prompt: String) -> TurnStart {
    TurnStart {
        branch: branch.into(),
        kind: TurnKind::Prompt,
        prompt,
        input: None,
        session_id: session.into(),
        started_at: String::new(),
    }
}

fn turn_end(session: &str, i: u64, prompt: &str, reply: String) -> TurnEnd {
    let (u, a) = entry_lines(session, i, prompt, &reply);
    TurnEnd {
        reply,
        ended_at: ccx::model::now_rfc3339(),
        context_tokens: 1104 + i,
        output_tokens: 9,
        est_tokens: 30,
        interrupted: false,
        files: vec![],
        snapshot: None,
        entries: vec![u, a],
    }
}

fn prompt_of(i: u64) -> String {
    format!("prompt {i}: please read src/main.rs and explain what the dispatch function does")
}

fn reply_of(i: u64) -> String {
    format!("reply {i}: dispatch matches the parsed invocation and runs the chosen command, returning its exit code.")
}

fn store(args: &[String]) -> Res<()> {
    let ccx_bin = PathBuf::from(args.first().ok_or("store CCX data=DIR project=DIR")?);
    let data = PathBuf::from(opt_str(args, "data").ok_or("data=DIR missing")?);
    let project = PathBuf::from(opt_str(args, "project").ok_or("project=DIR missing")?);
    let turns: u64 = opt(args, "turns", 100_000);
    let samples: usize = opt(args, "samples", 200);
    let hook_samples: usize = opt(args, "hook_samples", 200);
    let transcript_turns: u64 = opt(args, "transcript_turns", 500);
    let anchor_dir = PathBuf::from(opt_str(args, "anchor").ok_or("anchor=DIR missing")?);

    let store_dir = ccx::paths::project_store_dir(&data, &ccx::paths::project_dir(&project));
    let store = std::sync::Arc::new(Store::open(&store_dir)?);
    if !store.is_owner() {
        return Err("the bench store is owned by another process".into());
    }
    let session = uuid::Uuid::new_v4().to_string();

    // Fill.
    let t0 = Instant::now();
    let mut last_report = Instant::now();
    let mut sample_turn_bytes = Vec::new();
    let mut sample_entry_bytes = Vec::new();
    for i in 1..=turns {
        let prompt = prompt_of(i);
        let turn = store.begin_turn(turn_start(&session, "main", prompt.clone()))?;
        let end = turn_end(&session, i, &prompt, reply_of(i));
        if i == 1 {
            sample_entry_bytes = serde_json::to_vec(&end.entries)?;
        }
        let done = store.finish_turn(turn.id, end)?;
        if i == 1 {
            sample_turn_bytes = serde_json::to_vec(&done)?;
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!("store: filled {i}/{turns} turns ({:.0} s)", t0.elapsed().as_secs_f64());
            last_report = Instant::now();
        }
    }
    let fill = t0.elapsed().as_secs_f64();
    result("fill_turns", turns);
    result("fill_secs", format!("{fill:.2}"));
    result("fill_turns_per_sec", format!("{:.0}", turns as f64 / fill));
    result("turn_bytes", sample_turn_bytes.len());
    result("entries_bytes", sample_entry_bytes.len());

    // Anchor: plain sled, same sizes, same number of records, same cache size.
    let t1 = Instant::now();
    let db = sled::Config::new().path(&anchor_dir).cache_capacity(64 << 20).open()?;
    let a_turns = db.open_tree("turns")?;
    let a_entries = db.open_tree("entries")?;
    for i in 1..=turns {
        a_turns.insert(i.to_be_bytes(), sample_turn_bytes.as_slice())?;
        a_entries.insert(i.to_be_bytes(), sample_entry_bytes.as_slice())?;
    }
    db.flush()?;
    result("anchor_fill_secs", format!("{:.2}", t1.elapsed().as_secs_f64()));

    // finish_turn (flushes) vs plain insert + insert + flush, alternated.
    let mut begin_ms = Vec::new();
    let mut finish_ms = Vec::new();
    let mut anchor_ms = Vec::new();
    for k in 0..samples as u64 {
        let i = turns + 1 + k;
        let prompt = prompt_of(i);
        let t = Instant::now();
        let turn = store.begin_turn(turn_start(&session, "main", prompt.clone()))?;
        begin_ms.push(ms(t.elapsed()));
        let end = turn_end(&session, i, &prompt, reply_of(i));
        let t = Instant::now();
        store.finish_turn(turn.id, end)?;
        finish_ms.push(ms(t.elapsed()));

        let t = Instant::now();
        a_turns.insert(i.to_be_bytes(), sample_turn_bytes.as_slice())?;
        a_entries.insert(i.to_be_bytes(), sample_entry_bytes.as_slice())?;
        db.flush()?;
        anchor_ms.push(ms(t.elapsed()));
    }
    report_dist("finish", &finish_ms);
    report_dist("begin", &begin_ms);
    report_dist("sled_anchor", &anchor_ms);
    drop((a_turns, a_entries, db));

    hook_path(&ccx_bin, &data, &project, store, hook_samples, transcript_turns)
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
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(&out)?;
    Ok(())
}

/// Runs `program args` with `payload` on stdin; returns how long until it exited.
fn run_with_stdin(program: &Path, args: &[&str], env: &[(String, String)], payload: &[u8]) -> Res<f64> {
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
    let runtime = ccx::paths::runtime_dir()?;
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
        let (u, a) = entry_lines(&session, i, &format!("{} {pad}", prompt_of(i)), &format!("{} {pad}", reply_of(i)));
        prior.push(u);
        prior.push(a);
    }
    append_lines(&transcript, &prior)?;

    let mut env = bridge.env();
    env.push(("CCX_DATA_DIR".into(), data.to_string_lossy().into_owned()));
    let true_bin = PathBuf::from(if Path::new("/bin/true").exists() { "/bin/true" } else { "/usr/bin/true" });
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
            let (stop, at) = done_rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "recorder did not answer in 10 s")?;
            if stop == want_stop {
                return Ok(at);
            }
        }
    };

    let start_payload = payload("SessionStart", json!({"source": "startup"}));
    run_with_stdin(ccx_bin, &["__hook"], &env, &start_payload)?;
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
        run_with_stdin(ccx_bin, &["__hook"], &env, &payload("UserPromptSubmit", json!({"prompt": prompt})))?;
        wait_done(false)?;
        append_lines(&transcript, &[a])?;

        let stop_payload = payload("Stop", json!({"stop_hook_active": false, "last_assistant_message": reply}));
        let t0 = Instant::now();
        let exited = run_with_stdin(ccx_bin, &["__hook"], &env, &stop_payload)?;
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
    let stored = store.all_turns()?.into_iter().rev().find(|t| t.session_id == session);
    let ok = stored.as_ref().is_some_and(|t| t.reply == last_reply && t.ended_at.is_some());
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
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next()?.parse().ok())
}

fn rss(args: &[String]) -> Res<()> {
    let split = args.iter().position(|a| a == "--").ok_or("rss wait_ms=MS -- CMD")?;
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
        return Err(format!("{name}: exited early ({status:?}): {}", String::from_utf8_lossy(&seen)).into());
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

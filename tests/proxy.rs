//! The PTY proxy over real PTYs with small programs: bytes intact both ways, exit codes,
//! resize, the terminal restored, no orphan when ccx dies. No Claude involved.

mod support;

use ccx::proxy::{self, ChildExit, PassThrough, Proxy, ProxyHandle, ProxyOutcome};
use ccx::screen::ScreenModel;
use portable_pty::CommandBuilder;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::harness::{pid_alive, wait_until, PtySession};

const T: Duration = Duration::from_secs(20);

/// A Write that keeps everything, shareable with the test.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    /// Everything written so far, as text.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Runs `first` (a shell script) under the engine and, once its output shows `shown`, calls
/// `then` with the engine's handle on another thread, as ccx's controller does. Returns how the
/// session ended, what reached the terminal, and what `then` returned.
fn run_then<R: Send + 'static>(
    first: &str,
    shown: &'static str,
    then: impl FnOnce(ProxyHandle) -> R + Send + 'static,
) -> (ProxyOutcome, String, R) {
    let spawned = proxy::spawn(sh(first), 24, 80).unwrap();
    let (proxy, handle) = Proxy::new(spawned);
    let sink = Sink::default();
    let seen = sink.clone();
    let controller = std::thread::spawn(move || {
        wait_until(T, || seen.text().contains(shown).then_some(()))
            .unwrap_or_else(|| panic!("{shown:?} never showed"));
        then(handle)
    });
    let outcome = proxy
        .run(&b""[..], PassThrough, sink.clone(), None)
        .unwrap();
    let returned = controller.join().unwrap();
    (outcome, sink.text(), returned)
}

/// Runs a program, then restarts it as `restarted` (a shell script) with the fallback
/// `echo fallback-running; exit 5`, and calls `then` with the new program's PID. Returns how the
/// session ended and what reached the terminal.
fn restart_with_fallback(
    restarted: String,
    then: impl FnOnce(&ProxyHandle, u32) + Send + 'static,
) -> (ProxyOutcome, String) {
    let (outcome, text, ()) = run_then("echo original; exec sleep 30", "original", move |handle| {
        let fallback = sh("echo fallback-running; exit 5");
        let pid = handle
            .restart(sh(&restarted), Some(fallback), T)
            .expect("restarted");
        then(&handle, pid);
    });
    (outcome, text)
}

/// `ccx exec` of a shell that writes its PID to a file, then runs `then` (shell code, with
/// the shell's stdout on ccx's); returns ccx and the shell's PID once it has started.
fn exec_child(dir: &std::path::Path, then: &str) -> (std::process::Child, u32) {
    let pidfile = dir.join("child.pid");
    let script = format!("echo $$ > '{}'; {then}", pidfile.display());
    let ccx = Command::new(support::harness::ccx_path())
        .args(["exec", "--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let child_pid: u32 = wait_until(T, || {
        std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok()
    })
    .expect("child started");
    (ccx, child_pid)
}

fn sh(script: &str) -> CommandBuilder {
    let mut cmd = CommandBuilder::new("/bin/sh");
    cmd.args(["-c", script]);
    cmd.cwd(std::env::temp_dir());
    cmd
}

/// `ccx exec -- sh -c script` without a terminal (stdin null), run to its end.
fn ccx_exec_sh(script: &str) -> std::process::Output {
    Command::new(support::harness::ccx_path())
        .args(["exec", "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn run_engine(cmd: CommandBuilder, input: &'static [u8]) -> (ChildExit, Vec<u8>) {
    let spawned = proxy::spawn(cmd, 24, 80).unwrap();
    let (proxy, _handle) = Proxy::new(spawned);
    let sink = Sink::default();
    let outcome = proxy.run(input, PassThrough, sink.clone(), None).unwrap();
    let bytes = sink.0.lock().unwrap().clone();
    (outcome.exit, bytes)
}

#[test]
fn engine_copies_output_bytes_intact() {
    // Every byte value a program may print (no newline translation: raw output mode).
    let script = "stty raw -echo; printf 'A\\000\\001\\033[31mred\\033[0m\\377\\376Z'";
    let (exit, out) = run_engine(sh(script), b"");
    assert_eq!(exit, ChildExit::Code(0));
    assert_eq!(out, b"A\x00\x01\x1b[31mred\x1b[0m\xff\xfeZ");
}

#[test]
fn engine_forwards_input_to_the_child() {
    let (exit, out) = run_engine(
        sh("stty -echo; read line; printf 'got<%s>' \"$line\""),
        b"hello world\r",
    );
    assert_eq!(exit, ChildExit::Code(0));
    assert!(
        String::from_utf8_lossy(&out).contains("got<hello world>"),
        "{out:?}"
    );
}

/// A Write that only counts (a flood would fill memory).
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<usize>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        *self.0.lock().unwrap() += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn typed_input_reaches_the_child_in_order_while_it_floods_the_terminal() {
    // Far more input than a PTY holds, typed (through the input thread) while the child floods
    // its output: the child must get every byte in the order typed.
    let typed: String = (0..40_000).map(|i| format!("<{i}>")).collect();
    let dir = tempfile::tempdir().unwrap();
    let (got, ready) = (dir.path().join("got"), dir.path().join("ready"));
    let script = format!(
        "stty raw -echo; (while :; do echo flood flood flood flood flood flood flood; done) & \
         touch '{}'; timeout --foreground 60 head -c {} > '{}'; kill $!",
        ready.display(),
        typed.len(),
        got.display()
    );
    let (keyboard, mut keys) = std::io::pipe().unwrap();
    let keyboard = std::fs::File::from(std::os::fd::OwnedFd::from(keyboard));
    let spawned = proxy::spawn(sh(&script), 24, 80).unwrap();
    let (proxy, _handle) = Proxy::new(spawned);
    let flood = Counter::default();
    let text = typed.clone();
    let flooded = flood.clone();
    let typist = std::thread::spawn(move || {
        // Typed only once the terminal is raw (a line of this length would not fit otherwise)
        // and the flood is under way, so every key goes in while the child floods.
        wait_until(T, || ready.exists().then_some(())).expect("the child started");
        wait_until(T, || (*flooded.0.lock().unwrap() > 100_000).then_some(()))
            .expect("the child floods the terminal");
        for piece in text.as_bytes().chunks(1000) {
            keys.write_all(piece).unwrap();
        }
    });
    let outcome = proxy
        .run(keyboard, PassThrough, flood.clone(), None)
        .unwrap();
    typist.join().unwrap();
    assert_eq!(outcome.exit, ChildExit::Code(0));
    assert!(
        *flood.0.lock().unwrap() > 100_000,
        "the child flooded the terminal"
    );
    let received = std::fs::read_to_string(&got).unwrap();
    assert!(
        received == typed,
        "the child got the input changed or out of order"
    );
}

#[test]
fn engine_reports_exit_codes_and_signals() {
    assert_eq!(run_engine(sh("exit 3"), b"").0, ChildExit::Code(3));
    assert_eq!(
        run_engine(sh("kill -TERM $$"), b"").0,
        ChildExit::Signal(libc::SIGTERM)
    );
    assert_eq!(ChildExit::Signal(libc::SIGTERM).shell_code(), 143);
}

#[test]
fn engine_feeds_the_screen_model_and_resizes() {
    let spawned = proxy::spawn(sh("printf 'first'; sleep 0.5; stty size"), 24, 80).unwrap();
    let (proxy, handle) = Proxy::new(spawned);
    let (screen, _thread) = ScreenModel::spawn(24, 80);
    handle.resize(30, 100);
    let sink = Sink::default();
    proxy
        .run(&b""[..], PassThrough, sink.clone(), Some(screen.clone()))
        .unwrap();
    let text = screen.contents().unwrap();
    assert!(
        text.contains("first") && text.contains("30 100"),
        "screen: {text}"
    );
}

#[test]
fn exec_passes_exit_code_and_bytes_without_a_terminal() {
    let out = ccx_exec_sh("printf 'x%.0s' $(seq 1 5000); exit 7");
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(out.stdout, vec![b'x'; 5000]);
    let out = ccx_exec_sh("kill -9 $$");
    assert_eq!(out.status.code(), Some(137));
}

#[test]
fn exec_copies_a_large_file_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.txt");
    let line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-+=!?\n";
    std::fs::write(&file, line.repeat(20_000)).unwrap();
    // `stty raw` keeps the PTY from turning \n into \r\n, so the copy must be byte-exact.
    let script = format!("stty raw -echo; cat '{}'", file.display());
    let out = ccx_exec_sh(&script);
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), line.len() * 20_000);
    assert!(out.stdout == line.repeat(20_000).into_bytes());
}

/// Runs `ccx exec` inside a PTY of our own, as a person's terminal would.
fn ccx_in_terminal(script: &str) -> PtySession {
    let vars: Vec<(String, String)> = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("TERM".into(), "xterm-256color".into()),
        ("HOME".into(), std::env::temp_dir().to_string_lossy().into()),
    ];
    let ccx = support::harness::ccx_path();
    let outer = format!(
        "{script}; ",
        script = script.replace("CCX", &ccx.to_string_lossy())
    );
    PtySession::spawn_as(
        support::terminal::Personality::from_env(),
        "/bin/sh",
        &["-c", &outer],
        &vars,
        &std::env::temp_dir(),
        80,
        24,
    )
}

#[test]
fn exec_restores_the_terminal_settings() {
    // The terminal's settings before and after: equal, even when the child dies by a signal
    // after leaving the alternate screen and bracketed paste on.
    let session = ccx_in_terminal(
        "stty -g > $HOME/ccx-stty-before-$$; CCX exec -- sh -c 'printf \"\\033[?1049h\\033[?2004h\"; kill -9 $$'; \
         echo rc=$?; stty -g > $HOME/ccx-stty-after-$$; cmp -s $HOME/ccx-stty-before-$$ $HOME/ccx-stty-after-$$ && echo SAME-STTY; \
         rm -f $HOME/ccx-stty-before-$$ $HOME/ccx-stty-after-$$; sleep 5",
    );
    session.wait_for_text("SAME-STTY", T).unwrap();
    let screen = session.screen();
    assert!(screen.contains("rc=137"), "{screen}");
    let raw = session.raw_output();
    let leave_alt = raw.windows(8).any(|w| w == b"\x1b[?1049l");
    let paste_off = raw.windows(8).any(|w| w == b"\x1b[?2004l");
    assert!(
        leave_alt && paste_off,
        "ccx must switch off the modes the dead child left on"
    );
}

#[test]
fn exec_follows_resizes() {
    let mut session = ccx_in_terminal(
        "CCX exec -- sh -c 'trap \"stty size\" WINCH; echo READY; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done'",
    );
    session.wait_for_text("READY", T).unwrap();
    session.resize(100, 30);
    session.wait_for_text("30 100", T).unwrap();
}

#[test]
fn exec_forwards_keystrokes() {
    let session = ccx_in_terminal("CCX exec -- sh -c 'read line; echo \"got<$line>\"'");
    std::thread::sleep(Duration::from_millis(500));
    session.send(b"typed text\r");
    session.wait_for_text("got<typed text>", T).unwrap();
    assert_eq!(session.wait_exit(T), Some(0));
}

#[test]
fn killing_ccx_leaves_no_orphan() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ccx, child_pid) = exec_child(dir.path(), "echo STARTED; exec sleep 60");
    assert!(pid_alive(child_pid));
    unsafe { libc::kill(ccx.id() as i32, libc::SIGKILL) };
    let _ = ccx.wait();
    let gone = wait_until(T, || (!pid_alive(child_pid)).then_some(()));
    if gone.is_none() {
        unsafe { libc::kill(child_pid as i32, libc::SIGKILL) };
        panic!("the child outlived ccx");
    }
}

#[test]
fn sigterm_to_ccx_ends_the_child_and_reports_143() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ccx, child_pid) = exec_child(dir.path(), "exec sleep 60");
    unsafe { libc::kill(ccx.id() as i32, libc::SIGTERM) };
    let status = wait_until(T, || ccx.try_wait().ok().flatten()).expect("ccx ended");
    assert_eq!(status.code(), Some(143));
    assert!(
        wait_until(T, || (!pid_alive(child_pid)).then_some(())).is_some(),
        "child left running"
    );
}

#[test]
fn engine_restarts_a_program_in_the_same_pty() {
    let (outcome, text, (handle, first_pid, new_pid)) = run_then(
        "echo first-program; exec sleep 30",
        "first-program",
        |handle| {
            let first_pid = handle.child_pid();
            let new_pid = handle
                .restart(sh("echo second-program; tty; sleep 0.2; exit 4"), None, T)
                .expect("restarted");
            (handle, first_pid, new_pid)
        },
    );
    assert_ne!(new_pid, first_pid);
    assert_eq!(handle.child_pid(), new_pid);
    assert!(!pid_alive(first_pid), "the first program was ended");
    // The session ends with the second program, which exited unasked.
    assert_eq!(outcome.exit, ChildExit::Code(4));
    assert!(
        text.contains("first-program") && text.contains("second-program"),
        "{text}"
    );
    assert!(
        text.contains("/dev/pts/"),
        "the second program has the PTY as its terminal: {text}"
    );
}

#[test]
fn a_restarted_program_that_dies_at_once_is_replaced_by_its_fallback() {
    let (outcome, text) = restart_with_fallback("echo refusing; exit 1".into(), |_, _| {});
    assert!(text.contains("refusing"), "{text}");
    assert!(text.contains("fallback-running"), "{text}");
    assert_eq!(outcome.exit, ChildExit::Code(5), "the fallback went on");
}

#[test]
fn a_restarted_program_that_started_well_ends_the_session_when_it_exits() {
    let dir = tempfile::tempdir().unwrap();
    let go_file = dir.path().join("go");
    let restarted = format!(
        "echo started-well; while [ ! -e '{}' ]; do sleep 0.05; done; exit 7",
        go_file.display()
    );
    let (outcome, text) = restart_with_fallback(restarted, move |handle, pid| {
        // Like the controller once claude shows its prompt; then the person leaves it.
        handle.confirm_started(pid);
        std::fs::write(&go_file, b"").unwrap();
    });
    assert!(text.contains("started-well"), "{text}");
    assert!(!text.contains("fallback-running"), "{text}");
    assert_eq!(
        outcome.exit,
        ChildExit::Code(7),
        "its exit ends the session"
    );
}

#[test]
fn the_repaint_after_holding_output_during_a_flood_is_exact() {
    // 8 MB of plain lines after some colour and cursor moves, then a coloured last word: the
    // output is held (as ccx's editor does) one MB in, the child runs to the end, and the
    // repaint on release must leave the terminal exactly as the child's own bytes would.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flood.txt");
    let mut text = b"\x1b[2J\x1b[3;5H\x1b[33mcolour before the flood\r\n".to_vec();
    for i in 0..100_000u32 {
        text.extend_from_slice(format!("line {i:06} {}\n", "of plain text ".repeat(5)).as_bytes());
    }
    text.extend_from_slice(b"\x1b[32mdone\x1b[0m");
    std::fs::write(&file, &text).unwrap();
    let spawned = proxy::spawn(sh(&format!("cat '{}'", file.display())), 24, 80).unwrap();
    let (proxy, handle) = Proxy::new(spawned);
    let (screen, _thread) = ScreenModel::spawn(24, 80);
    let sink = Sink::default();
    let (out, model) = (sink.clone(), screen.clone());
    let running =
        std::thread::spawn(move || proxy.run(&b""[..], PassThrough, out, Some(model)).unwrap());
    let gate = handle.output_gate();
    assert!(
        wait_until(T, || (sink.0.lock().unwrap().len() >= 1 << 20)
            .then_some(()))
        .is_some(),
        "the flood started"
    );
    gate.hold();
    running.join().unwrap();
    let mut terminal = sink.clone();
    gate.release(|| screen.repaint_bytes().unwrap(), &mut terminal);

    let size = |n| std::num::NonZeroU16::new(n).unwrap();
    let mut expected = vt100::Parser::new(size(24), size(80), 0);
    let mut onlcr = Vec::with_capacity(text.len() * 2);
    for &b in &text {
        if b == b'\n' {
            onlcr.push(b'\r');
        }
        onlcr.push(b);
    }
    expected.process(&onlcr);
    let mut shown = vt100::Parser::new(size(24), size(80), 0);
    shown.process(&sink.0.lock().unwrap());
    assert_eq!(shown.screen().contents(), expected.screen().contents());
    assert!(shown.screen().contents_formatted() == expected.screen().contents_formatted());
    assert_eq!(
        shown.screen().cursor_position(),
        expected.screen().cursor_position()
    );
    assert!(shown.screen().contents().contains("done"));
}

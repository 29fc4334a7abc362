//! The real terminal: raw mode under a guard that restores it on every exit path, its size,
//! and the escape sequences that undo what a full-screen child left switched on.

use std::io::Write;
use std::os::fd::RawFd;
use std::sync::Mutex;

/// Settings saved before going raw, for the guard, the panic hook and signal paths.
static SAVED: Mutex<Option<(RawFd, libc::termios)>> = Mutex::new(None);

/// Puts a terminal in raw mode; restores the saved settings when dropped.
pub struct RawModeGuard {
    _private: (),
}

impl RawModeGuard {
    /// Switches `fd` to raw mode if it is a terminal; returns None when it is not.
    pub fn enter(fd: RawFd) -> std::io::Result<Option<RawModeGuard>> {
        if !is_tty(fd) {
            return Ok(None);
        }
        let mut original: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut original) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut raw = original;
        unsafe { libc::cfmakeraw(&mut raw) };
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some((fd, original));
        install_panic_restore();
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Some(RawModeGuard { _private: () }))
    }
}

impl Drop for RawModeGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Restores the terminal settings saved by the guard, if any. Safe to call more than once.
pub fn restore() {
    let saved = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some((fd, original)) = saved {
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &original) };
    }
}

/// Runs `f` with the terminal back in the settings it had before raw mode (for an external
/// editor), then raw again.
pub fn with_cooked<R>(f: impl FnOnce() -> R) -> R {
    let saved = *SAVED.lock().unwrap_or_else(|e| e.into_inner());
    let Some((fd, original)) = saved else {
        return f();
    };
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &original) };
    let result = f();
    let mut raw = original;
    unsafe {
        libc::cfmakeraw(&mut raw);
        libc::tcsetattr(fd, libc::TCSANOW, &raw);
    }
    result
}

fn install_panic_restore() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

pub fn is_tty(fd: RawFd) -> bool {
    unsafe { libc::isatty(fd) == 1 }
}

/// The size of the terminal on `fd` as (rows, cols), if it is a terminal with a size.
pub fn size(fd: RawFd) -> Option<(u16, u16)> {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } != 0
        || ws.ws_row == 0
        || ws.ws_col == 0
    {
        return None;
    }
    Some((ws.ws_row, ws.ws_col))
}

/// Terminal modes a child may have left on when it died without cleaning up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftModes {
    pub alternate_screen: bool,
    pub mouse: bool,
    pub bracketed_paste: bool,
    pub hidden_cursor: bool,
}

/// Follows the terminal modes a child switches on and off (`ESC [ ? Pn h/l`), cheaply enough
/// to run on the output path: at exit ccx knows what to switch off without waiting for the
/// screen model to catch up.
#[derive(Debug, Default, Clone)]
pub struct ModeTracker {
    modes: LeftModes,
    /// The start of a sequence cut off at the end of the last chunk.
    carry: Vec<u8>,
}

/// Longest private-mode sequence kept across chunks.
const MAX_MODE_SEQUENCE: usize = 64;

impl ModeTracker {
    pub fn observe(&mut self, bytes: &[u8]) {
        let mut joined;
        let data = if self.carry.is_empty() {
            bytes
        } else {
            joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(bytes);
            &joined[..]
        };
        let mut i = 0;
        while let Some(at) = memchr::memchr(0x1b, &data[i..]) {
            let start = i + at;
            let rest = &data[start..];
            if rest.len() < 3 {
                self.carry = rest.to_vec();
                return;
            }
            if &rest[1..3] != b"[?" {
                i = start + 1;
                continue;
            }
            let body = &rest[3..];
            let Some(len) = body
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b';'))
            else {
                if rest.len() <= MAX_MODE_SEQUENCE {
                    self.carry = rest.to_vec();
                }
                return;
            };
            let on = match body[len] {
                b'h' => Some(true),
                b'l' => Some(false),
                _ => None,
            };
            if let Some(on) = on {
                for param in body[..len].split(|b| *b == b';') {
                    self.set(param, on);
                }
            }
            i = start + 3 + len + 1;
        }
    }

    fn set(&mut self, param: &[u8], on: bool) {
        match param {
            b"1049" | b"1047" | b"47" => self.modes.alternate_screen = on,
            b"1000" | b"1002" | b"1003" | b"1006" => self.modes.mouse = on,
            b"2004" => self.modes.bracketed_paste = on,
            b"25" => self.modes.hidden_cursor = !on,
            _ => {}
        }
    }

    pub fn modes(&self) -> LeftModes {
        self.modes
    }
}

/// The bytes that switch off the given modes (pure: an encoder returning bytes).
pub fn reset_sequence(modes: LeftModes) -> Vec<u8> {
    let resets: [(bool, &[u8]); 4] = [
        (modes.mouse, b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l"),
        (modes.bracketed_paste, b"\x1b[?2004l"),
        // Also pop the kitty keyboard flags and modifyOtherKeys that full-screen TUIs push.
        (
            modes.alternate_screen,
            b"\x1b[?1004l\x1b[<u\x1b[>4;0m\x1b[?1049l",
        ),
        (modes.hidden_cursor, b"\x1b[?25h"),
    ];
    resets
        .iter()
        .filter(|(left_on, _)| *left_on)
        .flat_map(|(_, reset)| reset.iter().copied())
        .collect()
}

/// Writes `bytes` to fd 1 without buffering, ignoring errors (used on the way out).
pub fn write_stdout_best_effort(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Waits up to `timeout` for input on `fd`: whether some came, or None when poll failed
/// (EINTR included; the caller decides what that means for it).
pub fn wait_readable(fd: i32, timeout: std::time::Duration) -> Option<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
    match unsafe { libc::poll(&mut pfd, 1, millis) } {
        n if n < 0 => None,
        n => Some(n > 0),
    }
}

/// Whether output holds a query the terminal answers on standard input (device attributes,
/// version, keyboard flags, mode and status reports, colour and capability queries). ccx's
/// editor waits for the answers to recent queries before it takes the keyboard, so that they
/// reach the program that asked and not the editor.
pub fn holds_terminal_query(bytes: &[u8]) -> bool {
    const QUERIES: &[&[u8]] = &[
        b"\x1b[c",
        b"\x1b[0c",
        b"\x1b[>c",
        b"\x1b[>0c",
        b"\x1b[=c",
        b"\x1b[>q",
        b"\x1b[>0q",
        b"\x1b[?u",
        b"\x1b[5n",
        b"\x1b[6n",
        b"\x1b[?6n",
        b"\x1b[?996n",
        b"\x1b[14t",
        b"\x1b[16t",
        b"\x1b[18t",
        b"\x1bP+q",
        b"\x1bP$q",
    ];
    memchr::memchr_iter(0x1b, bytes).any(|at| {
        let rest = &bytes[at..];
        QUERIES.iter().any(|q| rest.starts_with(q))
            || (rest.starts_with(b"\x1b[") && request_mode_end(&rest[2..]))
            || (rest.starts_with(b"\x1b]") && osc_asks(&rest[2..]))
    })
}

/// DECRQM: `ESC [ ? Ps $ p` or `ESC [ Ps $ p`.
fn request_mode_end(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"?").unwrap_or(body);
    let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && body[digits..].starts_with(b"$p")
}

/// An OSC whose last parameter is `?` (colour and palette queries, OSC 7501…).
fn osc_asks(body: &[u8]) -> bool {
    let end = body
        .iter()
        .take(64)
        .position(|&b| b == 0x07 || b == 0x1b)
        .unwrap_or(0);
    end > 0 && body[..end].ends_with(b";?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_sequence_only_for_modes_left_on() {
        assert!(reset_sequence(LeftModes::default()).is_empty());
        let all = reset_sequence(LeftModes {
            alternate_screen: true,
            mouse: true,
            bracketed_paste: true,
            hidden_cursor: true,
        });
        let text = String::from_utf8(all).unwrap();
        for reset in ["\x1b[?1049l", "\x1b[?2004l", "\x1b[?1003l"] {
            assert!(text.contains(reset), "{reset:?}");
        }
        assert!(text.ends_with("\x1b[?25h"));
    }

    #[test]
    fn mode_tracker_follows_switches_even_split_across_chunks() {
        let mut t = ModeTracker::default();
        t.observe(b"text\x1b[?1049h\x1b[?25l more \x1b[?1000;1006h\x1b[?20");
        t.observe(b"04h");
        let m = t.modes();
        assert!(m.alternate_screen && m.hidden_cursor && m.mouse && m.bracketed_paste);
        t.observe(b"\x1b[?2004l\x1b[?1049l\x1b");
        t.observe(b"[?25h");
        let m = t.modes();
        assert!(!m.alternate_screen && !m.bracketed_paste && !m.hidden_cursor && m.mouse);
        // Other sequences and plain text change nothing.
        t.observe(b"\x1b[31mred\x1b[2J\x1b[?7h");
        assert_eq!(t.modes(), m);
    }

    #[test]
    fn not_a_tty_gives_no_guard() {
        let (r, _w) = std::os::unix::net::UnixStream::pair().unwrap();
        use std::os::fd::AsRawFd;
        assert!(RawModeGuard::enter(r.as_raw_fd()).unwrap().is_none());
        assert!(size(r.as_raw_fd()).is_none());
    }

    #[test]
    fn terminal_queries_are_recognised() {
        for query in [
            &b"\x1b[c"[..],
            b"\x1b[>0q",
            b"\x1b[?u",
            b"\x1b[?2026$p",
            b"\x1b]7501;?\x07",
            b"\x1b]11;?\x1b\\",
            b"\x1b[6n",
        ] {
            let mut output = b"text \x1b[1mbold\x1b[0m ".to_vec();
            output.extend_from_slice(query);
            assert!(holds_terminal_query(&output), "{query:?}");
        }
        for not_query in [
            &b"\x1b[?2026h"[..],
            b"\x1b]0;title\x07",
            b"\x1b[>5u",
            b"plain",
        ] {
            assert!(!holds_terminal_query(not_query), "{not_query:?}");
        }
    }
}

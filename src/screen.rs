//! The screen model: a vt100 copy of what the child drew, owned by one thread and fed off
//! the byte path, so that ccx can later repaint the child's screen exactly.

use crate::terminal::LeftModes;
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Messages to the screen-model thread.
pub enum ScreenMsg {
    Output(Vec<u8>),
    Resize {
        rows: u16,
        cols: u16,
    },
    /// Replies with the bytes that repaint the whole screen as the model has it.
    Repaint(Sender<Vec<u8>>),
    /// Replies with the screen's text contents.
    Contents(Sender<String>),
    Modes(Sender<LeftModes>),
    /// Replies with the text of the row the cursor is on.
    CursorRow(Sender<String>),
    /// Replies with the keyboard modes vt100 does not model.
    Keyboard(Sender<KeyboardModes>),
}

/// Keyboard protocol state the child set on the terminal: kitty flags it pushed (and has not
/// popped) and xterm modifyOtherKeys. ccx's editor switches them off and restores them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyboardModes {
    /// The push sequences (`ESC [ > flags u`) still in effect, oldest first.
    pub kitty_pushes: Vec<Vec<u8>>,
    /// The last `ESC [ > 4 ; N m` seen, if it turned modifyOtherKeys on.
    pub modify_other_keys: Option<Vec<u8>>,
    /// Focus reports (`ESC [ ? 1004 h`) and colour-scheme reports (`ESC [ ? 2031 h`) on: the
    /// terminal would send them to ccx's editor unasked.
    pub focus_reports: bool,
    pub scheme_reports: bool,
}

impl KeyboardModes {
    /// Follows the sequences in a chunk of output (sequences split across chunks are missed,
    /// which costs only a mode left on while ccx's editor is open).
    pub fn observe(&mut self, bytes: &[u8]) {
        for (on, off, flag) in [
            (
                &b"\x1b[?1004h"[..],
                &b"\x1b[?1004l"[..],
                &mut self.focus_reports,
            ),
            (b"\x1b[?2031h", b"\x1b[?2031l", &mut self.scheme_reports),
        ] {
            let last_on = memchr::memmem::rfind(bytes, on);
            let last_off = memchr::memmem::rfind(bytes, off);
            match (last_on, last_off) {
                (Some(a), Some(b)) => *flag = a > b,
                (Some(_), None) => *flag = true,
                (None, Some(_)) => *flag = false,
                (None, None) => {}
            }
        }
        let mut i = 0;
        while let Some(pos) = bytes[i..]
            .windows(3)
            .position(|w| w == b"\x1b[>" || w == b"\x1b[<")
        {
            let start = i + pos;
            let body_start = start + 3;
            let Some(len) = bytes[body_start..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b';'))
            else {
                break;
            };
            let end = body_start + len;
            let seq = &bytes[start..=end];
            match (bytes[start + 2], bytes[end]) {
                (b'>', b'u') => self.kitty_pushes.push(seq.to_vec()),
                (b'<', b'u') => {
                    let n: usize = std::str::from_utf8(&bytes[body_start..end])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(1);
                    for _ in 0..n.max(1) {
                        self.kitty_pushes.pop();
                    }
                }
                (b'>', b'm') => {
                    let params = &bytes[body_start..end];
                    let on = params.starts_with(b"4;") && params != b"4;0";
                    self.modify_other_keys = on.then(|| seq.to_vec());
                }
                _ => {}
            }
            i = end + 1;
        }
    }

    /// Bytes that switch these modes off.
    pub fn off_sequence(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.kitty_pushes.is_empty() {
            out.extend_from_slice(format!("\x1b[<{}u", self.kitty_pushes.len()).as_bytes());
        }
        if self.modify_other_keys.is_some() {
            out.extend_from_slice(b"\x1b[>4;0m");
        }
        if self.focus_reports {
            out.extend_from_slice(b"\x1b[?1004l");
        }
        if self.scheme_reports {
            out.extend_from_slice(b"\x1b[?2031l");
        }
        out
    }

    /// Bytes that put these modes back.
    pub fn on_sequence(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.kitty_pushes.concat();
        if let Some(seq) = &self.modify_other_keys {
            out.extend_from_slice(seq);
        }
        if self.focus_reports {
            out.extend_from_slice(b"\x1b[?1004h");
        }
        if self.scheme_reports {
            out.extend_from_slice(b"\x1b[?2031h");
        }
        out
    }
}

/// A handle to the screen-model thread. Dropping every handle ends the thread.
#[derive(Clone)]
pub struct ScreenModel {
    tx: SyncSender<ScreenMsg>,
    /// Bytes of output handed to the model so far (queries asked after a count is reached
    /// see every one of those bytes, since the model takes messages in order).
    fed: Arc<AtomicU64>,
}

/// Chunks of output queued for the model at most (a flood then waits for the parser rather
/// than growing memory without bound: at most this many 64 KiB reads).
const QUEUE: usize = 256;

impl ScreenModel {
    /// Starts the owner thread with a model of `rows` x `cols`.
    pub fn spawn(rows: u16, cols: u16) -> (ScreenModel, JoinHandle<()>) {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let handle = std::thread::Builder::new()
            .name("ccx-screen".into())
            .spawn(move || run(rx, rows, cols))
            .expect("spawn screen thread");
        (
            ScreenModel {
                tx,
                fed: Arc::new(AtomicU64::new(0)),
            },
            handle,
        )
    }

    pub fn feed(&self, bytes: Vec<u8>) {
        self.fed.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        let _ = self.tx.send(ScreenMsg::Output(bytes));
    }

    /// How many bytes of output the model has been handed so far.
    pub fn fed(&self) -> u64 {
        self.fed.load(Ordering::SeqCst)
    }

    pub fn resize(&self, rows: u16, cols: u16) {
        let _ = self.tx.send(ScreenMsg::Resize { rows, cols });
    }

    pub fn repaint_bytes(&self) -> Option<Vec<u8>> {
        self.ask(ScreenMsg::Repaint)
    }

    pub fn contents(&self) -> Option<String> {
        self.ask(ScreenMsg::Contents)
    }

    pub fn left_modes(&self) -> Option<LeftModes> {
        self.ask(ScreenMsg::Modes)
    }

    pub fn cursor_row(&self) -> Option<String> {
        self.ask(ScreenMsg::CursorRow)
    }

    pub fn keyboard_modes(&self) -> Option<KeyboardModes> {
        self.ask(ScreenMsg::Keyboard)
    }

    fn ask<T>(&self, make: impl FnOnce(Sender<T>) -> ScreenMsg) -> Option<T> {
        let (tx, rx) = mpsc::channel();
        self.tx.send(make(tx)).ok()?;
        rx.recv_timeout(std::time::Duration::from_secs(2)).ok()
    }
}

fn non_zero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

fn new_parser(rows: u16, cols: u16) -> vt100::Parser {
    vt100::Parser::new(non_zero(rows), non_zero(cols), 0)
}

fn run(rx: Receiver<ScreenMsg>, rows: u16, cols: u16) {
    let mut size = (rows.max(1), cols.max(1));
    let mut parser = new_parser(size.0, size.1);
    let mut keyboard = KeyboardModes::default();
    for msg in rx {
        match msg {
            ScreenMsg::Output(bytes) => {
                keyboard.observe(&bytes);
                let fed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    parser.process(&bytes);
                }));
                if fed.is_err() {
                    // vt100 can panic on odd input: start a fresh model rather than die.
                    parser = new_parser(size.0, size.1);
                }
            }
            ScreenMsg::Resize { rows, cols } => {
                size = (rows.max(1), cols.max(1));
                parser.set_size(non_zero(size.0), non_zero(size.1));
            }
            ScreenMsg::Repaint(reply) => {
                // Contents, cursor and input modes (mouse, bracketed paste, keypad).
                let _ = reply.send(parser.screen().state_formatted().into_bytes());
            }
            ScreenMsg::CursorRow(reply) => {
                let screen = parser.screen();
                let (row, _) = screen.cursor_position();
                let (_, cols) = screen.size();
                let text = screen
                    .rows(0, cols.get())
                    .nth(usize::from(row))
                    .unwrap_or_default();
                let _ = reply.send(text);
            }
            ScreenMsg::Keyboard(reply) => {
                let _ = reply.send(keyboard.clone());
            }
            ScreenMsg::Contents(reply) => {
                let _ = reply.send(parser.screen().contents());
            }
            ScreenMsg::Modes(reply) => {
                let screen = parser.screen();
                let _ = reply.send(LeftModes {
                    alternate_screen: screen.alternate_screen(),
                    mouse: screen.mouse_protocol_mode() != vt100::MouseProtocolMode::None,
                    bracketed_paste: screen.bracketed_paste(),
                    hidden_cursor: screen.hide_cursor(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_follows_output_and_modes() {
        let (model, handle) = ScreenModel::spawn(5, 20);
        model.feed(b"hello\r\nworld".to_vec());
        model.feed(b"\x1b[?1049h\x1b[?2004h\x1b[?1003h".to_vec());
        let modes = model.left_modes().unwrap();
        assert!(modes.alternate_screen && modes.bracketed_paste && modes.mouse);
        model.feed(b"\x1b[?1049l".to_vec());
        let text = model.contents().unwrap();
        assert!(text.contains("hello") && text.contains("world"), "{text}");
        model.feed(b"\x1b[2;3Habc".to_vec());
        assert!(model.cursor_row().unwrap().contains("abc"));
        drop(model);
        handle.join().unwrap();
    }

    #[test]
    fn keyboard_modes_follow_pushes_and_pops() {
        let mut k = KeyboardModes::default();
        k.observe(b"text\x1b[>5u more \x1b[>4;2m");
        assert_eq!(k.kitty_pushes, vec![b"\x1b[>5u".to_vec()]);
        assert_eq!(k.off_sequence(), b"\x1b[<1u\x1b[>4;0m");
        assert_eq!(k.on_sequence(), b"\x1b[>5u\x1b[>4;2m");
        k.observe(b"\x1b[<u\x1b[>4;0m");
        assert_eq!(k, KeyboardModes::default());
        k.observe(b"\x1b[?1004h\x1b[?2031h");
        assert_eq!(k.off_sequence(), b"\x1b[?1004l\x1b[?2031l");
        assert_eq!(k.on_sequence(), b"\x1b[?1004h\x1b[?2031h");
        k.observe(b"\x1b[?1004l\x1b[?2031l");
        assert_eq!(k, KeyboardModes::default());
        assert!(k.off_sequence().is_empty());
    }
}

//! The screen model: a vt100 copy of what the child drew, owned by one thread and fed off
//! the byte path, so that ccx can later repaint the child's screen exactly.

use crate::terminal::LeftModes;
use std::num::NonZeroU16;
use std::sync::mpsc::{self, Receiver, Sender};
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
}

/// A handle to the screen-model thread. Dropping every handle ends the thread.
#[derive(Clone)]
pub struct ScreenModel {
    tx: Sender<ScreenMsg>,
}

impl ScreenModel {
    /// Starts the owner thread with a model of `rows` x `cols`.
    pub fn spawn(rows: u16, cols: u16) -> (ScreenModel, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("ccx-screen".into())
            .spawn(move || run(rx, rows, cols))
            .expect("spawn screen thread");
        (ScreenModel { tx }, handle)
    }

    pub fn feed(&self, bytes: Vec<u8>) {
        let _ = self.tx.send(ScreenMsg::Output(bytes));
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
    for msg in rx {
        match msg {
            ScreenMsg::Output(bytes) => {
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
                let _ = reply.send(parser.screen().contents_formatted().into_bytes());
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
        drop(model);
        handle.join().unwrap();
    }
}

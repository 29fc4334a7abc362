//! The screen model: a vt100 copy of what the child drew, owned by one thread and fed off
//! the byte path, so that ccx can later repaint the child's screen exactly.

use crate::scroll_skip::ScrollSkip;
use crate::terminal::LeftModes;
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
        while let Some(pos) = memchr::memmem::find(&bytes[i..], b"\x1b[") {
            let start = i + pos;
            if !matches!(bytes.get(start + 2), Some(b'>' | b'<')) {
                i = start + 2;
                continue;
            }
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
///
/// Output is handed over without waiting for the parser: it is appended to a pending buffer
/// that the model thread takes whole and parses in slices, so the copy to the terminal never
/// runs at the parser's pace. The buffer is bounded ([`PENDING_LIMIT`]): past it, the feeder
/// waits for room with [`ScreenModel::wait_for_room`], which the proxy calls only after the
/// bytes have reached the terminal and outside the output gate's lock. Nothing is ever
/// dropped, so the model stays exact.
#[derive(Clone)]
pub struct ScreenModel {
    link: Arc<Link>,
}

/// Ends the model thread when the last handle goes.
struct Link {
    shared: Arc<Shared>,
}

impl Drop for Link {
    fn drop(&mut self) {
        lock(&self.shared.inbox).closed = true;
        self.shared.wake.notify_all();
    }
}

/// State shared by the handles and the model thread.
struct Shared {
    inbox: Mutex<Inbox>,
    /// Wakes the model thread (output, a question or a resize arrived).
    wake: Condvar,
    /// Wakes those waiting on the model (it parsed more, or took the pending buffer).
    progress: Condvar,
    /// Bytes of output handed to the model so far.
    fed: AtomicU64,
    /// Bytes of output the model has parsed so far.
    parsed: AtomicU64,
    /// What the model last published: answers that must not wait behind a backlog.
    published: Mutex<Published>,
}

/// A resize to rows x cols after the given count of output bytes: `(at, rows, cols)`.
type Resize = (u64, u16, u16);

#[derive(Default)]
struct Inbox {
    /// Output not yet taken by the model thread.
    pending: Vec<u8>,
    /// Resizes, each with the count of output bytes handed before it.
    resizes: Vec<Resize>,
    /// Questions, each with the count of output bytes its answer must reflect.
    questions: Vec<(u64, Question)>,
    closed: bool,
    /// The model thread is waiting for work (only then does handing it work wake it: a wake
    /// is a system call, too dear for every read of a flood).
    idle: bool,
}

/// The model's state as of its last parsed slice, readable at once.
#[derive(Default, Clone)]
struct Published {
    cursor_row: String,
    /// Claude's prompt glyph is somewhere on the screen.
    prompt_glyph: bool,
    keyboard: KeyboardModes,
}

/// Questions answered from the model once it has parsed the output handed before them.
enum Question {
    /// The bytes that repaint the whole screen as the model has it.
    Repaint(Sender<Vec<u8>>),
    /// The screen's text contents.
    Contents(Sender<String>),
    Modes(Sender<LeftModes>),
}

/// Output bytes pending for the model at most before the feeder waits for room (the model is
/// then this far behind; a flood shorter than this never waits). It bounds how stale the
/// published state may be and how long a repaint may wait: output the model cannot skip (text
/// full of escape sequences) parses at 5–70 MB/s depending on the load.
pub const PENDING_LIMIT: usize = 4 << 20;
/// The model parses its pending output in slices of this size, publishing the cursor row and
/// keyboard modes after each.
const SLICE: usize = 256 << 10;
/// A model at most this far behind answers quick questions exactly (it catches up in a few
/// milliseconds: the echo of a key, Claude's screen redrawn), waiting at most [`NEAR_WAIT`];
/// further behind (a flood), they wait at most [`LAG_WAIT`] and take its last whole frame.
const NEAR: u64 = 64 << 10;
const NEAR_WAIT: Duration = Duration::from_secs(1);
/// Output the model gathers before parsing, waiting at most [`COALESCE_WAIT`] for it.
const COALESCE: usize = 64 << 10;
const COALESCE_WAIT: Duration = Duration::from_millis(2);
/// How long a quick question waits for a lagging model: one frame.
pub const LAG_WAIT: Duration = Duration::from_millis(16);
/// How long an exact question waits for the model to reach it.
const EXACT_WAIT: Duration = Duration::from_secs(10);

impl ScreenModel {
    /// Starts the owner thread with a model of `rows` x `cols`.
    pub fn spawn(rows: u16, cols: u16) -> (ScreenModel, JoinHandle<()>) {
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox::default()),
            wake: Condvar::new(),
            progress: Condvar::new(),
            fed: AtomicU64::new(0),
            parsed: AtomicU64::new(0),
            published: Mutex::new(Published::default()),
        });
        let owner = shared.clone();
        let handle = std::thread::Builder::new()
            .name("ccx-screen".into())
            .spawn(move || run(&owner, rows, cols))
            .expect("spawn screen thread");
        (
            ScreenModel {
                link: Arc::new(Link { shared }),
            },
            handle,
        )
    }

    fn shared(&self) -> &Shared {
        &self.link.shared
    }

    /// Hands output to the model; never waits for the parser.
    pub fn feed(&self, bytes: &[u8]) {
        let shared = self.shared();
        let mut inbox = lock(&shared.inbox);
        inbox.pending.extend_from_slice(bytes);
        shared.fed.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        let idle = inbox.idle;
        drop(inbox);
        if idle {
            shared.wake.notify_one();
        }
    }

    /// Waits while the model is [`PENDING_LIMIT`] bytes behind (the bound on its memory).
    pub fn wait_for_room(&self) {
        let shared = self.shared();
        // The pending bytes are at most those handed and not yet parsed.
        let behind = shared
            .fed
            .load(Ordering::SeqCst)
            .saturating_sub(shared.parsed.load(Ordering::SeqCst));
        if behind < PENDING_LIMIT as u64 {
            return;
        }
        let mut inbox = lock(&shared.inbox);
        while inbox.pending.len() >= PENDING_LIMIT && !inbox.closed {
            inbox = shared
                .progress
                .wait(inbox)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// How many bytes of output the model has been handed so far.
    pub fn fed(&self) -> u64 {
        self.shared().fed.load(Ordering::SeqCst)
    }

    /// How many of those bytes it has parsed.
    pub fn parsed(&self) -> u64 {
        self.shared().parsed.load(Ordering::SeqCst)
    }

    /// Resizes the model after the output handed so far.
    pub fn resize(&self, rows: u16, cols: u16) {
        let shared = self.shared();
        let mut inbox = lock(&shared.inbox);
        let at = shared.fed.load(Ordering::SeqCst);
        inbox.resizes.push((at, rows, cols));
        drop(inbox);
        shared.wake.notify_one();
    }

    /// Repaint bytes reflecting every byte handed so far (waits for the model to catch up).
    pub fn repaint_bytes(&self) -> Option<Vec<u8>> {
        self.ask(Question::Repaint)
    }

    /// The screen's text, reflecting every byte handed so far.
    pub fn contents(&self) -> Option<String> {
        self.ask(Question::Contents)
    }

    /// Modes the child left on, reflecting every byte handed so far.
    pub fn left_modes(&self) -> Option<LeftModes> {
        self.ask(Question::Modes)
    }

    /// The text of the row the cursor is on: exact when the model is close behind, else (a
    /// flood it has not caught up with) as of the model's state after at most [`LAG_WAIT`].
    /// Whether the cursor's row is Claude's empty prompt ([`crate::keys::prompt_row_is_empty`]).
    pub fn shows_empty_prompt(&self) -> bool {
        self.cursor_row()
            .is_some_and(|row| crate::keys::prompt_row_is_empty(&row))
    }

    pub fn cursor_row(&self) -> Option<String> {
        self.settle();
        Some(lock(&self.shared().published).cursor_row.clone())
    }

    /// Whether Claude's prompt glyph ([`crate::keys::PROMPT_GLYPH`]) is on the screen, as
    /// [`ScreenModel::cursor_row`] answers: it has drawn its prompt at least once.
    pub fn shows_prompt_glyph(&self) -> bool {
        self.settle();
        lock(&self.shared().published).prompt_glyph
    }

    /// The keyboard modes vt100 does not model, as the model last published them (without
    /// waiting: the editor asks right after the key filter's question waited for the model).
    pub fn keyboard_modes(&self) -> Option<KeyboardModes> {
        Some(lock(&self.shared().published).keyboard.clone())
    }

    /// Waits for the model to reach the output handed so far: at most [`NEAR_WAIT`] when it
    /// is near, at most [`LAG_WAIT`] when it lags.
    fn settle(&self) {
        let want = self.fed();
        let behind = want.saturating_sub(self.parsed());
        let wait = if behind <= NEAR { NEAR_WAIT } else { LAG_WAIT };
        self.wait_parsed(want, wait);
    }

    /// Waits until the model has parsed `want` bytes, at most `wait`; whether it has.
    fn wait_parsed(&self, want: u64, wait: Duration) -> bool {
        let shared = self.shared();
        let deadline = Instant::now() + wait;
        let mut inbox = lock(&shared.inbox);
        loop {
            if shared.parsed.load(Ordering::SeqCst) >= want {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            inbox = shared
                .progress
                .wait_timeout(inbox, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn ask<T>(&self, make: impl FnOnce(Sender<T>) -> Question) -> Option<T> {
        let shared = self.shared();
        let (tx, rx) = mpsc::channel();
        let mut inbox = lock(&shared.inbox);
        if inbox.closed {
            return None;
        }
        let want = shared.fed.load(Ordering::SeqCst);
        inbox.questions.push((want, make(tx)));
        drop(inbox);
        shared.wake.notify_one();
        rx.recv_timeout(EXACT_WAIT).ok()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn non_zero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

fn new_parser(rows: u16, cols: u16) -> vt100::Parser {
    vt100::Parser::new(non_zero(rows), non_zero(cols), 0)
}

/// The model thread's own state.
struct Model {
    size: (u16, u16),
    parser: vt100::Parser,
    keyboard: KeyboardModes,
    skip: ScrollSkip,
    /// Inside a synchronized update (`ESC [ ? 2026 h` … `l`) since this many bytes: the screen
    /// is half drawn, so the cursor row is not published from it.
    sync_since: Option<u64>,
    /// Whether the prompt glyph was on the screen, and when the screen was last looked at.
    glyph: (bool, Option<Instant>),
}

/// How often a flood's screen is searched for the prompt glyph at most.
const GLYPH_EVERY: Duration = Duration::from_millis(10);

/// A synchronized update longer than this is not waited for (terminals time them out too).
const SYNC_LIMIT: u64 = 1 << 20;

impl Model {
    /// Parses `bytes`, the output after the first `at` bytes.
    fn parse(&mut self, bytes: &[u8], at: u64) {
        self.keyboard.observe(bytes);
        let begin = memchr::memmem::rfind(bytes, b"\x1b[?2026h");
        let end = memchr::memmem::rfind(bytes, b"\x1b[?2026l");
        match (begin, end) {
            (Some(b), Some(e)) if b < e => self.sync_since = None,
            (Some(b), _) => self.sync_since = Some(at + b as u64),
            (None, Some(_)) => self.sync_since = None,
            (None, None) => {}
        }
        let parser = &mut self.parser;
        let fed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parser.process(bytes);
        }));
        if fed.is_err() {
            // vt100 can panic on odd input: start a fresh model rather than die.
            self.parser = new_parser(self.size.0, self.size.1);
        }
    }

    fn resize(&mut self, rows: u16, cols: u16) {
        self.size = (rows.max(1), cols.max(1));
        self.parser
            .set_size(non_zero(self.size.0), non_zero(self.size.1));
    }

    /// The state to publish after `parsed` bytes; None in the middle of a synchronized update
    /// (the last published state, a whole frame, stands). Whether the prompt glyph is on the
    /// screen is looked for in the whole screen at most every [`GLYPH_EVERY`] (a flood
    /// publishes often, and that question is asked at most every 50 ms).
    fn published(&mut self, parsed: u64) -> Option<Published> {
        if self
            .sync_since
            .is_some_and(|since| parsed.saturating_sub(since) < SYNC_LIMIT)
        {
            return None;
        }
        let screen = self.parser.screen();
        let (row, _) = screen.cursor_position();
        // The cursor's row alone (from its start to the start of the next row).
        let cursor_row = screen.contents_between(row, 0, row.saturating_add(1), 0);
        let glyph = crate::keys::PROMPT_GLYPH;
        if cursor_row.contains(glyph) {
            self.glyph = (true, Some(Instant::now()));
        } else if self.glyph.1.is_none_or(|at| at.elapsed() >= GLYPH_EVERY) {
            self.glyph = (screen.contents().contains(glyph), Some(Instant::now()));
        }
        Some(Published {
            cursor_row,
            prompt_glyph: self.glyph.0,
            keyboard: self.keyboard.clone(),
        })
    }

    fn answer(&self, question: Question) {
        let screen = self.parser.screen();
        match question {
            // Contents, cursor and input modes (mouse, bracketed paste, keypad).
            Question::Repaint(reply) => {
                let _ = reply.send(screen.state_formatted().into_bytes());
            }
            Question::Contents(reply) => {
                let _ = reply.send(screen.contents());
            }
            Question::Modes(reply) => {
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

/// Makes the model's state after `parsed` bytes readable and wakes those waiting for it.
fn publish(shared: &Shared, model: &mut Model, parsed: u64) {
    if let Some(state) = model.published(parsed) {
        *lock(&shared.published) = state;
    } else {
        // Mid-frame: only the keyboard modes move on.
        lock(&shared.published).keyboard = model.keyboard.clone();
    }
    let inbox = lock(&shared.inbox);
    shared.parsed.store(parsed, Ordering::SeqCst);
    drop(inbox);
    shared.progress.notify_all();
}

/// The model thread's nice value: under CPU contention the copy to the terminal goes first.
const MODEL_NICENESS: libc::c_int = 5;
/// A pending buffer that grew past this during a flood is given back once the flood is over.
const KEEP_CAPACITY: usize = 2 << 20;

/// What the model thread takes from the inbox at once.
struct Work {
    /// The output handed since the last take (the inbox gets the thread's spare buffer).
    batch: Vec<u8>,
    resizes: Vec<(u64, u16, u16)>,
    questions: Vec<(u64, Question)>,
}

/// Lowers the model thread's priority, so that under CPU contention the copy goes first.
fn yield_to_the_copy() {
    #[cfg(target_os = "linux")]
    // SAFETY: a plain syscall; on Linux PRIO_PROCESS with a thread id sets that thread's nice.
    unsafe {
        libc::setpriority(
            libc::PRIO_PROCESS,
            libc::gettid() as libc::id_t,
            MODEL_NICENESS,
        );
    }
}

fn run(shared: &Shared, rows: u16, cols: u16) {
    yield_to_the_copy();
    let mut model = Model {
        size: (rows.max(1), cols.max(1)),
        parser: new_parser(rows.max(1), cols.max(1)),
        keyboard: KeyboardModes::default(),
        skip: ScrollSkip::default(),
        sync_since: None,
        glyph: (false, None),
    };
    *lock(&shared.published) = model.published(0).unwrap_or_default();
    let mut waiting: Vec<(u64, Question)> = Vec::new();
    let mut spare = Vec::new();
    while let Some(mut work) = take_work(shared, spare) {
        // The feeder may have been waiting for room.
        shared.progress.notify_all();
        waiting.append(&mut work.questions);
        let start = shared.parsed.load(Ordering::SeqCst);
        model.process(shared, &work.batch, work.resizes, start);
        let parsed = shared.parsed.load(Ordering::SeqCst);
        let (ready, later): (Vec<_>, Vec<_>) =
            waiting.drain(..).partition(|(want, _)| *want <= parsed);
        waiting = later;
        for (_, question) in ready {
            model.answer(question);
        }
        spare = work.batch;
        spare.clear();
        if spare.capacity() > KEEP_CAPACITY {
            spare.shrink_to(KEEP_CAPACITY);
        }
    }
}

/// Waits for work and takes it, leaving `spare` (empty) as the inbox's pending buffer so that
/// the feeder appends to memory already allocated. None once the model is closed and done.
fn take_work(shared: &Shared, spare: Vec<u8>) -> Option<Work> {
    let mut inbox = lock(&shared.inbox);
    while inbox.pending.is_empty()
        && inbox.resizes.is_empty()
        && inbox.questions.is_empty()
        && !inbox.closed
    {
        inbox.idle = true;
        inbox = shared.wake.wait(inbox).unwrap_or_else(|e| e.into_inner());
        inbox.idle = false;
    }
    if inbox.questions.is_empty() && inbox.pending.len() < COALESCE && !inbox.closed {
        // Output is coming: let a few reads gather, so that runs of plain text are long enough
        // to skip what scrolls off (a question cuts this short).
        inbox = shared
            .wake
            .wait_timeout(inbox, COALESCE_WAIT)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    if inbox.closed && inbox.pending.is_empty() && inbox.questions.is_empty() {
        return None;
    }
    Some(Work {
        batch: std::mem::replace(&mut inbox.pending, spare),
        resizes: std::mem::take(&mut inbox.resizes),
        questions: std::mem::take(&mut inbox.questions),
    })
}

impl Model {
    /// Parses `batch` (the output after the first `start` bytes), applying each resize between
    /// the bytes handed before and after it, skipping plain text that scrolls off (exactly: see
    /// `scroll_skip`; not in a batch with a resize), publishing after every slice.
    fn process(
        &mut self,
        shared: &Shared,
        batch: &[u8],
        mut resizes: Vec<(u64, u16, u16)>,
        start: u64,
    ) {
        resizes.sort_by_key(|r| r.0);
        let mut resizes = resizes.into_iter().peekable();
        let skips = self.skip.scan(batch, self.size.0);
        let no_resize = resizes.len() == 0;
        let mut skips = skips.into_iter().filter(|_| no_resize).peekable();
        let mut done = 0usize;
        let mut published = 0usize;
        loop {
            while let Some(&(at, r, c)) = resizes.peek() {
                if at > start + done as u64 {
                    break;
                }
                self.resize(r, c);
                resizes.next();
            }
            if done == batch.len() {
                break;
            }
            if let Some(skip) = skips.next_if(|skip| skip.start == done) {
                done = skip.end;
                continue;
            }
            let limit = resizes
                .peek()
                .map_or(batch.len(), |&(at, _, _)| (at - start) as usize);
            let next_skip = skips.peek().map_or(batch.len(), |skip| skip.start);
            let end = (done + SLICE).min(limit).min(next_skip);
            self.parse(&batch[done..end], start + done as u64);
            done = end;
            if done - published >= SLICE {
                publish(shared, self, start + done as u64);
                published = done;
            }
        }
        if batch.len() < COALESCE {
            // Not a flood: look at the whole screen for the prompt glyph now.
            self.glyph.1 = None;
        }
        publish(shared, self, start + done as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `check` on a screen model of `rows` x `cols`, then ends the model and its thread.
    fn with_model(rows: u16, cols: u16, check: impl FnOnce(&ScreenModel)) {
        let (model, handle) = ScreenModel::spawn(rows, cols);
        check(&model);
        drop(model);
        handle.join().unwrap();
    }

    #[test]
    fn model_follows_output_and_modes() {
        with_model(5, 20, |model| {
            model.feed(b"hello\r\nworld");
            model.feed(b"\x1b[?1049h\x1b[?2004h\x1b[?1003h");
            let modes = model.left_modes().unwrap();
            assert!(modes.alternate_screen && modes.bracketed_paste && modes.mouse);
            model.feed(b"\x1b[?1049l");
            let text = model.contents().unwrap();
            assert!(text.contains("hello") && text.contains("world"), "{text}");
            model.feed(b"\x1b[2;3Habc");
            assert!(model.cursor_row().unwrap().contains("abc"));
        });
    }

    /// What vt100 alone makes of `steps` (output, or a resize) on a `rows` x `cols` screen.
    fn direct(rows: u16, cols: u16, steps: &[Result<Vec<u8>, (u16, u16)>]) -> Vec<u8> {
        let mut parser = new_parser(rows, cols);
        for step in steps {
            match step {
                Ok(bytes) => parser.process(bytes),
                Err((r, c)) => parser.set_size(non_zero(*r), non_zero(*c)),
            }
        }
        parser.screen().state_formatted().into_bytes()
    }

    #[test]
    fn a_backlog_with_resizes_is_parsed_exactly_in_order() {
        // Several MB handed at once (the model far behind), with resizes between the pieces:
        // the repaint is what vt100 makes of the same steps one by one.
        let mut steps = Vec::new();
        for i in 0..40u32 {
            let mut piece = Vec::new();
            for line in 0..2000u32 {
                piece.extend_from_slice(
                    format!(
                        "\x1b[3{}mline {i}-{line} {}\r\n",
                        line % 8,
                        "x".repeat((line % 90) as usize)
                    )
                    .as_bytes(),
                );
            }
            steps.push(Ok(piece));
            if i % 7 == 3 {
                steps.push(Err((20 + (i % 5) as u16, 60 + i as u16)));
            }
        }
        steps.push(Ok(b"\x1b[2J\x1b[5;7Hlast words\x1b[0m".to_vec()));
        with_model(24, 80, |model| {
            for step in &steps {
                match step {
                    Ok(bytes) => model.feed(bytes),
                    Err((r, c)) => model.resize(*r, *c),
                }
            }
            let fed: u64 = steps
                .iter()
                .filter_map(|s| s.as_ref().ok())
                .map(|b| b.len() as u64)
                .sum();
            assert_eq!(model.fed(), fed);
            let repaint = model.repaint_bytes().unwrap();
            assert_eq!(
                model.parsed(),
                fed,
                "a repaint reflects every byte handed before it"
            );
            assert!(
                repaint == direct(24, 80, &steps),
                "the repaint differs from vt100's own"
            );
            assert!(model.cursor_row().unwrap().contains("last words"));
        });
    }

    #[test]
    fn the_cursor_row_is_published_from_whole_frames_only() {
        with_model(6, 30, |model| {
            model.feed("\x1b[6;1H❯ ".as_bytes());
            assert!(model.shows_empty_prompt() && model.shows_prompt_glyph());
            // Half a synchronized frame: the screen model has it, the published row stands.
            model.feed(b"\x1b[?2026h\r\x1b[Kline one\r\nline two");
            assert!(model.contents().unwrap().contains("line two"));
            assert!(
                model.shows_empty_prompt(),
                "mid-frame, the last whole frame"
            );
            model.feed("\r\n❯ \x1b[?2026l".as_bytes());
            assert!(model.shows_empty_prompt());
            model.feed(b"typed");
            assert!(
                !model.shows_empty_prompt(),
                "outside frames every byte counts"
            );
            assert!(model.cursor_row().unwrap().contains("typed"));
        });
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

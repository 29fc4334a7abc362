//! ccx's editor over Claude's screen. It sits on the proxy's input thread as its input filter:
//! keys pass to Claude until `:` on an empty prompt or the ccx key opens the editor. Then
//! Claude's output is held (it still feeds the screen model), the editor takes the terminal as
//! a full view (rustyline: history per project, completion, hints), and on return Claude's
//! screen is repainted from the model exactly as Claude has drawn it meanwhile.

use crate::config::Config;
use crate::control::Controller;
use crate::keys::{self, KeyFilter, Step};
use crate::meta::commands::{self as meta_commands, REGISTRY};
use crate::meta::{parse_meta, Outcome};
use crate::proxy::{ChildInput, InputFilter, ProxyHandle};
use crate::render::{self, Palette};
use crate::screen::ScreenModel;
use crate::store_slot::StoreSlot;
use crate::view::ViewHandle;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{
    config::Configurer, Cmd, CompletionType, EditMode, Editor, EventHandler, KeyCode, KeyEvent,
    Modifiers,
};
use std::borrow::Cow;
use std::cell::Cell;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod ops;

/// How long a command waits for the turn log to finish opening.
const STORE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Mouse reporting off while the editor reads keys (the repaint turns Claude's back on).
const MOUSE_OFF: &[u8] = b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l";

/// How a session in ccx's editor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EditorEnd {
    /// The person went back to Claude.
    Back,
    /// The person asked to end Claude and ccx.
    Quit,
    /// Claude now runs another conversation.
    Switched,
}

/// What the shell needs from the session.
pub struct ShellDeps {
    /// The turn log (it may still be opening).
    pub store: StoreSlot,
    pub view: ViewHandle,
    /// ccx's private run directory: where the footer's view is written and where Claude's
    /// status payload leaves what it reports (the model's context window).
    pub run_dir: Option<PathBuf>,
    pub config: Config,
    pub screen: ScreenModel,
    pub handle: ProxyHandle,
    pub history: Option<PathBuf>,
    pub control: Controller,
}

pub struct MetaShell {
    keys: KeyFilter,
    deps: ShellDeps,
    editor: Option<Editor<ShellHelper, FileHistory>>,
    /// The claude the key filter's state is about (a new one starts with an empty prompt).
    claude_pid: u32,
    /// When input last went to Claude, and how much output the screen model had by then.
    last_forward: Option<(Instant, u64)>,
    /// When a meta-command last switched conversations (it may have sent Claude a prompt,
    /// which Claude's input box shows until Claude takes it).
    switched_at: Option<Instant>,
    /// The running claude has drawn the prompt glyph ccx looks for.
    prompt_seen: Cell<bool>,
    /// `:` no longer opens the editor (this claude's prompt cannot be found), and whether
    /// the person was told.
    colon_off: Cell<bool>,
    colon_off_said: Cell<bool>,
}

/// How long the screen may take to show the effect of a key before ccx asks it whether
/// Claude's prompt is empty (Claude redraws within a frame or two).
const SCREEN_SETTLE: Duration = Duration::from_millis(150);
/// How long after claude (re)starts a `:` waits for its prompt to appear, kept for ccx's
/// editor rather than typed into a Claude that is not ready.
const STARTUP_HOLD: Duration = Duration::from_secs(30);
/// How long after Claude's last terminal query its answer may still arrive (a local terminal
/// answers in microseconds; a terminal over a slow link, in a round trip).
const REPLY_WAIT: Duration = Duration::from_millis(300);
/// How long after a switch a `:` waits for Claude to take a prompt ccx sent and show an empty
/// input box again.
const SWITCH_SETTLE: Duration = Duration::from_secs(5);

impl MetaShell {
    pub fn new(deps: ShellDeps) -> MetaShell {
        MetaShell {
            keys: KeyFilter::new(deps.config.ccx_key),
            claude_pid: deps.handle.child_pid(),
            deps,
            editor: None,
            last_forward: None,
            switched_at: None,
            prompt_seen: Cell::new(false),
            colon_off: Cell::new(false),
            colon_off_said: Cell::new(false),
        }
    }

    fn editor(&mut self) -> Result<&mut Editor<ShellHelper, FileHistory>, String> {
        if self.editor.is_none() {
            let config = rustyline::Config::builder()
                .auto_add_history(false)
                .history_ignore_dups(true)
                .map_err(|e| e.to_string())?
                .completion_type(CompletionType::List)
                .edit_mode(EditMode::Emacs)
                .keyseq_timeout(Some(30))
                // No cursor-position query at each line: its answer races the person's keys
                // (an Esc typed within 100 ms was taken for the answer). ccx's own output
                // always leaves the cursor at column 0.
                .check_cursor_position(false)
                .build();
            let mut editor: Editor<ShellHelper, FileHistory> =
                Editor::with_config(config).map_err(|e| e.to_string())?;
            // Claude set bracketed paste as it wants it; rustyline must not switch it off.
            editor.enable_bracketed_paste(false);
            editor.bind_sequence(
                KeyEvent(KeyCode::Esc, Modifiers::NONE),
                EventHandler::Simple(Cmd::Interrupt),
            );
            if let Some(path) = &self.deps.history {
                let _ = editor.load_history(path);
            }
            self.editor = Some(editor);
        }
        Ok(self.editor.as_mut().expect("editor"))
    }

    /// Runs the editor until the person returns to Claude. After a move that restarted
    /// Claude, keys typed meanwhile that start with `:` open the editor again at once (they
    /// were meant for ccx, not for a Claude that was not there yet); other keys go to Claude.
    fn open(&mut self) {
        let mut queued: Option<Vec<u8>> = None;
        for _ in 0..100 {
            let (ended, early) = self.open_once(queued.take());
            match ended {
                EditorEnd::Quit => {
                    self.deps.handle.end_child_on_request();
                    return;
                }
                EditorEnd::Back => {
                    self.forward_typed(early);
                    return;
                }
                EditorEnd::Switched => {
                    self.switched_at = Some(Instant::now());
                    match early.split_first() {
                        Some((b':', rest)) => queued = Some(rest.to_vec()),
                        _ => {
                            self.forward_typed(early);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// One opening of the editor; returns how it ended and keys typed (for Claude or a next
    /// opening) while it was finishing a switch.
    fn open_once(&mut self, queued: Option<Vec<u8>>) -> (EditorEnd, Vec<u8>) {
        let gate = self.deps.handle.output_gate();
        gate.hold();
        let keyboard = self.deps.screen.keyboard_modes().unwrap_or_default();
        let mut out = std::io::stdout().lock();
        let mut setup = keyboard.off_sequence();
        setup.extend_from_slice(MOUSE_OFF);
        setup.extend_from_slice(b"\x1b[?25h\x1b[0m\x1b[2J\x1b[H");
        let _ = out.write_all(&setup);
        drop(out);

        let mut typed_early = queued.unwrap_or_default();
        typed_early.extend(self.take_pending_replies());
        let palette = Palette::for_stdout();
        self.print(&self.header(palette));
        let ended = self.read_commands(palette, typed_early);
        let after = if ended == EditorEnd::Switched {
            self.take_pending_replies()
        } else {
            Vec::new()
        };

        let mut out = std::io::stdout().lock();
        // Claude may have been restarted meanwhile: put back the modes it has set now.
        let keyboard = self.deps.screen.keyboard_modes().unwrap_or(keyboard);
        let _ = out.write_all(&keyboard.on_sequence());
        let screen = self.deps.screen.clone();
        gate.release(|| screen.repaint_bytes().unwrap_or_default(), &mut out);
        drop(out);
        // A resize while the editor had the terminal reached rustyline, not the PTY.
        if let Some((rows, cols)) = crate::terminal::size(0) {
            self.deps.handle.resize(rows, cols);
        }
        (ended, after)
    }

    /// Keys read while the editor was not reading: they go through the key filter to Claude.
    fn forward_typed(&mut self, keys: Vec<u8>) {
        if keys.is_empty() {
            return;
        }
        let handle = self.deps.handle.clone();
        let steps = {
            let mut filter =
                std::mem::replace(&mut self.keys, KeyFilter::new(self.deps.config.ccx_key));
            let steps = filter.feed(&keys, || self.screen_prompt_is_empty());
            self.keys = filter;
            steps
        };
        for step in steps {
            match step {
                Step::Forward(bytes) => handle.send_input(bytes),
                Step::OpenEditor => {
                    self.open();
                    return;
                }
            }
        }
    }

    /// Before the editor takes the keyboard, or after a switch: the terminal's answers to
    /// Claude's latest queries may still be on their way (Claude's output is held while the
    /// editor is open, so no new query goes out). Waits for them, a short bounded while after
    /// the last query, and passes them to Claude. Returns the keys typed meanwhile.
    fn take_pending_replies(&mut self) -> Vec<u8> {
        let until = self
            .deps
            .handle
            .last_terminal_query()
            .map(|asked| asked + REPLY_WAIT)
            .unwrap_or_else(Instant::now);
        let mut typed = Vec::new();
        let mut buf = [0u8; 4096];
        for _ in 0..1000 {
            let left = until.saturating_duration_since(Instant::now());
            if !crate::terminal::wait_readable(0, left).unwrap_or(false) {
                break;
            }
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            let (replies, keys) = self.keys.separate(&buf[..n as usize]);
            if !replies.is_empty() {
                self.deps.handle.send_input(replies);
            }
            typed.extend(keys);
        }
        for step in self.keys.on_pause() {
            if let Step::Forward(bytes) = step {
                if keys::classify(&bytes) == keys::Input::Reply {
                    self.deps.handle.send_input(bytes);
                } else {
                    typed.extend(bytes);
                }
            }
        }
        typed
    }

    /// The editor loop. `typed_early` holds keys typed before the editor was ready: its text
    /// starts the first line, and an Enter among them runs that line at once.
    fn read_commands(&mut self, palette: Palette, typed_early: Vec<u8>) -> EditorEnd {
        let history = self.deps.history.clone();
        let completions = self.completion_words();
        let early = String::from_utf8_lossy(&typed_early).into_owned();
        let (mut initial, mut entered) = match early.split_once('\r') {
            Some((line, _)) => (String::new(), Some(line.to_string())),
            None => (early.chars().filter(|c| !c.is_control()).collect(), None),
        };
        loop {
            let editor = match self.editor() {
                Ok(editor) => editor,
                Err(e) => {
                    self.print(&format!("ccx: the editor cannot start: {e}\n"));
                    return EditorEnd::Back;
                }
            };
            editor.set_helper(Some(ShellHelper::new(completions.clone())));
            let line = match entered.take() {
                Some(line) => {
                    let line: String = line.chars().filter(|c| !c.is_control()).collect();
                    print_raw(&format!(": {line}\n"));
                    line
                }
                None => {
                    let start = std::mem::take(&mut initial);
                    match editor.readline_with_initial(": ", (&start, "")) {
                        Ok(line) => line,
                        Err(ReadlineError::Interrupted | ReadlineError::Eof) => {
                            return EditorEnd::Back
                        }
                        Err(e) => {
                            self.print(&format!("ccx: {e}\n"));
                            return EditorEnd::Back;
                        }
                    }
                }
            };
            // rustyline ends the line with a bare newline in the raw terminal: what follows
            // starts at column 0.
            print_raw("\r");
            if line.trim().is_empty() {
                return EditorEnd::Back;
            }
            let editor = match self.editor() {
                Ok(editor) => editor,
                Err(_) => return EditorEnd::Back,
            };
            let _ = editor.add_history_entry(line.as_str());
            if let Some(path) = &history {
                let _ = editor.append_history(path);
            }
            match self.run_line(&line, palette) {
                Outcome::Quit => return EditorEnd::Quit,
                Outcome::Text(text) => self.page(&text),
                Outcome::Error(message) => {
                    self.print(&format!("{}\n", palette.warn(&format!("ccx: {message}"))))
                }
                Outcome::Switched(message) => {
                    // Claude is in another conversation now: back to it at once, and the
                    // footer says what happened.
                    crate::diag::log(&message);
                    self.notify(&message);
                    self.keys.set_empty();
                    return EditorEnd::Switched;
                }
            }
        }
    }

    /// Parses and runs one line against the live session.
    fn run_line(&mut self, line: &str, palette: Palette) -> Outcome {
        match parse_meta(line) {
            Ok(Some(command)) => command.run(&mut ops::LiveOps::new(self, line, palette)),
            Ok(None) => Outcome::Text(String::new()),
            Err(e) => Outcome::Error(e.to_string()),
        }
    }

    /// Asks the person one question in the editor; None when they back out.
    fn ask(&mut self, question: &str) -> Option<String> {
        self.print(&format!("{question}\n"));
        let editor = self.editor().ok()?;
        editor.set_helper(None);
        let answer = editor.readline("> ").ok();
        print_raw("\r");
        answer
    }

    /// The person writes text in `$EDITOR`, from `template` (`:brief -e`). None when the
    /// template comes back unchanged or empty.
    fn edit_text(&self, template: &str) -> anyhow::Result<Option<String>> {
        let editor = std::env::var("VISUAL")
            .or_else(|_| std::env::var("EDITOR"))
            .ok()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| "vi".to_string());
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("brief.md");
        std::fs::write(&path, template)?;
        let mut words = editor.split_whitespace();
        let program = words.next().unwrap_or("vi").to_string();
        let args: Vec<String> = words.map(str::to_string).collect();
        let status = crate::terminal::with_cooked(|| {
            crate::paths::with_inherited_umask(&mut std::process::Command::new(&program))
                .args(&args)
                .arg(&path)
                .status()
        });
        // A full-screen editor leaves the alternate screen, where Claude's screen lives.
        if self
            .deps
            .screen
            .left_modes()
            .is_some_and(|m| m.alternate_screen)
        {
            self.print("\x1b[?1049h");
        }
        let status =
            status.map_err(|e| anyhow::anyhow!("cannot run the editor '{program}': {e}"))?;
        if !status.success() {
            anyhow::bail!("the editor '{program}' exited with {status}; nothing changed");
        }
        let text = std::fs::read_to_string(&path)?;
        Ok((text.trim() != template.trim() && !text.trim().is_empty()).then_some(text))
    }

    fn header(&self, palette: Palette) -> String {
        let view = self.deps.view.get();
        let mut parts = vec![palette.strong("ccx")];
        if let Some(branch) = &view.branch {
            parts.push(branch.clone());
        }
        if let Some(head) = view.head {
            parts.push(format!("#{head}"));
        }
        if view.context_tokens > 0 {
            parts.push(format!("{} ctx", render::tokens(view.context_tokens)));
        }
        format!(
            "{}  {}\n",
            parts.join(" · "),
            palette.dim(":help lists commands · Esc, Ctrl-C or an empty line returns to Claude")
        )
    }

    /// Branch names, turn ids and command names for completion, read once per opening.
    fn completion_words(&self) -> Vec<String> {
        let mut words: Vec<String> = meta_commands::names().map(|n| format!(":{n}")).collect();
        words.extend(meta_commands::names().map(str::to_string));
        if let Ok(store) = self.deps.store.get(STORE_WAIT) {
            if let Ok(branches) = store.branches() {
                words.extend(branches.into_iter().map(|b| b.name));
            }
            if let Ok(turns) = store.all_turns() {
                words.extend(turns.iter().rev().take(200).map(|t| format!("#{}", t.id)));
            }
        }
        words.extend(["HEAD", "HEAD~1", "md", "json", "html"].map(String::from));
        words
    }

    /// Shows a command's one-line result in Claude's footer for a few seconds.
    fn notify(&self, text: &str) {
        self.deps.view.notify(text);
    }

    fn print(&self, text: &str) {
        print_raw(text);
    }

    /// Shows text a page at a time when it is longer than the view; `q` or Esc closes it.
    fn page(&self, text: &str) {
        let rows = crate::terminal::size(1)
            .map(|(r, _)| r as usize)
            .unwrap_or(24)
            .max(4);
        let lines: Vec<&str> = text.lines().collect();
        let page = rows - 2;
        if lines.len() <= page {
            self.print(&format!("{}\n", text.trim_end_matches('\n')));
            return;
        }
        for (n, chunk) in lines.chunks(page).enumerate() {
            if n > 0 {
                self.print("\x1b[2K\r");
            }
            self.print(&format!("{}\n", chunk.join("\n")));
            let shown = (n + 1) * page;
            if shown >= lines.len() {
                break;
            }
            self.print(&format!(
                "-- {shown}/{} lines: space for more, q to close --",
                lines.len()
            ));
            if !matches!(read_key(), Some(b' ' | b'\r' | b'j' | b'f')) {
                self.print("\x1b[2K\r");
                break;
            }
        }
    }
}

impl MetaShell {
    /// Whether Claude's prompt is empty, as its screen shows it once the screen has caught up
    /// with the last key sent. While claude is starting (no prompt drawn yet) this waits for
    /// the prompt, so a `:` typed early opens ccx's editor instead of reaching Claude.
    fn screen_prompt_is_empty(&self) -> bool {
        if self.colon_off.get() {
            return false;
        }
        let screen = &self.deps.screen;
        if let Some((at, fed)) = self.last_forward {
            while at.elapsed() < SCREEN_SETTLE && screen.fed() <= fed {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let empty_prompt = || screen.shows_empty_prompt();
        if empty_prompt() {
            return true;
        }
        let started = self.deps.handle.child_started();
        let pid = self.deps.handle.child_pid();
        for _ in 0..2000 {
            let drawn = screen.shows_prompt_glyph();
            if drawn {
                self.prompt_seen.set(true);
                break;
            }
            if self.deps.handle.child_pid() != pid {
                return false;
            }
            if started.elapsed() >= STARTUP_HOLD {
                if !self.prompt_seen.get() {
                    self.turn_colon_off();
                }
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Right after a switch Claude may still show the prompt ccx sent in its input box.
        let settle_until = self.switched_at.map(|at| at + SWITCH_SETTLE);
        for _ in 0..2000 {
            if empty_prompt() {
                return true;
            }
            if settle_until.is_none_or(|until| Instant::now() >= until) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// This claude never drew the prompt ccx looks for (a Claude Code version that draws
    /// it differently): `:` goes to Claude from now on, Ctrl-] still opens the editor, and
    /// ccx says so once.
    fn turn_colon_off(&self) {
        self.colon_off.set(true);
        if !self.colon_off_said.replace(true) {
            let key = self.deps.config.ccx_key.name();
            let message = format!(
                "`:` is off: ccx cannot find this Claude Code version's prompt ({} expected); {key} opens ccx's editor",
                keys::PROMPT_GLYPH
            );
            crate::diag::log(&message);
            self.notify(&message);
        }
    }

    fn run_steps(&mut self, steps: Vec<Step>, to_child: &ChildInput) {
        for step in steps {
            match step {
                Step::Forward(bytes) => {
                    self.last_forward = Some((Instant::now(), self.deps.screen.fed()));
                    to_child.send(bytes);
                }
                Step::OpenEditor => self.open(),
            }
        }
    }
}

impl InputFilter for MetaShell {
    fn on_input(&mut self, input: &[u8], to_child: &ChildInput) {
        let pid = self.deps.handle.child_pid();
        if pid != self.claude_pid {
            // A new claude (restarted by ccx or after a fallback): its prompt starts empty.
            self.claude_pid = pid;
            self.keys.set_empty();
            self.prompt_seen.set(false);
            self.colon_off.set(false);
        }
        let mut keys = std::mem::replace(&mut self.keys, KeyFilter::new(self.deps.config.ccx_key));
        let steps = keys.feed(input, || self.screen_prompt_is_empty());
        self.keys = keys;
        self.run_steps(steps, to_child);
    }

    fn pause_after(&self) -> Option<Duration> {
        self.keys.waiting().then_some(keys::SEQUENCE_WAIT)
    }

    fn on_pause(&mut self, to_child: &ChildInput) {
        let steps = self.keys.on_pause();
        self.run_steps(steps, to_child);
    }
}

/// Prints text in the raw terminal (newlines need a carriage return there).
fn print_raw(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.replace('\n', "\r\n").as_bytes());
    let _ = out.flush();
}

/// One key from the terminal (the input thread is the only reader while the editor is open).
fn read_key() -> Option<u8> {
    let mut byte = [0u8; 1];
    let mut stdin = std::io::stdin().lock();
    match stdin.read(&mut byte) {
        Ok(1) => Some(byte[0]),
        _ => None,
    }
}

/// Completion and hints for the editor.
struct ShellHelper {
    words: Vec<String>,
    files: FilenameCompleter,
}

impl ShellHelper {
    fn new(words: Vec<String>) -> ShellHelper {
        ShellHelper {
            words,
            files: FilenameCompleter::new(),
        }
    }
}

/// Whether a word being completed looks like a path (for `:export FILE`, `-o FILE`).
fn looks_like_path(word: &str) -> bool {
    word.contains('/') || word.starts_with('.') || word.starts_with('~')
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(char::is_whitespace)
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &line[start..pos];
        if start > 0 && looks_like_path(word) {
            return self.files.complete(line, pos, _ctx);
        }
        let first_word = start == 0;
        // After a command, its own options too.
        let command = line.split_whitespace().next().unwrap_or("");
        let flags: Vec<String> = if first_word {
            Vec::new()
        } else {
            meta_commands::flag_names(command)
                .map(String::from)
                .collect()
        };
        let candidates = self
            .words
            .iter()
            .chain(&flags)
            .filter(|w| w.starts_with(word))
            // The first word is a command; the others are anything but a command.
            .filter(|w| {
                first_word == meta_commands::names().any(|n| n == w.trim_start_matches(':'))
            })
            .map(|w| Pair {
                display: w.clone(),
                replacement: w.clone(),
            })
            .collect();
        Ok((start, candidates))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;

    /// After a command's name, the rest of its usage.
    fn hint(&self, line: &str, pos: usize, _ctx: &rustyline::Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        let name = line.trim_start().trim_start_matches(':');
        if name.contains(char::is_whitespace) {
            return None;
        }
        let exact = REGISTRY.iter().find(|c| c.name == name)?;
        let rest = exact
            .usage
            .trim_start_matches(':')
            .strip_prefix(exact.name)?;
        (!rest.is_empty()).then(|| rest.to_string())
    }
}

impl Highlighter for ShellHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

impl Validator for ShellHelper {}

impl rustyline::Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(helper: &ShellHelper, line: &str) -> Vec<String> {
        let history = FileHistory::new();
        let ctx = rustyline::Context::new(&history);
        let (_, pairs) = helper.complete(line, line.len(), &ctx).unwrap();
        pairs.into_iter().map(|p| p.replacement).collect()
    }

    #[test]
    fn completes_commands_branches_turns_and_paths() {
        let helper = ShellHelper::new(vec![
            ":log".into(),
            "log".into(),
            ":checkout".into(),
            "checkout".into(),
            "main".into(),
            "main-r3".into(),
            "#3".into(),
        ]);
        assert_eq!(complete(&helper, "lo"), ["log"]);
        assert_eq!(complete(&helper, ":ch"), [":checkout"]);
        assert_eq!(complete(&helper, "checkout ma"), ["main", "main-r3"]);
        assert_eq!(complete(&helper, "show #"), ["#3"]);
        // Commands are not offered as arguments.
        assert!(complete(&helper, "checkout lo").is_empty());
        // A command's own options, from its spec.
        assert_eq!(complete(&helper, ":checkout main --c"), ["--code"]);
        assert_eq!(complete(&helper, "export --f"), ["--format"]);
        assert!(complete(&helper, "log --c").is_empty());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes-export.md"), "").unwrap();
        let line = format!("export {}/notes-ex", dir.path().display());
        let found = complete(&helper, &line);
        assert!(
            found.iter().any(|f| f.ends_with("notes-export.md")),
            "{found:?}"
        );
    }

    #[test]
    fn hints_show_the_rest_of_a_commands_usage() {
        let helper = ShellHelper::new(Vec::new());
        let history = FileHistory::new();
        let ctx = rustyline::Context::new(&history);
        let hint = helper.hint("branch", 6, &ctx).expect("a hint");
        assert!(hint.contains("NAME"), "{hint}");
        assert_eq!(helper.hint("branch x", 8, &ctx), None);
    }
}

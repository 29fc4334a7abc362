//! The input key filter at the proxy's boundary: it watches the keys on their way to Claude,
//! tracks whether Claude's prompt is empty, and spots the two ways into ccx's editor — `:` typed
//! as the first character of an empty prompt, and the ccx key (default Ctrl-]) at any time.
//! Keys are understood both as legacy bytes and as CSI-u (kitty keyboard protocol) and xterm
//! modifyOtherKeys sequences. Pure: bytes in, decisions out.

/// A key that opens ccx's editor at any time, as its legacy byte and its CSI-u code point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CcxKey {
    /// The control byte (Ctrl-] is 0x1d).
    pub byte: u8,
    /// The key's code point with Ctrl in CSI-u (`]` is 93).
    pub codepoint: u32,
}

impl Default for CcxKey {
    fn default() -> Self {
        CcxKey {
            byte: 0x1d,
            codepoint: b']' as u32,
        }
    }
}

impl CcxKey {
    /// How the key is written for people: `Ctrl-]`.
    pub fn name(&self) -> String {
        let c = char::from_u32(self.codepoint).unwrap_or('?');
        format!("Ctrl-{}", c.to_ascii_uppercase())
    }

    /// Parses `ctrl-]`, `ctrl-g`, `C-\`… (a Ctrl chord of a key with a control byte).
    pub fn parse(spec: &str) -> Result<CcxKey, String> {
        let lower = spec.trim().to_ascii_lowercase();
        let key = lower
            .strip_prefix("ctrl-")
            .or_else(|| lower.strip_prefix("ctrl+"))
            .or_else(|| lower.strip_prefix("c-"))
            .ok_or_else(|| format!("ccx key '{spec}' must be a Ctrl chord such as ctrl-]"))?;
        let mut chars = key.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(format!("ccx key '{spec}' must name one key after ctrl-"));
        };
        let byte = match c {
            'a'..='z' => c as u8 - b'a' + 1,
            '[' | '\\' | ']' | '^' | '_' => c as u8 - 0x40,
            _ => return Err(format!("ccx key '{spec}': ctrl-{c} has no control code")),
        };
        if matches!(byte, 0x03 | 0x0d | 0x09 | 0x1b | 0x08) {
            return Err(format!(
                "ccx key '{spec}' is needed by Claude Code; choose another"
            ));
        }
        Ok(CcxKey {
            byte,
            codepoint: c as u32,
        })
    }
}

/// What the filter knows of Claude's prompt line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptState {
    /// Nothing typed since the last submit or clear.
    Empty,
    /// Printable text typed: `count` characters not yet erased.
    Typed { count: usize },
    /// Something happened that ccx cannot follow from the bytes alone (Esc, Ctrl-U, history,
    /// cursor keys, a paste, a dialog key): the screen decides — unless `typed` characters
    /// were typed since (and not erased), which the screen may not show yet.
    Unsure { typed: usize },
}

/// What to do with a chunk of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send these bytes to Claude.
    Forward(Vec<u8>),
    /// Open ccx's editor (the trigger itself is not forwarded).
    OpenEditor,
}

/// What the terminal sent, as far as Claude's prompt is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A key the person pressed (or a paste marker).
    Key,
    /// The terminal answering a query of Claude's (device attributes, version, colours, cursor
    /// position, mode reports, keyboard flags), or a focus or mouse report: never typing.
    Reply,
}

/// How long an incomplete sequence may wait for its rest before it is passed on as it is.
/// A lone Esc waits this long too: it may be the start of a reply split across reads.
pub const SEQUENCE_WAIT: std::time::Duration = std::time::Duration::from_millis(60);

/// Longest escape sequence kept across chunks (control sequences are short; string replies
/// such as OSC colour lists and DCS version strings may be long).
const MAX_SEQUENCE: usize = 64;
const MAX_STRING_SEQUENCE: usize = 64 * 1024;

/// The state machine. Feed it every chunk read from the terminal, in order.
#[derive(Debug)]
pub struct KeyFilter {
    key: CcxKey,
    state: PromptState,
    in_paste: bool,
    /// An incomplete escape sequence carried over from the previous chunk.
    carry: Vec<u8>,
    /// Inside an over-long string reply (OSC/DCS/APC) that was passed on in pieces: bytes go
    /// through untouched until its terminator.
    in_string: bool,
    /// The last byte passed on inside such a string was ESC (its `\\` may come next).
    string_ended_with_esc: bool,
    /// What the last pause flushed (a lone Esc, or an incomplete sequence): the rest of a
    /// reply split across slow reads may follow, and is then known for a reply.
    flushed_on_pause: Vec<u8>,
}

impl KeyFilter {
    pub fn new(key: CcxKey) -> KeyFilter {
        KeyFilter {
            key,
            state: PromptState::Empty,
            in_paste: false,
            carry: Vec::new(),
            in_string: false,
            string_ended_with_esc: false,
            flushed_on_pause: Vec::new(),
        }
    }

    pub fn state(&self) -> PromptState {
        self.state
    }

    /// After ccx itself sent Claude a prompt and Enter, or started a new claude, the prompt
    /// is empty again.
    pub fn set_empty(&mut self) {
        self.state = PromptState::Empty;
        self.in_paste = false;
    }

    /// Whether bytes are held back waiting for the rest of a sequence: the caller then calls
    /// [`KeyFilter::on_pause`] when no input came for [`SEQUENCE_WAIT`].
    pub fn waiting(&self) -> bool {
        !self.carry.is_empty()
    }

    /// No more input came: what was held back goes on — a lone Esc as the Esc key, anything
    /// else (a truncated reply) as it is, changing nothing.
    pub fn on_pause(&mut self) -> Vec<Step> {
        let held = std::mem::take(&mut self.carry);
        if held.is_empty() {
            return Vec::new();
        }
        if held == b"\x1b" {
            self.track(&held);
        } else if is_string_start(&held) {
            // A string reply whose terminator has not come: the rest is part of it.
            self.in_string = true;
            self.string_ended_with_esc = held.ends_with(b"\x1b");
        }
        self.flushed_on_pause = held.clone();
        vec![Step::Forward(held)]
    }

    /// Splits a chunk into steps. `prompt_looks_empty` is asked (only when a lone `:` would
    /// open the editor and the bytes alone cannot tell) whether Claude's screen shows an
    /// empty prompt; if not, `:` goes on.
    pub fn feed(&mut self, chunk: &[u8], prompt_looks_empty: impl FnOnce() -> bool) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut forward = Vec::new();
        let mut chunk = chunk;
        if self.in_string {
            let (rest, ended) = if self.string_ended_with_esc && chunk.first() == Some(&b'\\') {
                (&chunk[1..], true)
            } else {
                skip_string_body(chunk)
            };
            let body = &chunk[..chunk.len() - rest.len()];
            forward.extend_from_slice(body);
            self.in_string = !ended;
            self.string_ended_with_esc = !ended && body.last() == Some(&0x1b);
            chunk = rest;
        }
        let flushed = std::mem::take(&mut self.flushed_on_pause);
        if !flushed.is_empty() && self.carry.is_empty() && !self.in_string {
            // What a pause flushed may have been the start of a reply split across slow
            // reads: if it and what follows make a reply, the rest goes on as a reply.
            let mut joined = flushed.clone();
            joined.extend_from_slice(chunk);
            if let Some(len) = key_length(&joined).filter(|&l| l > flushed.len()) {
                if classify(&joined[..len]) == Input::Reply {
                    let tail = len - flushed.len();
                    forward.extend_from_slice(&chunk[..tail]);
                    chunk = &chunk[tail..];
                }
            }
        }
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(chunk);
        let tokens = self.tokenize(&input);
        let lone_colon = {
            let mut keys = tokens.iter().filter(|t| t.kind == Input::Key);
            matches!((keys.next(), keys.next()), (Some(t), None) if text_char(&input[t.start..t.end]) == Some(':'))
        };
        let mut asked = Some(prompt_looks_empty);
        for token in tokens {
            let key = &input[token.start..token.end];
            if token.kind == Input::Reply {
                forward.extend_from_slice(key);
                continue;
            }
            if self.in_paste {
                forward.extend_from_slice(key);
                if key == b"\x1b[201~" {
                    self.in_paste = false;
                }
                continue;
            }
            if self.is_ccx_key(key) {
                flush(&mut steps, &mut forward);
                steps.push(Step::OpenEditor);
                continue;
            }
            if lone_colon && text_char(key) == Some(':') && self.may_be_empty() {
                let looks_empty = asked.take().map(|f| f()).unwrap_or(false);
                if looks_empty {
                    flush(&mut steps, &mut forward);
                    steps.push(Step::OpenEditor);
                    continue;
                }
            }
            self.track(key);
            forward.extend_from_slice(key);
        }
        flush(&mut steps, &mut forward);
        steps
    }

    /// Cuts `input` into whole sequences; an incomplete one at the end is carried (bounded)
    /// or, when too long, passed on at once as a reply.
    fn tokenize(&mut self, input: &[u8]) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < input.len() {
            let Some(len) = key_length(&input[i..]) else {
                let rest = &input[i..];
                let limit = if is_string_start(rest) {
                    MAX_STRING_SEQUENCE
                } else {
                    MAX_SEQUENCE
                };
                if rest.len() <= limit {
                    self.carry = rest.to_vec();
                } else {
                    // Too long to be a key: a reply, passed on; a string one goes on after.
                    self.in_string = is_string_start(rest);
                    self.string_ended_with_esc = rest.ends_with(b"\x1b");
                    tokens.push(Token {
                        start: i,
                        end: input.len(),
                        kind: Input::Reply,
                    });
                }
                break;
            };
            let kind = if self.in_paste {
                Input::Key
            } else {
                classify(&input[i..i + len])
            };
            tokens.push(Token {
                start: i,
                end: i + len,
                kind,
            });
            i += len;
        }
        tokens
    }

    /// Splits input that came while ccx's editor was about to take the keyboard: terminal
    /// replies (for Claude, which asked) and the keys the person typed (for the editor). An
    /// incomplete sequence at the end is held as usual.
    pub fn separate(&mut self, chunk: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(chunk);
        let (mut replies, mut typed) = (Vec::new(), Vec::new());
        for token in self.tokenize(&input) {
            let bytes = &input[token.start..token.end];
            match token.kind {
                Input::Reply => replies.extend_from_slice(bytes),
                Input::Key => typed.extend_from_slice(bytes),
            }
        }
        (replies, typed)
    }

    /// Whether the prompt may be empty as far as the bytes tell (the screen then decides).
    fn may_be_empty(&self) -> bool {
        matches!(
            self.state,
            PromptState::Empty | PromptState::Unsure { typed: 0 }
        )
    }

    fn is_ccx_key(&self, key: &[u8]) -> bool {
        if key == [self.key.byte] {
            return true;
        }
        let cp = self.key.codepoint;
        // CSI-u: ESC [ cp ; 5 u (optionally with :event-type); modifyOtherKeys: ESC [ 27 ; 5 ; cp ~
        let csi_u = format!("\x1b[{cp};5u");
        let csi_u_press = format!("\x1b[{cp};5:1u");
        let other_keys = format!("\x1b[27;5;{cp}~");
        key == csi_u.as_bytes() || key == csi_u_press.as_bytes() || key == other_keys.as_bytes()
    }

    /// Updates what is known of the prompt after `key` goes to Claude.
    fn track(&mut self, key: &[u8]) {
        use PromptState::*;
        self.state = match key {
            b"\r" | b"\x1b[13u" | b"\x1b[13;1u" => Empty,
            // Ctrl-C clears a non-empty prompt in Claude Code.
            b"\x03" | b"\x1b[99;5u" | b"\x1b[27;5;99~" => Empty,
            b"\x7f" | b"\x08" | b"\x1b[127u" => match self.state {
                Typed { count } if count <= 1 => Empty,
                Typed { count } => Typed { count: count - 1 },
                Unsure { typed } => Unsure {
                    typed: typed.saturating_sub(1),
                },
                Empty => Empty,
            },
            b"\x1b[200~" => {
                self.in_paste = true;
                Unsure { typed: 1 }
            }
            _ if is_key_release(key) => self.state,
            _ if text_char(key).is_some() => match self.state {
                Empty => Typed { count: 1 },
                Typed { count } => Typed { count: count + 1 },
                Unsure { typed } => Unsure { typed: typed + 1 },
            },
            _ => Unsure { typed: 0 },
        };
    }
}

/// One whole sequence of the input, by position.
#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    kind: Input,
}

fn flush(steps: &mut Vec<Step>, forward: &mut Vec<u8>) {
    if !forward.is_empty() {
        steps.push(Step::Forward(std::mem::take(forward)));
    }
}

/// Whether one whole sequence is a key or a terminal's reply.
pub fn classify(seq: &[u8]) -> Input {
    match seq {
        // DCS (XTVERSION, DA3, DECRQSS, XTGETTCAP), OSC (colours, clipboard), APC (graphics),
        // SOS/PM: keys never produce these.
        [0x1b, b'P' | b']' | b'_' | b'X' | b'^', ..] if seq.len() > 2 => Input::Reply,
        [0x1b, b'[', body @ ..] if !body.is_empty() => classify_csi(body),
        _ => Input::Key,
    }
}

/// A CSI sequence (after `ESC [`): a reply when its shape is one only terminals send.
fn classify_csi(body: &[u8]) -> Input {
    let (Some(&last), Some(&first)) = (body.last(), body.first()) else {
        return Input::Key;
    };
    let params = &body[..body.len() - 1];
    let reply = match (first, last) {
        // Focus in/out.
        (b'I' | b'O', _) if body.len() == 1 => true,
        // Mouse reports (SGR and legacy).
        (b'<', b'M' | b'm') | (b'M', _) => true,
        // Device attributes: DA1 `?…c`, DA2 `>…c`, DA3 `=…c`.
        (b'?' | b'>' | b'=', b'c') => true,
        // Mode reports (DECRPM): `?…$y` and `…$y`.
        (_, b'y') if params.ends_with(b"$") => true,
        // Kitty keyboard flags: `?flags u`.
        (b'?', b'u') => true,
        // Status reports: `?…n` (colour scheme, DECXCPR…) and `0n`/`3n`.
        (b'?', b'n') => true,
        (_, b'n') if params == b"0" || params == b"3" => true,
        // Cursor position report `row;col R` (and DECXCPR `?row;col;page R`). A modified F3
        // (`1;2R`) has the same shape; it never edits Claude's prompt, so nothing is lost.
        (_, b'R') => params
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b';' || *b == b'?'),
        // Window reports (`8;rows;cols t`, `4;h;w t`, `6;h;w t`).
        (b'0'..=b'9', b't') => true,
        _ => false,
    };
    if reply {
        Input::Reply
    } else {
        Input::Key
    }
}

fn is_string_start(bytes: &[u8]) -> bool {
    matches!(bytes, [0x1b, b'P' | b']' | b'_' | b'X' | b'^', ..])
}

/// Skips the rest of a string sequence's body: returns what follows its terminator and
/// whether the terminator was found.
fn skip_string_body(bytes: &[u8]) -> (&[u8], bool) {
    for (i, &b) in bytes.iter().enumerate() {
        if b == 0x07 {
            return (&bytes[i + 1..], true);
        }
        if b == b'\\' && i > 0 && bytes[i - 1] == 0x1b {
            return (&bytes[i + 1..], true);
        }
    }
    (&[], false)
}

/// A key-release event (kitty protocol event type 3): not a key press.
fn is_key_release(key: &[u8]) -> bool {
    key.starts_with(b"\x1b[") && key.ends_with(b"u") && key.windows(2).any(|w| w == b":3")
}

/// The printable character a key types, if it types one: plain UTF-8 text, or a CSI-u
/// (`ESC [ 58 u`, `ESC [ 59:58 ; 2 u`) or modifyOtherKeys (`ESC [ 27 ; 2 ; 58 ~`) encoding of
/// a key with no modifier but Shift.
pub fn text_char(key: &[u8]) -> Option<char> {
    match key {
        [b] if (0x20..0x7f).contains(b) => Some(*b as char),
        [first, ..] if *first >= 0xc0 => std::str::from_utf8(key).ok()?.chars().next(),
        [0x1b, b'[', body @ ..] => {
            let text = std::str::from_utf8(body).ok()?;
            let (codepoint, modifiers) = if let Some(params) = text.strip_suffix('u') {
                let mut fields = params.split(';');
                let keys = fields.next()?;
                let modifiers = fields.next().unwrap_or("1");
                let mut codes = keys.split(':');
                let base: u32 = codes.next()?.parse().ok()?;
                let shifted: Option<u32> = codes.next().and_then(|s| s.parse().ok());
                let (mods, event) = modifiers.split_once(':').unwrap_or((modifiers, "1"));
                if event != "1" {
                    return None;
                }
                let mods: u32 = mods.parse().ok()?;
                let code = if mods == 2 {
                    shifted.unwrap_or(base)
                } else {
                    base
                };
                (code, mods)
            } else if let Some(params) = text.strip_suffix('~') {
                let mut fields = params.split(';');
                if fields.next()? != "27" {
                    return None;
                }
                let mods: u32 = fields.next()?.parse().ok()?;
                let code: u32 = fields.next()?.parse().ok()?;
                (code, mods)
            } else {
                return None;
            };
            if modifiers > 2 {
                return None;
            }
            let c = char::from_u32(codepoint)?;
            // Kitty's functional keys live in the private use area.
            (!c.is_control() && !(0xe000..=0xf8ff).contains(&codepoint)).then_some(c)
        }
        _ => None,
    }
}

/// The length of the key at the start of `bytes`, or None when it is cut off.
fn key_length(bytes: &[u8]) -> Option<usize> {
    let first = *bytes.first()?;
    if first == 0x1b {
        return escape_length(bytes);
    }
    if first < 0x80 {
        return Some(1);
    }
    let len = match first {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1, // a stray continuation byte: pass it on alone
    };
    if bytes.len() < len {
        return None;
    }
    Some(if bytes[1..len].iter().all(|b| b & 0xc0 == 0x80) {
        len
    } else {
        1
    })
}

fn escape_length(bytes: &[u8]) -> Option<usize> {
    match bytes.get(1) {
        // A lone ESC at the end of a read: the Esc key, or a sequence split across reads.
        // Wait for more (the caller flushes it on a pause).
        None => None,
        Some(b'[') => {
            // Legacy X10 mouse: ESC [ M + three bytes.
            if bytes.get(2) == Some(&b'M') {
                return if bytes.len() >= 6 { Some(6) } else { None };
            }
            let end = bytes[2..].iter().position(|b| (0x40..=0x7e).contains(b))?;
            Some(2 + end + 1)
        }
        Some(b'O') => {
            if bytes.len() >= 3 {
                Some(3)
            } else {
                None
            }
        }
        Some(b']') | Some(b'P') | Some(b'_') | Some(b'X') | Some(b'^') => {
            // OSC / DCS / APC / SOS / PM answers: up to BEL or ESC \.
            let body = &bytes[2..];
            let (rest, ended) = skip_string_body(body);
            ended.then_some(bytes.len() - rest.len())
        }
        // Esc Esc: Claude's double-Esc, two keys.
        Some(0x1b) => Some(1),
        // Alt + key: ESC followed by one character.
        Some(_) => Some(1 + key_length(&bytes[1..])?),
    }
}

/// The glyph Claude Code draws at the start of its input line.
pub const PROMPT_GLYPH: char = '❯';

/// True when Claude's screen shows an empty prompt: the cursor's row is `❯` and nothing else.
pub fn prompt_row_is_empty(row_text: &str) -> bool {
    let trimmed: String = row_text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    trimmed == PROMPT_GLYPH.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use PromptState::*;

    fn filter() -> KeyFilter {
        KeyFilter::new(CcxKey::default())
    }

    /// Feeds chunks with a pause after each (so a lone Esc counts as the key); returns the
    /// forwarded bytes and how many times the editor opened.
    fn run(f: &mut KeyFilter, chunks: &[&[u8]], screen_empty: bool) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let mut opened = 0;
        for chunk in chunks {
            let mut steps = f.feed(chunk, || screen_empty);
            if f.waiting() {
                steps.extend(f.on_pause());
            }
            collect(steps, &mut out, &mut opened);
        }
        (out, opened)
    }

    /// Feeds chunks back to back, as one burst split across reads, then pauses.
    fn burst(f: &mut KeyFilter, chunks: &[&[u8]], screen_empty: bool) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let mut opened = 0;
        for chunk in chunks {
            collect(f.feed(chunk, || screen_empty), &mut out, &mut opened);
        }
        collect(f.on_pause(), &mut out, &mut opened);
        (out, opened)
    }

    fn collect(steps: Vec<Step>, out: &mut Vec<u8>, opened: &mut usize) {
        for step in steps {
            match step {
                Step::Forward(b) => out.extend(b),
                Step::OpenEditor => *opened += 1,
            }
        }
    }

    /// What real terminals answer to Claude Code's start-up queries (DA1 `ESC[c`, XTVERSION
    /// `ESC[>0q`, kitty flags `ESC[?u`, DECRQM `ESC[?2026$p`, OSC 7501, colour queries) and
    /// send on their own (focus, colour-scheme changes, mouse).
    const REPLIES: &[&[u8]] = &[
        b"\x1bP>|tmux 3.3a\x1b\\",
        b"\x1b[?1;2c",
        b"\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c",
        b"\x1bP>|XTerm(390)\x1b\\",
        b"\x1b[?62;c",
        b"\x1bP>|kitty(0.32.2)\x1b\\",
        b"\x1b[?0u",
        b"\x1b[?5u",
        b"\x1b[?2026;2$y",
        b"\x1b[?2026;0$y",
        b"\x1b[?65;4;6;18;22c",
        b"\x1bP>|WezTerm 20240203-110809-5046fc22\x1b\\",
        b"\x1b[>0;10;1c",
        b"\x1b[>41;390;0c",
        b"\x1bP!|00000000\x1b\\",
        b"\x1b]10;rgb:ffff/ffff/ffff\x1b\\",
        b"\x1b]11;rgb:0000/0000/0000\x07",
        b"\x1b]4;1;rgb:cdcd/0000/0000\x1b\\",
        b"\x1b[12;40R",
        b"\x1b[?12;40;1R",
        b"\x1b[?997;1n",
        b"\x1b[0n",
        b"\x1b[I",
        b"\x1b[O",
        b"\x1b[<35;10;5M",
        b"\x1b[8;40;120t",
        b"\x1bP1$r0m\x1b\\",
        b"\x1bP1+r544e=787465726d\x1b\\",
        b"\x1b_Gi=1;OK\x1b\\",
    ];

    #[test]
    fn colon_on_an_empty_prompt_opens_and_is_not_forwarded() {
        let mut f = filter();
        assert_eq!(run(&mut f, &[b":"], true), (vec![], 1));
    }

    #[test]
    fn colon_mid_line_reaches_claude() {
        let mut f = filter();
        assert_eq!(run(&mut f, &[b"a", b":", b"b"], true), (b"a:b".to_vec(), 0));
        assert_eq!(f.state(), Typed { count: 3 });
    }

    #[test]
    fn typed_text_wins_over_a_screen_that_has_not_caught_up() {
        let mut f = filter();
        // The screen still shows an empty prompt, but the bytes say "a" was typed.
        assert_eq!(run(&mut f, &[b"a", b":"], true), (b"a:".to_vec(), 0));
    }

    #[test]
    fn colon_after_submit_or_erasing_opens_again() {
        let mut f = filter();
        assert_eq!(run(&mut f, &[b"hi", b"\r", b":"], true).1, 1);
        let mut f = filter();
        assert_eq!(run(&mut f, &[b"ab", b"\x7f", b"\x7f", b":"], true).1, 1);
        let mut f = filter();
        assert_eq!(
            run(&mut f, &[b"ab", b"\x7f", b":"], true),
            (b"ab\x7f:".to_vec(), 0)
        );
        let mut f = filter();
        assert_eq!(run(&mut f, &[b"abc", b"\x03", b":"], true).1, 1);
    }

    #[test]
    fn every_terminal_reply_reaches_claude_and_is_not_typing() {
        for reply in REPLIES {
            let mut f = filter();
            let (out, opened) = run(&mut f, &[reply, b":"], true);
            assert_eq!(out, reply.to_vec(), "{:?}", String::from_utf8_lossy(reply));
            assert_eq!(opened, 1, "{:?}", String::from_utf8_lossy(reply));
            assert_eq!(f.state(), Empty, "{:?}", String::from_utf8_lossy(reply));
            assert_eq!(classify(reply), Input::Reply);
        }
    }

    #[test]
    fn replies_in_the_same_read_as_the_colon_still_leave_it_lone() {
        let mut f = filter();
        let (out, opened) = run(&mut f, &[b"\x1bP>|tmux 3.3a\x1b\\\x1b[?1;2c:"], true);
        assert_eq!(
            (out, opened),
            (b"\x1bP>|tmux 3.3a\x1b\\\x1b[?1;2c".to_vec(), 1)
        );
        let mut f = filter();
        let (out, opened) = run(&mut f, &[b":\x1b[I"], true);
        assert_eq!((out, opened), (b"\x1b[I".to_vec(), 1));
    }

    /// Every reply of [`REPLIES`] cut in two at every byte: the reply and its two pieces.
    fn every_cut() -> impl Iterator<Item = (&'static [u8], &'static [u8], &'static [u8])> {
        REPLIES.iter().flat_map(|reply| {
            (1..reply.len()).map(|cut| {
                let (a, b) = reply.split_at(cut);
                (*reply, a, b)
            })
        })
    }

    #[test]
    fn replies_split_at_any_byte_are_kept_whole() {
        for (reply, a, b) in every_cut() {
            let mut f = filter();
            let (out, opened) = burst(&mut f, &[a, b], true);
            assert_eq!(out, reply.to_vec(), "{a:?} then {b:?}");
            assert_eq!((opened, f.state()), (0, Empty), "{a:?} then {b:?}");
            assert_eq!(run(&mut f, &[b":"], true).1, 1, "{a:?} then {b:?}");
        }
    }

    #[test]
    fn replies_split_by_a_pause_are_still_replies() {
        for (reply, a, b) in every_cut() {
            let mut f = filter();
            // A pause after the first piece: it is flushed as it is.
            let (out, opened) = run(&mut f, &[a, b], false);
            assert_eq!(out, reply.to_vec(), "{a:?} then {b:?}");
            assert_eq!(opened, 0);
            assert_ne!(
                f.state(),
                Typed { count: b.len() },
                "the tail {b:?} of {reply:?} counted as typing"
            );
            assert_eq!(run(&mut f, &[b":"], true).1, 1, "{a:?} then {b:?}");
        }
    }

    #[test]
    fn a_lone_esc_waits_for_a_pause_then_is_the_esc_key() {
        let mut f = filter();
        assert!(f.feed(b"\x1b", || true).is_empty());
        assert!(f.waiting());
        assert_eq!(f.on_pause(), vec![Step::Forward(b"\x1b".to_vec())]);
        assert_eq!(f.state(), Unsure { typed: 0 });
        // Unsure: the screen decides.
        assert_eq!(run(&mut f, &[b":"], true), (vec![], 1));
        let mut f = filter();
        assert_eq!(run(&mut f, &[b"abc", b"\x1b", b":"], false).1, 0);
        let mut f = filter();
        assert_eq!(run(&mut f, &[b"abc", b"\x1b", b":"], true).1, 1);
    }

    #[test]
    fn esc_esc_is_two_keys() {
        let mut f = filter();
        assert_eq!(run(&mut f, &[b"\x1b\x1b"], true), (b"\x1b\x1b".to_vec(), 0));
        assert_eq!(f.state(), Unsure { typed: 0 });
    }

    #[test]
    fn line_edits_leave_it_to_the_screen() {
        for edit in [
            &b"\x15"[..],      // Ctrl-U
            b"\x17",           // Ctrl-W
            b"\x1b[A",         // Up: history
            b"\x1b[B",         // Down
            b"\x1b[117;5u",    // Ctrl-U, CSI-u
            b"\x1b[27;5;117~", // Ctrl-U, modifyOtherKeys
            b"\x1b[27u",       // Esc, CSI-u
            b"\t",             // completion
        ] {
            let mut f = filter();
            run(&mut f, &[b"abc", edit], true);
            assert_eq!(f.state(), Unsure { typed: 0 }, "{edit:?}");
            assert_eq!(run(&mut f, &[b":"], true).1, 1, "{edit:?}");
            let mut f = filter();
            run(&mut f, &[b"abc", edit], true);
            assert_eq!(run(&mut f, &[b":"], false), (b":".to_vec(), 0), "{edit:?}");
        }
    }

    #[test]
    fn colon_inside_a_paste_reaches_claude() {
        let mut f = filter();
        let (out, opened) = run(&mut f, &[b"\x1b[200~", b":", b"\x1b[201~"], true);
        assert_eq!(opened, 0);
        assert_eq!(out, b"\x1b[200~:\x1b[201~");
        // After a paste the screen decides.
        assert_eq!(run(&mut f, &[b":"], false).1, 0);
    }

    #[test]
    fn colon_in_a_chunk_with_other_text_is_typing_not_a_command() {
        let mut f = filter();
        assert_eq!(run(&mut f, &[b":wq"], true), (b":wq".to_vec(), 0));
    }

    #[test]
    fn colon_goes_on_when_the_screen_shows_no_empty_prompt() {
        // E.g. one of Claude's dialogs is open.
        let mut f = filter();
        assert_eq!(run(&mut f, &[b":"], false), (b":".to_vec(), 0));
    }

    #[test]
    fn colon_as_csi_u_or_modify_other_keys_opens_too() {
        for colon in [
            &b"\x1b[58u"[..],
            b"\x1b[59:58;2u",
            b"\x1b[27;2;58~",
            b"\x1b[58;1:1u",
        ] {
            let mut f = filter();
            assert_eq!(run(&mut f, &[colon], true), (vec![], 1), "{colon:?}");
        }
        assert_eq!(text_char(b"\x1b[97;5u"), None);
        assert_eq!(text_char(b"\x1b[57399u"), None);
        assert_eq!(text_char(b"\x1b[58;1:3u"), None);
        assert_eq!(text_char("é".as_bytes()), Some('é'));
    }

    #[test]
    fn focus_and_mouse_reports_change_nothing() {
        let mut f = filter();
        assert_eq!(
            run(&mut f, &[b"\x1b[I", b"\x1b[<35;10;5M", b":"], true).1,
            1
        );
        let mut f = filter();
        run(&mut f, &[b"ab", b"\x1b[O", b"\x1b[<0;1;1m"], true);
        assert_eq!(f.state(), Typed { count: 2 });
    }

    #[test]
    fn ccx_key_opens_at_any_time_legacy_and_csi_u() {
        let mut f = filter();
        assert_eq!(
            run(&mut f, &[b"typing\x1dmore"], false),
            (b"typingmore".to_vec(), 1)
        );
        assert_eq!(run(&mut f, &[b"\x1b[93;5u"], false), (vec![], 1));
        assert_eq!(run(&mut f, &[b"\x1b[27;5;93~"], false), (vec![], 1));
        assert_eq!(run(&mut f, &[b"\x1b[93;5:1u"], false), (vec![], 1));
        // Inside a paste it is data.
        let (out, opened) = run(&mut f, &[b"\x1b[200~\x1d\x1b[201~"], false);
        assert_eq!((out, opened), (b"\x1b[200~\x1d\x1b[201~".to_vec(), 0));
    }

    #[test]
    fn sequences_split_across_reads_are_kept_whole() {
        let mut f = filter();
        let (out, opened) = burst(&mut f, &[b"\x1b[9", b"3;5u"], false);
        assert_eq!((out, opened), (vec![], 1));
        let (out, _) = burst(&mut f, &[b"\xe2\x9d", b"\xaf"], false);
        assert_eq!(out, "❯".as_bytes());
    }

    #[test]
    fn csi_u_enter_and_ctrl_c_are_understood() {
        let mut f = filter();
        run(&mut f, &[b"x", b"\x1b[13u"], true);
        assert_eq!(f.state(), Empty);
        run(&mut f, &[b"x", b"\x1b[99;5u"], true);
        assert_eq!(f.state(), Empty);
    }

    #[test]
    fn a_megabyte_of_replies_changes_nothing_and_goes_through_once() {
        let mut input = Vec::new();
        let mut n = 0;
        while input.len() < 1 << 20 {
            input.extend_from_slice(REPLIES[n % REPLIES.len()]);
            n += 1;
        }
        // One over-long OSC reply and a truncated one at the end.
        input.extend_from_slice(b"\x1b]4;");
        input.extend(std::iter::repeat_n(b'x', 200_000));
        input.extend_from_slice(b"\x07");
        input.extend_from_slice(b"\x1b[?1;2");
        let mut f = filter();
        let chunks: Vec<&[u8]> = input.chunks(4096).collect();
        let (out, opened) = burst(&mut f, &chunks, true);
        assert_eq!(opened, 0);
        assert_eq!(out.len(), input.len());
        assert!(out == input, "forwarded bytes differ from the input");
        assert_eq!(f.state(), Empty);
        assert_eq!(run(&mut f, &[b":"], true).1, 1);
    }

    /// A small deterministic random sequence (the same cases every run).
    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut rng = seed;
        move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        }
    }

    /// Claude's input line as a person's keys change it (a stand-in for the screen).
    #[derive(Default)]
    struct FakeLine {
        text: String,
        history: Vec<String>,
        in_paste: bool,
    }

    impl FakeLine {
        fn key(&mut self, key: &[u8]) {
            if self.in_paste {
                if key == b"\x1b[201~" {
                    self.in_paste = false;
                } else {
                    self.text.push_str(&String::from_utf8_lossy(key));
                }
                return;
            }
            match key {
                b"\r" | b"\x03" => {
                    if key == b"\r" && !self.text.is_empty() {
                        self.history.push(std::mem::take(&mut self.text));
                    }
                    self.text.clear();
                }
                b"\x7f" => {
                    self.text.pop();
                }
                b"\x15" => self.text.clear(),
                b"\x1b[A" => {
                    if let Some(h) = self.history.last() {
                        self.text = h.clone();
                    }
                }
                b"\x1b[200~" => self.in_paste = true,
                _ if classify(key) == Input::Reply => {}
                _ => {
                    if let Some(c) = text_char(key) {
                        self.text.push(c);
                    }
                }
            }
        }
    }

    #[test]
    fn property_never_opens_while_claude_holds_text_whatever_the_interleaving() {
        let keys: &[&[u8]] = &[
            b"a",
            b"b",
            b"\xc3\xa9",
            b"\x7f",
            b"\x7f",
            b"\r",
            b"\x03",
            b"\x15",
            b"\x1b[A",
            b"\x1b",
            b"\x1b[C",
            b"\x1b[200~x:y\x1b[201~",
            b":",
        ];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for case in 0..400 {
            let mut f = filter();
            let mut line = FakeLine::default();
            for _ in 0..60 {
                // A burst: keys and replies mixed, maybe split at any byte, maybe a pause.
                let mut burst_bytes = Vec::new();
                let mut colon_alone = false;
                if next().is_multiple_of(4) {
                    colon_alone = true;
                    if next().is_multiple_of(2) {
                        burst_bytes.extend_from_slice(REPLIES[next() as usize % REPLIES.len()]);
                    }
                    burst_bytes.push(b':');
                } else {
                    for _ in 0..(next() % 3 + 1) {
                        if next().is_multiple_of(2) {
                            burst_bytes.extend_from_slice(REPLIES[next() as usize % REPLIES.len()]);
                        } else {
                            let key = keys[next() as usize % keys.len()];
                            if key == b"\x1b" {
                                continue; // a lone Esc is only a key after a pause
                            }
                            burst_bytes.extend_from_slice(key);
                        }
                    }
                }
                let cut = (next() as usize % (burst_bytes.len() + 1)).max(1);
                let (a, b) = burst_bytes.split_at(cut.min(burst_bytes.len()));
                // The screen is up to date with every earlier read (the session waits for
                // it to catch up with the last key before asking).
                for piece in [a, b, &[][..]] {
                    let steps = if piece.is_empty() {
                        if next().is_multiple_of(3) || f.waiting() {
                            f.on_pause()
                        } else {
                            Vec::new()
                        }
                    } else {
                        f.feed(piece, || line.text.is_empty() && !line.in_paste)
                    };
                    apply(case, steps, &mut line);
                }
                if colon_alone && !f.waiting() && line.text.is_empty() && !line.in_paste {
                    // A lone `:` on an empty line must not have reached Claude.
                    assert!(!line.text.contains(':'), "case {case}");
                }
                // Pauses now and then: a lone Esc may be pressed.
                if next().is_multiple_of(5) {
                    let mut steps = f.feed(b"\x1b", || line.text.is_empty());
                    steps.extend(f.on_pause());
                    apply(case, steps, &mut line);
                }
            }
        }
    }

    fn apply(case: usize, steps: Vec<Step>, line: &mut FakeLine) {
        for step in steps {
            match step {
                Step::OpenEditor => {
                    assert!(
                        line.text.is_empty() && !line.in_paste,
                        "case {case}: the editor opened while Claude holds {:?}",
                        line.text
                    );
                }
                Step::Forward(bytes) => {
                    let mut i = 0;
                    while i < bytes.len() {
                        let len = key_length(&bytes[i..]).unwrap_or(bytes.len() - i);
                        line.key(&bytes[i..i + len]);
                        i += len;
                    }
                }
            }
        }
    }

    #[test]
    fn property_typing_wins_over_a_screen_one_read_behind() {
        // Keys the bytes alone can follow, with a screen that shows the line as it was before
        // the latest read: the filter must not open on text the screen has not drawn yet.
        let keys: &[&[u8]] = &[b"a", b"\xc3\xa9", b"\x7f", b"\r", b"\x03", b":"];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for case in 0..400 {
            let mut f = filter();
            let mut line = FakeLine::default();
            let mut shown = String::new();
            for _ in 0..60 {
                let mut read = Vec::new();
                if next().is_multiple_of(2) {
                    read.extend_from_slice(REPLIES[next() as usize % REPLIES.len()]);
                }
                read.extend_from_slice(keys[next() as usize % keys.len()]);
                let before = line.text.clone();
                let steps = f.feed(&read, || shown.is_empty());
                // `apply` checks the editor opens only on a line that is really empty.
                apply(case, steps, &mut line);
                shown = before;
            }
        }
    }

    #[test]
    fn replies_are_told_from_keys_typed_for_the_editor() {
        let mut f = filter();
        let (replies, typed) = f.separate(b"\x1b[?1;2clo");
        assert_eq!((replies, typed), (b"\x1b[?1;2c".to_vec(), b"lo".to_vec()));
        let (replies, typed) = f.separate(b"g\x1bP>|tmux");
        assert_eq!((replies, typed), (vec![], b"g".to_vec()));
        let (replies, typed) = f.separate(b" 3.3a\x1b\\");
        assert_eq!(
            (replies, typed),
            (b"\x1bP>|tmux 3.3a\x1b\\".to_vec(), vec![])
        );
    }

    #[test]
    fn the_ccx_key_has_a_name_for_people() {
        assert_eq!(CcxKey::default().name(), "Ctrl-]");
        assert_eq!(CcxKey::parse("ctrl-g").unwrap().name(), "Ctrl-G");
    }

    #[test]
    fn configured_keys_parse() {
        assert_eq!(CcxKey::parse("ctrl-]").unwrap(), CcxKey::default());
        assert_eq!(
            CcxKey::parse("C-g").unwrap(),
            CcxKey {
                byte: 7,
                codepoint: 'g' as u32
            }
        );
        assert!(CcxKey::parse("ctrl-c").is_err());
        assert!(CcxKey::parse("x").is_err());
        assert!(CcxKey::parse("ctrl-1").is_err());
    }

    #[test]
    fn prompt_row_detection() {
        assert!(prompt_row_is_empty("❯\u{a0}  "));
        assert!(!prompt_row_is_empty("❯ abc"));
        assert!(!prompt_row_is_empty("❯ 1. Yes"));
        assert!(!prompt_row_is_empty("  ⏵⏵ auto mode"));
    }
}

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
    /// Something happened that ccx cannot follow (history, cursor keys, a paste, a dialog key).
    Unsure,
}

/// What to do with a chunk of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send these bytes to Claude.
    Forward(Vec<u8>),
    /// Open ccx's editor (the trigger itself is not forwarded).
    OpenEditor,
}

/// The state machine. Feed it every chunk read from the terminal, in order.
#[derive(Debug)]
pub struct KeyFilter {
    key: CcxKey,
    state: PromptState,
    in_paste: bool,
    /// An incomplete escape sequence carried over from the previous chunk.
    carry: Vec<u8>,
}

/// Longest escape sequence kept across chunks before it is passed on as it is.
const MAX_SEQUENCE: usize = 64;

impl KeyFilter {
    pub fn new(key: CcxKey) -> KeyFilter {
        KeyFilter {
            key,
            state: PromptState::Empty,
            in_paste: false,
            carry: Vec::new(),
        }
    }

    pub fn state(&self) -> PromptState {
        self.state
    }

    /// After ccx itself sent Claude a prompt and Enter, the prompt is empty again.
    pub fn set_empty(&mut self) {
        self.state = PromptState::Empty;
    }

    /// Splits a chunk into steps. `prompt_looks_empty` is asked (only when a lone `:` would
    /// open the editor) whether Claude's screen shows an empty prompt; if not, `:` goes on.
    pub fn feed(&mut self, chunk: &[u8], prompt_looks_empty: impl FnOnce() -> bool) -> Vec<Step> {
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(chunk);
        let mut steps = Vec::new();
        let mut forward = Vec::new();
        let mut asked = Some(prompt_looks_empty);
        let lone_colon = input == b":";
        let mut i = 0;
        while i < input.len() {
            let Some(len) = key_length(&input[i..]) else {
                // Incomplete sequence at the end: wait for the rest (bounded).
                if input.len() - i <= MAX_SEQUENCE {
                    self.carry = input[i..].to_vec();
                } else {
                    forward.extend_from_slice(&input[i..]);
                }
                break;
            };
            let key = &input[i..i + len];
            i += len;
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
            if key == b":" && lone_colon && self.state == PromptState::Empty {
                let looks_empty = asked.take().map(|f| f()).unwrap_or(false);
                if looks_empty {
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
            b"\x03" | b"\x1b[99;5u" => Empty,
            b"\x7f" | b"\x08" | b"\x1b[127u" => match self.state {
                Typed { count } if count <= 1 => Empty,
                Typed { count } => Typed { count: count - 1 },
                other => other,
            },
            b"\x1b[200~" => {
                self.in_paste = true;
                Unsure
            }
            // Focus reports and mouse reports are not keys: they change nothing.
            b"\x1b[I" | b"\x1b[O" => self.state,
            _ if is_mouse_report(key) => self.state,
            _ if is_text(key) => match self.state {
                Empty => Typed { count: 1 },
                Typed { count } => Typed { count: count + 1 },
                Unsure => Unsure,
            },
            _ => Unsure,
        };
    }
}

fn flush(steps: &mut Vec<Step>, forward: &mut Vec<u8>) {
    if !forward.is_empty() {
        steps.push(Step::Forward(std::mem::take(forward)));
    }
}

/// Printable text: one UTF-8 character that is not a control character.
fn is_text(key: &[u8]) -> bool {
    match key {
        [b] => (0x20..0x7f).contains(b),
        [first, ..] => *first >= 0xc0,
        [] => false,
    }
}

fn is_mouse_report(key: &[u8]) -> bool {
    key.starts_with(b"\x1b[<") && matches!(key.last(), Some(b'M' | b'm'))
        || key.starts_with(b"\x1b[M")
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
        // A lone ESC at the end of a read is the Esc key (terminals send sequences whole).
        None => Some(1),
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
        Some(b']') | Some(b'P') | Some(b'_') => {
            // OSC / DCS / APC answers: up to BEL or ESC \.
            let body = &bytes[2..];
            if let Some(p) = body.iter().position(|&b| b == 0x07) {
                return Some(2 + p + 1);
            }
            let p = body.windows(2).position(|w| w == b"\x1b\\")?;
            Some(2 + p + 2)
        }
        // Alt + key: ESC followed by one character.
        Some(_) => Some(1 + key_length(&bytes[1..])?),
    }
}

/// True when Claude's screen shows an empty prompt: the cursor's row is `❯` and nothing else.
pub fn prompt_row_is_empty(row_text: &str) -> bool {
    let trimmed: String = row_text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    trimmed == "❯"
}

#[cfg(test)]
mod tests {
    use super::*;
    use PromptState::*;

    fn filter() -> KeyFilter {
        KeyFilter::new(CcxKey::default())
    }

    /// Feeds chunks; returns the forwarded bytes and how many times the editor opened.
    fn run(f: &mut KeyFilter, chunks: &[&[u8]], screen_empty: bool) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let mut opened = 0;
        for chunk in chunks {
            for step in f.feed(chunk, || screen_empty) {
                match step {
                    Step::Forward(b) => out.extend(b),
                    Step::OpenEditor => opened += 1,
                }
            }
        }
        (out, opened)
    }

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
    fn colon_inside_a_paste_reaches_claude() {
        let mut f = filter();
        let (out, opened) = run(&mut f, &[b"\x1b[200~", b":", b"\x1b[201~"], true);
        assert_eq!(opened, 0);
        assert_eq!(out, b"\x1b[200~:\x1b[201~");
        // After a paste the prompt holds text.
        assert_eq!(run(&mut f, &[b":"], true).1, 0);
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
    fn unsure_after_history_or_cursor_keys() {
        let mut f = filter();
        assert_eq!(
            run(&mut f, &[b"\x1b[A", b":"], true),
            (b"\x1b[A:".to_vec(), 0)
        );
        assert_eq!(f.state(), Unsure);
        // Backspace does not make an unsure prompt empty; Enter does.
        run(&mut f, &[b"\x7f"], true);
        assert_eq!(f.state(), Unsure);
        assert_eq!(run(&mut f, &[b"\r", b":"], true).1, 1);
    }

    #[test]
    fn focus_and_mouse_reports_change_nothing() {
        let mut f = filter();
        assert_eq!(
            run(&mut f, &[b"\x1b[I", b"\x1b[<35;10;5M", b":"], true).1,
            1
        );
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
        let (out, opened) = run(&mut f, &[b"\x1b[9", b"3;5u"], false);
        assert_eq!((out, opened), (vec![], 1));
        let (out, _) = run(&mut f, &[b"\xe2\x9d", b"\xaf"], false);
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

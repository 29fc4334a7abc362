//! Finds output the screen model may skip without changing what it ends up with: the middle of
//! a long run of plain text (printable ASCII, CR, LF) that scrolls off before anything after it
//! could show it. The screen model parses such a flood far more slowly than a terminal gets it;
//! skipping lets it catch up while staying exact.
//!
//! Why skipping is exact: a run of plain text changes only the cells it writes, the cursor and
//! the last character printed (attributes and modes stay). When the part kept after the skipped
//! middle starts at column 0 (the middle ends with CR LF), prints something and holds at least
//! `2 x rows + 1` line feeds, the cursor reaches the bottom and every row then on the screen is
//! scrolled off and replaced by a fresh row that only the kept part writes, provided the scroll
//! region is the whole screen. So the scanner gives up for good once it sees a sequence that can
//! set a scroll region (any CSI ending in `r`), and it follows escape sequences and strings
//! (OSC, DCS, SOS, PM, APC) so that a run counts only where the parser is in its ground state.

/// Where the parser stands, as far as skipping cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Ground,
    Escape,
    Csi,
    /// Inside a control string; `osc` strings also end at BEL.
    String {
        osc: bool,
    },
    /// ESC inside a control string.
    StringEscape,
}

/// Follows the output the model parses and finds what it may skip.
#[derive(Debug, Default)]
pub struct ScrollSkip {
    state: State,
    /// A scroll region may have been set: never skip again.
    regions: bool,
}

/// Runs shorter than this are not worth looking at.
const MIN_RUN: usize = 16 * 1024;

fn is_plain(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) || b == b'\r' || b == b'\n'
}

/// How many bytes at the start of `bytes` are plain. Eight at a time where they are all
/// printable (most of a line of text), byte by byte around line ends and at the end.
fn plain_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            // A byte is printable when its high bit is clear, it is not below 0x20 and not
            // above 0x7e (adding 1 overflows into the high bit only from 0x7f).
            let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
            let above_tilde = (x.wrapping_add(ONES) | x) & HIGH;
            if below_space | above_tilde == 0 {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(bytes.len());
        match bytes[i..end].iter().position(|&b| !is_plain(b)) {
            Some(n) => return i + n,
            None => i = end,
        }
    }
    bytes.len()
}

impl ScrollSkip {
    /// Follows `bytes` (the next output the model gets) and returns the ranges of it that a
    /// model of `rows` rows may skip, in order. Call it for every byte the model parses.
    pub fn scan(&mut self, bytes: &[u8], rows: u16) -> Vec<std::ops::Range<usize>> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if self.state == State::Ground && is_plain(bytes[i]) {
                let end = i + plain_prefix(&bytes[i..]);
                if end - i >= MIN_RUN {
                    runs.push(i..end);
                }
                i = end;
                continue;
            }
            self.step(bytes[i]);
            i += 1;
        }
        if self.regions {
            return Vec::new();
        }
        runs.into_iter()
            .filter_map(|run| {
                skippable(&bytes[run.clone()], rows).map(|m| run.start + m.start..run.start + m.end)
            })
            .collect()
    }

    fn step(&mut self, b: u8) {
        const ESC: u8 = 0x1b;
        const CAN: u8 = 0x18;
        const SUB: u8 = 0x1a;
        const BEL: u8 = 0x07;
        self.state = match (self.state, b) {
            (State::Ground, ESC) => State::Escape,
            (State::Ground, _) => State::Ground,
            (State::String { .. } | State::StringEscape, CAN | SUB) => State::Ground,
            (_, CAN | SUB) => State::Ground,
            (State::String { osc: true }, BEL) => State::Ground,
            (State::String { .. }, ESC) => State::StringEscape,
            (State::String { osc }, _) => State::String { osc },
            (State::StringEscape, b'\\') => State::Ground,
            (State::StringEscape, _) => {
                self.state = State::Escape;
                return self.step(b);
            }
            (State::Escape, b'[') => State::Csi,
            (State::Escape, b']') => State::String { osc: true },
            (State::Escape, b'P' | b'X' | b'^' | b'_') => State::String { osc: false },
            (State::Escape, 0x30..=0x7e) => State::Ground,
            (State::Escape, _) => State::Escape,
            (State::Csi, 0x40..=0x7e) => {
                if b == b'r' {
                    self.regions = true;
                }
                State::Ground
            }
            (State::Csi, ESC) => State::Escape,
            (State::Csi, _) => State::Csi,
        };
    }
}

/// The part of a run of plain text that may be skipped: after its first CR LF, up to and
/// including the CR LF that leaves `2 x rows + 1` line feeds and something printed after it.
fn skippable(run: &[u8], rows: u16) -> Option<std::ops::Range<usize>> {
    let start = memchr::memmem::find(run, b"\r\n")? + 2;
    let needed = 2 * usize::from(rows) + 1;
    let mut end = run.len();
    for (feeds, lf) in memchr::memrchr_iter(b'\n', run).enumerate() {
        if lf < start {
            return None;
        }
        if feeds >= needed && lf > 0 && run[lf - 1] == b'\r' {
            end = lf + 1;
            break;
        }
    }
    if end >= run.len() || end <= start {
        return None;
    }
    let kept = &run[end..];
    kept.iter()
        .any(|&b| b != b'\r' && b != b'\n')
        .then_some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The screen vt100 makes of `bytes` on a `rows` x 40 screen, parsed whole or with the
    /// skippable ranges left out.
    fn screens(prefix: &[u8], bytes: &[u8], rows: u16) -> (Vec<u8>, Vec<u8>, usize) {
        let size = |n| std::num::NonZeroU16::new(n).unwrap();
        let mut whole = vt100::Parser::new(size(rows), size(40), 0);
        whole.process(prefix);
        whole.process(bytes);
        let mut skipping = vt100::Parser::new(size(rows), size(40), 0);
        let mut skip = ScrollSkip::default();
        skip.scan(prefix, rows);
        skipping.process(prefix);
        let mut at = 0;
        let mut skipped = 0;
        for range in skip.scan(bytes, rows) {
            skipping.process(&bytes[at..range.start]);
            skipped += range.len();
            at = range.end;
        }
        skipping.process(&bytes[at..]);
        let state = |p: &vt100::Parser| {
            let mut s = p.screen().state_formatted().into_bytes();
            s.extend_from_slice(p.screen().contents().as_bytes());
            s
        };
        (state(&whole), state(&skipping), skipped)
    }

    fn lines(n: usize, seed: &mut u64) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            let len = (*seed % 97) as usize;
            let c = b'a' + (*seed % 26) as u8;
            out.extend(std::iter::repeat_n(c, len));
            if i % 5 == 0 {
                out.push(b'\r');
            }
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn skipping_a_plain_flood_leaves_the_screen_exactly_as_parsing_it() {
        let mut seed = 0x2545f4914f6cdd1d;
        let prefixes: [&[u8]; 6] = [
            b"",
            b"\x1b[31;1mred bold\x1b[5;3H",
            b"\x1b[?1049h\x1b[44malternate\x1b[4h",
            b"\x1b[3;30Hhalf way\x1b[?7l",
            b"\x1b[2J\x1b[12;1H\xe2\x94\x80\xe2\x94",
            b"\x1b[7m\x1b[20;40H",
        ];
        for (k, prefix) in prefixes.iter().enumerate() {
            for rows in [1u16, 2, 5, 24] {
                let mut flood = b"partial first line".to_vec();
                flood.extend(lines(3000 + k * 37, &mut seed));
                flood.extend_from_slice(b"tail without newline");
                let (whole, skipping, skipped) = screens(prefix, &flood, rows);
                assert!(skipped > 0, "prefix {k}, {rows} rows: nothing skipped");
                assert!(
                    whole == skipping,
                    "prefix {k}, {rows} rows: the screens differ"
                );
            }
        }
    }

    #[test]
    fn nothing_is_skipped_inside_strings_or_once_a_scroll_region_was_set() {
        let mut seed = 7;
        let flood = lines(3000, &mut seed);
        for prefix in [
            &b"\x1b]0;a title that never ends"[..],
            b"\x1bPq a DCS string",
            b"\x1b[5;10r",
            b"\x1b[?1;2r",
        ] {
            let (whole, skipping, skipped) = screens(prefix, &flood, 24);
            assert_eq!(skipped, 0, "{prefix:?}");
            assert!(whole == skipping);
        }
        // An open CSI ends at the flood's first letter; the rest may be skipped.
        let (whole, skipping, skipped) = screens(b"\x1b[12", &flood, 24);
        assert!(skipped > 0 && whole == skipping);
        // A string that ended lets the next run be skipped.
        let (whole, skipping, skipped) = screens(b"\x1b]0;title\x07", &flood, 24);
        assert!(skipped > 0 && whole == skipping);
    }

    #[test]
    fn plain_prefix_stops_at_the_first_byte_that_is_not_plain_text() {
        let text = b"an eighty column line of text\r\nand another ~ with every printable }";
        for cut in 0..text.len() {
            for bad in [0x00u8, 0x07, 0x1b, 0x1f, 0x7f, 0x80, 0xe2, 0xff, b'\t'] {
                let mut bytes = text[..cut].to_vec();
                bytes.push(bad);
                bytes.extend_from_slice(&text[cut..]);
                assert_eq!(plain_prefix(&bytes), cut, "{bad:#x} at {cut}");
            }
        }
        assert_eq!(plain_prefix(text), text.len());
        assert_eq!(plain_prefix(b""), 0);
    }

    #[test]
    fn short_runs_and_runs_ending_in_blank_lines_are_kept() {
        let mut seed = 11;
        let (_, _, skipped) = screens(b"", &lines(100, &mut seed), 24);
        assert_eq!(skipped, 0, "a short run is parsed whole");
        let mut flood = lines(3000, &mut seed);
        flood.extend(std::iter::repeat_n(b"\r\n".as_slice(), 100).flatten());
        let (whole, skipping, _) = screens(b"", &flood, 24);
        assert!(whole == skipping);
    }
}

//! Terminal personalities: what real terminals answer, on the program's standard input, to the
//! queries Claude Code sends at start-up (DA1 `ESC[c`, XTVERSION `ESC[>0q`, kitty keyboard flags
//! `ESC[?u`, DECRQM `ESC[?2026$p`, colour queries), and the focus report they send when focus
//! events are switched on. [`PtySession`](super::harness::PtySession) answers as one of these,
//! so the end-to-end tests meet what a person's terminal does. The table is the one place for
//! these facts (replies as sent by xterm 390, tmux 3.3a, kitty 0.32 and WezTerm 20240203).
//!
//! The personality for a test run comes from `CCX_TEST_TERMINAL` (`xterm`, `tmux`, `kitty`,
//! `wezterm`, or `none` for a PTY that answers nothing); the default is `tmux`, whose replies
//! (a DCS version string and DA1) are the ones first seen to break ccx's key filter.

/// How one terminal answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Personality {
    pub name: &'static str,
    /// (query the program writes, reply the terminal sends back).
    pub answers: &'static [(&'static [u8], &'static [u8])],
    /// Sends `ESC [ I` when the program turns focus events on (`ESC [ ? 1004 h`).
    pub reports_focus: bool,
}

const XTERM: Personality = Personality {
    name: "xterm",
    answers: &[
        (b"\x1b[c", b"\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c"),
        (b"\x1b[>0q", b"\x1bP>|XTerm(390)\x1b\\"),
        (b"\x1b[?2026$p", b"\x1b[?2026;0$y"),
        (b"\x1b]11;?", b"\x1b]11;rgb:ffff/ffff/ffff\x1b\\"),
        (b"\x1b[6n", b"\x1b[1;1R"),
    ],
    reports_focus: true,
};

const TMUX: Personality = Personality {
    name: "tmux",
    answers: &[
        (b"\x1b[>0q", b"\x1bP>|tmux 3.3a\x1b\\"),
        (b"\x1b[c", b"\x1b[?1;2c"),
        (b"\x1b[6n", b"\x1b[1;1R"),
    ],
    reports_focus: true,
};

const KITTY: Personality = Personality {
    name: "kitty",
    answers: &[
        (b"\x1b[c", b"\x1b[?62;c"),
        (b"\x1b[>0q", b"\x1bP>|kitty(0.32.2)\x1b\\"),
        (b"\x1b[?u", b"\x1b[?0u"),
        (b"\x1b[?2026$p", b"\x1b[?2026;2$y"),
        (b"\x1b]11;?", b"\x1b]11;rgb:0000/0000/0000\x1b\\"),
        (b"\x1b[?996n", b"\x1b[?997;1n"),
        (b"\x1b[6n", b"\x1b[1;1R"),
    ],
    reports_focus: true,
};

const WEZTERM: Personality = Personality {
    name: "wezterm",
    answers: &[
        (b"\x1b[c", b"\x1b[?65;4;6;18;22c"),
        (
            b"\x1b[>0q",
            b"\x1bP>|WezTerm 20240203-110809-5046fc22\x1b\\",
        ),
        (b"\x1b[?2026$p", b"\x1b[?2026;2$y"),
        (b"\x1b]11;?", b"\x1b]11;rgb:0000/0000/0000\x07"),
        (b"\x1b[6n", b"\x1b[1;1R"),
    ],
    reports_focus: true,
};

const NONE: Personality = Personality {
    name: "none",
    answers: &[],
    reports_focus: false,
};

/// Every personality that answers, for tests that run once per terminal.
pub const ALL: [Personality; 4] = [XTERM, TMUX, KITTY, WEZTERM];

impl Personality {
    /// The personality named by `CCX_TEST_TERMINAL`, else tmux.
    pub fn from_env() -> Personality {
        match std::env::var("CCX_TEST_TERMINAL").as_deref() {
            Ok("xterm") => XTERM,
            Ok("kitty") => KITTY,
            Ok("wezterm") => WEZTERM,
            Ok("none") => NONE,
            _ => TMUX,
        }
    }

    pub fn by_name(name: &str) -> Personality {
        [XTERM, TMUX, KITTY, WEZTERM, NONE]
            .into_iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no terminal personality {name}"))
    }
}

/// Watches a program's output for queries and yields the replies to send, in order. Queries
/// split across reads are found; none is answered twice.
#[derive(Debug)]
pub struct Responder {
    personality: Personality,
    /// The end of the output seen so far, long enough to hold a query split across reads.
    tail: Vec<u8>,
}

const FOCUS_ON: &[u8] = b"\x1b[?1004h";

impl Responder {
    pub fn new(personality: Personality) -> Responder {
        Responder {
            personality,
            tail: Vec::new(),
        }
    }

    /// The replies that `output` (the next read of the program's output) calls for.
    pub fn replies(&mut self, output: &[u8]) -> Vec<&'static [u8]> {
        let keep = self.tail.len();
        let mut seen = std::mem::take(&mut self.tail);
        seen.extend_from_slice(output);
        let mut found: Vec<(usize, &'static [u8])> = Vec::new();
        let mut queries: Vec<(&[u8], &'static [u8])> = self.personality.answers.to_vec();
        if self.personality.reports_focus {
            queries.push((FOCUS_ON, b"\x1b[I"));
        }
        for (query, reply) in queries {
            let mut from = 0;
            while let Some(p) = find(&seen[from..], query) {
                let end = from + p + query.len();
                // Only queries that end in the new output (older ones were answered).
                if end > keep {
                    found.push((end, reply));
                }
                from = end;
            }
        }
        found.sort_by_key(|(end, _)| *end);
        let longest = 16;
        self.tail = seen[seen.len().saturating_sub(longest)..].to_vec();
        found.into_iter().map(|(_, reply)| reply).collect()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_split_across_reads_are_answered_once() {
        let mut r = Responder::new(TMUX);
        assert!(r.replies(b"hello \x1b[>").is_empty());
        assert_eq!(
            r.replies(b"0q and \x1b[c"),
            vec![&b"\x1bP>|tmux 3.3a\x1b\\"[..], b"\x1b[?1;2c"]
        );
        assert!(r.replies(b"more text").is_empty());
        assert_eq!(r.replies(b"\x1b[?1004h"), vec![&b"\x1b[I"[..]]);
        let mut none = Responder::new(NONE);
        assert!(none.replies(b"\x1b[c\x1b[?1004h").is_empty());
    }
}

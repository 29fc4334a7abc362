//! Terminal personalities: what real terminals answer, on the program's standard input, to the
//! queries Claude Code sends at start-up (DA1 `ESC[c`, XTVERSION `ESC[>0q`, kitty keyboard flags
//! `ESC[?u`, DECRQM `ESC[?2026$p`, colour queries), and the focus report they send when focus
//! events are switched on. [`PtySession`](super::harness::PtySession) answers as one of these,
//! so the end-to-end tests meet what a person's terminal does. The table `terminals.txt` beside
//! this file is the one place for these facts (replies as sent by xterm 390, tmux 3.3a, kitty
//! 0.32 and WezTerm 20240203).
//!
//! The personality for a test run comes from `CCX_TEST_TERMINAL` (`xterm`, `tmux`, `kitty`,
//! `wezterm`, or `none` for a PTY that answers nothing); the default is `tmux`, whose replies
//! (a DCS version string and DA1) are the ones first seen to break ccx's key filter.

use std::sync::OnceLock;

/// (query the program writes, reply the terminal sends back).
pub type Answer = (&'static [u8], &'static [u8]);

/// How one terminal answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Personality {
    pub name: &'static str,
    pub answers: &'static [Answer],
    /// Sends `ESC [ I` when the program turns focus events on (`ESC [ ? 1004 h`).
    pub reports_focus: bool,
}

/// The recorded answers: one line per (terminal, query, reply), tab-separated.
const TABLE: &str = include_str!("terminals.txt");

const NONE: Personality = Personality {
    name: "none",
    answers: &[],
    reports_focus: false,
};

/// Every personality that answers, in the order of [`TABLE`].
pub fn all() -> &'static [Personality] {
    static ALL: OnceLock<Vec<Personality>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut found: Vec<(&'static str, Vec<Answer>)> = Vec::new();
        for line in TABLE
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let [name, query, reply] = line.split('\t').collect::<Vec<_>>()[..] else {
                panic!("terminals.txt: not three tab-separated fields: {line:?}");
            };
            let answer: Answer = (unescape(query).leak(), unescape(reply).leak());
            match found.iter_mut().find(|(n, _)| *n == name) {
                Some((_, answers)) => answers.push(answer),
                None => found.push((name, vec![answer])),
            }
        }
        found
            .into_iter()
            .map(|(name, answers)| Personality {
                name,
                answers: answers.leak(),
                reports_focus: true,
            })
            .collect()
    })
}

/// The bytes `text` spells, with `\xNN` and `\\` escapes.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b != b'\\' {
            out.push(b);
        } else if let Some(tail) = rest.strip_prefix(b"\\") {
            out.push(b'\\');
            rest = tail;
        } else if let (Some(b'x'), Some(hex)) = (rest.first(), rest.get(1..3)) {
            let hex = std::str::from_utf8(hex).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("terminals.txt: \\xNN"));
            rest = &rest[3..];
        } else {
            panic!("terminals.txt: unknown escape in {text:?}");
        }
    }
    out
}

impl Personality {
    /// The personality named by `CCX_TEST_TERMINAL`, else tmux.
    pub fn from_env() -> Personality {
        let name = std::env::var("CCX_TEST_TERMINAL").unwrap_or_default();
        match name.as_str() {
            "xterm" | "kitty" | "wezterm" | "none" => Personality::by_name(&name),
            _ => Personality::by_name("tmux"),
        }
    }

    pub fn by_name(name: &str) -> Personality {
        all()
            .iter()
            .chain([&NONE])
            .find(|p| p.name == name)
            .copied()
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
    fn the_table_reads_as_recorded() {
        let names: Vec<&str> = all().iter().map(|p| p.name).collect();
        assert_eq!(names, ["xterm", "tmux", "kitty", "wezterm"]);
        let answers = |name| Personality::by_name(name).answers;
        assert_eq!(answers("kitty").len(), 7);
        assert!(answers("xterm").contains(&(b"\x1b[>0q", b"\x1bP>|XTerm(390)\x1b\\")));
        let background: (&[u8], &[u8]) = (b"\x1b]11;?", b"\x1b]11;rgb:0000/0000/0000\x07");
        assert!(answers("wezterm").contains(&background));
        assert!(Personality::by_name("none").answers.is_empty());
    }

    #[test]
    fn queries_split_across_reads_are_answered_once() {
        let mut r = Responder::new(Personality::by_name("tmux"));
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

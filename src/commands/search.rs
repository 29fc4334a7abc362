//! `ccx search QUERY [--all] [--json]`: find turns by the words of their prompt and reply.
//!
//! Matching is a pure function ([`Matcher`], [`search_turns`]) so the `:search`-style callers and
//! the benchmark use exactly what the command uses. Every query word must occur (case-insensitive,
//! Unicode-aware) in the prompt or the reply of a turn. Hits are ranked by a score where a match
//! in the prompt counts twice a match in the reply ([`Score::rank`]), newer turns first on ties.
//!
//! Speed: the query is lowercased once; ASCII words are found by a memchr scan comparing bytes
//! ASCII-case-insensitively (non-ASCII words by a case-insensitive literal regex), so scanning a
//! turn allocates nothing (no per-turn lowercasing); a turn is dropped at the first word it
//! lacks. About 50 ms for 100k turns (220 MB) when few match, in release.

use super::render::{self, Palette};
use crate::model::Turn;
use crate::store::Store;
use anyhow::{Context, Result};
use owo_colors::OwoColorize;
use regex::Regex;
use std::io::Write;

/// The compiled query: its words, each matched case-insensitively.
#[derive(Debug, Clone)]
pub struct Matcher {
    words: Vec<Word>,
}

/// One query word. ASCII words (nearly all) are counted by a byte scan that compares ASCII
/// case-insensitively (memchr on the first byte, both cases); others use a Unicode-aware
/// case-insensitive literal regex.
#[derive(Debug, Clone)]
enum Word {
    Ascii(Vec<u8>),
    Unicode(Regex),
}

/// The position of the byte of `needle` least likely in prose (letters by English frequency;
/// digits and punctuation count as rare, spaces as the most common).
fn rarest(needle: &[u8]) -> usize {
    const BY_FREQUENCY: &[u8] = b" etaoinshrdlcumwfgypbvkjxqz";
    let rank = |b: u8| -> usize {
        BY_FREQUENCY
            .iter()
            .position(|&c| c == b.to_ascii_lowercase())
            .map_or(BY_FREQUENCY.len(), |p| p)
    };
    (0..needle.len())
        .max_by_key(|&i| (rank(needle[i]), std::cmp::Reverse(i)))
        .unwrap_or(0)
}

impl Word {
    fn new(word: &str) -> Result<Word> {
        Ok(if word.is_ascii() {
            Word::Ascii(word.to_ascii_lowercase().into_bytes())
        } else {
            Word::Unicode(
                Regex::new(&format!("(?i){}", regex::escape(word)))
                    .context("cannot compile the query")?,
            )
        })
    }

    /// Calls `f(start, end)` for each non-overlapping match, left to right, until it says stop.
    fn each(&self, text: &str, mut f: impl FnMut(usize, usize) -> bool) {
        match self {
            Word::Unicode(re) => {
                for m in re.find_iter(text) {
                    if !f(m.start(), m.end()) {
                        return;
                    }
                }
            }
            Word::Ascii(needle) => {
                let hay = text.as_bytes();
                let len = needle.len();
                // Scan for the needle's rarest byte, then check the whole needle around it.
                let k = rarest(needle);
                let (lo, up) = (needle[k], needle[k].to_ascii_uppercase());
                // `from`: where the next match may start.
                let mut from = 0;
                while from + len <= hay.len() {
                    let window = &hay[from + k..=hay.len() - len + k];
                    let found = if lo == up {
                        memchr::memchr(lo, window)
                    } else {
                        memchr::memchr2(lo, up, window)
                    };
                    let Some(pos) = found else { return };
                    let start = from + pos;
                    let end = start + len;
                    if hay[start..end].eq_ignore_ascii_case(needle) {
                        if !f(start, end) {
                            return;
                        }
                        from = end;
                    } else {
                        from = start + 1;
                    }
                }
            }
        }
    }

    fn count(&self, text: &str) -> usize {
        let mut n = 0;
        self.each(text, |_, _| {
            n += 1;
            true
        });
        n
    }

    fn first(&self, text: &str) -> Option<(usize, usize)> {
        let mut found = None;
        self.each(text, |s, e| {
            found = Some((s, e));
            false
        });
        found
    }
}

/// How well a turn matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Score {
    /// Occurrences of query words in the prompt.
    pub prompt_matches: usize,
    /// Occurrences of query words in the reply.
    pub reply_matches: usize,
}

impl Score {
    /// The ranking key: prompt matches weigh twice as much as reply matches.
    pub fn rank(&self) -> usize {
        2 * self.prompt_matches + self.reply_matches
    }
}

/// Which text of a turn a snippet comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Prompt,
    Reply,
}

/// One matching turn.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub turn: &'a Turn,
    pub score: Score,
}

impl Matcher {
    /// Compiles a query: its whitespace-separated words. Fails on an empty query.
    pub fn new(query: &str) -> Result<Matcher> {
        let words: Vec<Word> = query
            .split_whitespace()
            .map(Word::new)
            .collect::<Result<_>>()?;
        if words.is_empty() {
            anyhow::bail!("the search query is empty: give at least one word");
        }
        Ok(Matcher { words })
    }

    /// The score of a prompt and reply, or None unless every word occurs in one of them.
    pub fn score(&self, prompt: &str, reply: &str) -> Option<Score> {
        let mut score = Score::default();
        for word in &self.words {
            let p = word.count(prompt);
            let r = word.count(reply);
            if p + r == 0 {
                return None;
            }
            score.prompt_matches += p;
            score.reply_matches += r;
        }
        Some(score)
    }

    /// The byte range of the first match of any word in `text`.
    pub fn first_match(&self, text: &str) -> Option<(usize, usize)> {
        self.words.iter().filter_map(|w| w.first(text)).min()
    }

    /// Every match of any word in `text`, sorted, overlaps merged.
    pub fn matches(&self, text: &str) -> Vec<(usize, usize)> {
        let mut all: Vec<(usize, usize)> = Vec::new();
        for w in &self.words {
            w.each(text, |s, e| {
                all.push((s, e));
                true
            });
        }
        all.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(all.len());
        for (s, e) in all {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }
}

/// The turns matching `matcher`, best first: higher [`Score::rank`], then newer (higher id).
pub fn search_turns<'a>(turns: &'a [Turn], matcher: &Matcher) -> Vec<Hit<'a>> {
    let mut hits: Vec<Hit<'a>> = turns
        .iter()
        .filter_map(|turn| {
            matcher
                .score(&turn.prompt, &turn.reply)
                .map(|score| Hit { turn, score })
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .rank()
            .cmp(&a.score.rank())
            .then(b.score.prompt_matches.cmp(&a.score.prompt_matches))
            .then(b.turn.id.cmp(&a.turn.id))
    });
    hits
}

/// Where a hit's snippet comes from: the prompt when it matches, else the reply.
pub fn snippet_field(turn: &Turn, matcher: &Matcher) -> Field {
    if matcher.first_match(&turn.prompt).is_some() {
        Field::Prompt
    } else {
        Field::Reply
    }
}

/// One line of `text` around its first match, at most `width` characters, newlines and tabs as
/// spaces, with an ellipsis where it was cut and every match highlighted (when colour is on).
pub fn snippet(text: &str, matcher: &Matcher, width: usize, palette: Palette) -> String {
    let width = width.max(10);
    let (ms, me) = matcher.first_match(text).unwrap_or((0, 0));
    // Character positions of the window: some context before the match, the rest after.
    let before_chars = text[..ms].chars().count();
    let match_chars = text[ms..me].chars().count();
    let total_chars = text.chars().count();
    let lead = (width.saturating_sub(match_chars) / 3).min(before_chars);
    let mut start = before_chars - lead;
    let mut end = (start + width).min(total_chars);
    if end - start < width {
        start = end.saturating_sub(width);
    }
    // Leave room for the ellipses.
    let cut_left = start > 0;
    let cut_right = end < total_chars;
    if cut_left && start < before_chars {
        start += 1;
    }
    if cut_right && end > start + 1 {
        end -= 1;
    }
    let byte_at = |c: usize| {
        text.char_indices()
            .nth(c)
            .map(|(b, _)| b)
            .unwrap_or(text.len())
    };
    let (bs, be) = (byte_at(start), byte_at(end));
    let window = &text[bs..be];
    let mut out = String::with_capacity(window.len() + 16);
    if cut_left {
        out.push('…');
    }
    let mut at = 0;
    for (s, e) in matcher.matches(window) {
        out.push_str(&flatten(&window[at..s]));
        out.push_str(&highlight(&flatten(&window[s..e]), palette));
        at = e;
    }
    out.push_str(&flatten(&window[at..]));
    if cut_right {
        out.push('…');
    }
    out
}

fn flatten(text: &str) -> String {
    text.replace(['\n', '\r', '\t'], " ")
}

fn highlight(text: &str, palette: Palette) -> String {
    if palette.enabled {
        text.bold().yellow().underline().to_string()
    } else {
        text.to_string()
    }
}

/// One result line: `#12  main  5m  prompt: …snippet…`.
pub fn hit_line(
    hit: &Hit<'_>,
    matcher: &Matcher,
    now: chrono::DateTime<chrono::Utc>,
    width: usize,
    palette: Palette,
) -> String {
    let turn = hit.turn;
    let field = snippet_field(turn, matcher);
    let (field_name, text) = match field {
        Field::Prompt => (
            "prompt:",
            render::prompt_text(&turn.prompt).trim().to_string(),
        ),
        Field::Reply => ("reply:", turn.reply.clone()),
    };
    // A prompt ccx sent says what it was, as in every listing.
    let label = match render::turn_tag(turn) {
        Some(tag) => format!("{tag} {field_name}"),
        None => field_name.to_string(),
    };
    let id = format!("#{:<4}", turn.id);
    let branch = format!("{:<12}", turn.branch);
    let age = format!("{:>4}", render::age(&turn.started_at, now));
    let used = id.chars().count()
        + branch.chars().count()
        + age.chars().count()
        + label.chars().count()
        + 4;
    let room = width.saturating_sub(used).max(20);
    format!(
        "{} {} {} {} {}",
        palette.id(&id),
        branch,
        palette.dim(&age),
        palette.dim(&label),
        snippet(&text, matcher, room, palette)
    )
}

/// The hits as text lines (no trailing project header).
pub fn render_hits(
    hits: &[Hit<'_>],
    matcher: &Matcher,
    now: chrono::DateTime<chrono::Utc>,
    width: usize,
    palette: Palette,
) -> String {
    let mut out = String::new();
    for hit in hits {
        out.push_str(&hit_line(hit, matcher, now, width, palette));
        out.push('\n');
    }
    out
}

/// `ccx search QUERY [--all] [--json]`.
pub fn run(query: &[String], all: bool, json: bool) -> Result<i32> {
    let matcher = Matcher::new(&query.join(" "))?;
    let stores = super::open_stores(all)?;
    // The same words the matcher uses: the store decodes only turns holding all of them.
    let words: Vec<String> = query
        .join(" ")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut found: Vec<(&Store, Vec<Turn>)> = Vec::new();
    for store in &stores {
        found.push((store, store.search_candidates(&words)?));
    }
    let ranked: Vec<(&Store, Vec<Hit<'_>>)> = found
        .iter()
        .map(|(store, turns)| (*store, search_turns(turns, &matcher)))
        .collect();
    let mut out = super::buffered_stdout();
    if json {
        let mut all_hits: Vec<&Hit<'_>> = ranked.iter().flat_map(|(_, h)| h.iter()).collect();
        if all {
            all_hits.sort_by_key(|h| std::cmp::Reverse(h.score.rank()));
        }
        let records: Vec<&Turn> = all_hits.iter().map(|h| h.turn).collect();
        serde_json::to_writer_pretty(&mut out, &records)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(0);
    }
    let palette = Palette::for_stdout();
    let width = crate::terminal::size(1)
        .map(|(_, cols)| cols as usize)
        .unwrap_or(100);
    let now = chrono::Utc::now();
    let mut any = false;
    for (store, hits) in &ranked {
        if hits.is_empty() {
            continue;
        }
        any = true;
        if all {
            writeln!(
                out,
                "{}",
                palette.strong(&crate::paths::project_label(store.dir()))
            )?;
        }
        write!(out, "{}", render_hits(hits, &matcher, now, width, palette))?;
    }
    if !any {
        writeln!(out, "no turn matches '{}'", query.join(" "))?;
        out.flush()?;
        return Ok(1);
    }
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Palette = Palette { enabled: false };

    fn turn(id: u64, prompt: &str, reply: &str) -> Turn {
        Turn {
            id,
            branch: "main".into(),
            prompt: prompt.into(),
            reply: reply.into(),
            started_at: "2026-01-01T11:55:00Z".into(),
            ended_at: Some("2026-01-01T11:56:00Z".into()),
            ..Default::default()
        }
    }

    fn ids(hits: &[Hit<'_>]) -> Vec<u64> {
        hits.iter().map(|h| h.turn.id).collect()
    }

    #[test]
    fn a_hit_in_a_prompt_ccx_sent_is_labelled_and_unwrapped() {
        let mut summary = turn(
            5,
            "<pasted_content id=\"c1d1\">\nWrite a handoff of the parser work\n</pasted_content>",
            "done",
        );
        summary.kind = crate::model::TurnKind::Summary;
        summary.input = Some("summarize-from-here".into());
        let turns = vec![summary];
        let m = Matcher::new("parser").unwrap();
        let hits = search_turns(&turns, &m);
        let line = hit_line(&hits[0], &m, chrono::Utc::now(), 100, PLAIN);
        assert!(
            line.contains("[summary] prompt: Write a handoff of the parser work"),
            "{line}"
        );
        assert!(!line.contains("pasted_content"), "{line}");
    }

    #[test]
    fn every_word_must_match_case_insensitively() {
        let turns = vec![
            turn(1, "Fix the Parser", "done"),
            turn(2, "fix the lexer", "the PARSER is fine"),
            turn(3, "write docs", "no"),
        ];
        let m = Matcher::new("parser fix").unwrap();
        assert_eq!(ids(&search_turns(&turns, &m)), vec![1, 2]);
        let m = Matcher::new("PARSER  docs").unwrap();
        assert!(search_turns(&turns, &m).is_empty());
        assert!(Matcher::new("   ").is_err());
    }

    #[test]
    fn prompt_matches_rank_above_reply_matches_and_newer_wins_ties() {
        let turns = vec![
            turn(1, "about zebra", ""),
            turn(2, "nothing", "zebra here"),
            turn(3, "zebra again", ""),
            turn(4, "zebra zebra zebra", ""),
        ];
        let m = Matcher::new("zebra").unwrap();
        // #4 has three prompt matches; #3 and #1 tie (newer first); #2 only in the reply.
        assert_eq!(ids(&search_turns(&turns, &m)), vec![4, 3, 1, 2]);
    }

    #[test]
    fn matching_is_unicode_aware_and_literal() {
        let turns = vec![turn(1, "Ärger mit C++", "a.b*c")];
        assert_eq!(
            search_turns(&turns, &Matcher::new("ärger").unwrap()).len(),
            1
        );
        assert_eq!(search_turns(&turns, &Matcher::new("c++").unwrap()).len(), 1);
        assert_eq!(
            search_turns(&turns, &Matcher::new("a.b*c").unwrap()).len(),
            1
        );
        assert!(search_turns(&turns, &Matcher::new("axb").unwrap()).is_empty());
    }

    #[test]
    fn ascii_scan_counts_like_a_regex() {
        let texts = [
            "",
            "ab",
            "abc",
            "xABCabcaBc",
            "aaaa",
            "zz-Zz-zZ",
            "the THE tHe",
            "ends with abc",
            "é abc ü ABC",
        ];
        for needle in ["abc", "aa", "z", "zz-z", "the", "c", "b"] {
            let word = Word::new(needle).unwrap();
            let re = Regex::new(&format!("(?i){}", regex::escape(needle))).unwrap();
            for text in texts {
                assert_eq!(
                    word.count(text),
                    re.find_iter(text).count(),
                    "{needle} in {text}"
                );
                assert_eq!(
                    word.first(text),
                    re.find(text).map(|m| (m.start(), m.end())),
                    "{needle} in {text}"
                );
            }
        }
    }

    #[test]
    fn snippet_is_one_line_around_the_first_match() {
        let m = Matcher::new("needle").unwrap();
        let text = format!(
            "{}\nthe NEEDLE is here\n{}",
            "x".repeat(200),
            "y".repeat(200)
        );
        let s = snippet(&text, &m, 40, PLAIN);
        assert!(s.contains("NEEDLE"), "{s}");
        assert!(!s.contains('\n'), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.chars().count() <= 40, "{} chars: {s}", s.chars().count());
        // Short text: whole, no ellipsis.
        assert_eq!(snippet("a needle b", &m, 40, PLAIN), "a needle b");
        // A match at the very start.
        let s = snippet(&format!("needle {}", "z".repeat(100)), &m, 20, PLAIN);
        assert!(s.starts_with("needle") && s.ends_with('…'), "{s}");
    }

    #[test]
    fn snippet_highlights_matches_when_coloured() {
        let m = Matcher::new("needle").unwrap();
        let s = snippet("a needle b", &m, 40, Palette { enabled: true });
        assert!(s.contains("\u{1b}["), "{s:?}");
        assert!(s.contains("needle"));
    }

    #[test]
    fn hit_line_names_turn_branch_age_and_field() {
        let turns = vec![turn(7, "other", "the zebra reply")];
        let m = Matcher::new("zebra").unwrap();
        let hits = search_turns(&turns, &m);
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let line = hit_line(&hits[0], &m, now, 100, PLAIN);
        for part in ["#7", "main", "5m", "reply:", "the zebra reply"] {
            assert!(line.contains(part), "{part} missing in {line}");
        }
    }
}

//! `ccx search QUERY [--in prompt,reply,tools] [--regex] [--branch B] [--since WHEN] [--all]
//! [--json]`: find turns by the words of their prompt, their reply, and their tool calls (the
//! command or file of each call and what came back, read from the transcript entries stored
//! with the turn).
//!
//! Matching is a pure function ([`Matcher`], [`search_docs`], [`search_turns`]) so the
//! benchmark uses exactly what the command uses. Every query word must occur (case-insensitive,
//! Unicode-aware) in one of the searched fields of a turn; with `--regex` the query is one
//! case-insensitive regular expression instead. Hits are ranked by a score where a match in the
//! prompt counts twice a match in the reply or a tool call ([`Score::rank`]), newer turns first
//! on ties.
//!
//! Speed: the query is lowercased once; ASCII words are found by a memchr scan comparing bytes
//! ASCII-case-insensitively (non-ASCII words by a case-insensitive literal regex), so scanning a
//! turn allocates nothing (no per-turn lowercasing); a turn is dropped at the first word it
//! lacks. About 50 ms for 100k turns (220 MB) when few match, in release.
//!
//! The result lines are [`crate::render::search`]'s; the engine reaches them through
//! [`Highlight`], which [`Matcher`] implements.

use crate::model::Turn;
use crate::render::search::{hit_line, Highlight, HitText};
use crate::render::{prompt_text, turn_tag, RenderCtx};
use crate::store::Store;
use anyhow::{Context, Result};
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
    /// A case-insensitive regular expression; a bad one is one line naming the problem.
    fn pattern(pattern: &str) -> Result<Word> {
        match Regex::new(&format!("(?i){pattern}")) {
            Ok(re) => Ok(Word::Unicode(re)),
            Err(e) => {
                let text = e.to_string();
                let why = text
                    .lines()
                    .rev()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("invalid")
                    .trim_start_matches("error: ")
                    .to_string();
                anyhow::bail!("bad regex '{pattern}': {why}")
            }
        }
    }

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
    /// Occurrences of query words in the tool calls (commands, files, output).
    pub tool_matches: usize,
}

impl Score {
    /// The ranking key: prompt matches weigh twice as much as reply or tool matches.
    pub fn rank(&self) -> usize {
        2 * self.prompt_matches + self.reply_matches + self.tool_matches
    }

    /// Where the query matched: `prompt`, `reply`, `tools`, in that order.
    pub fn matched_in(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (n, name) in [
            (self.prompt_matches, "prompt"),
            (self.reply_matches, "reply"),
            (self.tool_matches, "tools"),
        ] {
            if n > 0 {
                out.push(name);
            }
        }
        out
    }
}

/// Which text of a turn a snippet comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Prompt,
    Reply,
    Tools,
}

/// Which fields a search looks in (`--in prompt,reply,tools`; default all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    pub prompt: bool,
    pub reply: bool,
    pub tools: bool,
}

impl Default for Fields {
    fn default() -> Fields {
        Fields {
            prompt: true,
            reply: true,
            tools: true,
        }
    }
}

impl Fields {
    /// Parses `prompt,reply,tools` (any of them, comma-separated; `tool` also names tools).
    pub fn parse(text: &str) -> Result<Fields> {
        let mut fields = Fields {
            prompt: false,
            reply: false,
            tools: false,
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "prompt" | "prompts" => fields.prompt = true,
                "reply" | "replies" => fields.reply = true,
                "tools" | "tool" => fields.tools = true,
                other => anyhow::bail!(
                    "--in takes prompt, reply and tools (comma-separated), not '{other}'"
                ),
            }
        }
        if fields
            == (Fields {
                prompt: false,
                reply: false,
                tools: false,
            })
        {
            anyhow::bail!("--in needs at least one of prompt, reply, tools");
        }
        Ok(fields)
    }
}

/// A turn as search sees it: the record and the search text of each of its tool calls
/// ([`crate::tool_calls::ToolCall::search_text`]: `Name: summary` on the first line).
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    pub turn: &'a Turn,
    pub tools: &'a [String],
}

/// One matching turn.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub turn: &'a Turn,
    pub tools: &'a [String],
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

    /// One case-insensitive regular expression (`--regex`).
    pub fn regex(pattern: &str) -> Result<Matcher> {
        if pattern.is_empty() {
            anyhow::bail!("the search pattern is empty");
        }
        Ok(Matcher {
            words: vec![Word::pattern(pattern)?],
        })
    }

    /// The score of a prompt and reply, or None unless every word occurs in one of them.
    pub fn score(&self, prompt: &str, reply: &str) -> Option<Score> {
        self.score_fields(Some(prompt), Some(reply), &[])
    }

    /// The score of the fields given (None: not searched), or None unless every word occurs
    /// in one of them.
    pub fn score_fields(
        &self,
        prompt: Option<&str>,
        reply: Option<&str>,
        tools: &[String],
    ) -> Option<Score> {
        let mut score = Score::default();
        for word in &self.words {
            let p = prompt.map_or(0, |t| word.count(t));
            let r = reply.map_or(0, |t| word.count(t));
            let t: usize = tools.iter().map(|t| word.count(t)).sum();
            if p + r + t == 0 {
                return None;
            }
            score.prompt_matches += p;
            score.reply_matches += r;
            score.tool_matches += t;
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

/// The turns whose prompt or reply matches `matcher`, best first (see [`search_docs`]).
pub fn search_turns<'a>(turns: &'a [Turn], matcher: &Matcher) -> Vec<Hit<'a>> {
    let docs: Vec<Doc<'a>> = turns.iter().map(|turn| Doc { turn, tools: &[] }).collect();
    search_docs(&docs, matcher, Fields::default())
}

/// The turns matching `matcher` in `fields`, best first: higher [`Score::rank`], then newer
/// (higher id).
pub fn search_docs<'a>(docs: &[Doc<'a>], matcher: &Matcher, fields: Fields) -> Vec<Hit<'a>> {
    let mut hits: Vec<Hit<'a>> = docs
        .iter()
        .filter_map(|doc| {
            matcher
                .score_fields(
                    fields.prompt.then_some(doc.turn.prompt.as_str()),
                    fields.reply.then_some(doc.turn.reply.as_str()),
                    if fields.tools { doc.tools } else { &[] },
                )
                .map(|score| Hit {
                    turn: doc.turn,
                    tools: doc.tools,
                    score,
                })
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

/// Where a hit's snippet comes from: the prompt when it matches, else the reply when it
/// matches, else the tool calls.
pub fn snippet_field(turn: &Turn, matcher: &Matcher) -> Field {
    hit_field(turn, matcher, Fields::default())
}

fn hit_field(turn: &Turn, matcher: &Matcher, fields: Fields) -> Field {
    if fields.prompt && matcher.first_match(&turn.prompt).is_some() {
        Field::Prompt
    } else if fields.reply && matcher.first_match(&turn.reply).is_some() {
        Field::Reply
    } else if fields.tools {
        Field::Tools
    } else {
        Field::Reply
    }
}

/// The tool call and the line of it that first match: (tool name, `input` or `output`, the
/// line). The first line of a call's search text is `Name: summary`.
pub fn tool_hit_line<'t>(
    tools: &'t [String],
    matcher: &Matcher,
) -> Option<(&'t str, &'static str, &'t str)> {
    for text in tools {
        let Some((start, _)) = matcher.first_match(text) else {
            continue;
        };
        let (name, _) = text.split_once(": ").unwrap_or(("tool", ""));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let part = if line_start == 0 { "input" } else { "output" };
        let line = &text[line_start..line_end];
        let line = if line_start == 0 {
            line.strip_prefix(name)
                .and_then(|l| l.strip_prefix(": "))
                .unwrap_or(line)
        } else {
            line
        };
        return Some((name, part, line));
    }
    None
}

impl Highlight for Matcher {
    fn first_match(&self, text: &str) -> Option<(usize, usize)> {
        Matcher::first_match(self, text)
    }

    fn matches(&self, text: &str) -> Vec<(usize, usize)> {
        Matcher::matches(self, text)
    }
}

/// What a hit's line shows: the first of `fields` that matches (`prompt:`, `reply:`, or the
/// tool call's name and part, `Bash output:`) and the text the snippet comes from; a prompt
/// ccx sent says what it was, as in every listing.
pub fn hit_text(hit: &Hit<'_>, matcher: &Matcher, fields: Fields) -> HitText {
    let turn = hit.turn;
    let (field_name, text) = match hit_field(turn, matcher, fields) {
        Field::Prompt => (
            "prompt:".to_string(),
            prompt_text(&turn.prompt).trim().to_string(),
        ),
        Field::Reply => ("reply:".to_string(), turn.reply.clone()),
        Field::Tools => match tool_hit_line(hit.tools, matcher) {
            Some((name, part, line)) => (format!("{name} {part}:"), line.trim().to_string()),
            None => ("tools:".to_string(), String::new()),
        },
    };
    let label = match turn_tag(turn) {
        Some(tag) => format!("{tag} {field_name}"),
        None => field_name,
    };
    HitText { label, text }
}

/// One result line, the snippet from the first of `fields` that matches.
pub fn hit_line_in(hit: &Hit<'_>, matcher: &Matcher, fields: Fields, ctx: &RenderCtx) -> String {
    hit_line(hit.turn, &hit_text(hit, matcher, fields), matcher, ctx)
}

/// What `ccx search` was asked, beyond the query words.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Every project, not only this directory's.
    pub all: bool,
    pub json: bool,
    /// `--in`: the fields to look in (None: all).
    pub fields: Option<String>,
    /// The query is one regular expression.
    pub regex: bool,
    /// Only the turns of this branch's conversation (its lineage).
    pub branch: Option<String>,
    /// Only turns started at or after this: a date, an RFC 3339 time, or a duration ago.
    pub since: Option<String>,
}

/// `--since`: `2026-01-31`, `2026-01-31T12:00:00Z`, or a duration ago (`90m`, `12h`, `3d`,
/// `2w`, `45s`).
pub fn parse_since(
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>> {
    let t = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &t[digits.len()..];
    let n: i64 = digits.parse().map_err(|_| {
        anyhow::anyhow!("--since takes a date (2026-01-31), a time (RFC 3339) or a duration (90m, 12h, 3d, 2w), not '{t}'")
    })?;
    let span = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" | "min" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        "w" => chrono::Duration::weeks(n),
        _ => anyhow::bail!(
            "--since takes a date (2026-01-31), a time (RFC 3339) or a duration (90m, 12h, 3d, 2w), not '{t}'"
        ),
    };
    Ok(now - span)
}

/// A search as asked: the compiled query and what narrows it.
struct Request {
    matcher: Matcher,
    fields: Fields,
    /// Only turns started at or after this.
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// The query's words, for the store's candidate index (empty for a regex).
    words: Vec<String>,
}

impl Request {
    fn new(query: &str, options: &Options, now: chrono::DateTime<chrono::Utc>) -> Result<Request> {
        let fields = match options.fields.as_deref() {
            Some(text) => Fields::parse(text)?,
            None => Fields::default(),
        };
        let matcher = if options.regex {
            Matcher::regex(query)?
        } else {
            Matcher::new(query)?
        };
        let since = options
            .since
            .as_deref()
            .map(|s| parse_since(s, now))
            .transpose()?;
        if options.branch.is_some() && options.all {
            anyhow::bail!("--branch names a branch of this project: leave out --all");
        }
        // The same words the matcher uses: the store decodes only turns holding all of them.
        let words = if options.regex {
            Vec::new()
        } else {
            query.split_whitespace().map(str::to_string).collect()
        };
        Ok(Request {
            matcher,
            fields,
            since,
            words,
        })
    }
}

/// `ccx search QUERY [--in FIELDS] [--regex] [--branch B] [--since WHEN] [--all] [--json]`.
pub fn run(query: &[String], options: &Options) -> Result<i32> {
    let joined = query.join(" ");
    let ctx = RenderCtx::for_stdout();
    let request = Request::new(&joined, options, ctx.now)?;
    let stores = super::open_stores(options.all)?;
    // Only the turns of one branch's conversation.
    let lineage: Option<std::collections::HashSet<crate::ids::TurnId>> = match &options.branch {
        Some(name) => {
            let store = &stores[0];
            crate::query::branch(store, name)?;
            Some(store.lineage(name)?.iter().map(|t| t.id).collect())
        }
        None => None,
    };
    let keep = |turn: &Turn| {
        lineage.as_ref().is_none_or(|ids| ids.contains(&turn.id))
            && request.since.is_none_or(|since| {
                chrono::DateTime::parse_from_rfc3339(&turn.started_at)
                    .is_ok_and(|at| at.with_timezone(&chrono::Utc) >= since)
            })
    };
    let mut found: Vec<(&Store, Vec<Candidate>)> = Vec::new();
    for store in &stores {
        found.push((store, candidates(store, &request, &keep)?));
    }
    let ranked: Vec<(&Store, Vec<Hit<'_>>)> = found
        .iter()
        .map(|(store, candidates)| {
            let docs: Vec<Doc<'_>> = candidates
                .iter()
                .map(|(turn, tools)| Doc { turn, tools })
                .collect();
            (*store, search_docs(&docs, &request.matcher, request.fields))
        })
        .collect();
    if options.json {
        return print_json(&ranked, options.all);
    }
    print_hits(&ranked, &request, options.all, &joined, &ctx)
}

/// The turns of `store` that may match, kept by `keep`, with the search text of their tool
/// calls when tools are searched.
fn candidates(
    store: &Store,
    request: &Request,
    keep: &dyn Fn(&Turn) -> bool,
) -> Result<Vec<Candidate>> {
    let words = &request.words;
    Ok(if request.fields.tools {
        store
            .deep_search_candidates(words)?
            .into_iter()
            .filter(|(turn, _)| keep(turn))
            .collect()
    } else if words.is_empty() {
        store
            .all_turns()?
            .into_iter()
            .filter(|t| keep(t))
            .map(|t| (t, Vec::new()))
            .collect()
    } else {
        store
            .search_candidates(words)?
            .into_iter()
            .filter(|t| keep(t))
            .map(|t| (t, Vec::new()))
            .collect()
    })
}

/// The hits as turn records, each with where the query matched; across projects, best first.
fn print_json(ranked: &[(&Store, Vec<Hit<'_>>)], all: bool) -> Result<i32> {
    let mut all_hits: Vec<&Hit<'_>> = ranked.iter().flat_map(|(_, h)| h.iter()).collect();
    if all {
        all_hits.sort_by_key(|h| std::cmp::Reverse(h.score.rank()));
    }
    let records: Vec<JsonHit<'_>> = all_hits
        .iter()
        .map(|h| JsonHit {
            turn: h.turn,
            matched_in: h.score.matched_in(),
        })
        .collect();
    super::print_json(&records)?;
    Ok(0)
}

/// The hits as lines, under each project's name with `all`; exit code 1 when nothing matched.
fn print_hits(
    ranked: &[(&Store, Vec<Hit<'_>>)],
    request: &Request,
    all: bool,
    query: &str,
    ctx: &RenderCtx,
) -> Result<i32> {
    let mut out = super::buffered_stdout();
    let mut any = false;
    for (store, hits) in ranked {
        if hits.is_empty() {
            continue;
        }
        any = true;
        if all {
            let project = crate::paths::project_label(store.dir());
            writeln!(out, "{}", ctx.palette.strong(&project))?;
        }
        for hit in hits {
            writeln!(
                out,
                "{}",
                hit_line_in(hit, &request.matcher, request.fields, ctx)
            )?;
        }
    }
    if !any {
        writeln!(out, "no turn matches '{query}'")?;
    }
    out.flush()?;
    Ok(if any { 0 } else { 1 })
}

/// A turn that may match, with the search text of its tool calls.
type Candidate = (Turn, Vec<String>);

/// A hit in `--json`: the turn record, plus `matched_in` (`prompt`, `reply`, `tools`).
#[derive(serde::Serialize)]
struct JsonHit<'a> {
    #[serde(flatten)]
    turn: &'a Turn,
    matched_in: Vec<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::search::snippet;
    use crate::render::test_support::{sent_by_ccx, PLAIN};
    use crate::render::Palette;

    fn ctx(now: chrono::DateTime<chrono::Utc>, width: usize) -> RenderCtx {
        RenderCtx {
            width,
            palette: PLAIN,
            now,
        }
    }

    fn turn(id: u64, prompt: &str, reply: &str) -> Turn {
        Turn {
            id: crate::ids::TurnId(id),
            branch: "main".into(),
            prompt: prompt.into(),
            reply: reply.into(),
            started_at: "2026-01-01T11:55:00Z".into(),
            ended_at: Some("2026-01-01T11:56:00Z".into()),
            ..Default::default()
        }
    }

    fn ids(hits: &[Hit<'_>]) -> Vec<u64> {
        hits.iter().map(|h| h.turn.id.get()).collect()
    }

    /// The first hit's line as rendered now, 100 columns wide, over every field.
    fn first_hit_line(hits: &[Hit<'_>], m: &Matcher) -> String {
        hit_line_in(
            &hits[0],
            m,
            Fields::default(),
            &ctx(chrono::Utc::now(), 100),
        )
    }

    #[test]
    fn a_hit_in_a_prompt_ccx_sent_is_labelled_and_unwrapped() {
        let turns = vec![sent_by_ccx(
            turn(5, "Write a handoff of the parser work", "done"),
            crate::model::TurnKind::Summary,
            "summarize-from-here",
        )];
        let m = Matcher::new("parser").unwrap();
        let hits = search_turns(&turns, &m);
        let line = first_hit_line(&hits, &m);
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
        let line = hit_line_in(&hits[0], &m, Fields::default(), &ctx(now, 100));
        for part in ["#7", "main", "5m", "reply:", "the zebra reply"] {
            assert!(line.contains(part), "{part} missing in {line}");
        }
    }

    #[test]
    fn tools_are_searched_and_the_matching_line_is_shown() {
        let turns = [
            turn(1, "run the tests", "they failed"),
            turn(2, "other", "nothing"),
        ];
        let tools = vec![
            "Bash: cargo test\nrunning 3 tests\nerror[E0425]: cannot find value `zebu`".to_string(),
        ];
        let docs = [
            Doc {
                turn: &turns[0],
                tools: &tools,
            },
            Doc {
                turn: &turns[1],
                tools: &[],
            },
        ];
        let m = Matcher::new("zebu").unwrap();
        let hits = search_docs(&docs, &m, Fields::default());
        assert_eq!(ids(&hits), vec![1]);
        assert_eq!(hits[0].score.matched_in(), vec!["tools"]);
        let line = first_hit_line(&hits, &m);
        assert!(
            line.contains("Bash output: error[E0425]: cannot find value `zebu`"),
            "{line}"
        );
        assert!(!line.contains("running 3 tests"), "{line}");
        // The command is the input line.
        let m = Matcher::new("cargo").unwrap();
        let hits = search_docs(&docs, &m, Fields::default());
        let line = first_hit_line(&hits, &m);
        assert!(line.contains("Bash input: cargo test"), "{line}");
        // Not searched when --in leaves tools out; words may be spread over fields.
        let only_text = Fields::parse("prompt,reply").unwrap();
        assert!(search_docs(&docs, &Matcher::new("zebu").unwrap(), only_text).is_empty());
        let hits = search_docs(
            &docs,
            &Matcher::new("failed zebu").unwrap(),
            Fields::default(),
        );
        assert_eq!(hits[0].score.matched_in(), vec!["reply", "tools"]);
    }

    #[test]
    fn regex_queries_match_and_bad_ones_are_one_line() {
        let turns = [turn(1, "error E0425 here", ""), turn(2, "error here", "")];
        let m = Matcher::regex(r"E\d{4}").unwrap();
        assert_eq!(ids(&search_turns(&turns, &m)), vec![1]);
        let err = Matcher::regex("wombat(").unwrap_err().to_string();
        assert!(err.starts_with("bad regex 'wombat(': "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    #[test]
    fn fields_and_since_parse_or_say_why_not() {
        assert_eq!(
            Fields::parse("tools").unwrap(),
            Fields {
                prompt: false,
                reply: false,
                tools: true
            }
        );
        assert_eq!(
            Fields::parse("prompt, reply,tools").unwrap(),
            Fields::default()
        );
        assert!(Fields::parse("files").is_err());
        assert!(Fields::parse(",").is_err());
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-10T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let at = |s: &str| parse_since(s, now).unwrap().to_rfc3339();
        assert_eq!(at("3d"), "2026-01-07T12:00:00+00:00");
        assert_eq!(at("90m"), "2026-01-10T10:30:00+00:00");
        assert_eq!(at("2026-01-01"), "2026-01-01T00:00:00+00:00");
        assert_eq!(at("2026-01-05T08:00:00Z"), "2026-01-05T08:00:00+00:00");
        for bad in ["yesterday", "3 days", "5y", ""] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}

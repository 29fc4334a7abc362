//! `ccx search` results as text: one line per hit — turn, branch, age, where it matched, and a
//! one-line snippet around the first match with every match highlighted (when colour is on).
//! What matches is the search engine's business ([`crate::commands::search`]); it reaches
//! here only through the [`Highlight`] trait, so text and matching stay apart.

use super::text::age;
use super::{Palette, RenderCtx};
use crate::model::Turn;
use owo_colors::OwoColorize;

/// Where a query matches in a text (byte ranges).
pub trait Highlight {
    /// The first match of any part of the query.
    fn first_match(&self, text: &str) -> Option<(usize, usize)>;
    /// Every match, sorted, overlaps merged.
    fn matches(&self, text: &str) -> Vec<(usize, usize)>;
}

/// What a hit's line shows besides the turn: where it matched (`prompt:`, `reply:`,
/// `Bash output:`, with a ccx-sent prompt's tag first) and the text the snippet comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitText {
    pub label: String,
    pub text: String,
}

/// One line of `text` around its first match, at most `width` characters, newlines and tabs as
/// spaces, with an ellipsis where it was cut and every match highlighted (when colour is on).
pub fn snippet(text: &str, matcher: &dyn Highlight, width: usize, palette: Palette) -> String {
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
    let window = &text[byte_at(start)..byte_at(end)];
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
    palette.paint(text, |t| t.bold().yellow().underline().to_string())
}

/// One result line: `#12  main  5m  prompt: …snippet…`, or for a tool call `#12  main  5m
/// Bash output: …the matching line…`.
pub fn hit_line(turn: &Turn, hit: &HitText, matcher: &dyn Highlight, ctx: &RenderCtx) -> String {
    let palette = ctx.palette;
    let id = format!("#{:<4}", turn.id);
    let branch = format!("{:<12}", turn.branch);
    let age = format!("{:>4}", age(&turn.started_at, ctx.now));
    let used = id.chars().count()
        + branch.chars().count()
        + age.chars().count()
        + hit.label.chars().count()
        + 4;
    let room = ctx.width.saturating_sub(used).max(20);
    format!(
        "{} {} {} {} {}",
        palette.id(&id),
        branch,
        palette.dim(&age),
        palette.dim(&hit.label),
        snippet(&hit.text, matcher, room, palette)
    )
}

//! `:context`: how full the context is now, against the window and the rot zone, which turns
//! filled it, and which meta-command fits now. A pure function from a branch's turns to text.
//!
//! ```text
//! context  312.4k of 1M (31%) · rot zone from 300k: inside it
//! [███████████████│█░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░]
//! largest turns (what each added to the context):
//!   #7    +96.1k  3h  read every file under src/ and explain the architecture
//!   ...
//! advice:
//!   - inside the rot zone: ...
//! ```
//! "Now" is the last finished turn with a measured context (`context_tokens` > 0; an
//! interrupted turn may have none). What a turn added is its context minus the previous
//! measured turn's. The largest turns are looked for only since the context last shrank (a
//! `/compact` or a fresh session), since earlier turns are no longer in it one by one.

use crate::commands::render::{age, prompt_label, tokens, Palette};
use crate::model::Turn;

/// Fraction of the rot zone from which the context counts as approaching it.
pub const APPROACH_FRACTION: f64 = 0.6;
/// A turn that added more than this fraction of the context now is a detour candidate.
pub const DETOUR_FRACTION: f64 = 0.25;
/// How many of the largest turns are listed.
pub const LARGEST: usize = 5;

/// Where the context stands against the rot zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Below [`APPROACH_FRACTION`] of the rot zone.
    Far,
    /// From [`APPROACH_FRACTION`] of the rot zone up to it.
    Approaching,
    /// At or past the rot zone.
    Inside,
}

/// Classifies `used` tokens against the rot zone (which starts at `rot_zone` tokens).
pub fn zone(used: u64, rot_zone: u64) -> Zone {
    if used >= rot_zone {
        Zone::Inside
    } else if used as f64 >= rot_zone as f64 * APPROACH_FRACTION {
        Zone::Approaching
    } else {
        Zone::Far
    }
}

/// The plain bar: `cells` cells for the window, `█` for the part used, `░` for the rest, and
/// a `│` inserted where the rot zone starts (left out when it starts at or past the window's
/// end). Returns the part before the marker, the marker and the part after, so the caller can
/// colour them; the used part is never empty when `used` > 0.
pub fn bar(used: u64, window: u64, rot_zone: u64, cells: usize) -> String {
    bar_parts(used, window, rot_zone, cells)
        .into_iter()
        .map(|(text, _)| text)
        .collect()
}

/// The bar as runs of (text, is_used_part).
fn bar_parts(used: u64, window: u64, rot_zone: u64, cells: usize) -> Vec<(String, bool)> {
    let window = window.max(1);
    let scale = |n: u64| -> usize {
        ((n.min(window) as f64 / window as f64) * cells as f64).round() as usize
    };
    let mut filled = scale(used);
    if used > 0 {
        filled = filled.max(1);
    }
    let marker = (rot_zone < window).then(|| scale(rot_zone).min(cells));
    let mut runs: Vec<(String, bool)> = Vec::new();
    let mut push = |c: char, is_used: bool| match runs.last_mut() {
        Some((text, u)) if *u == is_used => text.push(c),
        _ => runs.push((c.to_string(), is_used)),
    };
    push('[', false);
    for i in 0..=cells {
        if marker == Some(i) {
            push('│', false);
        }
        if i < cells {
            if i < filled {
                push('█', true);
            } else {
                push('░', false);
            }
        }
    }
    push(']', false);
    runs
}

fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 100;
    }
    ((part as f64 / whole as f64) * 100.0).round() as u64
}

/// A turn and what it added to the context.
struct Added<'a> {
    turn: &'a Turn,
    added: u64,
    /// The first measured turn (of the branch, or since the context shrank): what it added
    /// includes Claude's own setup or the compacted summary, so it is no detour candidate.
    from_start: bool,
}

/// Renders `:context` for the turns of a branch (its lineage, oldest first).
pub fn render_context(
    turns_of_branch: &[Turn],
    window: u64,
    rot_zone: u64,
    width: usize,
    palette: Palette,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    if turns_of_branch.is_empty() {
        return "no turns on this branch yet: the context holds only Claude's own setup".into();
    }
    let measured: Vec<&Turn> = turns_of_branch
        .iter()
        .filter(|t| !t.is_running() && t.context_tokens > 0)
        .collect();
    let Some(last) = measured.last() else {
        return "no finished turn with a measured context on this branch yet".into();
    };
    let used = last.context_tokens;
    let width = width.max(40);
    let window = window.max(1);
    // When the window ends before the rot zone, the window's end is what matters.
    let zone_start = rot_zone.min(window);
    let where_ = zone(used, zone_start);

    // What each turn added, since the context last shrank.
    let mut added: Vec<Added> = Vec::new();
    let mut prev: Option<u64> = None;
    for t in &measured {
        match prev {
            Some(p) if t.context_tokens < p => added.clear(),
            _ => {}
        }
        let base = prev.filter(|p| *p <= t.context_tokens);
        added.push(Added {
            turn: t,
            added: t.context_tokens - base.unwrap_or(0),
            from_start: base.is_none(),
        });
        prev = Some(t.context_tokens);
    }
    let mut largest: Vec<&Added> = added.iter().filter(|a| a.added > 0).collect();
    largest.sort_by(|a, b| b.added.cmp(&a.added).then(a.turn.id.cmp(&b.turn.id)));
    largest.truncate(LARGEST);

    let mut out = String::new();
    out.push_str(&format!(
        "{} {} of {} ({}%) after #{}\n",
        palette.strong("context"),
        palette.strong(&tokens(used)),
        tokens(window),
        percent(used, window),
        last.id,
    ));
    let cells = width.saturating_sub(3).min(60);
    for (text, is_used) in bar_parts(used, window, zone_start, cells) {
        if !is_used {
            out.push_str(&palette.dim(&text));
        } else if where_ == Zone::Inside {
            out.push_str(&palette.warn(&text));
        } else {
            out.push_str(&palette.good(&text));
        }
    }
    out.push('\n');
    let window_first = rot_zone >= window;
    let standing = if window_first {
        // The window ends before the rot zone: its end is the limit that matters.
        let note = format!("the window ends before the rot zone ({})", tokens(rot_zone));
        let state = match where_ {
            Zone::Far => palette.good(&format!("{} left in it", tokens(window - used))),
            Zone::Approaching => {
                palette.warn(&format!("nearly full, {} left", tokens(window - used)))
            }
            Zone::Inside => palette.warn("it is full"),
        };
        format!("{note}: {state}")
    } else {
        let note = format!(
            "rot zone from {} ({}% of the window)",
            tokens(rot_zone),
            percent(rot_zone, window)
        );
        let state = match where_ {
            Zone::Far => palette.good(&format!(
                "well below it, {} to go",
                tokens(zone_start - used)
            )),
            Zone::Approaching => palette.warn(&format!(
                "approaching it, {} left",
                tokens(zone_start - used)
            )),
            Zone::Inside => palette.warn(&format!(
                "inside it, {} past its start",
                tokens(used - zone_start)
            )),
        };
        format!("{note}: {state}")
    };
    out.push_str(&format!("{standing}\n"));

    if !largest.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            palette.strong("largest turns (what each added to the context):")
        ));
        let id_w = largest
            .iter()
            .map(|a| a.turn.id.to_string().len())
            .max()
            .unwrap_or(1)
            + 1;
        for a in &largest {
            let id = format!("#{:<w$}", a.turn.id, w = id_w - 1);
            let plus = format!("{:>7}", format!("+{}", tokens(a.added)));
            let when = format!(
                "{:>4}",
                age(
                    a.turn.ended_at.as_deref().unwrap_or(&a.turn.started_at),
                    now
                )
            );
            let head = 2 + id.chars().count() + 2 + plus.chars().count() + 2 + when.len() + 2;
            let prompt = prompt_label(a.turn, width.saturating_sub(head).max(10));
            out.push_str(&format!(
                "  {}  {}  {}  {}\n",
                palette.id(&id),
                plus,
                palette.dim(&when),
                prompt
            ));
        }
    }

    out.push_str(&format!("\n{}\n", palette.strong("advice:")));
    for line in advice(used, zone_start, window_first, &largest) {
        out.push_str(&wrap_item(&line, width));
    }
    out.pop();
    out
}

/// Which meta-commands fit now, and why: one entry per piece of advice. `window_first`: the
/// window ends before the rot zone, so `zone_start` is the window's end.
fn advice(used: u64, zone_start: u64, window_first: bool, largest: &[&Added]) -> Vec<String> {
    let mut out = Vec::new();
    let left = tokens(zone_start.saturating_sub(used));
    let limit = if window_first {
        "the window's end"
    } else {
        "the rot zone"
    };
    // The largest turn that could be rewound away.
    let candidate = largest
        .iter()
        .find(|a| !a.from_start && a.turn.parent.is_some());
    let detour = candidate.filter(|a| a.added as f64 > used as f64 * DETOUR_FRACTION);
    let rewind_before = |a: &Added| match a.turn.parent {
        Some(p) => format!("`:rewind {p}` forks just before it"),
        None => "it was the first turn, so `:clear` or `:brief` starts without it".to_string(),
    };
    match zone(used, zone_start) {
        Zone::Far => {
            out.push(format!(
                "well below {limit} ({left} to go): keep going. For a side quest (a search, \
                 a review, an experiment) use `:subagent TASK`: it runs with a clean context and \
                 only its report comes back."
            ));
        }
        Zone::Approaching => {
            out.push(format!(
                "approaching {limit} ({left} left): act now while quality is still high. \
                 `:compact FOCUS` keeps what matters for the next step; `:summarize-from-here` \
                 writes a handoff you can start a fresh session from with `:brief`."
            ));
        }
        Zone::Inside => {
            let mut line = if window_first {
                "the window is full: Claude compacts it on its own, keeping what it chooses. \
                 `:summarize-from-here` then `:brief` continues in a fresh session with a \
                 handoff of what matters"
            } else {
                "inside the rot zone: answers get worse from here. \
                 `:summarize-from-here` then `:brief` continues in a fresh session \
                 with a handoff of what matters"
            }
            .to_string();
            match candidate {
                Some(a) => line.push_str(&format!(
                    "; or, if #{} (+{}) was a detour, {}.",
                    a.turn.id,
                    tokens(a.added),
                    rewind_before(a)
                )),
                None => line.push('.'),
            }
            out.push(line);
        }
    }
    if let Some(a) = detour {
        out.push(format!(
            "#{} alone added {} ({}% of the context): if it was a detour, {}.",
            a.turn.id,
            tokens(a.added),
            percent(a.added, used),
            rewind_before(a)
        ));
    }
    out
}

/// `- text`, word-wrapped to `width` with continuation lines indented.
fn wrap_item(text: &str, width: usize) -> String {
    let width = width.max(20);
    let mut out = String::new();
    let mut line = String::from("  -");
    for word in text.split_whitespace() {
        if line.chars().count() + 1 + word.chars().count() > width && line.trim() != "-" {
            out.push_str(&line);
            out.push('\n');
            line = String::from("   ");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Palette = Palette { enabled: false };

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    /// The text with every run of whitespace made one space (advice lines wrap).
    fn flat(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Turns 1.. with the given context sizes, each the parent of the next.
    fn turns(contexts: &[u64]) -> Vec<Turn> {
        contexts
            .iter()
            .enumerate()
            .map(|(i, &c)| Turn {
                id: i as u64 + 1,
                parent: (i > 0).then_some(i as u64),
                branch: "main".into(),
                prompt: format!("prompt {}\nsecond line", i + 1),
                context_tokens: c,
                started_at: "2026-01-01T11:00:00Z".into(),
                ended_at: Some("2026-01-01T11:30:00Z".into()),
                ..Turn::default()
            })
            .collect()
    }

    #[test]
    fn zone_thresholds() {
        assert_eq!(zone(0, 300_000), Zone::Far);
        assert_eq!(zone(179_999, 300_000), Zone::Far);
        assert_eq!(zone(180_000, 300_000), Zone::Approaching);
        assert_eq!(zone(299_999, 300_000), Zone::Approaching);
        assert_eq!(zone(300_000, 300_000), Zone::Inside);
        assert_eq!(zone(900_000, 300_000), Zone::Inside);
        assert_eq!(zone(0, 0), Zone::Inside);
    }

    #[test]
    fn bar_marks_the_rot_zone() {
        assert_eq!(bar(0, 100, 50, 10), "[░░░░░│░░░░░]");
        assert_eq!(bar(30, 100, 50, 10), "[███░░│░░░░░]");
        assert_eq!(bar(70, 100, 50, 10), "[█████│██░░░]");
        assert_eq!(bar(100, 100, 50, 10), "[█████│█████]");
        // Past the window: full, never longer.
        assert_eq!(bar(500, 100, 50, 10), "[█████│█████]");
        // A little is never shown as nothing.
        assert_eq!(bar(1, 1_000_000, 300_000, 10), "[█░░│░░░░░░░]");
        // The rot zone at or past the window's end: no marker.
        assert_eq!(bar(50, 100, 100, 10), "[█████░░░░░]");
        assert_eq!(bar(50, 100, 300, 10), "[█████░░░░░]");
        // Zone at zero: marker first.
        assert_eq!(bar(0, 100, 0, 4), "[│░░░░]");
        // A zero window does not divide by zero.
        assert_eq!(bar(5, 0, 0, 4), "[│████]");
    }

    #[test]
    fn far_below_the_zone_says_keep_going() {
        let text = render_context(
            &turns(&[20_000, 30_000, 40_000]),
            1_000_000,
            300_000,
            100,
            PLAIN,
            now(),
        );
        let head: Vec<&str> = text.lines().take(3).collect();
        assert_eq!(head[0], "context 40k of 1M (4%) after #3", "{text}");
        assert!(head[1].starts_with("[██░░"), "{text}");
        assert_eq!(
            head[2],
            "rot zone from 300k (30% of the window): well below it, 260k to go"
        );
        assert!(flat(&text).contains("keep going"), "{text}");
        assert!(flat(&text).contains(":subagent"), "{text}");
        assert!(!flat(&text).contains(":summarize-from-here"), "{text}");
    }

    #[test]
    fn approaching_the_zone_suggests_compact_or_summary() {
        let text = render_context(
            &turns(&[100_000, 150_000, 180_000]),
            1_000_000,
            300_000,
            100,
            PLAIN,
            now(),
        );
        assert!(flat(&text).contains("approaching it, 120k left"), "{text}");
        assert!(
            flat(&text).contains("`:compact FOCUS`")
                && flat(&text).contains("`:summarize-from-here`"),
            "{text}"
        );
        let below = render_context(
            &turns(&[100_000, 179_000]),
            1_000_000,
            300_000,
            100,
            PLAIN,
            now(),
        );
        assert!(flat(&below).contains("well below it"), "{below}");
    }

    #[test]
    fn inside_the_zone_suggests_a_handoff_or_a_rewind() {
        let text = render_context(
            &turns(&[100_000, 150_000, 320_000]),
            1_000_000,
            300_000,
            100,
            PLAIN,
            now(),
        );
        assert!(
            flat(&text).contains("inside it, 20k past its start"),
            "{text}"
        );
        assert!(
            flat(&text).contains("`:summarize-from-here` then `:brief`"),
            "{text}"
        );
        // #3 added 170k: the largest, and more than a quarter of the context.
        assert!(
            flat(&text).contains("#3 (+170k) was a detour, `:rewind 2` forks just before it"),
            "{text}"
        );
        assert!(
            flat(&text).contains("#3 alone added 170k (53% of the context)"),
            "{text}"
        );
    }

    #[test]
    fn detour_threshold_is_a_quarter_of_the_context() {
        // #2 adds exactly 25%: not a detour; 26%: one.
        let at = render_context(
            &turns(&[75_000, 100_000]),
            1_000_000,
            300_000,
            100,
            PLAIN,
            now(),
        );
        assert!(!flat(&at).contains("alone added"), "{at}");
        let over = render_context(
            &turns(&[74_000, 100_000]),
            1_000_000,
            300_000,
            100,
            PLAIN,
            now(),
        );
        assert!(
            flat(&over).contains("#2 alone added 26k (26% of the context)"),
            "{over}"
        );
        assert!(
            flat(&over).contains("`:rewind 1` forks just before it"),
            "{over}"
        );
        // The first turn (Claude's setup included) is never a detour candidate.
        let first = render_context(&turns(&[100_000]), 1_000_000, 300_000, 100, PLAIN, now());
        assert!(
            !flat(&first).contains("alone added") && !flat(&first).contains(":rewind"),
            "{first}"
        );
        let first = render_context(&turns(&[310_000]), 1_000_000, 300_000, 100, PLAIN, now());
        assert!(
            !flat(&first).contains("alone added") && !flat(&first).contains(":rewind"),
            "{first}"
        );
    }

    #[test]
    fn lists_the_five_largest_turns_since_the_context_last_shrank() {
        let contexts = [
            50_000, 900_000, // before a compaction: not listed
            60_000, 70_000, 100_000, 101_000, 150_000, 160_000, 190_000, 191_000,
        ];
        let mut all = turns(&contexts);
        all[9].prompt = "x".repeat(500);
        let text = render_context(&all, 1_000_000, 300_000, 80, PLAIN, now());
        let section: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("largest turns"))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        let ids: Vec<&str> = section
            .iter()
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(ids, ["#3", "#7", "#5", "#9", "#4"], "{text}");
        assert!(
            section[0].contains("+60k") && section[0].contains("prompt 3"),
            "{text}"
        );
        assert!(!text.contains("second line"), "{text}");
        assert!(!flat(&text).contains("#2 "), "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "too long: {line}");
        }
    }

    #[test]
    fn skips_running_and_unmeasured_turns() {
        let mut all = turns(&[10_000, 20_000, 0, 25_000]);
        all[3].ended_at = None;
        let text = render_context(&all, 200_000, 300_000, 100, PLAIN, now());
        assert!(
            text.starts_with("context 20k of 200k (10%) after #2\n"),
            "{text}"
        );
        assert!(
            text.contains("the window ends before the rot zone (300k): 180k left in it"),
            "{text}"
        );
        assert!(
            flat(&text).contains("well below the window's end (180k to go)"),
            "{text}"
        );
        assert!(text.contains("\n[██████░"), "{text}");
        assert!(!text.contains('│'), "{text}");
    }

    #[test]
    fn a_window_that_ends_before_the_rot_zone_is_the_limit() {
        let near = render_context(
            &turns(&[100_000, 185_000]),
            200_000,
            300_000,
            100,
            PLAIN,
            now(),
        );
        assert!(
            near.contains("the window ends before the rot zone (300k): nearly full, 15k left"),
            "{near}"
        );
        assert!(
            flat(&near).contains("approaching the window's end (15k left)"),
            "{near}"
        );
        let full = render_context(
            &turns(&[100_000, 200_000]),
            200_000,
            300_000,
            100,
            PLAIN,
            now(),
        );
        assert!(full.contains("(300k): it is full"), "{full}");
        assert!(flat(&full).contains("the window is full"), "{full}");
        for text in [&near, &full] {
            assert!(!text.contains("past") && !text.contains("to go"), "{text}");
        }
    }

    #[test]
    fn largest_turns_are_labelled_by_what_sent_them() {
        let mut all = turns(&[10_000, 60_000]);
        all[1].kind = crate::model::TurnKind::Brief;
        all[1].input = Some("brief summary-12".into());
        all[1].prompt =
            "<pasted_content id=\"c1d1\">\nThis session continues\n</pasted_content>".into();
        let text = render_context(&all, 1_000_000, 300_000, 100, PLAIN, now());
        assert!(
            text.contains("+50k") && text.contains("[brief summary-12] This session continues"),
            "{text}"
        );
        assert!(!text.contains("pasted_content"), "{text}");
    }

    #[test]
    fn no_turns_says_so() {
        assert!(render_context(&[], 1_000_000, 300_000, 80, PLAIN, now()).contains("no turns"));
        let unmeasured = turns(&[0]);
        assert!(
            render_context(&unmeasured, 1_000_000, 300_000, 80, PLAIN, now())
                .contains("no finished turn")
        );
    }

    #[test]
    fn lines_fit_narrow_terminals() {
        let text = render_context(
            &turns(&[100_000, 150_000, 320_000]),
            1_000_000,
            300_000,
            50,
            PLAIN,
            now(),
        );
        for line in text.lines() {
            assert!(
                line.chars().count() <= 50 || line.starts_with("rot zone"),
                "too long: {line}"
            );
        }
    }

    #[test]
    fn colour_marks_the_used_part_warn_inside_the_zone() {
        let text = render_context(
            &turns(&[320_000]),
            1_000_000,
            300_000,
            80,
            Palette { enabled: true },
            now(),
        );
        assert!(text.contains("\u{1b}[31m█"), "{text:?}");
    }
}

//! `:context` as text: how full the context is now, against the window and the rot zone, which
//! turns filled it, and which meta-command fits now. The numbers come from
//! [`crate::query::context::measure`].
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

use super::text::{age, prompt_label, tokens, wrap};
use super::{Palette, RenderCtx};
use crate::query::context::{Added, ContextState, Measure, Zone};

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

/// Renders `:context` for a measured branch. No final newline.
pub fn render_context(state: &ContextState, ctx: &RenderCtx) -> String {
    let m = match state {
        ContextState::NoTurns => {
            return "no turns on this branch yet: the context holds only Claude's own setup".into()
        }
        ContextState::Unmeasured => {
            return "no finished turn with a measured context on this branch yet".into()
        }
        ContextState::Measured(m) => m,
    };
    let width = ctx.width.max(40);
    let palette = ctx.palette;
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} of {} ({}%) after #{}\n",
        palette.strong("context"),
        palette.strong(&tokens(m.used)),
        tokens(m.window),
        percent(m.used, m.window),
        m.last.id,
    ));
    let cells = width.saturating_sub(3).min(60);
    for (text, is_used) in bar_parts(m.used, m.window, m.zone_start, cells) {
        if !is_used {
            out.push_str(&palette.dim(&text));
        } else if m.zone == Zone::Inside {
            out.push_str(&palette.warn(&text));
        } else {
            out.push_str(&palette.good(&text));
        }
    }
    out.push('\n');
    out.push_str(&format!("{}\n", standing(m, palette)));
    if !m.largest.is_empty() {
        out.push_str(&largest_turns(&m.largest, width, ctx));
    }
    out.push_str(&format!("\n{}\n", palette.strong("advice:")));
    for line in advice(m) {
        out.push_str(&wrap(&line, width.max(20), "  - ", "    "));
    }
    out.pop();
    out
}

/// One line: where the rot zone (or the window's end) is, and where the context stands.
fn standing(m: &Measure, palette: Palette) -> String {
    let (used, window, zone_start) = (m.used, m.window, m.zone_start);
    if m.window_first {
        // The window ends before the rot zone: its end is the limit that matters.
        let note = format!(
            "the window ends before the rot zone ({})",
            tokens(m.rot_zone)
        );
        let state = match m.zone {
            Zone::Far => palette.good(&format!("{} left in it", tokens(window - used))),
            Zone::Approaching => {
                palette.warn(&format!("nearly full, {} left", tokens(window - used)))
            }
            Zone::Inside => palette.warn("it is full"),
        };
        return format!("{note}: {state}");
    }
    let note = format!(
        "rot zone from {} ({}% of the window)",
        tokens(m.rot_zone),
        percent(m.rot_zone, window)
    );
    let state = match m.zone {
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
}

/// The largest turns: id, what each added, its age and its prompt's label.
fn largest_turns(largest: &[Added], width: usize, ctx: &RenderCtx) -> String {
    let palette = ctx.palette;
    let mut out = format!(
        "\n{}\n",
        palette.strong("largest turns (what each added to the context):")
    );
    let id_w = largest
        .iter()
        .map(|a| a.turn.id.to_string().len())
        .max()
        .unwrap_or(1)
        + 1;
    for a in largest {
        let id = format!("#{:<w$}", a.turn.id, w = id_w - 1);
        let plus = format!("{:>7}", format!("+{}", tokens(a.added)));
        let when = format!(
            "{:>4}",
            age(
                a.turn.ended_at.as_deref().unwrap_or(&a.turn.started_at),
                ctx.now
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
    out
}

/// Which meta-commands fit now, and why: one entry per piece of advice.
fn advice(m: &Measure) -> Vec<String> {
    let mut out = Vec::new();
    let left = tokens(m.zone_start.saturating_sub(m.used));
    let limit = if m.window_first {
        "the window's end"
    } else {
        "the rot zone"
    };
    let rewind_before = |a: &Added| match a.turn.parent {
        Some(p) => format!("`:rewind {p}` forks just before it"),
        None => "it was the first turn, so `:clear` or `:brief` starts without it".to_string(),
    };
    match m.zone {
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
            let mut line = if m.window_first {
                "the window is full: Claude compacts it on its own, keeping what it chooses. \
                 `:summarize-from-here` then `:brief` continues in a fresh session with a \
                 handoff of what matters"
            } else {
                "inside the rot zone: answers get worse from here. \
                 `:summarize-from-here` then `:brief` continues in a fresh session \
                 with a handoff of what matters"
            }
            .to_string();
            match &m.rewind_candidate {
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
    if let Some(a) = m.rewind_candidate.as_ref().filter(|_| m.detour) {
        out.push(format!(
            "#{} alone added {} ({}% of the context): if it was a detour, {}.",
            a.turn.id,
            tokens(a.added),
            percent(a.added, m.used),
            rewind_before(a)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Turn, TurnKind};
    use crate::query::context::measure;
    use crate::render::test_support::{now, sent_by_ccx, PLAIN};

    /// Asserts that `text`, its lines joined, says `part`.
    fn says(text: &str, part: &str) {
        assert!(flat(text).contains(part), "{text}");
    }

    /// Measures `turns` and renders the result.
    fn render_context(
        turns: &[Turn],
        window: u64,
        rot_zone: u64,
        width: usize,
        palette: Palette,
        now: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let ctx = RenderCtx {
            width,
            palette,
            now,
        };
        super::render_context(&measure(turns, window, rot_zone), &ctx)
    }

    /// `:context` for turns with these contexts, in a 1M window with the rot zone from 300k,
    /// 100 columns, plain.
    fn in_1m(contexts: &[u64]) -> String {
        render_context(&turns(contexts), 1_000_000, 300_000, 100, PLAIN, now())
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
                id: crate::ids::TurnId(i as u64 + 1),
                parent: (i > 0).then_some(crate::ids::TurnId(i as u64)),
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
        let text = in_1m(&[20_000, 30_000, 40_000]);
        let head: Vec<&str> = text.lines().take(3).collect();
        assert_eq!(head[0], "context 40k of 1M (4%) after #3", "{text}");
        assert!(head[1].starts_with("[██░░"), "{text}");
        assert_eq!(
            head[2],
            "rot zone from 300k (30% of the window): well below it, 260k to go"
        );
        says(&text, "keep going");
        says(&text, ":subagent");
        assert!(!flat(&text).contains(":summarize-from-here"), "{text}");
    }

    #[test]
    fn approaching_the_zone_suggests_compact_or_summary() {
        let text = in_1m(&[100_000, 150_000, 180_000]);
        says(&text, "approaching it, 120k left");
        assert!(
            flat(&text).contains("`:compact FOCUS`")
                && flat(&text).contains("`:summarize-from-here`"),
            "{text}"
        );
        let below = in_1m(&[100_000, 179_000]);
        says(&below, "well below it");
    }

    #[test]
    fn inside_the_zone_suggests_a_handoff_or_a_rewind() {
        let text = in_1m(&[100_000, 150_000, 320_000]);
        says(&text, "inside it, 20k past its start");
        says(&text, "`:summarize-from-here` then `:brief`");
        // #3 added 170k: the largest, and more than a quarter of the context.
        says(
            &text,
            "#3 (+170k) was a detour, `:rewind 2` forks just before it",
        );
        says(&text, "#3 alone added 170k (53% of the context)");
    }

    #[test]
    fn detour_threshold_is_a_quarter_of_the_context() {
        // #2 adds exactly 25%: not a detour; 26%: one.
        let at = in_1m(&[75_000, 100_000]);
        assert!(!flat(&at).contains("alone added"), "{at}");
        let over = in_1m(&[74_000, 100_000]);
        says(&over, "#2 alone added 26k (26% of the context)");
        says(&over, "`:rewind 1` forks just before it");
        // The first turn (Claude's setup included) is never a detour candidate.
        let first = in_1m(&[100_000]);
        assert!(
            !flat(&first).contains("alone added") && !flat(&first).contains(":rewind"),
            "{first}"
        );
        let first = in_1m(&[310_000]);
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
        says(&text, "well below the window's end (180k to go)");
        assert!(text.contains("\n[██████░"), "{text}");
        assert!(!text.contains('│'), "{text}");
    }

    #[test]
    fn a_window_that_ends_before_the_rot_zone_is_the_limit() {
        let in_200k_window = |contexts: &[u64]| {
            render_context(&turns(contexts), 200_000, 300_000, 100, PLAIN, now())
        };
        let near = in_200k_window(&[100_000, 185_000]);
        assert!(
            near.contains("the window ends before the rot zone (300k): nearly full, 15k left"),
            "{near}"
        );
        says(&near, "approaching the window's end (15k left)");
        let full = in_200k_window(&[100_000, 200_000]);
        assert!(full.contains("(300k): it is full"), "{full}");
        says(&full, "the window is full");
        for text in [&near, &full] {
            assert!(!text.contains("past") && !text.contains("to go"), "{text}");
        }
    }

    #[test]
    fn largest_turns_are_labelled_by_what_sent_them() {
        let mut all = turns(&[10_000, 60_000]);
        all[1].prompt = "This session continues".into();
        all[1] = sent_by_ccx(all[1].clone(), TurnKind::Brief, "brief summary-12");
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

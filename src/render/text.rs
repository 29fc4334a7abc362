//! The small pieces every listing shares: token counts (`12.3k`), ages (`5m`), a text's first
//! line cut to a width, and how a turn's prompt is named in one line (its tag, like `[summary]`,
//! and the first line of what Claude received without Claude Code's paste wrappers).

use crate::model::{Turn, TurnKind};

/// `950`, `12.3k`, `1.2M`.
pub fn tokens(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=999_999 => format!("{:.1}k", n as f64 / 1000.0).replace(".0k", "k"),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0).replace(".0M", "M"),
    }
}

/// How long ago an RFC 3339 time was, relative to `now`: `12s`, `5m`, `3h`, `2d`.
pub fn age(at: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(then) = chrono::DateTime::parse_from_rfc3339(at) else {
        return "?".into();
    };
    let secs = (now - then.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// The first non-empty line of `text`, cut to `width` characters with an ellipsis.
pub fn first_line(text: &str, width: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    clip_line(line, width)
}

/// One line cut to `width` characters with an ellipsis; an empty line stays empty (one
/// physical line in, one out).
pub fn clip_line(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        line.to_string()
    } else {
        let cut: String = line.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The tag every listing puts before a prompt that ccx sent for the person, saying what it is:
/// `[summary]`, `[brief summary-12]`, `[pull #1]`, `[subagent]`, `[compact]`, `[replay]`;
/// None for a prompt the person typed. Decided from the turn's kind and what the person typed
/// (its `input`, which names the brief or the job).
pub fn turn_tag(turn: &Turn) -> Option<String> {
    // The argument of what was typed (`:brief NAME`, `:pull #3`), read by its words alone so
    // that rendering needs nothing of the meta-command parser.
    let argument = |command: &str| -> Option<String> {
        let mut words = turn.input.as_deref()?.split_whitespace();
        let typed = words.next()?.trim_start_matches(':');
        (typed == command).then(|| {
            words
                .next()
                .map(|w| w.trim_matches(['"', '\'']).to_string())
        })?
    };
    let tag = match turn.kind {
        TurnKind::Prompt => return None,
        TurnKind::Summary => "summary".to_string(),
        TurnKind::Brief => match argument("brief") {
            Some(name) if !name.starts_with('-') => format!("brief {name}"),
            _ => "brief".to_string(),
        },
        TurnKind::Subagent => match argument("pull") {
            Some(job) => format!("pull #{}", job.trim_start_matches('#')),
            None if turn.input.as_deref().is_some_and(|i| {
                i.split_whitespace()
                    .next()
                    .map(|w| w.trim_start_matches(':'))
                    == Some("pull")
            }) =>
            {
                "pull".to_string()
            }
            None => "subagent".to_string(),
        },
        other => other.as_str().to_string(),
    };
    Some(format!("[{tag}]"))
}

/// A prompt as the person would name it: Claude Code wraps a long pasted prompt (every prompt
/// ccx sends is pasted) in `<pasted_content id="…">` … `</pasted_content>`; the tags go.
pub fn prompt_text(prompt: &str) -> String {
    static TAGS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        regex::Regex::new(r"</?pasted_content(?:\s[^>]*)?>").expect("a valid pattern")
    });
    tags.replace_all(prompt, "").into_owned()
}

/// The one line a listing shows for a turn's prompt, at most `width` characters: its tag
/// ([`turn_tag`]) and the first line of what Claude received, without paste wrappers.
pub fn prompt_label(turn: &Turn, width: usize) -> String {
    let text = prompt_text(&turn.prompt);
    match turn_tag(turn) {
        Some(tag) => {
            let room = width.saturating_sub(tag.chars().count() + 1);
            let line = first_line(&text, room);
            if line.is_empty() || room == 0 {
                first_line(&tag, width)
            } else {
                format!("{tag} {line}")
            }
        }
        None => first_line(&text, width),
    }
}
/// `text` word-wrapped to `width` columns, each line ending in a newline: the first line
/// starts with `first`, the others with `rest`. A word longer than a line stands alone.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(first);
    let mut words_on_line = 0;
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if words_on_line > 0 && len + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(rest);
            words_on_line = 0;
        }
        if words_on_line > 0 {
            line.push(' ');
        }
        line.push_str(word);
        words_on_line += 1;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TurnId;
    use crate::render::test_support::{now, plain};
    use crate::render::turns::turn_line;

    #[test]
    fn wrap_hangs_continuation_lines_and_never_leaves_an_empty_one() {
        let item = wrap("one two three", 9, "  - ", "    ");
        assert_eq!(item, "  - one\n    two\n    three\n");
        assert_eq!(wrap("a verylongword b", 6, "", ""), "a\nverylongword\nb\n");
        assert_eq!(wrap("", 10, "> ", ""), "> \n");
    }

    #[test]
    fn token_counts_read_short() {
        assert_eq!(tokens(950), "950");
        assert_eq!(tokens(12_345), "12.3k");
        assert_eq!(tokens(300_000), "300k");
        assert_eq!(tokens(1_200_000), "1.2M");
    }

    #[test]
    fn ages_read_short() {
        assert_eq!(age("2026-01-01T11:59:30Z", now()), "30s");
        assert_eq!(age("2026-01-01T11:00:00Z", now()), "1h");
        assert_eq!(age("2025-12-30T12:00:00Z", now()), "2d");
        assert_eq!(age("garbage", now()), "?");
    }

    fn sent(kind: TurnKind, input: Option<&str>, prompt: &str) -> Turn {
        Turn {
            id: TurnId(12),
            kind,
            input: input.map(str::to_string),
            prompt: prompt.into(),
            reply: "ok".into(),
            started_at: "2026-01-01T11:55:00Z".into(),
            ended_at: Some("2026-01-01T11:56:00Z".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_turn_is_tagged_by_what_sent_it() {
        #[rustfmt::skip]
        let cases = [
            (TurnKind::Prompt, None, None),
            (TurnKind::Prompt, Some("log"), None),
            (TurnKind::Summary, Some("summarize-from-here 4"), Some("[summary]")),
            (TurnKind::Brief, Some("brief summary-12"), Some("[brief summary-12]")),
            (TurnKind::Brief, Some(":brief summary-12"), Some("[brief summary-12]")),
            (TurnKind::Brief, Some("brief -e"), Some("[brief]")),
            (TurnKind::Subagent, Some("pull 1"), Some("[pull #1]")),
            (TurnKind::Subagent, Some("pull #3"), Some("[pull #3]")),
            (TurnKind::Subagent, Some("pull"), Some("[pull]")),
            // A subagent's own turns: their input is the task, not a command.
            (TurnKind::Subagent, Some("find the bug in the parser"), Some("[subagent]")),
            (TurnKind::Compact, Some("compact x"), Some("[compact]")),
            (TurnKind::Replay, None, Some("[replay]")),
        ];
        for (kind, input, want) in cases {
            let tag = turn_tag(&sent(kind, input, "p"));
            assert_eq!(tag.as_deref(), want, "{kind:?} {input:?}");
        }
    }

    #[test]
    fn claudes_paste_wrappers_never_show() {
        let wrapped =
            "<pasted_content id=\"c1d1\">\nWrite a handoff of everything\nmore\n</pasted_content>";
        assert_eq!(
            prompt_text(wrapped),
            "\nWrite a handoff of everything\nmore\n"
        );
        assert_eq!(
            prompt_text("look <pasted_content>x</pasted_content> and <pasted_content_x> stays"),
            "look x and <pasted_content_x> stays"
        );
        let summary = sent(TurnKind::Summary, Some("summarize-from-here"), wrapped);
        assert_eq!(
            prompt_label(&summary, 40),
            "[summary] Write a handoff of everything"
        );
        assert_eq!(prompt_label(&summary, 20), "[summary] Write a h…");
        let brief = sent(TurnKind::Brief, Some("brief summary-12"), wrapped);
        assert_eq!(prompt_label(&brief, 8), "[brief …");
        // A pasted prompt of the person's own: the text, without the wrapper.
        let mine = sent(TurnKind::Prompt, None, wrapped);
        assert_eq!(prompt_label(&mine, 80), "Write a handoff of everything");
        let pull = sent(
            TurnKind::Subagent,
            Some("pull 1"),
            "A subagent (ccx job #1) ran",
        );
        let line = turn_line(&pull, &plain(100));
        assert!(
            line.contains("[pull #1] A subagent (ccx job #1) ran → ok"),
            "{line}"
        );
        for t in [&summary, &brief, &mine] {
            let line = turn_line(t, &plain(100));
            assert!(!line.contains("pasted_content"), "{line}");
        }
    }

    #[test]
    fn first_line_cuts_with_ellipsis() {
        assert_eq!(first_line("abcdef", 4), "abc…");
        assert_eq!(first_line("  \n ab \n", 4), "ab");
    }
}

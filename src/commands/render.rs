//! Text rendering of turns and branches, shared by the CLI and the meta-command shell:
//! pure functions from records to lines, with colour only when asked for.

use crate::model::{Turn, TurnKind};
use owo_colors::OwoColorize;

/// Whether to colour output: a terminal, and `NO_COLOR` unset.
pub fn colour_wanted(fd: i32) -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && crate::terminal::is_tty(fd)
}

/// Colours used by ccx's output; plain text when `enabled` is false.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub enabled: bool,
}

impl Palette {
    /// Colours for what goes to standard output: on for a terminal, off with `NO_COLOR`.
    pub fn for_stdout() -> Palette {
        Palette {
            enabled: colour_wanted(1),
        }
    }

    pub fn id(&self, text: &str) -> String {
        if self.enabled {
            text.yellow().to_string()
        } else {
            text.to_string()
        }
    }
    pub fn dim(&self, text: &str) -> String {
        if self.enabled {
            text.dimmed().to_string()
        } else {
            text.to_string()
        }
    }
    pub fn strong(&self, text: &str) -> String {
        if self.enabled {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }
    pub fn warn(&self, text: &str) -> String {
        if self.enabled {
            text.red().to_string()
        } else {
            text.to_string()
        }
    }
    pub fn good(&self, text: &str) -> String {
        if self.enabled {
            text.green().to_string()
        } else {
            text.to_string()
        }
    }
}

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
    use crate::meta::commands::{brief::Brief, pull::Pull};
    let typed = turn
        .input
        .as_deref()
        .and_then(|i| crate::meta::parse_meta(i).ok().flatten());
    let typed = typed.as_deref();
    let tag = match turn.kind {
        TurnKind::Prompt => return None,
        TurnKind::Summary => "summary".to_string(),
        TurnKind::Brief => match typed.and_then(|c| c.downcast_ref::<Brief>()) {
            Some(Brief {
                name: Some(name), ..
            }) => format!("brief {name}"),
            _ => "brief".to_string(),
        },
        TurnKind::Subagent => match typed.and_then(|c| c.downcast_ref::<Pull>()) {
            Some(Pull { job: Some(job) }) => format!("pull #{}", job.trim_start_matches('#')),
            Some(Pull { job: None }) => "pull".to_string(),
            _ => "subagent".to_string(),
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

/// One line of a turn listing: id, age, context tokens, prompt → reply.
pub fn turn_line(
    turn: &Turn,
    now: chrono::DateTime<chrono::Utc>,
    width: usize,
    p: Palette,
) -> String {
    let state = if turn.is_running() {
        " (running)"
    } else if turn.interrupted {
        " (interrupted)"
    } else {
        ""
    };
    let head = format!(
        "#{:<4} {:>4} {:>6}  ",
        turn.id,
        age(&turn.started_at, now),
        tokens(turn.context_tokens)
    );
    let room = width
        .saturating_sub(head.chars().count() + state.len() + 3)
        .max(20);
    let prompt = prompt_label(turn, room / 2);
    let reply = first_line(&turn.reply, room.saturating_sub(prompt.chars().count()));
    format!(
        "{}{}{} {} {}{}",
        p.id(&format!("#{:<4}", turn.id)),
        p.dim(&head[6..]),
        prompt,
        p.dim("→"),
        reply,
        p.warn(state)
    )
}

/// A turn in full.
pub fn turn_full(turn: &Turn, p: Palette) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        // Padded before colouring: escape codes would count towards the width.
        out.push_str(&format!(
            "{} {}\n",
            p.dim(&format!("{:<12}", format!("{name}:"))),
            value
        ));
    };
    field("turn", p.id(&format!("#{}", turn.id)));
    field("branch", turn.branch.clone());
    field(
        "parent",
        turn.parent
            .map(|id| format!("#{id}"))
            .unwrap_or_else(|| "none".into()),
    );
    field("kind", turn.kind.as_str().to_string());
    field("session", turn.session_id.clone());
    field("started", turn.started_at.clone());
    field(
        "ended",
        turn.ended_at.clone().unwrap_or_else(|| "running".into()),
    );
    field("context", format!("{} tokens", turn.context_tokens));
    field("output", format!("{} tokens", turn.output_tokens));
    field("estimate", format!("{} tokens", turn.est_tokens));
    if turn.interrupted {
        field("interrupted", "yes".into());
    }
    if !turn.files.is_empty() {
        field("files", turn.files.join(", "));
    }
    if let Some(snapshot) = &turn.snapshot {
        field("snapshot", snapshot.clone());
    }
    if let Some(input) = &turn.input {
        out.push_str(&format!("\n{}\n{}\n", p.strong("typed:"), input));
    }
    out.push_str(&format!("\n{}\n{}\n", p.strong("prompt:"), turn.prompt));
    out.push_str(&format!("\n{}\n{}\n", p.strong("reply:"), turn.reply));
    out
}

/// The project's branches and their Claude sessions: turns, context, last activity.
pub fn sessions_table(
    branches: &[crate::model::Branch],
    turns: &[Turn],
    current: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
    p: Palette,
) -> String {
    if branches.is_empty() {
        return "no branches yet\n".to_string();
    }
    // The branch column fits the longest name, so the other columns stay aligned.
    let name_width = branches
        .iter()
        .map(|b| b.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(20);
    let mut out = format!(
        "{}\n",
        p.dim(&format!(
            "  {:<name_width$} {:<10} {:>5} {:>8} {:>6}",
            "branch", "session", "turns", "context", "last"
        ))
    );
    for branch in branches {
        let own: Vec<&Turn> = turns.iter().filter(|t| t.branch == branch.name).collect();
        let head = branch.head.and_then(|id| turns.iter().find(|t| t.id == id));
        let context = head
            .map(|t| tokens(t.context_tokens))
            .unwrap_or_else(|| "-".into());
        let last = head
            .map(|t| age(t.ended_at.as_deref().unwrap_or(&t.started_at), now))
            .unwrap_or_else(|| age(&branch.created_at, now));
        let mark = if current == Some(branch.name.as_str()) {
            "*"
        } else {
            " "
        };
        let session: String = branch.session_id.chars().take(8).collect();
        let line = format!(
            "{mark} {:<name_width$} {:<10} {:>5} {:>8} {:>6}",
            branch.name,
            session,
            own.len(),
            context,
            last
        );
        out.push_str(&if mark == "*" { p.strong(&line) } else { line });
        out.push('\n');
    }
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

    #[test]
    fn turn_line_shows_id_tokens_prompt_and_reply() {
        let turn = Turn {
            id: 7,
            prompt: "\nfix the failing test\nmore".into(),
            reply: "Done: the test passes".into(),
            context_tokens: 12_345,
            started_at: "2026-01-01T11:55:00Z".into(),
            ended_at: Some("2026-01-01T11:56:00Z".into()),
            ..Default::default()
        };
        let line = turn_line(&turn, now(), 100, PLAIN);
        assert!(line.starts_with("#7"), "{line}");
        for part in [
            "5m",
            "12.3k",
            "fix the failing test → Done: the test passes",
        ] {
            assert!(line.contains(part), "{part} missing in {line}");
        }
        assert!(!line.contains("more"));
        let running = Turn {
            ended_at: None,
            ..turn
        };
        assert!(turn_line(&running, now(), 100, PLAIN).contains("(running)"));
    }

    fn sent(kind: TurnKind, input: Option<&str>, prompt: &str) -> Turn {
        Turn {
            id: 12,
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
        let tag = |kind, input| turn_tag(&sent(kind, input, "p"));
        assert_eq!(tag(TurnKind::Prompt, None), None);
        assert_eq!(tag(TurnKind::Prompt, Some("log")), None);
        assert_eq!(
            tag(TurnKind::Summary, Some("summarize-from-here 4")).as_deref(),
            Some("[summary]")
        );
        assert_eq!(
            tag(TurnKind::Brief, Some("brief summary-12")).as_deref(),
            Some("[brief summary-12]")
        );
        assert_eq!(
            tag(TurnKind::Brief, Some(":brief summary-12")).as_deref(),
            Some("[brief summary-12]")
        );
        assert_eq!(
            tag(TurnKind::Brief, Some("brief -e")).as_deref(),
            Some("[brief]")
        );
        assert_eq!(
            tag(TurnKind::Subagent, Some("pull 1")).as_deref(),
            Some("[pull #1]")
        );
        assert_eq!(
            tag(TurnKind::Subagent, Some("pull #3")).as_deref(),
            Some("[pull #3]")
        );
        assert_eq!(
            tag(TurnKind::Subagent, Some("pull")).as_deref(),
            Some("[pull]")
        );
        // A subagent's own turns: their input is the task, not a command.
        assert_eq!(
            tag(TurnKind::Subagent, Some("find the bug in the parser")).as_deref(),
            Some("[subagent]")
        );
        assert_eq!(
            tag(TurnKind::Compact, Some("compact x")).as_deref(),
            Some("[compact]")
        );
        assert_eq!(tag(TurnKind::Replay, None).as_deref(), Some("[replay]"));
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
        let line = turn_line(&pull, now(), 100, PLAIN);
        assert!(
            line.contains("[pull #1] A subagent (ccx job #1) ran → ok"),
            "{line}"
        );
        for t in [&summary, &brief, &mine] {
            let line = turn_line(t, now(), 100, PLAIN);
            assert!(!line.contains("pasted_content"), "{line}");
        }
    }

    #[test]
    fn sessions_columns_stay_aligned_with_long_names() {
        let branch = |name: &str| crate::model::Branch {
            name: name.into(),
            session_id: "0123abcd-aaaa".into(),
            created_at: "2026-01-01T11:00:00Z".into(),
            ..Default::default()
        };
        let branches = [branch("main"), branch(&"a-very-long-branch-name".repeat(2))];
        let table = sessions_table(&branches, &[], Some("main"), now(), PLAIN);
        let columns: Vec<usize> = table
            .lines()
            .map(|line| {
                line.find("0123abcd")
                    .or_else(|| line.find("session"))
                    .unwrap()
            })
            .collect();
        assert!(columns.windows(2).all(|w| w[0] == w[1]), "{table}");
    }

    #[test]
    fn show_fields_line_up_in_colour() {
        let turn = Turn {
            id: 7,
            ..Default::default()
        };
        let coloured = turn_full(&turn, Palette { enabled: true });
        let escapes = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
        let value_columns: Vec<usize> = coloured
            .lines()
            .take(5)
            .map(|line| {
                let plain = escapes.replace_all(line, "");
                let name_end = plain.find(':').unwrap() + 1;
                name_end + plain[name_end..].len() - plain[name_end..].trim_start().len()
            })
            .collect();
        assert!(
            value_columns.windows(2).all(|w| w[0] == w[1]),
            "{value_columns:?} in {coloured:?}"
        );
    }

    #[test]
    fn first_line_cuts_with_ellipsis() {
        assert_eq!(first_line("abcdef", 4), "abc…");
        assert_eq!(first_line("  \n ab \n", 4), "ab");
    }
}

//! Turns as text: one line per turn for listings (`ccx log`, `:log`), and one turn in full
//! (`ccx show`, `:show`).

use super::text::{age, first_line, prompt_label, tokens};
use super::{Palette, RenderCtx};
use crate::model::Turn;
use crate::query::log::{BranchLog, ProjectLog};

/// `ccx log`: the turns of each project, one line each, under the project's name when the
/// listing spans every project (`all`); "no turns recorded yet" when there are none.
pub fn project_logs(logs: &[ProjectLog], all: bool, ctx: &RenderCtx) -> String {
    let mut out = String::new();
    for log in logs {
        if all && !log.turns.is_empty() {
            out.push_str(&ctx.palette.strong(&log.project));
            out.push('\n');
        }
        for turn in &log.turns {
            out.push_str(&turn_line(turn, ctx));
            out.push('\n');
        }
    }
    if logs.iter().all(|log| log.turns.is_empty()) {
        out.push_str("no turns recorded yet\n");
    }
    out
}

/// `:log`: a branch's turns, one line each, after a line saying how many earlier turns were
/// left out (and how to see them); "no turns on BRANCH yet" when it has none. No final newline.
pub fn branch_log(log: &BranchLog, ctx: &RenderCtx) -> String {
    let name = &log.branch;
    if log.turns.is_empty() {
        return format!("no turns on {name} yet");
    }
    let mut out = String::new();
    if log.earlier > 0 {
        out.push_str(&ctx.palette.dim(&format!(
            "… {} earlier {} (:log {name} -n {} shows more)",
            log.earlier,
            if log.earlier == 1 { "turn" } else { "turns" },
            log.turns.len() + log.earlier
        )));
        out.push('\n');
    }
    for turn in &log.turns {
        out.push_str(&turn_line(turn, ctx));
        out.push('\n');
    }
    out.pop();
    out
}

/// One line of a turn listing: id, age, context tokens, prompt → reply.
pub fn turn_line(turn: &Turn, ctx: &RenderCtx) -> String {
    let (now, width, p) = (ctx.now, ctx.width, ctx.palette);
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
    field("session", turn.session_id.to_string());
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

/// What a replay leaves out of a range ([`Turn::replays`]): "left out, as they are not
/// prompts: #3 (summary), #4 (compact)"; None when it leaves out nothing.
pub fn left_out_of_replay(moves: &[&Turn]) -> Option<String> {
    if moves.is_empty() {
        return None;
    }
    let named: Vec<String> = moves
        .iter()
        .map(|t| format!("#{} ({})", t.id, t.kind.as_str()))
        .collect();
    Some(format!(
        "left out, as they are not prompts: {}",
        named.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TurnId;
    use crate::render::test_support::plain;

    #[test]
    fn turn_line_shows_id_tokens_prompt_and_reply() {
        let turn = Turn {
            id: TurnId(7),
            prompt: "\nfix the failing test\nmore".into(),
            reply: "Done: the test passes".into(),
            context_tokens: 12_345,
            started_at: "2026-01-01T11:55:00Z".into(),
            ended_at: Some("2026-01-01T11:56:00Z".into()),
            ..Default::default()
        };
        let line = turn_line(&turn, &plain(100));
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
        assert!(turn_line(&running, &plain(100)).contains("(running)"));
    }

    #[test]
    fn show_fields_line_up_in_colour() {
        let turn = Turn {
            id: TurnId(7),
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
}

//! The read side's text: turns the data the [`crate::query`] functions return into what the
//! CLI subcommands print and the meta-commands show. Pure functions from data and one
//! [`RenderCtx`] (terminal width, colours, the time ages are measured from) to strings; nothing
//! here opens a store or writes to the terminal.
//!
//! [`text`] holds the small pieces every listing shares (token counts, ages, first lines, the
//! tag and label of a prompt); [`turns`] the turn lines and a turn in full; [`branches`] the
//! tree of branches and the sessions table; [`context`], [`diff`] and [`search`] their
//! commands' output; [`export`] a branch as Markdown, JSON or an HTML page.

pub mod branches;
pub mod context;
pub mod diff;
pub mod export;
pub mod palette;
pub mod search;
pub mod text;
pub mod turns;

pub use palette::{colour_wanted, Palette};
pub use text::{age, first_line, prompt_label, prompt_text, tokens, turn_tag};

/// What every renderer needs besides its data: the width to fit, the colours, and "now" for
/// ages (`5m`), so the same data always renders the same text.
#[derive(Debug, Clone, Copy)]
pub struct RenderCtx {
    /// Terminal columns.
    pub width: usize,
    pub palette: Palette,
    pub now: chrono::DateTime<chrono::Utc>,
}

impl RenderCtx {
    /// For standard output: its width (100 when not a terminal), colour when it is a terminal
    /// and `NO_COLOR` is unset, and the current time.
    pub fn for_stdout() -> RenderCtx {
        RenderCtx {
            width: crate::terminal::size(1)
                .map(|(_, cols)| cols as usize)
                .unwrap_or(100),
            palette: Palette::for_stdout(),
            now: chrono::Utc::now(),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::{Palette, RenderCtx};

    pub const PLAIN: Palette = Palette { enabled: false };

    /// 2026-01-01 12:00 UTC.
    pub fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    /// Plain text, `width` columns, at [`now`].
    pub fn plain(width: usize) -> RenderCtx {
        RenderCtx {
            width,
            palette: PLAIN,
            now: now(),
        }
    }

    /// `turn` as ccx sent it when the person typed `typed`: of `kind`, its prompt wrapped as
    /// Claude Code keeps a pasted one (every prompt ccx sends is pasted).
    pub fn sent_by_ccx(
        mut turn: crate::model::Turn,
        kind: crate::model::TurnKind,
        typed: &str,
    ) -> crate::model::Turn {
        turn.prompt = format!(
            "<pasted_content id=\"c1d1\">\n{}\n</pasted_content>",
            turn.prompt
        );
        turn.kind = kind;
        turn.input = Some(typed.into());
        turn
    }
}

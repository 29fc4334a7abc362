//! A branch written out (`ccx export`, `:export`): [`render`] picks the format — Markdown
//! ([`markdown`]), the turn records as a pretty JSON array, or one self-contained HTML page
//! ([`html`]).

pub mod html;
pub mod markdown;

use crate::model::{Branch, Turn};
use crate::query::export::{ExportFormat, HtmlExtras};
use anyhow::Result;

/// The export in `format`: Markdown, the turn records as a pretty JSON array, or an HTML page
/// (which also shows `extras`: tool calls and the tree of branches).
pub fn render(
    branch: &Branch,
    turns: &[Turn],
    format: ExportFormat,
    extras: &HtmlExtras,
) -> Result<String> {
    Ok(match format {
        ExportFormat::Md => markdown::render_markdown(branch, turns),
        ExportFormat::Html => html::render_html(branch, turns, extras),
        ExportFormat::Json => {
            let mut text = serde_json::to_string_pretty(turns)?;
            text.push('\n');
            text
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TurnId;

    #[test]
    fn json_render_is_the_records() {
        let branch = Branch::default();
        let turns = vec![Turn {
            id: TurnId(1),
            branch: "main".into(),
            prompt: "p".into(),
            reply: "r".into(),
            started_at: "2026-01-01T12:00:00Z".into(),
            ..Default::default()
        }];
        let text = render(&branch, &turns, ExportFormat::Json, &HtmlExtras::default()).unwrap();
        let back: Vec<Turn> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, turns);
    }
}

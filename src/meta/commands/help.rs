//! `:help [CMD]`: every meta-command with its usage, or one in full. The text comes from the
//! registry, so a new command is listed without touching this file.

use super::{find, unknown_command};
use super::{read_text, usage_args, Parsed, Parser, REGISTRY};
use crate::meta::args::{MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};
use crate::render::text::wrap;
use crate::render::Palette;

meta_command! {
    Help, run: Help::outcome,
    usage: ":help [CMD]", aliases: &["h", "?"], summary: "list the commands, or one in full",
    details: "With no argument, lists every meta-command with its usage. With CMD (with or \
              without the ':'), shows that command in full. `:CMD --help` does the same.",
    parser: Parser::Words(parse),
}

/// `:help [CMD]`; CMD without its `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help {
    pub command: Option<String>,
}

impl Help {
    /// `:CMD --help`.
    pub fn about(name: &str) -> Parsed {
        Box::new(Help {
            command: Some(name.to_string()),
        })
    }
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = usage_args(&SPEC, words, "")?;
    let command = p
        .positionals
        .first()
        .map(|c| c.strip_prefix(':').unwrap_or(c).to_string());
    Ok(Box::new(Help { command }))
}

impl Help {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| {
            render(self.command.as_deref(), ctx.width, ctx.palette)
        })
    }
}

/// The list of commands (no `command`), or one command in full.
pub fn render(command: Option<&str>, width: usize, p: Palette) -> Result<String, String> {
    let width = width.max(40);
    let Some(name) = command else {
        return Ok(listing(width, p));
    };
    let Some(info) = find(name) else {
        return Err(unknown_command(name).0);
    };
    let mut out = format!("{}\n  {}\n\n", p.strong(info.usage), info.summary);
    out.push_str(&wrap(info.details, width, "  ", "  "));
    Ok(out.trim_end().to_string())
}

/// Every command: usages up to USAGE_COLUMN characters share a column; a longer one puts its
/// summary on the next line. Summaries wrap at the terminal's width.
fn listing(width: usize, p: Palette) -> String {
    const USAGE_COLUMN: usize = 26;
    let col = REGISTRY
        .iter()
        .map(|c| c.usage.chars().count())
        .filter(|&n| n <= USAGE_COLUMN)
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(col + 4);
    let mut out = format!(
        "{} (Esc, Ctrl-C or an empty line returns to Claude)\n",
        p.strong("ccx meta-commands")
    );
    for c in REGISTRY {
        let summary = wrap(c.summary, width, &indent, &indent);
        let len = c.usage.chars().count();
        if len <= col {
            out.push_str(&format!(
                "  {}{}{}",
                p.id(c.usage),
                " ".repeat(col - len + 2),
                &summary[indent.len()..]
            ));
        } else {
            out.push_str(&format!("  {}\n{summary}", p.id(c.usage)));
        }
    }
    out.push_str(&p.dim(":help CMD shows one command in full"));
    out
}

//! `:subagent [--brief NAME] TASK`: runs TASK in a separate, clean-context Claude in the
//! background.

use super::help::Help;
use super::{Parsed, Parser};
use crate::meta::args::{clip, err, free_text, Flag, Lexer, MetaError};
use crate::meta::ops::SessionOps;
use anyhow::{Context, Result};

meta_command! {
    Subagent, shown: Subagent::start, needs_session: true,
    usage: ":subagent [--brief NAME] TASK", summary: "run TASK in a clean Claude in the background",
    details: "Runs TASK (the rest of the line, verbatim) in a separate Claude Code process \
              with a clean context (plus the brief NAME, when given), in the background, in \
              the same directory. When it is done, :pull sends its final report into this \
              session. Its own turns are kept as a side branch.",
    flags: &[Flag::valued(&["--brief", "-b"], "a NAME")], parser: Parser::Text(parse),
}

/// TASK is the rest of the line after the options, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subagent {
    pub brief: Option<String>,
    pub task: String,
}

/// `[--brief NAME] [--] TASK`: TASK is the rest of the line, verbatim (apostrophes and all:
/// it is never split into words).
fn parse(args: &str) -> Result<Parsed, MetaError> {
    let mut lexer = Lexer::new(args);
    let mut brief = None;
    loop {
        let before = lexer.rest();
        if before.is_empty() {
            return Err(err(
                ":subagent needs a TASK (e.g. :subagent write tests for the parser)",
            ));
        }
        if !before.starts_with('-') {
            let task = free_text(before).unwrap_or_default();
            return Ok(Box::new(Subagent { brief, task }));
        }
        let Some(word) = lexer.next_word()? else {
            return Err(err(":subagent needs a TASK"));
        };
        let (flag, inline) = match word.text.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (word.text.clone(), None),
        };
        match flag.as_str() {
            "--" => {
                let Some(task) = free_text(lexer.rest()) else {
                    return Err(err(":subagent needs a TASK after '--'"));
                };
                return Ok(Box::new(Subagent { brief, task }));
            }
            name if SPEC.flags[0].names.contains(&name) => {
                if brief.is_some() {
                    return Err(err("--brief is given twice"));
                }
                brief = Some(brief_name(&mut lexer, inline)?);
            }
            "--help" | "-h" => return Ok(Help::about(SPEC.name)),
            _ => {
                return Err(err(format!(
                    "unknown option '{}' for :subagent (use -- before a TASK that starts with '-')",
                    clip(&word.text)
                )))
            }
        }
    }
}

/// The NAME of `--brief NAME` (or `--brief=NAME`).
fn brief_name(lexer: &mut Lexer, inline: Option<String>) -> Result<String, MetaError> {
    let value = match inline {
        Some(v) => v,
        None => match lexer.next_word()? {
            Some(w) if !w.is_option() => w.text,
            _ => return Err(err("--brief needs a NAME")),
        },
    };
    if value.is_empty() {
        return Err(err("--brief needs a NAME"));
    }
    Ok(value)
}

impl Subagent {
    fn start(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let brief_text = match &self.brief {
            Some(name) => Some(
                crate::briefs::load(&*ops.store()?, name)?
                    .with_context(|| format!("no brief named '{name}'"))?
                    .text,
            ),
            None => None,
        };
        let id = ops.start_job(&self.task, brief_text.as_deref())?;
        Ok(format!("subagent job #{id} started; :jobs shows its progress, :pull {id} brings back its report"))
    }
}

//! `:merge BRANCH [--focus TEXT]`: what BRANCH established since it parted from this
//! conversation (or since it was last merged here), distilled by a headless fork of BRANCH,
//! reviewed by the person, and sent here as one turn of kind `merge` (see `crate::merge`).

use super::{Parsed, Parser};
use crate::meta::args::{err, Flag, MetaError};
use crate::meta::ops::{Outcome, SessionOps};
use anyhow::Result;

meta_command! {
    Merge, run: Merge::outcome, needs_session: true,
    usage: ":merge BRANCH [--focus TEXT]", summary: "bring what BRANCH learned here as one turn",
    details: "Asks a headless fork of BRANCH's conversation (nothing is saved, BRANCH is not \
              changed) to distil what BRANCH established since it parted from this \
              conversation, or since it was last merged here: decisions, facts checked, dead \
              ends with why, files and commands. --focus TEXT (the rest of the line) says what \
              matters most. The text is shown: y sends it here as one turn of kind merge, e \
              opens it in $EDITOR first, anything else cancels. :tree draws the merge edge.",
    flags: &[Flag::valued(&["--focus"], "a TEXT")], parser: Parser::Text(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    pub branch: String,
    pub focus: Option<String>,
}

/// `BRANCH [--focus TEXT]`: TEXT is the rest of the line, verbatim.
fn parse(args: &str) -> Result<Parsed, MetaError> {
    let args = args.trim();
    let (branch, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    if branch.is_empty() || branch.starts_with('-') {
        return Err(err(
            ":merge needs a BRANCH (e.g. :merge side --focus the parser)",
        ));
    }
    let rest = rest.trim();
    let focus = if rest.is_empty() {
        None
    } else if let Some(text) = rest.strip_prefix("--focus") {
        let text = text.trim_start_matches('=').trim();
        if text.is_empty() {
            return Err(err(":merge --focus needs a TEXT"));
        }
        Some(text.to_string())
    } else {
        return Err(err(format!(
            ":merge takes BRANCH [--focus TEXT], got '{rest}' after the branch"
        )));
    };
    Ok(Box::new(Merge {
        branch: branch.to_string(),
        focus,
    }))
}

impl Merge {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        match self.merge(ops) {
            Ok(Some(message)) => Outcome::Switched(message),
            Ok(None) => Outcome::Text("merge cancelled; nothing sent".into()),
            Err(e) => Outcome::Error(format!("{e:#}")),
        }
    }

    /// Distils, asks, sends; None when the person cancelled.
    fn merge(&self, ops: &mut dyn SessionOps) -> Result<Option<String>> {
        let store = ops.store()?;
        ops.ensure_idle(&store)?;
        let current = ops.current_branch(&store);
        let ours = store.lineage(&current).unwrap_or_default();
        let span = crate::merge::span(&store, &current, &ours, &self.branch)?;
        let head = span.turns.last().cloned().expect("a span is never empty");
        ops.print(&format!(
            "asking a fork of {} to distil its {}…\n",
            self.branch,
            span.label()
        ));
        let request = crate::merge::distil_request(&self.branch, &span, self.focus.as_deref());
        let text = ops.ask_fork(&store, Some(&head), &request)?;
        ops.print(&format!("\n{}\n\n", text.trim_end()));
        let text = match ops
            .ask("y: send it here · e: edit it in $EDITOR first · anything else: cancel")
            .as_deref()
            .map(str::trim)
        {
            Some("y" | "Y") => text,
            Some("e" | "E") => match ops.edit(&text)? {
                Some(edited) => edited,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let source = crate::merge::Source {
            branch: self.branch.clone(),
            head: head.id,
        };
        let prompt = crate::merge::merge_prompt(&self.branch, &span, &text);
        let typed = ops.typed().to_string();
        ops.send_merge(&prompt, Some(typed), source);
        Ok(Some(format!(
            "merged {} ({}) into {current}",
            self.branch,
            span.label()
        )))
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;
    use crate::model::TurnKind;

    #[test]
    fn parses_the_branch_and_the_focus_verbatim() {
        let mut ops = FakeOps::with_turns(&["one"]);
        assert_eq!(
            ops.run(":merge"),
            Outcome::Error(":merge needs a BRANCH (e.g. :merge side --focus the parser)".into())
        );
        assert_eq!(
            ops.run(":merge side extra"),
            Outcome::Error(
                ":merge takes BRANCH [--focus TEXT], got 'extra' after the branch".into()
            )
        );
        assert!(matches!(ops.run(":merge main"), Outcome::Error(e) if e.contains("into itself")));
    }

    #[test]
    fn a_reviewed_distillation_is_sent_as_a_merge_turn_and_a_cancel_sends_nothing() {
        let mut ops = FakeOps::with_turns(&["base"]);
        ops.add_branch("side", "main", Some(1), "s-side");
        ops.add_turn("side", "try A");
        ops.add_turn("side", "A fails");
        ops.fork_answer = Some("A fails: timeout.".into());
        ops.answers.push_back(Some("n".into()));
        assert_eq!(
            ops.run(":merge side"),
            Outcome::Text("merge cancelled; nothing sent".into())
        );
        assert!(ops.prompts().is_empty());
        ops.answers.push_back(Some("y".into()));
        let outcome = ops.run(":merge side --focus the timeout");
        assert!(
            matches!(&outcome, Outcome::Switched(m) if m.starts_with("merged side")),
            "{outcome:?}"
        );
        let (text, kind, input) = &ops.prompts()[0];
        assert!(text.contains("A fails: timeout."), "{text}");
        assert_eq!(*kind, TurnKind::Merge);
        assert_eq!(input.as_deref(), Some(":merge side --focus the timeout"));
        let asked = ops.calls.iter().rev().find_map(|c| match c {
            Call::AskFork { question, .. } => Some(question.clone()),
            _ => None,
        });
        assert!(asked.unwrap().ends_with("Focus on: the timeout"));
    }
}

//! `:compact [FOCUS]`: forwards `/compact FOCUS` to Claude; with no FOCUS, first asks what
//! comes next and builds the focus from the answer.

use super::{Parsed, Parser};
use crate::meta::args::{free_text, MetaError};
use crate::meta::moves::idle_store;
use crate::meta::ops::{Outcome, SessionOps};
use crate::model::TurnKind;
use anyhow::Result;

meta_command! {
    Compact, run: Compact::outcome, needs_session: true,
    usage: ":compact [FOCUS]", summary: "forward /compact FOCUS (asks for one if none)",
    details: "Forwards `/compact FOCUS` to Claude; FOCUS is the rest of the line, verbatim. \
              With no FOCUS, first asks what comes next and builds the focus from the answer.",
    parser: Parser::Text(parse),
}

/// FOCUS is the rest of the line, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compact {
    pub focus: Option<String>,
}

fn parse(args: &str) -> Result<Parsed, MetaError> {
    Ok(Box::new(Compact {
        focus: free_text(args),
    }))
}

impl Compact {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        let focus = match &self.focus {
            Some(focus) => focus.clone(),
            None => {
                let question = ops.templates().compact_focus_question();
                match ops.ask(question) {
                    Some(answer) if !answer.trim().is_empty() => {
                        ops.templates().compact_focus(&answer)
                    }
                    _ => return Outcome::Text("no focus given; nothing sent".into()),
                }
            }
        };
        Outcome::switched(compact(ops, &focus))
    }
}

fn compact(ops: &mut dyn SessionOps, focus: &str) -> Result<String> {
    idle_store(ops)?;
    let focus = focus.trim();
    let command = if focus.is_empty() {
        "/compact".to_string()
    } else {
        format!("/compact {focus}")
    };
    let typed = ops.typed().to_string();
    ops.send_prompt(&command, TurnKind::Compact, Some(typed));
    Ok(if focus.is_empty() {
        "compacting: /compact sent".to_string()
    } else {
        "compacting: /compact sent with your focus".to_string()
    })
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;
    use crate::model::TurnKind;

    #[test]
    fn forwards_compact_with_the_focus_and_keeps_what_was_typed() {
        let mut ops = FakeOps::with_turns(&["one"]);
        assert_eq!(
            ops.switched(":compact keep the parser's tests"),
            "compacting: /compact sent with your focus"
        );
        assert_eq!(
            ops.calls,
            [
                Call::EnsureIdle,
                Call::Prompt {
                    text: "/compact keep the parser's tests".into(),
                    kind: TurnKind::Compact,
                    input: Some(":compact keep the parser's tests".into())
                }
            ]
        );
    }

    #[test]
    fn with_no_focus_asks_and_builds_one_or_sends_nothing() {
        let mut ops = FakeOps::with_turns(&["one"]);
        ops.answers.push_back(Some("the release notes".into()));
        assert!(matches!(ops.run(":compact"), Outcome::Switched(_)));
        let question = crate::meta::ops::SessionOps::templates(&ops).compact_focus_question();
        assert_eq!(ops.shown, [question.to_string()]);
        let (text, _, _) = &ops.prompts()[0];
        assert!(
            text.starts_with("/compact ") && text.contains("the release notes"),
            "{text}"
        );
        ops.calls.clear();
        ops.answers.push_back(None);
        assert_eq!(ops.text(":compact"), "no focus given; nothing sent");
        assert!(ops.calls.is_empty());
    }
}

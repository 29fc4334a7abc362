//! `:brief [NAME | -e]`: a fresh session on a new branch, seeded with a brief: the latest
//! summary, a saved one by NAME, or one written now in `$EDITOR`.

use super::{usage_args, Parsed, Parser};
use crate::branch_names::NewBranch;
use crate::briefs;
use crate::meta::args::{err, Flag, MetaError, Word};
use crate::meta::moves::fresh_session;
use crate::meta::ops::{Outcome, SessionOps};
use crate::model::TurnKind;
use anyhow::{Context, Result};

/// What `:brief -e` opens in the editor.
pub const BRIEF_TEMPLATE: &str = "# Brief\n\n## Goal\n\n## Current state\n\n## Tried, and why it failed\n\n## Decisions\n\n## Constraints\n\n## Files that matter\n\n## Next step\n";

meta_command! {
    Brief, run: Brief::outcome, needs_session: true,
    usage: ":brief [NAME | -e]", summary: "fresh session on a new branch, seeded with a brief",
    details: "Starts a fresh Claude session on a new branch, seeded with a brief: the last \
              summary, the saved brief NAME, or (-e) one written now in $EDITOR from a \
              template.",
    flags: &[Flag::switch(&["-e", "--edit"])], parser: Parser::Words(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brief {
    pub name: Option<String>,
    pub edit: bool,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = usage_args(&SPEC, words, "")?;
    let edit = p.has("-e");
    if edit && !p.positionals.is_empty() {
        return Err(err(":brief takes a NAME or -e, not both"));
    }
    Ok(Box::new(Brief {
        name: p.positionals.into_iter().next(),
        edit,
    }))
}

impl Brief {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        let written = if self.edit {
            match ops.edit(BRIEF_TEMPLATE) {
                Ok(Some(text)) => Some(text),
                Ok(None) => return Outcome::Text("no brief written; nothing changed".into()),
                Err(e) => return Outcome::Error(format!("{e:#}")),
            }
        } else {
            None
        };
        Outcome::switched(self.seed(ops, written))
    }
}

impl Brief {
    /// `written` holds the text of a brief the person just wrote (`-e`).
    fn seed(&self, ops: &mut dyn SessionOps, written: Option<String>) -> Result<String> {
        let name = self.name.as_deref();
        let store = ops.store()?;
        let current = ops.current_branch(&store);
        let brief = match (written, name) {
            (Some(text), _) => briefs::save(
                &store,
                &format!("written-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S")),
                &text,
                &current,
                None,
            )?,
            (None, Some(name)) => briefs::load(&store, name)?.with_context(|| {
                format!("no brief named '{name}' (:summarize-from-here saves one)")
            })?,
            (None, None) => briefs::latest(&store)?.context(
                "no brief yet: run :summarize-from-here first, or :brief -e to write one",
            )?,
        };
        // The turn's input names the brief even when the person took the latest.
        let typed = ops.typed();
        let typed = match (name, typed.split_whitespace().count()) {
            (None, 1) => format!("{} {}", typed.trim(), brief.name),
            _ => typed.to_string(),
        };
        let prompt = ops.templates().brief_prompt(&brief.text, &current);
        let message = fresh_session(
            ops,
            NewBranch::Brief,
            Some((prompt, TurnKind::Brief, Some(typed))),
        )?;
        Ok(format!("{message}, seeded with brief {}", brief.name))
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::TurnId;
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;
    use crate::model::TurnKind;

    #[test]
    fn seeds_a_fresh_session_with_the_latest_brief_and_names_it_in_the_input() {
        let mut ops = FakeOps::with_turns(&["one"]);
        crate::briefs::save(
            &ops.store,
            "summary-1",
            "GOAL: ship it",
            "main",
            Some(TurnId(1)),
        )
        .unwrap();
        assert_eq!(
            ops.run(":brief"),
            Outcome::Switched(
                "fresh session on new branch brief, seeded with brief summary-1".into()
            )
        );
        assert_eq!(
            ops.calls[..3],
            [
                Call::EnsureIdle,
                Call::Plan {
                    session: "new-1".into(),
                    branch: "brief".into(),
                    ends_at: None
                },
                Call::Start("new-1".into()),
            ]
        );
        let prompts = ops.prompts();
        assert_eq!(prompts.len(), 1, "{prompts:?}");
        let (text, kind, input) = &prompts[0];
        assert!(text.contains("GOAL: ship it"), "{text}");
        assert_eq!(*kind, TurnKind::Brief);
        assert_eq!(input.as_deref(), Some(":brief summary-1"));
        assert_eq!(ops.branch, "brief");
    }

    #[test]
    fn a_named_brief_or_one_written_now() {
        let mut ops = FakeOps::with_turns(&["one"]);
        crate::briefs::save(&ops.store, "auth", "the auth plan", "main", None).unwrap();
        assert!(matches!(ops.run(":brief auth"), Outcome::Switched(_)));
        assert_eq!(ops.prompts()[0].2.as_deref(), Some(":brief auth"));
        // -e: what the person wrote is saved as a brief and seeds the next session.
        ops.edited = Some("# Brief\nwritten now".into());
        match ops.run(":brief -e") {
            Outcome::Switched(m) => assert!(m.contains("seeded with brief written-"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(ops.prompts()[1].0.contains("written now"));
        let latest = crate::briefs::latest(&ops.store).unwrap().unwrap();
        assert!(latest.name.starts_with("written-"), "{}", latest.name);
        // Left unchanged: nothing happens.
        ops.edited = None;
        let before = ops.calls.len();
        assert_eq!(ops.text(":brief -e"), "no brief written; nothing changed");
        assert_eq!(ops.calls.len(), before);
    }

    #[test]
    fn no_brief_is_one_line_and_starts_nothing() {
        let mut ops = FakeOps::with_turns(&["one"]);
        assert_eq!(
            ops.run(":brief"),
            Outcome::Error(
                "no brief yet: run :summarize-from-here first, or :brief -e to write one".into()
            )
        );
        assert_eq!(
            ops.error(":brief nope"),
            "no brief named 'nope' (:summarize-from-here saves one)"
        );
        assert!(ops.calls.is_empty(), "{:?}", ops.calls);
    }
}

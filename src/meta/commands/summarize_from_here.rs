//! `:summarize-from-here [TURN]`: Claude writes a handoff of everything since TURN; the
//! recorder saves the answer as a brief.

use crate::meta::args::optional_turn;
use crate::meta::moves::{idle_store, resolve};
use crate::meta::ops::SessionOps;
use crate::model::TurnKind;
use anyhow::Result;

meta_command! {
    SummarizeFromHere [turn: optional_turn], switched: SummarizeFromHere::summarize,
    needs_session: true,
    usage: ":summarize-from-here [TURN]", summary: "Claude writes a handoff since TURN (a brief)",
    details: "Asks Claude for a handoff of everything since TURN (default: the branch's \
              start): the goal, what was tried and why it failed, decisions, constraints, \
              the files that matter and the next step. The answer is saved as a brief for \
              :brief.",
}

impl SummarizeFromHere {
    /// Since TURN, else since the brief this session started from, else from the start.
    fn summarize(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let store = idle_store(ops)?;
        let current = ops.current_branch(&store);
        let since = match &self.turn {
            Some(reference) => {
                let t = resolve(&store, reference, &current)?;
                format!(
                    "turn #{} (\"{}\")",
                    t.id,
                    crate::render::prompt_label(&t, 60)
                )
            }
            None => {
                let lineage = store.lineage(&current).unwrap_or_default();
                match lineage.iter().rev().find(|t| t.kind == TurnKind::Brief) {
                    Some(t) => format!("the brief this session started from (turn #{})", t.id),
                    None => "the start of this conversation".to_string(),
                }
            }
        };
        let prompt = ops.templates().summary_request(&since);
        let typed = ops.typed().to_string();
        ops.send_prompt(&prompt, TurnKind::Summary, Some(typed));
        Ok(format!(
            "asked Claude for a handoff since {since}; it is saved as a brief when done"
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;
    use crate::model::TurnKind;

    #[test]
    fn asks_for_a_handoff_since_a_turn_or_the_start() {
        let mut ops = FakeOps::with_turns(&["one", "two"]);
        assert_eq!(
            ops.run(":summarize-from-here"),
            Outcome::Switched(
                "asked Claude for a handoff since the start of this conversation; it is saved as a brief when done"
                    .into()
            )
        );
        assert_eq!(ops.calls[0], Call::EnsureIdle);
        let (text, kind, input) = &ops.prompts()[0];
        assert!(text.contains("the start of this conversation"), "{text}");
        assert_eq!(*kind, TurnKind::Summary);
        assert_eq!(input.as_deref(), Some(":summarize-from-here"));
        match ops.run(":summarize-from-here 2") {
            Outcome::Switched(m) => assert!(m.contains("since turn #2 (\"two\")"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(ops.error(":summarize-from-here 7"), "no turn #7");
        assert_eq!(ops.prompts().len(), 2);
    }
}

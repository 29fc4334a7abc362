//! `:btw QUESTION`: a side question answered by a headless fork of this conversation; nothing
//! enters the live context. The answer is shown and kept as an `aside` turn on a side branch
//! (see `crate::aside`).

use super::{Parsed, Parser};
use crate::meta::args::{err, MetaError};
use crate::meta::ops::SessionOps;
use anyhow::Result;

meta_command! {
    Btw, shown: Btw::btw, needs_session: true,
    usage: ":btw QUESTION", summary: "a side question answered by a fork; kept as an aside",
    details: "Asks QUESTION (the rest of the line) of a headless fork of this conversation: \
              the running Claude receives nothing and its context stays as it was. The answer \
              is shown, and kept as a turn of kind aside on a new side branch btw-N forked at \
              the current turn, so :log, ccx search and :merge see it.",
    parser: Parser::Text(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Btw {
    pub question: String,
}

fn parse(args: &str) -> Result<Parsed, MetaError> {
    let question = args.trim();
    if question.is_empty() {
        return Err(err(
            ":btw needs a QUESTION (e.g. :btw why did the lexer test fail?)",
        ));
    }
    Ok(Box::new(Btw {
        question: question.to_string(),
    }))
}

impl Btw {
    fn btw(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let store = ops.store()?;
        let current = ops.current_branch(&store);
        // The latest finished turn: a turn still running has no transcript lines yet.
        let mut at = store
            .branch(&current)?
            .and_then(|b| b.head)
            .and_then(|id| store.turn(id).ok().flatten());
        while let Some(turn) = at.as_ref().filter(|t| t.is_running()) {
            at = turn.parent.and_then(|id| store.turn(id).ok().flatten());
        }
        ops.print("asking a fork of this conversation…\n");
        let answer = ops.ask_fork(&store, at.as_ref(), &self.question)?;
        let typed = ops.typed().to_string();
        let (branch, id) = crate::aside::keep(
            &store,
            &current,
            at.map(|t| t.id),
            &self.question,
            &answer,
            &typed,
        )?;
        Ok(format!(
            "{}\n\n(kept as turn #{id} on {branch})",
            answer.trim_end()
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;
    use crate::model::TurnKind;

    #[test]
    fn the_answer_is_shown_and_kept_and_nothing_is_sent() {
        let mut ops = FakeOps::with_turns(&["one", "two"]);
        assert_eq!(
            ops.run(":btw"),
            Outcome::Error(":btw needs a QUESTION (e.g. :btw why did the lexer test fail?)".into())
        );
        ops.fork_answer = Some("Stripes.".into());
        let outcome = ops.run(":btw why zebras?");
        assert!(
            matches!(&outcome, Outcome::Text(t) if t.starts_with("Stripes.") && t.contains("on btw-1")),
            "{outcome:?}"
        );
        assert!(ops.prompts().is_empty(), "nothing sent to Claude");
        assert!(ops
            .calls
            .iter()
            .any(|c| matches!(c, Call::AskFork { question, .. } if question == "why zebras?")));
        let kept = ops.store.lineage("btw-1").unwrap();
        let aside = kept.last().unwrap();
        assert_eq!(
            (aside.kind, aside.reply.as_str()),
            (TurnKind::Aside, "Stripes.")
        );
    }
}

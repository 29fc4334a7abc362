//! `:rewind [TURN] [--code] [-- PROMPT]`: fork after TURN (default HEAD~1) as a new branch,
//! optionally restore the files to TURN's snapshot, then send PROMPT.

use super::help::Help;
use super::{Parsed, Parser};
use crate::branch_names::{self, NewBranch};
use crate::meta::args::MetaError;
use crate::meta::args::{at_most, err, free_text, optional_turn, split_args, Flag, Lexer};
use crate::meta::moves::{fork, idle_store, resolve};
use crate::meta::ops::SessionOps;
use crate::model::TurnKind;
use anyhow::Result;

meta_command! {
    Rewind, switched: Rewind::rewind, needs_session: true,
    usage: ":rewind [TURN] [--code] [-- PROMPT]",
    summary: "fork after TURN (default HEAD~1), send PROMPT",
    details: "Forks a new branch after TURN (default HEAD~1) and switches to it. With --code, \
              the files are also restored to TURN's snapshot (the current working tree is \
              snapshotted first). Everything after ` -- ` is sent as the next prompt, \
              verbatim: `:rewind HEAD~2 -- don't use approach A, go straight to B`.",
    flags: &[Flag::switch(&["--code"])], parser: Parser::Text(parse),
}

/// PROMPT is everything after ` -- `, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewind {
    pub turn: Option<String>,
    pub code: bool,
    pub prompt: Option<String>,
}

fn parse(args: &str) -> Result<Parsed, MetaError> {
    let mut lexer = Lexer::new(args);
    let mut words = Vec::new();
    let mut prompt = None;
    while let Some(word) = lexer.next_word()? {
        if !word.quoted && word.text == "--" {
            match free_text(lexer.rest()) {
                Some(p) => prompt = Some(p),
                None => return Err(err(":rewind needs a PROMPT after '--'")),
            }
            break;
        }
        words.push(word);
    }
    let p = split_args(SPEC.name, words, SPEC.flags)?;
    if p.has("--help") {
        return Ok(Help::about(SPEC.name));
    }
    at_most(SPEC.name, &p, 1, "one TURN (put the prompt after ' -- ')")?;
    Ok(Box::new(Rewind {
        turn: optional_turn(SPEC.name, p.positionals.first())?,
        code: p.has("--code"),
        prompt,
    }))
}

impl Rewind {
    fn rewind(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let store = idle_store(ops)?;
        let current = ops.current_branch(&store);
        let at = resolve(&store, self.turn.as_deref().unwrap_or("HEAD~1"), &current)?;
        let restored = if self.code {
            Some(ops.restore_code(&at)?)
        } else {
            None
        };
        let name = branch_names::free(
            &store,
            NewBranch::Rewind {
                from: &current,
                after: at.id,
            },
        )?;
        fork(ops, &store, &name, &at)?;
        if let Some(text) = &self.prompt {
            ops.send_prompt(text, TurnKind::Prompt, None);
        }
        let mut message = format!(
            "rewound to #{} on new branch {name}; {current} is kept",
            at.id
        );
        if let Some(summary) = restored {
            message.push_str(&format!("; {summary}"));
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::TurnId;
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;
    use crate::model::TurnKind;

    #[test]
    fn forks_before_the_last_turn_and_sends_the_prompt_verbatim() {
        let mut ops = FakeOps::with_turns(&["one", "two", "three"]);
        assert_eq!(
            ops.switched(":rewind -- don't use approach A, go straight to B"),
            "rewound to #2 on new branch main-r2; main is kept"
        );
        let mut calls = Call::fork_after(2, "main-r2");
        calls.push(Call::Prompt {
            text: "don't use approach A, go straight to B".into(),
            kind: TurnKind::Prompt,
            input: None,
        });
        assert_eq!(ops.calls, calls);
        let branch = ops.store.branch("main-r2").unwrap().unwrap();
        assert_eq!(branch.fork_turn, Some(TurnId(2)));
    }

    #[test]
    fn code_restores_the_turns_files_first_and_names_stay_short() {
        let mut ops = FakeOps::with_turns(&["one", "two", "three"]);
        assert_eq!(
            ops.run(":rewind 1 --code"),
            Outcome::Switched(
                "rewound to #1 on new branch main-r1; main is kept; files as at #1".into()
            )
        );
        assert_eq!(ops.calls[1], Call::Restore(1));
        assert!(ops.prompts().is_empty());
        // Rewinding the rewound branch again: the name does not grow.
        assert_eq!(ops.branch, "main-r1");
        ops.add_turn("main-r1", "four");
        assert_eq!(
            ops.switched(":rewind HEAD~1"),
            "rewound to #1 on new branch main-r1-2; main-r1 is kept"
        );
    }

    #[test]
    fn past_the_first_turn_is_one_line_and_changes_nothing() {
        let mut ops = FakeOps::with_turns(&["one"]);
        assert_eq!(
            ops.error(":rewind"),
            "HEAD~1 goes past the first turn of main"
        );
        assert_eq!(ops.calls, [Call::EnsureIdle]);
        assert_eq!(ops.store.branches().unwrap().len(), 1);
    }
}

//! `:restore TURN[.CALL] [--before|--after] [PATHS…]`: puts the files a tool call changed back
//! as they were before (or after) it, through the effects journal; undoable with `:undo`.

use super::{read_text, Parsed, Parser};
use crate::meta::args::{clip_to, err, split_args, turn_arg, Flag, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};

meta_command! {
    Restore, run: Restore::restore,
    usage: ":restore TURN[.CALL] [--before|--after] [PATHS…]",
    summary: "files back as they were before/after a tool call (undoable)",
    details: "Puts the files a tool call changed back as they were before it (the default) or \
              after it; TURN alone means all the turn's calls; PATHS limits it to some files or \
              folders. The files are snapshotted first, so :undo takes the restore back. A file \
              the journal did not see created is never deleted, and a file changed outside \
              Claude since the last snapshot is kept aside (named in the message) before it is \
              replaced.",
    flags: &[Flag::switch(&["--before"]), Flag::switch(&["--after"])], parser: Parser::Words(parse),
}

/// `target` is `TURN` or `TURN.CALL` as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    pub target: String,
    pub after: bool,
    pub paths: Vec<String>,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = split_args(SPEC.name, words, SPEC.flags)?;
    if p.has("--before") && p.has("--after") {
        return Err(err(":restore takes --before or --after, not both"));
    }
    let after = p.has("--after");
    let mut positionals = p.positionals.into_iter();
    let Some(target) = positionals.next() else {
        return Err(err(
            ":restore needs a TURN or TURN.CALL (e.g. :restore HEAD.1)",
        ));
    };
    let (turn, _) = crate::effects::turns::split_call_ref(&target)
        .map_err(|e| err(format!(":restore: {}", clip_to(&e.to_string(), 120))))?;
    turn_arg(SPEC.name, &turn)?;
    Ok(Box::new(Restore {
        target: target.trim().to_string(),
        after,
        paths: positionals.collect(),
    }))
}

impl Restore {
    fn restore(&self, ops: &mut dyn SessionOps) -> Outcome {
        read_text(ops, |ctx| {
            let cwd = std::env::current_dir().map_err(|e| format!("{e}"))?;
            crate::effects::side::SideRepo::for_project(&cwd)
                .and_then(|repo| {
                    crate::commands::effects::restore_in(
                        ctx.store,
                        &repo,
                        &self.target,
                        self.after,
                        &self.paths,
                        &ctx.branch,
                    )
                })
                .map_err(|e| format!("{e:#}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::FakeOps;
    use crate::meta::ops::Outcome;

    #[test]
    fn bad_lines_are_one_line_and_run_nothing() {
        let mut ops = FakeOps::with_turns(&["one"]);
        for (line, said) in [
            (":restore", "needs a TURN"),
            (":restore HEAD.1 --before --after", "not both"),
            (":restore HEAD.0", "numbered from 1"),
            (":restore 1 --sideways", "unknown option"),
        ] {
            match ops.run(line) {
                Outcome::Error(e) => assert!(e.contains(said), "{line}: {e}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        assert!(ops.calls.is_empty(), "{:?}", ops.calls);
    }
}

//! `:replay BRANCH [FROM..TO]`: the recorded prompts of BRANCH's turns, one turn at a time,
//! into a fresh session on a new branch (in the background).

use super::{usage_args, Parsed, Parser};
use crate::branch_names::NewBranch;
use crate::meta::args::{clip, err, turn_arg, MetaError, Word};
use crate::meta::moves::{fresh_session, resolve};
use crate::meta::ops::SessionOps;
use crate::model::Turn;
use crate::store::Store;
use anyhow::{bail, Context, Result};

meta_command! {
    Replay, switched: Replay::replay, needs_session: true,
    usage: ":replay BRANCH [FROM..TO]", summary: "replay BRANCH's prompts into a fresh session",
    details: "Sends the prompts of BRANCH's turns, one turn at a time, into a fresh session \
              on a new branch. FROM..TO limits the turns (either side may be empty: 5.., \
              ..HEAD~2).",
    parser: Parser::Words(parse),
}

/// `FROM..TO`; either side may be empty.
pub type Range = (Option<String>, Option<String>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub branch: String,
    pub range: Option<Range>,
}

fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = usage_args(&SPEC, words, ":replay main 3..HEAD")?;
    let range = p.positionals.get(1).map(|r| parse_range(r)).transpose()?;
    Ok(Box::new(Replay {
        branch: p.positionals[0].clone(),
        range,
    }))
}

/// `FROM..TO`, either side empty; each side a turn reference.
fn parse_range(r: &str) -> Result<Range, MetaError> {
    let Some((from, to)) = r.split_once("..") else {
        return Err(err(format!(
            ":replay: the range must be FROM..TO (e.g. 3..HEAD, 5.., ..HEAD~2), got '{}'",
            clip(r)
        )));
    };
    let side = |s: &str| -> Result<Option<String>, MetaError> {
        if s.is_empty() {
            Ok(None)
        } else {
            turn_arg(SPEC.name, s).map(Some)
        }
    };
    Ok((side(from)?, side(to)?))
}

impl Replay {
    fn replay(&self, ops: &mut dyn SessionOps) -> Result<String> {
        let branch = self.branch.as_str();
        let store = ops.store()?;
        if store.branch(branch)?.is_none() {
            bail!("no branch '{branch}'");
        }
        let lineage = store.lineage(branch)?;
        let (sent, moves): (Vec<&Turn>, Vec<&Turn>) =
            turns_in(&store, &lineage, branch, self.range.as_ref())?
                .iter()
                .partition(|t| t.replays());
        if sent.is_empty() {
            bail!("{branch} has no prompts to replay in that range");
        }
        let message = fresh_session(ops, NewBranch::Replay { of: branch }, None)?;
        let count = sent.len();
        ops.replay_prompts(sent.iter().map(|t| t.prompt.clone()).collect())?;
        let left_out = crate::render::turns::left_out_of_replay(&moves)
            .map(|said| format!("; {said}"))
            .unwrap_or_default();
        Ok(format!(
            "{message}: replaying {count} turns of {branch}{left_out}"
        ))
    }
}

/// The turns of `lineage` (BRANCH's) in `range`; a replay sends those that carry a prompt
/// ([`Turn::replays`]).
fn turns_in<'a>(
    store: &Store,
    lineage: &'a [Turn],
    branch: &str,
    range: Option<&Range>,
) -> Result<&'a [Turn]> {
    let position = |reference: &Option<String>, default: usize| -> Result<usize> {
        match reference {
            None => Ok(default),
            Some(r) => {
                let turn = resolve(store, r, branch)?;
                lineage
                    .iter()
                    .position(|t| t.id == turn.id)
                    .with_context(|| format!("turn #{} is not on {branch}", turn.id))
            }
        }
    };
    let last = lineage.len().saturating_sub(1);
    let (from, to) = match range {
        Some((from, to)) => (position(from, 0)?, position(to, last)?),
        None => (0, last),
    };
    Ok(lineage.get(from..=to.max(from)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::{Call, FakeOps};
    use crate::meta::ops::Outcome;
    use crate::model::TurnKind;

    #[test]
    fn replays_the_prompts_in_range_into_a_fresh_session() {
        let mut ops = FakeOps::with_turns(&["one", "two", "three"]);
        assert_eq!(
            ops.run(":replay main 2.."),
            Outcome::Switched(
                "fresh session on new branch main-replay: replaying 2 turns of main".into()
            )
        );
        assert_eq!(ops.calls[2], Call::Start("new-1".into()));
        assert_eq!(
            ops.calls.last(),
            Some(&Call::Replay(vec!["two".into(), "three".into()]))
        );
        assert_eq!(ops.error(":replay nope"), "no branch 'nope'");
        assert_eq!(ops.error(":replay main 9.."), "no turn #9");
    }

    #[test]
    fn a_replay_leaves_out_summaries_and_compactions_and_says_so() {
        let mut ops = FakeOps::with_turns(&["one", "two"]);
        ops.add_turn_of_kind("main", "(conversation summarized)", TurnKind::Summary);
        ops.add_turn_of_kind("main", "/compact keep it short", TurnKind::Compact);
        ops.add_turn("main", "five");
        assert_eq!(
            ops.run(":replay main 2.."),
            Outcome::Switched(
                "fresh session on new branch main-replay: replaying 2 turns of main; left out, \
                 as they are not prompts: #3 (summary), #4 (compact)"
                    .into()
            )
        );
        assert_eq!(
            ops.calls.last(),
            Some(&Call::Replay(vec!["two".into(), "five".into()]))
        );
        assert_eq!(
            ops.error(":replay main 3..4"),
            "main has no prompts to replay in that range"
        );
    }
}

//! The history of ccx's moves — branch switches, checkouts, rewinds, clears, briefs and code
//! restores — kept in the turn log (meta key `moves`), so `:undo` works after a restart.
//!
//! A move records where the conversation was and where it went (branch and Claude session),
//! and, when it touched files, the restore it made (the trees before and after and the files
//! it changed). Undoing a move is itself a move: it returns to the conversation the move left
//! and restores the files as they were before it; undoing that undo redoes the move.

use crate::effects::restore::{self, Plan, Report};
use crate::effects::side::SideRepo;
use crate::ids::{MetaKey, SessionId};
use crate::store::Store;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// How many moves are kept (the oldest go first).
const KEEP: usize = 1000;

/// Where the conversation is: a branch and the Claude session carrying it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub branch: String,
    #[serde(default)]
    pub session_id: Option<SessionId>,
}

/// The files a move changed: a restore in the effects journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChange {
    /// The restore's id in the journal.
    pub restore: String,
    /// The tree before the move (what undoing it restores) and after.
    pub before: String,
    pub after: String,
    /// The files it changed.
    pub paths: Vec<String>,
}

impl CodeChange {
    pub fn from_report(report: &Report) -> Option<CodeChange> {
        (!report.changes.is_empty()).then(|| CodeChange {
            restore: report.id.clone(),
            before: report.before.clone(),
            after: report.after.clone(),
            paths: report.changes.iter().map(|c| c.path.clone()).collect(),
        })
    }
}

/// One move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// 1, 2, ... per project.
    pub n: u64,
    /// `branch`, `checkout`, `rewind`, `clear`, `brief`, `restore` or `undo`.
    pub kind: String,
    /// RFC 3339.
    pub at: String,
    /// The conversation before and after (None when the move did not change it).
    #[serde(default)]
    pub from: Option<Place>,
    #[serde(default)]
    pub to: Option<Place>,
    #[serde(default)]
    pub code: Option<CodeChange>,
    /// What it did, in one line.
    pub summary: String,
    /// For an undo: the move it undid.
    #[serde(default)]
    pub undoes: Option<u64>,
}

impl Move {
    /// True when the move switched the conversation.
    pub fn switched(&self) -> bool {
        matches!((&self.from, &self.to), (Some(a), Some(b)) if a != b)
    }
}

/// Every move, oldest first.
pub fn all(store: &Store) -> Result<Vec<Move>> {
    Ok(match store.get_meta(&MetaKey::Moves)? {
        Some(value) => serde_json::from_value(value).unwrap_or_default(),
        None => Vec::new(),
    })
}

/// Appends a move (numbered after the last) and returns it.
pub fn record(store: &Store, mut mv: Move) -> Result<Move> {
    let mut moves = all(store)?;
    mv.n = moves.last().map(|m| m.n + 1).unwrap_or(1);
    if mv.at.is_empty() {
        mv.at = crate::model::now_rfc3339();
    }
    moves.push(mv.clone());
    let skip = moves.len().saturating_sub(KEEP);
    store.set_meta(&MetaKey::Moves, serde_json::to_value(&moves[skip..])?)?;
    Ok(mv)
}

/// A new move of `kind` (numbered and timed by [`record`]).
pub fn new_move(kind: &str, from: Option<Place>, to: Option<Place>, summary: String) -> Move {
    Move {
        n: 0,
        kind: kind.to_string(),
        at: String::new(),
        from,
        to,
        code: None,
        summary,
        undoes: None,
    }
}

/// Makes `place` the running conversation (the session does; outside a session there is none).
pub type ReturnTo<'a> = &'a mut dyn FnMut(&Place) -> Result<()>;

/// Undoes the latest move (an undo's undo redoes): restores the files it changed as they were
/// before it, then returns to the conversation it left. Records the undo as a move and
/// returns one line saying what happened. Files first: a restore that cannot be done changes
/// nothing; a switch that fails puts the files back.
pub fn undo(store: &Store, repo: &SideRepo, conversation: Option<ReturnTo>) -> Result<String> {
    let moves = all(store)?;
    let Some(last) = moves.last().cloned() else {
        bail!("nothing to undo: no moves recorded yet (:history lists them)");
    };
    let switch = last.switched().then(|| last.from.clone()).flatten();
    if switch.is_some() && conversation.is_none() {
        bail!(
            "move {} ({}) switched the conversation; type :undo inside ccx to undo it",
            last.n,
            last.kind
        );
    }
    let report = match &last.code {
        Some(code) => Some(restore::restore(
            repo,
            &Plan {
                target: code.before.clone(),
                scope: code.paths.clone(),
                description: format!("undo of move {}", last.n),
            },
        )?),
        None => None,
    };
    if let (Some(place), Some(conversation)) = (&switch, conversation) {
        if let Err(err) = conversation(place) {
            if let Some(done) = &report {
                let paths: Vec<String> = done.changes.iter().map(|c| c.path.clone()).collect();
                let _ = restore::restore(
                    repo,
                    &Plan {
                        target: done.before.clone(),
                        scope: paths,
                        description: format!("undo of move {} failed: files put back", last.n),
                    },
                );
            }
            return Err(err);
        }
    }
    let (verb, n, label) = describe_undo(&moves, &last);
    let mut summary = format!("{verb} move {n} ({label})");
    if let Some(place) = &switch {
        summary.push_str(&format!("; on branch {}", place.branch));
    }
    if let Some(done) = &report {
        summary.push_str(&format!("; {}", done.summary()));
    }
    let label = format!("{verb} move {n} ({label})");
    let mut mv = new_move("undo", None, None, label);
    if last.switched() {
        mv.from = last.to.clone();
        mv.to = last.from.clone();
    } else {
        mv.from = None;
        mv.to = None;
    }
    mv.code = report.as_ref().and_then(CodeChange::from_report);
    mv.undoes = Some(last.n);
    record(store, mv)?;
    Ok(summary)
}

/// "undid"/"redid" and what the original move did: an undo of an undo redoes it.
fn describe_undo(moves: &[Move], last: &Move) -> (&'static str, u64, String) {
    let mut original = last;
    let mut undos = 0;
    while original.kind == "undo" && undos < moves.len() {
        let Some(target) = original
            .undoes
            .and_then(|n| moves.iter().find(|m| m.n == n))
        else {
            break;
        };
        original = target;
        undos += 1;
    }
    let verb = if undos % 2 == 0 { "undid" } else { "redid" };
    let label = original
        .summary
        .split(": ")
        .next()
        .unwrap_or(&original.summary);
    (verb, original.n, format!("{}: {label}", original.kind))
}

/// The history, newest last: number, age, kind, what it did.
pub fn render_history(
    moves: &[Move],
    now: chrono::DateTime<chrono::Utc>,
    p: crate::render::Palette,
) -> String {
    if moves.is_empty() {
        return "no moves yet (branch switches, checkouts, rewinds, clears, briefs and restores are listed here)\n".into();
    }
    let mut out = String::new();
    for mv in moves {
        let mut line = format!(
            "{}  {:>4}  {:<8} {}",
            p.id(&format!("{:>3}", mv.n)),
            crate::render::age(&mv.at, now),
            mv.kind,
            mv.summary
        );
        if let Some(code) = &mv.code {
            line.push_str(&p.dim(&format!(" [{} files]", code.paths.len())));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&p.dim(":undo undoes the last one; :undo again redoes it"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::{hook, turns};
    use crate::ids::TurnId;
    use serde_json::json;
    use std::time::{Duration, Instant};

    #[test]
    fn undo_then_undo_again_redoes_a_restore_and_both_are_listed() {
        let (tmp, repo) = crate::effects::test_repos::side_repo();
        let work = repo.work_tree().to_path_buf();
        let store = Store::open(&tmp.path().join("store")).unwrap();
        std::fs::write(work.join("a"), "old").unwrap();
        let soon = Instant::now() + Duration::from_secs(60);
        let payload = |event: &str| {
            json!({"hook_event_name": event, "session_id": "s", "prompt_id": "p",
                   "tool_name": "Write", "tool_use_id": "t1", "tool_input": {"file_path": "a"}})
        };
        hook::record_in(&repo, &payload("PreToolUse"), soon).unwrap();
        std::fs::write(work.join("a"), "new").unwrap();
        hook::record_in(&repo, &payload("PostToolUse"), soon).unwrap();
        let turn = crate::model::Turn {
            id: TurnId(1),
            session_id: "s".into(),
            prompt_id: Some("p".into()),
            ..Default::default()
        };
        let calls = turns::calls_of(&repo, &turn).unwrap();
        let plan = turns::plan_for(&turn, &calls, Some(1), false, Vec::new()).unwrap();
        let report = restore::restore(&repo, &plan).unwrap();
        let mut mv = new_move("restore", None, None, "call 1.1, before: done".into());
        mv.code = CodeChange::from_report(&report);
        record(&store, mv).unwrap();
        assert_eq!(std::fs::read_to_string(work.join("a")).unwrap(), "old");

        let said = undo(&store, &repo, None).unwrap();
        assert!(
            said.starts_with("undid move 1 (restore: call 1.1, before)"),
            "{said}"
        );
        assert_eq!(std::fs::read_to_string(work.join("a")).unwrap(), "new");
        let said = undo(&store, &repo, None).unwrap();
        assert!(
            said.starts_with("redid move 1 (restore: call 1.1, before)"),
            "{said}"
        );
        assert_eq!(std::fs::read_to_string(work.join("a")).unwrap(), "old");
        let moves = all(&store).unwrap();
        assert_eq!(moves.iter().map(|m| m.n).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(moves[2].undoes, Some(2));
        let text = render_history(
            &moves,
            chrono::Utc::now(),
            crate::render::Palette { enabled: false },
        );
        assert!(text.contains("redid move 1"), "{text}");
    }

    #[test]
    fn a_conversation_move_needs_the_session() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = SideRepo::open(tmp.path(), &tmp.path().join(".side")).unwrap();
        let store = Store::open(&tmp.path().join(".store")).unwrap();
        let err = undo(&store, &repo, None).unwrap_err();
        assert!(err.to_string().starts_with("nothing to undo"), "{err}");
        let place = |b: &str| {
            Some(Place {
                branch: b.into(),
                session_id: None,
            })
        };
        record(
            &store,
            new_move("checkout", place("main"), place("x"), "on branch x".into()),
        )
        .unwrap();
        let err = undo(&store, &repo, None).unwrap_err();
        assert!(err.to_string().contains("type :undo inside ccx"), "{err}");
        assert_eq!(all(&store).unwrap().len(), 1, "nothing recorded");
    }

    #[test]
    fn a_stored_move_without_its_optional_fields_reads_back() {
        let stored = r#"{"n":1,"kind":"clear","at":"2026-01-01T00:00:00Z","summary":"s"}"#;
        let mv: Move = serde_json::from_str(stored).unwrap();
        assert_eq!(
            (mv.from, mv.to, mv.code, mv.undoes),
            (None, None, None, None)
        );
    }
}

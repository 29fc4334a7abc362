//! Crash closure: a turn whose recording ccx is gone (killed, crashed) is finished from
//! Claude's transcript — reply, usage, files, its lines — or, where the transcript holds no
//! reply, marked `interrupted`; and prompts such a ccx had no time to record (their hook
//! message was still on its way) become turns from the transcript. Run at every session start,
//! by `ccx import`, and by `ccx doctor --repair`; `ccx doctor` lists open turns of dead
//! processes and the sessions they were recording.

use crate::ids::SessionId;
use crate::model::{now_rfc3339, Turn, TurnEnd};
use crate::recorder::last_uuid_of;
use crate::store::Store;
use crate::{liveness, transcript};
use anyhow::Result;
use std::path::Path;

/// The open turns whose recording process is gone.
pub fn dead_open_turns(store: &Store) -> Result<Vec<Turn>> {
    Ok(store
        .open_turns()?
        .into_iter()
        .filter(|t| {
            t.recorder
                .as_deref()
                .is_some_and(|r| !liveness::is_alive(r))
        })
        .collect())
}

/// Finishes every open turn of a dead process (see the module doc); problems go to the
/// diagnostic log. Returns the turns closed.
pub fn close_dead_turns(
    store: &std::sync::Arc<Store>,
    transcripts_dir: Option<&Path>,
) -> Vec<Turn> {
    let dead = match dead_open_turns(store) {
        Ok(dead) => dead,
        Err(e) => {
            crate::diag::log(&format!("cannot list open turns: {e:#}"));
            return Vec::new();
        }
    };
    let mut closed = Vec::new();
    for turn in dead {
        match close_turn(store, &turn, transcripts_dir) {
            Ok(done) => closed.push(done),
            Err(e) => crate::diag::log(&format!("cannot close turn #{}: {e:#}", turn.id)),
        }
    }
    if let Some(dir) = transcripts_dir {
        if let Err(e) = recover_dead_sessions(store, dir) {
            crate::diag::log(&format!("cannot recover sessions of a dead ccx: {e:#}"));
        }
    }
    closed
}

/// The sessions whose recording ccx is gone, including one that had not stored a turn yet:
/// what their transcripts show beyond the log (a prompt whose hook message that ccx never
/// handled) is recorded at the next start.
pub fn dead_recordings(store: &Store) -> Result<Vec<SessionId>> {
    Ok(store
        .recordings()?
        .into_iter()
        .filter(|(_, who)| !liveness::is_alive(who))
        .map(|(session, _)| session)
        .collect())
}

/// Records what the transcripts of sessions whose recording ccx died show beyond the log.
fn recover_dead_sessions(store: &std::sync::Arc<Store>, dir: &Path) -> Result<()> {
    for session in dead_recordings(store)? {
        let mut recorder =
            crate::recorder::Recorder::new(store.clone()).with_transcripts_dir(dir.to_path_buf());
        recorder.recover_session(&session)?;
    }
    Ok(())
}

/// Finishes `turn` from its session's transcript in `transcripts_dir`.
pub fn close_turn(store: &Store, turn: &Turn, transcripts_dir: Option<&Path>) -> Result<Turn> {
    let lines = transcripts_dir
        .map(|dir| dir.join(format!("{}.jsonl", turn.session_id)))
        .and_then(|path| transcript::read_transcript(&path).ok())
        .unwrap_or_default();
    let at = find_prompt(&lines, turn);
    let (entries, facts) = match at {
        Some(p) => {
            let end = (p + 1..lines.len())
                .find(|&i| transcript::starts_turn(&lines[i]))
                .map_or(lines.len(), |n| transcript::with_preamble(&lines, n, p + 1));
            let after = match turn.parent {
                Some(parent) => last_uuid_of(&store.entries(parent).unwrap_or_default()),
                None => None,
            };
            // Lines before the prompt that no earlier turn stored are this turn's.
            let (entries, facts) = transcript::turn_since(&lines[..end], after.as_deref());
            if facts.prompt.is_some() {
                (entries, facts)
            } else {
                transcript::turn_since(&lines[..end], lines[p].parent_uuid.as_deref())
            }
        }
        None => (Vec::new(), transcript::TurnFacts::default()),
    };
    let ended_at = at
        .and_then(|p| {
            lines[p..]
                .iter()
                .take_while(|l| !transcript::starts_turn(l) || l.uuid == lines[p].uuid)
                .filter_map(|l| l.timestamp())
                .last()
                .map(str::to_owned)
        })
        .unwrap_or_else(now_rfc3339)
        // Claude's clock stamped the prompt before ccx stored it: never end before the start.
        .max(turn.started_at.clone());
    let interrupted = facts.reply.is_empty() || facts.interrupted;
    let end = TurnEnd {
        interrupted,
        ..facts.into_end(&turn.prompt, ended_at, entries)
    };
    store.finish_turn(turn.id, end)
}

/// The line that started `turn`: by its uuid, else its prompt id, else the last prompt with
/// its text.
fn find_prompt(lines: &[transcript::Line], turn: &Turn) -> Option<usize> {
    if let Some(uuid) = &turn.prompt_uuid {
        if let Some(i) = lines.iter().rposition(|l| l.uuid.as_ref() == Some(uuid)) {
            return Some(i);
        }
    }
    if let Some(id) = &turn.prompt_id {
        if let Some(i) = lines
            .iter()
            .position(|l| transcript::starts_turn(l) && l.prompt_id() == Some(id.as_str()))
        {
            return Some(i);
        }
    }
    lines.iter().rposition(|l| {
        transcript::prompt_text(l)
            .or_else(|| transcript::command_text(l))
            .is_some_and(|t| t.trim() == turn.prompt.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TurnStart;
    use serde_json::json;
    use std::io::Write;
    use std::sync::Arc;

    #[test]
    fn an_open_turn_of_a_dead_process_is_finished_from_the_transcript() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
        let start = |prompt: &str, uuid: &str, recorder: &str| TurnStart {
            branch: "main".into(),
            prompt: prompt.into(),
            session_id: "s".into(),
            prompt_uuid: Some(uuid.into()),
            recorder: Some(recorder.into()),
            ..Default::default()
        };
        // A process that has ended: its identity names no running process.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = format!("{}:1", child.id());
        child.wait().unwrap();
        let answered = store.begin_turn(start("answered", "p1", &dead)).unwrap();
        let cut_off = store.begin_turn(start("cut off", "p2", &dead)).unwrap();
        let alive = store
            .begin_turn(start(
                "still running",
                "p3",
                &crate::liveness::this_process(),
            ))
            .unwrap();
        let transcripts = dir.path().join("projects");
        std::fs::create_dir_all(&transcripts).unwrap();
        let mut f = std::fs::File::create(transcripts.join("s.jsonl")).unwrap();
        for line in [
            json!({"type": "user", "uuid": "p1", "parentUuid": null, "sessionId": "s",
                "timestamp": "2099-01-01T00:00:00.000Z",
                "message": {"role": "user", "content": "answered"}}),
            json!({"type": "assistant", "uuid": "a1", "parentUuid": "p1", "sessionId": "s",
                "timestamp": "2099-01-01T00:00:01.000Z",
                "message": {"id": "m1", "role": "assistant", "model": "m",
                "content": [{"type": "text", "text": "the reply"}],
                "usage": {"input_tokens": 100, "output_tokens": 3}}}),
            json!({"type": "user", "uuid": "p2", "parentUuid": "a1", "sessionId": "s",
                "message": {"role": "user", "content": "cut off"}}),
        ] {
            writeln!(f, "{line}").unwrap();
        }
        let dead_ids: Vec<crate::ids::TurnId> = dead_open_turns(&store)
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(dead_ids, [answered.id, cut_off.id]);
        let closed = close_dead_turns(&store, Some(&transcripts));
        assert_eq!(closed.len(), 2);
        let first = store.turn(answered.id).unwrap().unwrap();
        assert_eq!(first.reply, "the reply");
        assert!(!first.interrupted);
        assert_eq!(first.ended_at.as_deref(), Some("2099-01-01T00:00:01.000Z"));
        assert_eq!(first.context_tokens, 100);
        assert!(!store.entries(answered.id).unwrap().is_empty());
        let second = store.turn(cut_off.id).unwrap().unwrap();
        assert!(second.interrupted && second.reply.is_empty() && !second.is_running());
        assert!(store.turn(alive.id).unwrap().unwrap().is_running());
        assert!(dead_open_turns(&store).unwrap().is_empty());
    }
}

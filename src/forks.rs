//! Claude Code's own `/fork DIRECTIVE`, read from disk. With agent view off (as ccx runs
//! claude), `/fork` starts a forked subagent: it begins with the session's conversation, carries
//! out one directive in the background and writes its own transcript,
//! `<session>/subagents/agent-<id>.jsonl` beside the session's (its first line, of type
//! `fork-context-ref`, names the parent session and the last line of it the fork saw), with
//! `agent-<id>.meta.json` saying `isFork` and the fork's name. [`finished_forks`] reads the forks
//! of a session that have answered; the recorder makes each a turn on a branch forked after the
//! turn it started from (see docs/claude-session-moves.md).

use crate::transcript::{self, Line, TurnFacts};
use serde_json::Value;
use std::path::Path;

/// Most forks of one session read.
const MAX_FORKS: usize = 1_000;

/// One finished `/fork` of a session.
#[derive(Debug, Clone)]
pub struct Fork {
    /// Claude's id for the forked agent.
    pub agent_id: String,
    /// The name Claude gave it (from the directive), if any.
    pub name: Option<String>,
    /// The last line of the parent session the fork started from.
    pub parent_last_uuid: String,
    /// What the person asked the fork to do.
    pub directive: String,
    /// The uuid of the fork's first message (the directive): the turn's `prompt_uuid`.
    pub directive_uuid: String,
    /// The fork's lines as a continuation of the parent's conversation: its first message
    /// follows `parent_last_uuid`, none is marked a side chain (so the branch can be resumed).
    pub entries: Vec<Value>,
    pub facts: TurnFacts,
}

/// The forks of `session_id` (transcripts in `transcripts_dir`) that have a reply, in name order.
pub fn finished_forks(transcripts_dir: &Path, session_id: &str) -> Vec<Fork> {
    let dir = transcripts_dir.join(session_id).join("subagents");
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut metas: Vec<_> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".meta.json"))
        .take(MAX_FORKS)
        .collect();
    metas.sort();
    metas
        .iter()
        .filter_map(|meta_path| {
            let meta: Value = serde_json::from_slice(&std::fs::read(meta_path).ok()?).ok()?;
            let is_fork = meta.get("isFork").and_then(Value::as_bool) == Some(true)
                || meta.get("agentType").and_then(Value::as_str) == Some("fork");
            if !is_fork {
                return None;
            }
            let name = meta_path
                .file_name()?
                .to_str()?
                .strip_suffix(".meta.json")?;
            let lines = transcript::read_transcript(&dir.join(format!("{name}.jsonl"))).ok()?;
            read_fork(&meta, lines)
        })
        .collect()
}

/// A fork from its meta record and transcript lines; None until it has replied.
fn read_fork(meta: &Value, lines: Vec<Line>) -> Option<Fork> {
    let context = lines
        .iter()
        .find(|l| l.kind == transcript::LineKind::Other("fork-context-ref".into()))?;
    let parent_last_uuid = context.raw.get("parentLastUuid")?.as_str()?.to_owned();
    let agent_id = context.raw.get("agentId")?.as_str()?.to_owned();
    let mut first = true;
    let relinked: Vec<Line> = lines
        .into_iter()
        .filter(|l| l.uuid.is_some())
        .filter_map(|l| {
            let mut raw = l.raw;
            raw["isSidechain"] = Value::Bool(false);
            if first && raw.get("parentUuid").is_some_and(Value::is_null) {
                raw["parentUuid"] = Value::String(parent_last_uuid.clone());
            }
            first = false;
            Line::from_value(raw)
        })
        .collect();
    let directive_line = relinked
        .iter()
        .find(|l| l.kind == transcript::LineKind::User)?;
    let directive_uuid = directive_line.uuid.clone()?;
    let text = directive_line.text();
    let directive = match text.rsplit_once("Your directive:") {
        Some((_, d)) => d.trim().to_owned(),
        None => meta
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    let facts = transcript::facts_of(&relinked);
    if facts.reply.is_empty() {
        return None;
    }
    Some(Fork {
        agent_id,
        name: meta.get("name").and_then(Value::as_str).map(str::to_owned),
        parent_last_uuid,
        directive,
        directive_uuid,
        entries: relinked.into_iter().map(|l| l.raw).collect(),
        facts,
    })
}

/// Writes into `session_dir` (a session's folder beside its transcript) the fork `agent-x` that
/// Claude Code 2.1.330 makes: named `name`, started after the parent's line `a2`, told
/// `directive` and answering `reply`. For tests here and of the modules that read forks.
#[cfg(test)]
pub(crate) fn write_test_fork(session_dir: &Path, name: &str, directive: &str, reply: &str) {
    use serde_json::json;
    let sub = session_dir.join("subagents");
    std::fs::create_dir_all(&sub).unwrap();
    let meta = json!({"agentType": "fork", "isFork": true, "name": name});
    std::fs::write(sub.join("agent-x.meta.json"), meta.to_string()).unwrap();
    let lines = [
        json!({"type": "fork-context-ref", "agentId": "x", "parentLastUuid": "a2"}),
        json!({"type": "user", "uuid": "d", "parentUuid": null, "isSidechain": true,
            "message": {"role": "user", "content": format!("Your directive: {directive}")}}),
        json!({"type": "assistant", "uuid": "r", "parentUuid": "d", "isSidechain": true,
            "message": {"id": "m", "role": "assistant",
            "content": [{"type": "text", "text": reply}]}}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(sub.join("agent-x.jsonl"), text).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, name: &str, meta: &Value, lines: &[Value]) {
        let sub = dir.join("s").join("subagents");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("{name}.meta.json")), meta.to_string()).unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(sub.join(format!("{name}.jsonl")), text).unwrap();
    }

    fn fork_lines(reply: Option<&str>) -> Vec<Value> {
        let mut lines = vec![
            json!({"type": "fork-context-ref", "agentId": "a1", "parentSessionId": "s",
                "parentLastUuid": "p-last"}),
            json!({"type": "user", "uuid": "d", "parentUuid": null, "isSidechain": true,
                "message": {"role": "user", "content": [{"type": "text",
                "text": "<fork-boilerplate>\nrules\n</fork-boilerplate>\n\nYour directive: check the tests"}]}}),
        ];
        if let Some(reply) = reply {
            lines.push(json!({"type": "assistant", "uuid": "r", "parentUuid": "d",
                "isSidechain": true, "message": {"id": "m", "role": "assistant",
                "content": [{"type": "text", "text": reply}],
                "usage": {"input_tokens": 5, "output_tokens": 2}}}));
        }
        lines
    }

    #[test]
    fn a_finished_fork_is_read_as_a_continuation_of_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let meta = json!({"agentType": "fork", "isFork": true, "name": "check-the-tests"});
        write(
            dir.path(),
            "agent-a1",
            &meta,
            &fork_lines(Some("all green")),
        );
        // An Agent-tool subagent is not a fork.
        write(
            dir.path(),
            "agent-b2",
            &json!({"agentType": "general-purpose"}),
            &fork_lines(Some("other")),
        );
        let forks = finished_forks(dir.path(), "s");
        assert_eq!(forks.len(), 1, "{forks:#?}");
        let fork = &forks[0];
        assert_eq!(fork.directive, "check the tests");
        assert_eq!(fork.directive_uuid, "d");
        assert_eq!(fork.parent_last_uuid, "p-last");
        assert_eq!(fork.name.as_deref(), Some("check-the-tests"));
        assert_eq!(fork.facts.reply, "all green");
        assert_eq!(fork.entries[0]["parentUuid"], "p-last");
        assert!(fork.entries.iter().all(|e| e["isSidechain"] == false));
        assert!(finished_forks(dir.path(), "other-session").is_empty());
    }

    #[test]
    fn a_fork_without_a_reply_yet_is_not_finished() {
        let dir = tempfile::tempdir().unwrap();
        let meta = json!({"isFork": true});
        write(dir.path(), "agent-a1", &meta, &fork_lines(None));
        assert!(finished_forks(dir.path(), "s").is_empty());
    }
}

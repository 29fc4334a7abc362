//! `ccx replay BRANCH [--from TURN] [--to TURN] [--model M] [--timeout SECS]`: send the prompts
//! of a branch's turns, one turn at a time, into a fresh headless Claude session, and record the
//! result as a new root branch `BRANCH-replay` (`-2`, `-3`, ... when taken; see `branch_names`).
//!
//! Each turn is one `claude -p` run: the first with `--session-id NEW`, the next ones with
//! `--resume NEW`, all with `--output-format json --permission-mode acceptEdits` (so file writes
//! replay) in the project directory, the prompt on stdin, `CLAUDECODE*` variables removed. The
//! prompt sent is the turn's `prompt` (what Claude received, so a meta-command's rewrite is
//! replayed as Claude saw it). After each run the turn is read from the new session's
//! transcript (exact usage, reply, files, entries) and recorded (kind `replay`).
//!
//! Stopping: Ctrl-C (SIGINT) or SIGTERM kills the claude run in flight (that child only, by its
//! PID) and keeps the turns done; a failing run (non-zero exit, or an error result) or one that
//! exceeds the time bound stops the replay with one line. Either way ccx says what it did.
//!
//! `TURN` references resolve with HEAD meaning the head of BRANCH.

use crate::claude::command::{ClaudeCommand, SessionArg};
use crate::ids::{SessionId, TurnId};
use crate::model::{now_rfc3339, Branch, Turn, TurnKind, TurnStart};
use crate::progress_bar::Progress;
use crate::store::Store;
use crate::{refs, transcript};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long to wait for the transcript to show a finished run's reply.
const TRANSCRIPT_SETTLE: Duration = Duration::from_secs(3);
/// Grace between SIGTERM and SIGKILL for a claude run being stopped.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// The turns FROM..TO (ids, inclusive) of a lineage; either end open.
pub fn select_range(lineage: &[Turn], from: Option<TurnId>, to: Option<TurnId>) -> Result<&[Turn]> {
    let index = |id: TurnId, what: &str| {
        lineage
            .iter()
            .position(|t| t.id == id)
            .with_context(|| format!("turn #{id} ({what}) is not on this branch's lineage"))
    };
    let start = from.map(|id| index(id, "--from")).transpose()?.unwrap_or(0);
    let end = match to {
        Some(id) => index(id, "--to")? + 1,
        None => lineage.len(),
    };
    if start >= end {
        anyhow::bail!("--from comes after --to: nothing to replay");
    }
    Ok(&lineage[start..end])
}

/// How one claude run ended.
enum RunEnd {
    Done { stdout: String },
    Failed(String),
    TimedOut,
    Interrupted,
}

/// Stops a child we started: SIGTERM, then SIGKILL after a grace period.
fn stop_child(child: &mut std::process::Child) {
    let pid = child.id() as libc::pid_t;
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let until = Instant::now() + KILL_GRACE;
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn first_meaningful_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(300).collect())
}

/// Runs claude once; the prompt on stdin.
fn run_claude(
    claude: ClaudeCommand,
    prompt: &str,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<RunEnd> {
    let program = claude.program.clone();
    let mut child = crate::headless::spawn_piped(claude.into_process(), &program)?;
    let io = ChildIo::start(&mut child, prompt)?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        let stopped = if stop.load(Ordering::SeqCst) {
            Some(RunEnd::Interrupted)
        } else {
            (Instant::now() >= deadline).then_some(RunEnd::TimedOut)
        };
        if let Some(end) = stopped {
            stop_child(&mut child);
            let _ = io.writer.join();
            return Ok(end);
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    let (stdout, stderr) = io.finish();
    Ok(judge_run(status, stdout, stderr))
}

/// The threads feeding a claude run its prompt and collecting what it prints.
struct ChildIo {
    writer: std::thread::JoinHandle<()>,
    out: std::thread::JoinHandle<Vec<u8>>,
    err: std::thread::JoinHandle<Vec<u8>>,
}

impl ChildIo {
    fn start(child: &mut std::process::Child, prompt: &str) -> Result<ChildIo> {
        let mut stdin = child.stdin.take().context("claude's stdin")?;
        let text = prompt.to_owned();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
            // Dropping stdin closes it: claude reads the prompt to EOF.
        });
        let out = child.stdout.take().context("claude's stdout")?;
        let err = child.stderr.take().context("claude's stderr")?;
        Ok(ChildIo {
            writer,
            out: crate::child::read_to_end_on_a_thread(Some(out)),
            err: crate::child::read_to_end_on_a_thread(Some(err)),
        })
    }

    /// Once claude has exited: its stdout and stderr, as text.
    fn finish(self) -> (String, String) {
        let _ = self.writer.join();
        let text = |h: std::thread::JoinHandle<Vec<u8>>| {
            String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()
        };
        (text(self.out), text(self.err))
    }
}

/// How a claude run that exited came out: done, or failed with the most telling line.
fn judge_run(status: Option<std::process::ExitStatus>, stdout: String, stderr: String) -> RunEnd {
    let result: Option<serde_json::Value> = serde_json::from_str(stdout.trim()).ok();
    let is_error = result
        .as_ref()
        .and_then(|r| r.get("is_error"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    match status {
        Some(s) if s.success() && !is_error => RunEnd::Done { stdout },
        s => {
            let said = result
                .as_ref()
                .and_then(|r| r.get("result"))
                .and_then(serde_json::Value::as_str)
                .and_then(first_meaningful_line)
                .or_else(|| first_meaningful_line(&stderr))
                .or_else(|| first_meaningful_line(&stdout));
            let code = s
                .and_then(|s| s.code())
                .map(|c| format!("exit {c}"))
                .unwrap_or_else(|| "killed".into());
            RunEnd::Failed(match said {
                Some(said) => format!("{said} ({code})"),
                None => code,
            })
        }
    }
}

/// Reads the turn just finished from the session's transcript, waiting briefly for it.
fn read_turn(
    path: &Path,
    after_uuid: Option<&str>,
) -> (Vec<serde_json::Value>, transcript::TurnFacts) {
    let deadline = Instant::now() + TRANSCRIPT_SETTLE;
    loop {
        let read = transcript::read_transcript(path)
            .map(|lines| transcript::turn_since(&lines, after_uuid))
            .unwrap_or_default();
        let settled = !read.1.reply.is_empty() || read.1.context_tokens > 0;
        if settled || Instant::now() >= deadline {
            return read;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ccx replay BRANCH [--from TURN] [--to TURN] [--model M] [--timeout SECS]`.
pub fn run(
    branch: &str,
    from: Option<String>,
    to: Option<String>,
    model: Option<String>,
    timeout_secs: u64,
) -> Result<i32> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let project = crate::paths::project_dir(&cwd);
    let store = crate::store::open_project(&cwd)?;
    let turns = turns_to_replay(&store, branch, from.as_deref(), to.as_deref())?;
    let claude = crate::claude::find::find_claude(None)?;
    let config_dir = crate::claude::paths::require_config_dir()?;
    let timeout = Duration::from_secs(timeout_secs.max(1));
    let outcome = with_stop_signals(|stop| {
        replay_turns(
            &store,
            branch,
            &turns,
            &ReplayEnv {
                claude: &claude,
                project: &project,
                config_dir: &config_dir,
                model: model.as_deref(),
                timeout,
                stop,
            },
        )
    })?;
    Ok(report(&outcome, branch, turns.len(), timeout))
}

/// The turns FROM..TO of `branch`'s lineage (references resolved with HEAD meaning its head),
/// or one line saying why there are none.
fn turns_to_replay(
    store: &Store,
    branch: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Vec<Turn>> {
    if store.branch(branch)?.is_none() {
        let names: Vec<String> = store.branches()?.into_iter().map(|b| b.name).collect();
        match crate::names::nearest_name(branch, names.iter().map(String::as_str)) {
            Some(near) => anyhow::bail!("no branch '{branch}' (did you mean '{near}'?)"),
            None => anyhow::bail!("no branch '{branch}'"),
        }
    }
    let resolve = |r: Option<&str>| -> Result<Option<TurnId>> {
        r.map(|s| {
            let parsed = refs::parse_turn_ref(s).map_err(|e| anyhow::anyhow!("{e}"))?;
            refs::resolve_turn_ref(store, &parsed, branch).map(|t| t.id)
        })
        .transpose()
    };
    let (from_id, to_id) = (resolve(from)?, resolve(to)?);
    let lineage = store.lineage(branch)?;
    if lineage.is_empty() {
        anyhow::bail!("branch '{branch}' has no turns to replay");
    }
    let (sent, moves): (Vec<&Turn>, Vec<&Turn>) = select_range(&lineage, from_id, to_id)?
        .iter()
        .partition(|t| t.replays());
    if let Some(said) = crate::render::turns::left_out_of_replay(&moves) {
        println!("{said}");
    }
    if sent.is_empty() {
        anyhow::bail!("branch '{branch}' has no prompts to replay in that range");
    }
    Ok(sent.into_iter().cloned().collect())
}

/// Runs `work` with Ctrl-C (SIGINT) and SIGTERM setting the flag it is given instead of
/// ending ccx.
fn with_stop_signals<T>(work: impl FnOnce(&AtomicBool) -> T) -> T {
    let stop = Arc::new(AtomicBool::new(false));
    let mut signal_ids = Vec::new();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Ok(id) = signal_hook::flag::register(sig, stop.clone()) {
            signal_ids.push(id);
        }
    }
    let result = work(&stop);
    for id in signal_ids {
        signal_hook::low_level::unregister(id);
    }
    result
}

/// Says what the replay did; returns the exit code.
fn report(outcome: &Outcome, branch: &str, total: usize, timeout: Duration) -> i32 {
    let onto = outcome
        .branch
        .as_ref()
        .map(|b| format!(" onto {b} (session {})", outcome.session))
        .unwrap_or_default();
    let partly = || {
        println!(
            "replayed {} of {total} turns of {branch}{onto}",
            outcome.done
        )
    };
    match &outcome.end {
        Stop::Finished => {
            println!(
                "replayed {} turn{} of {branch}{onto}",
                outcome.done,
                if outcome.done == 1 { "" } else { "s" }
            );
            0
        }
        Stop::Interrupted(turn) => {
            println!(
                "interrupted: replayed {} of {total} turns of {branch}{onto}; stopped #{turn} in flight",
                outcome.done
            );
            130
        }
        Stop::Failed(turn, why) => {
            eprintln!(
                "ccx: claude failed on turn {}/{total} (#{turn}): {why}",
                outcome.done + 1
            );
            partly();
            1
        }
        Stop::TimedOut(turn) => {
            eprintln!(
                "ccx: turn {}/{total} (#{turn}) took longer than {} s; stopped it",
                outcome.done + 1,
                timeout.as_secs()
            );
            partly();
            1
        }
    }
}

struct ReplayEnv<'a> {
    claude: &'a Path,
    project: &'a Path,
    config_dir: &'a Path,
    model: Option<&'a str>,
    timeout: Duration,
    stop: &'a AtomicBool,
}

enum Stop {
    Finished,
    Interrupted(TurnId),
    Failed(TurnId, String),
    TimedOut(TurnId),
}

struct Outcome {
    done: usize,
    branch: Option<String>,
    session: SessionId,
    end: Stop,
}

fn replay_turns(
    store: &Store,
    source: &str,
    turns: &[Turn],
    env: &ReplayEnv<'_>,
) -> Result<Outcome> {
    let session = SessionId::random();
    let transcript_path =
        crate::claude::paths::transcript_path_in(env.config_dir, env.project, session.as_str());
    let progress = Progress::new(
        turns.len(),
        "{spinner} replay [{bar:30}] {pos}/{len} {elapsed} {wide_msg}",
    );
    let mut outcome = Outcome {
        done: 0,
        branch: None,
        session: session.clone(),
        end: Stop::Finished,
    };
    let mut last_uuid: Option<String> = None;
    for (i, original) in turns.iter().enumerate() {
        if env.stop.load(Ordering::SeqCst) {
            outcome.end = Stop::Interrupted(original.id);
            break;
        }
        let prompt = crate::render::first_line(&original.prompt, 60);
        progress.step(format!("#{}: {prompt}", original.id), || {
            format!(
                "turn {}/{} (#{}): {prompt}",
                i + 1,
                turns.len(),
                original.id
            )
        });
        let started_at = now_rfc3339();
        let on = if i == 0 {
            SessionArg::New(session.clone())
        } else {
            SessionArg::Resume(session.clone())
        };
        let claude = ClaudeCommand::replay_turn(env.claude, env.project, &on, env.model);
        let stdout = match run_claude(claude, &original.prompt, env.timeout, env.stop)? {
            RunEnd::Done { stdout } => stdout,
            RunEnd::Interrupted => {
                outcome.end = Stop::Interrupted(original.id);
                break;
            }
            RunEnd::TimedOut => {
                outcome.end = Stop::TimedOut(original.id);
                break;
            }
            RunEnd::Failed(why) => {
                outcome.end = Stop::Failed(original.id, why);
                break;
            }
        };
        let (entries, facts) = read_turn(&transcript_path, last_uuid.as_deref());
        if facts.last_uuid.is_some() {
            last_uuid = facts.last_uuid.clone();
        }
        let branch = replay_branch(store, source, &mut outcome)?;
        let ran = RanTurn {
            prompt: &original.prompt,
            started_at,
            stdout: &stdout,
            entries,
            facts,
        };
        record_turn(store, branch, &session, ran)?;
        outcome.done += 1;
        progress.done();
    }
    progress.finish();
    Ok(outcome)
}

/// The new branch the replay records into, created with its first turn.
fn replay_branch(store: &Store, source: &str, outcome: &mut Outcome) -> Result<String> {
    if let Some(branch) = &outcome.branch {
        return Ok(branch.clone());
    }
    let name =
        crate::branch_names::free(store, crate::branch_names::NewBranch::Replay { of: source })?;
    store.create_branch(Branch {
        name: name.clone(),
        session_id: outcome.session.clone(),
        parent_branch: None,
        fork_turn: None,
        head: None,
        created_at: String::new(),
    })?;
    outcome.branch = Some(name.clone());
    Ok(name)
}

/// One replayed turn, as claude ran it.
struct RanTurn<'a> {
    prompt: &'a str,
    started_at: String,
    /// claude's `--output-format json` answer.
    stdout: &'a str,
    entries: Vec<serde_json::Value>,
    facts: transcript::TurnFacts,
}

/// Records a replayed turn on `branch`: the reply from the transcript, else from claude's
/// answer.
fn record_turn(store: &Store, branch: String, session: &SessionId, ran: RanTurn<'_>) -> Result<()> {
    let mut facts = ran.facts;
    if facts.reply.is_empty() {
        facts.reply = serde_json::from_str::<serde_json::Value>(ran.stdout.trim())
            .ok()
            .and_then(|v| v.get("result").and_then(|r| r.as_str()).map(str::to_owned))
            .unwrap_or_default();
    }
    let turn = store.begin_turn(TurnStart {
        branch,
        kind: TurnKind::Replay,
        prompt: ran.prompt.to_owned(),
        input: None,
        session_id: session.to_owned(),
        started_at: ran.started_at,
        ..Default::default()
    })?;
    let end = facts.into_end(ran.prompt, now_rfc3339(), ran.entries);
    store.finish_turn(turn.id, end)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lineage() -> Vec<Turn> {
        (1..=5)
            .map(|id| Turn {
                id: TurnId(id * 2),
                prompt: format!("p{id}"),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn range_selects_inclusive_ends() {
        let l = lineage();
        let ids = |s: &[Turn]| s.iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(
            ids(select_range(&l, None, None).unwrap()),
            [TurnId(2), TurnId(4), TurnId(6), TurnId(8), TurnId(10)]
        );
        assert_eq!(
            ids(select_range(&l, Some(TurnId(4)), Some(TurnId(8))).unwrap()),
            [TurnId(4), TurnId(6), TurnId(8)]
        );
        assert_eq!(
            ids(select_range(&l, Some(TurnId(8)), None).unwrap()),
            [TurnId(8), TurnId(10)]
        );
        assert_eq!(
            ids(select_range(&l, None, Some(TurnId(2))).unwrap()),
            [TurnId(2)]
        );
        assert!(select_range(&l, Some(TurnId(8)), Some(TurnId(4))).is_err());
        let err = select_range(&l, Some(TurnId(3)), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("#3"), "{err}");
    }
}

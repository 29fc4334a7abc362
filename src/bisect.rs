//! `ccx bisect --good TURN --bad TURN [--timeout SECS] -- CMD [ARGS]`: the first turn whose
//! code fails a test.
//!
//! The candidates are the turns of the bad turn's conversation after the good one, up to the
//! bad one, that have a code snapshot (the tree the effects journal keeps of the project's files
//! at the end of every turn, in its side repository: `crate::effects::side`). Each tested turn's
//! files are written into a temporary directory with git plumbing (a throwaway index,
//! `checkout-index --prefix`): never the person's tree, and no git work tree is registered. CMD
//! runs there, without a shell, in its own process group, with `CCX_BISECT_TURN` set; exit 0
//! passes, anything else fails. The good and bad turns are checked first, then a binary search.
//!
//! Stopping: a run longer than `--timeout` is killed and stops the bisect with one line; Ctrl-C
//! (or SIGTERM, SIGHUP) kills the run in flight; either way the temporary directory is removed
//! before ccx exits.

use crate::effects::side::SideRepo;
use crate::ids::TurnId;
use crate::model::Turn;
use crate::progress_bar::Progress;
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `ccx bisect` was asked.
pub struct Options {
    pub good: String,
    pub bad: String,
    pub timeout: Duration,
    pub command: Vec<OsString>,
}

/// The last lines of a failing run's output shown with the result.
const TAIL_LINES: usize = 12;

/// What one run of the test said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Exit code (None: ended by a signal) and the last lines of its output.
    Fail {
        code: Option<i32>,
        tail: String,
    },
}

/// Why a bisect stopped before its answer.
#[derive(Debug)]
pub enum Halt {
    TimedOut { turn: TurnId, after: Duration },
    Interrupted,
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Halt {
    fn from(e: anyhow::Error) -> Halt {
        Halt::Failed(e)
    }
}

/// The binary search: candidates `0..count`, the last known to fail and the good turn before
/// the first known to pass; `fails(i)` tests candidate `i`. Returns the first failing index.
pub fn first_bad<E>(
    count: usize,
    mut fails: impl FnMut(usize) -> Result<bool, E>,
) -> Result<usize, E> {
    let (mut passing, mut failing) = (-1isize, count as isize - 1);
    while failing - passing > 1 {
        let mid = passing + (failing - passing) / 2;
        if fails(mid as usize)? {
            failing = mid;
        } else {
            passing = mid;
        }
    }
    Ok(failing.max(0) as usize)
}

/// How many runs a bisect over `count` candidates makes at most: the good and bad turns, then
/// the search.
pub fn runs_needed(count: usize) -> usize {
    let search = (usize::BITS - count.saturating_sub(1).leading_zeros()) as usize;
    2 + search
}

/// The turns of `bad`'s conversation after `good`, up to `bad`, oldest first; an error when
/// `good` is not an earlier turn of that conversation.
pub fn turns_between(store: &crate::store::Store, good: &Turn, bad: &Turn) -> Result<Vec<Turn>> {
    if good.id == bad.id {
        bail!("--good and --bad name the same turn (#{})", good.id);
    }
    let mut path = Vec::new();
    let mut at = Some(bad.clone());
    while let Some(turn) = at {
        if turn.id == good.id {
            path.reverse();
            return Ok(path);
        }
        at = match turn.parent {
            Some(parent) => store.turn(parent)?,
            None => None,
        };
        path.push(turn);
    }
    bail!(
        "turn #{} is not an earlier turn of #{}'s conversation (the good turn must come before the bad one)",
        good.id,
        bad.id
    )
}

/// `ccx bisect`.
pub fn run(opts: &Options) -> Result<i32> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let repo = SideRepo::for_project(&cwd)?;
    let store = crate::store::open_project(&cwd)?;
    let branch = crate::query::current_branch(&store)?;
    let resolve = |text: &str| -> Result<Turn> {
        let parsed = crate::refs::parse_turn_ref(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::refs::resolve_turn_ref(&store, &parsed, &branch)
    };
    let (good, bad) = (resolve(&opts.good)?, resolve(&opts.bad)?);
    let between = turns_between(&store, &good, &bad)?;
    let has_snapshot = |t: &Turn| {
        t.snapshot
            .as_deref()
            .is_some_and(|tree| repo.has_tree(tree))
    };
    for turn in [&good, &bad] {
        if !has_snapshot(turn) {
            bail!(
                "turn #{} has no code snapshot, so its code cannot be restored",
                turn.id
            );
        }
    }
    let candidates: Vec<Turn> = between.into_iter().filter(|t| has_snapshot(t)).collect();
    let workspace = Workspace::new(&repo, opts)?;
    let stop = Arc::new(AtomicBool::new(false));
    let signals: Vec<_> = [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ]
    .into_iter()
    .filter_map(|sig| signal_hook::flag::register(sig, stop.clone()).ok())
    .collect();
    let progress = Progress::new(
        runs_needed(candidates.len()),
        "{spinner} bisect [{bar:30}] {pos}/~{len} runs {elapsed} {wide_msg}",
    );
    let outcome = bisect(&workspace, &good, &candidates, &stop, &progress);
    progress.finish();
    for id in signals {
        signal_hook::low_level::unregister(id);
    }
    drop(workspace);
    match outcome {
        Ok((index, verdict, runs)) => {
            print!("{}", describe(&candidates, index, &good, &verdict, runs));
            Ok(0)
        }
        Err(Halt::Interrupted) => {
            eprintln!("ccx: bisect stopped; its temporary work trees are removed");
            Ok(130)
        }
        Err(Halt::TimedOut { turn, after }) => bail!(
            "the test ran longer than {} s on turn #{turn} and was stopped (give more time with --timeout SECS)",
            after.as_secs()
        ),
        Err(Halt::Failed(err)) => Err(err),
    }
}

/// Checks the good and bad turns, then searches; returns the first bad candidate's index, its
/// verdict and the number of runs.
fn bisect(
    workspace: &Workspace<'_>,
    good: &Turn,
    candidates: &[Turn],
    stop: &AtomicBool,
    progress: &Progress,
) -> Result<(usize, Verdict, usize), Halt> {
    let mut runs = 0;
    let mut test = |turn: &Turn| -> Result<Verdict, Halt> {
        let prompt = crate::render::first_line(&turn.prompt, 50);
        progress.step(format!("testing #{}: {prompt}", turn.id), || {
            format!("bisect: testing turn #{}: {prompt}", turn.id)
        });
        runs += 1;
        let verdict = workspace.check(turn, stop)?;
        progress.done();
        Ok(verdict)
    };
    if let Verdict::Fail { code, .. } = test(good)? {
        return Err(Halt::Failed(anyhow::anyhow!(
            "the good turn #{} already fails the test ({}): nothing to bisect",
            good.id,
            exit_words(code)
        )));
    }
    let bad = candidates.last().expect("the bad turn has a snapshot");
    let bad_verdict = test(bad)?;
    if bad_verdict == Verdict::Pass {
        return Err(Halt::Failed(anyhow::anyhow!(
            "the bad turn #{} passes the test: nothing to bisect",
            bad.id
        )));
    }
    let mut verdicts = vec![None; candidates.len()];
    verdicts[candidates.len() - 1] = Some(bad_verdict);
    let first = first_bad(candidates.len(), |i| {
        if verdicts[i].is_none() {
            verdicts[i] = Some(test(&candidates[i])?);
        }
        Ok::<bool, Halt>(verdicts[i] != Some(Verdict::Pass))
    })?;
    let verdict = verdicts[first]
        .clone()
        .expect("the first bad turn was tested");
    Ok((first, verdict, runs))
}

fn exit_words(code: Option<i32>) -> String {
    match code {
        Some(code) => format!("exit {code}"),
        None => "ended by a signal".into(),
    }
}

/// The answer: the first bad turn, its prompt and changed files, and how the test failed.
fn describe(
    candidates: &[Turn],
    index: usize,
    good: &Turn,
    verdict: &Verdict,
    runs: usize,
) -> String {
    use crate::render::first_line;
    let turn = &candidates[index];
    let last_good = if index == 0 {
        good.id
    } else {
        candidates[index - 1].id
    };
    let mut text = format!(
        "first bad turn: #{} on {} ({} run{}; last good: #{last_good})\n  prompt: {}\n",
        turn.id,
        turn.branch,
        runs,
        if runs == 1 { "" } else { "s" },
        first_line(&turn.prompt, 100)
    );
    let files = if turn.files.is_empty() {
        "(none recorded)".to_string()
    } else {
        turn.files.join(", ")
    };
    text.push_str(&format!("  files:  {files}\n"));
    if let Verdict::Fail { code, tail } = verdict {
        text.push_str(&format!("  the test there: {}\n", exit_words(*code)));
        for line in tail.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

/// The temporary directory the snapshots are written into; removed when dropped.
struct Workspace<'a> {
    dir: tempfile::TempDir,
    repo: &'a SideRepo,
    opts: &'a Options,
}

impl<'a> Workspace<'a> {
    fn new(repo: &'a SideRepo, opts: &'a Options) -> Result<Workspace<'a>> {
        let dir = tempfile::Builder::new()
            .prefix("ccx-bisect-")
            .tempdir()
            .context("cannot make a temporary directory for the work trees")?;
        Ok(Workspace { dir, repo, opts })
    }

    /// Writes `turn`'s snapshot out, runs the test there, and removes the tree again.
    fn check(&self, turn: &Turn, stop: &AtomicBool) -> Result<Verdict, Halt> {
        let tree = self.dir.path().join(format!("turn-{}", turn.id));
        let index = self.dir.path().join("index");
        let snapshot = turn.snapshot.as_deref().unwrap_or_default();
        std::fs::create_dir_all(&tree).context("cannot make a temporary work tree")?;
        self.repo
            .export(snapshot, &tree, &index)
            .with_context(|| format!("cannot write out the snapshot of turn #{}", turn.id))?;
        let _ = std::fs::remove_file(&index);
        let log = self.dir.path().join(format!("turn-{}.log", turn.id));
        let verdict = self.run_test(turn.id, &tree, &log, stop);
        let _ = std::fs::remove_dir_all(&tree);
        verdict
    }

    /// Runs the test command in `dir`, its output into `log`, bounded by the timeout.
    fn run_test(
        &self,
        id: TurnId,
        dir: &Path,
        log: &Path,
        stop: &AtomicBool,
    ) -> Result<Verdict, Halt> {
        use std::os::unix::process::CommandExt;
        let output = std::fs::File::create(log).context("cannot write the test's output")?;
        let program = &self.opts.command[0];
        let mut child = std::process::Command::new(program)
            .args(&self.opts.command[1..])
            .current_dir(dir)
            .env("CCX_BISECT_TURN", id.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(
                output
                    .try_clone()
                    .context("cannot write the test's output")?,
            )
            .stderr(output)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot run {}", program.to_string_lossy()))?;
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().context("cannot wait for the test")? {
                break status;
            }
            let halt = if stop.load(Ordering::Relaxed) {
                Some(Halt::Interrupted)
            } else if started.elapsed() >= self.opts.timeout {
                Some(Halt::TimedOut {
                    turn: id,
                    after: self.opts.timeout,
                })
            } else {
                None
            };
            if let Some(halt) = halt {
                // The test and everything it started: its own process group.
                // SAFETY: a plain kill(2) of the group this process made for the child.
                unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
                let _ = child.wait();
                return Err(halt);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if status.success() {
            return Ok(Verdict::Pass);
        }
        let text = std::fs::read(log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
        Ok(Verdict::Fail {
            code: status.code(),
            tail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search against a known answer: candidate `bad` and every later one fail.
    fn search(count: usize, bad: usize) -> (usize, Vec<usize>) {
        let mut asked = Vec::new();
        let found = first_bad(count, |i| {
            asked.push(i);
            Ok::<bool, ()>(i >= bad)
        })
        .unwrap();
        (found, asked)
    }

    #[test]
    fn the_search_finds_the_first_failing_candidate_in_few_runs() {
        for count in 1..40 {
            for bad in 0..count {
                let (found, asked) = search(count, bad);
                assert_eq!(found, bad, "{count} candidates, first bad {bad}");
                assert!(!asked.contains(&(count - 1)), "the last is known to fail");
                assert!(asked.len() + 2 <= runs_needed(count), "{count}: {asked:?}");
            }
        }
    }

    #[test]
    fn runs_needed_counts_the_two_checks_and_the_halvings() {
        assert_eq!(runs_needed(1), 2);
        assert_eq!(runs_needed(2), 3);
        assert_eq!(runs_needed(8), 5);
        assert_eq!(runs_needed(9), 6);
    }

    #[test]
    fn a_halt_stops_the_search() {
        let result = first_bad(10, |i| if i == 4 { Err("stop") } else { Ok(false) });
        assert_eq!(result, Err("stop"));
    }
}

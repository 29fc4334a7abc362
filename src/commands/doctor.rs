//! `ccx doctor`: finds claude and its version, compares that with the versions ccx was tested
//! with and lists Claude Code output it did not know, checks that the hook path delivers, that
//! the store opens, and says what is wrong in plain words.

use crate::claude::command::ClaudeCommand;
use crate::compat::Version;
use crate::hooks::bridge::Bridge;
use crate::hooks::wire::HookEvent;
use crate::render::Palette;
use crate::store::{Store, StoreError};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CLAUDE_VERSION_TIMEOUT: Duration = Duration::from_secs(20);
const HOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// One check's verdict.
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

fn check(name: &'static str, result: Result<String>) -> Check {
    match result {
        Ok(detail) => Check {
            name,
            ok: true,
            detail,
        },
        Err(err) => Check {
            name,
            ok: false,
            detail: format!("{err:#}"),
        },
    }
}

/// Runs every check and prints them; exit code 1 when any failed. With `repair`, a damaged
/// turn log is recovered ([`crate::store::recover`]) and the store is checked again.
pub fn run(claude: Option<std::path::PathBuf>, json: bool, repair: bool) -> Result<i32> {
    let claude = claude_version(claude);
    let in_use = claude.as_ref().ok().and_then(|(_, v)| Version::parse(v));
    let mut checks = vec![check("claude", claude.map(|(detail, _)| detail))];
    checks.extend(versions_section(in_use));
    checks.push(check("hooks", hooks_deliver()));
    checks.push(check("config", config_state()));
    checks.push(check(
        "archive",
        crate::archive::report::doctor_detail(WARNING),
    ));
    match (store_state(), repair) {
        (StoreState::Damaged { dir, detail }, true) => {
            checks.push(Check {
                name: "store",
                ok: false,
                detail: format!("the turn log at {} is damaged ({detail})", dir.display()),
            });
            let transcripts = std::env::current_dir().ok().and_then(|cwd| {
                let config = crate::claude::paths::require_config_dir().ok()?;
                Some(
                    config
                        .join("projects")
                        .join(crate::claude::paths::project_dir_name(
                            &crate::paths::project_dir(&cwd),
                        )),
                )
            });
            checks.push(check(
                "repair",
                crate::store::recover::recover_with_transcripts(&dir, transcripts.as_deref())
                    .map(|r| r.describe().trim_end().to_string()),
            ));
            checks.push(store_state().into_check("store"));
        }
        (state, true) => {
            let fine = matches!(state, StoreState::Fine(_));
            checks.push(state.into_check("store"));
            checks.push(Check {
                name: "repair",
                ok: fine,
                detail: if fine {
                    "the turn log is not damaged: nothing to repair".into()
                } else {
                    "the turn log could not be checked, so it was not repaired".into()
                },
            });
        }
        (state, false) => checks.push(state.into_check("store")),
    }
    if checks.last().is_some_and(|c| c.name == "store" && c.ok)
        || checks.last().is_some_and(|c| c.name == "repair" && c.ok)
    {
        checks.push(check("turns", open_turns(repair)));
    }
    // A failed store check that a repair fixed does not fail the run.
    let last_store = checks.iter().rposition(|c| c.name == "store");
    let failed = checks
        .iter()
        .enumerate()
        .any(|(i, c)| !c.ok && (c.name != "store" || Some(i) == last_store));
    if json {
        serde_json::to_writer_pretty(std::io::stdout().lock(), &checks)?;
        println!();
    } else {
        let p = Palette::for_stdout();
        let mut out = std::io::stdout().lock();
        for c in &checks {
            let mark = match (c.ok, c.detail.starts_with(WARNING)) {
                (false, _) => p.warn("BAD"),
                (true, true) => p.warn("!! "),
                (true, false) => p.good("ok "),
            };
            let mut lines = c.detail.lines();
            writeln!(out, "{mark} {:<7} {}", c.name, lines.next().unwrap_or(""))?;
            for line in lines {
                writeln!(out, "            {line}")?;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// The config file: absent (defaults), read, or which keys are wrong.
fn config_state() -> Result<String> {
    let (_, problem) = crate::config::Config::load();
    if let Some(problem) = problem {
        anyhow::bail!(problem);
    }
    Ok(match crate::paths::config_file() {
        Some(path) if path.exists() => format!("{} is read", path.display()),
        _ => "no config.toml: every setting has its default".into(),
    })
}

/// Starts a warning's detail: marked `!!`, never a failure.
const WARNING: &str = "warning: ";

/// How the Claude Code in use compares with the versions this ccx was tested with
/// ([`crate::compat`]), and what newer Claude Code output it met and did not know
/// ([`crate::unknowns`]). Warnings at most: nothing here fails the run.
fn versions_section(in_use: Option<Version>) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(version) = in_use {
        let (warning, text) = crate::compat::verdict(version, crate::compat::TABLE);
        checks.push(Check {
            name: "tested",
            ok: true,
            detail: if warning {
                format!("{WARNING}{text}")
            } else {
                text
            },
        });
    }
    let seen = crate::paths::data_dir()
        .map(|dir| crate::unknowns::read_seen(&crate::unknowns::seen_file(&dir)))
        .unwrap_or_default();
    let detail = if seen.is_empty() {
        "nothing from Claude Code that ccx does not know".to_string()
    } else {
        let mut text = format!(
            "{WARNING}Claude Code sent {} thing(s) this ccx does not know; they were ignored \
             and recording went on:",
            seen.len()
        );
        for s in &seen {
            text.push_str(&format!(
                "\n{} {:?} (first seen {})",
                s.kind.label(),
                s.name,
                s.first_seen
            ));
        }
        text
    };
    checks.push(Check {
        name: "unknown",
        ok: true,
        detail,
    });
    checks
}

/// `claude --version`: the path and what it printed, for the check's detail, and the printed
/// version alone.
fn claude_version(explicit: Option<std::path::PathBuf>) -> Result<(String, String)> {
    let path = crate::claude::find::find_claude(explicit)?;
    let mut child = ClaudeCommand::plain(&path, std::path::Path::new("."), &["--version".into()])
        .into_process()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("{} does not start: {e}", path.display()))?;
    let deadline = Instant::now() + CLAUDE_VERSION_TIMEOUT;
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!(
                "{} --version did not answer within {}s",
                path.display(),
                CLAUDE_VERSION_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output()?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || version.is_empty() {
        anyhow::bail!("{} --version failed ({})", path.display(), output.status);
    }
    Ok((format!("{} ({version})", path.display()), version))
}

/// Starts a bridge and runs `ccx __hook` the way Claude Code would, with a SessionStart payload.
fn hooks_deliver() -> Result<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let bridge = Bridge::start(&crate::runtime_dir::runtime_dir()?, move |event| {
        let _ = tx.send(event);
    })?;
    let exe = std::env::current_exe()?;
    let session = uuid::Uuid::new_v4().to_string();
    let payload = serde_json::json!({
        "session_id": session, "hook_event_name": "SessionStart", "source": "startup",
        "transcript_path": "/dev/null", "cwd": "/"
    });
    let started = Instant::now();
    let mut child = Command::new(&exe)
        .arg(crate::hooks::settings::HOOK_SUBCOMMAND)
        .arg(bridge.key_file())
        .env_remove(crate::hooks::bridge::ENV_SOCKET)
        .env_remove(crate::hooks::bridge::ENV_SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(payload.to_string().as_bytes())?;
    let output = child.wait_with_output()?;
    let hook_time = started.elapsed();
    if !output.status.success() || !output.stdout.is_empty() {
        anyhow::bail!(
            "the hook command must exit 0 and print nothing; it exited {} and printed {} bytes",
            output.status,
            output.stdout.len()
        );
    }
    match rx.recv_timeout(HOOK_TIMEOUT) {
        Ok(HookEvent::SessionStart { session_id, .. }) if session_id == session => Ok(format!(
            "`{} __hook` delivers to ccx ({} ms per hook call)",
            exe.display(),
            hook_time.as_millis()
        )),
        Ok(other) => anyhow::bail!("the bridge delivered the wrong event: {other:?}"),
        Err(_) => anyhow::bail!(
            "a hook message did not reach ccx within {}s: see {}",
            HOOK_TIMEOUT.as_secs(),
            "the ccx.log in the data directory"
        ),
    }
}

/// Turns left running by a ccx that is gone (killed or crashed), and sessions it was recording
/// (prompts it had no time to record); with `repair`, finished from Claude's transcripts.
fn open_turns(repair: bool) -> Result<String> {
    let cwd = std::env::current_dir()?;
    let store = std::sync::Arc::new(crate::store::open_project(&cwd)?);
    let dead = crate::closure::dead_open_turns(&store)?;
    let orphaned = crate::closure::dead_recordings(&store)?;
    let ids = |turns: &[crate::model::Turn]| {
        turns
            .iter()
            .map(|t| format!("#{}", t.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if dead.is_empty() && orphaned.is_empty() {
        return Ok("no turn was left running by a ccx that is gone".into());
    }
    if !repair {
        let mut found = Vec::new();
        if !dead.is_empty() {
            found.push(format!("{} turn(s) running ({})", dead.len(), ids(&dead)));
        }
        if !orphaned.is_empty() {
            found.push(format!(
                "{} session(s) whose last prompts may not be in the log yet",
                orphaned.len()
            ));
        }
        anyhow::bail!(
            "a ccx that is gone left {}. The next `ccx` start finishes them from Claude's \
             transcripts, or run `ccx doctor --repair` now",
            found.join(" and ")
        );
    }
    let dir = crate::claude::paths::project_transcripts_dir(&crate::paths::project_dir(&cwd));
    let closed = crate::closure::close_dead_turns(&store, dir.as_deref());
    let left = crate::closure::dead_open_turns(&store)?;
    if !left.is_empty() {
        anyhow::bail!("could not finish {}", ids(&left));
    }
    let behind = crate::closure::dead_recordings(&store)?;
    if !behind.is_empty() {
        anyhow::bail!(
            "could not bring the log of {} session(s) up to Claude's transcripts (ccx.log says why)",
            behind.len()
        );
    }
    Ok(format!(
        "finished {} turn(s) left running by a ccx that is gone{}; brought the log of {} \
         session(s) it was recording up to Claude's transcripts",
        closed.len(),
        if closed.is_empty() {
            String::new()
        } else {
            format!(": {}", ids(&closed))
        },
        orphaned.len()
    ))
}

/// What the store check found.
enum StoreState {
    /// Opens and reads back: the detail line.
    Fine(String),
    /// The data on disk is damaged: `ccx doctor --repair` can recover it.
    Damaged {
        dir: std::path::PathBuf,
        detail: String,
    },
    /// Any other failure (permissions, a stuck owner, ...).
    Failed(anyhow::Error),
}

impl StoreState {
    fn into_check(self, name: &'static str) -> Check {
        match self {
            StoreState::Fine(detail) => Check {
                name,
                ok: true,
                detail,
            },
            StoreState::Damaged { dir, detail } => Check {
                name,
                ok: false,
                detail: format!(
                    "the turn log at {} is damaged ({detail}). Run `ccx doctor --repair` to \
                     move it aside and recover every intact turn into a fresh one",
                    dir.display()
                ),
            },
            StoreState::Failed(err) => check(name, Err(err)),
        }
    }
}

/// Opens the project's store and reads every turn, branch and branch lineage back.
fn store_state() -> StoreState {
    let dir = match std::env::current_dir().and_then(|cwd| {
        crate::paths::data_dir()
            .map(|data| crate::paths::project_store_dir(&data, &crate::paths::project_dir(&cwd)))
            .map_err(std::io::Error::other)
    }) {
        Ok(dir) => dir,
        Err(e) => return StoreState::Failed(e.into()),
    };
    let damaged = |err: &anyhow::Error| match err.downcast_ref::<StoreError>() {
        Some(StoreError::Damaged { detail, .. }) => Some(StoreState::Damaged {
            dir: dir.clone(),
            detail: detail.clone(),
        }),
        _ => None,
    };
    // Before anything opens it: opening a damaged sled log drops (and then overwrites) the
    // unreadable part.
    if let Some(detail) = crate::store::recover::inspect(&dir) {
        return StoreState::Damaged { dir, detail };
    }
    let result = (|| -> Result<String> {
        let store = Store::open(&dir)?;
        // Every record first: what is missing is named, not met half-way through a walk.
        let problems = store.verify()?;
        if !problems.is_empty() {
            return Err(StoreError::Damaged {
                path: store.dir().display().to_string(),
                detail: problems.join("; "),
            }
            .into());
        }
        let turns = store.all_turns()?.len();
        let branches = store.branches()?;
        for b in &branches {
            store.lineage(&b.name)?;
        }
        let how = if store.is_owner() {
            "opened"
        } else {
            "shared with a running ccx"
        };
        Ok(format!(
            "{} ({how}): {turns} turns, {} branches",
            store.dir().display(),
            branches.len()
        ))
    })();
    match result {
        Ok(detail) => StoreState::Fine(detail),
        Err(err) => damaged(&err).unwrap_or(StoreState::Failed(err)),
    }
}

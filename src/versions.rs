//! What ccx and the Claude Code it runs say their versions are (`ccx --version`, `:version`),
//! and asking claude a one-shot question (`claude --version`, `claude --help`) with a time
//! limit.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long `claude --help` / `claude --version` may take.
const CLAUDE_ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// `ccx 0.2.0 (Claude Code 2.1.330)`, or what is wrong with Claude Code.
pub fn version_line(claude: Option<PathBuf>) -> String {
    let claude = crate::session::find_claude(claude)
        .and_then(|path| claude_answer(&path, "--version"))
        .map(|answer| {
            let number = answer.split_whitespace().next().unwrap_or("unknown");
            format!("Claude Code {number}")
        })
        .unwrap_or_else(|err| format!("Claude Code missing: {err:#}"));
    format!("ccx {} ({claude})", env!("CARGO_PKG_VERSION"))
}

/// What `claude ARG` prints, with a time limit.
pub fn claude_answer(path: &Path, arg: &str) -> Result<String> {
    let mut child = Command::new(path)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("{} does not start", path.display()))?;
    let mut stdout = child.stdout.take().context("no output pipe")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + CLAUDE_ANSWER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("{} {arg} did not answer in time", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap_or_default();
    if !status.success() || text.trim().is_empty() {
        anyhow::bail!("{} {arg} failed ({status})", path.display());
    }
    Ok(text)
}

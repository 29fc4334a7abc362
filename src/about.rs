//! What ccx says about itself: `ccx --help` (ccx's part, then Claude's), `ccx help [TOPIC]`,
//! `ccx --version` (both versions), shell completions and the man page. Everything comes from
//! the one clap command in [`crate::cli`], so help, completions and the man page agree.

use crate::claude::command::ClaudeCommand;
use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long `claude --help` / `claude --version` may take.
const CLAUDE_ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// ccx's own help: usage, options, subcommands, meta-commands and the paths as they are here.
pub fn ccx_help() -> String {
    let mut command = crate::cli::command().after_long_help(crate::cli::after_help(true));
    command.render_long_help().to_string()
}

/// `ccx --help`: ccx's part, then Claude's own help (or why it is missing).
pub fn help(claude: Option<PathBuf>) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    write!(out, "{}", ccx_help())?;
    writeln!(
        out,
        "\nClaude Code's own help (every option below works through ccx):\n"
    )?;
    match crate::claude::find::find_claude(claude).and_then(|path| claude_answer(&path, "--help")) {
        Ok(text) => write!(out, "{text}")?,
        Err(err) => writeln!(out, "  Claude Code is missing: {err:#}")?,
    }
    out.flush()?;
    Ok(0)
}

/// `ccx help [TOPIC]`: ccx's usage, a subcommand's help, or a meta-command in full.
pub fn help_topic(topic: Option<&str>) -> Result<i32> {
    let text = match topic {
        None => ccx_help(),
        Some(meta) if meta.starts_with(':') => {
            let info = crate::meta::parse::command_info(meta)
                .with_context(|| format!("no meta-command '{meta}'"))?;
            format!(
                "{}\n  {}\n\n{}",
                info.usage,
                info.summary,
                wrap(info.details, 90)
            )
        }
        Some(name) => {
            let mut command = crate::cli::command();
            let sub = command
                .find_subcommand_mut(name)
                .with_context(|| format!("no subcommand '{name}'"))?;
            let mut sub = sub.clone().bin_name(format!("ccx {name}"));
            sub.render_long_help().to_string()
        }
    };
    print!("{text}");
    Ok(0)
}

/// `ccx 0.2.0 (Claude Code 2.1.330)`, or what is wrong with Claude Code.
pub fn version_line(claude: Option<PathBuf>) -> String {
    let claude = crate::claude::find::find_claude(claude)
        .and_then(|path| claude_answer(&path, "--version"))
        .map(|answer| {
            let number = answer.split_whitespace().next().unwrap_or("unknown");
            format!("Claude Code {number}")
        })
        .unwrap_or_else(|err| format!("Claude Code missing: {err:#}"));
    format!("ccx {} ({claude})", env!("CARGO_PKG_VERSION"))
}

/// `ccx --version`.
pub fn version(claude: Option<PathBuf>) -> Result<i32> {
    println!("{}", version_line(claude));
    Ok(0)
}

/// `ccx completions SHELL`: the completion script, on standard output.
pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut command = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ccx", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(0)
}

/// `ccx man`: the man page (roff), on standard output.
pub fn man() -> Result<i32> {
    let mut page = Vec::new();
    clap_mangen::Man::new(crate::cli::command()).render(&mut page)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(0)
}

/// What `claude ARG` prints, with a time limit.
fn claude_answer(path: &Path, arg: &str) -> Result<String> {
    let mut child = ClaudeCommand::plain(path, Path::new("."), &[arg.into()])
        .into_process()
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

/// Wraps plain text at `width` columns, indented by two spaces (paragraphs kept).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&format!("  {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

//! What ccx says about itself: `ccx --help` (ccx's part, then Claude's), `ccx help [TOPIC]`,
//! `ccx --version` (both versions), shell completions and the man page. Everything comes from
//! the one clap command in [`crate::cli`], so help, completions and the man page agree; a
//! meta-command's help comes from its file in `meta::commands`.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;

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
    match crate::session::find_claude(claude)
        .and_then(|path| crate::versions::claude_answer(&path, "--help"))
    {
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
            let plain = crate::render::Palette { enabled: false };
            let text = crate::meta::commands::help::render(Some(meta), 92, plain)
                .map_err(anyhow::Error::msg)?;
            format!("{text}\n")
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

/// `ccx --version`.
pub fn version(claude: Option<PathBuf>) -> Result<i32> {
    println!("{}", crate::versions::version_line(claude));
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

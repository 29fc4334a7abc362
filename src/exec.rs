//! `ccx exec -- CMD [ARGS]`: the plain proxy, with no Claude integration, recording nothing.

use crate::proxy::{self, PassThrough};
use crate::runner;
use crate::screen::ScreenModel;
use anyhow::{Context, Result};
use portable_pty::CommandBuilder;
use std::ffi::OsString;

/// Set to run `ccx exec` with the vt100 screen model, as a Claude session runs (benchmarks).
pub const SCREEN_MODEL_ENV: &str = "CCX_EXEC_SCREEN_MODEL";

/// Runs `argv` through the PTY proxy on the real terminal and returns its exit code.
pub fn run(argv: &[OsString]) -> Result<i32> {
    let (program, args) = argv.split_first().context("exec needs a command")?;
    let mut cmd = CommandBuilder::new(program);
    cmd.args(args);
    cmd.cwd(std::env::current_dir().context("cannot read the current directory")?);
    let (rows, cols) = runner::terminal_size();
    let spawned = proxy::spawn(cmd, rows, cols)?;
    // Nothing is drawn over a plain program, so nothing needs repainting: no screen model,
    // unless asked for (to measure the proxy as a Claude session runs it).
    let screen = std::env::var_os(SCREEN_MODEL_ENV).map(|_| ScreenModel::spawn(rows, cols).0);
    let outcome = runner::run_on_terminal(spawned, screen, |_| PassThrough)?;
    Ok(runner::exit_code(&outcome))
}

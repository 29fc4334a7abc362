//! `ccx exec -- CMD [ARGS]`: the plain proxy, with no Claude integration, recording nothing.

use crate::proxy::{self, PassThrough};
use crate::runner;
use crate::screen::ScreenModel;
use anyhow::{Context, Result};
use portable_pty::CommandBuilder;
use std::ffi::OsString;

/// Runs `argv` through the PTY proxy on the real terminal and returns its exit code.
pub fn run(argv: &[OsString]) -> Result<i32> {
    let (program, args) = argv.split_first().context("exec needs a command")?;
    let mut cmd = CommandBuilder::new(program);
    cmd.args(args);
    cmd.cwd(std::env::current_dir().context("cannot read the current directory")?);
    let (rows, cols) = runner::terminal_size();
    let spawned = proxy::spawn(cmd, rows, cols)?;
    let (screen, _screen_thread) = ScreenModel::spawn(rows, cols);
    let outcome = runner::run_on_terminal(spawned, screen, |_| PassThrough)?;
    Ok(runner::exit_code(&outcome))
}

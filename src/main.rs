//! The ccx binary: parse the command line, dispatch, and print errors in one place.

use ccx::cli::{self, Command, Invocation};
use std::process::ExitCode;

fn main() -> ExitCode {
    let invocation = match cli::parse(std::env::args_os().skip(1).collect()) {
        Ok(invocation) => invocation,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match dispatch(invocation) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(err) => {
            eprintln!("ccx: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(invocation: Invocation) -> anyhow::Result<i32> {
    match invocation {
        Invocation::Command(Command::Exec { command }) => ccx::exec::run(&command),
        Invocation::Command(other) => anyhow::bail!("{other:?} is not built yet"),
        Invocation::Hook => Ok(0),
        Invocation::Claude { .. } => anyhow::bail!("not built yet"),
    }
}

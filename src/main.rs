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
            ccx::terminal::restore();
            eprintln!("ccx: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(invocation: Invocation) -> anyhow::Result<i32> {
    use ccx::commands;
    match invocation {
        Invocation::Hook => Ok(ccx::hooks::client::run()),
        Invocation::Status => Ok(ccx::status::run()),
        Invocation::Claude { claude, args } => ccx::session::run(claude, args),
        Invocation::Command(command) => match command {
            Command::Exec { command } => ccx::exec::run(&command),
            Command::Log {
                branch,
                all,
                json,
                limit,
            } => commands::log(branch, all, json, limit),
            Command::Show { turn, json } => commands::show(&turn, json),
            Command::Doctor { json, repair } => commands::doctor::run(None, json, repair),
            Command::Tree { json } => commands::tree(json),
            Command::Sessions { json } => commands::sessions(json),
            Command::Search { query, all, json } => commands::search::run(&query, all, json),
            Command::Export {
                branch,
                format,
                output,
                redact,
                force,
            } => commands::export::run(branch, format, output, redact, force),
            Command::Import { path, all } => commands::import::run(path, all),
            Command::Diff { a, b, json } => commands::diff::run(&a, &b, json),
            Command::Replay {
                branch,
                from,
                to,
                model,
                timeout,
            } => commands::replay::run(&branch, from, to, model, timeout),
        },
    }
}

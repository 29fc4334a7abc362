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
        Err(err) if closed_output(&err) => {
            // The reader of our output went away (`ccx log | head`): stop quietly, with the
            // status a program killed by SIGPIPE has.
            ccx::terminal::restore();
            ExitCode::from(141)
        }
        Err(err) => {
            ccx::terminal::restore();
            eprintln!("ccx: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `err` comes from writing to standard output after its reader went away: a broken
/// pipe in the error, and standard output a pipe with no reader left (so a broken pipe to
/// another program, such as a claude that died, is still reported).
fn closed_output(err: &anyhow::Error) -> bool {
    let broken_pipe = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    });
    broken_pipe && stdout_reader_gone()
}

/// Whether standard output is a pipe whose every reader has closed it (poll reports an error
/// on the writing end of such a pipe).
fn stdout_reader_gone() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready == 1 && fd.revents & libc::POLLERR != 0
}

fn dispatch(invocation: Invocation) -> anyhow::Result<i32> {
    if !matches!(invocation, Invocation::Hook | Invocation::Status) {
        // Every file ccx makes is the owner's only; the programs it starts get the
        // person's umask back.
        ccx::paths::restrict_umask();
    }
    match invocation {
        Invocation::Hook => Ok(ccx::hooks::client::run()),
        Invocation::EffectsHook => Ok(ccx::effects::hook::run()),
        Invocation::Status => Ok(ccx::status::run()),
        Invocation::Claude { claude, args } => ccx::session::run(claude, args),
        Invocation::RememberClaude(path) => ccx::claude::installed::remember(&path),
        Invocation::Help { claude } => ccx::about::help(claude),
        Invocation::Version { claude } => ccx::about::version(claude),
        Invocation::NearSubcommand {
            word,
            suggestion,
            claude,
        } => near_subcommand(word, suggestion, claude),
        Invocation::Command(command) => run_command(command),
    }
}

/// A lone word close to a ccx subcommand: ask which was meant, then do that.
fn near_subcommand(
    word: String,
    suggestion: &'static str,
    claude: Option<std::path::PathBuf>,
) -> anyhow::Result<i32> {
    use ccx::near_miss::Answer;
    match ccx::near_miss::ask(&word, suggestion)? {
        Answer::Suggested => match cli::parse(vec![suggestion.into()]) {
            Ok(invocation) => dispatch(invocation),
            Err(err) => {
                let _ = err.print();
                Ok(2)
            }
        },
        Answer::Claude => ccx::session::run(claude, vec![word.into()]),
        Answer::Nothing => Ok(1),
    }
}

/// A ccx subcommand.
fn run_command(command: Command) -> anyhow::Result<i32> {
    use ccx::commands;
    match command {
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
        Command::Search {
            query,
            all,
            json,
            within,
            regex,
            branch,
            since,
        } => commands::search::run(
            &query,
            &commands::search::Options {
                all,
                json,
                fields: within,
                regex,
                branch,
                since,
            },
        ),
        Command::Export {
            branch,
            format,
            output,
            redact,
            force,
        } => commands::export::run(branch, format, output, redact, force),
        Command::Import {
            path,
            all,
            include_deleted,
        } => commands::import::run(path, all, include_deleted),
        Command::Bisect {
            good,
            bad,
            timeout,
            command,
        } => ccx::bisect::run(&ccx::bisect::Options {
            good,
            bad,
            timeout: std::time::Duration::from_secs(timeout),
            command,
        }),
        Command::Archive { again, json } => ccx::archive::report::command(again, json),
        Command::Diff { a, b, json } => commands::diff::run(&a, &b, json),
        Command::Replay {
            branch,
            from,
            to,
            model,
            timeout,
        } => commands::replay::run(&branch, from, to, model, timeout),
        Command::Effects { turn, json, diff } => commands::effects::effects(turn, json, diff),
        Command::Restore {
            target,
            after,
            paths,
            ..
        } => commands::effects::restore(&target, after, &paths),
        Command::Undo => commands::effects::undo(),
        Command::History { json } => commands::effects::history(json),
        Command::Completions { shell } => ccx::about::completions(shell),
        Command::Man => ccx::about::man(),
        Command::Help { topic } => ccx::about::help_topic(topic.as_deref()),
    }
}

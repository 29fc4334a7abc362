//! Runs a parsed meta-command against the turn log and says what to show: the commands that
//! only read the log (`:help`, `:log`, `:show`, `:tree`, `:context`, `:sessions`, `:diff`) and
//! `:quit`. Commands that change the running session (fork, checkout, handoffs, jobs, replay,
//! rename, delete, export with its overwrite question) are run by the editor (`shell.rs`) through
//! the session controller; here they answer, in one line, that they need a running session.
//!
//! Nothing here writes to the terminal: the caller shows an [`Outcome`]. Colour comes only
//! through the [`Palette`] of the [`ShellContext`].

use crate::commands::render::{self, Palette};
use crate::config::Config;
use crate::meta::context::render_context;
use crate::meta::parse::{command_info, nearest_command, MetaCommand, COMMANDS};
use crate::meta::tree::render_tree;
use crate::model::Turn;
use crate::refs::{nearest_name, parse_turn_ref, resolve_turn_ref};
use crate::store::Store;

/// What a command needs to know about the running session.
pub struct ShellContext<'a> {
    pub store: &'a Store,
    /// The session's current branch (what HEAD means).
    pub branch: String,
    pub session_id: Option<String>,
    /// The model Claude runs, when known (for the context window).
    pub model: Option<String>,
    /// The context window Claude Code reports for that model, when it has.
    pub reported_window: Option<u64>,
    /// Terminal columns.
    pub width: usize,
    pub palette: Palette,
    pub config: &'a Config,
}

/// The result of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Text to show; may be many lines.
    Text(String),
    /// End Claude and ccx.
    Quit,
    /// One line saying what went wrong; nothing was changed.
    Error(String),
}

/// Runs one meta-command.
pub fn execute(cmd: &MetaCommand, ctx: &ShellContext) -> Outcome {
    let result = match cmd {
        MetaCommand::Help { command } => help(command.as_deref(), ctx),
        MetaCommand::Log { branch, limit } => log(branch.as_deref(), *limit, ctx),
        MetaCommand::Show { turn } => show(turn, ctx),
        MetaCommand::Tree => tree(ctx),
        MetaCommand::Context => context(ctx),
        MetaCommand::Sessions => sessions(ctx),
        MetaCommand::Diff { a, b } => diff(a, b, ctx),
        MetaCommand::Quit => return Outcome::Quit,
        MetaCommand::Branch { .. }
        | MetaCommand::Checkout { .. }
        | MetaCommand::Rewind { .. }
        | MetaCommand::SummarizeFromHere { .. }
        | MetaCommand::Brief { .. }
        | MetaCommand::Clear
        | MetaCommand::Compact { .. }
        | MetaCommand::Subagent { .. }
        | MetaCommand::Pull { .. }
        | MetaCommand::Jobs
        | MetaCommand::Kill { .. }
        | MetaCommand::Replay { .. }
        | MetaCommand::Rename { .. }
        | MetaCommand::Delete { .. }
        | MetaCommand::Export { .. } => Err(format!(
            "`:{}` needs a running ccx session (the editor inside `ccx`)",
            cmd.name()
        )),
    };
    match result {
        Ok(text) => Outcome::Text(text),
        Err(message) => Outcome::Error(one_line(&message)),
    }
}

/// A message made one line: the first line of an error chain, control characters removed.
fn one_line(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("failed");
    line.chars().filter(|c| !c.is_control()).collect()
}

fn store_err(e: anyhow::Error) -> String {
    format!("{e:#}")
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// `:help` and `:help CMD`.
fn help(command: Option<&str>, ctx: &ShellContext) -> Result<String, String> {
    let p = ctx.palette;
    let width = ctx.width.max(40);
    let Some(name) = command else {
        // Usages up to USAGE_COLUMN characters share a column; a longer one puts its
        // summary on the next line. Summaries wrap at the terminal's width.
        const USAGE_COLUMN: usize = 26;
        let col = COMMANDS
            .iter()
            .map(|c| c.usage.chars().count())
            .filter(|&n| n <= USAGE_COLUMN)
            .max()
            .unwrap_or(0);
        let indent = " ".repeat(col + 4);
        let mut out = format!(
            "{} (Esc, Ctrl-C or an empty line returns to Claude)\n",
            p.strong("ccx meta-commands")
        );
        for c in COMMANDS {
            let summary = wrap(c.summary, width, &indent);
            let len = c.usage.chars().count();
            if len <= col {
                out.push_str(&format!(
                    "  {}{}{}",
                    p.id(c.usage),
                    " ".repeat(col - len + 2),
                    &summary[indent.len()..]
                ));
            } else {
                out.push_str(&format!("  {}\n{summary}", p.id(c.usage)));
            }
        }
        out.push_str(&p.dim(":help CMD shows one command in full"));
        return Ok(out);
    };
    let Some(info) = command_info(name) else {
        let name = name.strip_prefix(':').unwrap_or(name);
        return Err(match nearest_command(name) {
            Some(near) => format!("unknown command ':{name}' (did you mean ':{near}'?)"),
            None => format!("unknown command ':{name}' (:help lists the commands)"),
        });
    };
    let mut out = format!("{}\n  {}\n\n", p.strong(info.usage), info.summary);
    out.push_str(&wrap(info.details, width, "  "));
    Ok(out.trim_end().to_string())
}

/// Word-wraps `text` to `width`, every line starting with `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > indent.len() && len + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// "no branch 'x' (did you mean 'y'?)".
fn no_branch(store: &Store, name: &str) -> String {
    let names: Vec<String> = store
        .branches()
        .map(|b| b.into_iter().map(|b| b.name).collect())
        .unwrap_or_default();
    match nearest_name(name, names.iter().map(String::as_str)) {
        Some(near) => format!("no branch '{name}' (did you mean '{near}'?)"),
        None => format!("no branch '{name}'"),
    }
}

/// `:log [BRANCH] [-n N]`.
fn log(branch: Option<&str>, limit: Option<usize>, ctx: &ShellContext) -> Result<String, String> {
    let name = branch.unwrap_or(&ctx.branch);
    if ctx.store.branch(name).map_err(store_err)?.is_none() {
        if branch.is_none() {
            // The session's branch gets its record with its first turn.
            return Ok(format!("no turns on {name} yet"));
        }
        return Err(no_branch(ctx.store, name));
    }
    let mut turns = ctx.store.lineage(name).map_err(store_err)?;
    if turns.is_empty() {
        return Ok(format!("no turns on {name} yet"));
    }
    let mut out = String::new();
    if let Some(n) = limit {
        let skip = turns.len().saturating_sub(n);
        if skip > 0 {
            turns.drain(..skip);
            out.push_str(&ctx.palette.dim(&format!(
                "… {skip} earlier {} (:log {name} -n {} shows more)",
                if skip == 1 { "turn" } else { "turns" },
                n + skip
            )));
            out.push('\n');
        }
    }
    let now = now();
    for turn in &turns {
        out.push_str(&render::turn_line(turn, now, ctx.width, ctx.palette));
        out.push('\n');
    }
    out.pop();
    Ok(out)
}

/// `:show TURN`.
fn show(reference: &str, ctx: &ShellContext) -> Result<String, String> {
    let parsed = parse_turn_ref(reference).map_err(|e| e.to_string())?;
    let turn = resolve_turn_ref(ctx.store, &parsed, &ctx.branch).map_err(store_err)?;
    let mut text = render::turn_full(&turn, ctx.palette).trim_end().to_string();
    if let Some(line) = crate::merge::show_line(ctx.store, &turn) {
        text.push_str(&format!("\n{line}"));
    }
    Ok(text)
}

/// `:tree`.
fn tree(ctx: &ShellContext) -> Result<String, String> {
    let branches = ctx.store.branches().map_err(store_err)?;
    let turns = ctx.store.all_turns().map_err(store_err)?;
    let tree = render_tree(&branches, &turns, &ctx.branch, now(), ctx.palette);
    Ok(crate::merge::with_edges(ctx.store, tree))
}

/// `:sessions`.
fn sessions(ctx: &ShellContext) -> Result<String, String> {
    let branches = ctx.store.branches().map_err(store_err)?;
    let turns = ctx.store.all_turns().map_err(store_err)?;
    Ok(crate::commands::render::sessions_table(
        &branches,
        &turns,
        Some(&ctx.branch),
        now(),
        ctx.palette,
    ))
}

/// `:diff A B`.
fn diff(a: &str, b: &str, ctx: &ShellContext) -> Result<String, String> {
    let branch = |name: &str| -> Result<(crate::model::Branch, Vec<Turn>), String> {
        let found = ctx
            .store
            .branch(name)
            .map_err(store_err)?
            .ok_or_else(|| format!("no branch '{name}'"))?;
        Ok((found, ctx.store.lineage(name).map_err(store_err)?))
    };
    let ((ba, ta), (bb, tb)) = (branch(a)?, branch(b)?);
    Ok(crate::commands::diff::render_diff(
        &ba,
        &ta,
        &bb,
        &tb,
        ctx.width,
        ctx.palette,
    ))
}

/// `:context`.
fn context(ctx: &ShellContext) -> Result<String, String> {
    let turns: Vec<Turn> = if ctx.store.branch(&ctx.branch).map_err(store_err)?.is_some() {
        ctx.store.lineage(&ctx.branch).map_err(store_err)?
    } else {
        Vec::new()
    };
    let window = ctx
        .config
        .context_window(ctx.reported_window, ctx.model.as_deref());
    Ok(render_context(
        &turns,
        window,
        ctx.config.rot_zone_tokens,
        ctx.width,
        ctx.palette,
        now(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::parse::parse_meta;
    use crate::model::{Branch, TurnEnd, TurnStart};

    const PLAIN: Palette = Palette { enabled: false };

    fn start(branch: &str, prompt: &str) -> TurnStart {
        TurnStart {
            branch: branch.into(),
            prompt: prompt.into(),
            session_id: "s1".into(),
            ..TurnStart::default()
        }
    }

    fn end(reply: &str, context: u64) -> TurnEnd {
        TurnEnd {
            reply: reply.into(),
            ended_at: crate::model::now_rfc3339(),
            context_tokens: context,
            ..TurnEnd::default()
        }
    }

    /// main: #1 #2 #3; try-b forks after #2: #4.
    fn fixture() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let contexts = [20_000, 30_000, 35_000];
        for (i, c) in contexts.iter().enumerate() {
            let t = store
                .begin_turn(start("main", &format!("prompt {}\nmore", i + 1)))
                .unwrap();
            store
                .finish_turn(t.id, end(&format!("reply {}", i + 1), *c))
                .unwrap();
        }
        store
            .create_branch(Branch {
                name: "try-b".into(),
                parent_branch: Some("main".into()),
                fork_turn: Some(2),
                head: Some(2),
                ..Branch::default()
            })
            .unwrap();
        let t = store
            .begin_turn(start("try-b", "go straight to B"))
            .unwrap();
        store.finish_turn(t.id, end("did B", 90_000)).unwrap();
        (dir, store)
    }

    fn run(store: &Store, branch: &str, line: &str) -> Outcome {
        run_reported(store, branch, line, None)
    }

    /// `run` in a session where Claude Code reported a context window of `reported`.
    fn run_reported(store: &Store, branch: &str, line: &str, reported: Option<u64>) -> Outcome {
        let config = Config::default();
        let ctx = ShellContext {
            store,
            branch: branch.into(),
            session_id: Some("s1".into()),
            model: Some("claude-opus-5-5".into()),
            reported_window: reported,
            width: 80,
            palette: PLAIN,
            config: &config,
        };
        match parse_meta(line) {
            Ok(Some(cmd)) => execute(&cmd, &ctx),
            other => panic!("{line}: {other:?}"),
        }
    }

    fn text(o: Outcome) -> String {
        match o {
            Outcome::Text(t) => t,
            other => panic!("expected text, got {other:?}"),
        }
    }

    fn error(o: Outcome) -> String {
        match o {
            Outcome::Error(e) => {
                assert!(!e.contains('\n'), "{e:?}");
                e
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn help_lists_every_command_and_shows_one() {
        let (_dir, store) = fixture();
        let all = text(run(&store, "main", ":help"));
        for c in COMMANDS {
            assert!(all.contains(c.usage), "{} missing:\n{all}", c.usage);
        }
        for line in all.lines() {
            assert!(line.chars().count() <= 80, "too long: {line}");
        }
        let flat = all.split_whitespace().collect::<Vec<_>>().join(" ");
        for c in COMMANDS {
            assert!(flat.contains(c.summary), "{} missing:\n{all}", c.summary);
        }
        assert!(
            all.contains("\n  :log [BRANCH] [-n N]       a branch's turns"),
            "{all}"
        );
        let one = text(run(&store, "main", ":help rewind"));
        assert!(
            one.starts_with(":rewind [TURN] [--code] [-- PROMPT]\n"),
            "{one}"
        );
        assert!(one.contains("verbatim"), "{one}");
        assert_eq!(text(run(&store, "main", ":rewind --help")), one);
        assert_eq!(
            error(run(&store, "main", ":help lgo")),
            "unknown command ':lgo' (did you mean ':log'?)"
        );
        assert_eq!(
            error(run(&store, "main", ":help zzzzzz")),
            "unknown command ':zzzzzz' (:help lists the commands)"
        );
    }

    #[test]
    fn log_lists_a_branch() {
        let (_dir, store) = fixture();
        let main = text(run(&store, "main", ":log"));
        let lines: Vec<&str> = main.lines().collect();
        assert_eq!(lines.len(), 3, "{main}");
        assert!(
            lines[0].starts_with("#1") && lines[0].contains("prompt 1 → reply 1"),
            "{main}"
        );
        assert!(lines[2].contains("35k"), "{main}");
        // Another branch, across its fork point.
        let b = text(run(&store, "main", ":log try-b"));
        let ids: Vec<&str> = b
            .lines()
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(ids, ["#1", "#2", "#4"], "{b}");
        // HEAD's branch by default.
        assert_eq!(text(run(&store, "try-b", ":log")), b);
        let last = text(run(&store, "main", ":log -n 1"));
        assert_eq!(last.lines().count(), 2, "{last}");
        assert!(
            last.starts_with("… 2 earlier turns (:log main -n 3 shows more)"),
            "{last}"
        );
        assert!(last.lines().nth(1).unwrap().starts_with("#3"), "{last}");
        assert_eq!(text(run(&store, "main", ":log -n 9")), main);
        assert_eq!(
            error(run(&store, "main", ":log mian")),
            "no branch 'mian' (did you mean 'main'?)"
        );
        assert_eq!(
            error(run(&store, "main", ":log qqqqqq")),
            "no branch 'qqqqqq'"
        );
        store
            .create_branch(Branch {
                name: "empty".into(),
                ..Branch::default()
            })
            .unwrap();
        assert_eq!(
            text(run(&store, "main", ":log empty")),
            "no turns on empty yet"
        );
        assert_eq!(text(run(&store, "fresh", ":log")), "no turns on fresh yet");
    }

    #[test]
    fn show_resolves_turn_references() {
        let (_dir, store) = fixture();
        let head = text(run(&store, "main", ":show HEAD"));
        assert!(
            head.contains("#3") && head.contains("prompt 3\nmore") && head.contains("reply 3"),
            "{head}"
        );
        assert_eq!(
            text(run(&store, "try-b", ":show HEAD~1")),
            text(run(&store, "main", ":show 2"))
        );
        assert!(text(run(&store, "main", ":show try-b")).contains("did B"));
        assert_eq!(error(run(&store, "main", ":show 42")), "no turn #42");
        assert_eq!(
            error(run(&store, "main", ":show HEAD~9")),
            "HEAD~9 goes past the first turn of main"
        );
        assert_eq!(
            error(run(&store, "main", ":show try-c")),
            "no turn or branch 'try-c' (did you mean 'try-b'?)"
        );
    }

    #[test]
    fn tree_marks_the_current_branch() {
        let (_dir, store) = fixture();
        let t = text(run(&store, "try-b", ":tree"));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2, "{t}");
        assert!(
            lines[0].starts_with("  main") && lines[0].contains("root") && lines[0].contains("#3"),
            "{t}"
        );
        assert!(
            lines[1].starts_with("* └─ try-b") && lines[1].contains("forked after #2"),
            "{t}"
        );
        assert!(lines[1].contains("1 turn "), "{t}");
    }

    #[test]
    fn context_measures_the_current_branch() {
        let (_dir, store) = fixture();
        // One window for every branch: the large context of one does not change another's.
        let c = text(run(&store, "main", ":context"));
        assert!(c.starts_with("context 35k of 1M (4%) after #3\n"), "{c}");
        assert!(c.contains("well below it"), "{c}");
        let b = text(run(&store, "try-b", ":context"));
        assert!(b.starts_with("context 90k of 1M (9%) after #4\n"), "{b}");
        // #4 added 60k of 90k: a detour candidate.
        assert!(b.contains("#4 alone added 60k (67% of the context)"), "{b}");
        assert!(b.contains("`:rewind 2`"), "{b}");
        assert!(text(run(&store, "nothing-yet", ":context")).contains("no turns"));
        // What Claude reports for the model in use decides, for every branch alike.
        for (branch, head) in [
            ("main", "context 35k of 200k"),
            ("try-b", "context 90k of 200k"),
        ] {
            let shown = text(run_reported(&store, branch, ":context", Some(200_000)));
            assert!(shown.starts_with(head), "{shown}");
            assert!(
                shown.contains("the window ends before the rot zone"),
                "{shown}"
            );
        }
    }

    #[test]
    fn quit_and_the_commands_that_need_a_running_session() {
        let (_dir, store) = fixture();
        assert_eq!(run(&store, "main", ":quit"), Outcome::Quit);
        for (line, name) in [
            (":branch x", "branch"),
            (":checkout main", "checkout"),
            (":rewind", "rewind"),
            (":summarize-from-here", "summarize-from-here"),
            (":brief", "brief"),
            (":clear", "clear"),
            (":compact", "compact"),
            (":subagent do it", "subagent"),
            (":pull", "pull"),
            (":jobs", "jobs"),
            (":kill 1", "kill"),
            (":replay main", "replay"),
            (":rename a b", "rename"),
            (":delete a", "delete"),
            (":export", "export"),
        ] {
            assert_eq!(
                error(run(&store, "main", line)),
                format!("`:{name}` needs a running ccx session (the editor inside `ccx`)")
            );
        }
        // Nothing changed.
        assert_eq!(store.branches().unwrap().len(), 2);
        // Reading commands run here, against the store alone.
        let sessions = text(run(&store, "main", ":sessions"));
        assert!(
            sessions.contains("main") && sessions.contains("* main"),
            "{sessions}"
        );
        assert!(error(run(&store, "main", ":diff main nope")).contains("no branch 'nope'"));
        let branches: Vec<String> = store
            .branches()
            .unwrap()
            .into_iter()
            .map(|b| b.name)
            .collect();
        let diff = text(run(
            &store,
            "main",
            &format!(":diff {} {}", branches[0], branches[1]),
        ));
        assert!(
            diff.contains(&branches[0]) && diff.contains(&branches[1]),
            "{diff}"
        );
        assert_eq!(store.all_turns().unwrap().len(), 4);
    }
}

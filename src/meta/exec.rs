//! The bodies of the meta-commands that only read the turn log (`:log`, `:show`, `:tree`,
//! `:context`, `:sessions`, `:diff`), run with a [`ShellContext`]: what the running session
//! tells a read-only command. Their files in `meta::commands` call them.
//!
//! The reading commands are thin: [`crate::query`] answers, [`crate::render`] writes the text,
//! exactly as for the matching CLI subcommands.
//!
//! Nothing here writes to the terminal: the caller shows what is returned. Colour comes only
//! through the [`Palette`] of the [`ShellContext`].

use crate::config::Config;
use crate::query;
use crate::render::{self, Palette, RenderCtx};
use crate::store::Store;

/// What a command needs to know about the running session.
pub struct ShellContext<'a> {
    pub store: &'a Store,
    /// The session's current branch (what HEAD means).
    pub branch: String,
    pub session_id: Option<crate::ids::SessionId>,
    /// The model Claude runs, when known (for the context window).
    pub model: Option<String>,
    /// The context window Claude Code reports for that model, when it has.
    pub reported_window: Option<u64>,
    /// Terminal columns.
    pub width: usize,
    pub palette: Palette,
    pub config: &'a Config,
    /// The Claude Code this session runs (for `:version`), when known.
    pub claude: Option<std::path::PathBuf>,
}

/// A message made one line: the first line of an error chain, control characters removed.
pub fn one_line(message: &str) -> String {
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

/// The render context of a command's output: the session's width and colours, now.
fn render_ctx(ctx: &ShellContext) -> RenderCtx {
    RenderCtx {
        width: ctx.width,
        palette: ctx.palette,
        now: now(),
    }
}

/// `:log [BRANCH] [-n N]`.
pub fn log(
    branch: Option<&str>,
    limit: Option<usize>,
    ctx: &ShellContext,
) -> Result<String, String> {
    let log = query::log::branch_log(ctx.store, branch, &ctx.branch, limit).map_err(store_err)?;
    Ok(render::turns::branch_log(&log, &render_ctx(ctx)))
}

/// `:show TURN`.
pub fn show(reference: &str, ctx: &ShellContext) -> Result<String, String> {
    let turn = query::turn(ctx.store, reference, &ctx.branch).map_err(store_err)?;
    let mut text = render::turns::turn_full(&turn, ctx.palette)
        .trim_end()
        .to_string();
    if let Some(line) = crate::merge::show_line(ctx.store, &turn) {
        text.push_str(&format!("\n{line}"));
    }
    Ok(text)
}

/// `:tree`.
pub fn tree(ctx: &ShellContext) -> Result<String, String> {
    let (branches, turns) = query::branches::load(ctx.store).map_err(store_err)?;
    let tree = render::branches::render_tree(&branches, &turns, &ctx.branch, &render_ctx(ctx));
    Ok(crate::merge::with_edges(ctx.store, tree))
}

/// `:sessions`.
pub fn sessions(ctx: &ShellContext) -> Result<String, String> {
    let (branches, turns) = query::branches::load(ctx.store).map_err(store_err)?;
    Ok(render::branches::sessions_table(
        &branches,
        &turns,
        Some(&ctx.branch),
        &render_ctx(ctx),
    ))
}

/// `:diff A B`.
pub fn diff(a: &str, b: &str, ctx: &ShellContext) -> Result<String, String> {
    let (side_a, side_b) = query::diff::sides(ctx.store, a, b).map_err(store_err)?;
    Ok(render::diff::render_diff(
        &side_a,
        &side_b,
        &render_ctx(ctx),
    ))
}

/// `:context`.
pub fn context(ctx: &ShellContext) -> Result<String, String> {
    let turns = query::context::branch_turns(ctx.store, &ctx.branch).map_err(store_err)?;
    let window = ctx
        .config
        .context_window(ctx.reported_window, ctx.model.as_deref());
    let state = query::context::measure(&turns, window, ctx.config.rot_zone_tokens);
    Ok(render::context::render_context(&state, &render_ctx(ctx)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::commands::REGISTRY;
    use crate::meta::ops::Outcome;
    use crate::meta::parse::parse_meta;
    use crate::meta::read_only::execute;
    use crate::model::{Branch, TurnEnd};
    use crate::query::fixtures::{branch, turn_start as start};
    use crate::render::test_support::PLAIN;

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
        let (dir, store) = crate::query::fixtures::temp_store();
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
            .create_branch(branch("try-b", Some("main"), Some(2), Some(2)))
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
            claude: None,
        };
        match parse_meta(line) {
            Ok(Some(cmd)) => execute(&*cmd, &ctx),
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

    /// The text `line` shows on `branch`, which must be `n` lines, and those lines.
    fn text_of_lines(store: &Store, branch: &str, line: &str, n: usize) -> (String, Vec<String>) {
        let shown = text(run(store, branch, line));
        let lines: Vec<String> = shown.lines().map(str::to_string).collect();
        assert_eq!(lines.len(), n, "{shown}");
        (shown, lines)
    }

    /// Asserts that each line typed on `branch` is refused with its message.
    fn assert_refused(store: &Store, branch: &str, cases: &[(&str, &str)]) {
        for (line, message) in cases {
            assert_eq!(error(run(store, branch, line)), *message, "{line}");
        }
    }

    #[test]
    fn help_lists_every_command_and_shows_one() {
        let (_dir, store) = fixture();
        let all = text(run(&store, "main", ":help"));
        for c in REGISTRY {
            assert!(all.contains(c.usage), "{} missing:\n{all}", c.usage);
        }
        for line in all.lines() {
            assert!(line.chars().count() <= 80, "too long: {line}");
        }
        let flat = all.split_whitespace().collect::<Vec<_>>().join(" ");
        for c in REGISTRY {
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
        assert_refused(
            &store,
            "main",
            &[
                (":help lgo", "unknown command ':lgo' (did you mean ':log'?)"),
                (
                    ":help zzzzzz",
                    "unknown command ':zzzzzz' (:help lists the commands)",
                ),
            ],
        );
    }

    #[test]
    fn log_lists_a_branch() {
        let (_dir, store) = fixture();
        let (main, lines) = text_of_lines(&store, "main", ":log", 3);
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
        assert_refused(
            &store,
            "main",
            &[
                (":log mian", "no branch 'mian' (did you mean 'main'?)"),
                (":log qqqqqq", "no branch 'qqqqqq'"),
            ],
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
        assert_refused(
            &store,
            "main",
            &[
                (":show 42", "no turn #42"),
                (":show HEAD~9", "HEAD~9 goes past the first turn of main"),
                (
                    ":show try-c",
                    "no turn or branch 'try-c' (did you mean 'try-b'?)",
                ),
            ],
        );
    }

    #[test]
    fn tree_marks_the_current_branch() {
        let (_dir, store) = fixture();
        let (t, lines) = text_of_lines(&store, "try-b", ":tree", 2);
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

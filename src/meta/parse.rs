//! The meta-command parser: one pure function from a line the person typed (`:log -n 5`) to a
//! parsed command, or one line saying what is wrong with it. It finds the command in the
//! registry (`meta::commands`) and lets the command's own parser read its arguments with the
//! shared rules of [`crate::meta::args`]. It checks syntax only (a turn reference's form, a new
//! branch name's form, flags and their values); whether a turn or a branch exists is for
//! running.

use crate::meta::args::{Lexer, MetaError};
use crate::meta::commands::{self, help::Help, CommandSpec, Parsed, Parser};
pub use crate::meta::commands::{nearest_command, unknown_command};

/// The registry entry of a command name (`log` or `:log`, any case, aliases included).
pub fn command_info(name: &str) -> Option<&'static CommandSpec> {
    commands::find(name)
}

/// Parses one line typed in the ccx editor. `line` may start with ':' or not; surrounding
/// whitespace is ignored; an empty line (or a lone ':') is `Ok(None)`.
pub fn parse_meta(line: &str) -> Result<Option<Parsed>, MetaError> {
    let line = line.trim();
    let line = line.strip_prefix(':').unwrap_or(line).trim_start();
    if line.is_empty() {
        return Ok(None);
    }
    let name_end = line.find(char::is_whitespace).unwrap_or(line.len());
    let (typed, args) = line.split_at(name_end);
    let Some(spec) = command_info(typed) else {
        return Err(unknown_command(typed));
    };
    let args = args.trim();
    if args == "--help" || args == "-h" {
        return Ok(Some(Help::about(spec.name)));
    }
    let parsed = match spec.parser {
        Parser::Text(parse) => parse(args)?,
        Parser::Words(parse) => {
            let words = Lexer::new(args).all_words()?;
            let asks_help = words
                .iter()
                .take_while(|w| w.quoted || w.text != "--")
                .any(|w| !w.quoted && (w.text == "--help" || w.text == "-h"));
            if asks_help {
                return Ok(Some(Help::about(spec.name)));
            }
            parse(words)?
        }
    };
    Ok(Some(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export_format::ExportFormat;
    use crate::meta::commands::REGISTRY;
    use crate::meta::commands::{
        branch::Branch, brief::Brief, checkout::Checkout, clear::Clear, compact::Compact,
        context::Context, delete::Delete, diff::Diff, export::Export, help::Help, jobs::Jobs,
        kill::Kill, log::Log, pull::Pull, quit::Quit, rename::Rename, replay::Replay,
        rewind::Rewind, sessions::Sessions, show::Show, subagent::Subagent,
        summarize_from_here::SummarizeFromHere, tree::Tree, MetaCommand,
    };

    /// A command as the table writes it.
    fn b<T: MetaCommand>(command: T) -> Parsed {
        Box::new(command)
    }

    /// Two parsed commands are the same command with the same arguments.
    fn same(a: &Parsed, b: &Parsed) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    fn ok(line: &str) -> Parsed {
        match parse_meta(line) {
            Ok(Some(c)) => c,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    fn bad(line: &str) -> String {
        match parse_meta(line) {
            Err(e) => e.0,
            other => panic!("{line:?} should fail, got {other:?}"),
        }
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn empty_lines_are_nothing() {
        for line in ["", "   ", ":", " : ", "\t:\t"] {
            assert!(matches!(parse_meta(line), Ok(None)), "{line:?}");
        }
    }

    #[test]
    fn valid_commands() {
        let table: Vec<(&str, Parsed)> = vec![
            (":help", b(Help { command: None })),
            ("help", b(Help { command: None })),
            (":help log", b(Help { command: s("log") })),
            (":help :log", b(Help { command: s("log") })),
            (":?", b(Help { command: None })),
            (":log --help", b(Help { command: s("log") })),
            (
                ":rewind -h",
                b(Help {
                    command: s("rewind"),
                }),
            ),
            (
                ":log",
                b(Log {
                    branch: None,
                    limit: None,
                }),
            ),
            (
                "  :LOG  ",
                b(Log {
                    branch: None,
                    limit: None,
                }),
            ),
            (
                ":log main",
                b(Log {
                    branch: s("main"),
                    limit: None,
                }),
            ),
            (
                ":log -n 5",
                b(Log {
                    branch: None,
                    limit: Some(5),
                }),
            ),
            (
                ":log -n5",
                b(Log {
                    branch: None,
                    limit: Some(5),
                }),
            ),
            (
                ":log --limit=7 feat/x",
                b(Log {
                    branch: s("feat/x"),
                    limit: Some(7),
                }),
            ),
            (
                ":log main -n 3",
                b(Log {
                    branch: s("main"),
                    limit: Some(3),
                }),
            ),
            (":show 12", b(Show { turn: "12".into() })),
            (":show #12", b(Show { turn: "#12".into() })),
            (
                ":show HEAD~2",
                b(Show {
                    turn: "HEAD~2".into(),
                }),
            ),
            (
                ":show main~1",
                b(Show {
                    turn: "main~1".into(),
                }),
            ),
            (":tree", b(Tree)),
            (":context", b(Context)),
            (
                ":branch try-b",
                b(Branch {
                    name: "try-b".into(),
                    turn: None,
                }),
            ),
            (
                ":branch try-b HEAD~1",
                b(Branch {
                    name: "try-b".into(),
                    turn: s("HEAD~1"),
                }),
            ),
            (
                ":checkout main",
                b(Checkout {
                    branch: "main".into(),
                    code: false,
                }),
            ),
            (
                ":checkout --code main",
                b(Checkout {
                    branch: "main".into(),
                    code: true,
                }),
            ),
            (
                ":checkout main --code",
                b(Checkout {
                    branch: "main".into(),
                    code: true,
                }),
            ),
            (
                ":rewind",
                b(Rewind {
                    turn: None,
                    code: false,
                    prompt: None,
                }),
            ),
            (
                ":rewind 5",
                b(Rewind {
                    turn: s("5"),
                    code: false,
                    prompt: None,
                }),
            ),
            (
                ":rewind --code",
                b(Rewind {
                    turn: None,
                    code: true,
                    prompt: None,
                }),
            ),
            (
                ":rewind HEAD~2 --code -- don't use approach A, go straight to B",
                b(Rewind {
                    turn: s("HEAD~2"),
                    code: true,
                    prompt: s("don't use approach A, go straight to B"),
                }),
            ),
            (
                ":rewind -- use  two  spaces -- and dashes",
                b(Rewind {
                    turn: None,
                    code: false,
                    prompt: s("use  two  spaces -- and dashes"),
                }),
            ),
            (
                ":rewind 3 -- \"quoted prompt\"",
                b(Rewind {
                    turn: s("3"),
                    code: false,
                    prompt: s("quoted prompt"),
                }),
            ),
            (":summarize-from-here", b(SummarizeFromHere { turn: None })),
            (
                ":summarize-from-here #4",
                b(SummarizeFromHere { turn: s("#4") }),
            ),
            (
                ":brief",
                b(Brief {
                    name: None,
                    edit: false,
                }),
            ),
            (
                ":brief auth-work",
                b(Brief {
                    name: s("auth-work"),
                    edit: false,
                }),
            ),
            (
                ":brief -e",
                b(Brief {
                    name: None,
                    edit: true,
                }),
            ),
            (
                ":brief --edit",
                b(Brief {
                    name: None,
                    edit: true,
                }),
            ),
            (":clear", b(Clear)),
            (":compact", b(Compact { focus: None })),
            (
                ":compact keep the parser's tests  and \"the plan\"",
                b(Compact {
                    focus: s("keep the parser's tests  and \"the plan\""),
                }),
            ),
            (
                ":compact 'the plan'",
                b(Compact {
                    focus: s("the plan"),
                }),
            ),
            (
                ":subagent write tests for parse.rs, don't touch exec",
                b(Subagent {
                    brief: None,
                    task: "write tests for parse.rs, don't touch exec".into(),
                }),
            ),
            (
                ":subagent --brief auth find the leak",
                b(Subagent {
                    brief: s("auth"),
                    task: "find the leak".into(),
                }),
            ),
            (
                ":subagent --brief=auth -- --verbose is broken",
                b(Subagent {
                    brief: s("auth"),
                    task: "--verbose is broken".into(),
                }),
            ),
            (":pull", b(Pull { job: None })),
            (":pull 3", b(Pull { job: s("3") })),
            (":jobs", b(Jobs)),
            (":kill 3", b(Kill { job: "3".into() })),
            (
                ":replay main",
                b(Replay {
                    branch: "main".into(),
                    range: None,
                }),
            ),
            (
                ":replay main 3..HEAD",
                b(Replay {
                    branch: "main".into(),
                    range: Some((s("3"), s("HEAD"))),
                }),
            ),
            (
                ":replay main 5..",
                b(Replay {
                    branch: "main".into(),
                    range: Some((s("5"), None)),
                }),
            ),
            (
                ":replay main ..HEAD~2",
                b(Replay {
                    branch: "main".into(),
                    range: Some((None, s("HEAD~2"))),
                }),
            ),
            (
                ":replay main ..",
                b(Replay {
                    branch: "main".into(),
                    range: Some((None, None)),
                }),
            ),
            (
                ":diff main try-b",
                b(Diff {
                    a: "main".into(),
                    b: "try-b".into(),
                }),
            ),
            (":sessions", b(Sessions)),
            (
                ":rename a b",
                b(Rename {
                    old: "a".into(),
                    new: "b".into(),
                }),
            ),
            (
                ":delete try-b",
                b(Delete {
                    branch: "try-b".into(),
                }),
            ),
            (
                ":export",
                b(Export {
                    branch: None,
                    format: ExportFormat::Md,
                    file: None,
                }),
            ),
            (
                ":export main",
                b(Export {
                    branch: s("main"),
                    format: ExportFormat::Md,
                    file: None,
                }),
            ),
            (
                ":export main --format json out.json",
                b(Export {
                    branch: s("main"),
                    format: ExportFormat::Json,
                    file: s("out.json"),
                }),
            ),
            (
                ":export --format=md main notes",
                b(Export {
                    branch: s("main"),
                    format: ExportFormat::Md,
                    file: s("notes"),
                }),
            ),
            (
                ":export notes.md",
                b(Export {
                    branch: None,
                    format: ExportFormat::Md,
                    file: s("notes.md"),
                }),
            ),
            (
                ":export out.json",
                b(Export {
                    branch: None,
                    format: ExportFormat::Json,
                    file: s("out.json"),
                }),
            ),
            (
                ":export page.html",
                b(Export {
                    branch: None,
                    format: ExportFormat::Html,
                    file: s("page.html"),
                }),
            ),
            (
                ":export main --format html out",
                b(Export {
                    branch: s("main"),
                    format: ExportFormat::Html,
                    file: s("out"),
                }),
            ),
            (
                ":export main -o 'my notes.md'",
                b(Export {
                    branch: s("main"),
                    format: ExportFormat::Md,
                    file: s("my notes.md"),
                }),
            ),
            (":log main --help", b(Help { command: s("log") })),
            (
                ":subagent don't break the build, then report",
                b(Subagent {
                    brief: None,
                    task: "don't break the build, then report".into(),
                }),
            ),
            (
                ":subagent -b 'auth notes' \"fix it\"",
                b(Subagent {
                    brief: s("auth notes"),
                    task: "fix it".into(),
                }),
            ),
            (":quit", b(Quit)),
            (":q", b(Quit)),
            ("exit", b(Quit)),
        ];
        for (line, want) in table {
            let got = ok(line);
            assert!(same(&got, &want), "{line}: {got:?}, want {want:?}");
        }
    }

    #[test]
    fn quoting_rules() {
        let table: &[(&str, &str)] = &[
            (":delete 'a b'", "a b"),
            (":delete \"a b\"", "a b"),
            (":delete a\\ b", "a b"),
            (":delete \"a\\\"b\"", "a\"b"),
            (":delete \"a\\nb\"", "a\\nb"),
            (":delete 'a\\b'", "a\\b"),
            (":delete x'y z'w", "xy zw"),
            (":delete ''", ""),
            (":delete a\\", "a\\"),
            (":delete $(rm x)", ""),
        ];
        for (line, want) in table {
            match parse_meta(line) {
                Ok(Some(c)) if c.downcast_ref::<Delete>().is_some() => {
                    let branch = &c.downcast_ref::<Delete>().unwrap().branch;
                    assert_eq!(branch, want, "{line}");
                }
                Err(e) if line.contains("$(") => {
                    // Two words, never run: just too many arguments.
                    assert_eq!(e.0, ":delete takes one BRANCH, got '$(rm x)'");
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        // A quoted word is never an option.
        let code = b(Delete {
            branch: "--code".into(),
        });
        assert!(same(&ok(":delete '--code'"), &code));
        let dash = b(Delete {
            branch: "-x".into(),
        });
        assert!(same(&ok(":delete -- -x"), &dash));
        assert_eq!(bad(":delete 'a b"), "unterminated ' quote");
        assert_eq!(bad(":log \"main"), "unterminated \" quote");
    }

    #[test]
    fn invalid_commands() {
        let table: &[(&str, &str)] = &[
            (":lgo", "unknown command ':lgo' (did you mean ':log'?)"),
            (":tre", "unknown command ':tre' (did you mean ':tree'?)"),
            (":checkot main", "unknown command ':checkot' (did you mean ':checkout'?)"),
            (":summarize", "unknown command ':summarize' (did you mean ':summarize-from-here'?)"),
            (":xyzzy", "unknown command ':xyzzy' (:help lists the commands)"),
            (":sum", "unknown command ':sum' (did you mean ':summarize-from-here'?)"),
            (":Lgo", "unknown command ':Lgo' (did you mean ':log'?)"),
            (":rewnid", "unknown command ':rewnid' (did you mean ':rewind'?)"),
            (":help a b", ":help takes at most one CMD, got 'a b'"),
            (":log a b", ":log takes at most one BRANCH, got 'a b'"),
            (":log --foo", "unknown option '--foo' for :log"),
            (":log -n x", "-n needs a number, got 'x'"),
            (":log -n 0", "-n needs a number, got '0'"),
            (":log -n -3", "-n needs a number"),
            (":log -n", "-n needs a number"),
            (":log -n 1 -n 2", "-n is given twice"),
            (":show", ":show needs a TURN (e.g. :show HEAD~1)"),
            (":show 1 2", ":show takes one TURN, got '1 2'"),
            (":show HEAD~x", ":show: 'HEAD~x': the number after ~ must be a whole number, like HEAD~2"),
            (":show 12~1", ":show: '12~1': a turn id takes no ~N; write the id of the earlier turn, or BRANCH~N"),
            (":tree x", ":tree takes no arguments, got 'x'"),
            (":context --all", "unknown option '--all' for :context"),
            (":quit now", ":quit takes no arguments, got 'now'"),
            (":branch", ":branch needs a NAME (e.g. :branch try-b HEAD~1)"),
            (":branch a:b", ":branch: 'a:b' is not a valid branch name: a branch name cannot contain ':'"),
            (":branch HEAD", ":branch: 'HEAD' is not a valid branch name: HEAD means the current turn"),
            (":branch 123", ":branch: '123' is not a valid branch name: a branch name cannot be all digits (that is a turn id)"),
            (":branch x HEAD~y", ":branch: 'HEAD~y': the number after ~ must be a whole number, like HEAD~2"),
            (":branch a b c", ":branch takes at most a NAME and a TURN, got 'a b c'"),
            (":checkout", ":checkout needs a BRANCH (e.g. :checkout main)"),
            (":checkout --cod main", "unknown option '--cod' for :checkout"),
            (":rewind a b", ":rewind takes at most one TURN (put the prompt after ' -- '), got 'a b'"),
            (":rewind --", ":rewind needs a PROMPT after '--'"),
            (":rewind 3 --force", "unknown option '--force' for :rewind"),
            (":summarize-from-here #x", ":summarize-from-here: '#x' is not a turn id (expected a number like 12 or #12)"),
            (":brief a -e", ":brief takes a NAME or -e, not both"),
            (":brief a b", ":brief takes at most one NAME, got 'a b'"),
            (":subagent", ":subagent needs a TASK (e.g. :subagent write tests for the parser)"),
            (":subagent --brief", "--brief needs a NAME"),
            (":subagent --brief x", ":subagent needs a TASK (e.g. :subagent write tests for the parser)"),
            (":subagent --fast go", "unknown option '--fast' for :subagent (use -- before a TASK that starts with '-')"),
            (":subagent --", ":subagent needs a TASK after '--'"),
            (":kill", ":kill needs a JOB (e.g. :kill 2)"),
            (":pull 1 2", ":pull takes at most one JOB, got '1 2'"),
            (":summarize-from-here 1 2", ":summarize-from-here takes at most one TURN, got '1 2'"),
            (":kill 1 2", ":kill takes one JOB, got '1 2'"),
            (":show", ":show needs a TURN (e.g. :show HEAD~1)"),
            (":replay", ":replay needs a BRANCH (e.g. :replay main 3..HEAD)"),
            (":replay main 5", ":replay: the range must be FROM..TO (e.g. 3..HEAD, 5.., ..HEAD~2), got '5'"),
            (":replay main 5..x~y", ":replay: 'x~y': the number after ~ must be a whole number, like HEAD~2"),
            (":replay a 1.. c", ":replay takes at most a BRANCH and a FROM..TO, got 'a 1.. c'"),
            (":effects 1 2", ":effects takes at most one TURN, got '1 2'"),
            (":diff main", ":diff needs a BRANCH_B (e.g. :diff main try-b)"),
            (":diff", ":diff needs BRANCH_A and BRANCH_B (e.g. :diff main try-b)"),
            (":diff a b c", ":diff takes BRANCH_A and BRANCH_B, got 'a b c'"),
            (":rename a", ":rename needs a NEW (e.g. :rename try-b fast-path)"),
            (":rename a b~1", ":rename: 'b~1' is not a valid branch name: a branch name cannot contain '~'"),
            (":delete", ":delete needs a BRANCH (e.g. :delete try-b)"),
            (":export --format xml", "--format must be md, json or html, got 'xml'"),
            (":export --format", "--format needs md, json or html"),
            (":export a b c", ":export takes at most a BRANCH and a FILE, got 'a b c'"),
            (":export a b -o c", ":export takes a FILE or -o FILE, not both"),
        ];
        for (line, want) in table {
            assert_eq!(&bad(line), want, "{line}");
        }
    }

    #[test]
    fn errors_are_one_short_line() {
        let long = format!(":{}", "x".repeat(500));
        for line in [
            ":lo\ng",
            ":log \"a\nb\" c",
            long.as_str(),
            ":show \"1\n2\"",
            ":log -n \"\u{7}\"",
        ] {
            let e = bad(line);
            assert!(!e.contains('\n') && !e.contains('\u{7}'), "{e:?}");
            assert!(e.chars().count() < 160, "{e}");
        }
    }

    #[test]
    fn table_covers_every_command_in_spec_order() {
        let names: Vec<&str> = REGISTRY.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "help",
                "log",
                "show",
                "tree",
                "context",
                "branch",
                "checkout",
                "rewind",
                "summarize-from-here",
                "brief",
                "clear",
                "compact",
                "subagent",
                "pull",
                "jobs",
                "kill",
                "replay",
                "merge",
                "btw",
                "diff",
                "sessions",
                "rename",
                "delete",
                "export",
                "effects",
                "restore",
                "undo",
                "history",
                "version",
                "quit"
            ]
        );
        for info in REGISTRY {
            assert!(
                info.usage.starts_with(&format!(":{}", info.name)),
                "{}",
                info.usage
            );
            assert!(!info.summary.is_empty() && !info.details.is_empty());
            // Every command parses by name (with its required arguments where it has some),
            // and its parsed name is its table name.
            let line = match info.name {
                "show" | "kill" | "delete" | "checkout" | "branch" | "replay" | "restore"
                | "merge" | "btw" => {
                    format!(":{} x", info.name)
                }
                "subagent" => ":subagent do it".into(),
                "diff" | "rename" => format!(":{} x y", info.name),
                name => format!(":{name}"),
            };
            assert_eq!(ok(&line).name(), info.name, "{line}");
        }
        assert_eq!(command_info(":LOG").map(|c| c.name), Some("log"));
        assert_eq!(command_info("q").map(|c| c.name), Some("quit"));
        assert_eq!(command_info("nope"), None);
    }

    /// A tiny deterministic PRNG (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    #[test]
    fn never_panics_on_random_input() {
        const PIECES: &[&str] = &[
            ":",
            " ",
            "  ",
            "\t",
            "\n",
            "'",
            "\"",
            "\\",
            "-",
            "--",
            "-n",
            "--code",
            "--format",
            "=",
            "..",
            "~",
            "#",
            "HEAD",
            "main",
            "log",
            "show",
            "rewind",
            "subagent",
            "compact",
            "export",
            "replay",
            "branch",
            "--brief",
            "-e",
            "1",
            "99999999999999999999",
            "é",
            "😀",
            "\u{0}",
            "\u{200b}",
            "md",
            "json",
            "x.json",
            "a:b",
            "-h",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..5000 {
            let n = (rng.next() % 12) as usize;
            let mut line = String::new();
            if rng.next().is_multiple_of(2) {
                line.push(':');
            }
            for _ in 0..n {
                if rng.next().is_multiple_of(5) {
                    // Any char, including odd ones.
                    let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('?');
                    line.push(c);
                } else {
                    line.push_str(PIECES[(rng.next() as usize) % PIECES.len()]);
                }
            }
            if let Err(e) = parse_meta(&line) {
                assert!(!e.0.contains('\n'), "{line:?} → {e:?}");
                assert!(!e.0.is_empty(), "{line:?}");
            }
        }
    }
}

//! The meta-command parser: one pure function from a line the person typed (`:log -n 5`) to a
//! [`MetaCommand`], or one line saying what is wrong with it. It checks syntax only (a turn
//! reference's form, a new branch name's form, flags and their values); whether a turn or a
//! branch exists is for execution.
//!
//! Words are split with simple shell-like rules — whitespace separates, `'…'` and `"…"` group,
//! a backslash escapes the next character (inside double quotes only `"` and `\`) — but nothing
//! is ever given to a shell. A quoted word is never taken as an option. Free text (the FOCUS of
//! `:compact`, the TASK of `:subagent`, the PROMPT after ` -- ` of `:rewind`) is kept verbatim,
//! apostrophes and all; only when it is one fully quoted word are the quotes removed.

use crate::refs::{nearest_name, parse_turn_ref, validate_branch_name};
use std::fmt;

pub use crate::query::export::ExportFormat;

/// A parsed meta-command. Turn references and branch names are kept as typed (trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaCommand {
    Help {
        command: Option<String>,
    },
    Log {
        branch: Option<String>,
        limit: Option<usize>,
    },
    Show {
        turn: String,
    },
    Tree,
    Context,
    Branch {
        name: String,
        turn: Option<String>,
    },
    Checkout {
        branch: String,
        code: bool,
    },
    /// `:rewind [TURN] [--code] [-- PROMPT]`; PROMPT is everything after ` -- `, verbatim.
    Rewind {
        turn: Option<String>,
        code: bool,
        prompt: Option<String>,
    },
    SummarizeFromHere {
        turn: Option<String>,
    },
    Brief {
        name: Option<String>,
        edit: bool,
    },
    Clear,
    /// The rest of the line, verbatim.
    Compact {
        focus: Option<String>,
    },
    /// TASK is the rest of the line after the options, verbatim.
    Subagent {
        brief: Option<String>,
        task: String,
    },
    Pull {
        job: Option<String>,
    },
    Jobs,
    Kill {
        job: String,
    },
    /// `FROM..TO`; either side may be empty.
    Replay {
        branch: String,
        range: Option<(Option<String>, Option<String>)>,
    },
    Diff {
        a: String,
        b: String,
    },
    Sessions,
    Rename {
        old: String,
        new: String,
    },
    Delete {
        branch: String,
    },
    Export {
        branch: Option<String>,
        format: ExportFormat,
        file: Option<String>,
    },
    Effects {
        turn: Option<String>,
        diff: bool,
    },
    /// `TARGET` is `TURN` or `TURN.CALL`, as typed.
    Restore {
        target: String,
        after: bool,
        paths: Vec<String>,
    },
    Undo,
    History,
    Quit,
}

impl MetaCommand {
    /// The command's name as in [`COMMANDS`] (without the `:`).
    pub fn name(&self) -> &'static str {
        match self {
            MetaCommand::Help { .. } => "help",
            MetaCommand::Log { .. } => "log",
            MetaCommand::Show { .. } => "show",
            MetaCommand::Tree => "tree",
            MetaCommand::Context => "context",
            MetaCommand::Branch { .. } => "branch",
            MetaCommand::Checkout { .. } => "checkout",
            MetaCommand::Rewind { .. } => "rewind",
            MetaCommand::SummarizeFromHere { .. } => "summarize-from-here",
            MetaCommand::Brief { .. } => "brief",
            MetaCommand::Clear => "clear",
            MetaCommand::Compact { .. } => "compact",
            MetaCommand::Subagent { .. } => "subagent",
            MetaCommand::Pull { .. } => "pull",
            MetaCommand::Jobs => "jobs",
            MetaCommand::Kill { .. } => "kill",
            MetaCommand::Replay { .. } => "replay",
            MetaCommand::Diff { .. } => "diff",
            MetaCommand::Sessions => "sessions",
            MetaCommand::Rename { .. } => "rename",
            MetaCommand::Delete { .. } => "delete",
            MetaCommand::Export { .. } => "export",
            MetaCommand::Effects { .. } => "effects",
            MetaCommand::Restore { .. } => "restore",
            MetaCommand::Undo => "undo",
            MetaCommand::History => "history",
            MetaCommand::Quit => "quit",
        }
    }
}

/// Why a line is not a valid meta-command: one line, naming the problem and, where there is
/// one, the nearest valid name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaError(pub String);

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MetaError {}

/// One entry of the command table (help, completion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// Without the `:`.
    pub name: &'static str,
    /// `:log [BRANCH] [-n N]`.
    pub usage: &'static str,
    /// One short line.
    pub summary: &'static str,
    /// The full description (plain text, paragraphs separated by blank lines).
    pub details: &'static str,
}

/// Every meta-command, in the guide's order (docs/guide.md).
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "help",
        usage: ":help [CMD]",
        summary: "list the commands, or one in full",
        details: "With no argument, lists every meta-command with its usage. With CMD (with or \
                  without the ':'), shows that command in full. `:CMD --help` does the same.",
    },
    CommandInfo {
        name: "log",
        usage: ":log [BRANCH] [-n N]",
        summary: "a branch's turns: id, age, context, prompt → reply",
        details: "Lists the conversation of BRANCH (default: the current branch) from its first \
                  turn to its head, across fork points: id, age, context tokens after the turn, \
                  and the first line of the prompt and of the reply. -n N shows only the last N \
                  turns.",
    },
    CommandInfo {
        name: "show",
        usage: ":show TURN",
        summary: "one turn in full",
        details: "Shows one turn in full: branch, parent, kind, session, times, tokens, files, \
                  snapshot, what was typed, the prompt and the reply. TURN is 12 or #12, HEAD, \
                  HEAD~N, BRANCH or BRANCH~N.",
    },
    CommandInfo {
        name: "tree",
        usage: ":tree",
        summary: "all branches as a tree with their fork points",
        details: "Shows every branch of the project as a tree: children under the branch they \
                  forked from, with the turn they forked after, their head turn, their number of \
                  turns and the age of their head. The current branch is marked with *.",
    },
    CommandInfo {
        name: "context",
        usage: ":context",
        summary: "context used, rot zone, largest turns, advice",
        details: "Shows the exact context size after the last finished turn against the context \
                  window Claude Code reports for the model in use (else `context_window` in \
                  config.toml), the same on every branch, with the rot zone (where quality drops, `rot_zone_tokens` in \
                  config.toml) marked; the five turns that added the most; and which of \
                  :summarize-from-here, :brief, :compact, :subagent or :rewind fits now, and why.",
    },
    CommandInfo {
        name: "branch",
        usage: ":branch NAME [TURN]",
        summary: "fork a new branch after TURN and switch to it",
        details: "Forks a new branch NAME after TURN (default HEAD) and switches to it: Claude \
                  resumes the conversation as it stood after TURN. The old branch is kept.",
    },
    CommandInfo {
        name: "checkout",
        usage: ":checkout BRANCH [--code]",
        summary: "switch to a branch; --code also restores its files",
        details: "Switches to BRANCH: Claude resumes that branch's conversation. With --code, the \
                  files are also put back as they were at the branch's head (the current working \
                  tree is snapshotted first, so nothing is lost).",
    },
    CommandInfo {
        name: "rewind",
        usage: ":rewind [TURN] [--code] [-- PROMPT]",
        summary: "fork after TURN (default HEAD~1), send PROMPT",
        details: "Forks a new branch after TURN (default HEAD~1) and switches to it. With --code, \
                  the files are also restored to TURN's snapshot (the current working tree is \
                  snapshotted first). Everything after ` -- ` is sent as the next prompt, \
                  verbatim: `:rewind HEAD~2 -- don't use approach A, go straight to B`.",
    },
    CommandInfo {
        name: "summarize-from-here",
        usage: ":summarize-from-here [TURN]",
        summary: "Claude writes a handoff since TURN (a brief)",
        details: "Asks Claude for a handoff of everything since TURN (default: the branch's \
                  start): the goal, what was tried and why it failed, decisions, constraints, \
                  the files that matter and the next step. The answer is saved as a brief for \
                  :brief.",
    },
    CommandInfo {
        name: "brief",
        usage: ":brief [NAME | -e]",
        summary: "fresh session on a new branch, seeded with a brief",
        details: "Starts a fresh Claude session on a new branch, seeded with a brief: the last \
                  summary, the saved brief NAME, or (-e) one written now in $EDITOR from a \
                  template.",
    },
    CommandInfo {
        name: "clear",
        usage: ":clear",
        summary: "fresh session on a new branch, no brief",
        details: "Starts a fresh Claude session on a new branch, with no brief. The old branch \
                  is kept.",
    },
    CommandInfo {
        name: "compact",
        usage: ":compact [FOCUS]",
        summary: "forward /compact FOCUS (asks for one if none)",
        details: "Forwards `/compact FOCUS` to Claude; FOCUS is the rest of the line, verbatim. \
                  With no FOCUS, first asks what comes next and builds the focus from the answer.",
    },
    CommandInfo {
        name: "subagent",
        usage: ":subagent [--brief NAME] TASK",
        summary: "run TASK in a clean Claude in the background",
        details: "Runs TASK (the rest of the line, verbatim) in a separate Claude Code process \
                  with a clean context (plus the brief NAME, when given), in the background, in \
                  the same directory. When it is done, :pull sends its final report into this \
                  session. Its own turns are kept as a side branch.",
    },
    CommandInfo {
        name: "pull",
        usage: ":pull [JOB]",
        summary: "send a finished subagent's report here",
        details: "Sends the final report of subagent JOB (default: the latest finished one not \
                  yet pulled) into this session, framed as a subagent's conclusion. A job's \
                  report is sent once: pulling it again says so and sends nothing.",
    },
    CommandInfo {
        name: "jobs",
        usage: ":jobs",
        summary: "subagent jobs with their state",
        details: "Lists the subagent jobs of this session with their state.",
    },
    CommandInfo {
        name: "kill",
        usage: ":kill JOB",
        summary: "stop a subagent job",
        details: "Stops the subagent job JOB. The turns it recorded are kept.",
    },
    CommandInfo {
        name: "replay",
        usage: ":replay BRANCH [FROM..TO]",
        summary: "replay BRANCH's prompts into a fresh session",
        details: "Sends the prompts of BRANCH's turns, one turn at a time, into a fresh session \
                  on a new branch. FROM..TO limits the turns (either side may be empty: 5.., \
                  ..HEAD~2).",
    },
    CommandInfo {
        name: "diff",
        usage: ":diff BRANCH_A BRANCH_B",
        summary: "where two branches part, outcomes side by side",
        details: "Shows the turn where two branches part, and their outcomes side by side: last \
                  replies, tokens and files changed.",
    },
    CommandInfo {
        name: "sessions",
        usage: ":sessions",
        summary: "branches and sessions: turns, tokens, last activity",
        details: "Lists the project's branches and the Claude sessions carrying them, with their \
                  turns, tokens and last activity.",
    },
    CommandInfo {
        name: "rename",
        usage: ":rename OLD NEW",
        summary: "rename a branch",
        details: "Renames branch OLD to NEW.",
    },
    CommandInfo {
        name: "delete",
        usage: ":delete BRANCH",
        summary: "delete a branch (asks; never the current one)",
        details: "Deletes branch BRANCH after asking to confirm. The current branch is never \
                  deleted.",
    },
    CommandInfo {
        name: "export",
        usage: ":export [BRANCH] [--format md|json|html] [FILE]",
        summary: "write a branch out",
        details: "Writes BRANCH (default: the current branch) out as Markdown, JSON or one \
                  self-contained HTML page (the turns, collapsible tool calls, token counts, the \
                  tree of branches), to FILE (or -o FILE). A single argument ending in .md, \
                  .json or .html is taken as the FILE; without --format, a FILE ending in .json \
                  means JSON and one ending in .html means HTML.",
    },
    CommandInfo {
        name: "effects",
        usage: ":effects [TURN] [--diff]",
        summary: "each tool call of a turn and the files it changed",
        details: "Lists each tool call of TURN (default HEAD) that may write — Bash, Edit, Write, \
                  MultiEdit, NotebookEdit, MCP tools — as TURN.CALL with its command or file, \
                  and the files it added, modified or deleted, from the effects journal's \
                  snapshots before and after the call. --diff adds each call's patch. A call \
                  whose snapshot did not fit the hook's budget says \"not snapshotted\".",
    },
    CommandInfo {
        name: "restore",
        usage: ":restore TURN[.CALL] [--before|--after] [PATHS…]",
        summary: "files back as they were before/after a tool call (undoable)",
        details: "Puts the files a tool call changed back as they were before it (the default) \
                  or after it; TURN alone means all the turn's calls; PATHS limits it to some \
                  files or folders. The files are snapshotted first, so :undo takes the restore \
                  back. A file the journal did not see created is never deleted, and a file \
                  changed outside Claude since the last snapshot is kept aside (named in the \
                  message) before it is replaced.",
    },
    CommandInfo {
        name: "undo",
        usage: ":undo",
        summary: "undo the last move (switch, rewind, clear, brief, restore); again redoes",
        details: "Undoes the last ccx move — :branch, :checkout, :rewind, :clear, :brief or a \
                  restore (:restore, --code) — returning to the conversation it left (the same \
                  branch and Claude session) and putting back the files it changed. :undo again \
                  redoes it. The moves are kept in the turn log, so this works after a restart.",
    },
    CommandInfo {
        name: "history",
        usage: ":history",
        summary: "the moves ccx made, with what each changed",
        details: "Lists the moves (branch switches, checkouts, rewinds, clears, briefs, \
                  restores and undos), oldest first, with their age, what each did and how many \
                  files it changed.",
    },
    CommandInfo {
        name: "quit",
        usage: ":quit",
        summary: "end Claude and ccx",
        details: "Ends Claude and ccx.",
    },
];

/// Other spellings accepted for a command name.
const ALIASES: &[(&str, &str)] = &[
    ("q", "quit"),
    ("exit", "quit"),
    ("h", "help"),
    ("?", "help"),
];

/// The table entry of a command name (`log` or `:log`, any case, aliases included).
pub fn command_info(name: &str) -> Option<&'static CommandInfo> {
    let name = name.trim();
    let name = name.strip_prefix(':').unwrap_or(name).to_lowercase();
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name.as_str(), |(_, real)| real);
    COMMANDS.iter().find(|c| c.name == name)
}

/// The command name nearest to `name`, for "did you mean" (without its `:`): the branch-name
/// rule of [`nearest_name`], but a swap of two neighbouring letters (`lgo`) counts as one edit.
pub fn nearest_command(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix(':').unwrap_or(name).to_lowercase();
    if let Some(near) = nearest_name(&name, COMMANDS.iter().map(|c| c.name)) {
        return Some(near);
    }
    let len = name.chars().count();
    let limit = match len {
        0 => return None,
        1..=3 => 1,
        4..=8 => 2,
        n => n / 4,
    };
    COMMANDS
        .iter()
        .map(|c| (osa_distance(&name, c.name), c.name))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Optimal string alignment distance: Levenshtein plus transpositions of neighbours.
fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// User text quoted in an error: one line, at most 40 characters.
fn clip(s: &str) -> String {
    clip_to(s, 40)
}

/// `s` made one line (control characters escaped) and cut to `max` characters.
fn clip_to(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn err(msg: impl Into<String>) -> MetaError {
    MetaError(msg.into())
}

/// One word of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    text: String,
    /// Some part of it was quoted or escaped: never an option.
    quoted: bool,
}

impl Word {
    /// An unquoted word that looks like an option (`-n`, `--code`); `-` alone is not.
    fn is_option(&self) -> bool {
        !self.quoted && self.text.starts_with('-') && self.text.len() > 1
    }
}

/// Reads words one at a time, so free text after them can be taken verbatim.
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer { s, pos: 0 }
    }

    /// The unread text, without leading whitespace.
    fn rest(&self) -> &'a str {
        self.s[self.pos..].trim_start()
    }

    fn next_word(&mut self) -> Result<Option<Word>, MetaError> {
        let rest = &self.s[self.pos..];
        let start = rest.len() - rest.trim_start().len();
        let mut chars = rest[start..].char_indices().peekable();
        let mut text = String::new();
        let mut quoted = false;
        let mut started = false;
        let mut end = rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c.is_whitespace() => {
                    end = start + i;
                    break;
                }
                '\'' | '"' => {
                    started = true;
                    quoted = true;
                    let mut closed = false;
                    while let Some((_, q)) = chars.next() {
                        if q == c {
                            closed = true;
                            break;
                        }
                        if c == '"' && q == '\\' {
                            if let Some(&(_, n)) = chars.peek() {
                                if n == '"' || n == '\\' {
                                    text.push(n);
                                    chars.next();
                                    continue;
                                }
                            }
                        }
                        text.push(q);
                    }
                    if !closed {
                        return Err(err(format!("unterminated {c} quote")));
                    }
                }
                '\\' => {
                    started = true;
                    quoted = true;
                    match chars.next() {
                        Some((_, n)) => text.push(n),
                        None => text.push('\\'),
                    }
                }
                c => {
                    started = true;
                    text.push(c);
                }
            }
        }
        self.pos += end;
        Ok(started.then_some(Word { text, quoted }))
    }

    fn all_words(&mut self) -> Result<Vec<Word>, MetaError> {
        let mut words = Vec::new();
        while let Some(w) = self.next_word()? {
            words.push(w);
        }
        Ok(words)
    }
}

/// Free text: verbatim, except that a text that is exactly one quoted word loses its quotes.
fn free_text(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let first = s.chars().next();
    if matches!(first, Some('\'' | '"')) && s.ends_with(first.unwrap_or(' ')) {
        let mut lexer = Lexer::new(s);
        if let Ok(Some(word)) = lexer.next_word() {
            if lexer.rest().is_empty() && !word.text.trim().is_empty() {
                return Some(word.text);
            }
        }
    }
    Some(s.to_string())
}

/// An option a command accepts.
struct Flag {
    /// Spellings; the first is the canonical one.
    names: &'static [&'static str],
    /// What its value is (for "needs …" errors), or None for a switch.
    value: Option<&'static str>,
}

const HELP_FLAG: Flag = Flag {
    names: &["--help", "-h"],
    value: None,
};

/// Options (canonical name, value) and positional words of a command's arguments.
struct Parsed {
    flags: Vec<(&'static str, Option<String>)>,
    positionals: Vec<String>,
}

impl Parsed {
    fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| *n == name)
    }
    fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Splits words into known options and positionals. `--` ends the options; `--flag=value`
/// and `-nVALUE` are accepted for options that take a value.
fn split_args(cmd: &str, words: Vec<Word>, flags: &[Flag]) -> Result<Parsed, MetaError> {
    let mut parsed = Parsed {
        flags: Vec::new(),
        positionals: Vec::new(),
    };
    let mut words = words.into_iter();
    let mut options_done = false;
    while let Some(word) = words.next() {
        if options_done || !word.is_option() {
            parsed.positionals.push(word.text);
            continue;
        }
        if word.text == "--" {
            options_done = true;
            continue;
        }
        let text = word.text.as_str();
        let mut found = None;
        for flag in flags.iter().chain(std::iter::once(&HELP_FLAG)) {
            for name in flag.names {
                if text == *name {
                    found = Some((flag, None));
                } else if flag.value.is_some() {
                    if let Some(v) = text.strip_prefix(name) {
                        if let Some(v) = v.strip_prefix('=') {
                            found = Some((flag, Some(v.to_string())));
                        } else if !name.starts_with("--") {
                            found = Some((flag, Some(v.to_string())));
                        }
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            if found.is_some() {
                break;
            }
        }
        let Some((flag, inline)) = found else {
            return Err(err(format!("unknown option '{}' for :{cmd}", clip(text))));
        };
        let canonical = flag.names[0];
        if parsed.has(canonical) {
            return Err(err(format!("{canonical} is given twice")));
        }
        let value = match (flag.value, inline) {
            (None, _) => None,
            (Some(_), Some(v)) => Some(v),
            (Some(what), None) => match words.next() {
                Some(w) if !w.is_option() => Some(w.text),
                _ => return Err(err(format!("{canonical} needs {what}"))),
            },
        };
        parsed.flags.push((canonical, value));
    }
    Ok(parsed)
}

/// Checks a turn reference's form; keeps it as typed.
fn turn_arg(cmd: &str, s: &str) -> Result<String, MetaError> {
    parse_turn_ref(s)
        .map(|_| s.trim().to_string())
        .map_err(|e| err(format!(":{cmd}: {}", clip_to(&e.to_string(), 120))))
}

/// Checks the form of a branch name about to be created.
fn new_branch_arg(cmd: &str, s: &str) -> Result<String, MetaError> {
    validate_branch_name(s)
        .map(|_| s.to_string())
        .map_err(|reason| {
            err(format!(
                ":{cmd}: '{}' is not a valid branch name: {reason}",
                clip(s)
            ))
        })
}

fn joined(words: &[String]) -> String {
    clip(&words.join(" "))
}

/// No positional allowed.
fn no_args(cmd: &str, p: &Parsed) -> Result<(), MetaError> {
    if p.positionals.is_empty() {
        Ok(())
    } else {
        Err(err(format!(
            ":{cmd} takes no arguments, got '{}'",
            joined(&p.positionals)
        )))
    }
}

/// At most `max` positionals, described as `what` ("one BRANCH").
fn at_most(cmd: &str, p: &Parsed, max: usize, what: &str) -> Result<(), MetaError> {
    if p.positionals.len() <= max {
        Ok(())
    } else {
        Err(err(format!(
            ":{cmd} takes at most {what}, got '{}'",
            joined(&p.positionals)
        )))
    }
}

/// Exactly the positionals `names` (e.g. ["TURN"]); `example` completes the "needs" message.
fn exactly(cmd: &str, p: &Parsed, names: &[&str], example: &str) -> Result<(), MetaError> {
    let n = p.positionals.len();
    if n < names.len() {
        let missing = match &names[n..] {
            [one] => format!("a {one}"),
            more => more.join(" and "),
        };
        return Err(err(format!(":{cmd} needs {missing} (e.g. {example})")));
    }
    if n > names.len() {
        let what = match names {
            [one] => format!("one {one}"),
            more => more.join(" and "),
        };
        return Err(err(format!(
            ":{cmd} takes {what}, got '{}'",
            joined(&p.positionals)
        )));
    }
    Ok(())
}

/// Parses one line typed in the ccx editor. `line` may start with ':' or not; surrounding
/// whitespace is ignored; an empty line (or a lone ':') is `Ok(None)`.
pub fn parse_meta(line: &str) -> Result<Option<MetaCommand>, MetaError> {
    let line = line.trim();
    let line = line.strip_prefix(':').unwrap_or(line).trim_start();
    if line.is_empty() {
        return Ok(None);
    }
    let name_end = line.find(char::is_whitespace).unwrap_or(line.len());
    let (typed, args) = line.split_at(name_end);
    let Some(info) = command_info(typed) else {
        return Err(match nearest_command(typed) {
            Some(near) => err(format!(
                "unknown command ':{}' (did you mean ':{near}'?)",
                clip(typed)
            )),
            None => err(format!(
                "unknown command ':{}' (:help lists the commands)",
                clip(typed)
            )),
        });
    };
    let cmd = info.name;
    let args = args.trim();
    if args == "--help" || args == "-h" {
        return Ok(Some(MetaCommand::Help {
            command: Some(cmd.to_string()),
        }));
    }
    // Commands that end in free text read their words one at a time.
    match cmd {
        "compact" => {
            return Ok(Some(MetaCommand::Compact {
                focus: free_text(args),
            }))
        }
        "subagent" => return parse_subagent(args).map(Some),
        "rewind" => return parse_rewind(args).map(Some),
        _ => {}
    }
    let words = Lexer::new(args).all_words()?;
    let asks_help = words
        .iter()
        .take_while(|w| w.quoted || w.text != "--")
        .any(|w| !w.quoted && (w.text == "--help" || w.text == "-h"));
    if asks_help {
        return Ok(Some(MetaCommand::Help {
            command: Some(cmd.to_string()),
        }));
    }
    let command = match cmd {
        "help" => {
            let p = split_args(cmd, words, &[])?;
            at_most(cmd, &p, 1, "one CMD")?;
            let command = p
                .positionals
                .first()
                .map(|c| c.strip_prefix(':').unwrap_or(c).to_string());
            MetaCommand::Help { command }
        }
        "log" => {
            let flags = [Flag {
                names: &["-n", "--limit"],
                value: Some("a number"),
            }];
            let p = split_args(cmd, words, &flags)?;
            at_most(cmd, &p, 1, "one BRANCH")?;
            let limit = match p.value("-n") {
                None => None,
                Some(v) => match v.parse::<usize>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => return Err(err(format!("-n needs a number, got '{}'", clip(v)))),
                },
            };
            MetaCommand::Log {
                branch: p.positionals.into_iter().next(),
                limit,
            }
        }
        "show" => {
            let p = split_args(cmd, words, &[])?;
            exactly(cmd, &p, &["TURN"], ":show HEAD~1")?;
            MetaCommand::Show {
                turn: turn_arg(cmd, &p.positionals[0])?,
            }
        }
        "tree" | "context" | "clear" | "jobs" | "sessions" | "undo" | "history" | "quit" => {
            let p = split_args(cmd, words, &[])?;
            no_args(cmd, &p)?;
            match cmd {
                "tree" => MetaCommand::Tree,
                "context" => MetaCommand::Context,
                "clear" => MetaCommand::Clear,
                "jobs" => MetaCommand::Jobs,
                "sessions" => MetaCommand::Sessions,
                "undo" => MetaCommand::Undo,
                "history" => MetaCommand::History,
                _ => MetaCommand::Quit,
            }
        }
        "effects" => {
            let flags = [Flag {
                names: &["--diff"],
                value: None,
            }];
            let p = split_args(cmd, words, &flags)?;
            at_most(cmd, &p, 1, "one TURN")?;
            let turn = match p.positionals.first() {
                Some(t) => Some(turn_arg(cmd, t)?),
                None => None,
            };
            MetaCommand::Effects {
                turn,
                diff: p.has("--diff"),
            }
        }
        "restore" => parse_restore(words)?,
        "branch" => {
            let p = split_args(cmd, words, &[])?;
            if p.positionals.is_empty() {
                return Err(err(":branch needs a NAME (e.g. :branch try-b HEAD~1)"));
            }
            at_most(cmd, &p, 2, "a NAME and a TURN")?;
            let name = new_branch_arg(cmd, &p.positionals[0])?;
            let turn = match p.positionals.get(1) {
                Some(t) => Some(turn_arg(cmd, t)?),
                None => None,
            };
            MetaCommand::Branch { name, turn }
        }
        "checkout" => {
            let flags = [Flag {
                names: &["--code"],
                value: None,
            }];
            let p = split_args(cmd, words, &flags)?;
            exactly(cmd, &p, &["BRANCH"], ":checkout main")?;
            MetaCommand::Checkout {
                code: p.has("--code"),
                branch: p.positionals.into_iter().next().unwrap_or_default(),
            }
        }
        "summarize-from-here" => {
            let p = split_args(cmd, words, &[])?;
            at_most(cmd, &p, 1, "one TURN")?;
            let turn = match p.positionals.first() {
                Some(t) => Some(turn_arg(cmd, t)?),
                None => None,
            };
            MetaCommand::SummarizeFromHere { turn }
        }
        "brief" => {
            let flags = [Flag {
                names: &["-e", "--edit"],
                value: None,
            }];
            let p = split_args(cmd, words, &flags)?;
            at_most(cmd, &p, 1, "one NAME")?;
            let edit = p.has("-e");
            if edit && !p.positionals.is_empty() {
                return Err(err(":brief takes a NAME or -e, not both"));
            }
            MetaCommand::Brief {
                name: p.positionals.into_iter().next(),
                edit,
            }
        }
        "pull" => {
            let p = split_args(cmd, words, &[])?;
            at_most(cmd, &p, 1, "one JOB")?;
            MetaCommand::Pull {
                job: p.positionals.into_iter().next(),
            }
        }
        "kill" => {
            let p = split_args(cmd, words, &[])?;
            exactly(cmd, &p, &["JOB"], ":kill 2")?;
            MetaCommand::Kill {
                job: p.positionals.into_iter().next().unwrap_or_default(),
            }
        }
        "replay" => {
            let p = split_args(cmd, words, &[])?;
            if p.positionals.is_empty() {
                return Err(err(":replay needs a BRANCH (e.g. :replay main 3..HEAD)"));
            }
            at_most(cmd, &p, 2, "a BRANCH and a FROM..TO range")?;
            let range = match p.positionals.get(1) {
                None => None,
                Some(r) => Some(parse_range(r)?),
            };
            MetaCommand::Replay {
                branch: p.positionals[0].clone(),
                range,
            }
        }
        "diff" => {
            let p = split_args(cmd, words, &[])?;
            exactly(cmd, &p, &["BRANCH_A", "BRANCH_B"], ":diff main try-b")?;
            let mut it = p.positionals.into_iter();
            MetaCommand::Diff {
                a: it.next().unwrap_or_default(),
                b: it.next().unwrap_or_default(),
            }
        }
        "rename" => {
            let p = split_args(cmd, words, &[])?;
            exactly(cmd, &p, &["OLD", "NEW"], ":rename try-b fast-path")?;
            MetaCommand::Rename {
                old: p.positionals[0].clone(),
                new: new_branch_arg(cmd, &p.positionals[1])?,
            }
        }
        "delete" => {
            let p = split_args(cmd, words, &[])?;
            exactly(cmd, &p, &["BRANCH"], ":delete try-b")?;
            MetaCommand::Delete {
                branch: p.positionals.into_iter().next().unwrap_or_default(),
            }
        }
        "export" => parse_export(words)?,
        _ => unreachable!("every command in COMMANDS is handled"),
    };
    Ok(Some(command))
}

/// `:restore TURN[.CALL] [--before|--after] [PATHS…]`.
fn parse_restore(words: Vec<Word>) -> Result<MetaCommand, MetaError> {
    let flags = [
        Flag {
            names: &["--before"],
            value: None,
        },
        Flag {
            names: &["--after"],
            value: None,
        },
    ];
    let p = split_args("restore", words, &flags)?;
    if p.has("--before") && p.has("--after") {
        return Err(err(":restore takes --before or --after, not both"));
    }
    let after = p.has("--after");
    let mut positionals = p.positionals.into_iter();
    let Some(target) = positionals.next() else {
        return Err(err(
            ":restore needs a TURN or TURN.CALL (e.g. :restore HEAD.1)",
        ));
    };
    let (turn, _) = crate::effects::turns::split_call_ref(&target)
        .map_err(|e| err(format!(":restore: {}", clip_to(&e.to_string(), 120))))?;
    turn_arg("restore", &turn)?;
    Ok(MetaCommand::Restore {
        target: target.trim().to_string(),
        after,
        paths: positionals.collect(),
    })
}

/// `FROM..TO`, either side empty; each side a turn reference.
fn parse_range(r: &str) -> Result<(Option<String>, Option<String>), MetaError> {
    let Some((from, to)) = r.split_once("..") else {
        return Err(err(format!(
            ":replay: the range must be FROM..TO (e.g. 3..HEAD, 5.., ..HEAD~2), got '{}'",
            clip(r)
        )));
    };
    let side = |s: &str| -> Result<Option<String>, MetaError> {
        if s.is_empty() {
            Ok(None)
        } else {
            turn_arg("replay", s).map(Some)
        }
    };
    Ok((side(from)?, side(to)?))
}

/// `:subagent [--brief NAME] [--] TASK`: TASK is the rest of the line, verbatim.
fn parse_subagent(args: &str) -> Result<MetaCommand, MetaError> {
    let mut lexer = Lexer::new(args);
    let mut brief = None;
    loop {
        let before = lexer.rest();
        if before.is_empty() {
            return Err(err(
                ":subagent needs a TASK (e.g. :subagent write tests for the parser)",
            ));
        }
        if !before.starts_with('-') {
            // The task starts here and runs to the end of the line, verbatim (apostrophes and
            // all: it is never split into words).
            let task = free_text(before).unwrap_or_default();
            return Ok(MetaCommand::Subagent { brief, task });
        }
        let Some(word) = lexer.next_word()? else {
            return Err(err(":subagent needs a TASK"));
        };
        let (flag, inline) = match word.text.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (word.text.clone(), None),
        };
        match flag.as_str() {
            "--" => {
                let Some(task) = free_text(lexer.rest()) else {
                    return Err(err(":subagent needs a TASK after '--'"));
                };
                return Ok(MetaCommand::Subagent { brief, task });
            }
            "--brief" | "-b" => {
                if brief.is_some() {
                    return Err(err("--brief is given twice"));
                }
                let value = match inline {
                    Some(v) => v,
                    None => match lexer.next_word()? {
                        Some(w) if !w.is_option() => w.text,
                        _ => return Err(err("--brief needs a NAME")),
                    },
                };
                if value.is_empty() {
                    return Err(err("--brief needs a NAME"));
                }
                brief = Some(value);
            }
            "--help" | "-h" => {
                return Ok(MetaCommand::Help {
                    command: Some("subagent".into()),
                })
            }
            _ => {
                return Err(err(format!(
                    "unknown option '{}' for :subagent (use -- before a TASK that starts with '-')",
                    clip(&word.text)
                )))
            }
        }
    }
}

/// `:rewind [TURN] [--code] [-- PROMPT]`: PROMPT is everything after ` -- `, verbatim.
fn parse_rewind(args: &str) -> Result<MetaCommand, MetaError> {
    let mut lexer = Lexer::new(args);
    let mut words = Vec::new();
    let mut prompt = None;
    while let Some(word) = lexer.next_word()? {
        if !word.quoted && word.text == "--" {
            match free_text(lexer.rest()) {
                Some(p) => prompt = Some(p),
                None => return Err(err(":rewind needs a PROMPT after '--'")),
            }
            break;
        }
        words.push(word);
    }
    let flags = [Flag {
        names: &["--code"],
        value: None,
    }];
    let p = split_args("rewind", words, &flags)?;
    if p.has("--help") {
        return Ok(MetaCommand::Help {
            command: Some("rewind".into()),
        });
    }
    at_most("rewind", &p, 1, "one TURN (put the prompt after ' -- ')")?;
    let turn = match p.positionals.first() {
        Some(t) => Some(turn_arg("rewind", t)?),
        None => None,
    };
    Ok(MetaCommand::Rewind {
        turn,
        code: p.has("--code"),
        prompt,
    })
}

fn is_file_name(s: &str) -> bool {
    let lower = s.to_lowercase();
    [".md", ".json", ".markdown", ".html", ".htm"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// `:export [BRANCH] [--format md|json|html] [FILE]` (also `-o FILE`).
fn parse_export(words: Vec<Word>) -> Result<MetaCommand, MetaError> {
    let flags = [
        Flag {
            names: &["--format", "-f"],
            value: Some("md, json or html"),
        },
        Flag {
            names: &["-o", "--output"],
            value: Some("a FILE"),
        },
    ];
    let p = split_args("export", words, &flags)?;
    let output = p.value("-o").map(str::to_string);
    let (branch, file) = match (p.positionals.as_slice(), output) {
        ([], out) => (None, out),
        ([one], None) if is_file_name(one) => (None, Some(one.clone())),
        ([one], out) => (Some(one.clone()), out),
        ([b, f], None) => (Some(b.clone()), Some(f.clone())),
        ([_, _], Some(_)) => {
            return Err(err(":export takes a FILE or -o FILE, not both"));
        }
        _ => {
            return Err(err(format!(
                ":export takes at most a BRANCH and a FILE, got '{}'",
                joined(&p.positionals)
            )))
        }
    };
    if file.as_deref() == Some("") {
        return Err(err(":export: the FILE name is empty"));
    }
    let format = match p.value("--format") {
        None => match &file {
            Some(f) if f.to_lowercase().ends_with(".json") => ExportFormat::Json,
            Some(f)
                if f.to_lowercase().ends_with(".html") || f.to_lowercase().ends_with(".htm") =>
            {
                ExportFormat::Html
            }
            _ => ExportFormat::Md,
        },
        Some(v) => match v.to_lowercase().as_str() {
            "md" | "markdown" => ExportFormat::Md,
            "json" => ExportFormat::Json,
            "html" => ExportFormat::Html,
            _ => {
                return Err(err(format!(
                    "--format must be md, json or html, got '{}'",
                    clip(v)
                )))
            }
        },
    };
    Ok(MetaCommand::Export {
        branch,
        format,
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetaCommand as M;

    fn ok(line: &str) -> MetaCommand {
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
            assert_eq!(parse_meta(line), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn valid_commands() {
        let table: Vec<(&str, MetaCommand)> = vec![
            (":help", M::Help { command: None }),
            ("help", M::Help { command: None }),
            (":help log", M::Help { command: s("log") }),
            (":help :log", M::Help { command: s("log") }),
            (":?", M::Help { command: None }),
            (":log --help", M::Help { command: s("log") }),
            (
                ":rewind -h",
                M::Help {
                    command: s("rewind"),
                },
            ),
            (
                ":log",
                M::Log {
                    branch: None,
                    limit: None,
                },
            ),
            (
                "  :LOG  ",
                M::Log {
                    branch: None,
                    limit: None,
                },
            ),
            (
                ":log main",
                M::Log {
                    branch: s("main"),
                    limit: None,
                },
            ),
            (
                ":log -n 5",
                M::Log {
                    branch: None,
                    limit: Some(5),
                },
            ),
            (
                ":log -n5",
                M::Log {
                    branch: None,
                    limit: Some(5),
                },
            ),
            (
                ":log --limit=7 feat/x",
                M::Log {
                    branch: s("feat/x"),
                    limit: Some(7),
                },
            ),
            (
                ":log main -n 3",
                M::Log {
                    branch: s("main"),
                    limit: Some(3),
                },
            ),
            (":show 12", M::Show { turn: "12".into() }),
            (":show #12", M::Show { turn: "#12".into() }),
            (
                ":show HEAD~2",
                M::Show {
                    turn: "HEAD~2".into(),
                },
            ),
            (
                ":show main~1",
                M::Show {
                    turn: "main~1".into(),
                },
            ),
            (":tree", M::Tree),
            (":context", M::Context),
            (
                ":branch try-b",
                M::Branch {
                    name: "try-b".into(),
                    turn: None,
                },
            ),
            (
                ":branch try-b HEAD~1",
                M::Branch {
                    name: "try-b".into(),
                    turn: s("HEAD~1"),
                },
            ),
            (
                ":checkout main",
                M::Checkout {
                    branch: "main".into(),
                    code: false,
                },
            ),
            (
                ":checkout --code main",
                M::Checkout {
                    branch: "main".into(),
                    code: true,
                },
            ),
            (
                ":checkout main --code",
                M::Checkout {
                    branch: "main".into(),
                    code: true,
                },
            ),
            (
                ":rewind",
                M::Rewind {
                    turn: None,
                    code: false,
                    prompt: None,
                },
            ),
            (
                ":rewind 5",
                M::Rewind {
                    turn: s("5"),
                    code: false,
                    prompt: None,
                },
            ),
            (
                ":rewind --code",
                M::Rewind {
                    turn: None,
                    code: true,
                    prompt: None,
                },
            ),
            (
                ":rewind HEAD~2 --code -- don't use approach A, go straight to B",
                M::Rewind {
                    turn: s("HEAD~2"),
                    code: true,
                    prompt: s("don't use approach A, go straight to B"),
                },
            ),
            (
                ":rewind -- use  two  spaces -- and dashes",
                M::Rewind {
                    turn: None,
                    code: false,
                    prompt: s("use  two  spaces -- and dashes"),
                },
            ),
            (
                ":rewind 3 -- \"quoted prompt\"",
                M::Rewind {
                    turn: s("3"),
                    code: false,
                    prompt: s("quoted prompt"),
                },
            ),
            (":summarize-from-here", M::SummarizeFromHere { turn: None }),
            (
                ":summarize-from-here #4",
                M::SummarizeFromHere { turn: s("#4") },
            ),
            (
                ":brief",
                M::Brief {
                    name: None,
                    edit: false,
                },
            ),
            (
                ":brief auth-work",
                M::Brief {
                    name: s("auth-work"),
                    edit: false,
                },
            ),
            (
                ":brief -e",
                M::Brief {
                    name: None,
                    edit: true,
                },
            ),
            (
                ":brief --edit",
                M::Brief {
                    name: None,
                    edit: true,
                },
            ),
            (":clear", M::Clear),
            (":compact", M::Compact { focus: None }),
            (
                ":compact keep the parser's tests  and \"the plan\"",
                M::Compact {
                    focus: s("keep the parser's tests  and \"the plan\""),
                },
            ),
            (
                ":compact 'the plan'",
                M::Compact {
                    focus: s("the plan"),
                },
            ),
            (
                ":subagent write tests for parse.rs, don't touch exec",
                M::Subagent {
                    brief: None,
                    task: "write tests for parse.rs, don't touch exec".into(),
                },
            ),
            (
                ":subagent --brief auth find the leak",
                M::Subagent {
                    brief: s("auth"),
                    task: "find the leak".into(),
                },
            ),
            (
                ":subagent --brief=auth -- --verbose is broken",
                M::Subagent {
                    brief: s("auth"),
                    task: "--verbose is broken".into(),
                },
            ),
            (":pull", M::Pull { job: None }),
            (":pull 3", M::Pull { job: s("3") }),
            (":jobs", M::Jobs),
            (":kill 3", M::Kill { job: "3".into() }),
            (
                ":replay main",
                M::Replay {
                    branch: "main".into(),
                    range: None,
                },
            ),
            (
                ":replay main 3..HEAD",
                M::Replay {
                    branch: "main".into(),
                    range: Some((s("3"), s("HEAD"))),
                },
            ),
            (
                ":replay main 5..",
                M::Replay {
                    branch: "main".into(),
                    range: Some((s("5"), None)),
                },
            ),
            (
                ":replay main ..HEAD~2",
                M::Replay {
                    branch: "main".into(),
                    range: Some((None, s("HEAD~2"))),
                },
            ),
            (
                ":replay main ..",
                M::Replay {
                    branch: "main".into(),
                    range: Some((None, None)),
                },
            ),
            (
                ":diff main try-b",
                M::Diff {
                    a: "main".into(),
                    b: "try-b".into(),
                },
            ),
            (":sessions", M::Sessions),
            (
                ":rename a b",
                M::Rename {
                    old: "a".into(),
                    new: "b".into(),
                },
            ),
            (
                ":delete try-b",
                M::Delete {
                    branch: "try-b".into(),
                },
            ),
            (
                ":export",
                M::Export {
                    branch: None,
                    format: ExportFormat::Md,
                    file: None,
                },
            ),
            (
                ":export main",
                M::Export {
                    branch: s("main"),
                    format: ExportFormat::Md,
                    file: None,
                },
            ),
            (
                ":export main --format json out.json",
                M::Export {
                    branch: s("main"),
                    format: ExportFormat::Json,
                    file: s("out.json"),
                },
            ),
            (
                ":export --format=md main notes",
                M::Export {
                    branch: s("main"),
                    format: ExportFormat::Md,
                    file: s("notes"),
                },
            ),
            (
                ":export notes.md",
                M::Export {
                    branch: None,
                    format: ExportFormat::Md,
                    file: s("notes.md"),
                },
            ),
            (
                ":export out.json",
                M::Export {
                    branch: None,
                    format: ExportFormat::Json,
                    file: s("out.json"),
                },
            ),
            (
                ":export page.html",
                M::Export {
                    branch: None,
                    format: ExportFormat::Html,
                    file: s("page.html"),
                },
            ),
            (
                ":export main --format html out",
                M::Export {
                    branch: s("main"),
                    format: ExportFormat::Html,
                    file: s("out"),
                },
            ),
            (
                ":export main -o 'my notes.md'",
                M::Export {
                    branch: s("main"),
                    format: ExportFormat::Md,
                    file: s("my notes.md"),
                },
            ),
            (":log main --help", M::Help { command: s("log") }),
            (
                ":subagent don't break the build, then report",
                M::Subagent {
                    brief: None,
                    task: "don't break the build, then report".into(),
                },
            ),
            (
                ":subagent -b 'auth notes' \"fix it\"",
                M::Subagent {
                    brief: s("auth notes"),
                    task: "fix it".into(),
                },
            ),
            (":quit", M::Quit),
            (":q", M::Quit),
            ("exit", M::Quit),
        ];
        for (line, want) in table {
            assert_eq!(ok(line), want, "{line}");
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
                Ok(Some(M::Delete { branch })) => assert_eq!(&branch, want, "{line}"),
                Err(e) if line.contains("$(") => {
                    // Two words, never run: just too many arguments.
                    assert_eq!(e.0, ":delete takes one BRANCH, got '$(rm x)'");
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        // A quoted word is never an option.
        assert_eq!(
            ok(":delete '--code'"),
            M::Delete {
                branch: "--code".into()
            }
        );
        assert_eq!(
            ok(":delete -- -x"),
            M::Delete {
                branch: "-x".into()
            }
        );
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
            (":replay", ":replay needs a BRANCH (e.g. :replay main 3..HEAD)"),
            (":replay main 5", ":replay: the range must be FROM..TO (e.g. 3..HEAD, 5.., ..HEAD~2), got '5'"),
            (":replay main 5..x~y", ":replay: 'x~y': the number after ~ must be a whole number, like HEAD~2"),
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
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
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
                "diff",
                "sessions",
                "rename",
                "delete",
                "export",
                "effects",
                "restore",
                "undo",
                "history",
                "quit"
            ]
        );
        for info in COMMANDS {
            assert!(
                info.usage.starts_with(&format!(":{}", info.name)),
                "{}",
                info.usage
            );
            assert!(!info.summary.is_empty() && !info.details.is_empty());
            // Every command parses by name (with its required arguments where it has some),
            // and its parsed name is its table name.
            let line = match info.name {
                "show" | "kill" | "delete" | "checkout" | "branch" | "replay" | "restore" => {
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

    #[test]
    fn effects_restore_undo_and_history() {
        assert_eq!(
            ok(":effects"),
            MetaCommand::Effects {
                turn: None,
                diff: false
            }
        );
        assert_eq!(
            ok(":effects 12 --diff"),
            MetaCommand::Effects {
                turn: Some("12".into()),
                diff: true
            }
        );
        assert_eq!(
            ok(":restore HEAD.1 --before a.txt 'b c.txt'"),
            MetaCommand::Restore {
                target: "HEAD.1".into(),
                after: false,
                paths: vec!["a.txt".into(), "b c.txt".into()],
            }
        );
        assert_eq!(
            ok(":restore 12 --after"),
            MetaCommand::Restore {
                target: "12".into(),
                after: true,
                paths: vec![],
            }
        );
        assert_eq!(ok(":undo"), MetaCommand::Undo);
        assert_eq!(ok(":history"), MetaCommand::History);
        assert!(bad(":restore").contains("needs a TURN"));
        assert!(bad(":restore HEAD.1 --before --after").contains("not both"));
        assert!(bad(":restore HEAD.0").contains("numbered from 1"));
        assert!(
            bad(":restore HEAD~x.1").contains("whole number"),
            "{}",
            bad(":restore HEAD~x.1")
        );
        assert!(bad(":undo now").contains("takes no arguments"));
        assert!(bad(":effects 1 2").contains("at most one TURN"));
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

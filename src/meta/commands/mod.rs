//! The meta-commands, one file each: a command's file holds its [`CommandSpec`] (name, usage,
//! help text, how its arguments are read), its parsed form and how it runs against
//! [`SessionOps`]. [`REGISTRY`] lists them; the parser, `:help`, `ccx help :CMD`, `ccx --help`,
//! the editor's completion and hints, and the "did you mean" suggestion all read it.
//!
//! Adding a command: a new file here (copy `version.rs` for one that only reads, `branch.rs`
//! for one that changes the session) and its name in the `registry!` list below
//! (docs/architecture.md). A file states its spec and its `run` with `meta_command!`.

use crate::meta::args::{at_least, at_most, split_args, Args, Flag, MetaError, Word};
use crate::meta::exec::{one_line, ShellContext};
use crate::meta::ops::{Outcome, SessionOps};
use std::any::Any;
use std::fmt;

/// Declares a command's `pub static SPEC` and its [`MetaCommand`] impl in one place:
///
/// ```ignore
/// meta_command! {
///     Log, run: Log::outcome,
///     usage: ":log [BRANCH] [-n N]", summary: "a branch's turns: id, age, context, prompt → reply",
///     details: "Lists …",
///     flags: &[Flag::valued(&["-n", "--limit"], "a number")], parser: Parser::Words(parse),
/// }
/// ```
///
/// The first line names the type and how it runs: `run: F` calls `F(&self, ops)` for the
/// [`Outcome`]; `shown: F` and `switched: F` turn F's `Result<String>` into
/// [`Outcome::shown`] or [`Outcome::switched`]; `read: F` shows what `F(&ShellContext)`
/// returns, through [`read_text`] (a read-only command that needs none of its arguments). The
/// name is the usage's first word. Spec fields left out take [`CommandSpec::DEFAULT`]'s value
/// (no aliases, no options, runs on the turn log alone).
///
/// Three shorter first lines also declare the command's type and parser:
/// - `Quit; run: …`: a command without arguments, a unit struct read by [`bare`];
/// - `Kill { job }, example: ":kill 2", run: …`: a command of exactly the words its usage
///   names after the command (`:kill JOB`), one `String` field each, read by
///   [`usage_words`]; `Show { turn: turn_arg }` also passes a word through a check such as
///   [`crate::meta::args::turn_arg`];
/// - `Pull [job], run: …`: a command of one optional word (`:pull [JOB]`), an
///   `Option<String>` field read by [`optional_usage_word`]; `[turn: optional_turn]` checks it.
///
/// Writing the static and the impl by hand works the same.
macro_rules! meta_command {
    ($ty:ident; $how:ident: $body:expr, $($rest:tt)*) => {
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $ty;

        meta_command! {
            $ty, $how: $body,
            parser: $crate::meta::commands::Parser::Words($crate::meta::commands::bare::<$ty>),
            $($rest)*
        }
    };
    (
        $ty:ident { $($word:ident $(: $check:path)?),+ $(,)? }, example: $example:expr,
        $how:ident: $body:expr, $($rest:tt)*
    ) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            $(pub $word: String,)+
        }

        const _: () = assert!(
            $crate::meta::commands::usage_word_count(SPEC.usage) == [$(stringify!($word)),+].len(),
            "the struct has one field per word the usage names"
        );

        fn parse(
            words: Vec<$crate::meta::args::Word>,
        ) -> Result<$crate::meta::commands::Parsed, $crate::meta::args::MetaError> {
            let [$($word),+] = $crate::meta::commands::usage_words(&SPEC, words, $example)?;
            $($(let $word = $check(SPEC.name, &$word)?;)?)+
            Ok(Box::new($ty { $($word),+ }))
        }

        meta_command! {
            $ty, $how: $body,
            parser: $crate::meta::commands::Parser::Words(parse),
            $($rest)*
        }
    };
    ($ty:ident [$word:ident $(: $check:path)?], $how:ident: $body:expr, $($rest:tt)*) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            pub $word: Option<String>,
        }

        const _: () = assert!(
            $crate::meta::commands::usage_word_count(SPEC.usage) == 1,
            "the usage names the one optional word"
        );

        fn parse(
            words: Vec<$crate::meta::args::Word>,
        ) -> Result<$crate::meta::commands::Parsed, $crate::meta::args::MetaError> {
            let $word = $crate::meta::commands::optional_usage_word(&SPEC, words)?;
            $(let $word = $check(SPEC.name, $word.as_ref())?;)?
            Ok(Box::new($ty { $word }))
        }

        meta_command! {
            $ty, $how: $body,
            parser: $crate::meta::commands::Parser::Words(parse),
            $($rest)*
        }
    };
    ($ty:ident, $how:ident: $body:expr, $($field:ident: $value:expr),* $(,)?) => {
        pub static SPEC: $crate::meta::commands::CommandSpec = {
            let spec = $crate::meta::commands::CommandSpec {
                $($field: $value,)*
                ..$crate::meta::commands::CommandSpec::DEFAULT
            };
            $crate::meta::commands::CommandSpec {
                name: $crate::meta::commands::name_in_usage(spec.usage),
                ..spec
            }
        };

        impl $crate::meta::commands::MetaCommand for $ty {
            fn spec(&self) -> &'static $crate::meta::commands::CommandSpec {
                &SPEC
            }

            fn run(
                &self,
                ops: &mut dyn $crate::meta::ops::SessionOps,
            ) -> $crate::meta::ops::Outcome {
                meta_command!(@run $how, $body, self, ops)
            }
        }
    };
    (@run run, $body:expr, $cmd:tt, $ops:tt) => { $body($cmd, $ops) };
    (@run shown, $body:expr, $cmd:tt, $ops:tt) => {
        $crate::meta::ops::Outcome::shown($body($cmd, $ops))
    };
    (@run switched, $body:expr, $cmd:tt, $ops:tt) => {
        $crate::meta::ops::Outcome::switched($body($cmd, $ops))
    };
    (@run read, $body:expr, $cmd:tt, $ops:tt) => {
        $crate::meta::commands::read_text($ops, $body)
    };
}

/// Declares the command modules and lists them in [`REGISTRY`], from one list of names.
macro_rules! registry {
    ($($name:ident),* $(,)?) => {
        $(pub mod $name;)*

        /// Every meta-command, in the guide's order (docs/guide.md): help, completion and
        /// parsing read this list and nothing else.
        pub static REGISTRY: &[&CommandSpec] = &[$(&$name::SPEC),*];
    };
}

registry!(
    help,
    log,
    show,
    tree,
    context,
    branch,
    checkout,
    rewind,
    summarize_from_here,
    brief,
    clear,
    compact,
    subagent,
    pull,
    jobs,
    kill,
    replay,
    merge,
    btw,
    diff,
    sessions,
    rename,
    delete,
    export,
    effects,
    restore,
    undo,
    history,
    version,
    quit,
);

/// The parser of a command that takes no arguments (`:quit`, `:jobs`): `--help` aside, any
/// word is refused in one line.
pub fn bare<T: MetaCommand + Default>(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let command = T::default();
    let name = command.name();
    crate::meta::args::no_args(name, &crate::meta::args::split_args(name, words, &[])?)?;
    Ok(Box::new(command))
}

/// The words of a command that takes exactly the words its usage names after the command
/// (`:kill JOB`, `:diff BRANCH_A BRANCH_B`), or the refusal
/// [`exact_words`](crate::meta::args::exact_words) gives, which names them.
pub fn usage_words<const N: usize>(
    spec: &CommandSpec,
    words: Vec<Word>,
    example: &str,
) -> Result<[String; N], MetaError> {
    let names: Vec<&str> = usage_positionals(spec.usage)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    crate::meta::args::exact_words(spec.name, words, &names, example)
}

/// The one optional word of a command whose usage names it (`:pull [JOB]`), or the refusal
/// [`optional_word`](crate::meta::args::optional_word) gives ("at most one JOB").
pub fn optional_usage_word(
    spec: &CommandSpec,
    words: Vec<Word>,
) -> Result<Option<String>, MetaError> {
    let named = usage_positionals(spec.usage);
    let name = named.first().map_or("", |(name, _)| *name);
    crate::meta::args::optional_word(spec.name, words, &format!("one {name}"))
}

/// A command's words and options, checked against the words its usage names: every one it
/// names bare is there (else "needs a NAME (e.g. `example`)"), and no more than it names in all
/// (else "takes at most a NAME and a TURN"). `example` is only shown when a word is missing.
pub fn usage_args(spec: &CommandSpec, words: Vec<Word>, example: &str) -> Result<Args, MetaError> {
    let p = split_args(spec.name, words, spec.flags)?;
    let named = usage_positionals(spec.usage);
    let required: Vec<&str> = named
        .iter()
        .filter(|(_, optional)| !optional)
        .map(|(name, _)| *name)
        .collect();
    at_least(spec.name, &p, &required, example)?;
    let what = match named.as_slice() {
        [(one, _)] => format!("one {one}"),
        more => more
            .iter()
            .map(|(name, _)| format!("a {name}"))
            .collect::<Vec<_>>()
            .join(" and "),
    };
    at_most(spec.name, &p, named.len(), &what)?;
    Ok(p)
}

/// The words a usage names after the command, each with whether it may be left out:
/// `:branch NAME [TURN]` → `NAME`, `TURN` (optional). A bracketed group that starts with an
/// option (`[-n N]`, `[--diff]`, `[-- PROMPT]`) names none; `[NAME | -e]` names `NAME`.
pub fn usage_positionals(usage: &str) -> Vec<(&str, bool)> {
    let mut named = Vec::new();
    let mut depth = 0usize;
    for word in usage.split_whitespace().skip(1) {
        if depth == 0 {
            let name = word.trim_start_matches('[');
            let optional = name.len() < word.len();
            if !name.starts_with('-') {
                named.push((
                    if optional {
                        name.trim_end_matches(']')
                    } else {
                        name
                    },
                    optional,
                ));
            }
        }
        depth += word.matches('[').count();
        depth = depth.saturating_sub(word.matches(']').count());
    }
    named
}

/// A command's name: its usage's first word, without the `:` (`:log [BRANCH]` → `log`).
pub const fn name_in_usage(usage: &'static str) -> &'static str {
    let bytes = usage.as_bytes();
    let mut end = 1;
    while end < bytes.len() && bytes[end] != b' ' {
        end += 1;
    }
    let (head, _) = usage.split_at(end);
    let (_, name) = head.split_at(1);
    name
}

/// How many words a usage names after the command's name (`:diff BRANCH_A BRANCH_B` → 2).
pub const fn usage_word_count(usage: &str) -> usize {
    let bytes = usage.as_bytes();
    let (mut words, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i] != b' ' && (i == 0 || bytes[i - 1] == b' ') {
            words += 1;
        }
        i += 1;
    }
    words - 1
}

/// A parsed meta-command, ready to run.
pub type Parsed = Box<dyn MetaCommand>;

/// How a command's arguments are read.
pub enum Parser {
    /// As words (quotes group, a quoted word is never an option); `--help` or `-h` before a
    /// `--` asks for the command's help before this runs.
    Words(fn(Vec<Word>) -> Result<Parsed, MetaError>),
    /// As the text after the name, trimmed (commands that end in free text, kept verbatim).
    Text(fn(&str) -> Result<Parsed, MetaError>),
}

/// One meta-command: what help shows and how its line is read.
pub struct CommandSpec {
    /// Without the `:`.
    pub name: &'static str,
    /// Other spellings of the name (`q` for `quit`).
    pub aliases: &'static [&'static str],
    /// `:log [BRANCH] [-n N]`.
    pub usage: &'static str,
    /// One short line.
    pub summary: &'static str,
    /// The full description (plain text, paragraphs separated by blank lines).
    pub details: &'static str,
    /// It changes the running session, so it cannot run against the turn log alone.
    pub needs_session: bool,
    /// The options it takes (besides `--help`), for its parser and for completion.
    pub flags: &'static [Flag],
    pub parser: Parser,
}

impl CommandSpec {
    /// What a spec field left out of `meta_command!` is: no aliases, no options, runs
    /// against the turn log alone. Name, usage, summary, details and parser are always given.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        aliases: &[],
        usage: "",
        summary: "",
        details: "",
        needs_session: false,
        flags: &[],
        parser: Parser::Text(no_parser),
    };
}

/// The parser [`CommandSpec::DEFAULT`] names; every command gives its own.
fn no_parser(_: &str) -> Result<Parsed, MetaError> {
    Err(crate::meta::args::err("this command has no parser"))
}

impl fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommandSpec({})", self.name)
    }
}

impl PartialEq for CommandSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// A parsed meta-command: its arguments, and how it runs.
pub trait MetaCommand: fmt::Debug + Send + Any {
    /// Its entry in [`REGISTRY`].
    fn spec(&self) -> &'static CommandSpec;
    /// Runs it against the session; what to show.
    fn run(&self, ops: &mut dyn SessionOps) -> Outcome;
    /// Its name (without the `:`).
    fn name(&self) -> &'static str {
        self.spec().name
    }
}

impl dyn MetaCommand {
    /// The command as its own type, when it is a `T` (`:brief NAME` read back from a turn).
    pub fn downcast_ref<T: MetaCommand>(&self) -> Option<&T> {
        (self as &dyn Any).downcast_ref::<T>()
    }
}

/// The spec of a command name (`log` or `:log`, any case, aliases included).
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    let name = name.trim();
    let name = name.strip_prefix(':').unwrap_or(name).to_lowercase();
    REGISTRY
        .iter()
        .copied()
        .find(|c| c.name == name || c.aliases.contains(&name.as_str()))
}

/// The options command `name` takes (every spelling), for completion.
pub fn flag_names(name: &str) -> impl Iterator<Item = &'static str> {
    find(name)
        .into_iter()
        .flat_map(|spec| spec.flags.iter())
        .flat_map(|flag| flag.names.iter().copied())
}

/// Every command name, in the registry's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|c| c.name)
}

/// Runs a read-only command's body with the read context: its text, or its error as one line.
pub fn read_text(
    ops: &mut dyn SessionOps,
    body: impl Fn(&ShellContext) -> Result<String, String>,
) -> Outcome {
    ops.read(&mut |ctx| match body(ctx) {
        Ok(text) => Outcome::Text(text),
        Err(message) => Outcome::Error(one_line(&message)),
    })
}

/// "unknown command ':x'", with the nearest command when there is one.
pub fn unknown_command(typed: &str) -> MetaError {
    let typed = typed.strip_prefix(':').unwrap_or(typed);
    match nearest_command(typed) {
        Some(near) => crate::meta::args::err(format!(
            "unknown command ':{}' (did you mean ':{near}'?)",
            crate::meta::args::clip(typed)
        )),
        None => crate::meta::args::err(format!(
            "unknown command ':{}' (:help lists the commands)",
            crate::meta::args::clip(typed)
        )),
    }
}

/// The command name nearest to `name`, for "did you mean" (without its `:`).
pub fn nearest_command(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix(':').unwrap_or(name);
    crate::names::nearest_name(name, names())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_names_its_words_and_whether_each_may_be_left_out() {
        let names = |usage| usage_positionals(usage);
        assert_eq!(
            names(":branch NAME [TURN]"),
            [("NAME", false), ("TURN", true)]
        );
        assert_eq!(names(":brief [NAME | -e]"), [("NAME", true)]);
        assert_eq!(names(":log [BRANCH] [-n N]"), [("BRANCH", true)]);
        assert_eq!(
            names(":rewind [TURN] [--code] [-- PROMPT]"),
            [("TURN", true)]
        );
        assert_eq!(
            names(":export [BRANCH] [--format md|json|html] [FILE]"),
            [("BRANCH", true), ("FILE", true)]
        );
        assert_eq!(
            names(":restore TURN[.CALL] [--before|--after]"),
            [("TURN[.CALL]", false)]
        );
        assert!(names(":quit").is_empty());
    }

    #[test]
    fn every_registered_usage_closes_its_brackets() {
        for spec in REGISTRY {
            let opened = spec.usage.matches('[').count();
            assert_eq!(opened, spec.usage.matches(']').count(), "{}", spec.usage);
        }
    }
}

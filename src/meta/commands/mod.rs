//! The meta-commands, one file each: a command's file holds its [`CommandSpec`] (name, usage,
//! help text, how its arguments are read), its parsed form and how it runs against
//! [`SessionOps`]. [`REGISTRY`] lists them; the parser, `:help`, `ccx help :CMD`, `ccx --help`,
//! the editor's completion and hints, and the "did you mean" suggestion all read it.
//!
//! Adding a command: a new file here (copy `version.rs` for one that only reads, `branch.rs`
//! for one that changes the session) and its name in the `registry!` list below (docs/architecture.md).

use crate::meta::args::{Flag, MetaError, Word};
use crate::meta::exec::{one_line, ShellContext};
use crate::meta::ops::{Outcome, SessionOps};
use std::any::Any;
use std::fmt;

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

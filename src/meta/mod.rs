//! Meta-commands (docs/guide.md, "Meta-commands"): the lines typed in ccx's own editor mid-session,
//! like `:log`, `:tree` or `:rewind HEAD~2 -- try B`. [`parse`] turns a line into a
//! [`MetaCommand`] (pure, table-tested, fuzzed); [`exec`] runs one against the store and says
//! what to show (the reading commands through [`crate::query`] and [`crate::render`]).

pub mod exec;
pub mod parse;

pub use exec::{execute, Outcome, ShellContext};
pub use parse::{parse_meta, CommandInfo, ExportFormat, MetaCommand, MetaError, COMMANDS};

//! Meta-commands (docs/guide.md, "Meta-commands"): the lines typed in ccx's own editor mid-session,
//! like `:log`, `:tree` or `:rewind HEAD~2 -- try B`. [`parse`] turns a line into a
//! [`MetaCommand`] (pure, table-tested, fuzzed); [`exec`] runs one against the store and says
//! what to show; [`context`] and [`tree`] are the pure renderers behind `:context` and `:tree`.

pub mod context;
pub mod exec;
pub mod parse;
pub mod tree;

pub use exec::{execute, Outcome, ShellContext};
pub use parse::{parse_meta, CommandInfo, ExportFormat, MetaCommand, MetaError, COMMANDS};

//! Meta-commands (docs/guide.md, "Meta-commands"): the lines typed in ccx's own editor
//! mid-session, like `:log`, `:tree` or `:rewind HEAD~2 -- try B`. Each command is one file in
//! [`commands`], listed in its registry; [`parse`] turns a line into one (pure, table-tested,
//! fuzzed) with the shared word rules of [`args`]; a command runs against [`ops::SessionOps`]
//! (the live session, or a fake in tests), using the shared steps of [`moves`]; [`exec`] holds
//! the read-only bodies (thin calls into [`crate::query`] and [`crate::render`]) and
//! [`read_only`] runs a command against the turn log alone.

pub mod args;
pub mod commands;
pub mod exec;
#[cfg(test)]
pub mod fake;
pub mod moves;
pub mod ops;
pub mod parse;
pub mod read_only;

pub use crate::export_format::ExportFormat;
pub use args::MetaError;
pub use commands::{CommandSpec, MetaCommand, REGISTRY};
pub use exec::ShellContext;
pub use ops::{Outcome, SessionOps};
pub use parse::parse_meta;
pub use read_only::execute;

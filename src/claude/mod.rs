//! Everything ccx knows about the Claude Code CLI it runs: where the executable is
//! ([`find`], with the installation scripts/run.sh remembered in [`installed`]), the
//! environment a claude that ccx starts gets ([`env`]), which of its arguments mean what
//! ([`flags`]), the one place its command lines are built and spawned ([`command`]), where it
//! keeps its config and transcripts ([`paths`]), and how its token usage adds up to a context
//! size ([`usage`]).

pub mod command;
pub mod env;
pub mod find;
pub mod flags;
pub mod installed;
pub mod paths;
pub mod usage;

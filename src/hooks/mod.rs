//! The hook bridge: Claude Code's hooks call ccx itself, which reports to the running ccx.

pub mod wire;

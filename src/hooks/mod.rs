//! The hook bridge: Claude Code's hooks call ccx itself (`ccx __hook`), which reports to the
//! running ccx over a private socket. `wire` holds the payload types, `bridge` the receiving
//! end, `client` the sending end, `settings` the `--settings` JSON that installs them.

pub mod bridge;
pub mod client;
pub mod settings;
pub mod wire;

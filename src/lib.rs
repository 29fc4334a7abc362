//! ccx: run Claude Code through a PTY proxy, record every turn, and manage the context window.
//! The binary (`main.rs`) is a thin shell over these modules.

pub mod hooks;
pub mod model;
pub mod paths;
pub mod refs;
pub mod store;
pub mod tokens;
pub mod transcript;

//! ccx: run Claude Code through a PTY proxy, record every turn, and manage the context window.
//! The binary (`main.rs`) is a thin shell over these modules.

pub mod about;
pub mod branch_names;
pub mod briefs;
pub mod cli;
pub mod commands;
pub mod config;
pub mod control;
pub mod diag;
pub mod exec;
pub mod hooks;
pub mod installed;
pub mod jobs;
pub mod keys;
pub mod meta;
pub mod model;
pub mod near_miss;
pub mod paths;
pub mod proxy;
pub mod recorder;
pub mod refs;
pub mod runner;
pub mod screen;
pub mod scroll_skip;
pub mod session;
pub mod shell;
pub mod snapshot;
pub mod status;
pub mod store;
pub mod store_slot;
pub mod templates;
pub mod terminal;
pub mod tokens;
pub mod transcript;

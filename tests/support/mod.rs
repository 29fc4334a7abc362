//! Shared support for end-to-end tests: a stand-in for the Messages API ([`standin`]) and a
//! private environment plus PTY driver for the real Claude Code CLI ([`harness`]).
//! Include with `mod support;` and `use support::{harness::*, standin::*};`.

#![allow(dead_code, unused_imports)]

pub mod browser;
pub mod ccx;
pub mod harness;
pub mod standin;
pub mod terminal;

pub use harness::{
    ccx_path, claude_path, git, output_with_timeout, pid_alive, read_jsonl, stdout_of_success,
    wait_until, PtySession, TestEnv, API_KEY,
};
pub use standin::{Kind, Recorded, StandIn, Usage};

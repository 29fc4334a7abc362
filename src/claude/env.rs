//! The environment of a claude that ccx starts: what it must not see (the variables of a
//! Claude Code session ccx itself runs in, and a hook bridge's credentials) and what ccx adds.

use std::ffi::OsString;

/// The variable that turns Claude Code's agent view off.
pub const DISABLE_AGENT_VIEW: &str = "CLAUDE_CODE_DISABLE_AGENT_VIEW";

/// The `CLAUDECODE*` variables of this process: a claude that ccx starts must not see them,
/// or it would take itself for a session nested inside another Claude Code.
pub fn nested_session_vars() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| is_nested_session_var(&key.to_string_lossy()))
        .collect()
}

/// Whether `key` is one of the variables a Claude Code session sets for what it runs.
pub fn is_nested_session_var(key: &str) -> bool {
    key.starts_with("CLAUDECODE")
}

/// What ccx adds to the environment of the claude it records: agent view off, so no session
/// is handed to a background supervisor outside ccx's terminal and hooks (see README).
pub fn claude_env() -> Vec<(String, String)> {
    vec![(DISABLE_AGENT_VIEW.into(), "1".into())]
}

/// Variables a claude that ccx starts must not see: `CLAUDECODE*` (or it would take itself
/// for a session nested inside another Claude Code) and a hook bridge's `CCX_HOOK_*` (from a
/// ccx this one runs under), which every process Claude runs would inherit.
pub fn hidden_vars() -> Vec<OsString> {
    let mut vars = nested_session_vars();
    for key in [
        crate::hooks::bridge::ENV_SOCKET,
        crate::hooks::bridge::ENV_SECRET,
    ] {
        if std::env::var_os(key).is_some() {
            vars.push(key.into());
        }
    }
    vars
}

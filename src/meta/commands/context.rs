//! `:context`: the context used now against the window, the rot zone, the largest turns and
//! which move fits.

use crate::meta::exec;

meta_command! {
    Context; read: exec::context,
    usage: ":context", summary: "context used, rot zone, largest turns, advice",
    details: "Shows the exact context size after the last finished turn against the context \
              window Claude Code reports for the model in use (else `context_window` in \
              config.toml), the same on every branch, with the rot zone (where quality drops, `rot_zone_tokens` in \
              config.toml) marked; the five turns that added the most; and which of \
              :summarize-from-here, :brief, :compact, :subagent or :rewind fits now, and why.",
}

//! `:sessions`: the project's branches and the Claude sessions carrying them.

use crate::meta::exec;

meta_command! {
    Sessions; read: exec::sessions,
    usage: ":sessions", summary: "branches and sessions: turns, tokens, last activity",
    details: "Lists the project's branches and the Claude sessions carrying them, with their \
              turns, tokens and last activity.",
}

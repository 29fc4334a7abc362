//! Record shapes the store writes beside turns and branches, shared by the engine that keeps
//! the log and the recovery that rebuilds a damaged one.

use serde::{Deserialize, Serialize};

/// What is remembered of a turn deleted with its branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub branch: String,
    pub session_id: crate::ids::SessionId,
    /// The transcript line the turn's prompt came from, when known (for imports).
    #[serde(default)]
    pub prompt_uuid: Option<String>,
    pub deleted_at: String,
    /// Not deleted by anyone: lost to damage, and not found again by a repair.
    #[serde(default)]
    pub lost: bool,
}

//! The store's error type. It crosses the socket unchanged (it is serialisable), so a client
//! sees exactly the error the owner produced, and every message is one line naming the problem.

use crate::ids::TurnId;
use serde::{Deserialize, Serialize};

/// Everything the store can refuse or fail with. Callers get it inside an `anyhow::Error`;
/// `err.downcast_ref::<StoreError>()` recovers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoreError {
    #[error("no turn #{id}")]
    NoTurn { id: TurnId },
    #[error("no branch '{name}'{}", did_you_mean(.suggestion))]
    NoBranch {
        name: String,
        suggestion: Option<String>,
    },
    #[error("branch '{name}' already exists")]
    BranchExists { name: String },
    #[error("invalid branch name '{name}': {reason}")]
    InvalidBranchName { name: String, reason: String },
    /// The data on disk cannot be read back: one line saying where and what to do.
    #[error(
        "the turn log at {path} is damaged ({detail}); run `ccx doctor --repair` to keep \
         every intact turn in a fresh log (the damaged one is set aside)"
    )]
    Damaged { path: String, detail: String },
    /// Reading or writing the store failed (disk full, permissions, ...).
    #[error("cannot use the turn log at {path}: {detail}")]
    Io { path: String, detail: String },
    /// No process could be made to serve the store in time.
    #[error(
        "the turn log at {path} is held by another ccx process that does not answer ({detail})"
    )]
    Unavailable { path: String, detail: String },
    /// The owner and a client disagree about the wire format (e.g. two ccx versions at once).
    #[error("the ccx process serving the turn log did not understand a request ({detail}); are two different ccx versions running?")]
    Protocol { detail: String },
    /// A request too large to send to the owning process.
    #[error("{detail}")]
    TooLarge { detail: String },
    /// A request the store refuses as it stands (the detail says why).
    #[error("{detail}")]
    Invalid { detail: String },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    }
}

impl StoreError {
    pub(crate) fn from_sled(path: &std::path::Path, err: sled::Error) -> StoreError {
        let path = path.display().to_string();
        match err {
            sled::Error::Io(e) => StoreError::Io {
                path,
                detail: e.to_string(),
            },
            sled::Error::Corruption { .. } => StoreError::Damaged {
                path,
                detail: "sled reports corrupted data".into(),
            },
            sled::Error::Unsupported(detail) => StoreError::Damaged {
                path,
                detail: format!("unsupported format: {detail}"),
            },
            other => StoreError::Damaged {
                path,
                detail: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let e = StoreError::NoBranch {
            name: "fo".into(),
            suggestion: Some("foo".into()),
        };
        assert_eq!(e.to_string(), "no branch 'fo' (did you mean 'foo'?)");
        let e = StoreError::Damaged {
            path: "/d".into(),
            detail: "x".into(),
        };
        assert!(!e.to_string().contains('\n'));
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<StoreError>(&json).unwrap(), e);
    }
}

//! Saved briefs: handoffs written by `:summarize-from-here` (or by hand with `:brief -e`),
//! kept in the project's store so a later `:brief NAME` can seed a fresh session with one.

use crate::ids::{MetaKey, TurnId};
use crate::model::now_rfc3339;
use crate::store::Store;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One saved brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brief {
    pub name: String,
    pub text: String,
    /// The branch it summarises, and the turn that wrote it (if a summary).
    pub branch: String,
    pub turn: Option<TurnId>,
    pub created_at: String,
}

/// Saves a brief under `name` and makes it the latest.
pub fn save(
    store: &Store,
    name: &str,
    text: &str,
    branch: &str,
    turn: Option<TurnId>,
) -> Result<Brief> {
    let brief = Brief {
        name: name.to_string(),
        text: text.to_string(),
        branch: branch.to_string(),
        turn,
        created_at: now_rfc3339(),
    };
    store.set_meta(
        &MetaKey::Brief(name.to_owned()),
        serde_json::to_value(&brief)?,
    )?;
    store.set_meta(
        &MetaKey::LastBrief,
        serde_json::Value::String(name.to_string()),
    )?;
    Ok(brief)
}

/// The brief saved under `name`.
pub fn load(store: &Store, name: &str) -> Result<Option<Brief>> {
    match store.get_meta(&MetaKey::Brief(name.to_owned()))? {
        Some(value) => Ok(Some(
            serde_json::from_value(value).context("a saved brief is unreadable")?,
        )),
        None => Ok(None),
    }
}

/// The latest saved brief.
pub fn latest(store: &Store) -> Result<Option<Brief>> {
    match store.get_meta(&MetaKey::LastBrief)? {
        Some(serde_json::Value::String(name)) => load(store, &name),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn briefs_round_trip_and_the_latest_is_remembered() {
        let (_dir, store) = crate::query::fixtures::temp_store();
        assert_eq!(latest(&store).unwrap(), None);
        save(&store, "summary-3", "goal: x", "main", Some(TurnId(3))).unwrap();
        save(&store, "mine", "goal: y", "main", None).unwrap();
        assert_eq!(load(&store, "summary-3").unwrap().unwrap().text, "goal: x");
        assert_eq!(latest(&store).unwrap().unwrap().name, "mine");
        assert_eq!(load(&store, "nope").unwrap(), None);
    }
}

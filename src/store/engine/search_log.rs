//! The engine's side of the search log (`store::search_log`): every write that puts search
//! texts into the `search` tree first appends them to the log and commits the log's new state
//! with them ([`Engine::log_search_texts`] + [`put_log_state`]); a deep search reads the log
//! ([`Engine::logged_matches`]), rebuilding it from the tree when it is missing, stale or
//! damaged ([`Engine::rebuild_search_log`]).

use super::{id_of, CaselessFinder, Engine};
use crate::ids::TurnId;
use crate::store::search_log::{self, State};
use crate::store::search_text;
use sled::transaction::{TransactionalTree, UnabortableTransactionError};

/// What a write puts under [`search_log::STATE`]: the log's new state, or nothing (the key is
/// removed, so the next deep search rebuilds the log).
pub(super) type LogState = Option<[u8; 24]>;

/// Records `state` in the `search` tree, inside the transaction that writes the texts.
pub(super) fn put_log_state(
    search: &TransactionalTree,
    state: &LogState,
) -> Result<(), UnabortableTransactionError> {
    match state {
        Some(bytes) => search.insert(search_log::STATE, &bytes[..]).map(|_| ()),
        None => search.remove(search_log::STATE).map(|_| ()),
    }
}

impl Engine {
    fn search_log_path(&self) -> std::path::PathBuf {
        self.path.join(search_log::FILE)
    }

    fn search_log_state(&self) -> Option<State> {
        State::decode(&self.search.get(search_log::STATE).ok()??)
    }

    /// Appends the search texts `texts` (`(id, text)`) to the log, for a write (under the write
    /// lock) that is about to put them into the `search` tree; the state that write commits.
    /// None when no log is kept yet or it cannot be written.
    pub(super) fn log_search_texts<'a>(
        &self,
        texts: impl IntoIterator<Item = (TurnId, &'a [u8])>,
    ) -> LogState {
        let state = self.search_log_state()?;
        let mut records = Vec::new();
        for (id, text) in texts {
            if !search_log::push_record(&mut records, id.0, text) {
                return None;
            }
        }
        search_log::append(&self.search_log_path(), &state, &records)
            .ok()
            .map(|s| s.encode())
    }

    /// The turns whose latest search text holds every word of `finders`, with the search texts
    /// of their tool calls, in id order; None when the log is missing, stale or damaged.
    pub(super) fn logged_matches(
        &self,
        finders: &[CaselessFinder],
    ) -> Option<Vec<(TurnId, Vec<String>)>> {
        let state = self.search_log_state()?;
        let keep = |text: &[u8]| finders.iter().all(|f| f.is_in(text));
        let found = search_log::latest_where(&self.search_log_path(), &state, keep).ok()??;
        Some(
            found
                .into_iter()
                .map(|(id, text)| (TurnId(id), search_text::tools(&text)))
                .collect(),
        )
    }

    /// Writes the log anew from the `search` tree (under the write lock, so no text is written
    /// meanwhile) and records its state. False when it could not (the caller scans the tree).
    pub(super) fn rebuild_search_log(&self) -> bool {
        let _guard = self.lock_writes();
        let mut failed = false;
        let texts = self.search.iter().map_while(|item| match item {
            Ok((k, v)) => Some((k, v)),
            Err(_) => {
                failed = true;
                None
            }
        });
        let texts = texts.filter_map(|(k, v)| Some((id_of(&k)?.0, v.to_vec())));
        let Ok(state) = search_log::create(&self.search_log_path(), texts) else {
            return false;
        };
        !failed
            && self
                .search
                .insert(search_log::STATE, &state.encode()[..])
                .is_ok()
    }

    /// Forgets the log (after a delete: deleted turns' texts leave the file at its rebuild).
    pub(super) fn drop_search_log(&self) {
        let _ = std::fs::remove_file(self.search_log_path());
    }
}

//! Deep search's scan: each turn's search text (its prompt, reply and the search text of its
//! tool calls, see `store::search_text`), read from the search log beside the database (see
//! `store::search_log`, rebuilt from the `search` tree when stale), each word looked for in
//! place (memchr for its rarest byte, ASCII case ignored); then the turn records of the
//! candidates only. When the log cannot be read or written, the `search` tree itself is
//! scanned, cut into id ranges scanned side by side. Every turn gets its search text when it
//! is written (begin, finish, import); a store written before that gets them all once, at its
//! first deep search.

use super::{id_of, CaselessFinder, Engine, Res};
use crate::ids::TurnId;
use crate::model::Turn;
use crate::store::{search_log, search_text};
use serde_json::Value;

/// From this many candidates on, their turn records are read on every core.
const PARALLEL_FETCH_TURNS: usize = 256;

/// Turns given their search text in one batch of the one-time catch-up.
const CATCH_UP_BATCH: usize = 1024;

impl Engine {
    /// Turns holding every word in their prompt, reply or tool calls, each with the search
    /// texts of its tool calls, in id order. No words: every turn.
    pub(super) fn deep_search_candidates(&self, words: &[String]) -> Res<Vec<(Turn, Vec<String>)>> {
        self.catch_up_search_texts()?;
        let finders: Vec<CaselessFinder> = words
            .iter()
            .map(|w| CaselessFinder::new(w.to_ascii_lowercase().as_bytes()))
            .collect();
        let logged = self.logged_matches(&finders).or_else(|| {
            self.rebuild_search_log()
                .then(|| self.logged_matches(&finders))
                .flatten()
        });
        let found = match logged {
            Some(found) => found,
            None => self.scan_search_tree(&finders)?,
        };
        self.turns_of(found)
    }

    /// The turn records of `found` (read side by side when there are many: each is a lookup
    /// in a cold cache), in the same order; a turn deleted since its search text was read is
    /// left out.
    fn turns_of(&self, found: Vec<(TurnId, Vec<String>)>) -> Res<Vec<(Turn, Vec<String>)>> {
        let fetch = |part: Vec<(TurnId, Vec<String>)>| -> Res<Vec<(Turn, Vec<String>)>> {
            let mut out = Vec::with_capacity(part.len());
            for (id, tools) in part {
                if let Some(turn) = self.turn(id)? {
                    out.push((turn, tools));
                }
            }
            Ok(out)
        };
        crate::parallel::in_order(found, super::MAX_SCAN_THREADS, PARALLEL_FETCH_TURNS, fetch)
    }

    /// The ids of the turns whose search text in the `search` tree holds every word, with the
    /// search texts of their tool calls, in id order.
    fn scan_search_tree(&self, finders: &[CaselessFinder]) -> Res<Vec<(TurnId, Vec<String>)>> {
        self.scan_in_parallel(|range| {
            let mut out = Vec::new();
            for item in self.search.range(range) {
                let (k, bytes) = item.map_err(|e| self.sled(e))?;
                let Some(id) = id_of(&k) else { continue };
                if finders.iter().all(|f| f.is_in(&bytes)) {
                    out.push((id, search_text::tools(&bytes)));
                }
            }
            Ok(out)
        })
    }

    /// Marks a store with no turns yet as having every turn's search text.
    pub(super) fn mark_search_texts_complete_if_empty(&self) {
        let empty = self.turns.is_empty() && self.deleted.is_empty();
        if empty && matches!(self.search.get(search_text::COMPLETE), Ok(None)) {
            let _ = self.search.insert(search_text::COMPLETE, &[]);
        }
    }

    /// Gives every turn that has none its search text (turns written before the `search` tree
    /// existed, or a store rebuilt by a repair), once; then marks the tree complete.
    fn catch_up_search_texts(&self) -> Res<()> {
        let complete = |e: &Engine| e.search.contains_key(search_text::COMPLETE);
        if complete(self).map_err(|e| self.sled(e))? {
            return Ok(());
        }
        let _guard = self.lock_writes();
        if complete(self).map_err(|e| self.sled(e))? {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for item in self.turns.iter() {
            let (k, bytes) = item.map_err(|e| self.sled(e))?;
            if self.search.contains_key(&k).map_err(|e| self.sled(e))? {
                continue;
            }
            let turn = self.decode_turn(&bytes)?;
            let entries: Vec<Value> = match self.entries.get(&k).map_err(|e| self.sled(e))? {
                Some(e) => serde_json::from_slice(&e).unwrap_or_default(),
                None => Vec::new(),
            };
            batch.insert(
                &*k,
                search_text::encode(&turn.prompt, &turn.reply, &entries),
            );
            pending += 1;
            if pending == CATCH_UP_BATCH {
                self.search
                    .apply_batch(std::mem::take(&mut batch))
                    .map_err(|e| self.sled(e))?;
                pending = 0;
            }
        }
        batch.insert(search_text::COMPLETE, &[] as &[u8]);
        // The log lacks what was just added: the next read rebuilds it.
        batch.remove(search_log::STATE);
        self.search.apply_batch(batch).map_err(|e| self.sled(e))?;
        self.flush_now()
    }
}

//! Deep search's scan: the turn records and, beside them in id order, the compact search text
//! of each turn's tool calls (the `search` tree, see `store::search_text`), on every core. A
//! word the record holds is not looked for again; a word it lacks is looked for in the search
//! text. Both are searched in place (memchr for the needle's rarest byte, ASCII case ignored),
//! and only candidates are decoded. Turns stored before the `search` tree existed have no
//! record there: their entries are read instead, and the record is made for them once.

use super::{id_of, key, CaselessFinder, Engine, Res};
use crate::model::Turn;
use crate::store::search_text;
use serde_json::Value;

/// One turn the scan found, and whether its search record had to be made from its entries.
type Found = (Turn, Vec<String>, Option<Vec<u8>>);

impl Engine {
    /// Turns holding every word in their record or the search text of their tool calls, each
    /// with those texts, in id order. No words: every turn.
    pub(super) fn deep_search_candidates(&self, words: &[String]) -> Res<Vec<(Turn, Vec<String>)>> {
        let finders: Vec<CaselessFinder> = words
            .iter()
            .map(|w| CaselessFinder::new(w.to_ascii_lowercase().as_bytes()))
            .collect();
        let found = self.scan_in_parallel(|range| self.deep_candidates_in(range, &finders))?;
        let made: Vec<(u64, Vec<u8>)> = found
            .iter()
            .filter_map(|(turn, _, made)| made.clone().map(|m| (turn.id, m)))
            .collect();
        self.keep_made_records(made);
        Ok(found.into_iter().map(|(t, texts, _)| (t, texts)).collect())
    }

    /// Stores the search records made for older turns, so the next search reads them. Derived
    /// data: written without a flush, and only where no record appeared meanwhile.
    fn keep_made_records(&self, made: Vec<(u64, Vec<u8>)>) {
        if made.is_empty() {
            return;
        }
        let _guard = self.lock_writes();
        for (id, record) in made {
            // A turn deleted meanwhile gets no record.
            if self.turns.contains_key(key(id)).unwrap_or(false) {
                let _ = self
                    .search
                    .compare_and_swap(key(id), None as Option<&[u8]>, Some(record));
            }
        }
    }

    /// The turns in `range` holding every needle in their record or their search text.
    fn deep_candidates_in(
        &self,
        range: std::ops::Range<[u8; 8]>,
        finders: &[CaselessFinder],
    ) -> Res<Vec<Found>> {
        let mut out = Vec::new();
        let mut search_iter = self.search.range(range.clone()).peekable();
        for item in self.turns.range(range) {
            let (k, bytes) = item.map_err(|e| self.sled(e))?;
            // This turn's search record, if any: skip those of ids without a turn.
            let mut record = None;
            while let Some(next) = search_iter.peek() {
                let next_key = match next {
                    Ok((sk, _)) => sk.clone(),
                    Err(_) => {
                        let err = search_iter.next().and_then(Result::err);
                        return Err(self.sled(err.expect("an error was peeked")));
                    }
                };
                match next_key.as_ref().cmp(k.as_ref()) {
                    std::cmp::Ordering::Less => {
                        search_iter.next();
                    }
                    std::cmp::Ordering::Equal => {
                        record = search_iter.next().and_then(Result::ok).map(|(_, v)| v);
                        break;
                    }
                    std::cmp::Ordering::Greater => break,
                }
            }
            let made = match record {
                Some(_) => None,
                None => self.made_record(&k)?,
            };
            let texts = record
                .as_deref()
                .or(made.as_ref().map(|(r, _)| r.as_slice()));
            let all_there = finders
                .iter()
                .all(|f| f.is_in(&bytes) || texts.is_some_and(|t| f.is_in(t)));
            if !all_there {
                continue;
            }
            let turn = self.decode_turn(&bytes)?;
            let texts = texts.map(search_text::decode).unwrap_or_default();
            out.push((turn, texts, made.filter(|(_, keep)| *keep).map(|(r, _)| r)));
        }
        Ok(out)
    }

    /// The search record of a turn stored without one, made from its entries, and whether to
    /// keep it (only for a finished turn: an open one's entries are still to come).
    fn made_record(&self, k: &[u8]) -> Res<Option<(Vec<u8>, bool)>> {
        let Some(id) = id_of(k) else { return Ok(None) };
        let Some(bytes) = self.entries.get(k).map_err(|e| self.sled(e))? else {
            return Ok(None);
        };
        let entries: Vec<Value> = serde_json::from_slice(&bytes)
            .map_err(|err| self.damaged(format!("the transcript of turn #{id}"), err))?;
        let finished = self.open.get(k).map_err(|e| self.sled(e))?.is_none();
        Ok(Some((search_text::encode(&entries), finished)))
    }
}

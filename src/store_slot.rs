//! A store that is still opening: the session starts claude at once and opens the turn log
//! on the recorder thread (sled takes ~0.5 s to open a large log); whoever needs it waits.

use crate::store::Store;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

type Slot = Option<Result<Arc<Store>, String>>;

/// Shared by the opener and its users; cheap to clone.
#[derive(Clone, Default)]
pub struct StoreSlot {
    inner: Arc<(Mutex<Slot>, Condvar)>,
}

impl StoreSlot {
    /// Records the result of opening (once).
    pub fn fill(&self, result: Result<Arc<Store>, String>) {
        let (lock, ready) = &*self.inner;
        let mut slot = lock.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(result);
            ready.notify_all();
        }
    }

    /// The store, waiting at most `timeout` for it to open.
    pub fn get(&self, timeout: Duration) -> Result<Arc<Store>, String> {
        let (lock, ready) = &*self.inner;
        let slot = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (slot, _) = ready
            .wait_timeout_while(slot, timeout, |s| s.is_none())
            .unwrap_or_else(|e| e.into_inner());
        slot.clone()
            .unwrap_or_else(|| Err("the turn log is still opening; try again in a moment".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_opener() {
        let slot = StoreSlot::default();
        assert!(slot
            .get(Duration::from_millis(10))
            .err()
            .unwrap()
            .contains("still opening"));
        let filler = slot.clone();
        let t = std::thread::spawn(move || filler.fill(Err("locked".into())));
        assert_eq!(slot.get(Duration::from_secs(5)).err().unwrap(), "locked");
        t.join().unwrap();
    }
}

//! ccx's own diagnostic log: lines it cannot print because Claude owns the screen
//! (dropped hook messages, recorder errors). Appended to `<data dir>/ccx.log`, owner-only.
//! A line that cannot be written (a full disk) is kept, a bounded number of them, and written
//! before the next line that can.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;

/// At most this many unwritten lines are kept (the oldest are dropped beyond it).
const MAX_UNWRITTEN: usize = 100;

static UNWRITTEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Appends one timestamped line; never fails the caller.
pub fn log(line: &str) {
    let stamped = format!(
        "{} [{}] {line}\n",
        crate::model::now_rfc3339(),
        std::process::id()
    );
    let mut unwritten = UNWRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    unwritten.push(stamped);
    if unwritten.len() > MAX_UNWRITTEN {
        let extra = unwritten.len() - MAX_UNWRITTEN;
        unwritten.drain(..extra);
    }
    let text: String = unwritten.concat();
    if append(&text) {
        unwritten.clear();
    }
}

/// Writes `text` to the end of ccx.log in one write; false when it could not be written whole.
fn append(text: &str) -> bool {
    let Ok(dir) = crate::paths::data_dir() else {
        return false;
    };
    if crate::paths::ensure_private_dir(&dir).is_err() {
        return false;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(dir.join("ccx.log"));
    match file {
        Ok(mut file) => file.write_all(text.as_bytes()).is_ok(),
        Err(_) => false,
    }
}

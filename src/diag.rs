//! ccx's own diagnostic log: lines it cannot print because Claude owns the screen
//! (dropped hook messages, recorder errors). Appended to `<data dir>/ccx.log`, owner-only.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

/// Appends one timestamped line; never fails the caller.
pub fn log(line: &str) {
    let Ok(dir) = crate::paths::data_dir() else {
        return;
    };
    if crate::paths::ensure_private_dir(&dir).is_err() {
        return;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(dir.join("ccx.log"));
    if let Ok(mut file) = file {
        let _ = writeln!(
            file,
            "{} [{}] {line}",
            crate::model::now_rfc3339(),
            std::process::id()
        );
    }
}

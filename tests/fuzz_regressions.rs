//! Replays the fuzz inputs through the same checks the fuzz targets run (`fuzz/src/lib.rs`),
//! with plain `cargo test`: every file under `fuzz/regressions/<target>/` (inputs that once
//! crashed, kept forever), `fuzz/seeds/<target>/` (hand-made starting points) and
//! `fuzz/corpus/<target>/` (what cargo-fuzz has gathered locally; not committed).
//! `scripts/fuzz.sh` falls back to this when cargo-fuzz cannot run.

#[path = "../fuzz/src/lib.rs"]
mod ccx_fuzz;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for kind in ["regressions", "seeds", "corpus"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn replay(target: &str) {
    let check = ccx_fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, f)| *f)
        .expect("known target");
    let files = inputs(target);
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {msg}", file.display()));
        }
    }
    println!("{target}: {} inputs replayed", files.len());
    assert!(failures.is_empty(), "{target}: {failures:#?}");
}

#[test]
fn hook_payload_inputs() {
    replay("hook_payload");
}

#[test]
fn transcript_inputs() {
    replay("transcript");
}

#[test]
fn key_filter_inputs() {
    replay("key_filter");
}

#[test]
fn meta_parser_inputs() {
    replay("meta_parser");
}

/// The key filter invariant on a few fixed inputs, so the check itself is known to bite.
#[test]
fn key_filter_check_accepts_triggers_and_plain_text() {
    // key byte 0 (ctrl-]), seed 7, then text, the ccx key in all its forms, and a paste.
    let mut data = vec![0u8, 7];
    data.extend_from_slice(b"hello\x1dworld\x1b[93;5u:x\x1b[27;5;93~\x1b[200~a\x1db\x1b[201~\r:");
    ccx_fuzz::check_key_filter(&data);
    for seed in 0..=255u8 {
        data[1] = seed;
        ccx_fuzz::check_key_filter(&data);
    }
}

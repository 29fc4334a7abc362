//! Fuzzes the meta-command parser: on any UTF-8 line it must not panic, and an error must be
//! one non-empty line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        if let Err(e) = ccx::meta::parse::parse_meta(line) {
            let message = e.to_string();
            assert!(!message.is_empty(), "empty error for {line:?}");
            assert!(
                !message.contains('\n'),
                "multi-line error for {line:?}: {message:?}"
            );
        }
    }
});

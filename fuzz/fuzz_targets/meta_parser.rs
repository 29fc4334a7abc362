//! Fuzzes the meta-command parser: on any UTF-8 line it must not panic, and an error must be
//! one non-empty line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ccx_fuzz::check_meta_parser(data);
});

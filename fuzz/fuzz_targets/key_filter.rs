//! Fuzzes the input key filter over arbitrarily chunked bytes, asserting that every byte is
//! forwarded in order except the ones consumed as editor triggers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ccx_fuzz::check_key_filter(data);
});

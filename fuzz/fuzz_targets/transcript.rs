//! Fuzzes transcript parsing: `parse_lines`, `split_turns` and `turn_since` on arbitrary text
//! must not panic, and the turns split out must hold the parsed lines in order.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ccx_fuzz::check_transcript(data);
});

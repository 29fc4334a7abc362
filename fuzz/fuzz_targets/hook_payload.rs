//! Fuzzes the hook wire format: a payload from Claude Code and a message line from a hook
//! process. On any bytes neither may panic; what parses must be consistent (a payload's event
//! carries its session id, a message survives a round trip through `to_line`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ccx_fuzz::check_hook_payload(data);
});

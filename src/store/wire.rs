//! What both ends of the store's socket agree on: one JSON request or answer per line, each
//! line bounded.

use std::io::{BufRead, Read};

/// The longest request line the owner accepts.
pub const MAX_REQUEST_BYTES: usize = 64 << 20;

/// Reads one line of at most `limit` bytes (without the newline). `Ok(None)` at a clean end
/// of stream; an error for an oversized or truncated line.
pub fn read_line_bounded(
    reader: &mut impl BufRead,
    limit: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(limit as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        let what = if buf.len() > limit {
            "line too long"
        } else {
            "connection closed mid-line"
        };
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, what));
    }
    buf.pop();
    Ok(Some(buf))
}

//! The search log: every turn's search text (see [`super::search_text`]) also kept in a plain
//! file beside the database, `<store>/search.log`, so a deep search reads one file and scans
//! its bytes instead of walking sled's `search` tree node by node (which cost 5–10× the
//! scan itself: page reads, node decoding, allocation).
//!
//! The file is derived data; the `search` tree stays the truth. Its state — which file (a random
//! id in the file's header) and how many bytes of it are valid — is kept in the `search` tree
//! under [`STATE`], written in the same sled transaction as the texts it covers. A writer puts
//! its records at the valid length (`pwrite`), then commits the tree: bytes past the length
//! (a crash, a failed commit, writes sled lost) are ignored and overwritten. A reader takes the
//! state, reads that many bytes, and checks the header and every record's checksum; anything
//! amiss (a missing or shorter file, another file id, a bad record) means: rebuild the file
//! from the tree. Layout: the header ([`MAGIC`], file id), then records of `id` (u64 BE),
//! length (u32 LE), CRC-32 of id and text (u32 LE), text. A turn written again (begin, then
//! finish) appends a new record; the last one counts.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// The file's name inside the store directory.
pub const FILE: &str = "search.log";
/// The key in the `search` tree holding the log's [`State`] (shorter than any turn key).
pub const STATE: &[u8] = &[1];

const MAGIC: &[u8; 8] = b"ccxslog1";
const HEADER_LEN: usize = MAGIC.len() + 16;
const RECORD_HEAD: usize = 8 + 4 + 4;

/// Which log file holds the search texts, and how many of its bytes are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub file_id: [u8; 16],
    pub len: u64,
}

impl State {
    pub fn encode(&self) -> [u8; 24] {
        let mut out = [0; 24];
        out[..16].copy_from_slice(&self.file_id);
        out[16..].copy_from_slice(&self.len.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<State> {
        let bytes: &[u8; 24] = bytes.try_into().ok()?;
        Some(State {
            file_id: bytes[..16].try_into().ok()?,
            len: u64::from_be_bytes(bytes[16..].try_into().ok()?),
        })
    }
}

/// Appends one record (`id`, `text`) to `out`. A text over 4 GiB cannot be kept (search texts
/// are capped far below that): none is written and false comes back.
pub fn push_record(out: &mut Vec<u8>, id: u64, text: &[u8]) -> bool {
    let Ok(len) = u32::try_from(text.len()) else {
        return false;
    };
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(id, text).to_le_bytes());
    out.extend_from_slice(text);
    true
}

fn checksum(id: u64, text: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&id.to_be_bytes());
    hasher.update(text);
    hasher.finalize()
}

fn open_private(path: &Path, create: bool) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

/// Writes `records` (made with [`push_record`]) at the valid end of the log `state` describes;
/// the state to commit with them comes back.
pub fn append(path: &Path, state: &State, records: &[u8]) -> std::io::Result<State> {
    let file = open_private(path, false)?;
    let mut header = [0; HEADER_LEN];
    file.read_exact_at(&mut header, 0)?;
    if header[..MAGIC.len()] != MAGIC[..] || header[MAGIC.len()..] != state.file_id {
        return Err(std::io::Error::other("another search log"));
    }
    file.write_all_at(records, state.len)?;
    Ok(State {
        file_id: state.file_id,
        len: state.len + records.len() as u64,
    })
}

/// Writes a new log holding `records` (beside it, then renamed over the old one, so a reader
/// of the old file is not disturbed) and returns its state.
pub fn create(
    path: &Path,
    records: impl Iterator<Item = (u64, Vec<u8>)>,
) -> std::io::Result<State> {
    let file_id = *uuid::Uuid::new_v4().as_bytes();
    let temp = path.with_extension("log.new");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, open_private(&temp, true)?);
    out.get_ref().set_len(0)?;
    out.write_all(MAGIC)?;
    out.write_all(&file_id)?;
    let mut len = HEADER_LEN as u64;
    let mut record = Vec::new();
    for (id, text) in records {
        record.clear();
        if push_record(&mut record, id, &text) {
            out.write_all(&record)?;
            len += record.len() as u64;
        }
    }
    out.into_inner().map_err(|e| e.into_error())?;
    std::fs::rename(&temp, path)?;
    Ok(State { file_id, len })
}

/// The valid bytes of the log `state` describes; None when the file is not that log, or is
/// shorter than the state says.
pub fn read(path: &Path, state: &State) -> std::io::Result<Option<Vec<u8>>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let Ok(len) = usize::try_from(state.len) else {
        return Ok(None);
    };
    if file.metadata()?.len() < state.len || len < HEADER_LEN {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(len);
    file.take(state.len).read_to_end(&mut bytes)?;
    let ok = bytes.len() == len
        && bytes[..MAGIC.len()] == MAGIC[..]
        && bytes[MAGIC.len()..HEADER_LEN] == state.file_id;
    Ok(ok.then_some(bytes))
}

/// The latest text of each turn in `log` (the bytes [`read`] gave), as `(id, text)`, in no
/// particular order, passed to `keep`; None when a record is damaged.
pub fn latest_where(log: &[u8], keep: impl Fn(&[u8]) -> bool) -> Option<Vec<(u64, &[u8])>> {
    let mut spans = Vec::new();
    let mut at = HEADER_LEN;
    while at < log.len() {
        let head = log.get(at..at + RECORD_HEAD)?;
        let id = u64::from_be_bytes(head[..8].try_into().ok()?);
        let len = u32::from_le_bytes(head[8..12].try_into().ok()?) as usize;
        let sum = u32::from_le_bytes(head[12..16].try_into().ok()?);
        let start = at + RECORD_HEAD;
        let text = log.get(start..start.checked_add(len)?)?;
        if checksum(id, text) != sum {
            return None;
        }
        spans.push((id, text));
        at = start + len;
    }
    // Newest first: the first record met for an id is its latest.
    let mut seen = HashSet::with_capacity(spans.len());
    let mut out = Vec::new();
    for &(id, text) in spans.iter().rev() {
        if seen.insert(id) && keep(text) {
            out.push((id, text));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(pairs: &[(u64, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (id, text) in pairs {
            assert!(push_record(&mut out, *id, text.as_bytes()));
        }
        out
    }

    fn texts(log: &[u8]) -> Vec<(u64, String)> {
        let mut all: Vec<(u64, String)> = latest_where(log, |_| true)
            .expect("a sound log")
            .into_iter()
            .map(|(id, t)| (id, String::from_utf8(t.to_vec()).unwrap()))
            .collect();
        all.sort();
        all
    }

    #[test]
    fn a_log_keeps_the_latest_text_of_each_turn_and_ignores_bytes_past_its_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let state = create(
            &path,
            [(1, b"one".to_vec()), (2, b"two".to_vec())].into_iter(),
        )
        .unwrap();
        let state = append(
            &path,
            &state,
            &records(&[(1, "one, finished"), (3, "three")]),
        )
        .unwrap();
        // Bytes written past the state (a commit that never happened) are not read.
        append(&path, &state, &records(&[(4, "lost")])).unwrap();
        let log = read(&path, &state).unwrap().unwrap();
        assert_eq!(
            texts(&log),
            vec![
                (1, "one, finished".to_string()),
                (2, "two".to_string()),
                (3, "three".to_string())
            ]
        );
        // ...and the next write goes over them.
        let state = append(&path, &state, &records(&[(5, "five")])).unwrap();
        let log = read(&path, &state).unwrap().unwrap();
        assert_eq!(texts(&log).last().unwrap(), &(5, "five".to_string()));
        assert_eq!(
            latest_where(&log, |t| t.starts_with(b"t")).unwrap().len(),
            2
        );
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
    }

    #[test]
    fn another_shorter_or_damaged_log_is_not_read_as_sound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let state = create(&path, [(1, b"one".to_vec())].into_iter()).unwrap();
        // Another file (rebuilt since): its id differs.
        let other = State {
            file_id: [7; 16],
            ..state
        };
        assert!(read(&path, &other).unwrap().is_none());
        assert!(append(&path, &other, b"x").is_err());
        // Shorter than the state says.
        let longer = State {
            len: state.len + 1,
            ..state
        };
        assert!(read(&path, &longer).unwrap().is_none());
        // A flipped byte inside a record.
        let mut log = read(&path, &state).unwrap().unwrap();
        *log.last_mut().unwrap() ^= 1;
        assert!(latest_where(&log, |_| true).is_none());
        // A record cut short.
        let log = read(&path, &state).unwrap().unwrap();
        assert!(latest_where(&log[..log.len() - 1], |_| true).is_none());
        // No file at all.
        std::fs::remove_file(&path).unwrap();
        assert!(read(&path, &state).unwrap().is_none());
        assert_eq!(State::decode(&state.encode()), Some(state));
        assert_eq!(State::decode(b"short"), None);
    }
}

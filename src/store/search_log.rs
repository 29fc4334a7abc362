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

use std::collections::HashMap;
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

/// How much of the log one read brings in (reused: reading the whole file into one buffer
/// cost more in fresh pages than the scan itself).
const CHUNK: usize = 1 << 20;

/// Calls `each(id, text)` for every record of the log `state` describes, in file order, reading
/// it a chunk at a time. `Ok(false)` when the file is not that log, is shorter than the state
/// says, or holds a damaged record.
pub fn for_each_record(
    path: &Path,
    state: &State,
    mut each: impl FnMut(u64, &[u8]),
) -> std::io::Result<bool> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if file.metadata()?.len() < state.len || state.len < HEADER_LEN as u64 {
        return Ok(false);
    }
    let mut input = file.take(state.len);
    let mut header = [0; HEADER_LEN];
    input.read_exact(&mut header)?;
    if header[..MAGIC.len()] != MAGIC[..] || header[MAGIC.len()..] != state.file_id {
        return Ok(false);
    }
    let mut buf = vec![0; CHUNK];
    // `buf[..filled]` holds bytes read and not yet taken as records.
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = input.read(&mut buf[filled..])?;
        if n == 0 {
            return Ok(filled == 0);
        }
        filled += n;
        let Some(used) = take_records(&buf[..filled], &mut each) else {
            return Ok(false);
        };
        buf.copy_within(used..filled, 0);
        filled -= used;
    }
}

/// Passes each whole record at the start of `bytes` to `each`; how many bytes they took, or
/// None at a damaged record.
fn take_records(bytes: &[u8], each: &mut impl FnMut(u64, &[u8])) -> Option<usize> {
    let mut at = 0;
    while let Some(head) = bytes.get(at..at + RECORD_HEAD) {
        let id = u64::from_be_bytes(head[..8].try_into().ok()?);
        let len = u32::from_le_bytes(head[8..12].try_into().ok()?) as usize;
        let sum = u32::from_le_bytes(head[12..16].try_into().ok()?);
        let start = at + RECORD_HEAD;
        let Some(text) = bytes.get(start..start + len) else {
            break;
        };
        if checksum(id, text) != sum {
            return None;
        }
        each(id, text);
        at = start + len;
    }
    Some(at)
}

/// A turn's id and its search text.
pub type Text = (u64, Vec<u8>);

/// The latest text of each turn in the log `state` describes, where `keep` says yes, as
/// `(id, text)` in id order; None when the log is not sound (see [`for_each_record`]).
pub fn latest_where(
    path: &Path,
    state: &State,
    keep: impl Fn(&[u8]) -> bool,
) -> std::io::Result<Option<Vec<Text>>> {
    // id → the index of its latest text in `kept`, or NOT_KEPT.
    const NOT_KEPT: usize = usize::MAX;
    let mut latest: HashMap<u64, usize> = HashMap::with_capacity((state.len / 256) as usize);
    let mut kept = Vec::new();
    let sound = for_each_record(path, state, |id, text| {
        let at = if keep(text) {
            kept.push(Some((id, text.to_vec())));
            kept.len() - 1
        } else {
            NOT_KEPT
        };
        if let Some(before) = latest.insert(id, at) {
            if before != NOT_KEPT {
                kept[before] = None;
            }
        }
    })?;
    if !sound {
        return Ok(None);
    }
    let mut out: Vec<Text> = kept.into_iter().flatten().collect();
    out.sort_unstable_by_key(|(id, _)| *id);
    Ok(Some(out))
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

    fn texts(path: &Path, state: &State) -> Vec<(u64, String)> {
        latest_where(path, state, |_| true)
            .unwrap()
            .expect("a sound log")
            .into_iter()
            .map(|(id, t)| (id, String::from_utf8(t).unwrap()))
            .collect()
    }

    fn sound(path: &Path, state: &State) -> bool {
        for_each_record(path, state, |_, _| {}).unwrap()
    }

    #[test]
    fn a_log_keeps_the_latest_text_of_each_turn_and_ignores_bytes_past_its_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let first = [(1, b"one".to_vec()), (2, b"two".to_vec())];
        let state = create(&path, first.into_iter()).unwrap();
        let later = records(&[(1, "one, finished"), (3, "three")]);
        let state = append(&path, &state, &later).unwrap();
        // Bytes written past the state (a commit that never happened) are not read.
        append(&path, &state, &records(&[(4, "lost")])).unwrap();
        let expected = [(1, "one, finished"), (2, "two"), (3, "three")];
        let expected: Vec<(u64, String)> =
            expected.iter().map(|(i, t)| (*i, t.to_string())).collect();
        assert_eq!(texts(&path, &state), expected);
        // ...and the next write goes over them.
        let state = append(&path, &state, &records(&[(5, "five")])).unwrap();
        assert_eq!(texts(&path, &state).last().unwrap(), &(5, "five".into()));
        let found = latest_where(&path, &state, |t| t.starts_with(b"t")).unwrap();
        assert_eq!(found.unwrap().len(), 2, "two and three");
        let mode = std::fs::metadata(&path).unwrap().permissions();
        let mode = std::os::unix::fs::PermissionsExt::mode(&mode);
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn records_across_chunks_and_larger_than_a_chunk_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let big = "x".repeat(CHUNK + CHUNK / 2);
        let texts_in = (1..=30_000u64).map(|i| {
            let text = if i == 15_000 {
                big.clone()
            } else {
                format!("turn {i}")
            };
            (i, text.into_bytes())
        });
        let state = create(&path, texts_in).unwrap();
        assert!(state.len > 2 * CHUNK as u64);
        let all = texts(&path, &state);
        assert_eq!(all.len(), 30_000);
        assert_eq!(all[14_999].1.len(), big.len());
        assert_eq!(all[29_999], (30_000, "turn 30000".to_string()));
    }

    #[test]
    fn another_shorter_or_damaged_log_is_not_read_as_sound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let state = create(&path, [(1, b"one".to_vec())].into_iter()).unwrap();
        assert!(sound(&path, &state));
        // Another file (rebuilt since): its id differs.
        let other = State {
            file_id: [7; 16],
            ..state
        };
        assert!(!sound(&path, &other));
        assert!(append(&path, &other, b"x").is_err());
        // Shorter than the state says.
        let longer = State {
            len: state.len + 1,
            ..state
        };
        assert!(!sound(&path, &longer));
        // A record cut short (the state says less than the file holds).
        let shorter = State {
            len: state.len - 1,
            ..state
        };
        assert!(!sound(&path, &shorter));
        // A flipped byte inside a record.
        let mut bytes = std::fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(!sound(&path, &state));
        assert!(latest_where(&path, &state, |_| true).unwrap().is_none());
        // No file at all.
        std::fs::remove_file(&path).unwrap();
        assert!(!sound(&path, &state));
        assert_eq!(State::decode(&state.encode()), Some(state));
        assert_eq!(State::decode(b"short"), None);
    }
}

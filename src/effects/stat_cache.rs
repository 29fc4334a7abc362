//! The snapshot's stat cache: for every file of the last snapshot, what `lstat` said of it
//! (size, modification and change times in nanoseconds, inode, device, git mode) and its blob
//! id; for every folder, its tree id; and the root tree. A file whose stat still matches is not
//! read again, as git's index does it. A file changed so soon before the scan that a later
//! change could leave the same times behind ("racily clean", in git's words) is not trusted:
//! the next scan hashes it again. Kept in one binary file beside the side repository, written
//! whole to a temporary file and renamed; a cache that cannot be read is an empty one (every
//! file is hashed again), never an error.

use gix_hash::ObjectId;
use rustc_hash::FxHashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What `lstat` says of a file, as far as deciding whether it changed goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// The git mode: 0o100644, 0o100755 or 0o120000.
    pub mode: u32,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
    pub dev: u64,
}

/// A file's stat after its scan, and its blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedFile {
    pub stat: FileStat,
    pub oid: ObjectId,
    /// False when the file changed so close to the scan that the same stat could hide a
    /// later change: it is hashed again next time.
    pub trusted: bool,
}

/// A map keyed by paths relative to the work tree.
pub type PathMap<V> = FxHashMap<Vec<u8>, V>;

/// The cache: files and folders by their path relative to the work tree (bytes, `/`-separated;
/// the root folder is the empty path).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StatCache {
    pub files: PathMap<CachedFile>,
    pub trees: PathMap<ObjectId>,
    pub root: Option<ObjectId>,
}

/// How far before the scan a change must lie for its stat to be trusted, on a file system
/// that keeps nanoseconds (Linux stamps files from a clock that ticks every 1–10 ms).
const FINE_MARGIN_NS: i64 = 100_000_000;

/// The same, on a file system that keeps whole seconds (or two, as FAT does).
const COARSE_MARGIN_NS: i64 = 2_000_000_000;

impl FileStat {
    /// The stat of a regular file or a symbolic link; `None` for anything else.
    pub fn of(meta: &Metadata) -> Option<FileStat> {
        let kind = meta.file_type();
        let mode = if kind.is_symlink() {
            0o120000
        } else if kind.is_file() {
            if meta.mode() & 0o100 != 0 {
                0o100755
            } else {
                0o100644
            }
        } else {
            return None;
        };
        Some(FileStat {
            mode,
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            ino: meta.ino(),
            dev: meta.dev(),
        })
    }

    /// True when nothing can change the file again without changing this stat: its last
    /// change lies safely before `scan_started_ns` (the wall clock when the scan began).
    pub fn settled_before(&self, scan_started_ns: i64) -> bool {
        let whole_seconds = self.mtime_ns % 1_000_000_000 == 0;
        let margin = if whole_seconds {
            COARSE_MARGIN_NS
        } else {
            FINE_MARGIN_NS
        };
        self.mtime_ns.max(self.ctime_ns).saturating_add(margin) < scan_started_ns
    }
}

const MAGIC: &[u8] = b"ccx-stat-cache 1\n";
const OID_LEN: usize = 20;

impl StatCache {
    /// The cache in `path`; empty when there is none or it cannot be read.
    pub fn load(path: &Path) -> StatCache {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| StatCache::decode(&bytes))
            .unwrap_or_default()
    }

    /// Writes the cache to `path` (through a temporary file beside it, renamed).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut file = tempfile::Builder::new()
            .prefix(".stat-cache-")
            .tempfile_in(dir)?;
        std::io::Write::write_all(&mut file, &self.encode())?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.files.len() * 96);
        out.extend_from_slice(MAGIC);
        match &self.root {
            Some(root) => out.extend_from_slice(root.as_slice()),
            None => out.extend_from_slice(&[0; OID_LEN]),
        }
        out.extend_from_slice(&(self.files.len() as u32).to_le_bytes());
        for (path, file) in &self.files {
            put_path(&mut out, path);
            let s = &file.stat;
            out.extend_from_slice(&s.mode.to_le_bytes());
            for word in [s.size, s.mtime_ns as u64, s.ctime_ns as u64, s.ino, s.dev] {
                out.extend_from_slice(&word.to_le_bytes());
            }
            out.push(u8::from(file.trusted));
            out.extend_from_slice(file.oid.as_slice());
        }
        out.extend_from_slice(&(self.trees.len() as u32).to_le_bytes());
        for (path, oid) in &self.trees {
            put_path(&mut out, path);
            out.extend_from_slice(oid.as_slice());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<StatCache> {
        let mut r = Reader(bytes.strip_prefix(MAGIC)?);
        let root = r.oid()?;
        let mut cache = StatCache {
            root: (!root.is_null()).then_some(root),
            ..StatCache::default()
        };
        let files = r.u32()?;
        cache.files.reserve(files.min(1 << 24) as usize);
        for _ in 0..files {
            let path = r.path()?;
            let mode = r.u32()?;
            let [size, mtime, ctime, ino, dev] = [r.u64()?, r.u64()?, r.u64()?, r.u64()?, r.u64()?];
            let trusted = r.take(1)?[0] == 1;
            let oid = r.oid()?;
            let stat = FileStat {
                mode,
                size,
                mtime_ns: mtime as i64,
                ctime_ns: ctime as i64,
                ino,
                dev,
            };
            cache.files.insert(path, CachedFile { stat, oid, trusted });
        }
        let trees = r.u32()?;
        for _ in 0..trees {
            let path = r.path()?;
            cache.trees.insert(path, r.oid()?);
        }
        r.0.is_empty().then_some(cache)
    }
}

fn put_path(out: &mut Vec<u8>, path: &[u8]) {
    out.extend_from_slice(&(path.len() as u32).to_le_bytes());
    out.extend_from_slice(path);
}

/// Reads the cache's fields front to back; `None` when the bytes run out.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn path(&mut self) -> Option<Vec<u8>> {
        let len = self.u32()? as usize;
        Some(self.take(len)?.to_vec())
    }

    fn oid(&mut self) -> Option<ObjectId> {
        Some(ObjectId::from_bytes_or_panic(self.take(OID_LEN)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(mtime_ns: i64) -> FileStat {
        FileStat {
            mode: 0o100644,
            size: 4,
            mtime_ns,
            ctime_ns: mtime_ns,
            ino: 7,
            dev: 1,
        }
    }

    #[test]
    fn a_cache_reads_back_as_written_and_a_damaged_one_is_empty() {
        let mut cache = StatCache::default();
        let oid = ObjectId::empty_blob(gix_hash::Kind::Sha1);
        cache.files.insert(
            b"a/b.txt".to_vec(),
            CachedFile {
                stat: stat(1_700_000_000_123_456_789),
                oid,
                trusted: true,
            },
        );
        cache.trees.insert(b"a".to_vec(), oid);
        cache.root = Some(ObjectId::empty_tree(gix_hash::Kind::Sha1));
        let bytes = cache.encode();
        assert_eq!(StatCache::decode(&bytes), Some(cache));
        assert_eq!(StatCache::decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(StatCache::decode(b"something else"), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            StatCache::load(&dir.path().join("none")),
            StatCache::default()
        );
    }

    #[test]
    fn a_change_close_to_the_scan_is_not_trusted() {
        let scan = 1_700_000_010_000_000_000;
        assert!(stat(scan - 5_000_000_000 + 1).settled_before(scan));
        assert!(
            !stat(scan - 10_000_000).settled_before(scan),
            "10 ms before"
        );
        assert!(!stat(scan + 1).settled_before(scan), "after the scan began");
        // Whole seconds: the file system may keep no more, so a wider margin.
        assert!(!stat(scan - 1_000_000_000).settled_before(scan));
        assert!(stat(scan - 3_000_000_000).settled_before(scan));
    }
}

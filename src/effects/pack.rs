//! Writes a batch of git objects as one pack (`pack-<id>.pack` and its `.idx`, version 2, no
//! deltas) into an object store: a snapshot's new blobs, trees and commit cost two new files
//! instead of one each, which matters where creating a file is the dearest step. The ids and the
//! object encoding are `gix-object`'s, the zlib stream `flate2`'s, the checksums SHA-1 (the
//! formats are git's `Documentation/gitformat-pack.txt`). The pack is written first, then its
//! index (each through a temporary file renamed into place), so git never sees an index
//! without its pack; the background packing folds these packs into one.

use anyhow::{Context, Result};
use flate2::{write::ZlibEncoder, Compression};
use gix_hash::ObjectId;
use gix_object::Kind;
use std::io::Write;
use std::path::Path;

/// One object of the pack being built.
struct Packed {
    oid: ObjectId,
    offset: u64,
    crc32: u32,
}

/// Objects collected for one pack.
#[derive(Default)]
pub struct PackBuilder {
    body: Vec<u8>,
    objects: Vec<Packed>,
    /// The ids in `objects`, so that adding one more is not a scan of them all.
    seen: rustc_hash::FxHashSet<ObjectId>,
}

impl PackBuilder {
    /// Adds `data` as an object of `kind` whose id is `oid`; returns its compressed size.
    pub fn add(&mut self, kind: Kind, oid: ObjectId, data: &[u8]) -> Result<u64> {
        if !self.seen.insert(oid) {
            return Ok(0);
        }
        let mut entry = entry_header(kind, data.len() as u64);
        let mut zlib = ZlibEncoder::new(entry, Compression::fast());
        zlib.write_all(data)?;
        entry = zlib.finish()?;
        let offset = 12 + self.body.len() as u64;
        self.objects.push(Packed {
            oid,
            offset,
            crc32: crc32fast::hash(&entry),
        });
        self.body.extend_from_slice(&entry);
        Ok(entry.len() as u64)
    }

    /// Writes the pack and its index into `<objects>/pack`.
    pub fn write(mut self, objects: &Path) -> Result<()> {
        if self.objects.is_empty() {
            return Ok(());
        }
        let mut pack = Vec::with_capacity(self.body.len() + 32);
        pack.extend_from_slice(b"PACK");
        pack.extend_from_slice(&2u32.to_be_bytes());
        pack.extend_from_slice(&(self.objects.len() as u32).to_be_bytes());
        pack.append(&mut self.body);
        let checksum = sha1(&pack)?;
        pack.extend_from_slice(checksum.as_slice());
        self.objects.sort_by_key(|o| o.oid);
        let index = index_bytes(&self.objects, &checksum)?;
        let dir = objects.join("pack");
        std::fs::create_dir_all(&dir)?;
        let name = format!("pack-{checksum}");
        persist(&dir, &format!("{name}.pack"), &pack)?;
        persist(&dir, &format!("{name}.idx"), &index)
    }
}

/// A pack entry's header: the type and the size, in git's variable-length form.
fn entry_header(kind: Kind, size: u64) -> Vec<u8> {
    let code: u8 = match kind {
        Kind::Commit => 1,
        Kind::Tree => 2,
        Kind::Blob => 3,
        Kind::Tag => 4,
    };
    let mut out = Vec::with_capacity(64);
    let mut byte = (code << 4) | (size & 0x0f) as u8;
    let mut rest = size >> 4;
    while rest != 0 {
        out.push(byte | 0x80);
        byte = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(byte);
    out
}

/// The version 2 index of `objects` (sorted by id) in the pack whose checksum is `pack`.
fn index_bytes(objects: &[Packed], pack: &ObjectId) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1072 + objects.len() * 28 + 40);
    out.extend_from_slice(b"\xfftOc");
    out.extend_from_slice(&2u32.to_be_bytes());
    for first in 0..=255u8 {
        let count = objects
            .iter()
            .filter(|o| o.oid.as_slice()[0] <= first)
            .count();
        out.extend_from_slice(&(count as u32).to_be_bytes());
    }
    for object in objects {
        out.extend_from_slice(object.oid.as_slice());
    }
    for object in objects {
        out.extend_from_slice(&object.crc32.to_be_bytes());
    }
    for object in objects {
        let offset = u32::try_from(object.offset)
            .ok()
            .filter(|o| o & 0x8000_0000 == 0)
            .context("a snapshot's pack is too large for small offsets")?;
        out.extend_from_slice(&offset.to_be_bytes());
    }
    out.extend_from_slice(pack.as_slice());
    let checksum = sha1(&out)?;
    out.extend_from_slice(checksum.as_slice());
    Ok(out)
}

fn sha1(bytes: &[u8]) -> Result<ObjectId> {
    let mut hasher = gix_hash::hasher(gix_hash::Kind::Sha1);
    hasher.update(bytes);
    hasher
        .try_finalize()
        .map_err(|e| anyhow::anyhow!("cannot checksum a pack: {e}"))
}

/// Writes `bytes` to `dir/name` through a temporary file renamed into place.
fn persist(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix("tmp_pack_")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.persist(dir.join(name))
        .map_err(|e| e.error)
        .with_context(|| format!("cannot store {name}"))?;
    Ok(())
}

/// Turns every pack of the side repository whose object folder is `objects` into loose
/// objects (`git unpack-objects`), so that one object can be looked at, or removed to check
/// what a restore does when the journal misses it.
pub fn unpack_all(objects: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::{bail, Context};
    let git_dir = objects.parent().context("an objects folder has a parent")?;
    for entry in std::fs::read_dir(objects.join("pack"))?.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "pack") {
            continue;
        }
        let moved = git_dir.join("moved.pack");
        std::fs::rename(&path, &moved)?;
        std::fs::remove_file(path.with_extension("idx"))?;
        let _ = std::fs::remove_file(path.with_extension("rev"));
        let status = std::process::Command::new("git")
            .env("GIT_DIR", git_dir)
            .args(["unpack-objects", "-q"])
            .stdin(std::fs::File::open(&moved)?)
            .status()?;
        if !status.success() {
            bail!("git unpack-objects failed on {}", path.display());
        }
        std::fs::remove_file(moved)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::test_repos::BareRepo;

    #[test]
    fn git_reads_and_verifies_the_pack() {
        let repo = BareRepo::new();
        let mut pack = PackBuilder::default();
        let big: Vec<u8> = (0..70_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut ids = Vec::new();
        for data in [b"hello\n".as_slice(), b"", &big] {
            let oid = gix_object::compute_hash(gix_hash::Kind::Sha1, Kind::Blob, data).unwrap();
            assert!(pack.add(Kind::Blob, oid, data).unwrap() > 0);
            ids.push(oid);
        }
        assert_eq!(pack.add(Kind::Blob, ids[0], b"hello\n").unwrap(), 0, "once");
        pack.write(&repo.objects()).unwrap();
        assert_eq!(
            ids[0].to_string(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            repo.git(&["cat-file", "-p", &ids[0].to_string()]),
            b"hello\n"
        );
        assert_eq!(repo.git(&["cat-file", "-p", &ids[2].to_string()]), big);
        let idx = std::fs::read_dir(repo.objects().join("pack"))
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "idx"))
            .unwrap()
            .path();
        repo.git(&["verify-pack", idx.to_str().unwrap()]);
    }
}

//! Writes git objects (blobs, trees, commits) into the side repository's object store, in
//! process: the id and the encoding come from `gix-object`. A snapshot's objects are collected
//! and written at its end as one pack (`pack`); [`ObjectWriter::write_loose`] writes one as a
//! loose object instead (zlib from `flate2`, a temporary file in its fan-out folder,
//! `tmp_obj_*`, renamed into place, so a reader never sees half an object). An object already
//! stored loose, or known to be stored, is not written again.

use anyhow::{Context, Result};
use flate2::{write::ZlibEncoder, Compression};
use gix_hash::ObjectId;
use gix_object::Kind;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::pack::PackBuilder;

fn object_id(kind: Kind, data: &[u8]) -> Result<ObjectId> {
    gix_object::compute_hash(gix_hash::Kind::Sha1, kind, data)
        .map_err(|e| anyhow::anyhow!("cannot hash a {kind} object: {e}"))
}

/// The object store (`<git dir>/objects`) objects are written into.
pub struct ObjectWriter {
    objects: PathBuf,
    batch: PackBuilder,
    /// Bytes written so far (compressed), for the benchmark's and the tests' accounting.
    pub written: u64,
}

impl ObjectWriter {
    pub fn new(objects: &Path) -> ObjectWriter {
        ObjectWriter {
            objects: objects.to_path_buf(),
            batch: PackBuilder::default(),
            written: 0,
        }
    }

    /// Adds `data` as an object of `kind` to the pack [`ObjectWriter::finish`] writes, unless
    /// its id is `known` (stored already) or it is stored loose; its id.
    pub fn write(&mut self, kind: Kind, data: &[u8], known: Option<ObjectId>) -> Result<ObjectId> {
        let oid = object_id(kind, data)?;
        if known == Some(oid) || self.loose_path(&oid).exists() {
            return Ok(oid);
        }
        self.written += self.batch.add(kind, oid, data)?;
        Ok(oid)
    }

    /// Writes the pack of the objects added (nothing when none was).
    pub fn finish(self) -> Result<()> {
        self.batch.write(&self.objects)
    }

    fn loose_path(&self, oid: &ObjectId) -> PathBuf {
        let hex = oid.to_string();
        self.objects.join(&hex[..2]).join(&hex[2..])
    }

    /// Stores `data` as a loose object of `kind` at once; its id.
    pub fn write_loose(&mut self, kind: Kind, data: &[u8]) -> Result<ObjectId> {
        let oid = object_id(kind, data)?;
        let hex = oid.to_string();
        let fanout = self.objects.join(&hex[..2]);
        let path = fanout.join(&hex[2..]);
        if path.exists() {
            return Ok(oid);
        }
        // The fan-out folder is there most of the time (the packing removes emptied ones).
        if !fanout.is_dir() {
            match std::fs::create_dir(&fanout) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(e).with_context(|| format!("cannot create {}", fanout.display()))
                }
                _ => {}
            }
        }
        let mut tmp = tempfile::Builder::new()
            .prefix("tmp_obj_")
            .tempfile_in(&fanout)
            .with_context(|| format!("cannot write into {}", fanout.display()))?;
        let mut zlib =
            ZlibEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::fast());
        zlib.write_all(&gix_object::encode::loose_header(kind, data.len() as u64))?;
        zlib.write_all(data)?;
        let compressed = zlib.finish()?;
        tmp.write_all(&compressed)?;
        tmp.persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot store {}", path.display()))?;
        self.written += compressed.len() as u64;
        Ok(oid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::test_repos::BareRepo;

    #[test]
    fn objects_are_stored_where_git_finds_them() {
        let repo = BareRepo::new();
        let mut store = ObjectWriter::new(&repo.objects());
        let oid = store.write_loose(Kind::Blob, b"hello\n").unwrap();
        assert_eq!(oid.to_string(), "ce013625030ba8dba906f756967f9e9ca394464a");
        let written = store.written;
        assert!(written > 0);
        assert_eq!(store.write_loose(Kind::Blob, b"hello\n").unwrap(), oid);
        assert_eq!(store.write(Kind::Blob, b"hello\n", None).unwrap(), oid);
        assert_eq!(store.written, written, "stored once");
        assert_eq!(repo.git(&["cat-file", "-p", &oid.to_string()]), b"hello\n");
    }
}

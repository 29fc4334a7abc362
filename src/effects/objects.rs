//! Writes git objects (blobs, trees, commits) into the side repository's object store, in
//! process: the id and the encoding come from `gix-object`. A snapshot's objects are collected
//! and written at its end as one pack (`pack`). An object known to be stored, or stored loose
//! (as an older ccx wrote them), is not written again.

use anyhow::Result;
use gix_hash::ObjectId;
use gix_object::Kind;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::test_repos::BareRepo;

    #[test]
    fn objects_are_stored_where_git_finds_them() {
        let repo = BareRepo::new();
        let mut store = ObjectWriter::new(&repo.objects());
        let oid = store.write(Kind::Blob, b"hello\n", None).unwrap();
        assert_eq!(oid.to_string(), "ce013625030ba8dba906f756967f9e9ca394464a");
        assert!(store.written > 0);
        store.finish().unwrap();
        assert_eq!(repo.git(&["cat-file", "-p", &oid.to_string()]), b"hello\n");
    }

    #[test]
    fn an_object_known_or_stored_loose_is_not_written_again() {
        let repo = BareRepo::new();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "stored loose\n").unwrap();
        let path = file.path().to_string_lossy().into_owned();
        let loose = repo.git(&["hash-object", "-w", &path]);
        let mut store = ObjectWriter::new(&repo.objects());
        let oid = store.write(Kind::Blob, b"stored loose\n", None).unwrap();
        assert_eq!(format!("{oid}\n").as_bytes(), loose);
        let known = object_id(Kind::Blob, b"known\n").unwrap();
        assert_eq!(
            store.write(Kind::Blob, b"known\n", Some(known)).unwrap(),
            known
        );
        assert_eq!(store.written, 0, "nothing added to the pack");
    }
}

//! Writes git objects (blobs, trees, commits) into the side repository's object store as loose
//! objects, in process: the id and the encoding come from `gix-object`, the zlib stream from
//! `flate2`. Each object goes to a temporary file in its fan-out folder (`tmp_obj_*`, which the
//! packing removes when a stopped hook left one) and is renamed into place, so a reader never
//! sees half an object. An object already stored loose is not written again.

use anyhow::{Context, Result};
use flate2::{write::ZlibEncoder, Compression};
use gix_hash::ObjectId;
use gix_object::Kind;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The object store (`<git dir>/objects`) objects are written into.
pub struct LooseStore {
    objects: PathBuf,
    /// Bytes written so far (compressed), for the benchmark's and the tests' accounting.
    pub written: u64,
}

impl LooseStore {
    pub fn new(objects: &Path) -> LooseStore {
        LooseStore {
            objects: objects.to_path_buf(),
            written: 0,
        }
    }

    /// Stores `data` as an object of `kind`; its id.
    pub fn write(&mut self, kind: Kind, data: &[u8]) -> Result<ObjectId> {
        let oid = gix_object::compute_hash(gix_hash::Kind::Sha1, kind, data)
            .map_err(|e| anyhow::anyhow!("cannot hash a {kind} object: {e}"))?;
        let hex = oid.to_string();
        let fanout = self.objects.join(&hex[..2]);
        let path = fanout.join(&hex[2..]);
        if path.exists() {
            return Ok(oid);
        }
        match std::fs::create_dir(&fanout) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(e).with_context(|| format!("cannot create {}", fanout.display()))
            }
            _ => {}
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

    #[test]
    fn objects_are_stored_where_git_finds_them() {
        let tmp = tempfile::tempdir().unwrap();
        let git_dir = tmp.path().join("git");
        let init = std::process::Command::new("git")
            .args(["init", "-q", "--bare"])
            .arg(&git_dir)
            .status()
            .unwrap();
        assert!(init.success());
        let mut store = LooseStore::new(&git_dir.join("objects"));
        let oid = store.write(Kind::Blob, b"hello\n").unwrap();
        assert_eq!(oid.to_string(), "ce013625030ba8dba906f756967f9e9ca394464a");
        let written = store.written;
        assert!(written > 0);
        assert_eq!(store.write(Kind::Blob, b"hello\n").unwrap(), oid);
        assert_eq!(store.written, written, "stored once");
        let shown = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(&git_dir)
            .args(["cat-file", "-p", &oid.to_string()])
            .output()
            .unwrap();
        assert_eq!(shown.stdout, b"hello\n");
    }
}

//! Repositories for the effects unit tests: a side repository over an empty work folder, and a
//! bare git repository for checking that git itself reads what ccx writes.

use super::side::SideRepo;
use std::path::PathBuf;
use tempfile::TempDir;

/// A side repository over an empty work folder (`work`), both in a temporary folder that
/// lives as long as the returned guard.
pub fn side_repo() -> (TempDir, SideRepo) {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let repo = SideRepo::open(&work, &tmp.path().join("side")).unwrap();
    (tmp, repo)
}

/// An empty bare git repository in a temporary folder.
pub struct BareRepo {
    _tmp: TempDir,
    git_dir: PathBuf,
}

impl BareRepo {
    pub fn new() -> BareRepo {
        let tmp = tempfile::tempdir().unwrap();
        let repo = BareRepo {
            git_dir: tmp.path().join("git"),
            _tmp: tmp,
        };
        std::fs::create_dir_all(&repo.git_dir).unwrap();
        repo.git(&["init", "-q", "--bare"]);
        repo
    }

    /// Its object folder, where ccx's writers put objects.
    pub fn objects(&self) -> PathBuf {
        self.git_dir.join("objects")
    }

    /// Runs git on it: its output, after checking that it succeeded.
    pub fn git(&self, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(&self.git_dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        out.stdout
    }
}

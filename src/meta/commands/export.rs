//! `:export [BRANCH] [--format md|json|html] [FILE]`: writes a branch out, asking before it
//! overwrites a file.

use super::{Parsed, Parser};
use crate::export_format::ExportFormat;
use crate::meta::args::{clip, err, joined, split_args, Flag, MetaError, Word};
use crate::meta::ops::{Outcome, SessionOps};
use anyhow::Result;
use std::path::{Path, PathBuf};

meta_command! {
    Export, run: Export::outcome, needs_session: true,
    usage: ":export [BRANCH] [--format md|json|html] [FILE]", summary: "write a branch out",
    details: "Writes BRANCH (default: the current branch) out as Markdown, JSON or one \
              self-contained HTML page (the turns, collapsible tool calls, token counts, the \
              tree of branches), to FILE (or -o FILE). A single argument ending in .md, \
              .json or .html is taken as the FILE; without --format, a FILE ending in .json \
              means JSON and one ending in .html means HTML.",
    flags: &[
        Flag::valued(&["--format", "-f"], "md, json or html"),
        Flag::valued(&["-o", "--output"], "a FILE"),
    ],
    parser: Parser::Words(parse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub branch: Option<String>,
    pub format: ExportFormat,
    pub file: Option<String>,
}

/// `[BRANCH] [--format md|json|html] [FILE]` (also `-o FILE`).
fn parse(words: Vec<Word>) -> Result<Parsed, MetaError> {
    let p = split_args(SPEC.name, words, SPEC.flags)?;
    let output = p.value("-o").map(str::to_string);
    let (branch, file) = match (p.positionals.as_slice(), output) {
        ([], out) => (None, out),
        ([one], None) if ExportFormat::is_export_file_name(one) => (None, Some(one.clone())),
        ([one], out) => (Some(one.clone()), out),
        ([b, f], None) => (Some(b.clone()), Some(f.clone())),
        ([_, _], Some(_)) => {
            return Err(err(":export takes a FILE or -o FILE, not both"));
        }
        _ => {
            return Err(err(format!(
                ":export takes at most a BRANCH and a FILE, got '{}'",
                joined(&p.positionals)
            )))
        }
    };
    if file.as_deref() == Some("") {
        return Err(err(":export: the FILE name is empty"));
    }
    let format = match p.value("--format") {
        None => file
            .as_deref()
            .map_or(ExportFormat::Md, ExportFormat::from_file_name),
        Some(v) => ExportFormat::from_name(v).ok_or_else(|| {
            err(format!(
                "--format must be md, json or html, got '{}'",
                clip(v)
            ))
        })?,
    };
    Ok(Box::new(Export {
        branch,
        format,
        file,
    }))
}

impl Export {
    fn outcome(&self, ops: &mut dyn SessionOps) -> Outcome {
        let store = match ops.store() {
            Ok(store) => store,
            Err(e) => return Outcome::Error(format!("{e:#}")),
        };
        let name = match &self.branch {
            Some(name) => name.clone(),
            None => ops.current_branch(&store),
        };
        let path = PathBuf::from(
            self.file
                .clone()
                .unwrap_or_else(|| format!("{name}.{}", self.format.extension())),
        );
        if path.exists() {
            let question = format!("{} exists: overwrite it? [y/N] ", path.display());
            if !ops.confirm(&question) {
                return Outcome::Text(format!("left {} as it was", path.display()));
            }
        }
        Outcome::shown(
            write(&store, &name, self.format, &path)
                .map(|n| format!("wrote {n} turns of {name} to {}", path.display())),
        )
    }
}

/// Writes branch `name` to `path`; how many turns it holds.
fn write(
    store: &crate::store::Store,
    name: &str,
    format: ExportFormat,
    path: &Path,
) -> Result<usize> {
    let found = store
        .branch(name)?
        .ok_or_else(|| anyhow::anyhow!("no branch '{name}'"))?;
    let turns = store.lineage(name)?;
    let extras = crate::query::export::gather_extras(store, &turns, format)?;
    crate::commands::export::export_to(path, &found, &turns, format, &extras, false)?;
    Ok(turns.len())
}

#[cfg(test)]
mod tests {
    use crate::meta::fake::FakeOps;
    use crate::meta::ops::Outcome;

    #[test]
    fn writes_a_branch_and_asks_before_overwriting() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.json");
        let mut ops = FakeOps::with_turns(&["one", "two"]);
        let line = format!(":export {}", file.display());
        assert_eq!(
            ops.run(&line),
            Outcome::Text(format!("wrote 2 turns of main to {}", file.display()))
        );
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert!(written.to_string().contains("two"), "{written}");
        std::fs::write(&file, "mine").unwrap();
        assert_eq!(
            ops.run(&line),
            Outcome::Text(format!("left {} as it was", file.display()))
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
        assert_eq!(
            ops.shown,
            [format!("{} exists: overwrite it? [y/N] ", file.display())]
        );
        ops.confirms.push_back(true);
        assert!(matches!(ops.run(&line), Outcome::Text(t) if t.starts_with("wrote 2 turns")));
        assert_ne!(std::fs::read_to_string(&file).unwrap(), "mine");
        assert_eq!(
            ops.run(&format!(
                ":export nope {}",
                dir.path().join("x.md").display()
            )),
            Outcome::Error("no branch 'nope'".into())
        );
    }
}

//! What an export holds: the format ([`ExportFormat`], for `ccx export` and `:export` alike),
//! the branch and its lineage, and for HTML what the page shows beyond the turns
//! ([`HtmlExtras`]: each turn's tool calls and every branch of the project).

use crate::model::{Branch, Turn};
use crate::store::Store;
use crate::tool_calls::ToolCall;
use anyhow::Result;
use std::collections::HashMap;
use std::path::Path;

pub use crate::export_format::ExportFormat;

/// Chooses the format: `--format`, else from the output file's extension, else Markdown.
pub fn pick_format(format: Option<&str>, output: Option<&Path>) -> Result<ExportFormat> {
    match format {
        Some(name) => ExportFormat::from_name(name).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown export format '{}' (use md, json or html)",
                name.to_ascii_lowercase()
            )
        }),
        None => Ok(output.map_or(ExportFormat::Md, |path| {
            ExportFormat::from_file_name(&path.to_string_lossy())
        })),
    }
}

/// What an HTML export shows beyond the turns: the tool calls of each turn (by turn id) and
/// every branch of the project (for the tree).
#[derive(Debug, Clone, Default)]
pub struct HtmlExtras {
    pub tools: HashMap<crate::ids::TurnId, Vec<ToolCall>>,
    pub branches: Vec<Branch>,
}

/// A branch to export: its record, its lineage (oldest first) and the extras its format shows.
#[derive(Debug, Clone)]
pub struct Export {
    pub branch: Branch,
    pub turns: Vec<Turn>,
    pub extras: HtmlExtras,
}

/// The branch named `name` (default: the current branch) ready to export in `format`.
pub fn load(store: &Store, name: Option<&str>, format: ExportFormat) -> Result<Export> {
    let name = match name {
        Some(name) => name.to_string(),
        None => super::current_branch(store)?,
    };
    let branch = super::branch(store, &name)?;
    let turns = store.lineage(&name)?;
    let extras = gather_extras(store, &turns, format)?;
    Ok(Export {
        branch,
        turns,
        extras,
    })
}

/// What an export in `format` shows beyond the turns: for HTML, each turn's tool calls (from
/// its stored transcript entries) and every branch; nothing for the other formats.
pub fn gather_extras(store: &Store, turns: &[Turn], format: ExportFormat) -> Result<HtmlExtras> {
    if format != ExportFormat::Html {
        return Ok(HtmlExtras::default());
    }
    let mut tools = std::collections::HashMap::new();
    for turn in turns {
        let calls = crate::tool_calls::tool_calls(&store.entries(turn.id)?);
        if !calls.is_empty() {
            tools.insert(turn.id, calls);
        }
    }
    Ok(HtmlExtras {
        tools,
        branches: store.branches()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_flag_or_extension() {
        assert_eq!(pick_format(None, None).unwrap(), ExportFormat::Md);
        assert_eq!(
            pick_format(None, Some(Path::new("x.JSON"))).unwrap(),
            ExportFormat::Json
        );
        assert_eq!(
            pick_format(None, Some(Path::new("x.htm"))).unwrap(),
            ExportFormat::Html
        );
        assert_eq!(
            pick_format(Some("md"), Some(Path::new("x.json"))).unwrap(),
            ExportFormat::Md
        );
        assert_eq!(pick_format(Some("HTML"), None).unwrap(), ExportFormat::Html);
        assert_eq!(
            pick_format(Some("PDF"), None).unwrap_err().to_string(),
            "unknown export format 'pdf' (use md, json or html)"
        );
        for f in [ExportFormat::Md, ExportFormat::Json, ExportFormat::Html] {
            assert_eq!(ExportFormat::from_name(f.extension()), Some(f));
        }
    }
}

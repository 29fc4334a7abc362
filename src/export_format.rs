//! The formats a branch is exported in (`ccx export --format`, `:export --format`): their
//! names, how a file name chooses one, and their file extensions, in one place.

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    #[default]
    Md,
    Json,
    Html,
}

impl ExportFormat {
    /// The format a `--format` value names (`md`, `markdown`, `json`, `html`; any case).
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        match name.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(ExportFormat::Md),
            "json" => Some(ExportFormat::Json),
            "html" => Some(ExportFormat::Html),
            _ => None,
        }
    }

    /// The format a file name implies: `.json` JSON, `.html`/`.htm` HTML, else Markdown.
    pub fn from_file_name(file: &str) -> ExportFormat {
        let lower = file.to_lowercase();
        if lower.ends_with(".json") {
            ExportFormat::Json
        } else if lower.ends_with(".html") || lower.ends_with(".htm") {
            ExportFormat::Html
        } else {
            ExportFormat::Md
        }
    }

    /// Whether a file name ends in an extension of one of the formats.
    pub fn is_export_file_name(file: &str) -> bool {
        let lower = file.to_lowercase();
        [".md", ".json", ".markdown", ".html", ".htm"]
            .iter()
            .any(|ext| lower.ends_with(ext))
    }

    /// The file extension written by default (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Md => "md",
            ExportFormat::Json => "json",
            ExportFormat::Html => "html",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_and_extensions_agree() {
        for format in [ExportFormat::Md, ExportFormat::Json, ExportFormat::Html] {
            assert_eq!(ExportFormat::from_name(format.extension()), Some(format));
            let file = format!("out.{}", format.extension());
            assert_eq!(ExportFormat::from_file_name(&file), format);
            assert!(ExportFormat::is_export_file_name(&file));
        }
        assert_eq!(ExportFormat::from_name("Markdown"), Some(ExportFormat::Md));
        assert_eq!(ExportFormat::from_name("xml"), None);
        assert_eq!(ExportFormat::from_file_name("PAGE.HTM"), ExportFormat::Html);
        assert_eq!(ExportFormat::from_file_name("notes"), ExportFormat::Md);
        assert!(!ExportFormat::is_export_file_name("notes"));
    }
}

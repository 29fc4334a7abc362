//! ccx's colours: [`Palette`] colours a piece of text, or leaves it plain when colour is off
//! (`NO_COLOR`, or output that is not a terminal).

use owo_colors::OwoColorize;

/// Whether to colour output: a terminal, and `NO_COLOR` unset.
pub fn colour_wanted(fd: i32) -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && crate::terminal::is_tty(fd)
}

/// Colours used by ccx's output; plain text when `enabled` is false.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub enabled: bool,
}

impl Palette {
    /// Colours for what goes to standard output: on for a terminal, off with `NO_COLOR`.
    pub fn for_stdout() -> Palette {
        Palette {
            enabled: colour_wanted(1),
        }
    }

    /// `text` in `colour` when colour is on, else as it is.
    pub fn paint(&self, text: &str, colour: fn(&str) -> String) -> String {
        if self.enabled {
            colour(text)
        } else {
            text.to_string()
        }
    }

    /// Turn ids and other references (yellow).
    pub fn id(&self, text: &str) -> String {
        self.paint(text, |t| t.yellow().to_string())
    }
    /// What matters less (dimmed).
    pub fn dim(&self, text: &str) -> String {
        self.paint(text, |t| t.dimmed().to_string())
    }
    /// Headings and the current branch (bold).
    pub fn strong(&self, text: &str) -> String {
        self.paint(text, |t| t.bold().to_string())
    }
    /// Warnings, and what only the first of two has (red).
    pub fn warn(&self, text: &str) -> String {
        self.paint(text, |t| t.red().to_string())
    }
    /// What is fine, and what only the second of two has (green).
    pub fn good(&self, text: &str) -> String {
        self.paint(text, |t| t.green().to_string())
    }
}

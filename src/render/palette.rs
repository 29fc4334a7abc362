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

    pub fn id(&self, text: &str) -> String {
        if self.enabled {
            text.yellow().to_string()
        } else {
            text.to_string()
        }
    }
    pub fn dim(&self, text: &str) -> String {
        if self.enabled {
            text.dimmed().to_string()
        } else {
            text.to_string()
        }
    }
    pub fn strong(&self, text: &str) -> String {
        if self.enabled {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }
    pub fn warn(&self, text: &str) -> String {
        if self.enabled {
            text.red().to_string()
        } else {
            text.to_string()
        }
    }
    pub fn good(&self, text: &str) -> String {
        if self.enabled {
            text.green().to_string()
        } else {
            text.to_string()
        }
    }
}

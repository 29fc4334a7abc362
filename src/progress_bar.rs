//! The progress that long batch runs (bisect, replay) show on stderr: a bar on a terminal,
//! else one plain line per step.

use std::time::Duration;

/// A bar of `total` steps drawn on stderr with `template` (an indicatif template), ticking on
/// its own so the spinner and elapsed time move while a step runs.
pub fn on_stderr(total: usize, template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::term_like(Box::new(Stderr)),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Columns a bar's line leaves free at the right edge of the terminal. indicatif pads its line
/// to the full width, which leaves the cursor waiting to wrap: the `^C` the terminal echoes on
/// Ctrl-C then wrapped onto a new line, and the bar, no longer on the cursor's line, stayed on
/// the screen after it was cleared.
const RIGHT_MARGIN: u16 = 3;

/// The terminal on stderr, as indicatif draws on it, [`RIGHT_MARGIN`] columns narrower.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, text: &str) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().write_all(text.as_bytes())
    }

    /// Moves the cursor `n` cells in the direction CSI `letter` names (nothing for 0).
    fn cursor_by(&self, n: usize, letter: char) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.put(&format!("\x1b[{n}{letter}"))
    }
}

impl indicatif::TermLike for Stderr {
    fn width(&self) -> u16 {
        let cols = crate::terminal::size(2).map_or(80, |(_, cols)| cols);
        cols.saturating_sub(RIGHT_MARGIN).max(1)
    }

    fn height(&self) -> u16 {
        crate::terminal::size(2).map_or(24, |(rows, _)| rows)
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.cursor_by(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.cursor_by(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.cursor_by(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.cursor_by(n, 'D')
    }

    fn write_line(&self, line: &str) -> std::io::Result<()> {
        self.put(&format!("{line}\n"))
    }

    fn write_str(&self, text: &str) -> std::io::Result<()> {
        self.put(text)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().flush()
    }
}

/// A run's progress: a bar when stderr is a terminal, else plain lines.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// Columns the bar's line takes besides its message (see [`columns_besides_message`]).
    fixed: usize,
}

/// Columns a bar drawn with `template` takes besides its `{wide_msg}`, with `total` steps:
/// literal text, the spinner, `{bar:N}`, the counts, the elapsed time (`59m 59s` at most
/// counted), and two to spare.
pub fn columns_besides_message(template: &str, total: usize) -> usize {
    let digits = total.to_string().len();
    let mut columns = 2;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        columns += rest[..open].chars().count();
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let key = &rest[open + 1..open + close];
        columns += match key.split(':').collect::<Vec<_>>()[..] {
            ["bar", width] => width.parse().unwrap_or(20),
            ["spinner"] => 1,
            ["pos"] | ["len"] => digits,
            ["elapsed"] => 7,
            ["wide_msg"] | ["msg"] => 0,
            _ => 10,
        };
        rest = &rest[open + close + 1..];
    }
    columns + rest.chars().count()
}

/// `message` cut so it takes at most `width` columns on a terminal, counting every non-ASCII
/// character as two (never less than it takes): indicatif 0.17 cuts an over-long `{wide_msg}`
/// by bytes, so a message with non-ASCII text (a prompt, the `…` of a cut one) overflowed the
/// line, wrapped, and left a stale bar line behind when cleared.
pub fn fit_message(message: &str, width: usize) -> String {
    let cols = |c: char| if c.is_ascii() { 1 } else { 2 };
    if message.chars().map(cols).sum::<usize>() <= width {
        return message.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in message.chars() {
        // Room for this character and the ellipsis after it.
        if used + cols(c) + 2 > width {
            break;
        }
        out.push(c);
        used += cols(c);
    }
    if width >= 2 {
        out.push('…');
    }
    out
}

impl Progress {
    /// `total` steps, drawn with `template` (see [`on_stderr`]) when stderr is a terminal.
    pub fn new(total: usize, template: &str) -> Progress {
        Progress {
            bar: crate::terminal::is_tty(2).then(|| on_stderr(total, template)),
            fixed: columns_besides_message(template, total),
        }
    }

    /// Says which step runs now: `message` on the bar, or the line `line()` when there is none.
    pub fn step(&self, message: String, line: impl FnOnce() -> String) {
        match &self.bar {
            Some(bar) => {
                let width = indicatif::TermLike::width(&Stderr) as usize;
                bar.set_message(fit_message(&message, width.saturating_sub(self.fixed)));
            }
            None => eprintln!("{}", line()),
        }
    }

    /// One step is done.
    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// The run is over: the bar goes.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_and_its_message_fit_the_line() {
        let template = "{spinner} bisect [{bar:30}] {pos}/~{len} runs {elapsed} {wide_msg}";
        // "⠁ bisect [" 10, the bar 30, "] " 2, "4/~4" 4, " runs " 6, "59m 59s" 7, " " 1, spare 2.
        assert_eq!(columns_besides_message(template, 4), 62);
        assert_eq!(fit_message("short", 10), "short");
        assert_eq!(fit_message("testing #8: step 5", 10), "testing …");
        // Non-ASCII counts double, so the cut text never takes more than the room.
        let cut = fit_message("testing #8: é é é é é é", 14);
        assert_eq!(cut, "testing #8: …");
        assert_eq!(fit_message("anything", 0), "");
    }
}

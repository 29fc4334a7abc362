//! The progress that long batch runs (bisect, replay) show on stderr: a bar on a terminal,
//! else one plain line per step.

use std::time::Duration;

/// A bar of `total` steps drawn on stderr with `template` (an indicatif template), ticking on
/// its own so the spinner and elapsed time move while a step runs.
pub fn on_stderr(total: usize, template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A run's progress: a bar when stderr is a terminal, else plain lines.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// `total` steps, drawn with `template` (see [`on_stderr`]) when stderr is a terminal.
    pub fn new(total: usize, template: &str) -> Progress {
        Progress {
            bar: crate::terminal::is_tty(2).then(|| on_stderr(total, template)),
        }
    }

    /// Says which step runs now: `message` on the bar, or the line `line()` when there is none.
    pub fn step(&self, message: String, line: impl FnOnce() -> String) {
        match &self.bar {
            Some(bar) => bar.set_message(message),
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

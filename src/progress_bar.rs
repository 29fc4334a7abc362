//! The progress bar that long batch runs (bisect, replay) draw on stderr.

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

//! A real headless browser for the HTML export: Chromium from the system packages, when it is
//! installed. [`check_html_export`] loads a page with `--dump-dom` (the DOM as Chromium parsed
//! it) and counts its turn and tool-call elements, then takes a screenshot and checks it is a
//! real picture. Without Chromium it prints why it skips and returns (scripts/test.sh installs
//! it when it runs as root).

use super::output_with_timeout;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The Chromium binary on PATH, if any.
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .env("HOME", profile);
    cmd
}

/// Loads `page` in headless Chromium: the parsed DOM holds `turns` turn articles and `tools`
/// tool-call `<details>` elements (closed), and a screenshot of it is a PNG of the asked size.
/// Skips, saying so, when no Chromium is installed.
pub fn check_html_export(page: &Path, turns: usize, tools: usize) {
    let Some(browser) = chromium() else {
        println!(
            "SKIPPED the headless-browser check of {}: no chromium installed \
             (apt-get install chromium; scripts/test.sh does it when run as root)",
            page.display()
        );
        return;
    };
    let profile = tempfile::tempdir().expect("a profile dir");
    let url = format!("file://{}", page.display());
    let mut cmd = headless(&browser, profile.path());
    cmd.arg("--dump-dom").arg(&url);
    let out = output_with_timeout(&mut cmd, Duration::from_secs(180)).expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        dom.matches("<article class=\"turn\"").count(),
        turns,
        "turn elements in the DOM:\n{dom}"
    );
    assert_eq!(
        dom.matches("<details class=\"tool").count(),
        tools,
        "tool-call <details> in the DOM:\n{dom}"
    );
    assert!(!dom.contains("<details open"), "tool calls start collapsed");
    assert!(
        dom.contains("class=\"lineage exported\""),
        "the exported branch is marked"
    );
    assert!(!dom.contains("<script"), "no script in the page");

    let shot = profile.path().join("page.png");
    let mut cmd = headless(&browser, profile.path());
    cmd.arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1000,1400")
        .arg(&url);
    let out = output_with_timeout(&mut cmd, Duration::from_secs(180)).expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1000, 1400));
    // A blank page compresses to almost nothing; a rendered conversation does not.
    assert!(
        png.len() > 8_000,
        "screenshot of {} bytes looks blank",
        png.len()
    );
    if let Some(keep) = std::env::var_os("CCX_KEEP_SCREENSHOT") {
        let _ = std::fs::copy(&shot, keep);
    }
}

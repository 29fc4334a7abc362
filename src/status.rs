//! ccx's state in Claude Code's own footer, through the `statusLine` setting: `ccx __status`
//! prints `ccx · BRANCH · #TURN · 123k ctx` (a warning inside the rot zone), followed by the
//! person's own status line when they have one. The running ccx writes its view to a file in
//! its private run directory; the status command only reads it, so it costs Claude nothing.

use crate::commands::render;
use crate::hooks::bridge::ENV_SOCKET;
use crate::recorder::SessionView;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The internal subcommand Claude Code runs for the status line.
pub const STATUS_SUBCOMMAND: &str = "__status";
const VIEW_FILE: &str = "status.json";
const USER_STATUS_FILE: &str = "user-status.json";
/// How long the person's own status command may take.
const USER_STATUS_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_PAYLOAD: u64 = 4 * 1024 * 1024;

/// The files the status line reads, in the run directory beside the hook socket.
pub fn view_file(run_dir: &Path) -> PathBuf {
    run_dir.join(VIEW_FILE)
}

pub fn user_status_file(run_dir: &Path) -> PathBuf {
    run_dir.join(USER_STATUS_FILE)
}

/// Writes the view atomically (write + rename), ignoring errors.
pub fn write_view(path: &Path, view: &SessionView) {
    let tmp = path.with_extension("tmp");
    if let Ok(text) = serde_json::to_vec(view) {
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

/// ccx's part of the status line (pure).
pub fn status_text(view: &SessionView, colour: bool) -> String {
    let mut parts = vec!["ccx".to_string()];
    if let Some(branch) = &view.branch {
        parts.push(branch.clone());
    }
    if let Some(head) = view.head {
        parts.push(format!("#{head}"));
    }
    let in_rot_zone = view.rot_zone_tokens > 0 && view.context_tokens >= view.rot_zone_tokens;
    if view.context_tokens > 0 {
        let ctx = format!("{} ctx", render::tokens(view.context_tokens));
        parts.push(if in_rot_zone {
            format!("⚠ {ctx} (rot zone)")
        } else {
            ctx
        });
    }
    if let Some(jobs) = &view.jobs {
        parts.push(jobs.clone());
    }
    if let Some(problem) = &view.problem {
        let text = parts.join(" · ");
        let line = format!("{text} · ⚠ {problem}");
        return if colour {
            format!("\x1b[31m{line}\x1b[0m")
        } else {
            line
        };
    }
    let text = parts.join(" · ");
    match (colour, in_rot_zone) {
        (true, true) => format!("\x1b[33m{text}\x1b[0m"),
        (true, false) => format!("\x1b[2m{text}\x1b[0m"),
        (false, _) => text,
    }
}

/// The person's own status line setting, from the settings they gave ccx or Claude's settings
/// files (local project, project, user), in Claude Code's order of precedence.
pub fn find_user_status_line(
    cwd: &Path,
    home: Option<&Path>,
    given: Option<&Value>,
) -> Option<Value> {
    if let Some(line) = given.and_then(|s| s.get("statusLine")) {
        return Some(line.clone());
    }
    let mut files = vec![
        cwd.join(".claude/settings.local.json"),
        cwd.join(".claude/settings.json"),
    ];
    if let Some(home) = home {
        files.push(home.join(".claude/settings.json"));
    }
    files.into_iter().find_map(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        let settings: Value = serde_json::from_str(&text).ok()?;
        settings.get("statusLine").cloned()
    })
}

/// `ccx __status`: prints the status line; always exits 0.
pub fn run() -> i32 {
    let mut payload = Vec::new();
    let _ = std::io::stdin()
        .lock()
        .take(MAX_PAYLOAD)
        .read_to_end(&mut payload);
    // The run directory is the argument (`ccx __status DIR`); older ccx set the environment.
    let Some(run_dir) = std::env::args_os().nth(2).map(PathBuf::from).or_else(|| {
        std::env::var_os(ENV_SOCKET).and_then(|s| PathBuf::from(s).parent().map(Path::to_path_buf))
    }) else {
        return 0;
    };
    let mut view: SessionView = std::fs::read(view_file(&run_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    // Claude's own figure is exact and current; ccx's lags until the turn is recorded.
    if let Some(tokens) = serde_json::from_slice::<Value>(&payload)
        .ok()
        .as_ref()
        .and_then(current_context)
    {
        view.context_tokens = tokens;
    }
    let mut line = status_text(&view, std::env::var_os("NO_COLOR").is_none());
    if let Some(theirs) = user_status(&run_dir, &payload) {
        line.push_str("  ");
        line.push_str(&theirs);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    0
}

/// The context size in Claude's status payload: input + cache read + cache creation of the
/// latest API call (`context_window.current_usage`), when present.
pub fn current_context(payload: &Value) -> Option<u64> {
    let usage = payload.get("context_window")?.get("current_usage")?;
    let field = |name: &str| usage.get(name).and_then(Value::as_u64).unwrap_or(0);
    let total = field("input_tokens")
        + field("cache_read_input_tokens")
        + field("cache_creation_input_tokens");
    (total > 0).then_some(total)
}

/// Runs the person's own status command with Claude's payload; its first line of output.
fn user_status(run_dir: &Path, payload: &[u8]) -> Option<String> {
    let setting: Value =
        serde_json::from_slice(&std::fs::read(user_status_file(run_dir)).ok()?).ok()?;
    let command = setting.get("command")?.as_str()?;
    let mut child = Command::new("/bin/sh")
        .args(["-c", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload);
    }
    let deadline = Instant::now() + USER_STATUS_TIMEOUT;
    while child.try_wait().ok()?.is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut text = String::new();
    child.stdout.take()?.read_to_string(&mut text).ok()?;
    text.lines()
        .next()
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_shows_branch_turn_and_context() {
        let view = SessionView {
            branch: Some("main".into()),
            head: Some(12),
            context_tokens: 123_400,
            rot_zone_tokens: 300_000,
            ..Default::default()
        };
        assert_eq!(status_text(&view, false), "ccx · main · #12 · 123.4k ctx");
        let hot = SessionView {
            context_tokens: 320_000,
            ..view
        };
        assert_eq!(
            status_text(&hot, false),
            "ccx · main · #12 · ⚠ 320k ctx (rot zone)"
        );
        assert!(status_text(&hot, true).starts_with("\x1b[33m"));
        assert_eq!(status_text(&SessionView::default(), false), "ccx");
        let broken = SessionView {
            problem: Some("not recording: locked".into()),
            ..Default::default()
        };
        assert_eq!(status_text(&broken, false), "ccx · ⚠ not recording: locked");
    }

    #[test]
    fn context_comes_from_claudes_payload_when_present() {
        let payload = serde_json::json!({"context_window": {"context_window_size": 1000000,
            "current_usage": {"input_tokens": 123156, "output_tokens": 1,
                "cache_creation_input_tokens": 100, "cache_read_input_tokens": 200}}});
        assert_eq!(current_context(&payload), Some(123_456));
        assert_eq!(
            current_context(&serde_json::json!({"context_window": {"current_usage": null}})),
            None
        );
        assert_eq!(current_context(&serde_json::json!({})), None);
    }

    #[test]
    fn the_users_status_line_is_found_in_precedence_order() {
        let dir = tempfile::tempdir().unwrap();
        let (cwd, home) = (dir.path().join("p"), dir.path().join("h"));
        std::fs::create_dir_all(cwd.join(".claude")).unwrap();
        std::fs::create_dir_all(home.join(".claude")).unwrap();
        assert_eq!(find_user_status_line(&cwd, Some(&home), None), None);
        std::fs::write(
            home.join(".claude/settings.json"),
            r#"{"statusLine":{"type":"command","command":"user"}}"#,
        )
        .unwrap();
        assert_eq!(
            find_user_status_line(&cwd, Some(&home), None).unwrap()["command"],
            "user"
        );
        std::fs::write(
            cwd.join(".claude/settings.json"),
            r#"{"statusLine":{"type":"command","command":"proj"}}"#,
        )
        .unwrap();
        assert_eq!(
            find_user_status_line(&cwd, Some(&home), None).unwrap()["command"],
            "proj"
        );
        let given = serde_json::json!({"statusLine": {"type": "command", "command": "given"}});
        assert_eq!(
            find_user_status_line(&cwd, Some(&home), Some(&given)).unwrap()["command"],
            "given"
        );
    }
}

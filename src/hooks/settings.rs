//! The settings ccx gives claude with `--settings`: hooks for the events ccx records, whose
//! command is ccx itself. Merged with any `--settings` the person passed, never replacing
//! their hooks (Claude Code merges hooks from its settings files with these).

use serde_json::{json, Value};
use std::ffi::OsString;
use std::path::Path;

/// The hook events ccx listens to. Not `PreCompact`: Claude Code 2.1.330 shows a line
/// "PreCompact [command] completed successfully" for every command hook of that event (it
/// does not honour `suppressOutput` there, and adds the hook's output to the compaction's
/// instructions), so a compaction is recorded from `UserPromptSubmit` (`/compact …`) and
/// `SessionStart` with source `compact` instead.
pub const EVENTS: &[&str] = &["SessionStart", "UserPromptSubmit", "Stop", "SubagentStop"];

/// Quotes a string for a POSIX shell (Claude Code runs hook commands through one).
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The settings object holding ccx's hooks, calling `exe __hook KEY_FILE`, and its status
/// line, `exe __status RUN_DIR` (`run_dir`: the hook bridge's run directory).
pub fn ccx_settings(exe: &Path, run_dir: &Path) -> Value {
    let command = format!(
        "{} {} {}",
        shell_quote(&exe.to_string_lossy()),
        crate::cli::HOOK_SUBCOMMAND,
        shell_quote(
            &run_dir
                .join(crate::hooks::bridge::KEY_FILE)
                .to_string_lossy()
        )
    );
    let mut hooks = serde_json::Map::new();
    for event in EVENTS {
        hooks.insert(
            (*event).to_string(),
            json!([{ "hooks": [{ "type": "command", "command": command, "timeout": 10 }] }]),
        );
    }
    crate::effects::hook::add_hooks(&mut hooks, exe);
    let status = format!(
        "{} {} {}",
        shell_quote(&exe.to_string_lossy()),
        crate::status::STATUS_SUBCOMMAND,
        shell_quote(&run_dir.to_string_lossy())
    );
    // Re-read every second, so a meta-command's result shows in the footer at once and the
    // footer's turn number catches up with a turn ccx recorded after Claude last drew it.
    json!({
        "hooks": hooks,
        "statusLine": {
            "type": "command",
            "command": status,
            "padding": 0,
            "refreshInterval": crate::status::REFRESH_SECS
        }
    })
}

/// Adds ccx's hooks to `base` (someone's settings object), keeping every hook already there.
/// ccx's status line replaces theirs in the footer; `ccx __status` runs theirs after its own.
pub fn merge(mut base: Value, ours: &Value) -> Value {
    if !base.is_object() {
        base = json!({});
    }
    let base_map = base.as_object_mut().expect("object");
    for (key, value) in ours.as_object().into_iter().flatten() {
        if key == "statusLine" {
            base_map.insert(key.clone(), value.clone());
            continue;
        }
        if key != "hooks" {
            base_map.entry(key.clone()).or_insert_with(|| value.clone());
            continue;
        }
        let hooks = base_map.entry("hooks").or_insert_with(|| json!({}));
        if !hooks.is_object() {
            *hooks = json!({});
        }
        let hooks = hooks.as_object_mut().expect("object");
        for (event, groups) in value.as_object().into_iter().flatten() {
            let list = hooks.entry(event.clone()).or_insert_with(|| json!([]));
            if !list.is_array() {
                *list = json!([]);
            }
            list.as_array_mut()
                .expect("array")
                .extend(groups.as_array().cloned().unwrap_or_default());
        }
    }
    base
}

/// Takes `--settings VALUE` / `--settings=VALUE` out of claude's arguments and returns the
/// settings it named (inline JSON or a file), so they can be merged with ccx's.
pub fn take_user_settings(args: &mut Vec<OsString>) -> Result<Option<Value>, String> {
    let mut found = None;
    let mut i = 0;
    while i < args.len() {
        let text = args[i].to_string_lossy().into_owned();
        let value = if text == "--settings" {
            if i + 1 >= args.len() {
                return Err("--settings needs a value".into());
            }
            let v = args[i + 1].to_string_lossy().into_owned();
            args.drain(i..i + 2);
            v
        } else if let Some(v) = text.strip_prefix("--settings=") {
            let v = v.to_string();
            args.remove(i);
            v
        } else {
            i += 1;
            continue;
        };
        found = Some(read_settings(&value)?);
    }
    Ok(found)
}

fn read_settings(value: &str) -> Result<Value, String> {
    let text = if value.trim_start().starts_with('{') {
        value.to_string()
    } else {
        std::fs::read_to_string(value).map_err(|e| format!("cannot read settings {value}: {e}"))?
    };
    serde_json::from_str(&text).map_err(|e| format!("settings {value} are not valid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_and_spaces() {
        assert_eq!(shell_quote("/a b/c"), "'/a b/c'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn every_event_calls_ccx() {
        let s = ccx_settings(Path::new("/opt/ccx"), Path::new("/run/r"));
        assert_eq!(s["statusLine"]["command"], "'/opt/ccx' __status '/run/r'");
        assert_eq!(s["statusLine"]["refreshInterval"], 1);
        for event in EVENTS {
            let cmd = &s["hooks"][event][0]["hooks"][0]["command"];
            assert_eq!(cmd, "'/opt/ccx' __hook '/run/r/hook.key'");
        }
    }

    #[test]
    fn merge_keeps_the_users_hooks_and_settings() {
        let user = json!({"model": "x", "statusLine": {"type": "command", "command": "mine"},
            "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify"}]}]}});
        let merged = merge(user, &ccx_settings(Path::new("/ccx"), Path::new("/r")));
        assert_eq!(merged["model"], "x");
        // Ours shows in the footer; `ccx __status` runs theirs after it.
        assert_eq!(merged["statusLine"]["command"], "'/ccx' __status '/r'");
        let stop = merged["hooks"]["Stop"].as_array().unwrap();
        assert_eq!(stop.len(), 2);
        assert_eq!(stop[0]["hooks"][0]["command"], "notify");
        assert_eq!(merged["hooks"]["SessionStart"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn user_settings_are_taken_from_args() {
        let mut args: Vec<OsString> = ["-c", "--settings", r#"{"a":1}"#, "x"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(
            take_user_settings(&mut args).unwrap(),
            Some(json!({"a": 1}))
        );
        assert_eq!(
            args,
            ["-c", "x"].iter().map(OsString::from).collect::<Vec<_>>()
        );
        let mut args: Vec<OsString> = vec!["--settings=/no/such/file".into()];
        assert!(take_user_settings(&mut args).is_err());
        let mut args: Vec<OsString> = vec!["-p".into()];
        assert_eq!(take_user_settings(&mut args).unwrap(), None);
    }
}

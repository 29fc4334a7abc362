//! The tool calls of a turn, read from the transcript entries stored with it: each `tool_use`
//! block of an assistant line (name and input) paired with the `tool_result` block of a later
//! user line that answers it (its text, and whether it was an error). Pure; used by the HTML
//! export (collapsible calls) and by deep search (commands, file paths, output).

use serde_json::Value;

/// One tool call and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    /// The tool's name (`Bash`, `Read`, `Edit`, …).
    pub name: String,
    /// The one thing that says what the call did: the command of `Bash`, the file of
    /// `Read`/`Write`/`Edit`, the pattern of `Grep`/`Glob`, the URL of a fetch; else the input
    /// as compact JSON.
    pub summary: String,
    /// The whole input, as pretty JSON.
    pub input: String,
    /// The result's text ("" when none came back).
    pub output: String,
    /// True when the result was marked as an error.
    pub is_error: bool,
}

impl ToolCall {
    /// What deep search looks in: the name and summary on the first line, then the input (when
    /// it says more than the summary) and the output.
    pub fn search_text(&self) -> String {
        let mut text = format!("{}: {}\n", self.name, self.summary);
        if self.input != self.summary && !self.input.contains(&self.summary) {
            text.push_str(&self.input);
            text.push('\n');
        }
        text.push_str(&self.output);
        text
    }
}

/// The input field that names what a call works on, by tool.
fn summary_of(name: &str, input: &Value) -> String {
    let field = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
    let chosen = match name {
        "Bash" | "BashOutput" => field("command"),
        "Read" | "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => {
            field("file_path").or_else(|| field("notebook_path"))
        }
        "Grep" | "Glob" => field("pattern"),
        "WebFetch" => field("url"),
        "WebSearch" => field("query"),
        "Task" | "Agent" => field("description").or_else(|| field("prompt")),
        _ => None,
    };
    chosen.unwrap_or_else(|| match input {
        Value::Null => String::new(),
        Value::Object(map) if map.is_empty() => String::new(),
        other => other.to_string(),
    })
}

/// The text of a `tool_result` block: a string, or the text parts of a list of blocks.
fn result_text(block: &Value) -> String {
    match block.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match p.get("type").and_then(Value::as_str) {
                Some("text") => p.get("text").and_then(Value::as_str).map(str::to_string),
                Some("image") => Some("[image]".to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn content_blocks(entry: &Value) -> &[Value] {
    entry
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The tool calls in `entries`, in the order they were made, each with its result when one of
/// the entries holds it.
pub fn tool_calls<'a>(entries: impl IntoIterator<Item = &'a Value>) -> Vec<ToolCall> {
    let mut calls: Vec<ToolCall> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for entry in entries {
        for block in content_blocks(entry) {
            match block.get("type").and_then(Value::as_str) {
                Some("tool_use") | Some("server_tool_use") => {
                    let name = block
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("tool")
                        .to_string();
                    let input = block.get("input").cloned().unwrap_or(Value::Null);
                    calls.push(ToolCall {
                        summary: summary_of(&name, &input),
                        input: serde_json::to_string_pretty(&input).unwrap_or_default(),
                        name,
                        ..Default::default()
                    });
                    ids.push(
                        block
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
                Some("tool_result") => {
                    let id = block
                        .get("tool_use_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let at = ids.iter().position(|i| !i.is_empty() && i == id);
                    if let Some(call) = at.map(|i| &mut calls[i]) {
                        call.output = result_text(block);
                        call.is_error = block
                            .get("is_error")
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                    }
                }
                _ => {}
            }
        }
    }
    calls
}

/// What deep search looks in for the tool calls of `entries`: one [`ToolCall::search_text`]
/// per call, in order.
pub fn search_texts<'a>(entries: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    tool_calls(entries)
        .iter()
        .map(ToolCall::search_text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pairs_each_call_with_its_result() {
        let entries = vec![
            json!({"type":"user","message":{"role":"user","content":"run it"}}),
            json!({"type":"assistant","message":{"content":[
                {"type":"text","text":"Running."},
                {"type":"tool_use","id":"t1","name":"Bash","input":{"command":"cargo test","description":"tests"}},
                {"type":"tool_use","id":"t2","name":"Read","input":{"file_path":"/p/src/main.rs"}}
            ]}}),
            json!({"type":"user","message":{"content":[
                {"type":"tool_result","tool_use_id":"t2","content":[{"type":"text","text":"fn main() {}"}]},
                {"type":"tool_result","tool_use_id":"t1","content":"error[E0425]: cannot find value","is_error":true}
            ]}}),
            json!({"type":"assistant","message":{"content":[{"type":"tool_use","id":"t3","name":"Mystery","input":{"x":1}}]}}),
        ];
        let calls = tool_calls(&entries);
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[0].name, "Bash");
        assert_eq!(calls[0].summary, "cargo test");
        assert_eq!(calls[0].output, "error[E0425]: cannot find value");
        assert!(calls[0].is_error);
        assert_eq!(calls[1].summary, "/p/src/main.rs");
        assert_eq!(calls[1].output, "fn main() {}");
        assert!(!calls[1].is_error);
        assert_eq!(calls[2].summary, r#"{"x":1}"#);
        assert_eq!(calls[2].output, "");
        let text = calls[0].search_text();
        assert!(text.starts_with("Bash: cargo test\n"), "{text}");
        assert!(text.contains("E0425"), "{text}");
    }

    #[test]
    fn entries_without_tools_give_none() {
        let entries = vec![json!({"type":"user","message":{"content":"hi"}}), json!(42)];
        assert!(tool_calls(&entries).is_empty());
    }
}

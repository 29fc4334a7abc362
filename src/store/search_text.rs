//! The search text of a turn: everything search looks in — its prompt, its reply, and one
//! [`crate::tool_calls::ToolCall::search_text`] per tool call (tool name, command or file,
//! input, output) — kept in the store's `search` tree beside the turn. A deep search scans that
//! tree alone (a few hundred bytes a turn, no uuids, usage or JSON envelope of the transcript)
//! and reads the turn records of its candidates only. Stored as JSON (`{"p", "r", "t"}`): a word
//! JSON never escapes is found in the bytes as they are, and only candidates are decoded.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most tool-call text one turn keeps (a turn that read huge files is cut there).
pub const MAX_TOOL_BYTES: usize = 4 << 20;

/// The key in the `search` tree that says every turn has its search text (shorter than any
/// turn key, so no scan of turn ids meets it).
pub const COMPLETE: &[u8] = &[0];

#[derive(Serialize, Deserialize, Default)]
struct Record {
    #[serde(rename = "p", default)]
    prompt: String,
    #[serde(rename = "r", default)]
    reply: String,
    #[serde(rename = "t", default)]
    tools: Vec<String>,
}

/// The record of a turn whose transcript lines are `entries`.
pub fn encode<'a>(
    prompt: &str,
    reply: &str,
    entries: impl IntoIterator<Item = &'a Value>,
) -> Vec<u8> {
    encode_texts(prompt, reply, crate::tool_calls::search_texts(entries))
}

/// The record holding `tools` (cut to [`MAX_TOOL_BYTES`] in all).
pub fn encode_texts(prompt: &str, reply: &str, tools: Vec<String>) -> Vec<u8> {
    let record = Record {
        prompt: prompt.to_string(),
        reply: reply.to_string(),
        tools: capped(tools),
    };
    serde_json::to_vec(&record).unwrap_or_default()
}

fn capped(mut texts: Vec<String>) -> Vec<String> {
    let mut room = MAX_TOOL_BYTES;
    let mut kept = 0;
    for text in &mut texts {
        kept += 1;
        if text.len() > room {
            // Cut here, and nothing after it.
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            break;
        }
        room -= text.len();
    }
    texts.truncate(kept);
    texts.retain(|t| !t.is_empty());
    texts
}

/// The tool-call texts of a record; a damaged one gives none (it is derived data, never the
/// truth).
pub fn tools(bytes: &[u8]) -> Vec<String> {
    serde_json::from_slice::<Record>(bytes)
        .map(|r| r.tools)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_holds_the_prompt_reply_and_each_calls_text() {
        let entries = [
            json!({"type": "assistant", "message": {"content": [
                {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cargo test"}}]}}),
            json!({"type": "user", "message": {"content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "error: \"Segfault\""}]}}),
        ];
        let record = encode("run the tests", "they fail", &entries);
        let text = String::from_utf8(record.clone()).unwrap();
        assert!(
            text.contains("run the tests") && text.contains("they fail"),
            "{text}"
        );
        let texts = tools(&record);
        assert_eq!(texts.len(), 1);
        assert!(texts[0].starts_with("Bash: cargo test\n"), "{}", texts[0]);
        assert!(texts[0].ends_with("error: \"Segfault\""));
        assert!(tools(&encode("p", "r", &[json!({"type": "user"})])).is_empty());
        assert!(tools(b"not json").is_empty());
    }

    #[test]
    fn huge_tool_text_is_cut_at_a_character_boundary() {
        let big = "é".repeat(MAX_TOOL_BYTES);
        let texts = tools(&encode_texts(
            "p",
            "r",
            vec!["first".into(), big, "never".into()],
        ));
        assert_eq!(texts.len(), 2);
        assert_eq!(texts[0], "first");
        assert!(texts[1].len() <= MAX_TOOL_BYTES - 5);
    }
}

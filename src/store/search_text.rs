//! The compact search text of a turn: what deep search looks in for its tool calls (one
//! [`crate::tool_calls::ToolCall::search_text`] per call — tool name, command or file, input,
//! output), kept in the store's `search` tree beside the turn so a search scans a few hundred
//! bytes a turn instead of its whole transcript lines. Stored as a JSON array of strings: a
//! word JSON never escapes is found in the bytes as they are, and only candidates are decoded.

use serde_json::Value;

/// The most search text one turn keeps (a turn that read huge files is cut there).
pub const MAX_BYTES: usize = 4 << 20;

/// The record for the tool calls of `entries`.
pub fn encode<'a>(entries: impl IntoIterator<Item = &'a Value>) -> Vec<u8> {
    encode_texts(crate::tool_calls::search_texts(entries))
}

/// The record holding `texts`, cut to [`MAX_BYTES`] in all.
pub fn encode_texts(mut texts: Vec<String>) -> Vec<u8> {
    let mut room = MAX_BYTES;
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
    serde_json::to_vec(&texts).unwrap_or_else(|_| b"[]".to_vec())
}

/// The texts of a record; a damaged one gives none (it is derived data, never the truth).
pub fn decode(bytes: &[u8]) -> Vec<String> {
    serde_json::from_slice(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_holds_each_calls_text_and_reads_back() {
        let entries = [
            json!({"type": "assistant", "message": {"content": [
                {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cargo test"}}]}}),
            json!({"type": "user", "message": {"content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "error: \"Segfault\""}]}}),
        ];
        let record = encode(&entries);
        let texts = decode(&record);
        assert_eq!(texts.len(), 1);
        assert!(texts[0].starts_with("Bash: cargo test\n"), "{}", texts[0]);
        assert!(texts[0].ends_with("error: \"Segfault\""));
        assert_eq!(
            encode(&[json!({"type": "user", "message": {"content": "hi"}})]),
            b"[]"
        );
        assert!(decode(b"not json").is_empty());
    }

    #[test]
    fn a_huge_record_is_cut_at_a_character_boundary() {
        let big = "é".repeat(MAX_BYTES);
        let record = encode_texts(vec!["first".into(), big, "never".into()]);
        let texts = decode(&record);
        assert_eq!(texts.len(), 2);
        assert_eq!(texts[0], "first");
        assert!(texts[1].len() <= MAX_BYTES - 5);
    }
}

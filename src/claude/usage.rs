//! Claude's token usage of one API call (`usage` in a transcript line, a stream-json event or
//! the status line's payload) and the one formula for the context size it implies.

use serde_json::Value;

/// Token usage of one API call, as Claude Code reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// Reads a `usage` object; missing or mistyped counts are 0.
    pub fn from_json(usage: &Value) -> Usage {
        let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
        Usage {
            input_tokens: n("input_tokens"),
            output_tokens: n("output_tokens"),
            cache_creation_input_tokens: n("cache_creation_input_tokens"),
            cache_read_input_tokens: n("cache_read_input_tokens"),
        }
    }

    /// The context the call saw: input + cache read + cache creation.
    pub fn context_tokens(&self) -> u64 {
        self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_input_plus_both_caches() {
        let usage = Usage::from_json(&serde_json::json!({
            "input_tokens": 720, "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 200, "output_tokens": 4, "service_tier": "standard"}));
        assert_eq!(usage.context_tokens(), 1020);
        assert_eq!(usage.output_tokens, 4);
        assert_eq!(
            Usage::from_json(&serde_json::json!({"input_tokens": "x"})),
            Usage::default()
        );
    }
}

//! A tiktoken estimate of how many tokens a text costs (`est_tokens` of a turn).
//!
//! Claude's own tokenizer is not public, so this is an estimate. We use `cl100k_base`:
//! its smaller vocabulary gives counts closer to (still a little under) Claude's than
//! `o200k_base`, which splits text into fewer, longer tokens; it is also cheaper to build and
//! hold in memory. The encoder is built once, lazily (50–130 ms, tens of MB), and `warm_up`
//! lets the caller pay that on a background thread before the first turn ends.
//!
//! `estimate_tokens` never panics: the input is cut into pieces of at most `CHUNK_BYTES`
//! (at a whitespace when one is near, always at a char boundary), because the BPE's regex
//! pre-splitter misbehaves on very long runs (o200k panics on ~1 M repeated spaces), and each
//! piece is counted inside `catch_unwind`, falling back to `chars / 4` if anything goes wrong
//! (including the encoder failing to build). A caught panic still goes through the process's
//! panic hook; chunking is what keeps that from happening.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

/// Largest piece handed to the encoder at once.
const CHUNK_BYTES: usize = 64 * 1024;

/// How far back from the cut point to look for a whitespace to split at.
const WHITESPACE_LOOKBACK: usize = 1024;

static ENCODER: OnceLock<Option<CoreBPE>> = OnceLock::new();

fn encoder() -> Option<&'static CoreBPE> {
    ENCODER
        .get_or_init(|| {
            catch_unwind(tiktoken_rs::cl100k_base)
                .ok()
                .and_then(Result::ok)
        })
        .as_ref()
}

/// Build the encoder on a background thread so the first `estimate_tokens` is fast.
/// Calling it more than once, or after the encoder exists, is harmless.
pub fn warm_up() {
    if ENCODER.get().is_some() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("ccx-tiktoken-warmup".into())
        .spawn(|| {
            let _ = encoder();
        });
}

/// Estimated token count of `text` (cl100k_base). Never panics; 0 for "".
pub fn estimate_tokens(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let Some(bpe) = encoder() else {
        return fallback(text);
    };
    chunks(text, CHUNK_BYTES)
        .map(|piece| {
            catch_unwind(AssertUnwindSafe(|| bpe.count_ordinary(piece) as u64))
                .unwrap_or_else(|_| fallback(piece))
        })
        .sum()
}

/// Rough estimate when the encoder is unavailable: one token per four characters.
fn fallback(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// Split `text` into pieces of at most `max` bytes (at least one char each), cutting after a
/// whitespace character near the limit when there is one, always at a char boundary.
fn chunks(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() <= max {
            let piece = rest;
            rest = "";
            return Some(piece);
        }
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 {
            // `max` smaller than the first char: take that char whole.
            cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
        } else {
            let floor = cut.saturating_sub(WHITESPACE_LOOKBACK);
            if let Some((i, c)) = rest[floor..cut]
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
            {
                let at = floor + i + c.len_utf8();
                if at > 0 {
                    cut = at;
                }
            }
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_zero() {
        assert_eq!(estimate_tokens(""), 0);
    }

    #[test]
    fn sentence_counts_tokens() {
        let n = estimate_tokens("The quick brown fox jumps over the lazy dog.");
        assert!((5..=15).contains(&n), "{n}");
    }

    #[test]
    fn two_megabytes_of_spaces_do_not_panic() {
        let spaces = " ".repeat(2 * 1024 * 1024);
        let n = estimate_tokens(&spaces);
        assert!(n > 0);
    }

    #[test]
    fn long_text_without_whitespace_and_multibyte() {
        let text = "é".repeat(100_000) + &"x".repeat(100_000) + "🙂";
        assert!(estimate_tokens(&text) > 0);
    }

    #[test]
    fn chunks_cover_text_at_char_boundaries() {
        let text = "héllo wörld ".repeat(10_000) + &"ü".repeat(70_000);
        let pieces: Vec<&str> = chunks(&text, CHUNK_BYTES).collect();
        assert!(pieces.len() > 2);
        assert!(pieces
            .iter()
            .all(|p| !p.is_empty() && p.len() <= CHUNK_BYTES));
        assert_eq!(pieces.concat(), text);
        // Tiny limits still make progress with multibyte chars.
        let tiny: Vec<&str> = chunks("🙂a🙂", 1).collect();
        assert_eq!(tiny, vec!["🙂", "a", "🙂"]);
    }

    #[test]
    fn chunking_prefers_whitespace() {
        let text = "aaaa bbbb cccc";
        let pieces: Vec<&str> = chunks(text, 7).collect();
        assert_eq!(pieces, vec!["aaaa ", "bbbb ", "cccc"]);
    }

    #[test]
    fn estimate_is_stable_across_chunking() {
        let text = "word ".repeat(40_000);
        let n = estimate_tokens(&text);
        assert!((35_000..=45_000).contains(&n), "{n}");
    }

    #[test]
    fn warm_up_is_harmless() {
        warm_up();
        warm_up();
        assert!(estimate_tokens("hello") > 0);
    }
}

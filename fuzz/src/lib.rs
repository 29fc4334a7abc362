//! The checks behind ccx's fuzz targets, shared by the cargo-fuzz binaries in `fuzz_targets/`
//! and by the plain replay test `tests/fuzz_regressions.rs` (which includes this file with
//! `#[path]`), so a crash input replays through exactly the same code with `cargo test`.
//! Each check panics when ccx panics or breaks the stated invariant.

use ccx::keys::{CcxKey, KeyFilter, Step};

/// Hook payloads and hook message lines: no panic; a parsed payload's session id is valid;
/// a parsed message survives `to_line`/`from_line`; errors are one line.
pub fn check_hook_payload(data: &[u8]) {
    use ccx::hooks::wire::{is_valid_session_id, parse_hook_payload, parse_payload, HookMessage};
    match parse_hook_payload(data) {
        Ok(event) => {
            assert!(
                is_valid_session_id(event.session_id().as_str()),
                "{event:?}"
            );
            assert!(parse_payload(data).is_ok());
        }
        Err(e) => one_line(&e.to_string()),
    }
    match HookMessage::from_line(data) {
        Ok(message) => {
            assert!(message.secret_matches(&message.secret.clone()));
            let again = HookMessage::from_line(&message.to_line())
                .unwrap_or_else(|e| panic!("a parsed message does not parse again: {e}"));
            assert_eq!(again, message, "round trip through to_line");
            if let Err(e) = message.event() {
                one_line(&e.to_string());
            }
        }
        Err(e) => one_line(&e.to_string()),
    }
    // The same bytes as the payload of a well-formed message.
    if let Ok(payload) = serde_json::from_slice::<serde_json::Value>(data) {
        let message = HookMessage {
            secret: "s".into(),
            payload,
            nonce: None,
        };
        let line = message.to_line();
        let back = HookMessage::from_line(&line).expect("a message ccx wrote parses");
        let direct = parse_hook_payload(data).ok();
        let wrapped = back.event().ok();
        assert_eq!(direct, wrapped, "payload alone and inside a message agree");
    }
}

/// Transcript text: no panic; `split_turns` partitions the parsed lines in order;
/// `turn_since` returns a suffix of them.
pub fn check_transcript(data: &[u8]) {
    use ccx::transcript::{parse_lines, split_turns, turn_since};
    let text = String::from_utf8_lossy(data);
    let lines = parse_lines(&text);
    let raws: Vec<&serde_json::Value> = lines.iter().map(|l| &l.raw).collect();
    let turns = split_turns(&lines);
    let joined: Vec<&serde_json::Value> = turns.iter().flat_map(|(e, _)| e.iter()).collect();
    assert_eq!(
        joined, raws,
        "split_turns must partition the lines in order"
    );
    let mut afters: Vec<Option<&str>> = vec![None, Some("no-such-uuid")];
    afters.extend(
        lines
            .iter()
            .take(16)
            .filter_map(|l| l.uuid.as_deref())
            .map(Some),
    );
    for after in afters {
        let (entries, _facts) = turn_since(&lines, after);
        assert!(entries.len() <= raws.len());
        let tail = &raws[raws.len() - entries.len()..];
        assert!(
            entries.iter().zip(tail).all(|(a, b)| a == *b),
            "turn_since({after:?}) must return a suffix of the lines"
        );
    }
}

/// The longest incomplete sequence the filter may hold back between reads.
const MAX_CARRY: usize = 64 * 1024;

/// The key filter over arbitrary chunks: every byte comes out once and in order, except the
/// ones consumed as editor triggers (the ccx key, legacy or CSI-u or modifyOtherKeys, and a
/// lone `:` in any of its encodings), and at most an incomplete sequence of `MAX_CARRY` bytes
/// is held back at the end of a read (all of it goes on at a pause).
///
/// Layout of `data`: byte 0 picks the ccx key, byte 1 seeds the chunk sizes, the pauses and
/// the screen's "prompt looks empty" answers; the rest is the input.
pub fn check_key_filter(data: &[u8]) {
    let (key, seed, input) = match data {
        [k, s, rest @ ..] => (*k, *s, rest),
        _ => return,
    };
    let keys = ["ctrl-]", "ctrl-g", "ctrl-a", "ctrl-\\", "ctrl-_", "ctrl-x"];
    let ccx_key = CcxKey::parse(keys[key as usize % keys.len()]).expect("valid key");
    let cp = ccx_key.codepoint;
    let triggers: Vec<Vec<u8>> = vec![
        vec![ccx_key.byte],
        format!("\x1b[{cp};5u").into_bytes(),
        format!("\x1b[{cp};5:1u").into_bytes(),
        format!("\x1b[27;5;{cp}~").into_bytes(),
    ];
    let mut filter = KeyFilter::new(ccx_key);
    let mut rng = u64::from(seed) | 0x9e37_79b9_0000_0000;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // What the filter has been given but not yet accounted for (its carry).
    let mut pending: Vec<u8> = Vec::new();
    let account = |steps: Vec<Step>, pending: &mut Vec<u8>| {
        for step in steps {
            match step {
                Step::Forward(bytes) => {
                    assert!(!bytes.is_empty(), "empty forward");
                    assert!(
                        pending.starts_with(&bytes),
                        "forwarded {bytes:?}, but the next input bytes are {pending:?}"
                    );
                    pending.drain(..bytes.len());
                }
                Step::OpenEditor => {
                    let trigger = triggers
                        .iter()
                        .find(|t| pending.starts_with(t))
                        .map(|t| t.len())
                        .or_else(|| colon_at_start(pending));
                    let len = trigger.unwrap_or_else(|| {
                        panic!("editor opened, but the next input bytes {pending:?} are no trigger")
                    });
                    pending.drain(..len);
                }
            }
        }
    };
    let mut at = 0;
    while at < input.len() {
        let size = (next() % 16 + 1) as usize;
        let chunk = &input[at..(at + size).min(input.len())];
        at += chunk.len();
        let empty = next() & 1 == 0;
        pending.extend_from_slice(chunk);
        let steps = filter.feed(chunk, || empty);
        account(steps, &mut pending);
        assert!(
            pending.len() <= MAX_CARRY,
            "{} bytes held back: {pending:?}",
            pending.len()
        );
        if next() % 4 == 0 {
            let steps = filter.on_pause();
            account(steps, &mut pending);
            assert!(pending.is_empty(), "a pause left {pending:?} held back");
        }
    }
}

/// A lone `:` the filter consumed may be preceded by terminal replies it passed on first; at
/// the front of what is pending it is `:` itself or one of its key encodings.
fn colon_at_start(pending: &[u8]) -> Option<usize> {
    [&b":"[..], b"\x1b[58u", b"\x1b[27;2;58~", b"\x1b[27;1;58~"]
        .iter()
        .find(|c| pending.starts_with(c))
        .map(|c| c.len())
        .or_else(|| {
            // Any CSI-u form whose text is `:` (`ESC [ 58 ; 1 u`, `ESC [ 59:58 ; 2 u`, ...).
            let end = pending.iter().position(|&b| b == b'u')?;
            (ccx::keys::text_char(&pending[..=end]) == Some(':')).then_some(end + 1)
        })
}

/// The meta-command parser: no panic on any UTF-8 line; an error is one non-empty line.
pub fn check_meta_parser(data: &[u8]) {
    if let Ok(line) = std::str::from_utf8(data) {
        if let Err(e) = ccx::meta::parse::parse_meta(line) {
            let message = e.to_string();
            assert!(!message.is_empty(), "empty error for {line:?}");
            one_line(&message);
        }
    }
}

fn one_line(message: &str) {
    assert!(!message.contains('\n'), "multi-line error: {message:?}");
}

/// A check: panics on a failure.
pub type Check = fn(&[u8]);

/// The four targets by name, for replaying corpus and regression files.
pub const TARGETS: &[(&str, Check)] = &[
    ("hook_payload", check_hook_payload),
    ("transcript", check_transcript),
    ("key_filter", check_key_filter),
    ("meta_parser", check_meta_parser),
];

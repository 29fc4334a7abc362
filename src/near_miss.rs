//! `ccx logg`: a lone word close to a ccx subcommand is probably a typo, not a prompt. ccx asks
//! first (one key from the terminal) instead of starting Claude with it; without a terminal to
//! ask on, it refuses in one line.

use anyhow::{bail, Result};
use std::io::{Read, Write};

/// What the person chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Run the suggested subcommand.
    Suggested,
    /// Send the word to Claude as the prompt.
    Claude,
    /// Do nothing.
    Nothing,
}

/// The question, as shown.
pub fn question(suggestion: &str) -> String {
    format!("did you mean `ccx {suggestion}`? [y/N/send to Claude] ")
}

/// The answer a key means: `y` the suggestion, `s` (or `c`) Claude, anything else nothing.
pub fn answer_for_key(key: u8) -> Answer {
    match key.to_ascii_lowercase() {
        b'y' => Answer::Suggested,
        b's' | b'c' => Answer::Claude,
        _ => Answer::Nothing,
    }
}

/// Asks on the terminal and reads one key; an error (nothing started) when standard input or
/// standard error is not a terminal.
pub fn ask(word: &str, suggestion: &str) -> Result<Answer> {
    if !crate::terminal::is_tty(0) || !crate::terminal::is_tty(2) {
        bail!(
            "{}(not asked: no terminal; run `ccx {suggestion}`, or `ccx -- {word}` to send \
             '{word}' to Claude)",
            question(suggestion)
        );
    }
    eprint!("ccx: {}", question(suggestion));
    std::io::stderr().flush()?;
    let key = {
        let _raw = crate::terminal::RawModeGuard::enter(0)?;
        let mut byte = [0u8; 1];
        match std::io::stdin().lock().read(&mut byte) {
            Ok(1) => byte[0],
            _ => b'n',
        }
    };
    let answer = answer_for_key(key);
    eprintln!(
        "{}",
        match answer {
            Answer::Suggested => "y",
            Answer::Claude => "send to Claude",
            Answer::Nothing => "no",
        }
    );
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_choose_the_answer() {
        assert_eq!(answer_for_key(b'y'), Answer::Suggested);
        assert_eq!(answer_for_key(b'Y'), Answer::Suggested);
        assert_eq!(answer_for_key(b's'), Answer::Claude);
        assert_eq!(answer_for_key(b'\r'), Answer::Nothing);
        assert_eq!(answer_for_key(b'n'), Answer::Nothing);
        assert_eq!(answer_for_key(0x1b), Answer::Nothing);
    }
}

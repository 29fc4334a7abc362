//! The words of a meta-command line and the checks every command's parser shares: a lexer with
//! simple shell-like rules, options and positionals, free text kept verbatim, turn references
//! and new branch names checked for form, and the one-line [`MetaError`].
//!
//! Words are split with simple shell-like rules — whitespace separates, `'…'` and `"…"` group,
//! a backslash escapes the next character (inside double quotes only `"` and `\`) — but nothing
//! is ever given to a shell. A quoted word is never taken as an option. Free text (the FOCUS of
//! `:compact`, the TASK of `:subagent`, the PROMPT after ` -- ` of `:rewind`) is kept verbatim,
//! apostrophes and all; only when it is one fully quoted word are the quotes removed.

use crate::refs::{parse_turn_ref, validate_branch_name};
use std::fmt;

/// Why a line is not a valid meta-command: one line, naming the problem and, where there is
/// one, the nearest valid name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaError(pub String);

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MetaError {}

/// User text quoted in an error: one line, at most 40 characters.
pub fn clip(s: &str) -> String {
    clip_to(s, 40)
}

/// `s` made one line (control characters escaped) and cut to `max` characters.
pub fn clip_to(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn err(msg: impl Into<String>) -> MetaError {
    MetaError(msg.into())
}

/// One word of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Some part of it was quoted or escaped: never an option.
    pub quoted: bool,
}

impl Word {
    /// An unquoted word that looks like an option (`-n`, `--code`); `-` alone is not.
    pub fn is_option(&self) -> bool {
        !self.quoted && self.text.starts_with('-') && self.text.len() > 1
    }
}

/// Reads words one at a time, so free text after them can be taken verbatim.
pub struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(s: &'a str) -> Self {
        Lexer { s, pos: 0 }
    }

    /// The unread text, without leading whitespace.
    pub fn rest(&self) -> &'a str {
        self.s[self.pos..].trim_start()
    }

    pub fn next_word(&mut self) -> Result<Option<Word>, MetaError> {
        let rest = &self.s[self.pos..];
        let start = rest.len() - rest.trim_start().len();
        let mut chars = rest[start..].char_indices().peekable();
        let mut text = String::new();
        let mut quoted = false;
        let mut started = false;
        let mut end = rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c.is_whitespace() => {
                    end = start + i;
                    break;
                }
                '\'' | '"' => {
                    started = true;
                    quoted = true;
                    let mut closed = false;
                    while let Some((_, q)) = chars.next() {
                        if q == c {
                            closed = true;
                            break;
                        }
                        if c == '"' && q == '\\' {
                            if let Some(&(_, n)) = chars.peek() {
                                if n == '"' || n == '\\' {
                                    text.push(n);
                                    chars.next();
                                    continue;
                                }
                            }
                        }
                        text.push(q);
                    }
                    if !closed {
                        return Err(err(format!("unterminated {c} quote")));
                    }
                }
                '\\' => {
                    started = true;
                    quoted = true;
                    match chars.next() {
                        Some((_, n)) => text.push(n),
                        None => text.push('\\'),
                    }
                }
                c => {
                    started = true;
                    text.push(c);
                }
            }
        }
        self.pos += end;
        Ok(started.then_some(Word { text, quoted }))
    }

    pub fn all_words(&mut self) -> Result<Vec<Word>, MetaError> {
        let mut words = Vec::new();
        while let Some(w) = self.next_word()? {
            words.push(w);
        }
        Ok(words)
    }
}

/// Free text: verbatim, except that a text that is exactly one quoted word loses its quotes.
pub fn free_text(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let first = s.chars().next();
    if matches!(first, Some('\'' | '"')) && s.ends_with(first.unwrap_or(' ')) {
        let mut lexer = Lexer::new(s);
        if let Ok(Some(word)) = lexer.next_word() {
            if lexer.rest().is_empty() && !word.text.trim().is_empty() {
                return Some(word.text);
            }
        }
    }
    Some(s.to_string())
}

/// An option a command accepts.
pub struct Flag {
    /// Spellings; the first is the canonical one.
    pub names: &'static [&'static str],
    /// What its value is (for "needs …" errors), or None for a switch.
    pub value: Option<&'static str>,
}

impl Flag {
    /// An option that takes a value (`what` names it in "needs …" errors).
    pub const fn valued(names: &'static [&'static str], what: &'static str) -> Flag {
        Flag {
            names,
            value: Some(what),
        }
    }

    /// An option without a value.
    pub const fn switch(names: &'static [&'static str]) -> Flag {
        Flag { names, value: None }
    }
}

const HELP_FLAG: Flag = Flag {
    names: &["--help", "-h"],
    value: None,
};

/// Options (canonical name, value) and positional words of a command's arguments.
pub struct Args {
    pub flags: Vec<(&'static str, Option<String>)>,
    pub positionals: Vec<String>,
}

impl Args {
    pub fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| *n == name)
    }
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Splits words into known options and positionals. `--` ends the options; `--flag=value`
/// and `-nVALUE` are accepted for options that take a value.
pub fn split_args(cmd: &str, words: Vec<Word>, flags: &[Flag]) -> Result<Args, MetaError> {
    let mut parsed = Args {
        flags: Vec::new(),
        positionals: Vec::new(),
    };
    let mut words = words.into_iter();
    let mut options_done = false;
    while let Some(word) = words.next() {
        if options_done || !word.is_option() {
            parsed.positionals.push(word.text);
            continue;
        }
        if word.text == "--" {
            options_done = true;
            continue;
        }
        let text = word.text.as_str();
        let mut found = None;
        for flag in flags.iter().chain(std::iter::once(&HELP_FLAG)) {
            for name in flag.names {
                if text == *name {
                    found = Some((flag, None));
                } else if flag.value.is_some() {
                    if let Some(v) = text.strip_prefix(name) {
                        if let Some(v) = v.strip_prefix('=') {
                            found = Some((flag, Some(v.to_string())));
                        } else if !name.starts_with("--") {
                            found = Some((flag, Some(v.to_string())));
                        }
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            if found.is_some() {
                break;
            }
        }
        let Some((flag, inline)) = found else {
            return Err(err(format!("unknown option '{}' for :{cmd}", clip(text))));
        };
        let canonical = flag.names[0];
        if parsed.has(canonical) {
            return Err(err(format!("{canonical} is given twice")));
        }
        let value = match (flag.value, inline) {
            (None, _) => None,
            (Some(_), Some(v)) => Some(v),
            (Some(what), None) => match words.next() {
                Some(w) if !w.is_option() => Some(w.text),
                _ => return Err(err(format!("{canonical} needs {what}"))),
            },
        };
        parsed.flags.push((canonical, value));
    }
    Ok(parsed)
}

/// Checks a turn reference's form; keeps it as typed.
pub fn turn_arg(cmd: &str, s: &str) -> Result<String, MetaError> {
    parse_turn_ref(s)
        .map(|_| s.trim().to_string())
        .map_err(|e| err(format!(":{cmd}: {}", clip_to(&e.to_string(), 120))))
}

/// Checks the form of a branch name about to be created.
pub fn new_branch_arg(cmd: &str, s: &str) -> Result<String, MetaError> {
    validate_branch_name(s)
        .map(|_| s.to_string())
        .map_err(|reason| {
            err(format!(
                ":{cmd}: '{}' is not a valid branch name: {reason}",
                clip(s)
            ))
        })
}

pub fn joined(words: &[String]) -> String {
    clip(&words.join(" "))
}

/// No positional allowed.
pub fn no_args(cmd: &str, p: &Args) -> Result<(), MetaError> {
    if p.positionals.is_empty() {
        Ok(())
    } else {
        Err(err(format!(
            ":{cmd} takes no arguments, got '{}'",
            joined(&p.positionals)
        )))
    }
}

/// At most `max` positionals, described as `what` ("one BRANCH").
pub fn at_most(cmd: &str, p: &Args, max: usize, what: &str) -> Result<(), MetaError> {
    if p.positionals.len() <= max {
        Ok(())
    } else {
        Err(err(format!(
            ":{cmd} takes at most {what}, got '{}'",
            joined(&p.positionals)
        )))
    }
}

/// At least the positionals `names` (e.g. ["NAME"]); `example` completes the "needs" message.
pub fn at_least(cmd: &str, p: &Args, names: &[&str], example: &str) -> Result<(), MetaError> {
    let n = p.positionals.len();
    if n < names.len() {
        let missing = match &names[n..] {
            [one] => format!("a {one}"),
            more => more.join(" and "),
        };
        return Err(err(format!(":{cmd} needs {missing} (e.g. {example})")));
    }
    Ok(())
}

/// The words of a command without options that takes exactly the positionals `names`
/// (`:kill JOB`, `:diff A B`), or the refusal [`exactly`] gives.
pub fn exact_words<const N: usize>(
    cmd: &str,
    words: Vec<Word>,
    names: &[&str],
    example: &str,
) -> Result<[String; N], MetaError> {
    let p = split_args(cmd, words, &[])?;
    exactly(cmd, &p, names, example)?;
    Ok(p.positionals.try_into().expect("exactly N positionals"))
}

/// The one optional word of a command without options (`:pull [JOB]`), or the refusal
/// [`at_most`] gives (`what` is "one JOB").
pub fn optional_word(cmd: &str, words: Vec<Word>, what: &str) -> Result<Option<String>, MetaError> {
    let p = split_args(cmd, words, &[])?;
    at_most(cmd, &p, 1, what)?;
    Ok(p.positionals.into_iter().next())
}

/// Exactly the positionals `names` (e.g. ["TURN"]); `example` completes the "needs" message.
pub fn exactly(cmd: &str, p: &Args, names: &[&str], example: &str) -> Result<(), MetaError> {
    at_least(cmd, p, names, example)?;
    if p.positionals.len() > names.len() {
        let what = match names {
            [one] => format!("one {one}"),
            more => more.join(" and "),
        };
        return Err(err(format!(
            ":{cmd} takes {what}, got '{}'",
            joined(&p.positionals)
        )));
    }
    Ok(())
}

/// An optional turn reference, checked for form.
pub fn optional_turn(cmd: &str, s: Option<&String>) -> Result<Option<String>, MetaError> {
    s.map(|t| turn_arg(cmd, t)).transpose()
}

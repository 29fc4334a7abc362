//! `ccx export [BRANCH] [--format md|json|html] [-o FILE] [--redact] [--force]`: a branch's
//! conversation (its lineage, across fork points) as Markdown that reads well, as the turn
//! records in JSON, or as one self-contained HTML page.
//!
//! What is exported comes from [`crate::query::export`], the text from
//! [`crate::render::export`]. Here: [`redact`] / [`redact_turns`] / [`redact_extras`] (mask
//! secrets) and [`export_to`] (write a file, owner-only), shared with the `:export`
//! meta-command, and the command itself.

use crate::model::{Branch, Turn};
use crate::query::export::{pick_format, Export, ExportFormat, HtmlExtras};
use crate::render::export::render;
use anyhow::{Context, Result};
use regex::{Captures, Regex};
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::OnceLock;

/// Writes the export to `path` (owner-only, replacing it), redacting secrets first when asked.
/// Returns how many secrets were masked.
pub fn export_to(
    path: &Path,
    branch: &Branch,
    turns: &[Turn],
    format: ExportFormat,
    extras: &HtmlExtras,
    redact_secrets: bool,
) -> Result<usize> {
    let mut turns = turns.to_vec();
    let mut extras = extras.clone();
    let masked = if redact_secrets {
        redact_turns(&mut turns) + redact_extras(&mut extras)
    } else {
        0
    };
    let text = render(branch, &turns, format, &extras)?;
    write_private(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(masked)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

// ---------------------------------------------------------------------------------------------
// Redaction

/// How a pattern's match is masked.
#[derive(Clone, Copy)]
enum Mask {
    /// Replace the whole match.
    Whole(&'static str),
    /// Keep group 1 (e.g. `NAME=`), replace group 2 (the value).
    Value(&'static str),
}

struct Rule {
    re: Regex,
    mask: Mask,
    /// Extra check on the secret itself (rejects look-alikes such as words).
    check: Check,
}

/// A check on a secret itself, true when it should be masked.
type Check = fn(&str) -> bool;

fn any(_: &str) -> bool {
    true
}

/// Real keys mix letters and digits; words and hyphenated phrases do not.
fn has_digit_and_letter(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// A value worth masking: not empty, not already masked, not a reference to another variable.
fn real_value(s: &str) -> bool {
    let v = s.trim().trim_matches(|c| c == '"' || c == '\'');
    !v.is_empty() && !v.contains("[REDACTED") && !v.starts_with("${") && !v.starts_with('$')
}

/// The secrets redaction looks for: a pattern, how its match is masked, and a check the
/// secret itself must pass (one row a kind of secret).
#[rustfmt::skip]
const PATTERNS: &[(&str, Mask, Check)] = &[
    (r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)", Mask::Whole("[REDACTED PRIVATE KEY]"), any),
    (r"\bsk-ant-[A-Za-z0-9_\-]{20,}", Mask::Whole("[REDACTED anthropic key]"), has_digit_and_letter),
    (r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}", Mask::Whole("[REDACTED openai key]"), has_digit_and_letter),
    (r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}\b", Mask::Whole("[REDACTED github token]"), any),
    (r"\bgithub_pat_[A-Za-z0-9_]{22,}", Mask::Whole("[REDACTED github token]"), any),
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", Mask::Whole("[REDACTED aws key id]"), any),
    (r#"(?i)(aws_secret_access_key["']?\s*[=:]\s*["']?)([A-Za-z0-9/+=]{40})"#, Mask::Value("[REDACTED aws secret]"), any),
    (r"\bxox[abprs]-[A-Za-z0-9\-]{10,}", Mask::Whole("[REDACTED slack token]"), has_digit_and_letter),
    (r"\bAIza[0-9A-Za-z_\-]{35}", Mask::Whole("[REDACTED google key]"), any),
    (r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=\-]{16,})", Mask::Value("[REDACTED token]"), has_digit_and_letter),
    // .env-style assignments (`NAME=value`, `NAME: value`); the name is checked by
    // `secret_name`.
    (r"(?m)^([ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t]*[=:][ \t]*)([^\s#].*?)[ \t]*$", Mask::Value("[REDACTED]"), real_value),
];

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        PATTERNS
            .iter()
            .map(|&(re, mask, check)| Rule {
                re: Regex::new(re).expect("redaction patterns compile"),
                mask,
                check,
            })
            .collect()
    })
}

/// True when an env-style name has a KEY/SECRET/TOKEN/PASSWORD part: any part of an
/// upper-case name (`API_KEY`, `GITHUB_TOKEN_RO`), the last part of another name (`db_password`,
/// `apiKey`), never those letters inside a word (`monkey`, `tokenizer`, `key_points`).
fn secret_name(prefix: &str) -> bool {
    const PARTS: &[&str] = &["KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "APIKEY"];
    let name = prefix.trim();
    let name = name.strip_prefix("export").map_or(name, str::trim_start);
    let name = name.trim_end_matches([' ', '\t', '=', ':']);
    if name.is_empty() {
        return false;
    }
    let upper = name.to_ascii_uppercase();
    let is_secret = |part: &str| PARTS.contains(&part);
    if name == upper {
        return upper.split('_').any(is_secret);
    }
    if upper.rsplit('_').next().is_some_and(is_secret) {
        return true;
    }
    // camelCase: `apiKey`, `authToken`, `clientSecret`.
    ["Key", "Token", "Secret", "Password"]
        .iter()
        .any(|end| name.len() > end.len() && name.ends_with(end))
}

/// Masks secrets in `text`: provider API keys and tokens (Anthropic, OpenAI, GitHub, AWS,
/// Slack, Google, `Bearer` tokens), PEM private keys, and the values of `.env`-style
/// assignments whose name has a KEY/SECRET/TOKEN/PASSWORD part. Returns the masked text and
/// how many secrets were masked.
pub fn redact(text: &str) -> (String, usize) {
    let mut out = text.to_string();
    let mut count = 0;
    for (i, rule) in rules().iter().enumerate() {
        let is_env_rule = i == rules().len() - 1;
        let replaced = rule.re.replace_all(&out, |caps: &Captures<'_>| {
            let whole = caps.get(0).map_or("", |m| m.as_str());
            match rule.mask {
                Mask::Whole(mask) => {
                    if (rule.check)(whole) {
                        count += 1;
                        mask.to_string()
                    } else {
                        whole.to_string()
                    }
                }
                Mask::Value(mask) => {
                    let prefix = caps.get(1).map_or("", |m| m.as_str());
                    let value = caps.get(2).map_or("", |m| m.as_str());
                    let ok = (rule.check)(value) && (!is_env_rule || secret_name(prefix));
                    if ok {
                        count += 1;
                        let rest = &whole[prefix.len() + value.len()..];
                        format!("{prefix}{mask}{rest}")
                    } else {
                        whole.to_string()
                    }
                }
            }
        });
        if let std::borrow::Cow::Owned(s) = replaced {
            out = s;
        }
    }
    (out, count)
}

/// Redacts the prompt, typed input and reply of every turn; returns how many were masked.
pub fn redact_turns(turns: &mut [Turn]) -> usize {
    let mut total = 0;
    for turn in turns {
        for field in [&mut turn.prompt, &mut turn.reply] {
            let (text, n) = redact(field);
            if n > 0 {
                *field = text;
                total += n;
            }
        }
        if let Some(input) = turn.input.as_mut() {
            let (text, n) = redact(input);
            if n > 0 {
                *input = text;
                total += n;
            }
        }
    }
    total
}

/// Redacts the summary, input and output of every tool call; returns how many were masked.
pub fn redact_extras(extras: &mut HtmlExtras) -> usize {
    let mut total = 0;
    for call in extras.tools.values_mut().flatten() {
        for field in [&mut call.summary, &mut call.input, &mut call.output] {
            let (text, n) = redact(field);
            if n > 0 {
                *field = text;
                total += n;
            }
        }
    }
    total
}

// ---------------------------------------------------------------------------------------------
// The command

/// Asks "overwrite FILE? [y/N]" on the terminal; true on yes.
fn confirm_overwrite(path: &Path) -> Result<bool> {
    eprint!("overwrite {}? [y/N] ", path.display());
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

/// `ccx export [BRANCH] [--format md|json|html] [-o FILE] [--redact] [--force]`.
pub fn run(
    branch: Option<String>,
    format: Option<String>,
    output: Option<std::path::PathBuf>,
    redact_secrets: bool,
    force: bool,
) -> Result<i32> {
    let format = pick_format(format.as_deref(), output.as_deref())?;
    let store = super::open_here()?;
    let export = crate::query::export::load(&store, branch.as_deref(), format)?;
    match output {
        Some(path) => to_file(&path, &export, format, redact_secrets, force),
        None => to_stdout(export, format, redact_secrets),
    }
}

/// Writes the export to `path`, asking first (on a terminal) before replacing a file unless
/// `force`; says what was written on standard error.
fn to_file(
    path: &Path,
    export: &Export,
    format: ExportFormat,
    redact_secrets: bool,
    force: bool,
) -> Result<i32> {
    if path.exists() && !force {
        if crate::terminal::is_tty(0) {
            if !confirm_overwrite(path)? {
                eprintln!("ccx: not exported: {} kept as it was", path.display());
                return Ok(1);
            }
        } else {
            eprintln!(
                "ccx: {} exists; not overwriting it (use --force to replace it)",
                path.display()
            );
            return Ok(1);
        }
    }
    let masked = export_to(
        path,
        &export.branch,
        &export.turns,
        format,
        &export.extras,
        redact_secrets,
    )
    .map_err(|e| anyhow::anyhow!("{e:#}: nothing exported"))?;
    if redact_secrets {
        eprintln!("ccx: masked {masked} secret{}", plural(masked));
    }
    eprintln!(
        "ccx: exported {} turn{} of {} to {}",
        export.turns.len(),
        plural(export.turns.len()),
        export.branch.name,
        path.display()
    );
    Ok(0)
}

/// Writes the export to standard output.
fn to_stdout(export: Export, format: ExportFormat, redact_secrets: bool) -> Result<i32> {
    let Export {
        branch,
        mut turns,
        mut extras,
    } = export;
    let masked = if redact_secrets {
        redact_turns(&mut turns) + redact_extras(&mut extras)
    } else {
        0
    };
    let text = render(&branch, &turns, format, &extras)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    if redact_secrets {
        eprintln!("ccx: masked {masked} secret{}", plural(masked));
    }
    Ok(0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::fixtures::turn;

    #[test]
    fn redacts_planted_provider_keys() {
        let planted = [
            "sk-ant-api03-AbCdEfGh1234567890_abcdefghijklmnop-XYZ",
            "sk-proj-abcDEF1234567890abcdefghijklmnopqrstuv",
            "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            "ghs_1234567890abcdefghijklmnopqrstuvwxyz",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "AKIAIOSFODNN7EXAMPLE",
            "xoxb-123456789012-abcdefghijkl",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        ];
        for key in planted {
            let text = format!("use {key} for it");
            let (out, n) = redact(&text);
            assert_eq!(n, 1, "{key} -> {out}");
            assert!(!out.contains(key), "{key} survived: {out}");
            assert!(
                out.starts_with("use [REDACTED") && out.ends_with(" for it"),
                "{out}"
            );
        }
    }

    #[test]
    fn redacts_bearer_aws_secret_pem_and_env_values() {
        let (out, n) = redact("curl -H 'Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.abc123def'");
        assert_eq!(n, 1, "{out}");
        assert!(out.contains("Bearer [REDACTED token]'"), "{out}");

        let (out, n) = redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
        assert_eq!(n, 1, "{out}");
        assert!(!out.contains("wJalrXUtnFEMI"), "{out}");

        let pem = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\ndone";
        let (out, n) = redact(pem);
        assert_eq!(n, 1, "{out}");
        assert_eq!(out, "key:\n[REDACTED PRIVATE KEY]\ndone");

        let env = "DATABASE_PASSWORD=hunter2\nexport API_KEY=\"abc\"\nGITHUB_TOKEN: xyz\nPORT=8080\nSECRET=s3cr3t # note\nEMPTY_TOKEN=\n";
        let (out, n) = redact(env);
        assert_eq!(n, 4, "{out}");
        assert!(out.contains("DATABASE_PASSWORD=[REDACTED]"), "{out}");
        assert!(out.contains("export API_KEY=[REDACTED]"), "{out}");
        assert!(out.contains("GITHUB_TOKEN: [REDACTED]"), "{out}");
        assert!(out.contains("PORT=8080"), "{out}");
        assert!(!out.contains("hunter2") && !out.contains("s3cr3t"), "{out}");
        assert!(out.contains("EMPTY_TOKEN=\n"), "{out}");

        // A provider key in an env line is masked once, not twice.
        let (out, n) = redact("ANTHROPIC_API_KEY=sk-ant-api03-AAAAAAAAAAAAAAAA1111111111");
        assert_eq!(n, 1, "{out}");
        assert_eq!(out, "ANTHROPIC_API_KEY=[REDACTED anthropic key]");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "Let me sk-etch the task-list: a risk-free plan. The monkey = banana, \
                    tokenizer = bpe, the bearer of news, keyboard: qwerty, \
                    ask-anything-you-like-about-this-long-phrase, AKIA is a name.\n\
                    key_points = many\nmy-task-sk-items\nPASSWORD_HINT_LENGTH is documented";
        let (out, n) = redact(text);
        assert_eq!(n, 0, "{out}");
        assert_eq!(out, text);
    }

    #[test]
    fn redact_turns_counts_every_field() {
        let mut turns = vec![turn(
            1,
            "main",
            None,
            "key sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA1234",
            "ok",
        )];
        turns[0].input = Some("API_KEY=abc".into());
        assert_eq!(redact_turns(&mut turns), 2);
        assert!(!turns[0].prompt.contains("AAAA"));
        assert_eq!(turns[0].input.as_deref(), Some("API_KEY=[REDACTED]"));
    }

    #[test]
    fn export_to_writes_an_owner_only_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.md");
        let branch = Branch {
            name: "main".into(),
            ..Default::default()
        };
        let turns = vec![turn(1, "main", None, "TOKEN=abc", "r")];
        let masked = export_to(
            &path,
            &branch,
            &turns,
            ExportFormat::Md,
            &HtmlExtras::default(),
            true,
        )
        .unwrap();
        assert_eq!(masked, 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("TOKEN=[REDACTED]"), "{text}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn redaction_reaches_tool_calls() {
        let mut extras = HtmlExtras::default();
        extras.tools.insert(
            crate::ids::TurnId(1),
            vec![crate::tool_calls::ToolCall {
                name: "Bash".into(),
                summary: "export API_KEY=abc123".into(),
                input: "{\"command\": \"curl -H 'Authorization: Bearer abcdef0123456789xyz'\"}"
                    .into(),
                output: "ghp_abcdefghijklmnopqrstuvwxyz0123456789".into(),
                is_error: false,
            }],
        );
        assert_eq!(redact_extras(&mut extras), 3);
        let call = &extras.tools[&crate::ids::TurnId(1)][0];
        assert!(!call.summary.contains("abc123"), "{call:?}");
        assert!(!call.input.contains("abcdef0123456789xyz"), "{call:?}");
        assert!(!call.output.contains("ghp_"), "{call:?}");
    }
}

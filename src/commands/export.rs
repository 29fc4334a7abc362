//! `ccx export [BRANCH] [--format md|json|html] [-o FILE] [--redact] [--force]`: a branch's
//! conversation (its lineage, across fork points) as Markdown that reads well, as the turn
//! records in JSON, or as one self-contained HTML page (see `export_html`).
//!
//! The pieces are pure and shared with the `:export` meta-command: [`render_markdown`],
//! [`render`] (any format), [`redact`] / [`redact_turns`] / [`redact_extras`] (mask secrets),
//! [`gather_extras`] (what HTML shows beyond the turns) and [`export_to`] (write a file,
//! owner-only).

use super::export_html::{render_html, HtmlExtras};
use crate::meta::ExportFormat;
use crate::model::{Branch, Turn};
use crate::store::Store;
use anyhow::{Context, Result};
use regex::{Captures, Regex};
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Markdown

/// `3m`, `12s`, `1h5m`: how long a turn took; "" when unknown.
fn duration(turn: &Turn) -> String {
    let (Some(end), Ok(start)) = (
        turn.ended_at
            .as_deref()
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok()),
        chrono::DateTime::parse_from_rfc3339(&turn.started_at),
    ) else {
        return String::new();
    };
    let secs = (end - start).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        _ => format!("{}h{}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// True when a prompt is best shown as a fenced block: it holds a code fence or indented code.
fn looks_like_code(text: &str) -> bool {
    text.contains("```")
        || text
            .lines()
            .any(|l| l.starts_with("    ") || l.starts_with('\t'))
}

/// A fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn quote(text: &str) -> String {
    let mut out = String::new();
    for line in text.trim_end().lines() {
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
    }
    if out.is_empty() {
        out.push_str("> *(empty)*\n");
    }
    out
}

fn block(text: &str) -> String {
    if looks_like_code(text) {
        let fence = fence_for(text);
        format!("{fence}text\n{}\n{fence}\n", text.trim_end())
    } else {
        quote(text)
    }
}

/// The branch's conversation as Markdown: a title, the branch (session, parent and fork point,
/// head, turn count), then per turn a header (`## #12 · prompt · 3m · 45.2k ctx`), the prompt
/// (a quote, or a fenced block when it holds code), what the person typed when a meta-command
/// rewrote it, the reply, tokens and files; a note where the lineage crosses onto another branch.
/// `turns` is the branch's lineage, oldest first (as `Store::lineage` gives it).
pub fn render_markdown(branch: &Branch, turns: &[Turn]) -> String {
    use super::render::tokens;
    let mut out = format!("# ccx: branch `{}`\n\n", branch.name);
    out.push_str(&format!("- **branch:** `{}`\n", branch.name));
    match (&branch.parent_branch, branch.fork_turn) {
        (Some(parent), Some(fork)) => out.push_str(&format!(
            "- **forked from:** `{parent}` after turn #{fork}\n"
        )),
        (Some(parent), None) => out.push_str(&format!(
            "- **forked from:** `{parent}` before its first turn\n"
        )),
        (None, _) => out.push_str("- **forked from:** nothing (a root branch)\n"),
    }
    if !branch.session_id.is_empty() {
        out.push_str(&format!("- **Claude session:** `{}`\n", branch.session_id));
    }
    if !branch.created_at.is_empty() {
        out.push_str(&format!("- **created:** {}\n", branch.created_at));
    }
    let head = branch
        .head
        .map(|h| format!("#{h}"))
        .unwrap_or_else(|| "none".into());
    out.push_str(&format!("- **head:** {head}\n"));
    out.push_str(&format!(
        "- **turns:** {}{}\n",
        turns.len(),
        turns
            .last()
            .map(|t| format!(" (context now {} tokens)", tokens(t.context_tokens)))
            .unwrap_or_default()
    ));
    if turns.is_empty() {
        out.push_str("\n*No turns recorded on this branch yet.*\n");
        return out;
    }

    let mut previous_branch: Option<&str> = None;
    for turn in turns {
        if let Some(prev) = previous_branch {
            if prev != turn.branch {
                let after = turn
                    .parent
                    .map(|p| format!(" after turn #{p}"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "\n---\n\n> **Fork:** branch `{}` parts from `{prev}` here{after}.\n",
                    turn.branch
                ));
            }
        } else if turn.branch != branch.name {
            out.push_str(&format!(
                "\n*The first turns come from branch `{}`, which `{}` forked from.*\n",
                turn.branch, branch.name
            ));
        }
        previous_branch = Some(&turn.branch);

        let mut header = vec![format!("#{}", turn.id), turn.kind.as_str().to_string()];
        let took = duration(turn);
        if !took.is_empty() {
            header.push(took);
        }
        header.push(format!("{} ctx", tokens(turn.context_tokens)));
        out.push_str(&format!("\n## {}\n\n", header.join(" · ")));
        let mut flags = Vec::new();
        if turn.is_running() {
            flags.push("still running");
        }
        if turn.interrupted {
            flags.push("interrupted");
        }
        if !flags.is_empty() {
            out.push_str(&format!("*{}*\n\n", flags.join(", ")));
        }
        if let Some(input) = turn.input.as_deref().filter(|i| *i != turn.prompt) {
            out.push_str("**Typed:**\n\n");
            out.push_str(&block(input));
            out.push('\n');
        }
        out.push_str("**Prompt:**\n\n");
        out.push_str(&block(&turn.prompt));
        out.push_str("\n**Reply:**\n\n");
        if turn.reply.trim().is_empty() {
            out.push_str("*(no reply)*\n");
        } else {
            out.push_str(turn.reply.trim_end());
            out.push('\n');
        }
        out.push_str(&format!(
            "\n<sub>context {} · output {} · estimate {} tokens{}</sub>\n",
            turn.context_tokens,
            turn.output_tokens,
            turn.est_tokens,
            turn.started_at
                .get(..19)
                .map(|t| format!(" · {}", t.replace('T', " ")))
                .unwrap_or_default()
        ));
        if !turn.files.is_empty() {
            let files: Vec<String> = turn.files.iter().map(|f| format!("`{f}`")).collect();
            out.push_str(&format!("\n**Files:** {}\n", files.join(", ")));
        }
    }
    out
}

/// The export in `format`: Markdown, the turn records as a pretty JSON array, or an HTML page
/// (which also shows `extras`: tool calls and the tree of branches).
pub fn render(
    branch: &Branch,
    turns: &[Turn],
    format: ExportFormat,
    extras: &HtmlExtras,
) -> Result<String> {
    Ok(match format {
        ExportFormat::Md => render_markdown(branch, turns),
        ExportFormat::Html => render_html(branch, turns, extras),
        ExportFormat::Json => {
            let mut text = serde_json::to_string_pretty(turns)?;
            text.push('\n');
            text
        }
    })
}

/// What an export in `format` shows beyond the turns: for HTML, each turn's tool calls (from
/// its stored transcript entries) and every branch; nothing for the other formats.
pub fn gather_extras(store: &Store, turns: &[Turn], format: ExportFormat) -> Result<HtmlExtras> {
    if format != ExportFormat::Html {
        return Ok(HtmlExtras::default());
    }
    let mut tools = std::collections::HashMap::new();
    for turn in turns {
        let calls = crate::tool_calls::tool_calls(&store.entries(turn.id)?);
        if !calls.is_empty() {
            tools.insert(turn.id, calls);
        }
    }
    Ok(HtmlExtras {
        tools,
        branches: store.branches()?,
    })
}

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
    check: fn(&str) -> bool,
}

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

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let rule = |re: &str, mask: Mask, check: fn(&str) -> bool| Rule {
            re: Regex::new(re).expect("redaction patterns compile"),
            mask,
            check,
        };
        vec![
            rule(
                r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)",
                Mask::Whole("[REDACTED PRIVATE KEY]"),
                any,
            ),
            rule(
                r"\bsk-ant-[A-Za-z0-9_\-]{20,}",
                Mask::Whole("[REDACTED anthropic key]"),
                has_digit_and_letter,
            ),
            rule(
                r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
                Mask::Whole("[REDACTED openai key]"),
                has_digit_and_letter,
            ),
            rule(
                r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}\b",
                Mask::Whole("[REDACTED github token]"),
                any,
            ),
            rule(
                r"\bgithub_pat_[A-Za-z0-9_]{22,}",
                Mask::Whole("[REDACTED github token]"),
                any,
            ),
            rule(
                r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
                Mask::Whole("[REDACTED aws key id]"),
                any,
            ),
            rule(
                r#"(?i)(aws_secret_access_key["']?\s*[=:]\s*["']?)([A-Za-z0-9/+=]{40})"#,
                Mask::Value("[REDACTED aws secret]"),
                any,
            ),
            rule(
                r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",
                Mask::Whole("[REDACTED slack token]"),
                has_digit_and_letter,
            ),
            rule(
                r"\bAIza[0-9A-Za-z_\-]{35}",
                Mask::Whole("[REDACTED google key]"),
                any,
            ),
            rule(
                r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=\-]{16,})",
                Mask::Value("[REDACTED token]"),
                has_digit_and_letter,
            ),
            // .env-style assignments (`NAME=value`, `NAME: value`); the name is checked by
            // `secret_name`.
            rule(
                r"(?m)^([ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t]*[=:][ \t]*)([^\s#].*?)[ \t]*$",
                Mask::Value("[REDACTED]"),
                real_value,
            ),
        ]
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

/// Chooses the format: `--format`, else from the output file's extension, else Markdown.
pub fn pick_format(format: Option<&str>, output: Option<&Path>) -> Result<ExportFormat> {
    match format.map(str::to_ascii_lowercase).as_deref() {
        Some("md") | Some("markdown") => Ok(ExportFormat::Md),
        Some("json") => Ok(ExportFormat::Json),
        Some("html") => Ok(ExportFormat::Html),
        Some(other) => anyhow::bail!("unknown export format '{other}' (use md, json or html)"),
        None => Ok(
            match output.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
                Some(ext) if ext.eq_ignore_ascii_case("json") => ExportFormat::Json,
                Some(ext)
                    if ext.eq_ignore_ascii_case("html") || ext.eq_ignore_ascii_case("htm") =>
                {
                    ExportFormat::Html
                }
                _ => ExportFormat::Md,
            },
        ),
    }
}

/// `no branch 'NAME'`, with the nearest existing name when one is close.
pub fn no_branch(store: &Store, name: &str) -> anyhow::Error {
    let names: Vec<String> = store
        .branches()
        .map(|b| b.into_iter().map(|b| b.name).collect())
        .unwrap_or_default();
    match crate::refs::nearest_name(name, names.iter().map(String::as_str)) {
        Some(near) => anyhow::anyhow!("no branch '{name}' (did you mean '{near}'?)"),
        None => anyhow::anyhow!("no branch '{name}'"),
    }
}

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
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let store = crate::store::open_project(&cwd)?;
    let name = match branch {
        Some(name) => name,
        None => super::current_branch(&store)?,
    };
    let Some(record) = store.branch(&name)? else {
        return Err(no_branch(&store, &name));
    };
    let turns = store.lineage(&name)?;
    let extras = gather_extras(&store, &turns, format)?;
    match output {
        Some(path) => {
            if path.exists() && !force {
                if crate::terminal::is_tty(0) {
                    if !confirm_overwrite(&path)? {
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
            let masked = export_to(&path, &record, &turns, format, &extras, redact_secrets)
                .map_err(|e| anyhow::anyhow!("{e:#}: nothing exported"))?;
            if redact_secrets {
                eprintln!("ccx: masked {masked} secret{}", plural(masked));
            }
            eprintln!(
                "ccx: exported {} turn{} of {} to {}",
                turns.len(),
                plural(turns.len()),
                name,
                path.display()
            );
        }
        None => {
            let (mut turns, mut extras) = (turns, extras);
            let masked = if redact_secrets {
                redact_turns(&mut turns) + redact_extras(&mut extras)
            } else {
                0
            };
            let text = render(&record, &turns, format, &extras)?;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            if redact_secrets {
                eprintln!("ccx: masked {masked} secret{}", plural(masked));
            }
        }
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
    use crate::model::TurnKind;

    fn turn(id: u64, branch: &str, parent: Option<u64>, prompt: &str, reply: &str) -> Turn {
        Turn {
            id,
            branch: branch.into(),
            parent,
            kind: TurnKind::Prompt,
            prompt: prompt.into(),
            reply: reply.into(),
            session_id: "s".into(),
            started_at: "2026-01-01T12:00:00Z".into(),
            ended_at: Some("2026-01-01T12:03:10Z".into()),
            context_tokens: 45_200,
            output_tokens: 321,
            est_tokens: 40,
            files: vec![],
            ..Default::default()
        }
    }

    #[test]
    fn markdown_has_title_branch_info_turn_headers_and_fork_note() {
        let branch = Branch {
            name: "try-b".into(),
            session_id: "sess".into(),
            parent_branch: Some("main".into()),
            fork_turn: Some(1),
            head: Some(5),
            created_at: "2026-01-01T12:10:00Z".into(),
        };
        let mut t2 = turn(
            5,
            "try-b",
            Some(1),
            "fn main() {}\n    let x = 1;",
            "It compiles.",
        );
        t2.files = vec!["src/main.rs".into()];
        t2.input = Some(":rewind -- go".into());
        let turns = vec![
            turn(1, "main", None, "plan the work", "Here is the plan."),
            t2,
        ];
        let md = render_markdown(&branch, &turns);
        assert!(md.starts_with("# ccx: branch `try-b`"), "{md}");
        assert!(md.contains("forked from:** `main` after turn #1"), "{md}");
        assert!(md.contains("## #1 · prompt · 3m · 45.2k ctx"), "{md}");
        assert!(md.contains("> plan the work"), "{md}");
        assert!(
            md.contains("```text\nfn main() {}\n    let x = 1;\n```"),
            "{md}"
        );
        assert!(md.contains("**Fork:** branch `try-b` parts from `main` here after turn #1"));
        assert!(md.contains("**Files:** `src/main.rs`"));
        assert!(md.contains("**Typed:**"));
        let first = md.find("plan the work").unwrap();
        let second = md.find("It compiles.").unwrap();
        assert!(first < second);
    }

    #[test]
    fn fence_outgrows_backticks_in_the_prompt() {
        let text = "see ```rust\nx\n```";
        let b = block(text);
        assert!(b.starts_with("````text\n"), "{b}");
    }

    #[test]
    fn empty_branch_renders() {
        let branch = Branch {
            name: "main".into(),
            ..Default::default()
        };
        assert!(render_markdown(&branch, &[]).contains("No turns recorded"));
    }

    #[test]
    fn json_render_is_the_records() {
        let branch = Branch::default();
        let turns = vec![turn(1, "main", None, "p", "r")];
        let text = render(&branch, &turns, ExportFormat::Json, &HtmlExtras::default()).unwrap();
        let back: Vec<Turn> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, turns);
    }

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
    fn format_from_flag_or_extension() {
        assert_eq!(pick_format(None, None).unwrap(), ExportFormat::Md);
        assert_eq!(
            pick_format(None, Some(Path::new("x.JSON"))).unwrap(),
            ExportFormat::Json
        );
        assert_eq!(
            pick_format(Some("md"), Some(Path::new("x.json"))).unwrap(),
            ExportFormat::Md
        );
        assert!(pick_format(Some("pdf"), None).is_err());
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
            1,
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
        let call = &extras.tools[&1][0];
        assert!(!call.summary.contains("abc123"), "{call:?}");
        assert!(!call.input.contains("abcdef0123456789xyz"), "{call:?}");
        assert!(!call.output.contains("ghp_"), "{call:?}");
    }
}

//! Every text ccx sends to Claude on the person's behalf, in one place: the request for a
//! handoff (`:summarize-from-here`), the first prompt of a session seeded with a brief
//! (`:brief`), the focus of `/compact` (`:compact`), the framing of a delegated task
//! (`:subagent`) and of its report when it comes back (`:pull`).
//!
//! Each text has a default written here and may be replaced in `config.toml`:
//!
//! ```toml
//! [templates]
//! summary = "Summarise everything since {since} for a new session."
//! brief = "Handoff from {branch}:\n{brief}"
//! compact_focus = "Keep what is needed for: {answer}"
//! subagent = "{task}\n\nContext:\n{brief}\n\nEnd with a self-contained report."
//! pull = "Job #{job} ({task}) reported:\n{report}"
//! ```
//!
//! Placeholders are filled by simple `{name}` substitution in one pass (a value that itself
//! contains `{task}` is not expanded again); a `{name}` that is not one of the template's
//! placeholders is left as it is. `{brief}` in the subagent template is empty when no brief
//! was given.

use serde::Deserialize;

/// The `[templates]` table of `config.toml`: optional replacements of the default texts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateConfig {
    /// `:summarize-from-here`; placeholder `{since}`.
    pub summary: Option<String>,
    /// `:brief`; placeholders `{brief}`, `{branch}`.
    pub brief: Option<String>,
    /// `:compact` with no focus; placeholder `{answer}`.
    pub compact_focus: Option<String>,
    /// `:subagent`; placeholders `{task}`, `{brief}`.
    pub subagent: Option<String>,
    /// `:pull`; placeholders `{job}`, `{task}`, `{report}`.
    pub pull: Option<String>,
}

/// The texts ccx sends, with the person's overrides applied. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Templates {
    overrides: TemplateConfig,
}

const SUMMARY: &str = "\
Write a handoff of everything in this conversation since {since}. A fresh Claude Code session \
will take over this work with none of this context: your document is all it will have, so it \
must be complete enough to act on alone, and short enough to read in one go.

Use exactly these headings, in this order (write \"None.\" under a heading with nothing to say):

## Goal
What the person is trying to achieve, and why, in their terms.

## Current state
What is done and works, what is half-done, what is broken: where things stand right now.

## Tried and failed
Each approach that did not work and why it failed (the error, the wrong assumption), so it is \
not tried again.

## Decisions
What was decided, with the reason for each.

## Constraints and preferences
What the person asked for or ruled out: scope, style, tools, things not to touch. Quote their \
words where the exact wording matters.

## Files that matter
Each path, what it holds, and what changed in it.

## Open questions
What is still unknown or waiting on the person.

## Next step
The exact next action, concrete enough to start at once: the file, function, command or test.

Reply with the Markdown document only: no preamble, no closing remarks. Be specific (names, \
paths, commands, error messages, numbers) rather than general.";

const BRIEF: &str = "\
This session continues work begun in a previous Claude Code session (ccx branch `{branch}`). \
That session wrote the handoff below for you; you have none of its other context.

<handoff>
{brief}
</handoff>

Read it in full. Treat its decisions and constraints as standing instructions, and check the \
files it names before relying on details that may have changed since. Confirm in two or three \
sentences what you understand the goal and the next step to be, then carry on with that next \
step unless the person tells you otherwise.";

const COMPACT_FOCUS_QUESTION: &str =
    "What comes next? (/compact keeps what that needs; empty line to cancel)";

const COMPACT_FOCUS: &str = "\
Next: {answer} Keep what that step needs: the goal, decisions made and why, the person's \
constraints and preferences, the relevant files (paths and current state) and open issues. \
Drop exploration that led nowhere and details that have been superseded.";

const SUBAGENT_HEAD: &str = "\
You are a subagent: another Claude Code session delegated this task to you. You start with a \
clean context; what you need is below or in the files of the current directory.

## Task
{task}
";

const SUBAGENT_BRIEF: &str = "
## Context from the delegating session
{brief}
";

const SUBAGENT_TAIL: &str = "
## How to work
- Work in the current directory. Read the files you need instead of assuming their contents.
- Do the whole task, and only the task: no unrelated changes.
- Nobody can answer questions while you work: make reasonable choices and say which.

## Final report
End with a final report. Only that report goes back to the delegating session (it sees none of \
your tool calls or intermediate messages), so make it self-contained:
- what you found or did, with the concrete results (answers, names, numbers);
- the files you changed or created (paths) and what changed in each;
- anything uncertain, unfinished or needing a decision, and what you would do next.";

const PULL: &str = "\
A subagent (ccx job #{job}) ran this task in a separate session with a clean context:

<task>
{task}
</task>

This is its conclusion, as it reported it:

<report>
{report}
</report>

Take it into account from here on; don't redo its work. If the report leaves something \
uncertain, say so before relying on it.";

/// Replaces each `{name}` whose name is in `values` by its value, in one pass; anything
/// else (unknown names, lone braces) is kept as it is.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One line: runs of whitespace (newlines included) become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Templates {
    pub fn new(overrides: TemplateConfig) -> Templates {
        Templates { overrides }
    }

    /// `:summarize-from-here`: asks Claude for a handoff of everything since `since`
    /// ("turn #4", "the start of this branch").
    pub fn summary_request(&self, since: &str) -> String {
        let template = self.overrides.summary.as_deref().unwrap_or(SUMMARY);
        fill(template, &[("since", since)])
    }

    /// `:brief`: the first prompt of a fresh session, seeded with `brief` written on `from_branch`.
    pub fn brief_prompt(&self, brief: &str, from_branch: &str) -> String {
        let template = self.overrides.brief.as_deref().unwrap_or(BRIEF);
        fill(
            template,
            &[("brief", brief.trim()), ("branch", from_branch)],
        )
    }

    /// `:compact` with no focus: what ccx asks the person first.
    pub fn compact_focus_question(&self) -> &'static str {
        compact_focus_question()
    }

    /// `:compact`: the focus text for `/compact`, built from the person's answer to
    /// [`compact_focus_question`]. Always one line (it is typed after `/compact `).
    pub fn compact_focus(&self, answer: &str) -> String {
        let answer = one_line(answer);
        match self.overrides.compact_focus.as_deref() {
            Some(template) => one_line(&fill(template, &[("answer", &answer)])),
            None => {
                let answer = if answer.ends_with(['.', '!', '?']) || answer.is_empty() {
                    answer
                } else {
                    format!("{answer}.")
                };
                one_line(&fill(COMPACT_FOCUS, &[("answer", &answer)]))
            }
        }
    }

    /// `:subagent`: the prompt of a clean-context Claude that runs `task`, with an optional
    /// brief as context; asks it to end with a self-contained report.
    pub fn subagent_prompt(&self, task: &str, brief: Option<&str>) -> String {
        let task = task.trim();
        let brief = brief.map(str::trim).filter(|b| !b.is_empty());
        match self.overrides.subagent.as_deref() {
            Some(template) => fill(template, &[("task", task), ("brief", brief.unwrap_or(""))]),
            None => {
                let mut text = fill(SUBAGENT_HEAD, &[("task", task)]);
                if let Some(brief) = brief {
                    text.push_str(&fill(SUBAGENT_BRIEF, &[("brief", brief)]));
                }
                text.push_str(SUBAGENT_TAIL);
                text
            }
        }
    }

    /// `:pull`: a subagent's final report, framed for the main session.
    pub fn pull_prompt(&self, job_id: &str, task: &str, report: &str) -> String {
        let template = self.overrides.pull.as_deref().unwrap_or(PULL);
        fill(
            template,
            &[
                ("job", job_id),
                ("task", task.trim()),
                ("report", report.trim()),
            ],
        )
    }
}

/// See [`Templates::summary_request`] (defaults, no overrides).
pub fn summary_request(since: &str) -> String {
    Templates::default().summary_request(since)
}

/// See [`Templates::brief_prompt`] (defaults, no overrides).
pub fn brief_prompt(brief: &str, from_branch: &str) -> String {
    Templates::default().brief_prompt(brief, from_branch)
}

/// The question `:compact` asks when no focus was given.
pub fn compact_focus_question() -> &'static str {
    COMPACT_FOCUS_QUESTION
}

/// See [`Templates::compact_focus`] (defaults, no overrides).
pub fn compact_focus(answer: &str) -> String {
    Templates::default().compact_focus(answer)
}

/// See [`Templates::subagent_prompt`] (defaults, no overrides).
pub fn subagent_prompt(task: &str, brief: Option<&str>) -> String {
    Templates::default().subagent_prompt(task, brief)
}

/// See [`Templates::pull_prompt`] (defaults, no overrides).
pub fn pull_prompt(job_id: &str, task: &str, report: &str) -> String {
    Templates::default().pull_prompt(job_id, task, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `text` holds every one of `parts`.
    fn assert_holds(text: &str, parts: &[&str]) {
        for part in parts {
            assert!(text.contains(part), "{part:?} missing from {text}");
        }
    }

    #[test]
    fn summary_names_every_section() {
        let s = summary_request("turn #4");
        assert!(s.contains("since turn #4."));
        assert_holds(
            &s,
            &[
                "## Goal",
                "## Current state",
                "## Tried and failed",
                "## Decisions",
                "## Constraints and preferences",
                "## Files that matter",
                "## Open questions",
                "## Next step",
                "none of this context",
                "no preamble",
            ],
        );
        assert!(!s.contains('{'), "no placeholder left: {s}");
    }

    #[test]
    fn brief_frames_a_handoff() {
        let s = brief_prompt("  ## Goal\nship it\n", "main");
        assert_holds(
            &s,
            &[
                "branch `main`",
                "<handoff>\n## Goal\nship it\n</handoff>",
                "Confirm",
                "next step",
            ],
        );
    }

    #[test]
    fn compact_focus_is_one_line() {
        assert!(compact_focus_question().starts_with("What comes next?"));
        let f = compact_focus("fix the\nlogin test");
        assert!(!f.contains('\n'));
        assert!(f.starts_with("Next: fix the login test. Keep what that step needs"));
        assert_holds(
            &f,
            &[
                "goal",
                "decisions",
                "constraints",
                "files",
                "open issues",
                "Drop",
            ],
        );
        assert!(compact_focus("done?").starts_with("Next: done? Keep"));
    }

    #[test]
    fn subagent_prompt_ends_with_the_report() {
        let s = subagent_prompt("find the answer", None);
        assert!(s.contains("## Task\nfind the answer\n"));
        assert!(!s.contains("Context from"));
        assert!(s.contains("current directory"));
        let tail = &s[s.find("## Final report").unwrap()..];
        assert_holds(tail, &["self-contained", "files you changed", "uncertain"]);
        let s = subagent_prompt("t", Some("the brief\n"));
        assert!(s.contains("## Context from the delegating session\nthe brief\n"));
        assert!(s.find("## Context").unwrap() < s.find("## Final report").unwrap());
    }

    #[test]
    fn pull_frames_the_conclusion() {
        let s = pull_prompt("2", "find x", "x is 42");
        assert_holds(
            &s,
            &[
                "job #2",
                "<task>\nfind x\n</task>",
                "<report>\nx is 42\n</report>",
                "don't redo its work",
            ],
        );
    }

    #[test]
    fn overrides_substitute_in_one_pass() {
        let t = Templates::new(TemplateConfig {
            summary: Some("since {since}, {since}".into()),
            brief: Some("{branch}: {brief}".into()),
            compact_focus: Some("focus on {answer}\nplease".into()),
            subagent: Some("do {task} with [{brief}] {unknown}".into()),
            pull: Some("#{job} {task} -> {report}".into()),
        });
        assert_eq!(t.summary_request("#3"), "since #3, #3");
        assert_eq!(t.brief_prompt("b", "main"), "main: b");
        assert_eq!(t.compact_focus("tests"), "focus on tests please");
        assert_eq!(t.subagent_prompt("x", None), "do x with [] {unknown}");
        // A value holding a placeholder is not expanded again.
        assert_eq!(
            t.subagent_prompt("{brief}", Some("B")),
            "do {brief} with [B] {unknown}"
        );
        assert_eq!(t.pull_prompt("1", "t", "r"), "#1 t -> r");
    }

    #[test]
    fn fill_keeps_what_it_does_not_know() {
        assert_eq!(fill("{a} {b} {", &[("a", "1")]), "1 {b} {");
        assert_eq!(fill("}{a}{{a}}", &[("a", "x")]), "}x{x}");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("é{a}ü", &[("a", "ß")]), "éßü");
    }
}

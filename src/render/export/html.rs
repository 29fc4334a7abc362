//! `ccx export --format html` (and `:export` to a `.html` file): a branch as one self-contained HTML page — inline CSS, no
//! script, no network, no external fonts. The page holds the branch's facts, the project's tree
//! of branches (the exported branch and the branches it descends from highlighted), then one
//! `<article class="turn">` per turn: its number, kind and label, prompt, reply, token counts,
//! and its tool calls, each a `<details>` element (collapsed) holding the input and the result.
//! Pure: [`render_html`] takes the records; every text is escaped with [`escape`]. The tree's
//! order and fork points are [`crate::query::branches::tree`]'s, as in `ccx tree`.

use crate::model::{Branch, Turn};
use crate::query::branches::tree as branch_tree;
use crate::query::export::HtmlExtras;
use crate::render::branches::fork_label;
use crate::render::text::{tokens, turn_tag};
use crate::tool_calls::ToolCall;
use std::collections::HashSet;
use std::fmt::Write as _;

/// `text` safe inside HTML text and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    escape_into(&mut out, text);
    out
}

fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

const STYLE: &str = r#"
:root{--bg:#fbfbfa;--fg:#1d1d1f;--dim:#6b6b70;--line:#dcdcdf;--prompt:#eef3ff;--reply:#fff;
--tool:#f5f5f2;--err:#b3261e;--mark:#fff3b0;--accent:#2f5bd3}
@media (prefers-color-scheme:dark){:root{--bg:#17181a;--fg:#e6e6e6;--dim:#9a9aa0;--line:#34353a;
--prompt:#1f2a44;--reply:#1e1f22;--tool:#232428;--err:#ff8a80;--mark:#5a4b00;--accent:#8fb0ff}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:60rem;padding:1.5rem;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
h1{font-size:1.4rem;margin:0 0 .5rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
pre{white-space:pre-wrap;word-wrap:break-word;margin:.25rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:0}
dl.facts dt{color:var(--dim)}dl.facts dd{margin:0}
ul.tree,ul.tree ul{list-style:none;padding-left:1.2rem;margin:0}
ul.tree{padding-left:0}
ul.tree li{margin:.1rem 0}
ul.tree ul{border-left:1px solid var(--line)}
.branch-name{font-family:ui-monospace,monospace}
.lineage>.branch-name{font-weight:600}
.exported>.branch-name{background:var(--mark);padding:0 .3rem;border-radius:3px}
.dim{color:var(--dim)}
.fork{margin:1rem 0;padding:.3rem .7rem;border-left:3px solid var(--accent);color:var(--dim)}
article.turn{border:1px solid var(--line);border-radius:6px;margin:1rem 0;overflow:hidden}
article.turn>header{display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline;padding:.4rem .8rem;
border-bottom:1px solid var(--line);font-size:.9rem}
.turn-id{font-weight:600}.kind{color:var(--accent)}
.tokens{margin-left:auto;color:var(--dim)}
.prompt{background:var(--prompt);padding:.5rem .8rem}
.reply{background:var(--reply);padding:.5rem .8rem}
.label{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--dim)}
.tools{padding:.3rem .8rem;background:var(--tool);border-top:1px solid var(--line)}
details.tool{margin:.2rem 0}
details.tool>summary{cursor:pointer}
details.tool.error>summary .tool-name{color:var(--err)}
.tool-name{font-weight:600}
.files{padding:.3rem .8rem;font-size:.85rem;border-top:1px solid var(--line)}
"#;

/// The branch's conversation as a self-contained HTML page. `turns` is the branch's lineage,
/// oldest first; `extras` gives the tool calls per turn and the project's branches.
pub fn render_html(branch: &Branch, turns: &[Turn], extras: &HtmlExtras) -> String {
    let mut out = String::with_capacity(turns.len() * 2048 + 8192);
    let title = format!("ccx: branch {}", branch.name);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // No network at all: nothing may be fetched, whatever a text holds.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<h1>ccx: branch <code>{}</code></h1>",
        escape(&branch.name)
    );
    facts(&mut out, branch, turns);
    tree(&mut out, branch, turns, &extras.branches);
    let _ = writeln!(out, "<h2>Conversation</h2>\n<main id=\"conversation\">");
    if turns.is_empty() {
        out.push_str("<p class=\"dim\">No turns recorded on this branch yet.</p>\n");
    }
    let mut previous: Option<&str> = None;
    for turn in turns {
        match previous {
            Some(prev) if prev != turn.branch => {
                let _ = writeln!(
                    out,
                    "<p class=\"fork\">Branch <code>{}</code> parts from <code>{}</code> here{}.</p>",
                    escape(&turn.branch),
                    escape(prev),
                    turn.parent.map(|p| format!(" after turn #{p}")).unwrap_or_default()
                );
            }
            None if turn.branch != branch.name => {
                let _ = writeln!(
                    out,
                    "<p class=\"fork\">The first turns come from branch <code>{}</code>, which <code>{}</code> forked from.</p>",
                    escape(&turn.branch),
                    escape(&branch.name)
                );
            }
            _ => {}
        }
        previous = Some(&turn.branch);
        article(
            &mut out,
            turn,
            extras.tools.get(&turn.id).map(Vec::as_slice),
        );
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn facts(out: &mut String, branch: &Branch, turns: &[Turn]) {
    out.push_str("<dl class=\"facts\">\n");
    let mut fact = |name: &str, value: String| {
        let _ = writeln!(out, "<dt>{name}</dt><dd>{value}</dd>");
    };
    fact(
        "forked from",
        match (&branch.parent_branch, branch.fork_turn) {
            (Some(p), Some(f)) => format!("<code>{}</code> after turn #{f}", escape(p)),
            (Some(p), None) => format!("<code>{}</code> before its first turn", escape(p)),
            (None, _) => "nothing (a root branch)".into(),
        },
    );
    if !branch.session_id.is_empty() {
        fact(
            "Claude session",
            format!("<code>{}</code>", escape(branch.session_id.as_str())),
        );
    }
    if !branch.created_at.is_empty() {
        fact("created", escape(&branch.created_at));
    }
    fact(
        "head",
        branch
            .head
            .map_or_else(|| "none".to_string(), |h| format!("#{h}")),
    );
    let output: u64 = turns.iter().map(|t| t.output_tokens).sum();
    fact(
        "turns",
        format!(
            "{}{}",
            turns.len(),
            turns
                .last()
                .map(|t| format!(
                    " (context now {} tokens, {} output tokens in all)",
                    tokens(t.context_tokens),
                    tokens(output)
                ))
                .unwrap_or_default()
        ),
    );
    out.push_str("</dl>\n");
}

/// The project's branches as nested lists under the branch each forked from; the exported
/// branch has class `exported`, it and its ancestors `lineage`.
fn tree(out: &mut String, branch: &Branch, turns: &[Turn], branches: &[Branch]) {
    let mut all: Vec<Branch> = branches.to_vec();
    if !all.iter().any(|b| b.name == branch.name) {
        all.push(branch.clone());
    }
    let mut lineage: HashSet<&str> = turns.iter().map(|t| t.branch.as_str()).collect();
    lineage.insert(&branch.name);
    out.push_str("<h2>Branches</h2>\n<ul class=\"tree\" id=\"tree\">\n");
    let nodes = branch_tree(&all);
    for (i, node) in nodes.iter().enumerate() {
        let b = node.branch;
        let mut class = Vec::new();
        if lineage.contains(b.name.as_str()) {
            class.push("lineage");
        }
        if b.name == branch.name {
            class.push("exported");
        }
        let head = b
            .head
            .map_or_else(|| "no turns".to_string(), |h| format!("head #{h}"));
        let _ = write!(
            out,
            "<li class=\"{}\"><span class=\"branch-name\">{}</span> <span class=\"dim\">{} · {head}</span>",
            class.join(" "),
            escape(&b.name),
            fork_label(node.fork)
        );
        // A deeper next node is this one's first child: its list opens here. Otherwise this
        // item ends, and so does every list the next node is not inside.
        let next_depth = nodes.get(i + 1).map_or(0, |n| n.depth);
        if next_depth > node.depth {
            out.push_str("\n<ul>\n");
        } else {
            out.push_str("</li>\n");
            for _ in next_depth..node.depth {
                out.push_str("</ul></li>\n");
            }
        }
    }
    out.push_str("</ul>\n");
}

fn article(out: &mut String, turn: &Turn, tools: Option<&[ToolCall]>) {
    let _ = write!(
        out,
        "<article class=\"turn\" id=\"turn-{id}\" data-turn=\"{id}\" data-branch=\"{}\">\n<header><span class=\"turn-id\">#{id}</span> <span class=\"kind\">{}</span>",
        escape(&turn.branch),
        escape(turn.kind.as_str()),
        id = turn.id
    );
    if let Some(tag) = turn_tag(turn) {
        let _ = write!(out, " <span class=\"tag\">[{}]</span>", escape(&tag));
    }
    if let Some(at) = turn.started_at.get(..19) {
        let _ = write!(
            out,
            " <span class=\"dim\">{}</span>",
            escape(&at.replace('T', " "))
        );
    }
    if turn.is_running() {
        out.push_str(" <span class=\"dim\">still running</span>");
    }
    if turn.interrupted {
        out.push_str(" <span class=\"dim\">interrupted</span>");
    }
    let _ = writeln!(
        out,
        "<span class=\"tokens\">context {} · output {} · estimate {} tokens</span></header>",
        turn.context_tokens, turn.output_tokens, turn.est_tokens
    );
    if let Some(input) = turn.input.as_deref().filter(|i| *i != turn.prompt) {
        out.push_str("<section class=\"prompt typed\"><div class=\"label\">typed</div><pre>");
        escape_into(out, input);
        out.push_str("</pre></section>\n");
    }
    out.push_str("<section class=\"prompt\"><div class=\"label\">prompt</div><pre>");
    escape_into(out, turn.prompt.trim_end());
    out.push_str("</pre></section>\n");
    if let Some(calls) = tools.filter(|c| !c.is_empty()) {
        tool_calls(out, calls);
    }
    out.push_str("<section class=\"reply\"><div class=\"label\">reply</div><pre>");
    if turn.reply.trim().is_empty() {
        out.push_str("(no reply)");
    } else {
        escape_into(out, turn.reply.trim_end());
    }
    out.push_str("</pre></section>\n");
    if !turn.files.is_empty() {
        out.push_str("<div class=\"files\"><span class=\"label\">files</span> ");
        let files: Vec<String> = turn
            .files
            .iter()
            .map(|f| format!("<code>{}</code>", escape(f)))
            .collect();
        out.push_str(&files.join(", "));
        out.push_str("</div>\n");
    }
    out.push_str("</article>\n");
}

/// A turn's tool calls, each a collapsed `<details>` with its input and result.
fn tool_calls(out: &mut String, calls: &[ToolCall]) {
    let _ = writeln!(
        out,
        "<section class=\"tools\"><div class=\"label\">{} tool call{}</div>",
        calls.len(),
        if calls.len() == 1 { "" } else { "s" }
    );
    for call in calls {
        let _ = write!(
            out,
            "<details class=\"tool{}\"><summary><span class=\"tool-name\">{}</span> <code>",
            if call.is_error { " error" } else { "" },
            escape(&call.name)
        );
        let summary: String = call.summary.chars().take(200).collect();
        escape_into(out, &summary.replace('\n', " "));
        out.push_str("</code>");
        if call.is_error {
            out.push_str(" <span class=\"dim\">(error)</span>");
        }
        out.push_str("</summary>\n<div class=\"label\">input</div><pre class=\"tool-input\">");
        escape_into(out, &call.input);
        out.push_str("</pre>\n<div class=\"label\">result</div><pre class=\"tool-output\">");
        escape_into(out, &call.output);
        out.push_str("</pre></details>\n");
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::fixtures::{branch, turn};
    use std::collections::HashMap;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain ü"), "plain ü");
    }

    #[test]
    fn page_has_turns_tools_tokens_and_the_tree() {
        let exported = branch("try-b", Some("main"), Some(1), Some(3));
        let branches = vec![
            branch("main", None, None, Some(2)),
            exported.clone(),
            branch("side", Some("main"), Some(2), None),
        ];
        let turns = vec![
            turn(1, "main", None, "plan <the> work", "the plan & more"),
            turn(
                3,
                "try-b",
                Some(1),
                "run the </pre><script>alert(1)</script>",
                "done",
            ),
        ];
        let mut tools = HashMap::new();
        tools.insert(
            crate::ids::TurnId(3),
            vec![ToolCall {
                name: "Bash".into(),
                summary: "ls <dir>".into(),
                input: "{\"command\": \"ls <dir>\"}".into(),
                output: "no such file".into(),
                is_error: true,
            }],
        );
        let html = render_html(&exported, &turns, &HtmlExtras { tools, branches });
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert_eq!(html.matches("<article class=\"turn\"").count(), 2);
        assert_eq!(html.matches("<details class=\"tool error\">").count(), 1);
        assert!(html.contains("<code>ls &lt;dir&gt;</code>"), "{html}");
        assert!(html.contains("plan &lt;the&gt; work"));
        assert!(html.contains("the plan &amp; more"));
        assert!(!html.contains("<script"), "text must be escaped");
        assert!(html.contains("context 45200 · output 321 · estimate 40 tokens"));
        assert!(html
            .contains("<li class=\"lineage exported\"><span class=\"branch-name\">try-b</span>"));
        assert!(html.contains("<li class=\"lineage\"><span class=\"branch-name\">main</span>"));
        assert!(html.contains("<li class=\"\"><span class=\"branch-name\">side</span>"));
        assert!(html.contains("parts from <code>main</code> here after turn #1"));
        // Self-contained: no reference to anything outside the page.
        for outside in ["http://", "https://", "<link", "src=", "@import", "url("] {
            assert!(!html.contains(outside), "found {outside}");
        }
        // Nested lists balance.
        assert_eq!(html.matches("<ul").count(), html.matches("</ul>").count());
        assert_eq!(html.matches("<li").count(), html.matches("</li>").count());
    }

    #[test]
    fn an_empty_branch_still_renders_a_page() {
        let b = branch("main", None, None, None);
        let html = render_html(&b, &[], &HtmlExtras::default());
        assert!(html.contains("No turns recorded"));
        assert!(html.contains("<span class=\"branch-name\">main</span>"));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn the_tree_nests_children_and_closes_every_list() {
        let exported = branch("a1", Some("a"), Some(2), Some(3));
        let branches = vec![
            branch("main", None, None, Some(1)),
            branch("a", Some("main"), Some(1), Some(2)),
            exported.clone(),
            branch("b", Some("main"), None, None),
            branch("other", None, None, Some(4)),
        ];
        let turns = vec![
            turn(1, "main", None, "p", "r"),
            turn(3, "a1", Some(2), "q", "s"),
        ];
        let html = render_html(
            &exported,
            &turns,
            &HtmlExtras {
                tools: HashMap::new(),
                branches,
            },
        );
        let start = html.find("<ul class=\"tree\"").unwrap();
        let end = html[start..].find("<h2>").unwrap() + start;
        let want = "<ul class=\"tree\" id=\"tree\">\n\
            <li class=\"lineage\"><span class=\"branch-name\">main</span> <span class=\"dim\">root · head #1</span>\n<ul>\n\
            <li class=\"\"><span class=\"branch-name\">a</span> <span class=\"dim\">forked after #1 · head #2</span>\n<ul>\n\
            <li class=\"lineage exported\"><span class=\"branch-name\">a1</span> <span class=\"dim\">forked after #2 · head #3</span></li>\n\
            </ul></li>\n\
            <li class=\"\"><span class=\"branch-name\">b</span> <span class=\"dim\">forked at start · no turns</span></li>\n\
            </ul></li>\n\
            <li class=\"\"><span class=\"branch-name\">other</span> <span class=\"dim\">root · head #4</span></li>\n\
            </ul>\n";
        assert_eq!(&html[start..end], want);
    }
}

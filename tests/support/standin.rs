//! A stand-in for the Anthropic Messages API, for driving the real Claude Code CLI offline.
//!
//! [`StandIn::start`] listens on `127.0.0.1:<random port>` (point `ANTHROPIC_BASE_URL` at
//! [`StandIn::url`]). It is a minimal HTTP/1.1 server: one thread per connection, keep-alive,
//! `Content-Length` and chunked request bodies (capped at 64 MiB), all threads stop shortly after
//! the `StandIn` is dropped.
//!
//! Routes:
//! - `POST /v1/messages` (any query): a Messages API reply, as server-sent events when the
//!   request says `"stream": true`, else as one JSON message.
//! - `POST /v1/messages/count_tokens`: `{"input_tokens": N}` (N = request body bytes / 4).
//! - anything else (any GET, other POSTs): `200 {}`.
//!
//! Every `/v1/messages` request is recorded as a [`Recorded`] (parsed body, user text, model,
//! whether it is a main-conversation request, the usage and text answered).
//!
//! **Request kinds** ([`Kind`]). Claude Code 2.1.330 sends its tool list with every
//! conversation request; with `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` it sent no side
//! requests at all in our runs (no quota probe, no title generation). The stand-in classifies:
//! `Compact` (user text starts with `CRITICAL: Respond with TEXT ONLY` and asks for a
//! `<summary>`: the `/compact` request, answered with an `<analysis>` and a `<summary>` that
//! quotes the focus), `Side` (no `tools`), `Subagent` (system prompt has `cc_is_subagent=true`,
//! an Agent-tool subagent), and for the main conversation `Prompt` (the last user message holds
//! the user text: a new turn), `ToolResult` (the last user message carries a `tool_result`) and
//! `Notification` (the last user message holds only `<system-reminder>` blocks, e.g. "background
//! agent finished": answered `noted`, directives other than `usage` ignored, so a tool directive
//! never fires twice). [`Recorded::main`] is true for the three main-conversation kinds.
//! Directives apply to main and subagent requests; `Side` gets a short fixed text.
//!
//! **User text** is the last `text` block (or string content) of the last user message that does
//! not start with `<system-reminder>`, searching user messages from the newest back (so a
//! follow-up request that only carries a `tool_result` still has the prompt's text).
//!
//! **Directives** inside the user text choose the reply:
//! - none: `echo: <user text>` (first 200 chars), stop_reason `end_turn`.
//! - `[[reply:TEXT]]`: reply exactly TEXT (TEXT runs to the first `]]`; `\n` means a newline).
//! - `[[sleep:MS]]`: wait MS milliseconds (at most 60 000) before answering. The request is
//!   recorded on arrival, before the sleep. Applies to every main request that carries the text
//!   (including the `tool_result` follow-up of a `[[write:...]]`).
//! - `[[usage:N]]`: report a context of N tokens: `input_tokens = N - 300`,
//!   `cache_read_input_tokens = 200`, `cache_creation_input_tokens = 100` (for N < 300: all of
//!   it as input). Default (no directive): the same split of `1000 + 10 * messages.len()`, so every
//!   main request gets a deterministic, distinct context size. `output_tokens` is always the
//!   number of whitespace-separated words of the reply text (at least 1).
//! - `[[write:/abs/path:CONTENT]]`: answer with a `tool_use` of the `Write` tool
//!   (`file_path` = `/abs/path`, `content` = CONTENT, `\n` means a newline; the path may not
//!   contain `:`), stop_reason `tool_use`. When the next request's last user message carries the
//!   `tool_result`, answer `wrote /abs/path` (or `write failed: <result>` when the tool result is
//!   an error, e.g. a refused permission). Permissions (2.1.330, running as root): the TUI's
//!   default `auto` mode runs a Write inside the project without asking; `-p` refuses it unless
//!   started with `--permission-mode acceptEdits`; `--dangerously-skip-permissions` is refused
//!   outright as root. Use `--permission-mode acceptEdits` everywhere.
//! - `[[tool:NAME:JSON]]`: answer with a `tool_use` of tool NAME with input JSON (an object; it
//!   runs to the last `}]]`), e.g. `[[tool:Agent:{"description":"d","prompt":"p",
//!   "subagent_type":"general-purpose"}]]` to start a subagent (needs `acceptEdits`: `auto` mode
//!   wants a server-side safety check the stand-in cannot give and stops at a dialog). The Agent
//!   tool runs the subagent in the background: the turn answers `tool result received`, then a
//!   `Notification` request follows when the subagent ends (answered `noted`).
//! - `[[status:CODE]]` or `[[status:CODE:COUNT]]`: answer with HTTP status CODE and an
//!   Anthropic-style JSON error body; with COUNT only the first COUNT requests carrying this
//!   user text fail, later ones are answered normally. Measured with `claude -p`: a 5xx is retried
//!   with back-off, still retrying after 120 s by default; `CLAUDE_CODE_MAX_RETRIES=0` gives up at
//!   once (~0.5 s, exit 1, `API Error: 500 ...` on stdout), `=2` after ~2.3 s. `[[status:529:1]]`
//!   succeeds on the retry (~1.1 s). A 400 is not backed off but re-sent 6 times with variations
//!   (~0.7 s), then `API Error: 400 ...`, exit 1.
//!
//! Any `tool_result` follow-up that is not a `[[write:...]]` gets the prompt's `[[reply:...]]`
//! text if it has one, else `tool result received` (give each tool turn its own reply when a
//! test waits for it on a screen that may still show an earlier one).

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const MAX_BODY: usize = 64 * 1024 * 1024;
const MAX_HEADER: usize = 64 * 1024;
const MAX_SLEEP_MS: u64 = 60_000;

/// Token usage the stand-in answered with: the Messages API's `usage` object, fields in the
/// API's order. Kept apart from ccx's own reading of it, so the tests check ccx's arithmetic
/// against an independent one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    /// The context size Claude Code will see: every input token, cached or not.
    pub fn context_tokens(&self) -> u64 {
        [
            self.input_tokens,
            self.cache_creation_input_tokens,
            self.cache_read_input_tokens,
        ]
        .iter()
        .sum()
    }

    fn split(context: u64, output: u64) -> Usage {
        if context < 300 {
            Usage {
                input_tokens: context,
                output_tokens: output,
                ..Usage::default()
            }
        } else {
            Usage {
                input_tokens: context - 300,
                output_tokens: output,
                cache_creation_input_tokens: 100,
                cache_read_input_tokens: 200,
            }
        }
    }

    fn to_json(self) -> Value {
        serde_json::to_value(self).expect("usage is plain numbers")
    }
}

/// What a `/v1/messages` request is, as far as the stand-in can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Main conversation, the last user message carries the user's prompt (a new turn).
    Prompt,
    /// Main conversation, continuing a turn after a `tool_result`.
    ToolResult,
    /// Main conversation, the last user message holds only `<system-reminder>` blocks
    /// (e.g. a background agent's completion notification). Answered `noted`.
    Notification,
    /// A subagent (Agent tool) of the session: system prompt has `cc_is_subagent=true`.
    Subagent,
    /// The `/compact` summarisation request (user text starts with
    /// `CRITICAL: Respond with TEXT ONLY`). Answered with an `<analysis>` and a `<summary>`.
    Compact,
    /// Anything without `tools` (quota probe, title generation, ...).
    Side,
}

impl Kind {
    pub fn is_main(self) -> bool {
        matches!(self, Kind::Prompt | Kind::ToolResult | Kind::Notification)
    }
}

/// One `/v1/messages` request as the stand-in saw and answered it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Sequence number over all recorded requests of this stand-in, from 0.
    pub seq: usize,
    /// Request path including the query, e.g. `/v1/messages?beta=true`.
    pub path: String,
    pub body: Value,
    pub user_text: String,
    pub model: String,
    /// A request of the main conversation: `kind` is `Prompt`, `ToolResult` or `Notification`.
    pub main: bool,
    pub kind: Kind,
    /// HTTP status answered (200, or the `[[status:...]]` code).
    pub status: u16,
    /// Usage answered (zero for error statuses).
    pub usage: Usage,
    /// The text answered (for a `tool_use` reply: empty).
    pub reply_text: String,
    /// Name of the tool used in the reply, if any (`Write`).
    pub tool_use: Option<String>,
    /// Whether the last user message carried a `tool_result`.
    pub has_tool_result: bool,
    /// Claude Code's session id, from `metadata.user_id` (a JSON string holding `session_id`).
    pub session_id: Option<String>,
}

impl Recorded {
    /// All text of the request's `messages`, in order, as `(role, text)` pairs: string contents,
    /// `text` blocks and (flattened) `tool_result` contents; `<system-reminder>` blocks are skipped.
    pub fn message_texts(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for m in self.body["messages"].as_array().into_iter().flatten() {
            let role = m["role"].as_str().unwrap_or("").to_string();
            for t in content_texts(&m["content"]) {
                if !t.trim_start().starts_with("<system-reminder>") {
                    out.push((role.clone(), t));
                }
            }
        }
        out
    }

    /// Whether any user or assistant text in the request's messages contains `needle`.
    pub fn history_contains(&self, needle: &str) -> bool {
        self.message_texts().iter().any(|(_, t)| t.contains(needle))
    }

    /// Number of messages in the request.
    pub fn message_count(&self) -> usize {
        self.body["messages"].as_array().map_or(0, |a| a.len())
    }

    /// The system prompt as one string (string or blocks).
    pub fn system_text(&self) -> String {
        content_texts(&self.body["system"]).join("\n")
    }
}

fn content_texts(content: &Value) -> Vec<String> {
    match content {
        Value::String(s) => vec![s.clone()],
        Value::Array(blocks) => {
            let mut out = Vec::new();
            for b in blocks {
                match b["type"].as_str() {
                    Some("text") => {
                        if let Some(t) = b["text"].as_str() {
                            out.push(t.to_string());
                        }
                    }
                    Some("tool_result") => out.extend(content_texts(&b["content"])),
                    _ => {}
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

struct Shared {
    shutdown: AtomicBool,
    requests: Mutex<Vec<Recorded>>,
    changed: Condvar,
    /// `[[status:CODE:COUNT]]` failures already served, per user text.
    status_served: Mutex<HashMap<String, u64>>,
    ids: AtomicU64,
}

/// The running stand-in server. Dropping it stops it.
pub struct StandIn {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Start listening on 127.0.0.1 with a free port.
    pub fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("stand-in: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("stand-in: local_addr");
        listener
            .set_nonblocking(true)
            .expect("stand-in: set_nonblocking");
        let shared = Arc::new(Shared {
            shutdown: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            status_served: Mutex::new(HashMap::new()),
            ids: AtomicU64::new(1),
        });
        let sh = shared.clone();
        let accept = std::thread::Builder::new()
            .name("standin-accept".into())
            .spawn(move || accept_loop(listener, sh))
            .expect("stand-in: spawn accept thread");
        StandIn {
            shared,
            addr,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// All recorded `/v1/messages` requests, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Recorded main-conversation requests, in arrival order.
    pub fn main_requests(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.main).collect()
    }

    /// Recorded requests that start a turn of the main conversation (`Kind::Prompt`).
    pub fn prompt_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.kind == Kind::Prompt)
            .collect()
    }

    /// Wait until at least `n` main requests were recorded; returns them all (at least `n`),
    /// or panics with what was recorded after `timeout`.
    pub fn wait_for_main_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        match self.try_wait_for_main_requests(n, timeout) {
            Ok(v) => v,
            Err(v) => panic!(
                "stand-in: waited {timeout:?} for {n} main requests, got {}: {:#?}",
                v.len(),
                v.iter()
                    .map(|r| (&r.user_text, &r.model, r.main))
                    .collect::<Vec<_>>()
            ),
        }
    }

    /// Like [`wait_for_main_requests`](Self::wait_for_main_requests) but returns `Err(all
    /// requests)` on timeout instead of panicking.
    pub fn try_wait_for_main_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Recorded>, Vec<Recorded>> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.shared.requests.lock().unwrap();
        loop {
            let mains: Vec<Recorded> = guard.iter().filter(|r| r.main).cloned().collect();
            if mains.len() >= n {
                return Ok(mains);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(guard.clone());
            }
            guard = self
                .shared
                .changed
                .wait_timeout(guard, deadline - now)
                .unwrap()
                .0;
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.shutdown.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let sh = shared.clone();
                let _ = std::thread::Builder::new()
                    .name("standin-conn".into())
                    .spawn(move || {
                        // A panic in one connection must not take the test down with it.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            serve_connection(stream, &sh)
                        }));
                    });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

struct HttpRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A reader over the socket that polls the shutdown flag while waiting.
struct Conn<'a> {
    stream: TcpStream,
    buf: Vec<u8>,
    shared: &'a Shared,
}

impl Conn<'_> {
    /// Read more bytes into `buf`; `Ok(false)` on EOF or shutdown.
    fn fill(&mut self) -> std::io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.shared.shutdown.load(Ordering::SeqCst) {
                return Ok(false);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn read_line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                self.buf.drain(..pos + 2);
                return Ok(Some(line));
            }
            if self.buf.len() > MAX_HEADER {
                return Err(std::io::Error::other("header line too long"));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn read_exact_n(&mut self, n: usize) -> std::io::Result<Option<Vec<u8>>> {
        while self.buf.len() < n {
            if !self.fill()? {
                return Ok(None);
            }
        }
        Ok(Some(self.buf.drain(..n).collect()))
    }

    fn read_request(&mut self) -> std::io::Result<Option<HttpRequest>> {
        let request_line = loop {
            match self.read_line()? {
                None => return Ok(None),
                Some(l) if l.is_empty() => continue,
                Some(l) => break l,
            }
        };
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("/").to_string();
        let mut headers = Vec::new();
        let mut header_bytes = 0;
        loop {
            let Some(line) = self.read_line()? else {
                return Ok(None);
            };
            if line.is_empty() {
                break;
            }
            header_bytes += line.len();
            if header_bytes > MAX_HEADER {
                return Err(std::io::Error::other("headers too large"));
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let mut req = HttpRequest {
            method,
            path,
            headers,
            body: Vec::new(),
        };
        if req
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let chunked = req
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            let mut body = Vec::new();
            loop {
                let Some(size_line) = self.read_line()? else {
                    return Ok(None);
                };
                let size_str = size_line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_str, 16)
                    .map_err(|_| std::io::Error::other("bad chunk size"))?;
                if body.len() + size > MAX_BODY {
                    return Err(std::io::Error::other("body too large"));
                }
                if size == 0 {
                    // trailers until an empty line
                    loop {
                        match self.read_line()? {
                            None => return Ok(None),
                            Some(l) if l.is_empty() => break,
                            Some(_) => {}
                        }
                    }
                    break;
                }
                let Some(data) = self.read_exact_n(size + 2)? else {
                    return Ok(None);
                };
                body.extend_from_slice(&data[..size]);
            }
            req.body = body;
        } else if let Some(len) = req.header("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| std::io::Error::other("bad content-length"))?;
            if len > MAX_BODY {
                return Err(std::io::Error::other("body too large"));
            }
            let Some(data) = self.read_exact_n(len)? else {
                return Ok(None);
            };
            req.body = data;
        }
        Ok(Some(req))
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        shared,
    };
    loop {
        let req = match conn.read_request() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(_) => {
                let _ = write_response(
                    &mut conn.stream,
                    400,
                    "application/json",
                    br#"{"type":"error","error":{"type":"invalid_request_error","message":"bad request"}}"#,
                    true,
                );
                break;
            }
        };
        let close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let (status, ctype, body, delay) = route(&req, shared);
        if let Some(d) = delay {
            // Sleep in slices so a dropped stand-in stops promptly.
            let deadline = Instant::now() + d;
            while Instant::now() < deadline {
                if shared.shutdown.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20).min(deadline - Instant::now()));
            }
        }
        if write_response(&mut conn.stream, status, ctype, &body, close).is_err() || close {
            break;
        }
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
    }
    let _ = conn.stream.shutdown(Shutdown::Both);
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &[u8],
    close: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nrequest-id: req_standin\r\n",
        body.len()
    );
    if ctype.starts_with("text/event-stream") {
        head.push_str("Cache-Control: no-cache\r\n");
    }
    head.push_str(if close {
        "Connection: close\r\n\r\n"
    } else {
        "Connection: keep-alive\r\n\r\n"
    });
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

type Routed = (u16, &'static str, Vec<u8>, Option<Duration>);

fn route(req: &HttpRequest, shared: &Shared) -> Routed {
    let path_only = req.path.split('?').next().unwrap_or("");
    if req.method != "POST" {
        return (200, "application/json", b"{}".to_vec(), None);
    }
    match path_only {
        "/v1/messages/count_tokens" => {
            let n = (req.body.len() / 4).max(1);
            (
                200,
                "application/json",
                json!({ "input_tokens": n }).to_string().into_bytes(),
                None,
            )
        }
        "/v1/messages" => messages(req, shared),
        _ => (200, "application/json", b"{}".to_vec(), None),
    }
}

/// The text of directive `name` (`[[name:VALUE]]`), VALUE running to the first `]]`.
fn directive<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("[[{name}:");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find("]]")? + start;
    Some(&text[start..end])
}

/// `[[tool:NAME:JSON]]`: JSON runs to the last `}]]`.
fn tool_directive(text: &str) -> Option<(String, Value)> {
    let start = text.find("[[tool:")? + "[[tool:".len();
    let rest = &text[start..];
    let (name, json_part) = rest.split_once(':')?;
    let end = json_part.rfind("}]]")? + 1;
    let input: Value = serde_json::from_str(&json_part[..end]).ok()?;
    Some((name.to_string(), input))
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
}

/// The user text (see module docs) and whether the last user message carries a tool_result.
fn extract_user_text(body: &Value) -> (String, bool) {
    let msgs = body["messages"].as_array().cloned().unwrap_or_default();
    let users: Vec<&Value> = msgs.iter().filter(|m| m["role"] == "user").collect();
    let has_tool_result = users.last().is_some_and(|m| {
        m["content"]
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b["type"] == "tool_result"))
    });
    for m in users.iter().rev() {
        let texts: Vec<String> = match &m["content"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(blocks) => blocks
                .iter()
                .filter(|b| b["type"] == "text")
                .filter_map(|b| b["text"].as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        };
        if let Some(t) = texts
            .iter()
            .rev()
            .find(|t| !t.trim_start().starts_with("<system-reminder>"))
        {
            return (t.clone(), has_tool_result);
        }
    }
    (String::new(), has_tool_result)
}

/// Whether the last user message holds `text` as a (non-reminder) text block.
fn last_user_has_text(body: &Value, text: &str) -> bool {
    let Some(last) = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
    else {
        return false;
    };
    match &last["content"] {
        Value::String(s) => s == text,
        Value::Array(blocks) => blocks
            .iter()
            .any(|b| b["type"] == "text" && b["text"].as_str() == Some(text)),
        _ => false,
    }
}

fn classify(body: &Value, user_text: &str, has_tool_result: bool, fresh: bool) -> Kind {
    let has_tools = body["tools"].as_array().is_some_and(|t| !t.is_empty());
    if user_text.starts_with("CRITICAL: Respond with TEXT ONLY") && user_text.contains("<summary>")
    {
        return Kind::Compact;
    }
    if !has_tools {
        return Kind::Side;
    }
    if content_texts(&body["system"])
        .iter()
        .any(|t| t.contains("cc_is_subagent=true"))
    {
        return Kind::Subagent;
    }
    if has_tool_result {
        Kind::ToolResult
    } else if fresh {
        Kind::Prompt
    } else {
        Kind::Notification
    }
}

fn scripted_status(user_text: &str, shared: &Shared) -> Option<u16> {
    let spec = directive(user_text, "status")?;
    let mut it = spec.split(':');
    let code = it.next().and_then(|c| c.trim().parse::<u16>().ok())?;
    let count = it.next().and_then(|c| c.trim().parse::<u64>().ok());
    let mut served = shared.status_served.lock().unwrap();
    let n = served.entry(user_text.to_string()).or_insert(0);
    if count.is_none_or(|c| *n < c) {
        *n += 1;
        Some(code)
    } else {
        None
    }
}

fn last_tool_result(body: &Value) -> Option<(String, bool)> {
    let msgs = body["messages"].as_array()?;
    let last = msgs.iter().rev().find(|m| m["role"] == "user")?;
    let block = last["content"]
        .as_array()?
        .iter()
        .rev()
        .find(|b| b["type"] == "tool_result")?;
    let text = content_texts(&block["content"]).join("\n");
    Some((text, block["is_error"].as_bool().unwrap_or(false)))
}

fn session_id_of(body: &Value) -> Option<String> {
    let uid = body["metadata"]["user_id"].as_str()?;
    let v: Value = serde_json::from_str(uid).ok()?;
    v["session_id"].as_str().map(str::to_string)
}

fn word_count(s: &str) -> u64 {
    (s.split_whitespace().count() as u64).max(1)
}

enum Reply {
    Text(String),
    ToolUse { name: String, input: Value },
}

fn messages(req: &HttpRequest, shared: &Shared) -> Routed {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let model = body["model"].as_str().unwrap_or("").to_string();
    let stream = body["stream"].as_bool().unwrap_or(false);
    let (user_text, has_tool_result) = extract_user_text(&body);
    let fresh = last_user_has_text(&body, &user_text);
    let kind = classify(&body, &user_text, has_tool_result, fresh);
    let n_messages = body["messages"].as_array().map_or(0, |a| a.len()) as u64;

    let mut status = 200u16;
    let mut delay = None;
    let reply;
    let mut context = 1000 + 10 * n_messages;

    match kind {
        Kind::Prompt | Kind::ToolResult | Kind::Notification | Kind::Subagent => {
            if let Some(n) =
                directive(&user_text, "usage").and_then(|v| v.trim().parse::<u64>().ok())
            {
                context = n;
            }
            if kind != Kind::Notification {
                if let Some(ms) =
                    directive(&user_text, "sleep").and_then(|v| v.trim().parse::<u64>().ok())
                {
                    delay = Some(Duration::from_millis(ms.min(MAX_SLEEP_MS)));
                }
                if let Some(code) = scripted_status(&user_text, shared) {
                    status = code;
                }
            }
            let write = directive(&user_text, "write").and_then(|spec| {
                let (path, content) = spec.split_once(':')?;
                Some((path.to_string(), unescape(content)))
            });
            reply = if kind == Kind::Notification {
                Reply::Text("noted".to_string())
            } else if has_tool_result {
                match (&write, last_tool_result(&body)) {
                    (Some((path, _)), Some((_, false))) => Reply::Text(format!("wrote {path}")),
                    (Some(_), Some((text, true))) => Reply::Text(format!(
                        "write failed: {}",
                        text.chars().take(200).collect::<String>()
                    )),
                    _ => Reply::Text(
                        directive(&user_text, "reply")
                            .map_or_else(|| "tool result received".to_string(), str::to_string),
                    ),
                }
            } else if let Some((name, input)) = tool_directive(&user_text) {
                Reply::ToolUse { name, input }
            } else if let Some((path, content)) = write {
                Reply::ToolUse {
                    name: "Write".to_string(),
                    input: json!({ "file_path": path, "content": content }),
                }
            } else if let Some(text) = directive(&user_text, "reply") {
                Reply::Text(unescape(text))
            } else {
                Reply::Text(format!(
                    "echo: {}",
                    user_text.chars().take(200).collect::<String>()
                ))
            };
        }
        Kind::Compact => {
            let focus = user_text
                .split_once("Additional Instructions:")
                .map(|(_, f)| f.split("REMINDER:").next().unwrap_or("").trim().to_string())
                .unwrap_or_default();
            reply = Reply::Text(format!(
                "<analysis>stand-in analysis</analysis>\n<summary>Stand-in summary of {} messages. Focus: {}</summary>",
                n_messages.saturating_sub(1),
                if focus.is_empty() { "none" } else { &focus }
            ));
        }
        Kind::Side => {
            context = 50 + n_messages;
            let sys = content_texts(&body["system"]).join("\n");
            reply = Reply::Text(if sys.to_lowercase().contains("json") {
                r#"{"isNewTopic": false, "title": "Stand-in title"}"#.to_string()
            } else {
                "Stand-in title".to_string()
            });
        }
    }

    let (reply_text, tool_use) = match &reply {
        Reply::Text(t) => (t.clone(), None),
        Reply::ToolUse { name, .. } => (String::new(), Some(name.clone())),
    };
    let output = match &reply {
        Reply::Text(t) => word_count(t),
        Reply::ToolUse { input, .. } => word_count(&input.to_string()),
    };
    let usage = if status == 200 {
        Usage::split(context, output)
    } else {
        Usage::default()
    };

    {
        let mut reqs = shared.requests.lock().unwrap();
        let seq = reqs.len();
        reqs.push(Recorded {
            seq,
            path: req.path.clone(),
            body: body.clone(),
            user_text: user_text.clone(),
            model: model.clone(),
            main: kind.is_main(),
            kind,
            status,
            usage,
            reply_text: reply_text.clone(),
            tool_use: tool_use.clone(),
            has_tool_result,
            session_id: session_id_of(&body),
        });
        shared.changed.notify_all();
    }

    if status != 200 {
        let etype = match status {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            _ => "api_error",
        };
        let b = json!({"type": "error", "error": {"type": etype, "message": format!("stand-in: scripted status {status}")}});
        return (
            status,
            "application/json",
            b.to_string().into_bytes(),
            delay,
        );
    }

    let id = shared.ids.fetch_add(1, Ordering::SeqCst);
    let msg_id = format!("msg_standin_{id:08}");
    let (content, stop_reason) = match &reply {
        Reply::Text(t) => (json!([{"type": "text", "text": t}]), "end_turn"),
        Reply::ToolUse { name, input } => (
            json!([{"type": "tool_use", "id": format!("toolu_standin_{id:08}"), "name": name, "input": input}]),
            "tool_use",
        ),
    };
    if !stream {
        let b = json!({
            "id": msg_id, "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop_reason, "stop_sequence": null,
            "usage": usage.to_json(),
        });
        return (200, "application/json", b.to_string().into_bytes(), delay);
    }

    let mut sse = String::new();
    let mut ev = |name: &str, data: Value| {
        sse.push_str(&format!("event: {name}\ndata: {data}\n\n"));
    };
    let mut start_usage = usage.to_json();
    start_usage["output_tokens"] = json!(1);
    ev(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage,
        }}),
    );
    match &reply {
        Reply::Text(t) => {
            ev(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            );
            // A few deltas, split on char boundaries, like the real API.
            for s in pieces(t, 40) {
                ev(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": s}}),
                );
            }
        }
        Reply::ToolUse { name, input } => {
            ev(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0, "content_block": {
                    "type": "tool_use", "id": format!("toolu_standin_{id:08}"), "name": name, "input": {}}}),
            );
            for s in pieces(&input.to_string(), 64) {
                ev(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": s}}),
                );
            }
        }
    }
    ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    ev(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": usage.to_json()}),
    );
    ev("message_stop", json!({"type": "message_stop"}));
    (
        200,
        "text/event-stream; charset=utf-8",
        sse.into_bytes(),
        delay,
    )
}

/// `text` cut into pieces of at most `chars` characters (on char boundaries), as the real API
/// streams a block in deltas.
fn pieces(text: &str, chars: usize) -> Vec<String> {
    let all: Vec<char> = text.chars().collect();
    all.chunks(chars)
        .map(|piece| piece.iter().collect())
        .collect()
}

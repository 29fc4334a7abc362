//! A client's side of the socket: a small pool of connections to the owning process, one
//! request line and one answer line per call. Distinguishes "the owner went away" (the caller
//! takes over or reconnects and retries; writes are idempotent) from real failures.

use super::engine::Response;
use super::error::StoreError;
use super::wire::{read_line_bounded, MAX_REQUEST_BYTES};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The longest answer a client accepts (all turns of a big project can be large).
const MAX_RESPONSE_BYTES: usize = 1 << 30;
/// How long a client waits for one answer before declaring the owner stuck.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

pub enum CallError {
    /// The owner is gone (refused, reset, end of stream): take over or reconnect, then retry.
    Gone(String),
    /// Anything else: report it.
    Fatal(StoreError),
}

struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    fn new(stream: UnixStream) -> std::io::Result<Conn> {
        stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        stream.set_write_timeout(Some(ANSWER_TIMEOUT))?;
        Ok(Conn {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }
}

pub struct Client {
    store: PathBuf,
    socket: PathBuf,
    idle: Mutex<Vec<Conn>>,
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

impl Client {
    /// Connects once; the connection is kept for the first call.
    pub fn connect(store: &Path, socket: &Path) -> std::io::Result<Client> {
        let conn = Conn::new(UnixStream::connect(socket)?)?;
        Ok(Client {
            store: store.to_path_buf(),
            socket: socket.to_path_buf(),
            idle: Mutex::new(vec![conn]),
        })
    }

    fn take_conn(&self) -> Result<Conn, CallError> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(conn);
        }
        UnixStream::connect(&self.socket)
            .and_then(Conn::new)
            .map_err(|e| CallError::Gone(format!("connect: {e}")))
    }

    /// Sends one request line (without newline) and reads the answer.
    pub fn call(&self, line: &[u8]) -> Result<Response, CallError> {
        if line.len() > MAX_REQUEST_BYTES {
            return Err(CallError::Fatal(StoreError::TooLarge {
                detail: format!(
                    "a store request of {} MiB is too large to send to the ccx process holding the turn log (limit {} MiB)",
                    line.len() >> 20,
                    MAX_REQUEST_BYTES >> 20
                ),
            }));
        }
        let mut conn = self.take_conn()?;
        let mut out = Vec::with_capacity(line.len() + 1);
        out.extend_from_slice(line);
        out.push(b'\n');
        if let Err(e) = conn
            .writer
            .write_all(&out)
            .and_then(|()| conn.writer.flush())
        {
            return Err(if is_timeout(&e) {
                self.stuck()
            } else {
                CallError::Gone(format!("send: {e}"))
            });
        }
        let answer = match read_line_bounded(&mut conn.reader, MAX_RESPONSE_BYTES) {
            Ok(Some(answer)) => answer,
            Ok(None) => return Err(CallError::Gone("end of stream".into())),
            Err(e) if is_timeout(&e) => return Err(self.stuck()),
            Err(e) => return Err(CallError::Gone(format!("receive: {e}"))),
        };
        let response: Response = serde_json::from_slice(&answer).map_err(|e| {
            CallError::Fatal(StoreError::Protocol {
                detail: format!("unreadable answer: {e}"),
            })
        })?;
        if !matches!(response, Response::Error(StoreError::Protocol { .. })) {
            // The owner closes a connection after a request it could not read.
            self.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
        }
        Ok(response)
    }

    fn stuck(&self) -> CallError {
        CallError::Fatal(StoreError::Unavailable {
            path: self.store.display().to_string(),
            detail: format!("no answer within {} s", ANSWER_TIMEOUT.as_secs()),
        })
    }
}

//! The owner's side of the socket: one accept thread and one thread per connection, each
//! reading JSON-line requests and answering with [`Engine::execute`]. A garbage or oversized
//! line only costs that connection. Stopping removes the socket (while the database lock is
//! still held, so it can never remove a successor's socket), wakes every blocked reader and
//! joins every thread, so the database handle is really released when the owner goes away.

use super::engine::{Engine, Request, Response};
use super::error::StoreError;
use super::wire::{read_line_bounded, MAX_REQUEST_BYTES};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the owner waits for a client to take an answer before giving up on it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    next_conn: AtomicU64,
    conns: Mutex<HashMap<u64, UnixStream>>,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

pub struct Server {
    socket: PathBuf,
    /// (device, inode) of the socket file we bound, so we only ever remove our own.
    identity: (u64, u64),
    wake: UnixStream,
    acceptor: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl Server {
    /// Binds `socket` (replacing a stale file: the caller holds the database lock, so no other
    /// live owner can be using it) and starts serving.
    pub fn start(socket: &Path, engine: Arc<Engine>) -> Result<Server> {
        match std::fs::remove_file(socket) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", socket.display())),
        }
        let listener = UnixListener::bind(socket)
            .with_context(|| format!("cannot listen on {}", socket.display()))?;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", socket.display()))?;
        let meta = std::fs::metadata(socket)?;
        listener.set_nonblocking(true)?;
        let (wake, wake_rx) = UnixStream::pair()?;
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("ccx-store-accept".into())
                .spawn(move || accept_loop(listener, wake_rx, engine, shared))?
        };
        Ok(Server {
            socket: socket.to_path_buf(),
            identity: (meta.dev(), meta.ino()),
            wake,
            acceptor: Some(acceptor),
            shared,
        })
    }

    fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = (&self.wake).write_all(b"x");
        let _ = self.wake.shutdown(Shutdown::Both);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        if let Ok(meta) = std::fs::symlink_metadata(&self.socket) {
            if (meta.dev(), meta.ino()) == self.identity {
                let _ = std::fs::remove_file(&self.socket);
            }
        }
        for stream in lock(&self.shared.conns).values() {
            let _ = stream.shutdown(Shutdown::Read);
        }
        let handlers = std::mem::take(&mut *lock(&self.shared.handlers));
        for handler in handlers {
            let _ = handler.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn accept_loop(listener: UnixListener, wake: UnixStream, engine: Arc<Engine>, shared: Arc<Shared>) {
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let mut fds = [
            libc::pollfd {
                fd: listener.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: wake.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if fds[1].revents != 0 {
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                if let Err(e) = spawn_handler(stream, &engine, &shared) {
                    eprintln!("ccx: store: cannot serve a connection: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Out of descriptors and the like: do not spin.
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn spawn_handler(stream: UnixStream, engine: &Arc<Engine>, shared: &Arc<Shared>) -> Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    lock(&shared.conns).insert(id, stream.try_clone()?);
    let handle = {
        let engine = engine.clone();
        let shared2 = shared.clone();
        std::thread::Builder::new()
            .name("ccx-store-conn".into())
            .spawn(move || {
                serve(stream, &engine, &shared2.stopping);
                lock(&shared2.conns).remove(&id);
            })
    };
    let handle = match handle {
        Ok(h) => h,
        Err(e) => {
            lock(&shared.conns).remove(&id);
            return Err(e.into());
        }
    };
    let mut handlers = lock(&shared.handlers);
    handlers.retain(|h| !h.is_finished());
    handlers.push(handle);
    Ok(())
}

fn serve(stream: UnixStream, engine: &Engine, stopping: &AtomicBool) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = std::io::BufWriter::new(write_half);
    let mut reader = BufReader::new(stream);
    loop {
        let line = match read_line_bounded(&mut reader, MAX_REQUEST_BYTES) {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => return,
        };
        if stopping.load(Ordering::SeqCst) {
            // Not executed: the client retries against the next owner.
            return;
        }
        let (response, keep) = match serde_json::from_slice::<Request>(&line) {
            Ok(req) => (engine.execute(&req), true),
            Err(e) => (
                Response::Error(StoreError::Protocol {
                    detail: format!("unreadable request: {e}"),
                }),
                false,
            ),
        };
        let mut out = serde_json::to_vec(&response).expect("responses always serialise");
        out.push(b'\n');
        if writer
            .write_all(&out)
            .and_then(|()| writer.flush())
            .is_err()
            || !keep
        {
            return;
        }
    }
}

/// Removes the store sockets in `runtime_dir` that no process listens on any more (left by a
/// ccx that was killed): a connection to one is refused. Only the file that was tested is
/// removed, so a socket an owner binds meanwhile is kept.
pub fn remove_stale_sockets(runtime_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(runtime_dir) else {
        return;
    };
    for entry in entries.flatten().take(10_000) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("store-") && name.ends_with(".sock")) {
            continue;
        }
        let path = entry.path();
        let identity = |p: &Path| {
            std::fs::symlink_metadata(p)
                .ok()
                .filter(|m| m.file_type().is_socket() && m.uid() == unsafe { libc::getuid() })
                .map(|m| (m.dev(), m.ino()))
        };
        let Some(before) = identity(&path) else {
            continue;
        };
        let refused = matches!(
            UnixStream::connect(&path),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
        );
        if refused && identity(&path) == Some(before) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

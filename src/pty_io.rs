//! The child's side of the proxy, the PTY master, in non-blocking mode: input written in the
//! order it was sent, and output read until the PTY closes.
//!
//! Input takes the shortest way: a chunk sent while nothing is waiting is written at once on
//! the sender's thread (a key from the input thread reaches the child without waking another
//! thread). What the child cannot take yet (the write would block) goes to the writer thread,
//! and everything sent after it queues behind it until the writer has written it all, so the
//! order of the bytes never changes and no sender ever blocks on a child that does not read.

use anyhow::{Context, Result};
use portable_pty::MasterPty;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

/// Sends bytes to the child as if typed. Cloned by every sender; the writer thread ends (and
/// the PTY writer is dropped) once every clone is gone.
#[derive(Clone)]
pub struct ChildInput {
    queue: Sender<Vec<u8>>,
    shared: Arc<Shared>,
}

struct Shared {
    /// The PTY master (a duplicate, non-blocking), once the writer has started.
    fd: OnceLock<OwnedFd>,
    /// Chunks handed to the writer thread and not yet fully written. Held while writing
    /// directly, so that nothing is written past a chunk still waiting.
    queued: Mutex<usize>,
}

/// The writer thread's end of [`ChildInput`], until [`InputQueue::start`] starts it.
pub struct InputQueue {
    receiver: Receiver<Vec<u8>>,
    shared: Arc<Shared>,
}

/// A [`ChildInput`] and its queue; input sent before the queue starts waits in it.
pub fn channel() -> (ChildInput, InputQueue) {
    let (queue, receiver) = mpsc::channel();
    let shared = Arc::new(Shared {
        fd: OnceLock::new(),
        queued: Mutex::new(0),
    });
    (
        ChildInput {
            queue,
            shared: shared.clone(),
        },
        InputQueue { receiver, shared },
    )
}

impl ChildInput {
    /// Writes `bytes` to the child now if nothing waits before them and the child takes them
    /// without blocking; else queues them (or what is left of them) for the writer thread.
    pub fn send(&self, mut bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let mut queued = lock(&self.shared.queued);
        if *queued == 0 {
            if let Some(fd) = self.shared.fd.get() {
                match write_some(fd.as_raw_fd(), &bytes) {
                    Ok(n) if n == bytes.len() => return,
                    Ok(n) => drop(bytes.drain(..n)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    // The child's side is gone: nothing will read these bytes.
                    Err(_) => return,
                }
            }
        }
        if self.queue.send(bytes).is_ok() {
            *queued += 1;
        }
    }
}

impl InputQueue {
    /// Switches the master to non-blocking mode and starts the writer thread. `keep` (the PTY
    /// writer taken from the master) is dropped when the writer thread ends.
    pub fn start(
        self,
        master: RawFd,
        keep: Box<dyn Write + Send>,
    ) -> Result<std::thread::JoinHandle<()>> {
        let fd = duplicate(master)?;
        set_nonblocking(fd.as_raw_fd())?;
        let InputQueue { receiver, shared } = self;
        let _ = shared.fd.set(fd);
        let thread = std::thread::Builder::new()
            .name("ccx-pty-writer".into())
            .spawn(move || {
                crate::thread_priority::on_the_keystroke_path();
                let Some(fd) = shared.fd.get().map(|fd| fd.as_raw_fd()) else {
                    return;
                };
                for bytes in receiver {
                    if write_all_waiting(fd, &bytes).is_err() {
                        break;
                    }
                    *lock(&shared.queued) -= 1;
                }
                drop(keep);
            })?;
        Ok(thread)
    }
}

/// Reads the child's output from the non-blocking master: waits for output when there is
/// none, and reads EIO (every slave closed) as the end.
pub struct PtyReader {
    fd: OwnedFd,
}

impl PtyReader {
    pub fn new(master: RawFd) -> Result<PtyReader> {
        Ok(PtyReader {
            fd: duplicate(master)?,
        })
    }
}

impl Read for PtyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let fd = self.fd.as_raw_fd();
        loop {
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = std::io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EIO) => return Ok(0),
                Some(libc::EAGAIN) => wait_for(fd, libc::POLLIN)?,
                Some(libc::EINTR) => {}
                _ => return Err(err),
            }
        }
    }
}

/// The file descriptor of a PTY master.
pub fn master_fd(master: &dyn MasterPty) -> Result<RawFd> {
    master.as_raw_fd().context("the PTY has no file descriptor")
}

fn duplicate(fd: RawFd) -> Result<OwnedFd> {
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot duplicate the PTY");
    }
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

/// Sets O_NONBLOCK on the open file (shared by every duplicate of the master).
fn set_nonblocking(fd: RawFd) -> Result<()> {
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot make the PTY non-blocking");
    }
    Ok(())
}

/// One write: how much the child took (WouldBlock when nothing).
fn write_some(fd: RawFd, bytes: &[u8]) -> std::io::Result<usize> {
    loop {
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Writes all of `bytes`, waiting for room whenever the child is not reading.
fn write_all_waiting(fd: RawFd, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match write_some(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => wait_for(fd, libc::POLLOUT)?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Waits until `fd` is ready for `events` (or hung up: the read or write that follows says).
fn wait_for(fd: RawFd, events: libc::c_short) -> std::io::Result<()> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    loop {
        if unsafe { libc::poll(&mut pfd, 1, -1) } >= 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A PTY pair with the slave in raw mode (no echo, no line editing): (master, slave).
    fn raw_pty() -> (OwnedFd, std::fs::File) {
        let (mut master, mut slave) = (0, 0);
        let made = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(made, 0, "openpty: {}", std::io::Error::last_os_error());
        let mut mode: libc::termios = unsafe { std::mem::zeroed() };
        unsafe {
            assert_eq!(libc::tcgetattr(slave, &mut mode), 0);
            libc::cfmakeraw(&mut mode);
            assert_eq!(libc::tcsetattr(slave, libc::TCSANOW, &mode), 0);
        }
        unsafe {
            (
                OwnedFd::from_raw_fd(master),
                std::fs::File::from_raw_fd(slave),
            )
        }
    }

    /// Numbered chunks: what a person and ccx's own injections might send, in one order.
    fn chunks(count: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|i| format!("<{i}:{}>", "k".repeat(i % 97)).into_bytes())
            .collect()
    }

    /// Reads `want` bytes from the slave on a thread, slowly (small reads with pauses, so that
    /// room in the PTY comes and goes); the bytes, at most 20 s later.
    fn read_slowly(mut slave: std::fs::File, want: usize) -> mpsc::Receiver<Vec<u8>> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 700];
            while got.len() < want {
                match slave.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
                std::thread::sleep(Duration::from_micros(50));
            }
            let _ = tx.send(got);
        });
        rx
    }

    fn read_all(slave: std::fs::File, want: usize) -> Vec<u8> {
        read_slowly(slave, want)
            .recv_timeout(Duration::from_secs(20))
            .expect("the slave did not get every byte in time")
    }

    #[test]
    fn input_keeps_its_order_when_the_child_reads_slowly_and_no_send_blocks() {
        let (master, slave) = raw_pty();
        let (input, queue) = channel();
        let writer = queue
            .start(master.as_raw_fd(), Box::new(std::io::sink()))
            .unwrap();
        // Far more than the PTY holds. The first half is sent while nothing reads: later
        // writes would block, so they go to the writer thread. The second half is sent while
        // the child reads slowly: room comes and goes, and a chunk written at once past one
        // still queued would arrive out of order.
        let sent = chunks(8000);
        let total: usize = sent.iter().map(Vec::len).sum();
        assert!(total > 256 * 1024, "{total}");
        let (first, second) = sent.split_at(sent.len() / 2);
        let started = Instant::now();
        for chunk in first {
            input.send(chunk.clone());
        }
        assert!(
            *lock(&input.shared.queued) > 0,
            "the PTY filled up, so some input waits for the writer thread"
        );
        let arrived = read_slowly(slave, total);
        for chunk in second {
            input.send(chunk.clone());
            std::thread::sleep(Duration::from_micros(20));
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "sending took {took:?}");
        let got = arrived
            .recv_timeout(Duration::from_secs(20))
            .expect("the slave did not get every byte in time");
        assert!(got == sent.concat(), "the bytes arrived out of order");
        assert_eq!(*lock(&input.shared.queued), 0);
        drop(input);
        writer.join().unwrap();
    }

    #[test]
    fn input_sent_before_the_writer_starts_comes_first() {
        let (master, slave) = raw_pty();
        let (input, queue) = channel();
        input.send(b"early ".to_vec());
        input.send(b"and ".to_vec());
        let _writer = queue
            .start(master.as_raw_fd(), Box::new(std::io::sink()))
            .unwrap();
        input.send(b"late".to_vec());
        assert_eq!(read_all(slave, 14), b"early and late");
    }

    #[test]
    fn the_reader_waits_for_output_and_ends_when_the_slave_closes() {
        let (master, mut slave) = raw_pty();
        set_nonblocking(master.as_raw_fd()).unwrap();
        let mut reader = PtyReader::new(master.as_raw_fd()).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let _ = tx.send(got);
        });
        std::thread::sleep(Duration::from_millis(50));
        slave.write_all(b"one ").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        slave.write_all(b"two").unwrap();
        drop(slave);
        let got = rx.recv_timeout(Duration::from_secs(20)).expect("no end");
        assert_eq!(got, b"one two");
    }
}

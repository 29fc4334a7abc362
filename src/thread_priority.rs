//! Scheduling hints for the threads a keystroke passes through (input, PTY writer, output
//! copy): on a busy machine a woken thread may wait milliseconds for a CPU, and each hop of a
//! key through ccx is one such wake. No privilege is needed and failure changes nothing.

/// The time slice asked for (the kernel's minimum): on Linux 6.12 and later (EEVDF), a task
/// that asks for a shorter slice gets an earlier deadline, so when it wakes it may preempt a
/// task running a longer one instead of waiting for that task's slice to end. It runs as long
/// as before in all (its share of the CPU is its nice value's), in shorter turns.
const SLICE_NS: u64 = 100_000;

/// `struct sched_attr` as `sched_setattr(2)` takes it (the first, 48-byte version).
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    sched_policy: u32,
    sched_flags: u64,
    sched_nice: i32,
    sched_priority: u32,
    sched_runtime: u64,
    sched_deadline: u64,
    sched_period: u64,
}

/// Asks the scheduler to run the calling thread soon after it wakes (see [`SLICE_NS`]). Older
/// kernels ignore the slice; elsewhere this does nothing.
pub fn on_the_keystroke_path() {
    #[cfg(target_os = "linux")]
    {
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            sched_policy: libc::SCHED_OTHER as u32,
            sched_nice: current_nice(),
            sched_runtime: SLICE_NS,
            ..SchedAttr::default()
        };
        // SAFETY: a plain syscall on the calling thread (pid 0) with a valid, sized struct.
        unsafe {
            libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0u32);
        }
    }
}

/// The calling thread's nice value (kept as it is: the slice is the only change).
#[cfg(target_os = "linux")]
fn current_nice() -> i32 {
    // SAFETY: getpriority on the calling thread; -1 is also a valid nice, so errno is cleared.
    unsafe {
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t);
        if *libc::__errno_location() != 0 {
            0
        } else {
            nice
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hint_keeps_the_policy_and_nice() {
        std::thread::spawn(|| {
            let policy = unsafe { libc::sched_getscheduler(0) };
            let nice = super::current_nice();
            super::on_the_keystroke_path();
            assert_eq!(unsafe { libc::sched_getscheduler(0) }, policy);
            assert_eq!(super::current_nice(), nice);
        })
        .join()
        .unwrap();
    }
}

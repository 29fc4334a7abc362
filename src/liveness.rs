//! Which process records a turn: an identity `pid:start-time` (the start time from
//! `/proc/PID/stat`, so a reused pid is not taken for the process that died), and whether the
//! process an identity names still runs.

/// This process's identity.
pub fn this_process() -> String {
    let pid = std::process::id();
    match start_time(pid) {
        Some(t) => format!("{pid}:{t}"),
        None => pid.to_string(),
    }
}

/// True while the process named by `identity` (from [`this_process`]) runs. An identity that
/// cannot be read is taken as alive: nothing is closed on a guess.
pub fn is_alive(identity: &str) -> bool {
    let mut parts = identity.splitn(2, ':');
    let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
        return true;
    };
    if pid == std::process::id() {
        return parts
            .next()
            .is_none_or(|t| Some(t.to_string()) == start_time(pid));
    }
    let exists = pid_exists(pid) && !is_zombie(pid);
    match (exists, parts.next()) {
        (false, _) => false,
        (true, None) => true,
        // A different start time: the pid was given to another process since.
        (true, Some(t)) => start_time(pid).is_none_or(|now| now == t),
    }
}

fn pid_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let sent = unsafe { libc::kill(pid, 0) };
    sent == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A process that has ended but was not yet reaped by its parent (state Z or X).
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 1..];
            rest.split_whitespace().next().map(|s| s == "Z" || s == "X")
        })
        .unwrap_or(false)
}

/// Field 22 of `/proc/PID/stat` (start time in clock ticks since boot).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_one_is_not() {
        assert!(is_alive(&this_process()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let identity = match start_time(pid) {
            Some(t) => format!("{pid}:{t}"),
            None => pid.to_string(),
        };
        child.wait().unwrap();
        assert!(!is_alive(&identity));
        assert!(!is_alive(&format!("{}:1", std::process::id())));
        assert!(is_alive("garbage"));
    }
}

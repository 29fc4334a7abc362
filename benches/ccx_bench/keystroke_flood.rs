//! Keystroke round trip under a flood: through a recorded `ccx` session and through a bare PTY,
//! measured interleaved in the same run, in several rounds, each with the machine's load.
//!
//! - `keystroke-flood CCX rounds=R samples=N rate_mb=R dir=DIR [reader=on-demand] [flood=lf]`: a
//!   stand-in claude (`stty raw -echo`, `trickle` flooding its terminal at `rate_mb` MB/s in the
//!   background with 80-byte lines ending in CR LF as a raw-mode program writes them, or in LF
//!   alone with `flood=lf`, then `cat`) runs as the claude of a recorded `ccx` session and bare in a PTY of
//!   this process. Each sample writes a digit (the flood holds none) and times until it is read
//!   back among the flood; samples alternate between the two (which goes first alternates too),
//!   `gap_us` apart. `rounds` rounds of `samples` samples each (after `warmup`), each round
//!   reported with the 1-minute load average and the CPU pressure (`/proc/pressure/cpu`, the
//!   share of the last 10 s some task waited for a CPU) at its end. By default each terminal is
//!   read all the time by a thread, as a terminal does; `reader=on-demand` reads a terminal only
//!   while a sample waits for its echo (the flood then backs up in the PTYs between samples).
//!
//! `other=CCX2` adds a third contender, the same session through another build of ccx, sampled in
//! turn with the other two (to compare two builds in the same minutes): `keyflood_other_*`.
//!
//! RESULT lines: pooled `keyflood_{bare,ccx}_{p50,p99,max}_ms` and `_n`; `keyflood_added_p50_ms`
//! and `keyflood_added_p99_ms` (pooled, ccx minus bare); per round `keyflood_round_<i>` (load,
//! CPU pressure %, bare p50, bare p99, ccx p50, ccx p99); the added p99 across rounds
//! (`keyflood_rounds_added_p99_ms`: every round; `keyflood_added_p99_{min,median,max}_ms`); and
//! the quietest round (lowest CPU pressure): `keyflood_quietest` (its round line).

use super::{opt, opt_str, pct, report_dist, result, CommandBuilder, EchoReader, PtySession, Res};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The contenders, in the order of `Round::times`.
const NAMES: [&str; 3] = ["bare", "ccx", "other"];

/// One round's figures.
struct Round {
    load: f64,
    pressure: f64,
    /// Round trips in ms per contender: bare, ccx, and the other build if any.
    times: Vec<Vec<f64>>,
}

impl Round {
    fn added_p99(&self, k: usize) -> f64 {
        pct(&self.times[k], 99.0) - pct(&self.times[0], 99.0)
    }

    fn line(&self) -> String {
        let mut line = format!("load={:.2} cpu_pressure={:.1}%", self.load, self.pressure);
        for (k, times) in self.times.iter().enumerate() {
            line += &format!(
                " {name}_p50={:.4} {name}_p99={:.4}",
                pct(times, 50.0),
                pct(times, 99.0),
                name = NAMES[k]
            );
        }
        line + &format!(" added_p99={:.4}", self.added_p99(1))
    }
}

/// How a session's echo is read: all the time by a thread, or only while a sample waits.
enum Echo {
    Continuous(EchoReader),
    OnDemand,
}

impl Echo {
    fn round_trip(&self, session: &mut PtySession, byte: u8) -> Res<f64> {
        match self {
            Echo::Continuous(reader) => reader.round_trip(session, byte),
            Echo::OnDemand => session.round_trip(byte),
        }
    }
}

pub fn keystroke_flood(args: &[String]) -> Res<()> {
    let ccx = args.first().ok_or("keystroke-flood CCX dir=DIR")?.clone();
    let rounds: usize = opt(args, "rounds", 10);
    let samples: usize = opt(args, "samples", 200);
    let warmup: usize = opt(args, "warmup", 100);
    let rate: f64 = opt(args, "rate_mb", 10.0);
    let gap = Duration::from_micros(opt(args, "gap_us", 1000));
    let dir = PathBuf::from(opt_str(args, "dir").ok_or("keystroke-flood needs dir=DIR")?);
    let other = opt_str(args, "other");
    let eol = opt_str(args, "flood").unwrap_or_else(|| "crlf".into());
    let mut sessions = start_sessions(&ccx, other.as_deref(), &dir, rate, &eol)?;
    let on_demand = opt_str(args, "reader").as_deref() == Some("on-demand");
    let mut echoes = Vec::new();
    for s in sessions.iter_mut() {
        echoes.push(if on_demand {
            Echo::OnDemand
        } else {
            Echo::Continuous(EchoReader::start(s)?)
        });
    }
    let started = Instant::now();
    sample(&mut sessions, &echoes, warmup, gap)?;
    let mut all = Vec::new();
    for i in 0..rounds {
        let times = sample(&mut sessions, &echoes, samples, gap)?;
        let round = Round {
            load: load_average(),
            pressure: cpu_pressure(),
            times,
        };
        eprintln!("keystroke-flood round {i}: {}", round.line());
        result(&format!("keyflood_round_{i}"), round.line());
        all.push(round);
    }
    eprintln!(
        "keystroke-flood: {rounds} rounds of {samples} samples each in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    report(&all);
    for s in sessions.iter_mut() {
        super::end(&mut s.child, libc::SIGTERM);
    }
    Ok(())
}

/// Starts the stand-in bare and as the claude of a recorded `ccx` session (and of one through
/// `other`); waits for all.
fn start_sessions(
    ccx: &str,
    other: Option<&str>,
    dir: &Path,
    rate: f64,
    eol: &str,
) -> Res<Vec<PtySession>> {
    let me = std::env::current_exe()?;
    let standin = dir.join("echo-claude");
    std::fs::write(
        &standin,
        format!(
            "#!/bin/sh\nstty raw -echo\n'{}' trickle {rate} secs=900 eol={eol} &\nprintf READY\nexec cat\n",
            me.display()
        ),
    )?;
    std::fs::set_permissions(
        &standin,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    let bare_argv = vec![standin.display().to_string()];
    let mut sessions = vec![PtySession::start("bare", &bare_argv)?];
    for (name, program) in [("ccx", Some(ccx)), ("other", other)] {
        let Some(program) = program else { continue };
        let home = dir.join(name);
        for sub in ["home", "data", "project"] {
            std::fs::create_dir_all(home.join(sub))?;
        }
        let mut cmd = CommandBuilder::new(program);
        cmd.cwd(home.join("project"));
        cmd.env("HOME", home.join("home"));
        cmd.env("CCX_DATA_DIR", home.join("data"));
        cmd.env("CCX_CLAUDE", &standin);
        sessions.push(PtySession::start_command(name, cmd)?);
    }
    for s in sessions.iter_mut() {
        s.wait_for(b"READY", Duration::from_secs(30))?;
    }
    std::thread::sleep(Duration::from_millis(500));
    Ok(sessions)
}

/// `count` samples of each session, in turn (the order rotates from sample to sample).
fn sample(
    sessions: &mut [PtySession],
    echoes: &[Echo],
    count: usize,
    gap: Duration,
) -> Res<Vec<Vec<f64>>> {
    let n = sessions.len();
    let mut times = vec![Vec::new(); n];
    for i in 0..count {
        let byte = b'0' + (i % 10) as u8;
        for j in 0..n {
            let k = (i + j) % n;
            times[k].push(echoes[k].round_trip(&mut sessions[k], byte)?);
            std::thread::sleep(gap);
        }
    }
    Ok(times)
}

fn report(rounds: &[Round]) {
    let contenders = rounds.first().map_or(0, |r| r.times.len());
    let pooled: Vec<Vec<f64>> = (0..contenders)
        .map(|k| rounds.iter().flat_map(|r| r.times[k].clone()).collect())
        .collect();
    for (k, times) in pooled.iter().enumerate() {
        report_dist(&format!("keyflood_{}", NAMES[k]), times);
    }
    for k in 1..contenders {
        let infix = if k == 1 { "" } else { "other_" };
        for (key, p) in [("p50", 50.0), ("p99", 99.0)] {
            result(
                &format!("keyflood_{infix}added_{key}_ms"),
                format!("{:.4}", pct(&pooled[k], p) - pct(&pooled[0], p)),
            );
        }
    }
    let added: Vec<f64> = rounds.iter().map(|r| r.added_p99(1)).collect();
    let listed: Vec<String> = added.iter().map(|a| format!("{a:+.2}")).collect();
    result("keyflood_rounds_added_p99_ms", listed.join(" "));
    for (key, p) in [("min", 0.0), ("median", 50.0), ("max", 100.0)] {
        result(
            &format!("keyflood_added_p99_{key}_ms"),
            format!("{:.4}", pct(&added, p)),
        );
    }
    let loads: Vec<f64> = rounds.iter().map(|r| r.load).collect();
    let pressures: Vec<f64> = rounds.iter().map(|r| r.pressure).collect();
    result(
        "keyflood_load",
        format!("{:.2}-{:.2}", pct(&loads, 0.0), pct(&loads, 100.0)),
    );
    result(
        "keyflood_cpu_pressure",
        format!("{:.0}-{:.0}%", pct(&pressures, 0.0), pct(&pressures, 100.0)),
    );
    if let Some(quietest) = rounds
        .iter()
        .min_by(|a, b| a.pressure.total_cmp(&b.pressure))
    {
        result("keyflood_quietest", quietest.line());
    }
}

/// The 1-minute load average.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The share of the last 10 s during which some task waited for a CPU, in percent (NaN where
/// the kernel does not report pressure).
fn cpu_pressure() -> f64 {
    std::fs::read_to_string("/proc/pressure/cpu")
        .ok()
        .and_then(|t| {
            let some = t.lines().find(|l| l.starts_with("some"))?;
            some.split_whitespace()
                .find_map(|f| f.strip_prefix("avg10="))?
                .parse()
                .ok()
        })
        .unwrap_or(f64::NAN)
}

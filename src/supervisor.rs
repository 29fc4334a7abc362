//! The proxy's child lifecycle as a pure state machine: which program runs in the PTY, when a
//! restart starts the next one, when a restarted program that died at once is replaced by its
//! fallback, and when the session is over. [`Supervisor::on_event`] takes one event and returns
//! the actions the proxy carries out (signal the child, spawn a program, answer a restart, close
//! the PTY's slave side); it does no I/O and reads no clock, so it is tested by tables.
//!
//! It is generic over the command (`C`) and the restart's answer channel (`R`): the proxy uses
//! `CommandBuilder` and a `Sender`, the tests plain labels.

use crate::owned_child::ChildExit;
use std::time::{Duration, Instant};

/// The answer to a restart: the new child's PID, or why it could not start.
pub type RestartResult = std::result::Result<u32, String>;

/// A restarted child that dies this soon is taken to have refused to start (e.g. claude could
/// not resume a conversation); its fallback, if any, starts instead of ending the session.
pub const FALLBACK_WINDOW: Duration = Duration::from_secs(15);

/// What happened, as the supervisor sees it.
#[derive(Debug)]
pub enum SupervisorEvent<C, R> {
    /// A child ended; `generation` says which one (see [`Supervisor::generation`]).
    ChildExited { generation: u64, exit: ChildExit },
    /// The PTY has no more output.
    OutputDone,
    /// ccx was asked to end by this signal: end the child, restart nothing.
    Terminate(i32),
    /// The person asked ccx to quit (`:quit`).
    EndOnRequest,
    /// The restarted child with this PID is up: its fallback is no longer wanted.
    Started(u32),
    /// End the current child and start `cmd` in its place; answer on `reply`.
    Restart {
        cmd: C,
        fallback: Option<C>,
        reply: R,
    },
    /// The outcome of the last [`SupervisorAction::Spawn`]: the new child's PID, or why not.
    Spawned(Result<u32, String>),
}

/// What the proxy must do.
#[derive(Debug, PartialEq, Eq)]
pub enum SupervisorAction<C, R> {
    /// Ask the current child to end (SIGHUP, SIGKILL after a grace period if still there).
    EndChild,
    /// Start this program in the PTY as child `generation` and report with
    /// [`SupervisorEvent::Spawned`] (its waiter reports its exit with that generation).
    Spawn { cmd: C, generation: u64 },
    /// Answer a restart.
    Reply(R, RestartResult),
    /// Drop the proxy's copy of the PTY's slave side: EOF comes once the child's side closes.
    CloseSlave,
}

/// How the session ended, once [`Supervisor::is_done`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    pub exit: ChildExit,
    pub terminated_by: Option<i32>,
    pub ended_on_request: bool,
}

/// A spawn in progress: who to answer, and the exit that ends the session if it fails.
struct Spawning<R> {
    reply: Option<R>,
    exit: ChildExit,
}

/// The lifecycle state (see the module doc).
pub struct Supervisor<C, R> {
    generation: u64,
    pid: u32,
    pending_restart: Option<(C, R)>,
    pending_fallback: Option<C>,
    armed_fallback: Option<(C, Instant)>,
    spawning: Option<Spawning<R>>,
    exit: Option<ChildExit>,
    output_done: bool,
    terminated_by: Option<i32>,
    ended_on_request: bool,
}

type Actions<C, R> = Vec<SupervisorAction<C, R>>;

impl<C, R> Supervisor<C, R> {
    /// Supervises the first child, `pid`, as generation 0.
    pub fn new(pid: u32) -> Self {
        Supervisor {
            generation: 0,
            pid,
            pending_restart: None,
            pending_fallback: None,
            armed_fallback: None,
            spawning: None,
            exit: None,
            output_done: false,
            terminated_by: None,
            ended_on_request: false,
        }
    }

    /// The current child's generation: a waiter reports its child's exit with it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The current child's PID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// A child has exited that nobody asked to replace: only its output is left to drain.
    pub fn is_draining(&self) -> bool {
        self.exit.is_some()
    }

    /// The last child has exited and the output is drained.
    pub fn is_done(&self) -> bool {
        self.exit.is_some() && self.output_done
    }

    /// How the session ended (a code 1 exit if it ended before any child's exit was known).
    pub fn ending(&self) -> Ending {
        Ending {
            exit: self.exit.unwrap_or(ChildExit::Code(1)),
            terminated_by: self.terminated_by,
            ended_on_request: self.ended_on_request,
        }
    }

    /// Takes one event (at `now`) and says what to do about it.
    pub fn on_event(&mut self, event: SupervisorEvent<C, R>, now: Instant) -> Actions<C, R> {
        match event {
            SupervisorEvent::ChildExited { generation, exit } if generation == self.generation => {
                self.child_exited(exit, now)
            }
            SupervisorEvent::ChildExited { .. } => Vec::new(),
            SupervisorEvent::OutputDone => {
                self.output_done = true;
                Vec::new()
            }
            SupervisorEvent::Started(pid) => {
                if pid == self.pid {
                    self.armed_fallback = None;
                }
                Vec::new()
            }
            SupervisorEvent::EndOnRequest => {
                self.ended_on_request = true;
                self.armed_fallback = None;
                vec![SupervisorAction::EndChild]
            }
            SupervisorEvent::Terminate(signal) => {
                self.terminated_by.get_or_insert(signal);
                self.armed_fallback = None;
                let mut actions = Vec::new();
                if let Some((_, reply)) = self.pending_restart.take() {
                    actions.push(ending_reply(reply));
                }
                actions.push(SupervisorAction::EndChild);
                actions
            }
            SupervisorEvent::Restart {
                cmd,
                fallback,
                reply,
            } => self.restart(cmd, fallback, reply),
            SupervisorEvent::Spawned(result) => self.spawned(result),
        }
    }

    /// The current child ended. Asked for: the next program. Unasked but soon after a restart:
    /// its fallback. Otherwise the session ends once the output is drained.
    fn child_exited(&mut self, exit: ChildExit, now: Instant) -> Actions<C, R> {
        let next = match self.pending_restart.take() {
            Some((cmd, reply)) => {
                self.armed_fallback = self.pending_fallback.take().map(|f| (f, now));
                Some((cmd, Some(reply)))
            }
            None => self
                .armed_fallback
                .take()
                .filter(|(_, at)| now.saturating_duration_since(*at) < FALLBACK_WINDOW)
                .map(|(cmd, _)| (cmd, None)),
        };
        match next {
            Some((cmd, reply)) => {
                self.spawning = Some(Spawning { reply, exit });
                // From now on a late report about the child that ended is ignored.
                self.generation += 1;
                vec![SupervisorAction::Spawn {
                    cmd,
                    generation: self.generation,
                }]
            }
            None => self.end_with(exit),
        }
    }

    fn spawned(&mut self, result: Result<u32, String>) -> Actions<C, R> {
        let Some(Spawning { reply, exit }) = self.spawning.take() else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        if let Ok(pid) = result {
            self.pid = pid;
        } else {
            actions.extend(self.end_with(exit));
        }
        if let Some(reply) = reply {
            actions.insert(0, SupervisorAction::Reply(reply, result));
        }
        actions
    }

    fn restart(&mut self, cmd: C, fallback: Option<C>, reply: R) -> Actions<C, R> {
        if self.exit.is_some() || self.terminated_by.is_some() || self.ended_on_request {
            return vec![ending_reply(reply)];
        }
        let mut actions = Vec::new();
        // A restart asked for before the last one finished replaces it.
        if let Some((_, earlier)) = self.pending_restart.take() {
            actions.push(SupervisorAction::Reply(
                earlier,
                Err("replaced by a later restart".into()),
            ));
        }
        self.pending_restart = Some((cmd, reply));
        self.pending_fallback = fallback;
        actions.push(SupervisorAction::EndChild);
        actions
    }

    fn end_with(&mut self, exit: ChildExit) -> Actions<C, R> {
        self.exit = Some(exit);
        self.armed_fallback = None;
        vec![SupervisorAction::CloseSlave]
    }
}

fn ending_reply<C, R>(reply: R) -> SupervisorAction<C, R> {
    SupervisorAction::Reply(reply, Err("the session is ending".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SupervisorAction::*;

    type Event = SupervisorEvent<&'static str, &'static str>;
    type Action = SupervisorAction<&'static str, &'static str>;

    fn exited(generation: u64, code: i32) -> Event {
        SupervisorEvent::ChildExited {
            generation,
            exit: ChildExit::Code(code),
        }
    }

    fn restart(cmd: &'static str, fallback: Option<&'static str>, reply: &'static str) -> Event {
        SupervisorEvent::Restart {
            cmd,
            fallback,
            reply,
        }
    }

    /// Runs `steps` (an event, seconds since the start, the actions expected) on a supervisor
    /// of child 100; returns it for checks on its final state.
    fn run(
        steps: impl IntoIterator<Item = (Event, u64, Vec<Action>)>,
    ) -> Supervisor<&'static str, &'static str> {
        let start = Instant::now();
        let mut s = Supervisor::new(100);
        for (i, (event, secs, expected)) in steps.into_iter().enumerate() {
            let label = format!("{event:?}");
            let actions = s.on_event(event, start + Duration::from_secs(secs));
            assert_eq!(actions, expected, "step {i}: {label}");
        }
        s
    }

    /// The steps of a restart to `cmd` (with `fallback`, answered on `reply`) that went well:
    /// the child ends, `cmd` is spawned as generation 1, PID 200, and the answer is sent.
    fn restarted(
        cmd: &'static str,
        fallback: Option<&'static str>,
        reply: &'static str,
    ) -> Vec<(Event, u64, Vec<Action>)> {
        vec![
            (restart(cmd, fallback, reply), 0, vec![EndChild]),
            (exited(0, 129), 1, vec![spawn(cmd, 1)]),
            (
                SupervisorEvent::Spawned(Ok(200)),
                1,
                vec![Reply(reply, Ok(200))],
            ),
        ]
    }

    fn spawn(cmd: &'static str, generation: u64) -> Action {
        Spawn { cmd, generation }
    }

    fn code(n: i32) -> ChildExit {
        ChildExit::Code(n)
    }

    #[test]
    fn an_unasked_exit_ends_the_session_once_output_is_drained() {
        let s = run(vec![
            (exited(0, 3), 1, vec![CloseSlave]),
            (SupervisorEvent::OutputDone, 1, vec![]),
        ]);
        assert!(s.is_done());
        assert_eq!(
            s.ending(),
            Ending {
                exit: code(3),
                terminated_by: None,
                ended_on_request: false
            }
        );
        // Output done first, then the exit: the same.
        let s = run(vec![
            (SupervisorEvent::OutputDone, 0, vec![]),
            (exited(0, 0), 1, vec![CloseSlave]),
        ]);
        assert!(s.is_done());
    }

    #[test]
    fn a_restart_ends_the_child_then_starts_the_next_and_answers() {
        let s = run(restarted("next", None, "r1").into_iter().chain([
            // A late report about the old child changes nothing.
            (exited(0, 0), 2, vec![]),
        ]));
        assert_eq!((s.generation(), s.pid()), (1, 200));
        assert!(!s.is_draining(), "the new child runs on");
    }

    #[test]
    fn a_restarted_child_that_dies_within_the_window_is_replaced_by_its_fallback() {
        let s = run(restarted("resume", Some("fresh"), "r").into_iter().chain([
            (exited(1, 1), 5, vec![spawn("fresh", 2)]),
            (SupervisorEvent::Spawned(Ok(300)), 5, vec![]),
            // The fallback has no fallback: its exit ends the session.
            (exited(2, 5), 6, vec![CloseSlave]),
        ]));
        assert_eq!(s.ending().exit, code(5));
        assert_eq!(s.generation(), 2);
    }

    #[test]
    fn the_fallback_is_not_started_after_the_window_or_once_the_child_started_well() {
        let after_the_window = 1 + FALLBACK_WINDOW.as_secs();
        let late = run(restarted("resume", Some("fresh"), "r").into_iter().chain([(
            exited(1, 7),
            after_the_window,
            vec![CloseSlave],
        )]));
        assert_eq!(late.ending().exit, code(7));
        let confirmed = run(restarted("resume", Some("fresh"), "r").into_iter().chain([
            // A confirmation for another PID does not disarm it...
            (SupervisorEvent::Started(999), 2, vec![]),
            // ...this one does.
            (SupervisorEvent::Started(200), 2, vec![]),
            (exited(1, 7), 3, vec![CloseSlave]),
        ]));
        assert_eq!(confirmed.ending().exit, code(7));
    }

    #[test]
    fn a_failed_spawn_answers_the_error_and_ends_with_the_old_childs_exit() {
        let s = run(vec![
            (restart("missing", None, "r"), 0, vec![EndChild]),
            (exited(0, 129), 1, vec![spawn("missing", 1)]),
            (
                SupervisorEvent::Spawned(Err("cannot start missing".into())),
                1,
                vec![Reply("r", Err("cannot start missing".into())), CloseSlave],
            ),
            (SupervisorEvent::OutputDone, 1, vec![]),
        ]);
        assert!(s.is_done());
        assert_eq!(s.ending().exit, code(129));
    }

    #[test]
    fn terminating_refuses_restarts_and_starts_no_fallback() {
        let s = run(vec![
            (restart("next", Some("fb"), "r1"), 0, vec![EndChild]),
            (
                SupervisorEvent::Terminate(15),
                0,
                vec![Reply("r1", Err("the session is ending".into())), EndChild],
            ),
            (
                restart("again", None, "r2"),
                0,
                vec![Reply("r2", Err("the session is ending".into()))],
            ),
            (SupervisorEvent::Terminate(1), 0, vec![EndChild]),
            (exited(0, 129), 1, vec![CloseSlave]),
        ]);
        let ending = s.ending();
        assert_eq!(ending.terminated_by, Some(15), "the first signal is kept");
        assert_eq!(ending.exit, ChildExit::Code(129));
    }

    #[test]
    fn quitting_on_request_disarms_the_fallback_and_refuses_restarts() {
        let s = run(restarted("resume", Some("fresh"), "r").into_iter().chain([
            (SupervisorEvent::EndOnRequest, 2, vec![EndChild]),
            (
                restart("x", None, "r2"),
                2,
                vec![Reply("r2", Err("the session is ending".into()))],
            ),
            (exited(1, 129), 2, vec![CloseSlave]),
        ]));
        assert!(s.ending().ended_on_request);
    }

    #[test]
    fn a_second_restart_replaces_the_first_and_after_the_end_none_is_taken() {
        let s = run(vec![
            (restart("a", None, "ra"), 0, vec![EndChild]),
            (
                restart("b", None, "rb"),
                0,
                vec![
                    Reply("ra", Err("replaced by a later restart".into())),
                    EndChild,
                ],
            ),
            (exited(0, 129), 1, vec![spawn("b", 1)]),
            (
                SupervisorEvent::Spawned(Ok(201)),
                1,
                vec![Reply("rb", Ok(201))],
            ),
            (exited(1, 0), 2, vec![CloseSlave]),
            (
                restart("c", None, "rc"),
                3,
                vec![Reply("rc", Err("the session is ending".into()))],
            ),
        ]);
        assert!(s.is_draining() && !s.is_done());
    }
}

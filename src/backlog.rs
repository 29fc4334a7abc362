//! The recorder thread's loop, and what it does when the turn log cannot be written (a full
//! disk): Claude keeps running, the footer says `⚠ not recording: disk full`, ccx.log says it
//! once, and the events not yet stored are kept in memory (bounded) in their order and stored
//! when a retry succeeds — so nothing is lost if space comes back before ccx exits. What is
//! still unsaved at exit is described in one line for the person.

use crate::hooks::wire::HookEvent;
use crate::recorder::{Recorder, RecorderMsg};
use crate::store::StoreError;
use crate::view::ViewHandle;
use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Duration;

/// How often unsaved events are tried again.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// The most memory unsaved events may hold (their text); later ones are counted as lost.
const MAX_BACKLOG_BYTES: usize = 64 << 20;
/// The most unsaved events kept, whatever their size.
const MAX_BACKLOG_EVENTS: usize = 10_000;
/// How many prompts (and replies) the exit line quotes.
const QUOTED: usize = 3;

/// Events the turn log refused, oldest first, with what was lost beyond the bound.
#[derive(Default)]
struct Backlog {
    queue: VecDeque<RecorderMsg>,
    bytes: usize,
    /// Events dropped because the backlog was full.
    lost: Vec<RecorderMsg>,
    /// Why the log cannot be written (set while failing).
    failing: Option<String>,
    /// ccx.log was told (once per session, however often writing stops and starts again).
    told: bool,
}

/// What an event weighs in memory (its text).
fn weight(msg: &RecorderMsg) -> usize {
    let text = match msg {
        RecorderMsg::Hook(HookEvent::PromptSubmitted { prompt, .. }) => prompt.len(),
        RecorderMsg::Hook(HookEvent::Stopped { last_message, .. }) => {
            last_message.as_ref().map_or(0, String::len)
        }
        _ => 0,
    };
    text + 256
}

/// Whether `err` means the turn log could not be written (rather than a bad request), and so
/// the event should be kept and tried again; with the reason to show.
fn write_failure(err: &anyhow::Error) -> Option<String> {
    let io = err
        .chain()
        .find_map(|e| match e.downcast_ref::<StoreError>() {
            Some(StoreError::Io { detail, .. }) => Some(detail.clone()),
            _ => None,
        })?;
    let full = io.contains("No space left") || io.contains("os error 28");
    Some(if full {
        "disk full".to_string()
    } else {
        format!("cannot write the turn log ({io})")
    })
}

impl Backlog {
    fn push(&mut self, msg: RecorderMsg) {
        let w = weight(&msg);
        if self.queue.len() >= MAX_BACKLOG_EVENTS || self.bytes + w > MAX_BACKLOG_BYTES {
            self.lost.push(msg);
        } else {
            self.bytes += w;
            self.queue.push_back(msg);
        }
    }

    /// Hands the queued events to the recorder in order until one cannot be stored.
    fn drain(&mut self, recorder: &mut Recorder, view: &ViewHandle) {
        while let Some(msg) = self.queue.front() {
            match recorder.on_message(msg.clone()) {
                Ok(()) => {}
                Err(err) => match write_failure(&err) {
                    Some(why) => {
                        if self.failing.is_none() {
                            if !self.told {
                                self.told = true;
                                crate::diag::log(&format!(
                                    "not recording: {why}; keeping what Claude does in memory \
                                     and trying again every {} s ({err:#})",
                                    RETRY_EVERY.as_secs()
                                ));
                            }
                            view.update(|v| v.problem = Some(format!("not recording: {why}")));
                        }
                        self.failing = Some(why);
                        return;
                    }
                    None => crate::diag::log(&format!("recorder: {err:#}")),
                },
            }
            if let Some(done) = self.queue.pop_front() {
                self.bytes -= weight(&done);
            }
        }
        if let Some(why) = self.failing.take() {
            crate::diag::log(&format!(
                "recording again: the events kept while {why} are stored"
            ));
            view.update(|v| v.problem = None);
        }
    }

    /// One line saying what is not stored, or None when everything is.
    fn unsaved(&self) -> Option<String> {
        let all: Vec<&RecorderMsg> = self.queue.iter().chain(self.lost.iter()).collect();
        let prompts: Vec<&str> = all
            .iter()
            .filter_map(|m| match m {
                RecorderMsg::Hook(HookEvent::PromptSubmitted { prompt, .. }) => {
                    Some(prompt.as_str())
                }
                _ => None,
            })
            .collect();
        let replies: Vec<&str> = all
            .iter()
            .filter_map(|m| match m {
                RecorderMsg::Hook(HookEvent::Stopped { last_message, .. }) => {
                    Some(last_message.as_deref().unwrap_or(""))
                }
                _ => None,
            })
            .collect();
        let parts: Vec<String> = [
            describe(&prompts, "prompt", "prompts"),
            describe(&replies, "reply", "replies"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            return None;
        }
        let why = self
            .failing
            .clone()
            .unwrap_or_else(|| "cannot write the turn log".into());
        Some(format!(
            "not saved in the turn log ({why}): {}; Claude's own transcript still holds them",
            parts.join(" and ")
        ))
    }
}

/// `2 prompts ("first line…", "other")`, quoting a few; None for none.
fn describe(texts: &[&str], one: &str, many: &str) -> Option<String> {
    if texts.is_empty() {
        return None;
    }
    let mut quoted: Vec<String> = texts
        .iter()
        .take(QUOTED)
        .map(|text| {
            let first = text.lines().next().unwrap_or("");
            let short: String = first.chars().take(40).collect();
            if short.len() < text.len() {
                format!("{short:?}…")
            } else {
                format!("{short:?}")
            }
        })
        .collect();
    if texts.len() > QUOTED {
        quoted.push(format!("and {} more", texts.len() - QUOTED));
    }
    let noun = if texts.len() == 1 { one } else { many };
    Some(format!("{} {noun} ({})", texts.len(), quoted.join(", ")))
}

/// Feeds the recorder every message until `Shutdown`, keeping through write failures what
/// could not be stored, then ends the turns still running. Returns one line describing what
/// is not stored, if anything.
pub fn record(
    mut recorder: Recorder,
    rx: mpsc::Receiver<RecorderMsg>,
    view: ViewHandle,
) -> Option<String> {
    let mut backlog = Backlog::default();
    // Hook messages taken from the channel and not yet known to be handled.
    let mut hooks_taken = 0;
    loop {
        let next = if backlog.queue.is_empty() {
            rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(RETRY_EVERY)
        };
        match next {
            Ok(RecorderMsg::Shutdown) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Ok(msg) => {
                hooks_taken += usize::from(matches!(msg, RecorderMsg::Hook(_)));
                backlog.push(msg);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        backlog.drain(&mut recorder, &view);
        if backlog.queue.is_empty() {
            view.hooks_recorded(std::mem::take(&mut hooks_taken));
        }
    }
    backlog.drain(&mut recorder, &view);
    if backlog.queue.is_empty() {
        if let Err(err) = recorder.finish_all() {
            crate::diag::log(&format!("recorder: {err:#}"));
        }
    }
    let unsaved = backlog.unsaved();
    if let Some(line) = &unsaved {
        crate::diag::log(line);
    }
    unsaved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TurnId;

    fn prompt(text: &str) -> RecorderMsg {
        RecorderMsg::Hook(HookEvent::PromptSubmitted {
            session_id: "s".into(),
            transcript_path: None,
            prompt: text.into(),
            prompt_id: None,
        })
    }

    fn stop() -> RecorderMsg {
        RecorderMsg::Hook(HookEvent::Stopped {
            session_id: "s".into(),
            transcript_path: None,
            last_message: Some("done".into()),
        })
    }

    #[test]
    fn a_full_disk_is_told_as_such() {
        let err = anyhow::Error::new(StoreError::Io {
            path: "/d".into(),
            detail: "No space left on device (os error 28)".into(),
        })
        .context("finishing turn #3");
        assert_eq!(write_failure(&err).as_deref(), Some("disk full"));
        let other = anyhow::Error::new(StoreError::NoTurn { id: TurnId(3) });
        assert_eq!(write_failure(&other), None);
    }

    #[test]
    fn the_backlog_is_bounded_and_counts_what_it_could_not_keep() {
        let mut backlog = Backlog::default();
        let big = "x".repeat(MAX_BACKLOG_BYTES / 2);
        backlog.push(prompt(&big));
        backlog.push(stop());
        backlog.push(prompt(&big));
        assert_eq!(backlog.queue.len(), 2);
        assert_eq!(backlog.lost.len(), 1);
        backlog.failing = Some("disk full".into());
        let line = backlog.unsaved().unwrap();
        assert!(
            line.starts_with("not saved in the turn log (disk full): 2 prompts"),
            "{line}"
        );
        assert!(line.contains(" and 1 reply (\"done\");"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn nothing_unsaved_says_nothing() {
        assert_eq!(Backlog::default().unsaved(), None);
    }
}

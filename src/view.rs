//! What the running session looks like now — its Claude session and branch, the latest turn,
//! the context size, the jobs, a problem the person must know about, the last command's
//! notice — shared by everything that shows it. [`ViewHandle`] owns it: the recorder, the jobs,
//! the editor and the controller only send it changes, and it writes every change to the file
//! the status line reads, one way, under its lock (so two writers never leave an older view in
//! the file).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long a notice stays in the footer.
pub const NOTICE_SHOWN_FOR: Duration = Duration::from_secs(10);

/// What the running session looks like now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub session_id: Option<crate::ids::SessionId>,
    pub branch: Option<String>,
    /// The latest turn of the session.
    pub head: Option<crate::ids::TurnId>,
    /// Context size after the latest finished turn.
    pub context_tokens: u64,
    pub model: Option<String>,
    /// The rot zone threshold, for the status line.
    pub rot_zone_tokens: u64,
    /// Subagent jobs worth showing (running, or finished and not yet pulled).
    pub jobs: Option<String>,
    /// A problem the person must know about (e.g. the turn log could not be opened).
    pub problem: Option<String>,
    /// The one-line result of the person's last meta-command, shown for a few seconds.
    #[serde(default)]
    pub notice: Option<Notice>,
}

/// A one-line result of a meta-command, shown in the footer until `until_ms` (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub text: String,
    pub until_ms: u64,
}

impl Notice {
    /// `text` (first line only), shown for [`NOTICE_SHOWN_FOR`] from now.
    pub fn new(text: &str) -> Notice {
        Notice {
            text: text.lines().next().unwrap_or("").trim().to_string(),
            until_ms: now_ms() + NOTICE_SHOWN_FOR.as_millis() as u64,
        }
    }

    pub fn is_current(&self, now_ms: u64) -> bool {
        now_ms < self.until_ms && !self.text.is_empty()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The one owner of the session's view. Cheap to clone; every clone is the same view.
#[derive(Clone, Default)]
pub struct ViewHandle {
    shared: Arc<Shared>,
    /// Hook messages the bridge has passed on and the recorder has not handled yet: while
    /// there are any, the log may not show the turn Claude is on.
    hooks_on_their_way: Arc<AtomicUsize>,
}

#[derive(Default)]
struct Shared {
    view: Mutex<SessionView>,
    /// Where the status line reads the view, if anywhere.
    file: Option<PathBuf>,
}

impl ViewHandle {
    /// The view, starting as `initial`, kept in `file` (written at once) when there is one.
    pub fn new(initial: SessionView, file: Option<PathBuf>) -> ViewHandle {
        let handle = ViewHandle {
            shared: Arc::new(Shared {
                view: Mutex::new(initial),
                file,
            }),
            hooks_on_their_way: Arc::default(),
        };
        handle.persist(&handle.lock());
        handle
    }

    /// Counts hook messages with `counter`, which the hook bridge raises for each message it
    /// passes on to the recorder.
    pub fn counting_hooks(mut self, counter: Arc<AtomicUsize>) -> ViewHandle {
        self.hooks_on_their_way = counter;
        self
    }

    /// The recorder has handled `n` more hook messages.
    pub fn hooks_recorded(&self, n: usize) {
        let _ = self
            .hooks_on_their_way
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                Some(left.saturating_sub(n))
            });
    }

    /// How many hook messages are passed on but not yet handled by the recorder.
    pub fn hooks_on_their_way(&self) -> usize {
        self.hooks_on_their_way.load(Ordering::SeqCst)
    }

    /// The view as it is now.
    pub fn get(&self) -> SessionView {
        self.lock().clone()
    }

    /// Changes the view; the file is written when something changed.
    pub fn update(&self, change: impl FnOnce(&mut SessionView)) {
        let mut view = self.lock();
        let before = view.clone();
        change(&mut view);
        if *view != before {
            self.persist(&view);
        }
    }

    /// Shows `text` in the footer for a few seconds.
    pub fn notify(&self, text: &str) {
        self.update(|v| v.notice = Some(Notice::new(text)));
    }

    fn lock(&self) -> MutexGuard<'_, SessionView> {
        self.shared.view.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the view for the status line (atomically, owner-only), ignoring errors.
    fn persist(&self, view: &SessionView) {
        if let (Some(path), Ok(text)) = (&self.shared.file, serde_json::to_vec(view)) {
            crate::paths::write_atomically(path, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_on_their_way_are_counted_until_recorded() {
        let counter = Arc::new(AtomicUsize::new(0));
        let view = ViewHandle::new(SessionView::default(), None).counting_hooks(counter.clone());
        let the_controllers = view.clone();
        counter.fetch_add(2, Ordering::SeqCst);
        assert_eq!(the_controllers.hooks_on_their_way(), 2);
        view.hooks_recorded(1);
        assert_eq!(the_controllers.hooks_on_their_way(), 1);
        view.hooks_recorded(5);
        assert_eq!(the_controllers.hooks_on_their_way(), 0, "never below zero");
    }

    #[test]
    fn a_notice_is_one_line_for_a_few_seconds() {
        let made = Notice::new("job #1 pulled\nsecond line");
        assert_eq!(made.text, "job #1 pulled");
        assert!(made.is_current(now_ms()));
        assert!(!made.is_current(now_ms() + NOTICE_SHOWN_FOR.as_millis() as u64 + 1));
    }

    #[test]
    fn every_change_reaches_the_file_the_footer_reads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("status.json");
        let read =
            || -> SessionView { serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap() };
        let initial = SessionView {
            rot_zone_tokens: 300_000,
            ..Default::default()
        };
        let view = ViewHandle::new(initial.clone(), Some(file.clone()));
        assert_eq!(read(), initial);
        view.clone().update(|v| v.branch = Some("main".into()));
        view.notify("rewound to #4 on new branch main-r4");
        let written = read();
        assert_eq!(written, view.get());
        assert_eq!(written.branch.as_deref(), Some("main"));
        assert_eq!(
            written.notice.unwrap().text,
            "rewound to #4 on new branch main-r4"
        );
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

//! Unit tests of the retention guard: planning what to import, reading retention, and counting what is kept or at risk.

use super::*;
use std::time::Duration;

fn found(path: &str, size: u64, modified: SystemTime) -> Found {
    Found {
        path: PathBuf::from(path),
        size,
        modified,
    }
}

#[test]
fn a_plan_skips_unchanged_transcripts_and_waits_for_live_ones() {
    let now = SystemTime::now();
    let old = now - Duration::from_secs(3600);
    let mut state = State::default();
    let mark = |size, outcome| Mark {
        size,
        mtime_ns: mtime_ns(old),
        outcome,
    };
    state
        .files
        .insert("/p/same.jsonl".into(), mark(10, Outcome::Archived));
    state
        .files
        .insert("/p/grew.jsonl".into(), mark(10, Outcome::Archived));
    state
        .files
        .insert("/p/failed.jsonl".into(), mark(10, Outcome::Failed));
    let all = || {
        vec![
            found("/p/same.jsonl", 10, old),
            found("/p/grew.jsonl", 20, old),
            found("/p/new.jsonl", 5, old),
            found("/p/live.jsonl", 5, now - Duration::from_secs(5)),
            found("/p/failed.jsonl", 10, old),
        ]
    };
    let names = |list: &[Found]| {
        list.iter()
            .map(|f| f.path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    let p = plan(all(), &state, now, false, false);
    assert_eq!(names(&p.todo), ["grew", "new"]);
    assert_eq!(names(&p.active), ["live"]);
    assert_eq!(p.unchanged, 2);
    let p = plan(all(), &state, now, false, true);
    assert_eq!(names(&p.todo), ["grew", "new", "failed"]);
    let p = plan(all(), &state, now, true, false);
    assert_eq!(names(&p.todo), ["same", "grew", "new", "failed"]);
    assert_eq!(p.unchanged, 0);
}

#[test]
fn the_project_is_the_cwd_of_the_first_line_that_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    std::fs::write(
        &path,
        "{\"type\":\"queue-operation\"}\nnot json\n{\"type\":\"user\",\"cwd\":\"/no/such/project\"}\n",
    )
    .unwrap();
    assert_eq!(project_of(&path), Some(PathBuf::from("/no/such/project")));
    std::fs::write(&path, "{\"type\":\"summary\"}\n").unwrap();
    assert_eq!(project_of(&path), None);
}

#[test]
fn scan_lists_session_transcripts_only() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("projects/-tmp-x");
    std::fs::create_dir_all(project.join("abc/subagents")).unwrap();
    std::fs::write(project.join("abc.jsonl"), "{}\n").unwrap();
    std::fs::write(project.join(".hidden.jsonl"), "{}\n").unwrap();
    std::fs::write(project.join("notes.txt"), "x").unwrap();
    std::fs::write(project.join("abc/subagents/agent-1.jsonl"), "{}\n").unwrap();
    let found = scan(dir.path());
    assert_eq!(found.len(), 1);
    assert!(found[0].path.ends_with("abc.jsonl"));
    assert_eq!(found[0].size, 3);
}

#[test]
fn retention_comes_from_claudes_settings_else_thirty_days() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(retention_days(dir.path()), 30);
    std::fs::write(
        dir.path().join("settings.json"),
        "{\"cleanupPeriodDays\": 7}",
    )
    .unwrap();
    assert_eq!(retention_days(dir.path()), 7);
    std::fs::write(dir.path().join("settings.json"), "not json").unwrap();
    assert_eq!(retention_days(dir.path()), 30);
}

#[test]
fn standing_counts_what_is_kept_and_what_is_at_risk() {
    let claude = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let project = claude.path().join("projects/-p");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        claude.path().join("settings.json"),
        "{\"cleanupPeriodDays\": 10}",
    )
    .unwrap();
    for name in ["a", "b"] {
        std::fs::write(project.join(format!("{name}.jsonl")), "{}\n").unwrap();
    }
    let a = project.join("a.jsonl");
    let three_days_ago = SystemTime::now() - Duration::from_secs(3 * 86_400 + 60);
    std::fs::File::options()
        .write(true)
        .open(project.join("b.jsonl"))
        .unwrap()
        .set_modified(three_days_ago)
        .unwrap();
    let mut state = State::default();
    let meta = std::fs::metadata(&a).unwrap();
    state.files.insert(
        a.to_string_lossy().into_owned(),
        Mark {
            size: meta.len(),
            mtime_ns: mtime_ns(meta.modified().unwrap()),
            outcome: Outcome::Archived,
        },
    );
    state.save(data.path()).unwrap();
    let s = report::standing(claude.path(), data.path());
    let at_risk_b = report::Standing {
        retention_days: 10,
        total: 2,
        kept: 1,
        at_risk: 1,
        soonest_days: Some(6),
    };
    assert_eq!(s, at_risk_b);

    // A session ccx recorded as it ran is kept, though no archive run has seen it yet.
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().to_string_lossy().into_owned();
    let line = serde_json::json!({"cwd": cwd, "sessionId": "c"}).to_string();
    std::fs::write(project.join("c.jsonl"), format!("{line}\n")).unwrap();
    let project_dir = crate::paths::project_dir(work.path());
    let store_dir = crate::paths::project_store_dir(data.path(), &project_dir);
    let store = crate::store::Store::open(&store_dir).unwrap();
    store
        .begin_turn(crate::model::TurnStart {
            branch: "main".into(),
            session_id: "c".into(),
            ..Default::default()
        })
        .unwrap();
    drop(store);
    let s = report::standing(claude.path(), data.path());
    let with_c = report::Standing {
        total: 3,
        kept: 2,
        ..at_risk_b
    };
    assert_eq!(s, with_c);
}

#[test]
fn a_second_run_waits_for_the_lock_or_gives_up() {
    let data = tempfile::tempdir().unwrap();
    let held = RunLock::acquire(data.path(), Duration::ZERO).unwrap();
    assert!(held.is_some());
    assert!(RunLock::acquire(data.path(), Duration::from_millis(100))
        .unwrap()
        .is_none());
    drop(held);
    assert!(RunLock::acquire(data.path(), Duration::ZERO)
        .unwrap()
        .is_some());
}

#[test]
fn summaries_read_plainly() {
    let s = Summary {
        sessions: 2,
        turns: 5,
        projects: vec!["/a".into(), "/b".into()],
        unchanged: 3,
        active: 1,
        ..Default::default()
    };
    assert_eq!(
        report::describe(&s),
        "archived 2 sessions (5 turns) from 2 projects: /a, /b; 3 already kept; 1 in use now \
         (written in the last 10 minutes), left for the next run\n"
    );
    assert_eq!(
        report::describe(&Summary::default()),
        "nothing new to archive\n"
    );
}

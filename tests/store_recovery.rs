//! A damaged turn log: `ccx::store::recover` keeps every intact turn in a fresh store and the
//! damaged copy aside; `ccx doctor` says plainly that the store is damaged, and
//! `ccx doctor --repair` recovers it.

mod support;

use ccx::ids::{MetaKey, TurnId};
use ccx::model::{Turn, TurnEnd, TurnKind, TurnStart};
use ccx::store::recover::{recover, Method};
use ccx::store::Store;
use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use support::ccx::{ccx, log_json};
use support::TestEnv;

const TURNS: u64 = 50;

/// A store with `TURNS` finished turns (two branches) and transcript entries; returns the
/// turns as stored.
fn make_store(dir: &Path) -> BTreeMap<TurnId, Turn> {
    let store = Store::open(dir).unwrap();
    let mut out = BTreeMap::new();
    for i in 1..=TURNS {
        let branch = if i % 5 == 0 { "side" } else { "main" };
        let started = store
            .begin_turn(TurnStart {
                branch: branch.into(),
                kind: TurnKind::Prompt,
                prompt: format!("prompt number {i} {}", "p".repeat(300)),
                input: None,
                session_id: format!("session-{branch}").into(),
                started_at: String::new(),
                ..Default::default()
            })
            .unwrap();
        let turn = store
            .finish_turn(
                started.id,
                TurnEnd {
                    reply: format!("reply number {i} {}", "r".repeat(500)),
                    ended_at: ccx::model::now_rfc3339(),
                    context_tokens: 1000 + i,
                    output_tokens: i,
                    est_tokens: 2 * i,
                    interrupted: false,
                    files: vec![format!("/tmp/file{i}")],
                    snapshot: None,
                    entries: vec![
                        serde_json::json!({"type": "user", "n": i, "pad": "e".repeat(2000)}),
                    ],
                },
            )
            .unwrap();
        out.insert(turn.id, turn);
    }
    store
        .set_meta(&MetaKey::CurrentBranch, serde_json::json!("main"))
        .unwrap();
    store.flush().unwrap();
    out
}

fn biggest_file(db: &Path) -> PathBuf {
    let mut files: Vec<(u64, PathBuf)> = Vec::new();
    collect(db, &mut files);
    files.sort();
    files.pop().expect("files in db/").1
}

/// Overwrites an eighth of the biggest file of the sled directory `db`, from its middle on,
/// with [`garbage`] of `seed`.
fn garbage_in_the_middle(db: &Path, seed: u64) {
    let file = biggest_file(db);
    let len = std::fs::metadata(&file).unwrap().len();
    let mut f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.seek(SeekFrom::Start(len / 2)).unwrap();
    f.write_all(&garbage((len / 8).max(64) as usize, seed))
        .unwrap();
}

/// After [`garbage_in_the_middle`]: `kept` turns were kept, more than those before the damage.
fn assert_kept_past_the_middle(kept: usize) {
    assert!(
        kept > TURNS as usize / 2 + 5,
        "only {kept} of {TURNS} turns kept: none past the damage"
    );
}

fn collect(dir: &Path, out: &mut Vec<(u64, PathBuf)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            collect(&e.path(), out);
        } else if t.is_file() {
            out.push((e.metadata().unwrap().len(), e.path()));
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Deterministic garbage.
fn garbage(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Recovers `dir` and checks: the fresh store opens, every turn in it is exactly one that was
/// stored (nothing invented), the damaged copy is kept; returns how many turns survived.
fn recover_and_check(dir: &Path, original: &BTreeMap<TurnId, Turn>, what: &str) -> usize {
    let before: Vec<(u64, PathBuf)> = {
        let mut v = Vec::new();
        collect(&dir.join("db"), &mut v);
        v.sort();
        v
    };
    // What a plain open makes of the damage (on a copy: sled rewrites what it opens).
    let probe = tempfile::tempdir().unwrap();
    copy_dir(&dir.join("db"), &probe.path().join("db"));
    let verdict = match Store::open(probe.path()) {
        Ok(s) => format!("opens, {:?} turns", s.all_turns().map(|t| t.len())),
        Err(e) => format!("refused: {e:#}"),
    };
    println!("{what}: plain open {verdict}");
    let report = recover(dir).unwrap_or_else(|e| panic!("{what}: recovery failed: {e:#}"));
    println!("{what}: {}", report.describe());
    // The damaged copy is kept, byte for byte as it was.
    assert!(report.damaged_copy.is_dir(), "{what}: damaged copy kept");
    assert!(report
        .damaged_copy
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("db.damaged-"));
    let mut after = Vec::new();
    collect(&report.damaged_copy, &mut after);
    after.sort();
    let strip = |v: &[(u64, PathBuf)], root: &Path| -> Vec<(u64, PathBuf)> {
        v.iter()
            .map(|(n, p)| (*n, p.strip_prefix(root).unwrap().to_path_buf()))
            .collect()
    };
    assert_eq!(
        strip(&before, &dir.join("db")),
        strip(&after, &report.damaged_copy),
        "{what}: the damaged copy is unchanged"
    );

    let store = Store::open(dir).unwrap_or_else(|e| panic!("{what}: fresh store: {e:#}"));
    let turns = store.all_turns().unwrap();
    assert_eq!(turns.len(), report.turns, "{what}");
    for turn in &turns {
        let orig = original
            .get(&turn.id)
            .unwrap_or_else(|| panic!("{what}: invented turn {turn:?}"));
        // Links to lost turns may be cleared; everything else is exactly as stored, or (when
        // the damage took the turn's end) exactly as it was when it began.
        let mut expected = orig.clone();
        expected.parent = turn.parent;
        if turn.ended_at.is_none() {
            expected = Turn {
                id: orig.id,
                branch: orig.branch.clone(),
                parent: turn.parent,
                kind: orig.kind,
                prompt: orig.prompt.clone(),
                input: orig.input.clone(),
                session_id: orig.session_id.clone(),
                started_at: orig.started_at.clone(),
                prompt_uuid: orig.prompt_uuid.clone(),
                prompt_id: orig.prompt_id.clone(),
                // The process that began it (this one); finishing a turn clears it.
                recorder: Some(ccx::liveness::this_process()),
                ..Turn::default()
            };
        }
        assert_eq!(turn, &expected, "{what}: turn #{} changed", turn.id);
        if let Some(p) = turn.parent {
            assert_eq!(Some(p), orig.parent, "{what}: parent re-pointed");
        }
    }
    // Every branch reads back; every kept entry list is the turn's own.
    for b in store.branches().unwrap() {
        store
            .lineage(&b.name)
            .unwrap_or_else(|e| panic!("{what}: lineage of {}: {e:#}", b.name));
    }
    for turn in &turns {
        let entries = store.entries(turn.id).unwrap();
        if let Some(first) = entries.first() {
            assert_eq!(first["n"], turn.id.get(), "{what}: entries of #{}", turn.id);
        }
    }
    // The fresh store takes new turns after the recovered ones.
    let next = store
        .begin_turn(TurnStart {
            branch: "main".into(),
            prompt: "after recovery".into(),
            ..TurnStart::default()
        })
        .unwrap();
    assert!(turns.iter().all(|t| t.id < next.id), "{what}: ids go on");
    turns.len()
}

#[test]
fn an_undamaged_store_is_recovered_whole() {
    let dir = tempfile::tempdir().unwrap();
    let original = make_store(dir.path());
    let n = recover_and_check(dir.path(), &original, "undamaged");
    assert_eq!(n, TURNS as usize);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.entries(TurnId(7)).unwrap().len(), 1);
    assert_eq!(
        store.get_meta(&MetaKey::CurrentBranch).unwrap(),
        Some(serde_json::json!("main"))
    );
    assert_eq!(store.lineage("side").unwrap().len(), 10);
}

#[test]
fn truncated_store_keeps_what_survived() {
    let dir = tempfile::tempdir().unwrap();
    let original = make_store(dir.path());
    let file = biggest_file(&dir.path().join("db"));
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let n = recover_and_check(dir.path(), &original, "truncated");
    assert!(n >= 1, "truncation to half kept no turn at all");
}

#[test]
fn garbage_in_the_middle_keeps_what_survived() {
    let dir = tempfile::tempdir().unwrap();
    let original = make_store(dir.path());
    garbage_in_the_middle(&dir.path().join("db"), 7);
    let n = recover_and_check(dir.path(), &original, "garbage in the middle");
    // sled reads the part before the garbage; the scan finds most of what lies after it.
    assert_kept_past_the_middle(n);
}

#[test]
fn each_file_replaced_by_garbage_in_turn() {
    let probe = tempfile::tempdir().unwrap();
    make_store(probe.path());
    let mut files = Vec::new();
    collect(&probe.path().join("db"), &mut files);
    let names: Vec<PathBuf> = files
        .iter()
        .map(|(_, p)| p.strip_prefix(probe.path()).unwrap().to_path_buf())
        .collect();
    drop(probe);
    for (i, name) in names.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let original = make_store(dir.path());
        let path = dir.path().join(name);
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        std::fs::write(&path, garbage(len.max(64) as usize, i as u64 + 1)).unwrap();
        let what = format!("{} replaced by garbage", name.display());
        // The damaged store must not open silently wrong: either it refuses, or what it
        // reads is what was stored.
        recover_and_check(dir.path(), &original, &what);
    }
}

#[test]
fn a_store_with_only_garbage_files_falls_back_to_scanning() {
    let dir = tempfile::tempdir().unwrap();
    let original = make_store(dir.path());
    let db = dir.path().join("db");
    // Keep the data file's bytes but destroy sled's own configuration and snapshots.
    let mut files = Vec::new();
    collect(&db, &mut files);
    for (len, path) in files {
        if path.file_name().unwrap() != "db" {
            std::fs::write(&path, garbage(len.max(64) as usize, 3)).unwrap();
        }
    }
    let report_dir = dir.path().to_path_buf();
    let n = recover_and_check(&report_dir, &original, "config and snapshots garbage");
    println!("kept {n}");
}

#[test]
fn recovery_refuses_a_store_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let _original = make_store(dir.path());
    let held = Store::open(dir.path()).unwrap();
    assert!(held.is_owner());
    let err = recover(dir.path()).unwrap_err().to_string();
    assert!(err.contains("in use"), "{err}");
    assert!(dir.path().join("db").is_dir(), "nothing moved");
    assert_eq!(held.all_turns().unwrap().len(), TURNS as usize);
}

/// The project's store directory inside a TestEnv.
/// `ccx doctor ARGS` in `env`: its exit code and its report (printed with its stderr, for the
/// test's output).
fn doctor(env: &TestEnv, args: &[&str]) -> (Option<i32>, String) {
    let out = ccx(env, args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    println!(
        "ccx {}:\n{text}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// `ccx doctor --repair`, which must succeed; its report.
fn repaired(env: &TestEnv) -> String {
    let (code, text) = doctor(env, &["doctor", "--repair"]);
    assert_eq!(code, Some(0), "{text}");
    text
}

/// The log after a repair (reported in `report`) of a [`store_with_transcript`] of `n` turns:
/// turns #1 to #`n`, each as the transcript has it and following the one before.
fn every_turn_rebuilt(env: &TestEnv, n: u64, report: &str) -> Vec<serde_json::Value> {
    let turns = log_json(env, &["--all"]);
    let ids: Vec<u64> = turns.iter().map(|t| t["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=n).collect::<Vec<_>>(), "after {report}");
    for (i, t) in (1..).zip(&turns) {
        assert_eq!(t["prompt"], lost_prompt(i), "turn #{i}");
        assert_eq!(t["reply"], lost_reply(i), "turn #{i}");
        if i > 1 {
            assert_eq!(t["parent"], i - 1, "turn #{i} follows the one before");
        }
    }
    turns
}

/// The line of a doctor report about the turn log.
fn store_line_of(report: &str) -> &str {
    report
        .lines()
        .find(|l| l.contains(" store "))
        .unwrap_or_else(|| panic!("no store line in:\n{report}"))
}

fn env_store_dir(env: &TestEnv) -> PathBuf {
    ccx::paths::project_store_dir(&env.data_dir, &ccx::paths::project_dir(&env.project))
}

#[test]
fn doctor_says_a_damaged_store_is_damaged_and_repairs_it() {
    let env = TestEnv::new();
    let dir = env_store_dir(&env);
    let original = make_store(&dir);
    // Damage it so that sled refuses to open it: its configuration file becomes garbage.
    let conf = dir.join("db").join("conf");
    let len = std::fs::metadata(&conf).unwrap().len();
    std::fs::write(&conf, garbage(len.max(64) as usize, 11)).unwrap();
    let (code, text) = doctor(&env, &["doctor"]);
    assert_eq!(code, Some(1), "doctor fails on a damaged store");
    let store_line = store_line_of(&text);
    assert!(store_line.contains("BAD"), "{store_line}");
    assert!(store_line.contains("damaged"), "{store_line}");
    assert!(store_line.contains("ccx doctor --repair"), "{store_line}");

    let (_, text) = doctor(&env, &["doctor", "--repair"]);
    assert!(text.contains("recovered"), "{text}");
    assert!(text.contains("db.damaged-"), "{text}");
    let aside: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("db.damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "the damaged copy is kept aside");
    // After the repair the store check passes and the log reads.
    let last_store = text.lines().rev().find(|l| l.contains(" store ")).unwrap();
    assert!(last_store.starts_with("ok"), "{text}");
    let turns = log_json(&env, &["--all"]);
    for t in &turns {
        let id = TurnId(t["id"].as_u64().unwrap());
        assert_eq!(t["prompt"], original[&id].prompt, "nothing invented");
    }
    assert_eq!(turns.len(), TURNS as usize, "every turn kept: {turns:#?}");

    // Doctor on the repaired store: fine, and --repair has nothing to do.
    let (_, text) = doctor(&env, &["doctor", "--repair"]);
    assert!(text.contains("nothing to repair"), "{text}");
}

#[test]
fn recovery_method_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path());
    let report = recover(dir.path()).unwrap();
    assert_eq!(report.method, Method::Sled);
    assert_eq!(report.turns, TURNS as usize);
    assert_eq!(report.finished_turns, TURNS as usize);
    assert_eq!(report.branches, 2);
    assert_eq!(report.entries, TURNS as usize);
    assert_eq!(report.turn_ids, (1..=TURNS).map(TurnId).collect::<Vec<_>>());
}

#[test]
fn doctor_notices_a_log_that_sled_reads_only_in_part() {
    let env = TestEnv::new();
    let dir = env_store_dir(&env);
    let original = make_store(&dir);
    garbage_in_the_middle(&dir.join("db"), 5);

    let (code, text) = doctor(&env, &["doctor"]);
    assert_eq!(code, Some(1), "{text}");
    let store_line = store_line_of(&text);
    assert!(store_line.starts_with("BAD"), "{store_line}");
    assert!(store_line.contains("damaged"), "{store_line}");
    assert!(
        store_line.contains("newer than the last one it reads"),
        "{store_line}"
    );

    repaired(&env);
    let turns = log_json(&env, &["--all"]);
    for t in &turns {
        let id = TurnId(t["id"].as_u64().unwrap());
        assert_eq!(t["prompt"], original[&id].prompt, "nothing invented");
    }
    let finished = turns.iter().filter(|t| !t["ended_at"].is_null()).count();
    assert_kept_past_the_middle(finished);
}

#[test]
fn recovery_keeps_what_was_imported() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .create_branch(ccx::model::Branch {
                name: "import-x".into(),
                created_at: ccx::model::now_rfc3339(),
                ..Default::default()
            })
            .unwrap();
        let turn = |key: &str| ccx::model::FinishedTurn {
            start: TurnStart {
                prompt: format!("prompt {key}"),
                session_id: "session-x".into(),
                started_at: ccx::model::now_rfc3339(),
                ..Default::default()
            },
            end: TurnEnd {
                reply: format!("reply {key}"),
                ended_at: ccx::model::now_rfc3339(),
                context_tokens: 1,
                output_tokens: 1,
                est_tokens: 1,
                ..Default::default()
            },
            entries: serde_json::json!([{"uuid": key}]).to_string(),
            source_key: key.into(),
            search_text: None,
        };
        store
            .import_turns("import-x", "session-x", vec![turn("k1"), turn("k2")])
            .unwrap();
        store.flush().unwrap();
    }
    let report = recover(dir.path()).unwrap();
    assert_eq!((report.turns, report.entries), (2, 2));
    let store = Store::open(dir.path()).unwrap();
    let mut keys = store.imported_keys("session-x").unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [("k1".to_string(), TurnId(1)), ("k2".to_string(), TurnId(2))]
    );
    assert_eq!(
        store.entries(TurnId(2)).unwrap(),
        vec![serde_json::json!({"uuid": "k2"})]
    );
}

/// One turn's transcript lines as Claude Code writes them (prompt, then the reply with usage).
fn transcript_turn(session: &str, i: u64, parent: Option<&str>) -> Vec<serde_json::Value> {
    let user = format!("u-{i}");
    let assistant = format!("a-{i}");
    let stamp = format!("2026-01-01T10:{:02}:{:02}.000Z", i / 60, i % 60);
    vec![
        serde_json::json!({
            "type": "user", "uuid": user, "parentUuid": parent, "sessionId": session,
            "timestamp": stamp,
            "message": {"role": "user", "content": lost_prompt(i)}
        }),
        serde_json::json!({
            "type": "assistant", "uuid": assistant, "parentUuid": user, "sessionId": session,
            "timestamp": stamp,
            "message": {
                "id": format!("msg-{i}"), "role": "assistant", "model": "claude-test",
                "content": [{"type": "text", "text": lost_reply(i)}],
                "usage": {"input_tokens": 100 + i, "output_tokens": 7,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
            }
        }),
    ]
}

fn lost_prompt(i: u64) -> String {
    format!("prompt {i} {}", "p".repeat(1500))
}

fn lost_reply(i: u64) -> String {
    format!("reply {i} {}", "r".repeat(1500))
}

/// The issue's damage: 4 KiB of zeros in the middle of sled's file, where `ccx log` then
/// showed 33 of 36 turns and `ccx doctor` said ok. Doctor must say which turns are missing,
/// and `--repair` must rebuild them from Claude Code's transcript and keep the damaged copy.
/// A store of `n` finished turns on `main` in one session, and that session's transcript where
/// Claude Code keeps it; returns the session id.
fn store_with_transcript(env: &TestEnv, n: u64) -> &'static str {
    let dir = env_store_dir(env);
    let session = "0b9c4d2e-36aa-4d57-9e1f-5f3d2a1b0c99";
    let mut transcript = Vec::new();
    {
        let store = Store::open(&dir).unwrap();
        let mut parent: Option<String> = None;
        for i in 1..=n {
            let lines = transcript_turn(session, i, parent.as_deref());
            parent = Some(format!("a-{i}"));
            let started = store
                .begin_turn(TurnStart {
                    branch: "main".into(),
                    kind: TurnKind::Prompt,
                    prompt: lost_prompt(i),
                    input: None,
                    session_id: session.into(),
                    started_at: String::new(),
                    ..Default::default()
                })
                .unwrap();
            store
                .finish_turn(
                    started.id,
                    TurnEnd {
                        reply: lost_reply(i),
                        ended_at: ccx::model::now_rfc3339(),
                        context_tokens: 100 + i,
                        output_tokens: 7,
                        est_tokens: 1,
                        interrupted: false,
                        files: Vec::new(),
                        snapshot: None,
                        entries: lines.clone(),
                    },
                )
                .unwrap();
            transcript.extend(lines);
        }
        store.flush().unwrap();
    }
    let transcript_path = ccx::claude::paths::transcript_path(
        &env.home,
        &ccx::paths::project_dir(&env.project),
        session,
    );
    std::fs::create_dir_all(transcript_path.parent().unwrap()).unwrap();
    let text: String = transcript.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&transcript_path, text).unwrap();

    session
}

#[test]
fn zeros_inside_the_log_are_found_and_the_lost_turns_rebuilt_from_the_transcript() {
    const N: u64 = 36;
    let env = TestEnv::new();
    let dir = env_store_dir(&env);
    let session = store_with_transcript(&env, N);
    let _ = session;
    let file = dir.join("db").join("db");
    let len = std::fs::metadata(&file).unwrap().len();
    assert!(
        len > 204_096,
        "the log is large enough to damage ({len} bytes)"
    );
    // Zeros over turn records (where they sit depends on everything else the log holds).
    let bytes = std::fs::read(&file).unwrap();
    let needle = format!("\"prompt\":\"{}\"", lost_prompt(N / 2));
    let at = memchr::memmem::find(&bytes, needle.as_bytes()).expect("a turn record in the log");
    let mut f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.seek(SeekFrom::Start(at as u64)).unwrap();
    f.write_all(&[0u8; 4096]).unwrap();
    drop(f);

    let (code, text) = doctor(&env, &["doctor"]);
    assert_eq!(code, Some(1), "doctor fails on the damage:\n{text}");
    let store_line = store_line_of(&text);
    assert!(store_line.starts_with("BAD"), "{store_line}");
    assert!(store_line.contains("damaged"), "{store_line}");

    let text = repaired(&env);
    assert!(
        text.contains("db.damaged-"),
        "the damaged copy is kept: {text}"
    );

    for (i, t) in (1..).zip(every_turn_rebuilt(&env, N, &text)) {
        assert_eq!(t["context_tokens"], 100 + i, "turn #{i}");
    }

    let (_, text) = doctor(&env, &["doctor"]);
    let store_line = store_line_of(&text);
    assert!(store_line.starts_with("ok"), "after the repair: {text}");
}

/// Turns lost in the middle of the log (the issue's "33 of 36"): `ccx doctor` names the
/// missing ids, and `--repair` rebuilds them from the transcript with their links. A branch
/// deleted on purpose is not taken for a loss.
#[test]
fn turns_missing_from_the_id_sequence_are_named_and_rebuilt() {
    const N: u64 = 36;
    let env = TestEnv::new();
    let dir = env_store_dir(&env);
    store_with_transcript(&env, N);
    {
        // A side branch deleted on purpose leaves tombstones, not gaps.
        let store = Store::open(&dir).unwrap();
        let side = store
            .begin_turn(TurnStart {
                branch: "side".into(),
                kind: TurnKind::Prompt,
                prompt: "on the side".into(),
                input: None,
                session_id: "side-session".into(),
                started_at: String::new(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(side.id, TurnId(N + 1));
        assert_eq!(store.delete_branch("side").unwrap(), 1);
    }
    {
        // Lose #10, #11 and #20 as damage would.
        let db = sled::open(dir.join("db")).unwrap();
        let turns = db.open_tree("turns").unwrap();
        let entries = db.open_tree("entries").unwrap();
        for id in [10u64, 11, 20] {
            turns.remove(id.to_be_bytes()).unwrap();
            entries.remove(id.to_be_bytes()).unwrap();
        }
        db.flush().unwrap();
    }

    let (code, text) = doctor(&env, &["doctor"]);
    assert_eq!(code, Some(1), "{text}");
    let store_line = store_line_of(&text);
    assert!(
        store_line.contains("3 of its 36 turns are missing (#10..#11, #20)"),
        "{store_line}"
    );
    assert!(
        store_line.contains("the turns before #12, #21 are missing"),
        "{store_line}"
    );

    let text = repaired(&env);
    assert!(
        text.contains("3 lost turns were rebuilt from Claude Code's transcripts"),
        "{text}"
    );
    every_turn_rebuilt(&env, N, &text);
    let (code, text) = doctor(&env, &["doctor"]);
    assert_eq!(code, Some(0), "after the repair: {text}");
}

/// With a ccx holding the log, `ccx doctor` still verifies every record (the holder checks
/// them for it) and names what is missing; `--repair` asks for every ccx to quit first.
#[test]
fn doctor_verifies_a_log_another_process_holds() {
    let env = TestEnv::new();
    let dir = env_store_dir(&env);
    store_with_transcript(&env, 8);
    {
        let db = sled::open(dir.join("db")).unwrap();
        db.open_tree("turns")
            .unwrap()
            .remove(5u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let held = Store::open(&dir).unwrap();
    assert!(held.is_owner());

    let (code, text) = doctor(&env, &["doctor"]);
    assert_eq!(code, Some(1), "{text}");
    let store_line = store_line_of(&text);
    assert!(store_line.starts_with("BAD"), "{store_line}");
    assert!(
        store_line.contains("1 of its 8 turns are missing (#5)"),
        "{store_line}"
    );
    let (_, text) = doctor(&env, &["doctor", "--repair"]);
    assert!(text.contains("in use by a running ccx"), "{text}");
    assert_eq!(held.all_turns().unwrap().len(), 7, "nothing was changed");
}

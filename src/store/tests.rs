//! Unit tests of the store: turns, branches, meta, the socket protocol and recovery.

use super::*;
use crate::model::TurnKind;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

fn start(branch: &str, prompt: &str) -> TurnStart {
    TurnStart {
        branch: branch.into(),
        kind: TurnKind::Prompt,
        prompt: prompt.into(),
        input: None,
        session_id: "sess-1".into(),
        started_at: now_rfc3339(),
        ..Default::default()
    }
}

fn end(reply: &str) -> TurnEnd {
    TurnEnd {
        reply: reply.into(),
        ended_at: now_rfc3339(),
        context_tokens: 1234,
        output_tokens: 56,
        est_tokens: 78,
        interrupted: false,
        files: vec!["src/a.rs".into()],
        snapshot: Some("abc123".into()),
        entries: vec![serde_json::json!({"type": "user", "uuid": "u1"})],
    }
}

/// A new, empty store in a temporary directory (kept while the directory lives).
fn new_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn ids(turns: &[Turn]) -> Vec<u64> {
    turns.iter().map(|t| t.id.get()).collect()
}

fn branch_names(store: &Store) -> Vec<String> {
    let branches = store.branches().unwrap();
    branches.into_iter().map(|b| b.name).collect()
}

/// The branch that branch `name` was forked from.
fn parent_of(store: &Store, name: &str) -> Option<String> {
    store.branch(name).unwrap().unwrap().parent_branch
}

#[test]
fn round_trip_and_fork_lineage() {
    let (dir, store) = new_store();
    assert!(store.is_owner());

    let t1 = store.begin_turn(start("main", "first")).unwrap();
    assert_eq!((t1.id, t1.parent), (TurnId(1), None));
    assert!(t1.is_running());
    let main = store.branch("main").unwrap().unwrap();
    assert_eq!(main.head, Some(TurnId(1)));
    assert_eq!(main.session_id, "sess-1");
    assert_eq!(main.parent_branch, None);

    let done = store.finish_turn(TurnId(1), end("one")).unwrap();
    assert_eq!(done.reply, "one");
    assert_eq!(done.context_tokens, 1234);
    assert_eq!(done.snapshot.as_deref(), Some("abc123"));
    assert!(!done.is_running());
    assert_eq!(store.turn(TurnId(1)).unwrap().unwrap(), done);
    assert_eq!(store.entries(TurnId(1)).unwrap(), end("x").entries);

    let t2 = store.begin_turn(start("main", "second")).unwrap();
    assert_eq!((t2.id, t2.parent), (TurnId(2), Some(TurnId(1))));
    assert_eq!(store.entries(TurnId(2)).unwrap(), Vec::<Value>::new());
    store.finish_turn(TurnId(2), end("two")).unwrap();
    let t3 = store.begin_turn(start("main", "third")).unwrap();
    assert_eq!((t3.id, t3.parent), (TurnId(3), Some(TurnId(2))));

    let b = store
        .create_branch(Branch {
            name: "B".into(),
            session_id: "sess-2".into(),
            parent_branch: Some("main".into()),
            fork_turn: Some(TurnId(2)),
            head: Some(TurnId(2)),
            created_at: String::new(),
        })
        .unwrap();
    assert!(!b.created_at.is_empty());
    let t4 = store.begin_turn(start("B", "on B")).unwrap();
    assert_eq!(
        (t4.id, t4.parent, t4.branch.as_str()),
        (TurnId(4), Some(TurnId(2)), "B")
    );
    assert_eq!(ids(&store.lineage("B").unwrap()), vec![1, 2, 4]);
    assert_eq!(ids(&store.lineage("main").unwrap()), vec![1, 2, 3]);
    assert_eq!(ids(&store.all_turns().unwrap()), vec![1, 2, 3, 4]);

    assert_eq!(branch_names(&store), vec!["main", "B"]);
    assert_eq!(
        store
            .branch_for_session(&"sess-2".into())
            .unwrap()
            .unwrap()
            .name,
        "B"
    );
    assert_eq!(
        store
            .branch_for_session(&"sess-1".into())
            .unwrap()
            .unwrap()
            .name,
        "main"
    );
    assert_eq!(store.branch_for_session(&"nope".into()).unwrap(), None);

    // Errors name the problem.
    let e = store
        .create_branch(Branch {
            name: "B".into(),
            ..b.clone()
        })
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let e = store.lineage("b").unwrap_err();
    assert_eq!(e.to_string(), "no branch 'b' (did you mean 'B'?)");
    assert_eq!(
        store
            .finish_turn(TurnId(99), end("x"))
            .unwrap_err()
            .to_string(),
        "no turn #99"
    );
    assert!(store.entries(TurnId(99)).is_err());
    assert_eq!(store.turn(TurnId(99)).unwrap(), None);
    let e = store.begin_turn(start("bad name", "x")).unwrap_err();
    assert!(e.to_string().contains("invalid branch name"), "{e}");
    let e = store
        .create_branch(Branch {
            name: "C".into(),
            head: Some(TurnId(77)),
            ..Branch::default()
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "no turn #77");

    // put_branch replaces.
    let mut main = store.branch("main").unwrap().unwrap();
    main.session_id = "sess-3".into();
    store.put_branch(main.clone()).unwrap();
    assert_eq!(store.branch("main").unwrap().unwrap(), main);
    assert_eq!(
        store
            .branch_for_session(&"sess-3".into())
            .unwrap()
            .unwrap()
            .name,
        "main"
    );

    // Reopen: everything is still there, ids continue.
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.is_owner());
    assert_eq!(ids(&store.all_turns().unwrap()), vec![1, 2, 3, 4]);
    assert_eq!(
        store.begin_turn(start("main", "again")).unwrap().id,
        TurnId(5)
    );
}

#[test]
fn begin_turn_is_idempotent() {
    let (_dir, store) = new_store();
    let req = Request::BeginTurn {
        token: "tok-1".into(),
        start: start("main", "p"),
        defer: false,
    };
    let a = store.call(&req).unwrap();
    let b = store.call(&req).unwrap();
    assert_eq!(a, b);
    assert_eq!(store.all_turns().unwrap().len(), 1);
    // create_branch with the identical record is a retry, not a conflict.
    let br = Branch {
        name: "x".into(),
        created_at: now_rfc3339(),
        ..Branch::default()
    };
    assert_eq!(store.create_branch(br.clone()).unwrap(), br);
    assert_eq!(store.create_branch(br.clone()).unwrap(), br);
}

#[test]
fn meta_round_trip() {
    let (_dir, store) = new_store();
    assert_eq!(store.get_meta(&MetaKey::CurrentBranch).unwrap(), None);
    store
        .set_meta(&MetaKey::CurrentBranch, serde_json::json!("main"))
        .unwrap();
    store
        .set_meta(
            &MetaKey::Brief("n".into()),
            serde_json::json!({"a": [1, 2]}),
        )
        .unwrap();
    assert_eq!(
        store.get_meta(&MetaKey::CurrentBranch).unwrap(),
        Some(serde_json::json!("main"))
    );
    assert_eq!(
        store.get_meta(&MetaKey::Brief("n".into())).unwrap(),
        Some(serde_json::json!({"a": [1, 2]}))
    );
    store.flush().unwrap();
}

#[test]
fn recordings_lists_the_sessions_still_noted_with_a_process() {
    let (_dir, store) = new_store();
    let note = |session: &str, who: serde_json::Value| {
        store
            .set_meta(&MetaKey::Recording(session.into()), who)
            .unwrap()
    };
    note("s2", serde_json::json!("222:9"));
    note("s1", serde_json::json!("111:9"));
    note("done", serde_json::Value::Null);
    store
        .set_meta(&MetaKey::Imported("s3".into()), serde_json::json!("x"))
        .unwrap();
    let listed = store.recordings().unwrap();
    let expected: Vec<(crate::ids::SessionId, String)> =
        vec![("s1".into(), "111:9".into()), ("s2".into(), "222:9".into())];
    assert_eq!(listed, expected);
}

#[test]
fn second_open_in_process_is_a_client_and_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Store::open(dir.path()).unwrap();
    let client = Store::open(dir.path()).unwrap();
    assert!(owner.is_owner());
    assert!(!client.is_owner());

    let t1 = client.begin_turn(start("main", "via client")).unwrap();
    assert_eq!(t1.id, TurnId(1));
    assert_eq!(owner.turn(TurnId(1)).unwrap().unwrap().prompt, "via client");
    let t2 = owner.begin_turn(start("main", "via owner")).unwrap();
    assert_eq!(client.turn(t2.id).unwrap().unwrap().parent, Some(TurnId(1)));
    client.finish_turn(TurnId(1), end("r")).unwrap();
    assert_eq!(client.entries(TurnId(1)).unwrap().len(), 1);
    assert_eq!(
        client.lineage("mian").unwrap_err().to_string(),
        "no branch 'mian' (did you mean 'main'?)"
    );

    drop(owner);
    // The client notices on its next call and becomes the owner.
    let t3 = client.begin_turn(start("main", "after")).unwrap();
    assert_eq!((t3.id, t3.parent), (TurnId(3), Some(TurnId(2))));
    assert!(client.is_owner());
}

#[test]
fn server_survives_garbage_and_oversized_lines() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Store::open(dir.path()).unwrap();
    let socket = owner.socket.clone();

    // Garbage: an error answer, then the connection is closed.
    let mut s = UnixStream::connect(&socket).unwrap();
    s.write_all(b"{not json\n").unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("protocol"), "{line}");
    line.clear();
    assert_eq!(r.read_line(&mut line).unwrap(), 0);

    // Oversized: dropped without an answer.
    let mut s = UnixStream::connect(&socket).unwrap();
    let writer = {
        let mut s = s.try_clone().unwrap();
        std::thread::spawn(move || {
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..(wire::MAX_REQUEST_BYTES >> 20) + 2 {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        })
    };
    let mut buf = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut buf);
    assert!(buf.is_empty());
    writer.join().unwrap();

    // Still serving.
    let client = Store::open(dir.path()).unwrap();
    assert!(!client.is_owner());
    client
        .set_meta(&MetaKey::Brief("k".into()), serde_json::json!(1))
        .unwrap();
    assert_eq!(
        owner.get_meta(&MetaKey::Brief("k".into())).unwrap(),
        Some(serde_json::json!(1))
    );
}

#[test]
fn owner_drop_removes_socket_and_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Store::open(dir.path()).unwrap();
    let socket = owner.socket.clone();
    // An idle client connection must not keep the database open.
    let idle = Store::open(dir.path()).unwrap();
    assert!(!idle.is_owner());
    assert!(socket.exists());
    drop(owner);
    assert!(!socket.exists());
    let again = Store::open(dir.path()).unwrap();
    assert!(again.is_owner());
    drop(idle);
}

#[test]
fn files_are_owner_only() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("projects/p-1");
    let store = Store::open(&store_dir).unwrap();
    store.begin_turn(start("main", "p")).unwrap();
    assert_eq!(std::fs::metadata(&store_dir).unwrap().mode() & 0o777, 0o700);
    assert_eq!(
        std::fs::metadata(&store.socket).unwrap().mode() & 0o777,
        0o600
    );
    for entry in std::fs::read_dir(store_dir.join("db")).unwrap().flatten() {
        let mode = entry.metadata().unwrap().mode() & 0o077;
        assert_eq!(mode, 0, "{}", entry.path().display());
    }
    assert_eq!(
        list_project_stores(dir.path()),
        vec![store_dir.canonicalize().unwrap()]
    );
    assert!(list_project_stores(&dir.path().join("none")).is_empty());
}

#[test]
fn damaged_store_gives_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.begin_turn(start("main", "p")).unwrap();
    }
    // Overwrite every data file with garbage.
    let db = dir.path().join("db");
    for entry in std::fs::read_dir(&db).unwrap().flatten() {
        if entry.file_type().unwrap().is_file() {
            std::fs::write(entry.path(), b"garbage garbage garbage garbage").unwrap();
        }
    }
    let err = match Store::open(dir.path()) {
        Ok(_) => panic!("a damaged store opened"),
        Err(e) => e.to_string(),
    };
    assert!(!err.contains('\n'), "{err}");
    assert!(
        err.contains("damaged") || err.contains("cannot use"),
        "{err}"
    );
}

#[test]
fn bulk_writes_are_all_there_after_one_flush() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .bulk(|| {
                for n in 0..50 {
                    let t = store.begin_turn(start("main", &format!("p{n}")))?;
                    store.finish_turn(
                        t.id,
                        TurnEnd {
                            reply: format!("r{n}"),
                            ended_at: "x".into(),
                            ..Default::default()
                        },
                    )?;
                }
                store.set_meta(&MetaKey::Brief("k".into()), serde_json::json!(1))
            })
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let turns = store.all_turns().unwrap();
    assert_eq!(turns.len(), 50);
    assert_eq!(turns[49].reply, "r49");
    assert_eq!(
        store.get_meta(&MetaKey::Brief("k".into())).unwrap(),
        Some(serde_json::json!(1))
    );
}

#[test]
fn search_candidates_never_drop_a_match() {
    let (_dir, store) = new_store();
    for (prompt, reply) in [
        ("Fix the PARSER", "done"),
        ("say \"quoted\" words", "ok"),
        ("unrelated", "nothing here"),
        ("tabs\tand\nnewlines parser", "Ünïcode réply"),
    ] {
        let t = store.begin_turn(start("main", prompt)).unwrap();
        store
            .finish_turn(
                t.id,
                TurnEnd {
                    reply: reply.into(),
                    ended_at: "x".into(),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let ids = |words: &[&str]| -> Vec<u64> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        store
            .search_candidates(&words)
            .unwrap()
            .iter()
            .map(|t| t.id.get())
            .collect()
    };
    assert_eq!(ids(&["parser"]), [1, 4]);
    assert_eq!(ids(&["parser", "FIX"]), [1]);
    assert_eq!(ids(&["absent"]), Vec::<u64>::new());
    // Words JSON may escape, or non-ASCII ones, fall back to every turn (the caller matches).
    assert_eq!(ids(&["\"quoted\""]).len(), 4);
    assert_eq!(ids(&["réply"]).len(), 4);
}

/// main: 1 → 2 → 3; side forks after 2: 4; its child branch leaf forks after 4: 5.
fn forked_store() -> (tempfile::TempDir, Store) {
    let (dir, store) = new_store();
    for p in ["a", "b", "c"] {
        let t = store.begin_turn(start("main", p)).unwrap();
        store.finish_turn(t.id, end("r")).unwrap();
    }
    for (name, parent, fork) in [("side", "main", 2), ("leaf", "side", 4)] {
        if name == "leaf" {
            let t = store.begin_turn(start("side", "d")).unwrap();
            store.finish_turn(t.id, end("r")).unwrap();
        }
        store
            .create_branch(Branch {
                name: name.into(),
                session_id: format!("s-{name}").into(),
                parent_branch: Some(parent.into()),
                fork_turn: Some(TurnId(fork)),
                head: Some(TurnId(fork)),
                created_at: String::new(),
            })
            .unwrap();
    }
    let t = store.begin_turn(start("leaf", "e")).unwrap();
    store.finish_turn(t.id, end("r")).unwrap();
    (dir, store)
}

#[test]
fn rename_renames_everywhere_the_branch_is_named() {
    let (_dir, store) = forked_store();
    store
        .set_meta(&MetaKey::CurrentBranch, serde_json::json!("side"))
        .unwrap();
    store.rename_branch("side", "experiment").unwrap();
    assert!(store.branch("side").unwrap().is_none());
    assert_eq!(store.turn(TurnId(4)).unwrap().unwrap().branch, "experiment");
    assert_eq!(parent_of(&store, "leaf").as_deref(), Some("experiment"));
    assert_eq!(
        store
            .branch_for_session(&"s-side".into())
            .unwrap()
            .unwrap()
            .name,
        "experiment"
    );
    assert_eq!(
        store.get_meta(&MetaKey::CurrentBranch).unwrap(),
        Some(serde_json::json!("experiment"))
    );
    assert_eq!(ids(&store.lineage("leaf").unwrap()), [1, 2, 4, 5]);
    // Clashes and missing names change nothing.
    assert!(store.rename_branch("experiment", "main").is_err());
    assert!(store.rename_branch("nope", "x").is_err());
    assert!(store.branch("experiment").unwrap().is_some());
}

#[test]
fn delete_keeps_the_turns_other_branches_pass_through() {
    let (_dir, store) = forked_store();
    // side's own turn 4 is on leaf's conversation: it stays.
    assert_eq!(store.delete_branch("side").unwrap(), 0);
    assert!(store.branch("side").unwrap().is_none());
    assert!(store.turn(TurnId(4)).unwrap().is_some());
    assert_eq!(parent_of(&store, "leaf").as_deref(), Some("main"));
    assert_eq!(ids(&store.lineage("leaf").unwrap()), [1, 2, 4, 5]);
    // leaf's own turn 5 is nobody else's: it goes, with its entries.
    assert_eq!(store.delete_branch("leaf").unwrap(), 1);
    assert!(store.turn(TurnId(5)).unwrap().is_none());
    assert_eq!(store.all_turns().unwrap().len(), 4);
    assert!(store.delete_branch("leaf").is_err());
}

fn finished(prompt: &str, key: &str) -> FinishedTurn {
    let mut start = start("ignored", prompt);
    start.session_id = "imported-session".into();
    let mut end = end(&format!("reply to {prompt}"));
    end.entries = Vec::new();
    FinishedTurn {
        start,
        end,
        entries: serde_json::json!([{"uuid": key}]).to_string(),
        source_key: key.into(),
        search_text: None,
    }
}

/// The transcript lines of a Bash call (`make`) and its result, `output`.
fn bash_call_entries(output: &str) -> String {
    serde_json::json!([
        {"type": "assistant", "message": {"content": [
            {"type": "tool_use", "id": "x", "name": "Bash", "input": {"command": "make"}}]}},
        {"type": "user", "message": {"content": [
            {"type": "tool_result", "tool_use_id": "x", "content": output}]}}
    ])
    .to_string()
}

/// Imports `count` turns, `turn(0)` to `turn(count - 1)`, onto a new branch `imp`, 1000 at a
/// time.
fn import_many(store: &Store, count: u64, turn: impl Fn(u64) -> FinishedTurn) {
    import_branch(store, "imp", None);
    for chunk in (0..count).collect::<Vec<u64>>().chunks(1000) {
        let turns = chunk.iter().map(|&i| turn(i)).collect();
        store
            .import_turns("imp", "imported-session", turns)
            .unwrap();
    }
}

fn import_branch(store: &Store, name: &str, head: Option<u64>) {
    store
        .create_branch(Branch {
            name: name.into(),
            head: head.map(TurnId),
            fork_turn: head.map(TurnId),
            created_at: now_rfc3339(),
            ..Branch::default()
        })
        .unwrap();
}

#[test]
fn imported_turns_chain_on_the_branch_with_their_entries_and_keys() {
    let (_dir, store) = new_store();
    import_branch(&store, "imp", None);
    let first = store
        .import_turns(
            "imp",
            "imported-session",
            vec![finished("a", "k1"), finished("b", "k2")],
        )
        .unwrap();
    assert_eq!(first, [TurnId(1), TurnId(2)]);
    let more = store
        .import_turns("imp", "imported-session", vec![finished("c", "k3")])
        .unwrap();
    assert_eq!(more, [TurnId(3)]);
    let lineage = store.lineage("imp").unwrap();
    assert_eq!(ids(&lineage), [1, 2, 3]);
    assert_eq!(
        lineage.iter().map(|t| t.parent).collect::<Vec<_>>(),
        [None, Some(TurnId(1)), Some(TurnId(2))]
    );
    let second = store.turn(TurnId(2)).unwrap().unwrap();
    assert_eq!(
        (second.prompt.as_str(), second.branch.as_str()),
        ("b", "imp")
    );
    assert_eq!(second.reply, "reply to b");
    assert!(!second.is_running());
    assert_eq!(second.session_id, "imported-session");
    assert_eq!(
        store.entries(TurnId(2)).unwrap(),
        vec![serde_json::json!({"uuid": "k2"})]
    );
    assert_eq!(store.branch("imp").unwrap().unwrap().head, Some(TurnId(3)));
    let mut keys = store.imported_keys("imported-session").unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            ("k1".to_string(), TurnId(1)),
            ("k2".to_string(), TurnId(2)),
            ("k3".to_string(), TurnId(3))
        ]
    );
    assert!(store.imported_keys("other-session").unwrap().is_empty());
    // Nothing to import is not an error and changes nothing.
    assert!(store
        .import_turns("imp", "imported-session", Vec::new())
        .unwrap()
        .is_empty());
    assert_eq!(store.all_turns().unwrap().len(), 3);
}

#[test]
fn an_import_retried_with_its_token_adds_nothing() {
    let (_dir, store) = new_store();
    import_branch(&store, "imp", None);
    let req = Request::ImportTurns {
        token: "tok-import".into(),
        branch: "imp".into(),
        source: "imported-session".into(),
        turns: vec![finished("a", "k1"), finished("b", "k2")],
        defer: false,
    };
    let first = store.call(&req).unwrap();
    assert_eq!(store.call(&req).unwrap(), first);
    assert_eq!(store.all_turns().unwrap().len(), 2);
    assert_eq!(store.branch("imp").unwrap().unwrap().head, Some(TurnId(2)));
}

#[test]
fn bad_imports_change_nothing() {
    let (_dir, store) = new_store();
    let err = store
        .import_turns("nowhere", "imported-session", vec![finished("a", "k1")])
        .unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
    import_branch(&store, "imp", None);
    for source in ["", "a\0b"] {
        assert!(store
            .import_turns("imp", source, vec![finished("a", "k1")])
            .is_err());
    }
    assert!(store.all_turns().unwrap().is_empty());
    assert_eq!(store.branch("imp").unwrap().unwrap().head, None);
}

#[test]
fn keys_of_deleted_turns_are_forgotten_and_their_ids_never_given_again() {
    let (_dir, store) = new_store();
    import_branch(&store, "imp", None);
    store
        .import_turns(
            "imp",
            "imported-session",
            vec![finished("a", "k1"), finished("b", "k2")],
        )
        .unwrap();
    import_branch(&store, "side", Some(1));
    store
        .import_turns("side", "imported-session", vec![finished("c", "k3")])
        .unwrap();
    assert_eq!(store.delete_branch("side").unwrap(), 1);
    // Turn 3 is gone, and its id is not given again (a gap is a deletion, not a loss).
    let again = store.begin_turn(start("main", "later")).unwrap();
    assert_eq!(again.id, TurnId(4));
    let mut keys = store.imported_keys("imported-session").unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [("k1".to_string(), TurnId(1)), ("k2".to_string(), TurnId(2))]
    );
}

#[test]
fn a_big_log_is_searched_in_parts_without_losing_or_reordering_a_match() {
    let (_dir, store) = new_store();
    let count = 9001;
    import_many(&store, count, |i| {
        let word = if i % 997 == 0 { "Needle" } else { "hay" };
        finished(&format!("turn {i} {word}"), &format!("k{i}"))
    });
    let found = store.search_candidates(&["nEEDLE".to_string()]).unwrap();
    let expected: Vec<u64> = (0..count).filter(|i| i % 997 == 0).map(|i| i + 1).collect();
    assert_eq!(ids(&found), expected);
    assert_eq!(
        store
            .search_candidates(&["turn".to_string()])
            .unwrap()
            .len(),
        count as usize
    );
}

#[test]
fn a_client_imports_through_the_owner() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Store::open(dir.path()).unwrap();
    let client = Store::open(dir.path()).unwrap();
    assert!(!client.is_owner());
    import_branch(&client, "imp", None);
    // Entries with characters JSON escapes travel as they are.
    let mut turn = finished("a \"quoted\"\nprompt", "k1");
    turn.entries = serde_json::json!([{"text": "tab\there ü \u{1}"}]).to_string();
    let ids = client
        .bulk(|| client.import_turns("imp", "imported-session", vec![turn, finished("b", "k2")]))
        .unwrap();
    assert_eq!(ids, [TurnId(1), TurnId(2)]);
    assert_eq!(
        owner.turn(TurnId(1)).unwrap().unwrap().prompt,
        "a \"quoted\"\nprompt"
    );
    assert_eq!(
        owner.entries(TurnId(1)).unwrap(),
        vec![serde_json::json!({"text": "tab\there ü \u{1}"})]
    );
    let mut keys = client.imported_keys("imported-session").unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [("k1".to_string(), TurnId(1)), ("k2".to_string(), TurnId(2))]
    );

    // Entries that are not JSON are refused, and nothing is stored.
    let mut request = serde_json::to_value(Request::ImportTurns {
        token: "tok-bad".into(),
        branch: "imp".into(),
        source: "imported-session".into(),
        turns: vec![finished("c", "k3")],
        defer: false,
    })
    .unwrap();
    request["turns"][0]["entries"] = serde_json::json!("[{\"unfinished\": ");
    let mut s = UnixStream::connect(&owner.socket).unwrap();
    s.write_all(format!("{request}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).unwrap();
    assert!(answer.contains("unreadable request"), "{answer}");
    assert_eq!(owner.all_turns().unwrap().len(), 2);
}

#[test]
fn deep_search_candidates_look_in_the_tool_calls_too_and_travel_to_clients() {
    let (dir, store) = new_store();
    // Enough turns for the scan to be cut into parallel ranges.
    let count = 9001;
    import_many(&store, count, |i| {
        let mut t = finished(&format!("turn {i}"), &format!("k{i}"));
        let output = if i % 997 == 0 { "Segfault here" } else { "ok" };
        t.entries = bash_call_entries(output);
        t
    });
    let expected: Vec<u64> = (0..count).filter(|i| i % 997 == 0).map(|i| i + 1).collect();
    let found = store
        .deep_search_candidates(&["SEGFAULT".to_string()])
        .unwrap();
    let found_ids: Vec<u64> = found.iter().map(|(t, _)| t.id.get()).collect();
    assert_eq!(found_ids, expected);
    assert_eq!(found[0].1, ["Bash: make\nSegfault here"]);
    // A word in the record and one in the tool calls: both needed, either place.
    assert_eq!(
        store
            .deep_search_candidates(&["turn".into(), "segfault".into()])
            .unwrap()
            .len(),
        expected.len()
    );
    // No words (a regex search): every turn, in id order (read side by side).
    let every: Vec<u64> = store
        .deep_search_candidates(&[])
        .unwrap()
        .iter()
        .map(|(t, _)| t.id.0)
        .collect();
    assert_eq!(every, (1..=count).collect::<Vec<u64>>());
    // The same through a client.
    let client = Store::open(dir.path()).unwrap();
    assert!(!client.is_owner());
    let via_client: Vec<u64> = client
        .deep_search_candidates(&["segfault".to_string()])
        .unwrap()
        .iter()
        .map(|(t, _)| t.id.get())
        .collect();
    assert_eq!(via_client, expected);
}

/// Turns recorded by an older ccx have no search text: every turn gets it once, at the first
/// deep search. A turn gets it when stored; a deleted one loses it.
/// The store's sled database opened directly, once the last owner has let go of its lock (sled
/// releases it from its own threads, a moment after the owner is dropped): bounded.
fn open_raw(db: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match sled::open(db) {
            Ok(opened) => return opened,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(err) => panic!("cannot open {}: {err}", db.display()),
        }
    }
}

#[test]
fn turns_without_a_search_text_are_searched_from_their_entries_and_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import_branch(&store, "imp", None);
    let mut t = finished("old turn", "k1");
    t.entries = bash_call_entries("Segfault in the old days");
    store.import_turns("imp", "s", vec![t]).unwrap();
    let turn = store.begin_turn(start("main", "new turn")).unwrap();
    let mut e = end("done");
    e.entries = serde_json::from_str(&bash_call_entries("segfault today")).unwrap();
    store.finish_turn(turn.id, e).unwrap();
    drop(store);
    let search_records = |dir: &std::path::Path| {
        let db = open_raw(&dir.join("db"));
        let tree = db.open_tree("search").unwrap();
        // Turn keys only (the tree also marks itself complete).
        tree.iter()
            .keys()
            .filter(|k| k.as_ref().unwrap().len() == 8)
            .count()
    };
    assert_eq!(
        search_records(dir.path()),
        2,
        "both turns got one when stored"
    );
    open_raw(&dir.path().join("db"))
        .drop_tree("search")
        .unwrap();

    let store = Store::open(dir.path()).unwrap();
    let found = store
        .deep_search_candidates(&["segfault".to_string()])
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].1, ["Bash: make\nSegfault in the old days"]);
    // A turn still running is found by its prompt.
    let open = store.begin_turn(start("main", "pending zebra")).unwrap();
    let found = store.deep_search_candidates(&["ZEBRA".into()]).unwrap();
    assert_eq!(
        found.iter().map(|(t, _)| t.id).collect::<Vec<_>>(),
        [open.id]
    );
    store.flush().unwrap();
    store.delete_branch("imp").unwrap();
    drop(store);
    assert_eq!(
        search_records(dir.path()),
        2,
        "made once, and gone with its turn"
    );
}

/// A log written before turn ids, session ids and meta keys had their own types, as the raw
/// sled records that version wrote: it opens, reads back as it was, and goes on numbering.
#[test]
fn a_log_written_before_the_id_types_opens_and_reads_back() {
    const BRANCH: &str = r#"{"name":"main","session_id":"5b0c1d2e-0000","parent_branch":null,"fork_turn":null,"head":2,"created_at":"2026-01-01T12:00:00.000Z"}"#;
    let turn = |id: u64, parent: &str, prompt: &str| {
        format!(
            r#"{{"id":{id},"branch":"main","parent":{parent},"kind":"prompt","prompt":"{prompt}","input":null,"reply":"r","session_id":"5b0c1d2e-0000","started_at":"2026-01-01T12:00:00.000Z","ended_at":"2026-01-01T12:01:00.000Z","context_tokens":10,"output_tokens":2,"est_tokens":3,"interrupted":false,"files":[],"snapshot":null}}"#
        )
    };
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path().join("db")).unwrap();
        let turns = db.open_tree("turns").unwrap();
        turns
            .insert(1u64.to_be_bytes(), turn(1, "null", "one").as_bytes())
            .unwrap();
        turns
            .insert(2u64.to_be_bytes(), turn(2, "1", "two").as_bytes())
            .unwrap();
        let branches = db.open_tree("branches").unwrap();
        branches.insert("main", BRANCH.as_bytes()).unwrap();
        let sessions = db.open_tree("sessions").unwrap();
        sessions.insert("5b0c1d2e-0000", "main").unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert("current_branch", r#""main""#).unwrap();
        meta.insert("merged:2", r#"{"branch":"side","head":1}"#)
            .unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let two = store.turn(TurnId(2)).unwrap().unwrap();
    assert_eq!(serde_json::to_string(&two).unwrap(), turn(2, "1", "two"));
    assert_eq!(ids(&store.lineage("main").unwrap()), [1, 2]);
    let main = store.branch_for_session(&"5b0c1d2e-0000".into()).unwrap();
    assert_eq!(serde_json::to_string(&main.unwrap()).unwrap(), BRANCH);
    assert_eq!(
        store.get_meta(&MetaKey::CurrentBranch).unwrap(),
        Some(serde_json::json!("main"))
    );
    let merged = crate::merge::source_of(&store, TurnId(2)).unwrap();
    assert_eq!((merged.branch.as_str(), merged.head), ("side", TurnId(1)));
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
    let three = store.begin_turn(start("main", "three")).unwrap();
    assert_eq!((three.id, three.parent), (TurnId(3), Some(TurnId(2))));
}

/// The search log beside the database: made at the first deep search, then written with every
/// turn (the same file, growing); bytes past its recorded length, a damaged byte, a missing
/// file are all met with a rebuild from the `search` tree, never with a wrong answer; a deleted
/// branch's texts leave it.
#[test]
fn the_search_log_follows_every_write_and_is_rebuilt_when_amiss() {
    let (dir, store) = new_store();
    let log = dir.path().join(search_log::FILE);
    import_branch(&store, "imp", None);
    let mut old = finished("old turn", "k1");
    old.entries = bash_call_entries("Segfault in the old days");
    store.import_turns("imp", "s", vec![old]).unwrap();
    let ids_of = |words: &[&str]| -> Vec<TurnId> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let found = store.deep_search_candidates(&words).unwrap();
        found.iter().map(|(t, _)| t.id).collect()
    };
    let file_id = || std::fs::read(&log).unwrap()[8..24].to_vec();
    assert!(!log.exists(), "no log before the first deep search");
    assert_eq!(ids_of(&["segfault"]), [TurnId(1)]);
    let first_id = file_id();
    let size = std::fs::metadata(&log).unwrap().len();

    // A turn begun, then finished: each write lands in the same file.
    let turn = store.begin_turn(start("main", "new zebra turn")).unwrap();
    assert_eq!(ids_of(&["zebra"]), [turn.id]);
    let mut e = end("done");
    e.entries = serde_json::from_str(&bash_call_entries("segfault today")).unwrap();
    store.finish_turn(turn.id, e).unwrap();
    assert_eq!(ids_of(&["segfault"]), [TurnId(1), turn.id]);
    assert_eq!(ids_of(&["zebra", "today"]), [turn.id]);
    assert_eq!(file_id(), first_id, "appended to, not rebuilt");
    assert!(std::fs::metadata(&log).unwrap().len() > size);

    // The log is what a deep search reads: a word changed there (same length, checksums
    // made anew) is found, though the `search` tree never held it.
    let bytes = std::fs::read(&log).unwrap();
    let mut rewritten = bytes[..24].to_vec();
    let mut at = 24;
    while at < bytes.len() {
        let id = u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let text = String::from_utf8(bytes[at + 16..at + 16 + len].to_vec()).unwrap();
        let text = text.replace("today", "todax");
        assert!(search_log::push_record(&mut rewritten, id, text.as_bytes()));
        at += 16 + len;
    }
    std::fs::write(&log, &rewritten).unwrap();
    assert_eq!(ids_of(&["todax"]), [turn.id]);
    assert!(ids_of(&["today"]).is_empty());

    // Bytes past the recorded length (a write whose commit never happened) are not read.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"\0\0\0\0\0\0\0\x09 segfault garbage").unwrap();
    drop(f);
    assert_eq!(ids_of(&["segfault"]), [TurnId(1), turn.id]);
    assert_eq!(file_id(), first_id);
    let third = store.begin_turn(start("main", "segfault three")).unwrap();
    assert_eq!(ids_of(&["segfault"]), [TurnId(1), turn.id, third.id]);
    assert_eq!(file_id(), first_id);

    // A damaged byte, a file cut short, no file: rebuilt, same answer.
    let mut bytes = std::fs::read(&log).unwrap();
    let at = 24 + 16 + 2; // inside the first record's text
    bytes[at] ^= 0x20;
    std::fs::write(&log, &bytes).unwrap();
    assert_eq!(ids_of(&["segfault"]), [TurnId(1), turn.id, third.id]);
    assert_ne!(file_id(), first_id, "rebuilt");
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(ids_of(&["segfault"]), [TurnId(1), turn.id, third.id]);
    std::fs::remove_file(&log).unwrap();
    assert_eq!(ids_of(&["segfault"]), [TurnId(1), turn.id, third.id]);
    let mode = std::fs::metadata(&log).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );

    // A deleted branch's texts leave the file.
    store.delete_branch("imp").unwrap();
    assert_eq!(ids_of(&["segfault"]), [turn.id, third.id]);
    let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).to_lowercase();
    assert!(!text.contains("old days"), "{text}");
}

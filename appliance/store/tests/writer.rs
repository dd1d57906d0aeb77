//! The store's one writer (issue 15), against a real SQLite file: what it
//! answers is what another connection then reads; one write's error undoes it
//! alone; a database another process holds is waited out, not failed.

use std::time::Duration;

use shofar_phone::E164;
use shofar_store::calls::{CallKind, NewCall};
use shofar_store::writer::{self, Writer};
use shofar_store::{Store, StoreError};

fn call(index: u64) -> NewCall {
    NewCall {
        call_id: format!("writer-test-{index:06}"),
        campaign: None,
        contact_id: None,
        e164: E164::from_u64(972_525_550_000 + index).expect("a number"),
        attempt: 1,
        kind: CallKind::Test,
        dnc_version: None,
        started_at: chrono::Utc::now(),
    }
}

/// Sends `count` writes from as many threads at once (so they share batches);
/// those with an odd index write their record and then fail.
fn write_many(writer: &Writer, count: u64) -> Vec<Result<(), StoreError>> {
    let handles: Vec<_> = (0..count)
        .map(|index| {
            let writer = writer.clone();
            std::thread::spawn(move || {
                writer.write_blocking(move |store| {
                    store.call_started(&call(index))?;
                    if index % 2 == 1 {
                        return Err(StoreError::Copied(format!("write {index} fails")));
                    }
                    Ok(())
                })
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|handle| handle.join().expect("the thread"))
        .collect()
}

#[test]
fn each_write_lands_or_not_by_itself_and_is_readable_once_answered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    let (writer, thread) = writer::spawn(Store::open(&path).unwrap());
    let results = write_many(&writer, 200);
    let reader = Store::open(&path).unwrap();
    for (index, result) in results.iter().enumerate() {
        let record = reader.call_record(&call(index as u64).call_id).unwrap();
        if index % 2 == 0 {
            assert!(result.is_ok(), "write {index}: {result:?}");
            assert!(
                record.is_some(),
                "write {index} was answered but is not there"
            );
        } else {
            assert!(result.is_err(), "write {index} should fail");
            assert!(record.is_none(), "failed write {index} left its record");
        }
    }
    thread.stop();
    // After the stop, a write is refused, not lost silently.
    assert!(matches!(
        writer.write_blocking(|store| store.call_started(&call(999_999))),
        Err(StoreError::WriterStopped)
    ));
}

/// Another connection holds the write lock longer than SQLite's busy timeout
/// (10 s), as a long import transaction did: the writer's batch waits and then
/// commits; nothing fails.
#[test]
fn a_database_held_by_another_connection_is_waited_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    let (writer, thread) = writer::spawn(Store::open(&path).unwrap());
    let holder = Store::open(&path).unwrap();
    holder
        .connection()
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let pending = {
        let writer = writer.clone();
        std::thread::spawn(move || writer.write_blocking(|store| store.call_started(&call(1))))
    };
    std::thread::sleep(Duration::from_secs(12));
    assert!(
        !pending.is_finished(),
        "the write did not wait for the lock"
    );
    holder.connection().execute_batch("COMMIT").unwrap();
    let result = pending.join().expect("the thread");
    assert!(result.is_ok(), "{result:?}");
    assert!(holder.call_record(&call(1).call_id).unwrap().is_some());
    thread.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_callers_get_their_own_results() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    let (writer, thread) = writer::spawn(Store::open(&path).unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..100u64 {
        let writer = writer.clone();
        tasks.spawn(async move {
            let id = call(index).call_id;
            writer
                .write(move |store| {
                    store.call_started(&call(index))?;
                    store.call_record(&id)
                })
                .await
                .map(|record| (index, record.map(|r| r.number)))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (index, number) = joined.unwrap().unwrap();
        assert_eq!(number, Some(call(index).e164));
    }
    tokio::task::spawn_blocking(move || thread.stop())
        .await
        .unwrap();
}

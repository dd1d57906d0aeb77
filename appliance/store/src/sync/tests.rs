use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use shofar_dnc::SharedDnc;
use shofar_phone::{E164, LineType};

use super::*;
use crate::blacklist::{BlacklistSource, NewEntry};
use crate::calls::{CallEnd, CallKind, CallOutcome, NewCall};
use crate::contacts::{ImportCounts, NewContact};

fn number(text: &str) -> E164 {
    text.parse().unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
}

fn start(store: &mut Store, call_id: &str, campaign: Option<CampaignId>) {
    store
        .call_started(&NewCall {
            call_id: call_id.to_owned(),
            campaign,
            contact_id: None,
            e164: number("+972525551234"),
            attempt: 1,
            kind: CallKind::Campaign,
            dnc_version: Some(1),
            started_at: t0(),
        })
        .unwrap();
}

fn end(store: &mut Store, call_id: &str) -> bool {
    store
        .call_finished(
            call_id,
            &CallEnd {
                outcome: Some(CallOutcome::NoAnswer),
                ended_at: Some(t0() + chrono::Duration::seconds(30)),
                ..CallEnd::default()
            },
        )
        .unwrap()
        .is_some()
}

/// What the feed shows after `seq`: (seq, "call:{call_id}" or "sms:{id}:{status}").
fn feed(store: &Store, seq: i64) -> Vec<(i64, String)> {
    store
        .sync_records_after(seq, 1000)
        .unwrap()
        .into_iter()
        .map(|record| match &record {
            SyncRecord::Call { record: call, .. } => {
                (record.seq(), format!("call:{}", call.call_id))
            }
            SyncRecord::Sms { record: sms, .. } => {
                (record.seq(), format!("sms:{}:{}", sms.id, sms.status))
            }
        })
        .collect()
}

fn names(feed: &[(i64, String)]) -> Vec<&str> {
    feed.iter().map(|(_, name)| name.as_str()).collect()
}

#[test]
fn the_feed_lists_calls_in_the_order_they_ended_each_once() {
    let mut store = Store::open_in_memory().unwrap();
    let campaign = store.create_campaign("donors", "test").unwrap();
    assert_eq!(store.sync_head().unwrap(), FeedHead::default());
    start(&mut store, "c1", Some(campaign));
    start(&mut store, "c2", None);
    start(&mut store, "c3", Some(campaign));
    store.call_answered("c1", t0()).unwrap();
    assert!(feed(&store, 0).is_empty(), "nothing has ended");
    // c2 started later but ends first.
    assert!(end(&mut store, "c2"));
    assert!(end(&mut store, "c1"));
    assert!(!end(&mut store, "c1"), "a second end is ignored");
    // A number the pre-dial check refused is written ended at once.
    store
        .call_refused(
            &NewCall {
                call_id: "c4".into(),
                campaign: Some(campaign),
                contact_id: None,
                e164: number("+972525551234"),
                attempt: 1,
                kind: CallKind::Campaign,
                dnc_version: Some(2),
                started_at: t0(),
            },
            "listed",
        )
        .unwrap();
    let listed = feed(&store, 0);
    assert_eq!(names(&listed), ["call:c2", "call:c1", "call:c4"]);
    assert!(listed.windows(2).all(|w| w[0].0 < w[1].0), "{listed:?}");
    let records = store.sync_records_after(0, 10).unwrap();
    match &records[1] {
        SyncRecord::Call {
            record, campaign, ..
        } => {
            assert_eq!(campaign.as_deref(), Some("donors"));
            assert_eq!(record.known_outcome(), Some(CallOutcome::NoAnswer));
            assert!(!record.is_open(), "read after the end was written whole");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &records[0],
        SyncRecord::Call { campaign: None, .. }
    ));
    // Pages.
    let first = listed[0].0;
    assert_eq!(names(&feed(&store, first)), ["call:c1", "call:c4"]);
    assert_eq!(store.sync_records_after(0, 2).unwrap().len(), 2);
    assert_eq!(store.sync_head().unwrap().records, listed.last().unwrap().0);
    // c3 ends last.
    assert!(end(&mut store, "c3"));
    assert_eq!(names(&feed(&store, listed.last().unwrap().0)), ["call:c3"]);
}

#[test]
fn a_batch_is_formed_again_from_its_positions() {
    let mut store = Store::open_in_memory().unwrap();
    for id in ["a", "b", "c", "d"] {
        start(&mut store, id, None);
        end(&mut store, id);
    }
    let all = store.sync_records_after(0, 100).unwrap();
    let (second, third) = (all[1].seq(), all[2].seq());
    let again = store.sync_records_between(second, third).unwrap();
    assert_eq!(again, all[1..3].to_vec());
    assert!(
        store
            .sync_records_between(third, second)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn pruning_never_gives_a_position_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    let last = {
        let mut store = Store::open(&path).unwrap();
        for id in ["a", "b", "c"] {
            start(&mut store, id, None);
            end(&mut store, id);
        }
        let listed = feed(&store, 0);
        let (first, last) = (listed[0].0, listed[2].0);
        assert_eq!(store.sync_feed_prune(first).unwrap(), 1);
        assert_eq!(names(&feed(&store, 0)), ["call:b", "call:c"]);
        assert_eq!(store.sync_waiting(0).unwrap().0, 2);
        assert_eq!(store.sync_feed_prune(last).unwrap(), 2);
        assert!(feed(&store, 0).is_empty());
        assert_eq!(store.sync_head().unwrap().records, last, "the head stays");
        last
    };
    // Reopened, with the whole feed pruned: the next entry still comes after.
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.sync_head().unwrap().records, last);
    start(&mut store, "d", None);
    end(&mut store, "d");
    assert_eq!(feed(&store, last), [(last + 1, "call:d".to_owned())]);
}

#[test]
fn waiting_counts_what_is_after_a_position_and_since_when() {
    let mut store = Store::open_in_memory().unwrap();
    assert_eq!(store.sync_waiting(0).unwrap(), (0, None));
    let before = crate::now() - chrono::Duration::milliseconds(1);
    for id in ["a", "b", "c"] {
        start(&mut store, id, None);
        end(&mut store, id);
    }
    let after = crate::now();
    let listed = feed(&store, 0);
    let (count, oldest) = store.sync_waiting(0).unwrap();
    assert_eq!(count, 3);
    let oldest = oldest.unwrap();
    assert!(before <= oldest && oldest <= after, "{oldest}");
    assert_eq!(store.sync_waiting(listed[1].0).unwrap().0, 1);
    assert_eq!(store.sync_waiting(listed[2].0).unwrap(), (0, None));
}

fn insert_sms(store: &Store, id: i64, status: &str) {
    store
        .connection()
        .execute(
            "INSERT INTO sms_records (id, e164, body, provider, status, attempts, queued_at)
             VALUES (?1, 972525551234, 'שלום', 'inforu', ?2, 1, '2026-11-22T10:00:00.000Z')",
            params![id, status],
        )
        .unwrap();
}

fn set_sms(store: &Store, id: i64, status: &str) {
    store
        .connection()
        .execute(
            "UPDATE sms_records SET status = ?2, sent_at = '2026-11-22T10:00:05.000Z'
             WHERE id = ?1",
            params![id, status],
        )
        .unwrap();
}

#[test]
fn an_sms_is_in_the_feed_at_each_final_status_it_reaches() {
    let store = Store::open_in_memory().unwrap();
    insert_sms(&store, 1, "queued");
    insert_sms(&store, 2, "undeliverable");
    assert_eq!(names(&feed(&store, 0)), ["sms:2:undeliverable"]);
    set_sms(&store, 1, "sent");
    set_sms(&store, 1, "sent"); // not a change of status
    // Each entry reads the record as it is now.
    assert_eq!(
        names(&feed(&store, 0)),
        ["sms:2:undeliverable", "sms:1:sent"]
    );
    set_sms(&store, 1, "delivered");
    assert_eq!(
        names(&feed(&store, 0)),
        ["sms:2:undeliverable", "sms:1:delivered", "sms:1:delivered"]
    );
    let records = store.sync_records_after(0, 10).unwrap();
    match &records[1] {
        SyncRecord::Sms { record, .. } => {
            assert_eq!(record.provider.as_deref(), Some("inforu"));
            assert_eq!(record.queued_at, t0());
            assert!(record.sent_at.is_some());
            assert_eq!(record.e164, number("+972525551234"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_deleted_record_is_skipped_and_does_not_count_toward_the_limit() {
    // The store deletes no call record today (a campaign that called cannot be
    // deleted), but the schema would cascade one away with its campaign.
    let mut store = Store::open_in_memory().unwrap();
    start(&mut store, "a", None);
    end(&mut store, "a");
    start(&mut store, "b", None);
    end(&mut store, "b");
    store
        .connection()
        .execute("DELETE FROM call_records WHERE call_id = 'a'", [])
        .unwrap();
    let records = store.sync_records_after(0, 1).unwrap();
    assert_eq!(records.len(), 1);
    assert!(matches!(&records[0], SyncRecord::Call { record, .. } if record.call_id == "b"));
}

/// A database of version 7 with calls and SMS in every state: migration 8 puts
/// every final one in the feed, once, in the order they ended.
#[test]
fn the_migration_feeds_what_ended_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        for (index, (_, sql)) in crate::MIGRATIONS.iter().enumerate().take(7) {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", index + 1).unwrap();
            tx.commit().unwrap();
        }
        conn.execute_batch(
            "INSERT INTO call_records (id, call_id, e164, attempt, status, started_at, ended_at)
             VALUES (1, 'late', 972525551234, 1, 'ended', '2026-01-01T10:00:00.000Z',
                     '2026-01-01T10:05:00.000Z'),
                    (2, 'early', 972525551234, 1, 'ended', '2026-01-01T10:01:00.000Z',
                     '2026-01-01T10:02:00.000Z'),
                    (3, 'open', 972525551234, 1, 'answered', '2026-01-01T10:03:00.000Z', NULL);
             INSERT INTO sms_records (id, e164, body, status, queued_at)
             VALUES (1, 972525551234, 'x', 'queued', '2026-01-01T10:00:00.000Z'),
                    (2, 972525551234, 'x', 'delivered', '2026-01-01T10:00:00.000Z');",
        )
        .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), crate::SCHEMA_VERSION);
    assert_eq!(
        names(&feed(&store, 0)),
        ["call:early", "call:late", "sms:2:delivered"]
    );
    // The open call joins the feed when it ends, after them.
    assert!(end(&mut store, "open"));
    assert_eq!(names(&feed(&store, 3)), ["call:open"]);
}

fn blacklist(store: &mut Store, dnc: &SharedDnc, e164: &str, source: BlacklistSource) {
    store
        .blacklist_add(
            dnc,
            [NewEntry {
                e164: number(e164),
                reason: format!("{source}"),
                source,
                checked_on: None,
                campaign: None,
            }],
            "test",
            serde_json::json!({}),
        )
        .unwrap();
}

#[test]
fn the_boxs_own_opt_outs_are_followed_by_history_id() {
    let mut store = Store::open_in_memory().unwrap();
    let dnc = SharedDnc::default();
    blacklist(
        &mut store,
        &dnc,
        "+972525551111",
        BlacklistSource::UserOptout,
    );
    blacklist(
        &mut store,
        &dnc,
        "+972525552222",
        BlacklistSource::AdminImport,
    );
    blacklist(&mut store, &dnc, "+972525553333", BlacklistSource::Central);
    blacklist(
        &mut store,
        &dnc,
        "+972525554444",
        BlacklistSource::UserOptout,
    );
    store
        .blacklist_remove(&dnc, &[number("+972525551111")], "asked again", "admin")
        .unwrap();
    blacklist(
        &mut store,
        &dnc,
        "+972525551111",
        BlacklistSource::UserOptout,
    );
    let optouts = store.sync_optouts_after(0, 100).unwrap();
    let seen: Vec<(String, i64)> = optouts
        .iter()
        .map(|o| (o.e164.to_string(), o.history_id))
        .collect();
    assert_eq!(
        seen,
        [
            ("+972525551111".to_owned(), 1),
            ("+972525554444".to_owned(), 4),
            ("+972525551111".to_owned(), 6)
        ]
    );
    assert_eq!(optouts[0].reason, "user_optout");
    assert_eq!(optouts[0].actor.as_deref(), Some("test"));
    assert_eq!(store.sync_optouts_after(1, 1).unwrap()[0].history_id, 4);
    assert_eq!(store.sync_optouts_waiting(0).unwrap(), 3);
    assert_eq!(store.sync_optouts_waiting(4).unwrap(), 1);
    assert_eq!(store.sync_optouts_waiting(6).unwrap(), 0);
    assert_eq!(store.sync_head().unwrap().history, 6);
    // The query uses the partial index, not a walk of the whole history.
    let plan: String = store
        .connection()
        .query_row(
            "EXPLAIN QUERY PLAN SELECT id, e164, reason, at, actor FROM blacklist_history
             WHERE action = 'add' AND source = 'user_optout' AND id > 0 ORDER BY id LIMIT 5",
            [],
            |row| row.get(3),
        )
        .unwrap();
    assert!(plan.contains("blacklist_history_optouts"), "{plan}");
}

fn list(e164: &str) -> CentralChange {
    CentralChange::List {
        e164: number(e164),
        reason: "central list".into(),
        by: "alice".into(),
    }
}

fn unlist(e164: &str, own_history_at_most: i64) -> CentralChange {
    CentralChange::Unlist {
        e164: number(e164),
        reason: "removed centrally".into(),
        by: "bob".into(),
        own_history_at_most,
    }
}

fn import_contact(store: &mut Store, campaign: &str, e164: &str) {
    let mut import = store
        .begin_contact_import(campaign, true, "t.csv", "test")
        .unwrap();
    import
        .insert(NewContact {
            e164: number(e164),
            line_type: LineType::Mobile,
            metadata: "{}".into(),
            consent: None,
            blacklisted: false,
            source_row: 2,
        })
        .unwrap();
    import
        .finish(
            ImportCounts::default(),
            &serde_json::json!({}),
            None,
            "test",
        )
        .unwrap();
}

fn marked(store: &Store, e164: &str) -> bool {
    store
        .connection()
        .query_row(
            "SELECT blacklisted FROM contacts WHERE e164 = ?1",
            [number(e164).as_u64() as i64],
            |row| row.get(0),
        )
        .unwrap()
}

fn source_of(store: &Store, e164: &str) -> Option<BlacklistSource> {
    store
        .blacklist_entry(number(e164))
        .unwrap()
        .map(|entry| entry.source)
}

#[test]
fn a_central_addition_lists_like_staff_do_and_keeps_an_entry_there_already() {
    let mut store = Store::open_in_memory().unwrap();
    let dnc = SharedDnc::default();
    import_contact(&mut store, "donors", "+972525551111");
    blacklist(
        &mut store,
        &dnc,
        "+972525552222",
        BlacklistSource::Compliance,
    );
    let outcome = store
        .blacklist_apply_central(
            &dnc,
            &[
                list("+972525551111"),
                list("+972525552222"),
                list("+972525551111"),
            ],
        )
        .unwrap();
    assert_eq!(
        outcome,
        CentralOutcome {
            listed: 1,
            already_listed: 2,
            ..CentralOutcome::default()
        }
    );
    let entry = store
        .blacklist_entry(number("+972525551111"))
        .unwrap()
        .unwrap();
    assert_eq!(entry.source, BlacklistSource::Central);
    assert_eq!(entry.reason, "central list");
    assert_eq!(entry.added_by.as_deref(), Some("central:alice"));
    assert!(marked(&store, "+972525551111"));
    assert!(dnc.contains(number("+972525551111")));
    // The compliance entry is untouched.
    assert_eq!(
        source_of(&store, "+972525552222"),
        Some(BlacklistSource::Compliance)
    );
    let history = store.blacklist_history(None, 10).unwrap();
    assert_eq!(
        history.len(),
        2,
        "one addition each, none for already listed"
    );
    assert_eq!(history[0].actor.as_deref(), Some("central:alice"));
    assert_eq!(history[0].source.as_deref(), Some("central"));
    let audit = store.audit_log(1).unwrap();
    assert_eq!(audit[0].action, "blacklist.central");
    assert_eq!(audit[0].details["outcome"]["listed"], 1);
    // Nothing to apply: no transaction, no audit entry.
    let audited = store.audit_log(100).unwrap().len();
    assert_eq!(
        store.blacklist_apply_central(&dnc, &[]).unwrap(),
        CentralOutcome::default()
    );
    assert_eq!(store.audit_log(100).unwrap().len(), audited);
}

/// Each rule of a central removal, the race included: an opt-out the removal
/// did not see (its history id is above `own_history_at_most`) stays listed.
#[test]
fn a_central_removal_removes_only_what_the_central_list_may() {
    let mut store = Store::open_in_memory().unwrap();
    let dnc = SharedDnc::default();
    import_contact(&mut store, "donors", "+972525551111");
    store
        .blacklist_apply_central(&dnc, &[list("+972525551111")])
        .unwrap(); // history 1
    blacklist(
        &mut store,
        &dnc,
        "+972525552222",
        BlacklistSource::AdminImport,
    ); // 2
    blacklist(
        &mut store,
        &dnc,
        "+972525553333",
        BlacklistSource::Compliance,
    ); // 3
    blacklist(
        &mut store,
        &dnc,
        "+972525554444",
        BlacklistSource::UserOptout,
    ); // 4 (seen)
    blacklist(
        &mut store,
        &dnc,
        "+972525555555",
        BlacklistSource::UserOptout,
    ); // 5 (not seen)
    let own = 4;
    let outcome = store
        .blacklist_apply_central(
            &dnc,
            &[
                unlist("+972525551111", own),
                unlist("+972525552222", own),
                unlist("+972525553333", own),
                unlist("+972525554444", own),
                unlist("+972525555555", own),
                unlist("+972525556666", own),
            ],
        )
        .unwrap();
    assert_eq!(
        outcome,
        CentralOutcome {
            unlisted: 2,
            kept: 3,
            ..CentralOutcome::default()
        }
    );
    let sources: Vec<_> = [
        "+972525551111",
        "+972525552222",
        "+972525553333",
        "+972525554444",
        "+972525555555",
    ]
    .iter()
    .map(|n| source_of(&store, n))
    .collect();
    assert_eq!(
        sources,
        [
            None,
            Some(BlacklistSource::AdminImport),
            Some(BlacklistSource::Compliance),
            None,
            Some(BlacklistSource::UserOptout),
        ]
    );
    for (n, listed) in [
        ("+972525551111", false),
        ("+972525552222", true),
        ("+972525553333", true),
        ("+972525554444", false),
        ("+972525555555", true),
    ] {
        assert_eq!(dnc.contains(number(n)), listed, "{n}");
    }
    assert!(!marked(&store, "+972525551111"), "the contact is unmarked");
    let history = store.blacklist_history(None, 2).unwrap();
    assert!(history.iter().all(|h| h.action == "remove"
        && h.actor.as_deref() == Some("central:bob")
        && h.reason == "removed centrally"));
    let sources: Vec<_> = history.iter().map(|h| h.source.as_deref()).collect();
    assert_eq!(sources, [Some("user_optout"), Some("central")]);

    // An opt-out listed again after the one the removal saw is a new one.
    store
        .blacklist_remove(&dnc, &[number("+972525555555")], "mistake", "admin")
        .unwrap();
    blacklist(
        &mut store,
        &dnc,
        "+972525555555",
        BlacklistSource::UserOptout,
    );
    let latest = store.sync_head().unwrap().history;
    let kept = store
        .blacklist_apply_central(&dnc, &[unlist("+972525555555", latest - 1)])
        .unwrap();
    assert_eq!(kept.kept, 1);
    let removed = store
        .blacklist_apply_central(&dnc, &[unlist("+972525555555", latest)])
        .unwrap();
    assert_eq!(removed.unlisted, 1);
    assert!(!dnc.contains(number("+972525555555")));
}

/// In one call, a number listed then unlisted ends unlisted, and unlisted then
/// listed ends listed, in the store and in the index alike; another process
/// following the history agrees.
#[test]
fn changes_in_one_call_apply_in_order_and_the_index_follows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    let mut store = Store::open(&path).unwrap();
    let supervisor = Store::open(&path).unwrap();
    let (index, mut cursor) = supervisor.load_dnc().unwrap();
    let followed = SharedDnc::new(index);
    let dnc = SharedDnc::default();
    store
        .blacklist_apply_central(&dnc, &[list("+972525552222")])
        .unwrap();
    let outcome = store
        .blacklist_apply_central(
            &dnc,
            &[
                list("+972525551111"),
                unlist("+972525551111", 0),
                unlist("+972525552222", 0),
                list("+972525552222"),
            ],
        )
        .unwrap();
    assert_eq!((outcome.listed, outcome.unlisted), (2, 2));
    assert!(!dnc.contains(number("+972525551111")));
    assert!(dnc.contains(number("+972525552222")));
    assert_eq!(source_of(&store, "+972525551111"), None);
    assert_eq!(
        source_of(&store, "+972525552222"),
        Some(BlacklistSource::Central)
    );
    supervisor.dnc_catch_up(&followed, &mut cursor).unwrap();
    assert!(!followed.contains(number("+972525551111")));
    assert!(followed.contains(number("+972525552222")));
}

/// What a model of the rules says a number's entry is after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Listed(BlacklistSource, i64),
}

#[derive(Debug, Clone)]
enum Step {
    OptOut(u8),
    Staff(u8),
    Central(Vec<(u8, bool, i64)>),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..6).prop_map(Step::OptOut),
        (0u8..6).prop_map(Step::Staff),
        prop::collection::vec((0u8..6, any::<bool>(), -1i64..3), 1..6).prop_map(Step::Central),
    ]
}

fn nth(n: u8) -> E164 {
    E164::from_u64(972_525_550_000 + u64::from(n)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Seed property 13 (the do-not-call list is one list for every process):
    /// whatever mix of the box's own opt-outs, staff additions and central
    /// changes, the store follows the central rules (a model says which entry
    /// each number has), the index handed to the calls always lists exactly the
    /// stored numbers, and a process following the history agrees.
    #[test]
    fn property_13_central_changes_keep_store_model_and_index_equal(
        steps in prop::collection::vec(step(), 1..20),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shofar.db");
        let mut store = Store::open(&path).unwrap();
        let follower_store = Store::open(&path).unwrap();
        let follower = SharedDnc::default();
        let mut cursor = 0;
        let dnc = SharedDnc::default();
        let mut model: BTreeMap<u8, Entry> = BTreeMap::new();
        for step in steps {
            match step {
                Step::OptOut(n) | Step::Staff(n) => {
                    let source = if matches!(step, Step::OptOut(_)) {
                        BlacklistSource::UserOptout
                    } else {
                        BlacklistSource::AdminImport
                    };
                    store.blacklist_add(&dnc, [NewEntry {
                        e164: nth(n), reason: String::new(), source, checked_on: None, campaign: None,
                    }], "test", serde_json::json!({})).unwrap();
                    let id = store.sync_head().unwrap().history;
                    model.entry(n).or_insert(Entry::Listed(source, id));
                }
                Step::Central(changes) => {
                    // `own` relative to the head: -1 misses the latest change.
                    let head = store.sync_head().unwrap().history;
                    let changes: Vec<CentralChange> = changes.iter().map(|&(n, add, own)| {
                        if add {
                            CentralChange::List { e164: nth(n), reason: "c".into(), by: "a".into() }
                        } else {
                            CentralChange::Unlist {
                                e164: nth(n), reason: "c".into(), by: "a".into(),
                                own_history_at_most: head + own,
                            }
                        }
                    }).collect();
                    let mut next_id = head;
                    for change in &changes {
                        match change {
                            CentralChange::List { e164, .. } => {
                                let n = (e164.as_u64() - 972_525_550_000) as u8;
                                model.entry(n).or_insert_with(|| {
                                    next_id += 1;
                                    Entry::Listed(BlacklistSource::Central, next_id)
                                });
                            }
                            CentralChange::Unlist { e164, own_history_at_most, .. } => {
                                let n = (e164.as_u64() - 972_525_550_000) as u8;
                                let removable = match model.get(&n) {
                                    Some(Entry::Listed(BlacklistSource::Central, _)) => true,
                                    Some(Entry::Listed(BlacklistSource::UserOptout, id)) => {
                                        id <= own_history_at_most
                                    }
                                    _ => false,
                                };
                                if removable {
                                    next_id += 1;
                                    model.remove(&n);
                                }
                            }
                        }
                    }
                    store.blacklist_apply_central(&dnc, &changes).unwrap();
                    prop_assert_eq!(store.sync_head().unwrap().history, next_id);
                }
            }
            for n in 0u8..6 {
                let stored = store.blacklist_entry(nth(n)).unwrap().map(|e| e.source);
                let expected = model.get(&n).map(|Entry::Listed(source, _)| *source);
                prop_assert_eq!(stored, expected, "number {}", n);
                prop_assert_eq!(dnc.contains(nth(n)), stored.is_some(), "index, number {}", n);
            }
            follower_store.dnc_catch_up(&follower, &mut cursor).unwrap();
            for n in 0u8..6 {
                prop_assert_eq!(follower.contains(nth(n)), dnc.contains(nth(n)));
            }
        }
    }

    /// Calls that end in any order are in the feed once each, in the order they
    /// ended, whatever is pruned on the way.
    #[test]
    fn calls_are_fed_in_the_order_they_end(
        order in Just((0..12).collect::<Vec<u32>>()).prop_shuffle(),
        prune_after in 0usize..12,
    ) {
        let mut store = Store::open_in_memory().unwrap();
        for id in 0..12 {
            start(&mut store, &format!("c{id}"), None);
        }
        let mut seen = Vec::new();
        let mut position = 0;
        for (index, id) in order.iter().enumerate() {
            end(&mut store, &format!("c{id}"));
            if index == prune_after {
                for (seq, name) in feed(&store, position) {
                    seen.push(name);
                    position = seq;
                }
                store.sync_feed_prune(position).unwrap();
            }
        }
        for (seq, name) in feed(&store, position) {
            prop_assert!(seq > position);
            seen.push(name);
            position = seq;
        }
        let expected: Vec<String> = order.iter().map(|id| format!("call:c{id}")).collect();
        prop_assert_eq!(seen, expected);
        prop_assert_eq!(store.sync_head().unwrap().records, 12);
    }
}

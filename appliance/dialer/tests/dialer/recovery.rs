//! After a crash: the store as a killed dialer leaves it, and what recovery
//! makes of it — directly through `recover::recover`, and at a dialer's start.
//!
//! The writes of a call come in a fixed order (claim, record, dial, end the
//! record, settle the contact); a crash can fall between any two. Recovery
//! gives back an attempt that had no record, closes a record left open
//! (hanging up the call if the engine still has it), applies an ended record's
//! outcome, and leaves alone another process's call that is still up.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use shofar_campaign::{Event, NextStep, Retry, RetryPolicy};
use shofar_dialer::recover::{Recovery, recover};
use shofar_phone::E164;
use shofar_store::calls::{CallEnd, CallKind, CallOutcome, NewCall};
use shofar_store::campaigns::CampaignId;
use shofar_telephony::{Backend, SimConfig};

use crate::support::{CampaignSpec, World, dialer_config, endpoint, mobile_numbers, wait_until};

const OURS: &str = "shofar-d-";
/// `shofar call`'s prefix: another process's call.
const THEIRS: &str = "shofar-c-";

/// The contacts of a crashed run, in the order the module doc lists the cases.
struct Crashed {
    campaign: CampaignId,
    numbers: Vec<E164>,
    ids: Vec<i64>,
    /// Our call whose channel the engine still has.
    still_up: String,
    /// Another process's call, still up.
    theirs: String,
}

fn call_id(prefix: &str, sequence: u32) -> String {
    format!("{prefix}1767225600000-{sequence:08}")
}

fn new_call(
    crashed_campaign: CampaignId,
    id: &str,
    contact: i64,
    number: E164,
    attempt: u32,
) -> NewCall {
    NewCall {
        call_id: id.to_owned(),
        campaign: Some(crashed_campaign),
        contact_id: Some(contact),
        e164: number,
        attempt,
        kind: CallKind::Campaign,
        dnc_version: Some(0),
        started_at: Utc::now() - chrono::Duration::seconds(30),
    }
}

/// Leaves the store as a dialer killed mid-campaign would (its campaign paused
/// since, so a restarted dialer recovers but does not dial again).
fn crash(world: &World) -> Crashed {
    let hour = Retry::After(chrono::Duration::hours(1));
    let campaign = world.campaign(&CampaignSpec {
        max_attempts: 2,
        retry: RetryPolicy {
            busy: hour,
            no_answer: hour,
            congestion: hour,
            failed: hour,
            voicemail: Retry::Never,
        },
        ..CampaignSpec::voice("Crashed", mobile_numbers(0, 7), 5.0, 10)
    });
    let numbers = mobile_numbers(0, 7);
    let mut store = world.store.lock();
    store
        .campaign_event(campaign, Event::Pause, Utc::now(), "test", None)
        .expect("paused");
    let ids = store.contact_ids(campaign).expect("contacts");
    let now = Utc::now();
    let claim = |store: &mut shofar_store::Store, index: usize| {
        store
            .claim_contact(ids[index], now)
            .expect("a claim")
            .expect("pending")
    };
    // 0: claimed, never dialed.
    claim(&mut store, 0);
    // 1: dialed, the record left open, the channel gone.
    let attempt = claim(&mut store, 1);
    store
        .call_started(&new_call(
            campaign,
            &call_id(OURS, 1),
            ids[1],
            numbers[1],
            attempt,
        ))
        .expect("a record");
    // 2: dialed and answered, the record left open, the channel gone.
    let attempt = claim(&mut store, 2);
    store
        .call_started(&new_call(
            campaign,
            &call_id(OURS, 2),
            ids[2],
            numbers[2],
            attempt,
        ))
        .expect("a record");
    store
        .call_answered(
            &call_id(OURS, 2),
            Utc::now() - chrono::Duration::seconds(20),
        )
        .expect("answered");
    // 3: its second (and last) attempt ended busy, the contact never settled.
    for (attempt, sequence) in [(1, 3), (2, 4)] {
        assert_eq!(claim(&mut store, 3), attempt);
        let id = call_id(OURS, sequence);
        store
            .call_started(&new_call(campaign, &id, ids[3], numbers[3], attempt))
            .expect("a record");
        store
            .call_finished(
                &id,
                &CallEnd {
                    outcome: Some(CallOutcome::Busy),
                    hangup_code: Some(17),
                    dial_status: Some("BUSY".to_owned()),
                    ended_by: Some(shofar_store::calls::EndedBy::Network),
                    ..CallEnd::default()
                },
            )
            .expect("ended");
        if attempt == 1 {
            store
                .finish_attempt(
                    ids[3],
                    NextStep::RetryAt(now - chrono::Duration::seconds(1)),
                )
                .expect("settled");
        }
    }
    // 4: dialed, the record left open, and the engine still has the call.
    let attempt = claim(&mut store, 4);
    let still_up = call_id(OURS, 5);
    store
        .call_started(&new_call(campaign, &still_up, ids[4], numbers[4], attempt))
        .expect("a record");
    // 5: another process's call, still up.
    let attempt = claim(&mut store, 5);
    let theirs = call_id(THEIRS, 1);
    store
        .call_started(&new_call(campaign, &theirs, ids[5], numbers[5], attempt))
        .expect("a record");
    // 6: never touched.
    Crashed {
        campaign,
        numbers,
        ids,
        still_up,
        theirs,
    }
}

fn expected_recovery() -> Recovery {
    Recovery {
        calls_closed: 3,
        calls_hung_up: 1,
        contacts_settled: 4,
        contacts_returned: 1,
    }
}

/// Each case settled as the module doc says.
fn assert_recovered(world: &World, crashed: &Crashed) {
    let store = world.store.lock();
    let state = |index: usize| {
        store
            .contact_attempts(crashed.ids[index])
            .expect("a contact")
            .expect("exists")
    };
    let record = |id: &str| store.call_record(id).expect("a read").expect("a record");
    let status = |index: usize| {
        let (attempts, status) = state(index);
        (status, attempts)
    };

    // 0: given back, its attempt uncounted.
    assert_eq!(status(0), ("pending".to_owned(), 0));
    // 1: closed by reconciliation as failed; a failed first attempt is retried.
    let one = record(&call_id(OURS, 1));
    assert_eq!(
        (
            one.status.as_str(),
            one.outcome.as_ref().map(|o| o.as_str()),
            one.ended_by.as_ref().map(|by| by.as_str())
        ),
        ("ended", Some("failed"), Some("reconcile"))
    );
    assert_eq!(
        one.detail.as_deref(),
        Some(
            "the supervisor stopped during this call (killed or crashed); a simulated call ends \
             with the process"
        )
    );
    assert_eq!(status(1), ("pending".to_owned(), 1));
    // 2: answered before the crash: closed as answered, the contact reached.
    let two = record(&call_id(OURS, 2));
    assert_eq!(
        (
            two.outcome.as_ref().map(|o| o.as_str()),
            two.ended_by.as_ref().map(|by| by.as_str())
        ),
        (Some("answered"), Some("reconcile"))
    );
    assert_eq!(status(2), ("completed".to_owned(), 1));
    // 3: the ended record's outcome applied: busy on the last attempt.
    assert_eq!(status(3), ("failed".to_owned(), 2));
    assert_eq!(
        record(&call_id(OURS, 4))
            .ended_by
            .as_ref()
            .map(|by| by.as_str()),
        Some("network")
    );
    // 4: hung up and closed.
    let four = record(&crashed.still_up);
    assert_eq!(
        (
            four.outcome.as_ref().map(|o| o.as_str()),
            four.ended_by.as_ref().map(|by| by.as_str())
        ),
        (Some("failed"), Some("reconcile"))
    );
    assert_eq!(
        four.detail.as_deref(),
        Some(
            "the supervisor restarted during this call and hung it up (the call's menu state \
             was lost)"
        )
    );
    assert_eq!(status(4), ("pending".to_owned(), 1));
    // 5: not ours: left open and in progress.
    assert!(record(&crashed.theirs).is_open());
    assert_eq!(status(5), ("in_progress".to_owned(), 1));
    // 6: untouched.
    assert_eq!(status(6), ("pending".to_owned(), 0));
    // Attempts and records agree for everything recovery owned.
    let records = store
        .call_records(&shofar_store::calls::CallFilter {
            campaign: Some(crashed.campaign),
            ..Default::default()
        })
        .expect("records");
    let mut per_contact: BTreeMap<i64, u32> = BTreeMap::new();
    for record in &records {
        *per_contact
            .entry(record.contact_id.expect("a contact"))
            .or_default() += 1;
    }
    for (index, id) in crashed.ids.iter().enumerate() {
        assert_eq!(
            per_contact.get(id).copied().unwrap_or(0),
            state(index).0,
            "contact {index} ({})",
            crashed.numbers[index]
        );
    }
}

/// `recover::recover` on a crashed run's store: each case settled, and the one
/// call of ours the engine still has named for hanging up.
#[test]
fn recover_settles_every_kind_of_unfinished_call() {
    let world = World::new(SimConfig::default());
    let crashed = crash(&world);
    let present: HashSet<String> = [crashed.still_up.clone(), crashed.theirs.clone()].into();
    let (recovery, hang_up) = {
        let mut store = world.store.lock();
        recover(&mut store, OURS, &present, "simulator", Utc::now()).expect("recovery")
    };
    assert_eq!(recovery, expected_recovery());
    assert_eq!(hang_up, std::slice::from_ref(&crashed.still_up));
    assert_recovered(&world, &crashed);

    // Recovery twice is recovery once.
    let mut store = world.store.lock();
    let (again, hang_up) =
        recover(&mut store, OURS, &present, "simulator", Utc::now()).expect("recovery");
    assert_eq!((again, hang_up), (Recovery::default(), Vec::new()));
}

/// A dialer's start recovers a crashed run before anything else: the summary
/// reports what was done, each case is settled, and the call of ours the
/// engine still had is hung up while another process's call stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dialer_start_recovers_what_a_crashed_run_left() {
    // Every simulated call rings for ten minutes: the two "still up" calls stay
    // up for the whole test unless someone hangs them up.
    let world = World::new(SimConfig {
        answer_rate: 0.0,
        busy_rate: 0.0,
        congestion_rate: 0.0,
        failed_rate: 0.0,
        ..SimConfig::default()
    });
    let crashed = crash(&world);
    for (id, index) in [(&crashed.still_up, 4), (&crashed.theirs, 5)] {
        let number = crashed.numbers[index];
        let permit = world
            .dnc
            .predial_check(number)
            .expect("not listed")
            .spend(number, std::time::Instant::now())
            .expect("a fresh permit");
        world
            .sim
            .originate(shofar_telephony::Dial::new(
                permit,
                id.clone(),
                endpoint(number),
                None,
                Duration::from_secs(600),
            ))
            .await
            .expect("the call is up");
    }
    assert_eq!(world.sim.active(), 2);

    let running = world.start(dialer_config(10.0, 10));
    let mut status = running.status.clone();
    // The first snapshot is published after recovery.
    status
        .wait_for(|s| s.at.is_some())
        .await
        .expect("the dialer publishes");
    wait_until("our old call hung up", Duration::from_secs(30), || {
        world.sim.active() == 1
    })
    .await;
    let summary = running.stop().await;
    assert_eq!(summary.recovery, expected_recovery());
    assert_eq!(summary.calls_started, 0, "a paused campaign is not dialed");
    assert_recovered(&world, &crashed);
    let still: Vec<String> = world.sim.channels().await.expect("channels");
    assert_eq!(still, std::slice::from_ref(&crashed.theirs));
    world.engine_stop.cancel();
}

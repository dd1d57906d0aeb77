//! Stopping the dialer mid-campaign: no new calls, the calls up finish (or are
//! ended when the grace runs out), every record is closed, contacts claimed but
//! never dialed are given back, and the summary adds up.

use std::time::Duration;

use shofar_campaign::Status;
use shofar_store::calls::CallRecord;
use shofar_store::contacts::Contact;
use shofar_telephony::SimConfig;

use crate::support::{CampaignSpec, World, alone, dialer_config, mobile_numbers, wait_until};

/// Every contact's attempts are its records, one per attempt, and it is either
/// untouched (pending, never dialed) or settled by its one call.
fn assert_contacts_match_records(contacts: &[Contact], records: &[CallRecord]) {
    for contact in contacts {
        let mine = records
            .iter()
            .filter(|r| r.contact_id == Some(contact.id))
            .count();
        assert_eq!(contact.attempts as usize, mine, "{contact:?}");
        assert_ne!(contact.status, "in_progress", "{contact:?}");
        if contact.attempts == 0 {
            assert_eq!(contact.status, "pending", "{contact:?}");
        }
    }
}

/// Contacts the dialer claimed (their attempt counted) and gave back without a
/// call: pending, no attempt, yet a claim time.
fn given_back(world: &World) -> i64 {
    world
        .store
        .lock()
        .connection()
        .query_row(
            "SELECT count(*) FROM contacts
              WHERE status = 'pending' AND attempts = 0 AND last_attempt_at IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .expect("a count")
}

/// Graceful shutdown with time to spare: cancelled while a campaign of 250
/// dials, `run` returns once the calls up have ended; nothing is left open or
/// in progress; contacts waiting in the dialer's queue were given back with
/// their attempt uncounted; the summary's figures equal the records. A second
/// run then finishes the campaign and no contact was called twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_mid_campaign_closes_everything_and_gives_queued_contacts_back() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 6,
            time_scale: 10.0,
            ..SimConfig::default()
        });
        // Channels to spare: the pace, not the channels, limits the dialer, so it
        // keeps a queue of claimed contacts waiting for the pace.
        let numbers = mobile_numbers(0, 250);
        let campaign = world.campaign(&CampaignSpec::voice("Stopped", numbers, 30.0, 300));
        let running = world.start(dialer_config(40.0, 300));
        wait_until("calls under way", Duration::from_secs(60), || {
            world.sim.stats().dialed.len() >= 60
        })
        .await;
        let summary = running.stop().await;

        let records = world.records(campaign);
        let contacts = world.contacts(campaign);
        assert!(world.open_calls().is_empty(), "{:?}", world.open_calls());
        assert_contacts_match_records(&contacts, &records);
        let untouched = contacts.iter().filter(|c| c.attempts == 0).count();
        assert!(untouched > 0, "the campaign was stopped mid-way");
        let returned = given_back(&world);
        eprintln!(
            "{} calls, {untouched} contacts not called, {returned} of them given back",
            records.len()
        );
        assert!(returned > 0, "the dialer's queue was empty at the stop");

        assert_eq!(summary.calls_started, records.len() as u64);
        assert_eq!(summary.calls_ended, summary.calls_started);
        assert_eq!((summary.calls_cut, summary.calls_left_open), (0, 0));
        assert_eq!(summary.recovery, Default::default());
        assert_eq!(world.sim.stats().dialed.len(), records.len());
        assert_eq!(world.sim.active(), 0, "no call outlives the run");
        assert_eq!(world.status_of(campaign), Status::Active);

        // The next start picks up where this one stopped.
        let running = world.start(dialer_config(40.0, 300));
        wait_until("the campaign completes", Duration::from_secs(120), || {
            world.status_of(campaign) == Status::Completed
        })
        .await;
        let second = running.stop().await;
        assert_eq!(second.recovery, Default::default(), "nothing to recover");
        let records = world.records(campaign);
        assert_eq!(records.len(), 250);
        for contact in world.contacts(campaign) {
            assert_eq!(contact.attempts, 1, "{contact:?}");
        }
        world.engine_stop.cancel();
    })
    .await;
}

/// Graceful shutdown when the grace runs out: calls that would go on for a
/// minute are ended by the supervisor, each record says why, the summary
/// counts them as cut, and nothing is left open.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_ends_the_calls_still_up_when_the_grace_runs_out() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 61,
            time_scale: 1.0,
            answer_rate: 0.9,
            busy_rate: 0.0,
            congestion_rate: 0.0,
            failed_rate: 0.0,
            ring_seconds: [0.2, 0.5],
            talk_seconds: [60.0, 90.0],
            ..SimConfig::default()
        });
        let campaign = world.campaign(&CampaignSpec::voice("Cut", mobile_numbers(0, 50), 20.0, 10));
        let mut config = dialer_config(20.0, 100);
        config.grace = Duration::from_millis(300);
        let running = world.start(config);
        wait_until("ten calls up", Duration::from_secs(60), || {
            world.sim.active() >= 10
        })
        .await;
        let summary = running.stop().await;

        let records = world.records(campaign);
        assert!(world.open_calls().is_empty(), "{:?}", world.open_calls());
        assert_contacts_match_records(&world.contacts(campaign), &records);
        let cut: Vec<&CallRecord> = records
            .iter()
            .filter(|r| {
                r.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("the grace period ran out"))
            })
            .collect();
        assert!(summary.calls_cut >= 10, "{summary:?}");
        assert_eq!(cut.len(), summary.calls_cut, "{records:#?}");
        assert!(
            cut.iter()
                .all(|r| r.ended_by.as_ref().map(|by| by.as_str()) == Some("supervisor"))
        );
        assert_eq!(summary.calls_started, records.len() as u64);
        assert_eq!(summary.calls_ended, summary.calls_started);
        assert_eq!(summary.calls_left_open, 0);
        assert_eq!(world.sim.active(), 0);
        world.engine_stop.cancel();
    })
    .await;
}

/// KNOWN BUG (dialer, `Dialer::run`): a shutdown requested while a turn of the
/// loop is waiting on the database still lets that turn dispatch. The loop
/// checks the token only at its top; a cancellation that arrives during
/// `plan().await` is followed by `dispatch()`, which starts new calls after
/// the stop was asked for ("no new calls" is the promise).
///
/// The test makes the wait certain: it holds the database's write lock, so the
/// first plan's claim waits for it; asks for the stop while the plan waits;
/// then lets go. Nothing was dialed or claimed before the stop, so nothing may
/// be dialed after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_call_starts_after_shutdown_was_asked_for() {
    let world = World::new(SimConfig {
        seed: 62,
        time_scale: 10.0,
        ..SimConfig::default()
    });
    let campaign = world.campaign(&CampaignSpec::voice(
        "Late",
        mobile_numbers(0, 20),
        10.0,
        10,
    ));
    world
        .store
        .lock()
        .connection()
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let running = world.start(dialer_config(10.0, 10));
    let mut status = running.status.clone();
    // The first snapshot comes from the first turn, right before its plan.
    status
        .wait_for(|s| s.at.is_some())
        .await
        .expect("the dialer publishes");
    tokio::time::sleep(Duration::from_millis(300)).await;
    running.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    world
        .store
        .lock()
        .connection()
        .execute_batch("COMMIT")
        .expect("the lock let go");
    let summary = running.stop().await;

    assert!(world.open_calls().is_empty());
    assert_contacts_match_records(&world.contacts(campaign), &world.records(campaign));
    assert_eq!(
        (summary.calls_started, world.sim.stats().dialed.len()),
        (0, 0),
        "calls were started after the shutdown was asked for"
    );
    world.engine_stop.cancel();
}

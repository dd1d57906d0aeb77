//! Numbers listed while a campaign dials them are never dialed after the
//! listing took effect, and the contacts refused at the pre-dial check end as
//! blacklisted (seed properties 10 and 11).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use shofar_campaign::Status;
use shofar_dnc::SharedDnc;
use shofar_phone::E164;
use shofar_store::blacklist::{BlacklistSource, NewEntry};
use shofar_telephony::SimConfig;
use tokio::time::Instant;

use crate::support::{
    CampaignSpec, World, alone, dialer_config, endpoint, mobile_numbers, wait_until,
};

/// How a number was listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Path {
    /// Through `Store::blacklist_add` on the very `SharedDnc` the calls check
    /// (the web UI or an opt-out in the same process).
    SameProcess,
    /// Through a second connection to the database file with its own index, as
    /// another process (`shofar blacklist add`) does; the dialer learns of it
    /// from `blacklist_history` (`dnc_catch_up`, before every dispatch).
    OtherProcess,
}

#[derive(Debug, Clone)]
struct Listed {
    number: E164,
    path: Path,
    /// When `blacklist_add` returned.
    returned: Instant,
    /// When the dialer's index was first seen to hold the number (polled every
    /// millisecond, so never before it really did).
    seen_listed: Option<Instant>,
}

fn entry(number: E164) -> NewEntry {
    NewEntry {
        e164: number,
        reason: "asked not to be called (test)".to_owned(),
        source: BlacklistSource::AdminImport,
        checked_on: None,
        campaign: None,
    }
}

/// Properties 10 and 11: while a campaign of 300 contacts dials, another task
/// lists 40 of its numbers, each a few places ahead of the last number dialed
/// (so some are still waiting for the scheduler, some are claimed and queued
/// for the pace, some are being set up), half through the dialer's own
/// do-not-call index and half through another connection, as another process
/// would.
///
/// What is asserted, per number:
/// - same process: no originate to it after `blacklist_add` returned (the
///   index learns the number before the commit, and every call checks the
///   index right before its originate);
/// - other process: the dialer picks the listing up (its index holds the
///   number) and no originate to it happens after the moment the index was
///   seen to hold it. Between the other process's commit and that moment, one
///   turn of the dialer's loop, a call already past its check may still go out:
///   that is the documented window of "picked up before each dispatch", and the
///   test reports how many did;
/// - a contact refused at the pre-dial check has a record with outcome
///   `blacklisted`, ended by the supervisor, and ends `blacklisted`; one never
///   claimed is left pending, marked blacklisted, without an attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn property_10_11_numbers_listed_during_a_campaign_are_never_dialed_after() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 10,
            time_scale: 20.0,
            ..SimConfig::default()
        });
        let numbers = mobile_numbers(0, 300);
        let campaign = world.campaign(&CampaignSpec::voice("Listed", numbers.clone(), 40.0, 100));
        let position: HashMap<String, usize> = numbers
            .iter()
            .enumerate()
            .map(|(index, n)| (endpoint(*n), index))
            .collect();
        let running = world.start(dialer_config(50.0, 200));

        let listed: Arc<Mutex<Vec<Listed>>> = Arc::default();
        // The watcher notes when the dialer's index first holds each number
        // listed by "another process".
        let watching = {
            let listed = listed.clone();
            let dnc = world.dnc.clone();
            tokio::task::spawn_blocking(move || {
                for _ in 0..20_000 {
                    let mut listed = listed.lock();
                    for item in listed.iter_mut() {
                        if item.seen_listed.is_none() && dnc.contains(item.number) {
                            item.seen_listed = Some(Instant::now());
                        }
                    }
                    let done = listed.len() == 40 && listed.iter().all(|l| l.seen_listed.is_some());
                    drop(listed);
                    if done {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        let listing = {
            let listed = listed.clone();
            let store = world.store.clone();
            let dnc = world.dnc.clone();
            let mut other = world.open_store();
            let (other_index, _) = other.load_dnc().expect("the list loads");
            let other_dnc = SharedDnc::new(other_index);
            let sim = world.sim.clone();
            let numbers = numbers.clone();
            tokio::task::spawn_blocking(move || {
                let mut chosen = std::collections::HashSet::new();
                let mut round = 0usize;
                while chosen.len() < 40 {
                    let dialed = sim.stats().dialed;
                    let frontier = dialed.last().map_or(0, |(_, d)| position[d]);
                    let already: std::collections::HashSet<&String> =
                        dialed.iter().map(|(_, d)| d).collect();
                    // 1 to 25 places ahead of the last number dialed.
                    let offset = 1 + (round * 7) % 25;
                    round += 1;
                    let Some(&number) = numbers.get(frontier + offset) else {
                        break;
                    };
                    if chosen.contains(&number) || already.contains(&endpoint(number)) {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    }
                    chosen.insert(number);
                    let path = if chosen.len() % 2 == 0 {
                        Path::SameProcess
                    } else {
                        Path::OtherProcess
                    };
                    match path {
                        Path::SameProcess => store.lock().blacklist_add(
                            &dnc,
                            [entry(number)],
                            "test",
                            serde_json::json!({}),
                        ),
                        Path::OtherProcess => other.blacklist_add(
                            &other_dnc,
                            [entry(number)],
                            "test",
                            serde_json::json!({}),
                        ),
                    }
                    .expect("the number is listed");
                    let returned = Instant::now();
                    listed.lock().push(Listed {
                        number,
                        path,
                        returned,
                        seen_listed: (path == Path::SameProcess).then_some(returned),
                    });
                    std::thread::sleep(Duration::from_millis(40));
                }
            })
        };
        listing.await.expect("the listing task");
        wait_until("the campaign completes", Duration::from_secs(120), || {
            world.status_of(campaign) == Status::Completed
        })
        .await;
        watching.await.expect("the watcher");
        running.stop().await;

        let listed = listed.lock().clone();
        assert_eq!(listed.len(), 40, "the frontier ran out of numbers to list");
        let dialed = world.sim.stats().dialed;
        let records = world.records(campaign);
        let contacts: HashMap<String, _> = world
            .contacts(campaign)
            .into_iter()
            .map(|c| (c.e164.clone(), c))
            .collect();
        let mut refused = HashMap::from([(Path::SameProcess, 0), (Path::OtherProcess, 0)]);
        let mut in_window = 0;
        for item in &listed {
            let dials: Vec<Instant> = dialed
                .iter()
                .filter(|(_, d)| *d == endpoint(item.number))
                .map(|(at, _)| *at)
                .collect();
            let effective = item.seen_listed.unwrap_or_else(|| {
                panic!(
                    "the dialer never picked up {} (listed by another process)",
                    item.number
                )
            });
            assert!(
                dials.iter().all(|at| *at <= effective),
                "{} ({:?}) was dialed after its listing took effect",
                item.number,
                item.path
            );
            in_window += dials.iter().filter(|at| **at > item.returned).count();

            let contact = &contacts[&item.number.to_string()];
            assert!(contact.blacklisted, "{} is marked", item.number);
            let mine: Vec<_> = records
                .iter()
                .filter(|r| r.contact_id == Some(contact.id))
                .collect();
            match mine.as_slice() {
                [] => {
                    assert_eq!((contact.status.as_str(), contact.attempts), ("pending", 0));
                    assert!(dials.is_empty());
                }
                [record] if record.outcome.as_ref().map(|o| o.as_str()) == Some("blacklisted") => {
                    assert!(dials.is_empty(), "a refused number was dialed: {record:?}");
                    assert_eq!(record.status.as_str(), "ended");
                    assert_eq!(
                        record.ended_by.as_ref().map(|by| by.as_str()),
                        Some("supervisor")
                    );
                    assert_eq!(
                        (contact.status.as_str(), contact.attempts),
                        ("blacklisted", 1)
                    );
                    *refused.get_mut(&item.path).expect("both paths") += 1;
                }
                // Dialed before the listing took effect: an ordinary call.
                [record] => assert_eq!(dials.len(), 1, "{record:?}"),
                more => panic!("one attempt allowed, got {more:?}"),
            }
        }
        eprintln!(
            "refused at the pre-dial check: {} same process, {} other process; dialed between \
             another process's commit and the dialer's pick-up: {in_window}",
            refused[&Path::SameProcess],
            refused[&Path::OtherProcess]
        );
        assert!(
            refused.values().sum::<usize>() > 0,
            "no listed number reached the pre-dial check: the test did not test it"
        );
        assert!(world.open_calls().is_empty());
        world.engine_stop.cancel();
    })
    .await;
}

/// KNOWN BUG (dialer, `Dialer::new`, and `shofar serve`'s wiring): a number
/// another process lists between the moment the do-not-call index is loaded
/// and the moment the dialer is built never reaches the dialer's index.
/// `Store::load_dnc` returns the history position its index reflects, but
/// `DialerParts` has no place for it: `Dialer::new` starts following the
/// history from its head *at construction*, so the changes in between are
/// skipped for good, and the index says "not listed" for a number the store
/// lists (the store's invariant). Campaign contacts are spared only because
/// the listing also marks them; any other call through this `Telephony` would
/// pass the pre-dial check.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_number_listed_while_the_box_starts_reaches_the_dialers_index() {
    // The index is loaded here, as `shofar serve` loads it before it builds the
    // dialer.
    let world = World::new(SimConfig::default());
    let number: E164 = "+972525551234".parse().expect("a number");
    let mut other = world.open_store();
    let (other_index, _) = other.load_dnc().expect("the list loads");
    other
        .blacklist_add(
            &SharedDnc::new(other_index),
            [entry(number)],
            "another process",
            serde_json::json!({}),
        )
        .expect("listed");
    let running = world.start(dialer_config(10.0, 10));
    let mut status = running.status.clone();
    // Two snapshots: at least one whole turn of the loop, with its catch-up.
    for _ in 0..2 {
        status.changed().await.expect("the dialer publishes");
    }
    running.stop().await;
    assert!(
        world.dnc.contains(number),
        "the dialer's index does not list {number}, which the store lists (the index was loaded \
         at history position {}, the listing came after it)",
        world.dnc_cursor
    );
    assert!(world.dnc.predial_check(number).is_err());
    world.engine_stop.cancel();
}

//! Campaigns running at once share the box fairly and stay out of each other's
//! way (seed properties 9 and 27).

use std::time::Duration;

use shofar_campaign::{Kind, Status};
use shofar_store::calls::CallRecord;
use shofar_telephony::SimConfig;

use crate::support::{
    CampaignSpec, MISSING_FLOW, World, alone, dialer_config, max_overlap, mobile_numbers,
    wait_until,
};

/// Properties 9 and 27: two voice campaigns compete for a box with fewer
/// channels than both want, next to an SMS campaign (not the voice dialer's
/// work) and a voice campaign that cannot call (its audio is missing). Each
/// voice campaign never has more calls up than its own `max_channels`, the box
/// never more than its own; both get a fair part of the box while both run and
/// both finish; the SMS campaign and the broken one are never dialed, and their
/// contacts keep no attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn property_9_27_campaigns_share_the_box_fairly_and_stay_isolated() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 9,
            time_scale: 40.0,
            ..SimConfig::default()
        });
        let small = world.campaign(&CampaignSpec::voice(
            "Small",
            mobile_numbers(0, 60),
            15.0,
            6,
        ));
        let large = world.campaign(&CampaignSpec::voice(
            "Large",
            mobile_numbers(1_000, 60),
            15.0,
            12,
        ));
        let texts = world.campaign(&CampaignSpec {
            kind: Kind::Sms,
            ..CampaignSpec::voice("Texts", mobile_numbers(2_000, 20), 15.0, 10)
        });
        let broken = world.campaign(&CampaignSpec {
            flow: Some(MISSING_FLOW.to_owned()),
            ..CampaignSpec::voice("Broken", mobile_numbers(3_000, 20), 15.0, 10)
        });
        let box_channels = 14;
        let running = world.start(dialer_config(40.0, box_channels));
        let mut status = running.status.clone();

        wait_until(
            "both voice campaigns complete",
            Duration::from_secs(120),
            || {
                world.status_of(small) == Status::Completed
                    && world.status_of(large) == Status::Completed
            },
        )
        .await;
        // The broken campaign's problem is reported, not hidden.
        let snapshot = status.borrow_and_update().clone();
        let problem = snapshot
            .campaigns
            .iter()
            .find(|c| c.campaign == broken)
            .and_then(|c| c.problem.clone());
        assert!(
            problem.is_some_and(|p| p.code == "flow_missing" && p.message.contains(MISSING_FLOW)),
            "{snapshot:?}"
        );
        let summary = running.stop().await;
        assert_eq!(summary.calls_left_open, 0);

        let small_records = world.records(small);
        let large_records = world.records(large);
        let intervals = |records: &[CallRecord]| -> Vec<_> {
            records
                .iter()
                .map(|r| (r.started_at, r.ended_at.expect("every call ended")))
                .collect()
        };
        // A call's channel lives inside its record's span (written before the
        // originate, ended after the hangup), and the record inside the dialer's
        // hold on the call: so records up at once bound the calls really up from
        // above, and what the dialer counted against the limits from below.
        let small_peak = max_overlap(&intervals(&small_records));
        let large_peak = max_overlap(&intervals(&large_records));
        let all: Vec<_> = intervals(&small_records)
            .into_iter()
            .chain(intervals(&large_records))
            .collect();
        let box_peak = max_overlap(&all);
        eprintln!(
            "peaks: small {small_peak}/6, large {large_peak}/12, box {box_peak}/{box_channels}"
        );
        assert!(small_peak <= 6, "small campaign had {small_peak} calls up");
        assert!(large_peak <= 12, "large campaign had {large_peak} calls up");
        assert!(
            box_peak <= box_channels as usize,
            "box had {box_peak} calls up"
        );

        // Fair: until the first campaign ran out of contacts, each started a fair
        // part of the calls (weights 6 : 12 of 14 channels: about a third and two
        // thirds). Both then finished.
        let first_done = small_records
            .last()
            .map(|r| r.started_at)
            .min(large_records.last().map(|r| r.started_at))
            .expect("both called");
        let before =
            |records: &[CallRecord]| records.iter().filter(|r| r.started_at < first_done).count();
        let (small_share, large_share) = (before(&small_records), before(&large_records));
        eprintln!("calls while both ran: small {small_share}, large {large_share}");
        let total = (small_share + large_share) as f64;
        assert!(
            small_share as f64 >= 0.2 * total,
            "small starved: {small_share} of {total}"
        );
        assert!(
            large_share as f64 >= 0.4 * total,
            "large starved: {large_share} of {total}"
        );
        for campaign in [small, large] {
            assert!(
                world
                    .contacts(campaign)
                    .iter()
                    .all(|c| c.status != "pending" && c.status != "in_progress")
            );
        }

        // Nothing of the SMS campaign or the broken one was dialed or counted.
        for campaign in [texts, broken] {
            assert!(world.records(campaign).is_empty());
            assert!(
                world
                    .contacts(campaign)
                    .iter()
                    .all(|c| c.status == "pending" && c.attempts == 0),
                "{:?}",
                world.contacts(campaign)
            );
            assert_eq!(world.status_of(campaign), Status::Active);
        }
        let dialed_numbers: std::collections::HashSet<String> = world
            .sim
            .stats()
            .dialed
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        for number in mobile_numbers(2_000, 20)
            .into_iter()
            .chain(mobile_numbers(3_000, 20))
        {
            assert!(!dialed_numbers.contains(&crate::support::endpoint(number)));
        }
        world.engine_stop.cancel();
    })
    .await;
}

/// KNOWN BUG (dialer, `Dialer::plan`), property 9: a campaign that cannot
/// call (its audio is missing) still gets its fair share of the box at every
/// plan. The dialer tells the scheduler what each campaign has in flight, but
/// not that this one can take nothing, so the scheduler hands it contacts, the
/// dialer claims them (two writes each) and gives them back — and the share it
/// took is not offered to the campaigns that can call until the next plan.
///
/// Evidence: a claim stamps the contact's `last_attempt_at`. Once the dialer
/// knows the campaign cannot call (after its first plan at the latest), its
/// contacts must not be claimed again: the stamps must stop changing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_campaign_that_cannot_call_takes_no_share_of_the_box() {
    let world = World::new(SimConfig {
        seed: 91,
        time_scale: 10.0,
        ..SimConfig::default()
    });
    let healthy = world.campaign(&CampaignSpec::voice(
        "Healthy",
        mobile_numbers(0, 40),
        10.0,
        10,
    ));
    let broken = world.campaign(&CampaignSpec {
        flow: Some(MISSING_FLOW.to_owned()),
        ..CampaignSpec::voice("Broken", mobile_numbers(1_000, 40), 10.0, 10)
    });
    let running = world.start(dialer_config(20.0, 10));
    let mut status = running.status.clone();
    wait_until(
        "the healthy campaign completes",
        Duration::from_secs(120),
        || world.status_of(healthy) == Status::Completed,
    )
    .await;
    let stamps = |world: &World| -> Vec<Option<String>> {
        let store = world.store.lock();
        let mut statement = store
            .connection()
            .prepare("SELECT last_attempt_at FROM contacts WHERE campaign_id = ?1 ORDER BY id")
            .expect("a query");
        statement
            .query_map([broken.0], |row| row.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("stamps")
    };
    let before = stamps(&world);
    // Several more plans (one every 250 ms; a snapshot every 250 ms).
    for _ in 0..6 {
        status.changed().await.expect("the dialer publishes");
    }
    let after = stamps(&world);
    running.stop().await;
    assert!(
        world.records(broken).is_empty(),
        "a campaign that cannot call was dialed"
    );
    assert_eq!(
        before, after,
        "contacts of a campaign that cannot call are claimed again at every plan"
    );
    world.engine_stop.cancel();
}

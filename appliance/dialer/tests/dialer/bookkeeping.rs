//! A campaign runs to completion and every figure adds up: call records,
//! contacts' attempts and states, the dialer's status and its metrics
//! (seed properties 35, 41, 45 on the dialer's side; the retry policy's
//! "never beyond max_attempts").

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use shofar_campaign::{NextStep, Retry, RetryPolicy, Status};
use shofar_dialer::recover::record_outcome;
use shofar_telephony::SimConfig;

use crate::support::{CampaignSpec, World, alone, dialer_config, mobile_numbers, wait_until};

/// Properties 35, 41 and 45: a campaign of 300 contacts, two attempts each and
/// every fate the simulated network has (answered, voicemail, busy, no answer,
/// congestion, unreachable, opt-outs), runs until the scheduler completes it.
/// Then nothing is left open, every contact is in a final state its last call
/// explains, no contact has an attempt without a record or beyond the maximum,
/// and the dialer's counters (status snapshot and metrics) equal the records.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn property_45_a_campaign_runs_to_completion_with_exact_bookkeeping() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 45,
            time_scale: 40.0,
            ..SimConfig::default()
        });
        let minute = Retry::After(chrono::Duration::minutes(1));
        let retry = RetryPolicy {
            busy: minute,
            no_answer: minute,
            congestion: minute,
            failed: minute,
            voicemail: Retry::Never,
        };
        let spec = CampaignSpec {
            max_attempts: 2,
            retry,
            ..CampaignSpec::voice("Bookkeeping", mobile_numbers(0, 300), 60.0, 60)
        };
        let campaign = world.campaign(&spec);
        let running = world.start(dialer_config(100.0, 100));
        let mut status = running.status.clone();

        // First pass: every contact dialed once, those to retry waiting a minute.
        // Nothing is in the air then, so the status snapshot must be exact.
        wait_until(
            "every contact's first attempt",
            Duration::from_secs(120),
            || {
                world
                    .contacts(campaign)
                    .iter()
                    .all(|c| c.attempts >= 1 && c.status != "in_progress")
            },
        )
        .await;
        let quiet_since = Utc::now();
        let snapshot = loop {
            status.changed().await.expect("the dialer publishes");
            let snapshot = status.borrow_and_update().clone();
            if snapshot.at.is_some_and(|at| at > quiet_since) {
                break snapshot;
            }
        };
        let records = world.records(campaign);
        let of_campaign = snapshot
            .campaigns
            .iter()
            .find(|c| c.campaign == campaign)
            .expect("a campaign waiting for retries is still running");
        assert_eq!((of_campaign.active, of_campaign.queued), (0, 0));
        assert_eq!(of_campaign.started, records.len() as u64);
        assert_eq!(of_campaign.ended, by_outcome(&records));

        // Second pass: a minute goes by for every contact waiting to retry.
        wait_until("the campaign completes", Duration::from_secs(120), || {
            world.retries_due_now();
            world.status_of(campaign) == Status::Completed
        })
        .await;
        let summary = running.stop().await;

        let records = world.records(campaign);
        assert!(world.open_calls().is_empty(), "no call record is left open");
        let mut retried = 0;
        for contact in world.contacts(campaign) {
            let mine: Vec<_> = records
                .iter()
                .filter(|r| r.contact_id == Some(contact.id))
                .collect();
            assert!(
                ["completed", "failed", "blacklisted"].contains(&contact.status.as_str()),
                "contact {} ended {}",
                contact.e164,
                contact.status
            );
            assert_eq!(
                contact.attempts as usize,
                mine.len(),
                "contact {}: attempts and records",
                contact.e164
            );
            assert!(contact.attempts <= spec.max_attempts);
            let attempts: Vec<u32> = mine.iter().map(|r| r.attempt).collect();
            assert_eq!(attempts, (1..=contact.attempts).collect::<Vec<_>>());
            // Each earlier call was one the policy retries; the last one explains
            // where the contact ended.
            let at = Utc::now();
            for (index, record) in mine.iter().enumerate() {
                let step = retry.after_call(
                    record_outcome(record),
                    record.attempt,
                    spec.max_attempts,
                    at,
                );
                if index + 1 < mine.len() {
                    assert!(matches!(step, NextStep::RetryAt(_)), "{record:?}");
                } else {
                    let NextStep::Done(last) = step else {
                        panic!(
                            "contact {} is final but its last call is retried: {record:?}",
                            contact.e164
                        );
                    };
                    assert_eq!(last.as_str(), contact.status, "{record:?}");
                }
            }
            retried += usize::from(mine.len() > 1);
        }

        let counted = by_outcome(&records);
        assert_eq!(world.ended_counted(campaign), counted);
        assert_eq!(world.started_counted(campaign), records.len() as u64);
        assert_eq!(summary.calls_started, records.len() as u64);
        assert_eq!(summary.calls_ended, summary.calls_started);
        assert_eq!((summary.calls_cut, summary.calls_left_open), (0, 0));
        // Nobody was on the do-not-call list before their call: every record is a
        // real dial.
        assert_eq!(world.sim.stats().dialed.len(), records.len());

        // The fates were mixed, and some contacts were called twice.
        for outcome in ["answered", "voicemail", "busy", "no_answer"] {
            assert!(counted.contains_key(outcome), "no {outcome} in {counted:?}");
        }
        assert!(retried > 0, "no contact was retried");
        world.engine_stop.cancel();
    })
    .await;
}

/// Records by the outcome the retry policy (and so the dialer's counters) sees.
fn by_outcome(records: &[shofar_store::calls::CallRecord]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for record in records {
        *counts
            .entry(record_outcome(record).as_str().to_owned())
            .or_default() += 1;
    }
    counts
}

//! The live figures against the database: the incremental outcome book always
//! says what a recount of the call records says (properties 41, 42), and health
//! alerts appear exactly when a reading crosses its limit (property 43).

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use shofar_dialer::{CampaignStatus, DialerStatus};
use shofar_report::Totals;
use shofar_store::Store;
use shofar_store::calls::{CallEnd, CallKind, CallOutcome, CallProgress, CallQuery, NewCall};
use shofar_store::campaigns::CampaignId;
use shofar_web::live::{AlertLimits, OutcomeBook, alerts, call_row, effective_cps};

/// What happens to the call records between two looks.
#[derive(Debug, Clone)]
enum Step {
    /// A call starts in campaign `0..3` (or a test call without one).
    Start { campaign: Option<usize> },
    /// The `n`-th call (modulo those started) is answered; keys may convert or
    /// opt out while it is up.
    Progress {
        n: usize,
        converted: bool,
        opted_out: bool,
    },
    /// The `n`-th call ends.
    End { n: usize, outcome: usize },
    /// The live figures look at the database.
    Look,
    /// The live figures start over from a fresh snapshot (a restart).
    Restart,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop::option::weighted(0.9, 0..3usize).prop_map(|campaign| Step::Start { campaign }),
        2 => (any::<usize>(), any::<bool>(), any::<bool>())
            .prop_map(|(n, converted, opted_out)| Step::Progress { n, converted, opted_out }),
        4 => (any::<usize>(), 0..CallOutcome::ALL.len()).prop_map(|(n, outcome)| Step::End { n, outcome }),
        3 => Just(Step::Look),
        1 => Just(Step::Restart),
    ]
}

/// Every campaign's totals by a plain recount of its records.
fn recount(store: &Store, campaigns: &[CampaignId]) -> BTreeMap<i64, Totals> {
    let mut totals = BTreeMap::new();
    for campaign in campaigns {
        let query = CallQuery {
            campaigns: vec![*campaign],
            ..CallQuery::default()
        };
        let mut sum = Totals::default();
        store
            .call_records_each(&query, |record| {
                sum.add(&call_row(&record));
                Ok(())
            })
            .unwrap();
        totals.insert(campaign.0, sum);
    }
    totals
}

fn look(store: &mut Store, book: &mut OutcomeBook) {
    let changes = store.call_changes(book.max_id(), &book.watching()).unwrap();
    book.apply(&changes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Properties 41 and 42: after any sequence of calls starting, progressing and
    /// ending — looked at incrementally, or after a restart from a snapshot — each
    /// campaign's live figures equal a recount of its records, and the box-wide
    /// figures are their merge.
    #[test]
    fn property_41_42_live_figures_equal_a_recount_of_the_records(steps in prop::collection::vec(step(), 1..60)) {
        let mut store = Store::open_in_memory().unwrap();
        let campaigns: Vec<CampaignId> = ["חורף", "קיץ", "Pesach 2027"]
            .iter()
            .map(|name| store.create_campaign(name, "test").unwrap())
            .collect();
        let mut book = OutcomeBook::new(store.calls_snapshot().unwrap());
        let start = Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap();
        let mut calls: Vec<String> = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let at = start + Duration::seconds(index as i64);
            match step {
                Step::Start { campaign } => {
                    let call_id = format!("call-{index:04}");
                    store.call_started(&NewCall {
                        call_id: call_id.clone(),
                        campaign: campaign.map(|c| campaigns[c]),
                        contact_id: None,
                        e164: "+972525551234".parse().unwrap(),
                        attempt: 1,
                        kind: if campaign.is_some() { CallKind::Campaign } else { CallKind::Test },
                        dnc_version: Some(1),
                        started_at: at,
                    }).unwrap();
                    calls.push(call_id);
                }
                Step::Progress { n, converted, opted_out } if !calls.is_empty() => {
                    let call_id = &calls[n % calls.len()];
                    store.call_answered(call_id, at).unwrap();
                    store.call_progress(call_id, &CallProgress {
                        dtmf: "1".into(),
                        actions: vec![],
                        converted: *converted,
                        opted_out: *opted_out,
                        amd_result: None,
                    }).unwrap();
                }
                Step::End { n, outcome } if !calls.is_empty() => {
                    let call_id = &calls[n % calls.len()];
                    store.call_finished(call_id, &CallEnd {
                        outcome: Some(CallOutcome::ALL[*outcome]),
                        ended_at: Some(at),
                        ..CallEnd::default()
                    }).unwrap();
                }
                Step::Look => look(&mut store, &mut book),
                Step::Restart => book = OutcomeBook::new(store.calls_snapshot().unwrap()),
                _ => {}
            }
        }
        look(&mut store, &mut book);
        let expected = recount(&store, &campaigns);
        let mut merged = Totals::default();
        for campaign in &campaigns {
            let live = book.totals(campaign.0);
            prop_assert_eq!(&live, &expected[&campaign.0], "campaign {}", campaign.0);
            merged.merge(&live);
        }
        let all: Vec<Totals> = expected.values().cloned().collect();
        prop_assert!(Totals::check_consistency(&all, &merged));
    }
}

fn healthy() -> DialerStatus {
    DialerStatus {
        at: Some(Utc::now()),
        backend: "simulator".into(),
        telephony_up: true,
        ceiling_cps: 20.0,
        pace_cps: 20.0,
        dial_rate_cps: 12.0,
        active: 40,
        queued: 5,
        max_channels: 100,
        cpu_percent: 30.0,
        memory_percent: 40.0,
        load_per_core: 0.5,
        asterisk_channels: 40,
        campaigns: vec![CampaignStatus {
            campaign: CampaignId(1),
            name: "חורף".into(),
            running: true,
            problem: None,
            active: 40,
            queued: 5,
            pace_cps: 5.0,
            ceiling_cps: 5.0,
            answer_rate: Some(0.6),
            started: 100,
            ended: BTreeMap::new(),
        }],
    }
}

fn codes(status: &DialerStatus) -> Vec<String> {
    alerts(status, &AlertLimits::default())
        .into_iter()
        .map(|alert| alert.code)
        .collect()
}

#[test]
fn a_healthy_box_has_no_alert_and_one_that_has_not_reported_none_either() {
    assert!(codes(&healthy()).is_empty());
    assert!(codes(&DialerStatus::default()).is_empty());
}

proptest! {
    /// Property 43: an alert is shown exactly for each reading past its limit, a
    /// telephony engine that is down, a pace below its ceiling, and a campaign that
    /// cannot call — and for nothing else.
    #[test]
    fn property_43_alerts_appear_exactly_when_a_reading_crosses_its_limit(
        cpu in 0.0..100.0f64,
        memory in 0.0..100.0f64,
        load in 0.0..4.0f64,
        channels in 0u32..120,
        up in any::<bool>(),
        box_pace in 0.5..20.0f64,
        campaign_pace in 0.5..5.0f64,
        problem in any::<bool>(),
    ) {
        let limits = AlertLimits::default();
        let mut status = healthy();
        status.cpu_percent = cpu;
        status.memory_percent = memory;
        status.load_per_core = load;
        status.asterisk_channels = channels;
        status.telephony_up = up;
        status.pace_cps = box_pace;
        status.campaigns[0].pace_cps = campaign_pace;
        status.campaigns[0].problem = problem.then(|| {
            shofar_dialer::Problem::from("prompt \"campaign\" has no recording".to_owned())
        });
        let found = codes(&status);
        let expect = |code: &str, when: bool| (code.to_owned(), when);
        for (code, when) in [
            expect("cpu_high", cpu >= limits.cpu_percent),
            expect("memory_high", memory >= limits.memory_percent),
            expect("load_high", load >= limits.load_per_core),
            expect("channels_high", f64::from(channels) >= (100.0 * limits.channels_share).floor()),
            expect("telephony_down", !up),
            expect("pacing_reduced", box_pace < 20.0),
            expect("campaign_pacing_reduced", campaign_pace < 5.0),
            expect("campaign_problem", problem),
        ] {
            prop_assert_eq!(found.contains(&code), when, "{} with {:?}", code, found);
        }
        // Each alert says what it is about, with its figures where it has them.
        for alert in alerts(&status, &limits) {
            prop_assert!(!alert.message.is_empty());
            prop_assert!(["info", "warning", "critical"].contains(&alert.severity.as_str()));
        }
    }
}

/// Property 43 for the trunk: an alert exactly when Asterisk says it cannot carry
/// calls.
#[test]
fn property_43_a_trunk_that_cannot_carry_calls_is_an_alert() {
    use shofar_web::live::{trunk_alert, trunk_state};
    for (state, alerted) in [
        ("online", false),
        ("unknown", false),
        ("offline", true),
        ("missing", true),
    ] {
        let telephony =
            serde_json::json!({"engine": "asterisk", "reachable": true, "trunk_state": state});
        let found = trunk_state(&telephony).as_deref().and_then(trunk_alert);
        assert_eq!(found.is_some(), alerted, "{state}");
        if let Some(alert) = found {
            assert_eq!(
                (alert.code.as_str(), alert.severity.as_str()),
                ("trunk_down", "critical")
            );
            assert!(alert.message.contains(state));
        }
    }
    assert_eq!(
        trunk_state(&serde_json::json!({"engine": "simulator"})),
        None
    );
}

/// Property 43 for the disk: a warning below 10 % or 1 GiB free, critical below
/// 2 % or 200 MiB, nothing above; and the data folder's disk is found.
#[test]
fn property_43_a_filling_disk_is_an_alert() {
    use shofar_web::live::{disk_alert, disk_free};
    const GIB: u64 = 1024 * 1024 * 1024;
    let severity = |available: u64, total: u64| disk_alert(available, total).map(|a| a.severity);
    assert_eq!(severity(50 * GIB, 100 * GIB), None);
    assert_eq!(severity(9 * GIB, 100 * GIB).as_deref(), Some("warning"));
    assert_eq!(severity(GIB / 2, 4 * GIB).as_deref(), Some("warning"));
    assert_eq!(severity(GIB, 100 * GIB).as_deref(), Some("critical"));
    assert_eq!(
        severity(100 * 1024 * 1024, 2 * GIB).as_deref(),
        Some("critical")
    );
    let here = tempfile::tempdir().unwrap();
    let (available, total) = disk_free(here.path()).expect("the temp folder is on a disk");
    assert!(available <= total && total > 0);
}

/// Issue 18: the dashboard's dialing rate is the calls started in the last minute,
/// counted from the records the book sees start (ended or not, test calls left
/// out), whatever order they end in.
#[test]
fn calls_started_in_the_last_minute_are_counted_from_the_records() {
    let mut store = Store::open_in_memory().unwrap();
    let campaign = store.create_campaign("חורף", "test").unwrap();
    let mut book = OutcomeBook::new(store.calls_snapshot().unwrap());
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 19, 0, 0).unwrap();
    // Seconds before `now` each call started; the one without a campaign is a test call.
    for (index, (ago, campaign)) in [
        (90, Some(campaign)),
        (50, Some(campaign)),
        (20, None),
        (10, Some(campaign)),
        (1, Some(campaign)),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .call_started(&NewCall {
                call_id: format!("call-{index}"),
                campaign,
                contact_id: None,
                e164: "+972525551234".parse().unwrap(),
                attempt: 1,
                kind: if campaign.is_some() {
                    CallKind::Campaign
                } else {
                    CallKind::Test
                },
                dnc_version: Some(1),
                started_at: now - Duration::seconds(ago),
            })
            .unwrap();
        if index == 1 {
            // Ended before the next look: still a call that started.
            store
                .call_finished(
                    "call-1",
                    &CallEnd {
                        outcome: Some(CallOutcome::Busy),
                        ended_at: Some(now - Duration::seconds(45)),
                        ..CallEnd::default()
                    },
                )
                .unwrap();
        }
        look(&mut store, &mut book);
    }
    // Looking again (the open records re-read) counts nothing twice.
    look(&mut store, &mut book);
    assert_eq!(book.started_since(now - Duration::seconds(60)), 3);
    assert_eq!(book.started_since(now - Duration::seconds(15)), 2);
    assert_eq!(book.started_since(now - Duration::seconds(100)), 4);
}

/// Issue 18: a campaign's pace as shown is its own within the box's: a campaign
/// set to 5 calls/s on a box throttled to 0.5 starts 0.5; a paused one none.
#[test]
fn a_campaigns_effective_pace_is_within_the_boxs() {
    assert_eq!(effective_cps(true, 5.0, 0.5), 0.5);
    assert_eq!(effective_cps(true, 2.0, 10.0), 2.0);
    assert_eq!(effective_cps(false, 5.0, 10.0), 0.0);
}

//! The adaptive pace end to end: the box's health and a campaign's answer rate
//! move the pace the dialer really dials at, and every change is in the pacing
//! log with its time, values and reason (seed properties 35–39).

use std::time::Duration;

use chrono::Utc;
use shofar_dialer::health::LocalHealth;
use shofar_store::pacing::PaceLogEntry;
use shofar_telephony::SimConfig;

use crate::support::{CampaignSpec, World, alone, dialer_config, mobile_numbers, wait_until};

fn reading(cpu_percent: f64) -> LocalHealth {
    LocalHealth {
        cpu_percent,
        memory_percent: 40.0,
        load_per_core: 0.3,
    }
}

/// The pacing log, oldest first.
fn pacing_log(world: &World) -> Vec<PaceLogEntry> {
    let mut log = world
        .store
        .lock()
        .pacing_log(None, 0)
        .expect("the pacing log");
    log.reverse();
    log
}

/// Properties 35, 36, 37 and 39: a box dialing at its 20 cps ceiling reads CPU
/// at 95 % (above `cpu_high_percent`, 85): its pace halves to 10 cps, the
/// change is logged as CPU's doing with both values, and the dialer keeps to
/// 10 calls a second. While CPU stays between the thresholds nothing moves;
/// once it is healthy again the pace climbs back one step (10 % of the
/// ceiling) per recovery interval, each step logged as "healthy again", until
/// it is at the ceiling. The status reports the readings the pace followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn property_36_37_39_the_box_pace_follows_its_health_and_every_change_is_logged() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 37,
            time_scale: 20.0,
            ..SimConfig::default()
        });
        world.campaign(&CampaignSpec::voice(
            "Paced",
            mobile_numbers(0, 3_000),
            50.0,
            400,
        ));
        let mut config = dialer_config(20.0, 400);
        config.thresholds.recover_interval = Duration::from_millis(400);
        config.thresholds.hold_down = Duration::from_secs(2);
        config.health_interval = Duration::from_millis(100);
        world.health.set(reading(20.0));
        let started = Utc::now();
        let running = world.start(config);
        let mut status = running.status.clone();
        wait_until("dialing at full pace", Duration::from_secs(60), || {
            world.sim.stats().dialed.len() >= 20
        })
        .await;
        assert!(pacing_log(&world).is_empty(), "{:?}", pacing_log(&world));

        // Property 36: high CPU lowers the pace.
        world.health.set(reading(95.0));
        wait_until("the pace to drop", Duration::from_secs(60), || {
            !pacing_log(&world).is_empty()
        })
        .await;
        // In the band between "ok" (70) and "high" (85): the pace holds.
        world.health.set(reading(78.0));
        let drop = pacing_log(&world)[0].clone();
        assert_eq!(drop.campaign, None, "the box's own pace");
        assert_eq!((drop.old_cps, drop.new_cps), (20.0, 10.0));
        assert_eq!(drop.reason, "CPU at 95.0 % is above 85 %");
        assert_eq!(
            drop.reason_detail,
            Some(serde_json::json!({"kind": "cpu_high", "percent": 95.0, "threshold": 85.0})),
            "the reason as data too, for the web UI to word"
        );
        let snapshot = loop {
            status.changed().await.expect("the dialer publishes");
            let snapshot = status.borrow_and_update().clone();
            if snapshot.pace_cps == 10.0 {
                break snapshot;
            }
        };
        assert_eq!(snapshot.ceiling_cps, 20.0);
        assert!(snapshot.cpu_percent == 95.0 || snapshot.cpu_percent == 78.0);
        assert_eq!(
            (snapshot.memory_percent, snapshot.load_per_core),
            (40.0, 0.3)
        );

        // The dialer keeps to the lowered pace: its own count of calls started in
        // the last second (the status's dial rate), once a whole second has gone
        // by since the change, never exceeds 10. (The network's view is
        // `cps::properties_36_39_the_configured_cps_is_never_exceeded`; it is
        // not measured here, see `cps::known_bug_…_when_call_setup_stalls`.)
        let lowered_at = drop.at;
        let before = world.sim.stats().dialed.len();
        let mut rates = Vec::new();
        while world.sim.stats().dialed.len() < before + 30 {
            tokio::time::timeout(Duration::from_secs(60), status.changed())
                .await
                .expect("the dialer publishes")
                .expect("the dialer runs");
            let snapshot = status.borrow_and_update().clone();
            if snapshot
                .at
                .is_some_and(|at| at > lowered_at + chrono::Duration::seconds(1))
            {
                rates.push(snapshot.dial_rate_cps);
            }
        }
        eprintln!("dial rate at the lowered pace: {rates:?}");
        assert!(!rates.is_empty());
        assert!(rates.iter().all(|rate| *rate <= 10.0), "{rates:?}");
        assert!(rates.iter().any(|rate| *rate > 0.0), "{rates:?}");
        assert_eq!(pacing_log(&world).len(), 1, "the pace holds in the band");

        // Property 37: healthy again, the pace climbs back step by step.
        world.health.set(reading(20.0));
        wait_until(
            "the pace back at the ceiling",
            Duration::from_secs(60),
            || pacing_log(&world).last().is_some_and(|e| e.new_cps == 20.0),
        )
        .await;
        let finished = Utc::now();
        let summary = running.stop().await;
        assert_eq!(summary.calls_left_open, 0);

        // Property 39: every change, when, from what to what, and why.
        let log = pacing_log(&world);
        let changes: Vec<(f64, f64, &str)> = log
            .iter()
            .map(|e| (e.old_cps, e.new_cps, e.reason.as_str()))
            .collect();
        let healthy = "the box is healthy again";
        assert_eq!(
            changes,
            [
                (20.0, 10.0, "CPU at 95.0 % is above 85 %"),
                (10.0, 12.0, healthy),
                (12.0, 14.0, healthy),
                (14.0, 16.0, healthy),
                (16.0, 18.0, healthy),
                (18.0, 20.0, healthy),
            ]
        );
        assert!(log.iter().all(|e| e.campaign.is_none()));
        assert!(log.windows(2).all(|pair| pair[0].at <= pair[1].at));
        assert!(log.iter().all(|e| started <= e.at && e.at <= finished));
        assert_eq!(world.metrics.pace_changes.get(), log.len() as u64);
        world.engine_stop.cancel();
    })
    .await;
}

/// Properties 38 and 39: on a network where almost nobody answers (2 %), a
/// campaign's own pace is lowered once its recent calls show an answer rate
/// below `answer_rate_low` (15 %), with that rate in the logged reason; the
/// box's pace, which follows only the box's health, is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn property_38_a_low_answer_rate_lowers_the_campaigns_pace() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 38,
            time_scale: 20.0,
            answer_rate: 0.02,
            busy_rate: 0.5,
            ..SimConfig::default()
        });
        let campaign = world.campaign(&CampaignSpec::voice(
            "Unanswered",
            mobile_numbers(0, 500),
            10.0,
            100,
        ));
        let mut config = dialer_config(20.0, 200);
        config.answer_min_calls = 10;
        config.answer_window = 20;
        let running = world.start(config);
        let mut status = running.status.clone();
        wait_until(
            "the campaign's pace to drop",
            Duration::from_secs(60),
            || !pacing_log(&world).is_empty(),
        )
        .await;
        let snapshot = loop {
            status.changed().await.expect("the dialer publishes");
            let snapshot = status.borrow_and_update().clone();
            if snapshot.campaigns.iter().any(|c| c.pace_cps == 5.0) {
                break snapshot;
            }
        };
        running.stop().await;

        let log = pacing_log(&world);
        let change = &log[0];
        assert_eq!(change.campaign, Some(campaign));
        assert_eq!((change.old_cps, change.new_cps), (10.0, 5.0));
        let rate: f64 = change
            .reason
            .strip_prefix("answer rate of ")
            .and_then(|rest| rest.strip_suffix(" % is below 15.0 %"))
            .and_then(|rate| rate.parse().ok())
            .unwrap_or_else(|| panic!("not an answer-rate reason: {:?}", change.reason));
        assert!(rate < 15.0, "{rate}");
        assert!(
            log.iter().all(|e| e.campaign == Some(campaign)),
            "the box's pace did not move: {log:?}"
        );
        assert_eq!(snapshot.pace_cps, 20.0);
        let mine = snapshot
            .campaigns
            .iter()
            .find(|c| c.campaign == campaign)
            .expect("the campaign runs");
        assert_eq!((mine.pace_cps, mine.ceiling_cps), (5.0, 10.0));
        world.engine_stop.cancel();
    })
    .await;
}

//! The configured calls-per-second ceiling is never exceeded, measured where it
//! matters: at the network, from the simulator's log of every originate (the
//! guarantee `shofar-pacing` proves for its limiter, seed properties 36–39's
//! ground rule).

use std::collections::HashMap;
use std::time::Duration;

use shofar_campaign::Status;
use shofar_telephony::SimConfig;
use tokio::time::Instant;

use crate::support::{
    CampaignSpec, World, alone, dialer_config, endpoint, max_in_window, mobile_numbers, wait_until,
};

/// Properties 36–39 (their ground rule): with a box ceiling of 20 cps and two
/// campaigns of 8 and 15 cps — together more than the box allows — no
/// one-second window, wherever it starts, holds more originates than
/// `floor(20)` box-wide, `floor(8)` of the first campaign or `floor(15)` of the
/// second. Channels are plentiful and calls short, so only the rates limit.
///
/// The ceilings are counted at the dial itself (the dialer's `gate`), with a
/// margin for the moment between the count and the originate, so a loaded
/// machine does not let a call or two too many through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn properties_36_39_the_configured_cps_is_never_exceeded() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 36,
            time_scale: 20.0,
            ..SimConfig::default()
        });
        let slow_numbers = mobile_numbers(0, 48);
        let fast_numbers = mobile_numbers(1_000, 90);
        let slow = world.campaign(&CampaignSpec::voice("Slow", slow_numbers.clone(), 8.0, 200));
        let fast = world.campaign(&CampaignSpec::voice(
            "Fast",
            fast_numbers.clone(),
            15.0,
            200,
        ));
        let running = world.start(dialer_config(20.0, 400));
        wait_until("both campaigns complete", Duration::from_secs(120), || {
            world.status_of(slow) == Status::Completed && world.status_of(fast) == Status::Completed
        })
        .await;
        running.stop().await;

        let campaign_of: HashMap<String, &str> = slow_numbers
            .iter()
            .map(|n| (endpoint(*n), "slow"))
            .chain(fast_numbers.iter().map(|n| (endpoint(*n), "fast")))
            .collect();
        let dialed = world.sim.stats().dialed;
        assert_eq!(dialed.len(), slow_numbers.len() + fast_numbers.len());
        let of = |which: &str| -> Vec<Instant> {
            dialed
                .iter()
                .filter(|(_, dial)| campaign_of[dial] == which)
                .map(|(at, _)| *at)
                .collect()
        };
        let all: Vec<Instant> = dialed.iter().map(|(at, _)| *at).collect();
        let second = Duration::from_secs(1);
        let (box_peak, slow_peak, fast_peak) = (
            max_in_window(&all, second),
            max_in_window(&of("slow"), second),
            max_in_window(&of("fast"), second),
        );
        eprintln!(
            "most originates in one second: box {box_peak}/20, slow {slow_peak}/8, \
             fast {fast_peak}/15"
        );
        assert!(
            box_peak <= 20,
            "the box dialed {box_peak} calls in one second"
        );
        assert!(
            slow_peak <= 8,
            "campaign Slow dialed {slow_peak} calls in one second"
        );
        assert!(
            fast_peak <= 15,
            "campaign Fast dialed {fast_peak} calls in one second"
        );
        world.engine_stop.cancel();
    })
    .await;
}

/// Regression (issue 15's predecessor, the ceiling counted at dispatch): a
/// stall between dispatch and dial — the call's record waiting for the
/// database (a WAL checkpoint, a slow disk, another process's long write
/// transaction such as an import) — held dispatched calls back, and when it
/// cleared they all reached the network at once. The count is now taken at the
/// dial, so a stall only delays calls.
///
/// The test stalls the calls' writes for 1.5 s while a campaign dials at 10 cps
/// — another connection holds the database's write lock, as an import's
/// transaction or another process does — then checks the originates as the
/// network saw them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cps_ceiling_holds_at_the_network_when_call_setup_stalls() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 39,
            time_scale: 20.0,
            ..SimConfig::default()
        });
        world.campaign(&CampaignSpec::voice(
            "Stalled",
            mobile_numbers(0, 300),
            10.0,
            300,
        ));
        let running = world.start(dialer_config(10.0, 400));
        wait_until("dialing", Duration::from_secs(60), || {
            world.sim.stats().dialed.len() >= 10
        })
        .await;
        world.hold_write_lock(Duration::from_millis(1_500)).await;
        let stalled_at = world.sim.stats().dialed.len();
        wait_until("dialing again", Duration::from_secs(60), || {
            world.sim.stats().dialed.len() >= stalled_at + 20
        })
        .await;
        running.stop().await;
        let dialed: Vec<Instant> = world.sim.stats().dialed.iter().map(|(at, _)| *at).collect();
        let peak = max_in_window(&dialed, Duration::from_secs(1));
        assert!(
            peak <= 10,
            "the network saw {peak} originates in one second at a ceiling of 10 cps"
        );
        world.engine_stop.cancel();
    })
    .await;
}

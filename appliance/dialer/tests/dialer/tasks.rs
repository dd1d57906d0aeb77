//! Every call task is the dialer's (issue 15): one that panics has its record
//! closed, its channel freed and its contact settled, and the campaign goes on;
//! a database another process holds for longer than SQLite's busy timeout
//! delays the dialer, it does not stop it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use shofar_campaign::Status;
use shofar_phone::E164;
use shofar_telephony::{
    AgentDial, Backend, CallSignal, Dial, Link, SimConfig, Simulator, TelephonyError,
};
use tokio::sync::mpsc;

use crate::support::{
    CampaignSpec, Running, World, alone, dialer_config, mobile_numbers, wait_until,
};

/// The simulated network, except that dialing one of `poisoned` panics — a bug
/// in an engine adapter, as far as the dialer can tell.
struct Faulty {
    sim: Simulator,
    poisoned: HashSet<E164>,
}

#[async_trait]
impl Backend for Faulty {
    fn kind(&self) -> &'static str {
        self.sim.kind()
    }
    fn app(&self) -> &str {
        self.sim.app()
    }
    fn prefix(&self) -> &str {
        self.sim.prefix()
    }
    fn link(&self) -> Link {
        self.sim.link()
    }
    async fn wait_up(&self, limit: Duration) -> Result<u64, TelephonyError> {
        self.sim.wait_up(limit).await
    }
    fn register(&self, channel_id: &str, sender: mpsc::UnboundedSender<CallSignal>) {
        self.sim.register(channel_id, sender);
    }
    fn unregister(&self, channel_id: &str) {
        self.sim.unregister(channel_id);
    }
    fn routed(&self) -> usize {
        self.sim.routed()
    }
    async fn originate(&self, dial: Dial) -> Result<(), TelephonyError> {
        assert!(
            !self.poisoned.contains(&dial.number()),
            "the engine adapter failed on {}",
            dial.number()
        );
        self.sim.originate(dial).await
    }
    async fn originate_agent(&self, dial: AgentDial) -> Result<(), TelephonyError> {
        self.sim.originate_agent(dial).await
    }
    async fn hangup(&self, channel_id: &str) -> Result<(), TelephonyError> {
        self.sim.hangup(channel_id).await
    }
    async fn play(
        &self,
        channel_id: &str,
        playback_id: &str,
        media: &str,
    ) -> Result<(), TelephonyError> {
        self.sim.play(channel_id, playback_id, media).await
    }
    async fn stop_playback(&self, playback_id: &str) -> Result<(), TelephonyError> {
        self.sim.stop_playback(playback_id).await
    }
    async fn detect_machine(&self, channel_id: &str) -> Result<(), TelephonyError> {
        self.sim.detect_machine(channel_id).await
    }
    async fn ring(&self, channel_id: &str) -> Result<(), TelephonyError> {
        self.sim.ring(channel_id).await
    }
    async fn create_bridge(&self, bridge_id: &str) -> Result<(), TelephonyError> {
        self.sim.create_bridge(bridge_id).await
    }
    async fn add_to_bridge(&self, bridge_id: &str, channel_id: &str) -> Result<(), TelephonyError> {
        self.sim.add_to_bridge(bridge_id, channel_id).await
    }
    async fn destroy_bridge(&self, bridge_id: &str) -> Result<(), TelephonyError> {
        self.sim.destroy_bridge(bridge_id).await
    }
    async fn channels(&self) -> Result<Vec<String>, TelephonyError> {
        self.sim.channels().await
    }
}

/// Issue 15: a call task that panics closes its record and frees its slot. The
/// campaign has one channel: had the panicked call kept it, nothing after it
/// would be dialed and the campaign would never complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_task_that_panics_is_closed_and_frees_its_channel() {
    let world = World::new(SimConfig {
        seed: 15,
        time_scale: 50.0,
        ..SimConfig::default()
    });
    let numbers = mobile_numbers(0, 12);
    let poisoned = numbers[3];
    let campaign = world.campaign(&CampaignSpec::voice("Faulty", numbers, 20.0, 1));
    let backend = Arc::new(Faulty {
        sim: world.sim.clone(),
        poisoned: [poisoned].into(),
    });
    let running = Running::of(world.dialer_with(dialer_config(20.0, 4), backend));
    wait_until("the campaign completes", Duration::from_secs(120), || {
        world.status_of(campaign) == Status::Completed
    })
    .await;
    let summary = running.stop().await;

    let records = world.records(campaign);
    assert_eq!(records.len(), 12, "every contact was called once");
    let failed = records
        .iter()
        .find(|record| record.number == poisoned)
        .expect("the poisoned number's record");
    assert_eq!(failed.status.as_str(), "ended");
    assert_eq!(failed.outcome.as_ref().map(|o| o.as_str()), Some("failed"));
    assert_eq!(
        failed.ended_by.as_ref().map(|b| b.as_str()),
        Some("supervisor")
    );
    assert!(
        failed
            .detail
            .as_deref()
            .is_some_and(|detail| detail.contains("task for this call failed")),
        "{failed:?}"
    );
    assert!(world.open_calls().is_empty());
    for contact in world.contacts(campaign) {
        assert_eq!(contact.attempts, 1, "{contact:?}");
    }
    assert_eq!(summary.calls_started, summary.calls_ended);
    world.engine_stop.cancel();
}

/// Issue 15: `shofar serve` exited when an import held the database's write
/// lock longer than the busy timeout. Another connection holds it for 12 s
/// (the timeout is 10 s) while a campaign dials: the dialer waits, keeps its
/// calls' records, and finishes the campaign once the lock is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_held_longer_than_the_busy_timeout_delays_the_dialer_only() {
    alone(async {
        let world = World::new(SimConfig {
            seed: 16,
            time_scale: 50.0,
            ..SimConfig::default()
        });
        let campaign = world.campaign(&CampaignSpec::voice(
            "Patient",
            mobile_numbers(0, 60),
            10.0,
            20,
        ));
        let running = world.start(dialer_config(20.0, 40));
        wait_until("dialing", Duration::from_secs(60), || {
            world.sim.stats().dialed.len() >= 5
        })
        .await;
        world.hold_write_lock(Duration::from_secs(12)).await;
        assert!(!running.handle.is_finished(), "the dialer stopped");
        wait_until("the campaign completes", Duration::from_secs(120), || {
            world.status_of(campaign) == Status::Completed
        })
        .await;
        let summary = running.stop().await;
        assert_eq!(world.records(campaign).len(), 60);
        assert!(world.open_calls().is_empty());
        assert_eq!(summary.calls_started, summary.calls_ended);
        world.engine_stop.cancel();
    })
    .await;
}

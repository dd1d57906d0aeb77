//! The dial gate: where the calls-per-second ceilings are counted — once, at
//! the dial itself.
//!
//! Two steps:
//!
//! 1. **A slot on the schedule**, before the call's record is written (so a call
//!    still waiting when the dialer stops leaves nothing behind). Under one short
//!    lock the call reserves the
//!    earliest instant both the box's and its campaign's schedule allow (each a
//!    [`CpsLimiter`] fed future instants: starts spaced `1/cps` apart, at most
//!    `floor(cps)` in any second), and sleeps until then. Waiters never poll and
//!    never wake together: each owns its own instant, so the dialer reaches its
//!    ceiling instead of losing a timer tick of spacing per call.
//! 2. **The ceiling, at the real instant**, right before the last pre-dial check
//!    and the originate. A sleeper may wake late (a busy runtime, a slow record
//!    write), and late calls could bunch with punctual ones. So there the call is
//!    counted against the ceilings as *dialed* (a ceiling-only
//!    limiter per gate: the guarantee of [`shofar_pacing::rate`], read at the
//!    actual instant) and waits again in the rare case that would break it.
//!
//! Guarantee: no one-second window of dials holds more than the box's or a
//! campaign's ceiling in force; the dispatcher counts nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use shofar_pacing::{Cps, CpsLimiter, Monotonic};
use shofar_store::campaigns::CampaignId;
use shofar_telephony::DialGate;
use tokio::time::Instant;

/// How long after the gate counts a dial it may reach the engine (the pre-dial
/// check, the originate's own work, the thread preempted in between on a busy
/// box): the count's window is a second and this, so the dials as the network
/// sees them keep the ceiling too. It costs 1 % of the ceiling's throughput.
const DIAL_MARGIN: Duration = Duration::from_millis(10);

/// One ceiling: the schedule slots are reserved on, and the dials as they happen.
#[derive(Debug)]
struct Ceiling {
    schedule: CpsLimiter,
    dialed: CpsLimiter,
}

impl Ceiling {
    fn new(rate: Cps) -> Ceiling {
        Ceiling {
            schedule: CpsLimiter::new(rate),
            dialed: CpsLimiter::ceiling_only(rate).with_margin(DIAL_MARGIN),
        }
    }

    fn set_rate(&mut self, rate: Cps) {
        self.schedule.set_rate(rate);
        self.dialed.set_rate(rate);
    }
}

#[derive(Debug)]
struct State {
    box_ceiling: Ceiling,
    campaigns: HashMap<CampaignId, Ceiling>,
    /// The dials of the last second: the rate actually dialed.
    recent: VecDeque<Monotonic>,
}

/// The box's gate, shared by every call of the dialer.
#[derive(Debug)]
pub struct Gates {
    origin: Instant,
    /// Held only to reserve or count, never across an await.
    state: Mutex<State>,
}

impl Gates {
    pub fn new(origin: Instant, box_rate: Cps) -> Gates {
        Gates {
            origin,
            state: Mutex::new(State {
                box_ceiling: Ceiling::new(box_rate),
                campaigns: HashMap::new(),
                recent: VecDeque::new(),
            }),
        }
    }

    fn now(&self) -> Monotonic {
        Monotonic::from_duration(self.origin.elapsed())
    }

    fn instant_of(&self, at: Monotonic) -> Instant {
        self.origin + at.since_origin()
    }

    pub fn set_box_rate(&self, rate: Cps) {
        self.state.lock().box_ceiling.set_rate(rate);
    }

    /// Adds a campaign's ceiling, or changes it.
    pub fn set_campaign_rate(&self, campaign: CampaignId, rate: Cps) {
        self.state
            .lock()
            .campaigns
            .entry(campaign)
            .and_modify(|ceiling| ceiling.set_rate(rate))
            .or_insert_with(|| Ceiling::new(rate));
    }

    /// Calls dialed in the last second.
    pub fn dial_rate(&self) -> f64 {
        let now = self.now();
        let mut state = self.state.lock();
        forget_before_second(&mut state.recent, now);
        state.recent.len() as f64
    }

    pub fn remove_campaign(&self, campaign: CampaignId) {
        self.state.lock().campaigns.remove(&campaign);
    }

    /// One call's turn at the gate.
    pub fn for_call(self: &Arc<Gates>, campaign: CampaignId) -> Arc<dyn DialGate> {
        Arc::new(CallGate {
            gates: self.clone(),
            campaign,
        })
    }

    /// Step 1: the call's slot, reserved on both schedules. `None`: the
    /// campaign left the dialer (its calls are not held back by it).
    fn reserve(&self, campaign: CampaignId) -> Option<Monotonic> {
        let now = self.now();
        let mut state = self.state.lock();
        let State {
            box_ceiling,
            campaigns,
            ..
        } = &mut *state;
        let campaign = campaigns.get_mut(&campaign)?;
        let slot = box_ceiling
            .schedule
            .next_available(now)
            .max(campaign.schedule.next_available(now));
        let reserved =
            box_ceiling.schedule.try_acquire(slot) && campaign.schedule.try_acquire(slot);
        debug_assert!(reserved, "a slot both schedules offered is taken");
        Some(slot)
    }

    /// Step 2: counts the dial now, or says when it may be.
    fn count(&self, campaign: CampaignId) -> Result<(), Monotonic> {
        let now = self.now();
        let mut state = self.state.lock();
        let State {
            box_ceiling,
            campaigns,
            recent,
        } = &mut *state;
        let Some(campaign) = campaigns.get_mut(&campaign) else {
            return Ok(());
        };
        let at = box_ceiling
            .dialed
            .next_available(now)
            .max(campaign.dialed.next_available(now));
        if at > now {
            return Err(at);
        }
        box_ceiling.dialed.try_acquire(now);
        campaign.dialed.try_acquire(now);
        recent.push_back(now);
        forget_before_second(recent, now);
        Ok(())
    }
}

fn forget_before_second(recent: &mut VecDeque<Monotonic>, now: Monotonic) {
    while recent
        .front()
        .is_some_and(|at| at.since_origin() + Duration::from_secs(1) <= now.since_origin())
    {
        recent.pop_front();
    }
}

struct CallGate {
    gates: Arc<Gates>,
    campaign: CampaignId,
}

#[async_trait::async_trait]
impl DialGate for CallGate {
    async fn wait_slot(&self) {
        if let Some(slot) = self.gates.reserve(self.campaign) {
            tokio::time::sleep_until(self.gates.instant_of(slot)).await;
        }
    }

    async fn count(&self) {
        while let Err(at) = self.gates.count(self.campaign) {
            tokio::time::sleep_until(self.gates.instant_of(at)).await;
        }
    }
}

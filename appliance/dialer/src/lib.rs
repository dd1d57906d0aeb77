//! The dialer: runs every active campaign until it is done.
//!
//! Each turn of its loop it
//!
//! - picks up do-not-call changes other processes made (before every dispatch);
//! - asks the scheduler, a few times a second, for the contacts each campaign may
//!   call now — no more than the channels and the pace can take before the next
//!   ask — and claims them (their attempt is counted before anything is dialed);
//! - starts calls as fast as the box's pace and each campaign's pace allow, and
//!   no more calls than the box's and the campaign's channel limits;
//! - settles each ended call's contact through the campaign's retry policy;
//! - once a second, reads the box's health and each campaign's answer rate into
//!   the pace controllers, writes every change of pace to the pacing log, and
//!   publishes its figures (metrics and a status snapshot).
//!
//! Invariants, as what it must never do:
//!
//! - Never start more calls in any one-second window than the box's configured
//!   ceiling, or a campaign's (the [`CpsLimiter`]s are asked before every start).
//! - Never dial without the session's pre-dial check: it hands contacts to
//!   [`Telephony::call`], which checks the do-not-call list right before the
//!   originate; a contact blacklisted while queued is refused there.
//! - Never give a contact an attempt without a claim first, nor count an attempt
//!   that had no call (see [`recover`]).
//! - Never block its loop on the database for long: the scheduler's queries and
//!   the settling of ended calls run on the blocking pool.

pub mod health;
pub mod metrics;
pub mod recover;
mod status;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;
use shofar_campaign::Capacity;
use shofar_campaign::retry::Outcome;
use shofar_ivr::Flow;
use shofar_pacing::{
    Cps, CpsLimiter, Health, InvalidThresholds, Monotonic, PaceChange, PaceController, Thresholds,
};
use shofar_phone::E164;
use shofar_scheduler::{Round, Scheduler};
use shofar_store::calls::{CallKind, CallRecord};
use shofar_store::campaigns::{Campaign, CampaignId};
use shofar_store::pacing::PaceLogEntry;
use shofar_store::{Store, StoreError};
use shofar_telephony::{
    Amd, CallRequest, CallStop, DialGate, SharedStore, Telephony, TelephonyError, TransferRoute,
};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::health::HealthSource;
use crate::metrics::{Metrics, OutcomeLabels};
use crate::recover::{Recovery, Settled, record_outcome, settle};
pub use crate::status::{CampaignStatus, DialerStatus, Problem};

#[derive(Debug, thiserror::Error)]
pub enum DialerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Scheduler(#[from] shofar_scheduler::SchedulerError),
    #[error(transparent)]
    Telephony(#[from] TelephonyError),
    #[error("invalid pacing thresholds: {0}")]
    Thresholds(#[from] InvalidThresholds),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What every call of a campaign shares: its flow, prompts and settings.
#[derive(Debug, Clone)]
pub struct CallTemplate {
    pub flow: Arc<Flow>,
    /// Prompt name → media URI.
    pub prompts: Arc<HashMap<String, String>>,
    pub amd: Amd,
    pub caller_id: Option<String>,
    pub transfer: Option<TransferRoute>,
    pub ring_timeout: Duration,
    pub max_call: Duration,
}

/// Builds a campaign's [`CallTemplate`], or says why it cannot call (a missing
/// prompt, an invalid flow file).
pub type PrepareCampaign = dyn Fn(&Campaign) -> Result<CallTemplate, Problem> + Send + Sync;

/// Turns a number into the engine's dial string.
pub type EndpointFor = dyn Fn(E164) -> String + Send + Sync;

/// The box-wide limits and the loop's rhythm.
#[derive(Debug, Clone)]
pub struct DialerConfig {
    /// The box's calls-per-second ceiling: never exceeded.
    pub ceiling: Cps,
    /// Calls up at once, box-wide.
    pub max_channels: u32,
    /// When the box's health lowers and raises its pace. The answer-rate
    /// thresholds apply to each campaign.
    pub thresholds: Thresholds,
    /// How often the scheduler is asked for contacts.
    pub plan_interval: Duration,
    /// How often health is read and figures published.
    pub health_interval: Duration,
    /// Each campaign's answer rate is over its last this many ended calls…
    pub answer_window: usize,
    /// …and unknown (healthy) until this many ended.
    pub answer_min_calls: usize,
    /// On shutdown, how long active calls may go on before they are ended.
    pub grace: Duration,
    /// Starts every call id; the same across restarts, so a restart can tell its
    /// own calls from another process's.
    pub call_prefix: String,
}

impl DialerConfig {
    pub fn new(ceiling: Cps, max_channels: u32) -> DialerConfig {
        DialerConfig {
            ceiling,
            max_channels,
            thresholds: Thresholds::for_channels(max_channels.max(5)),
            plan_interval: Duration::from_millis(250),
            health_interval: Duration::from_secs(1),
            answer_window: 100,
            answer_min_calls: 20,
            grace: Duration::from_secs(30),
            call_prefix: "shofar-d-".to_owned(),
        }
    }
}

/// The calls-per-second ceilings counted at the dial itself: each call waits
/// here right before its originate. Dispatch paces calls too (so they are spread
/// out), but work between dispatch and dial (the call record's write) can stall;
/// this is what keeps any one-second window of *dials* within the ceilings.
struct Gates {
    origin: Instant,
    state: Mutex<GateState>,
}

struct GateState {
    box_limiter: CpsLimiter,
    campaigns: HashMap<CampaignId, CpsLimiter>,
}

/// One call's turn at the [`Gates`].
struct CallGate {
    gates: Arc<Gates>,
    campaign: CampaignId,
}

#[async_trait::async_trait]
impl DialGate for CallGate {
    async fn wait_turn(&self) {
        loop {
            let at = {
                let mut state = self.gates.state.lock();
                let now = Monotonic::from_duration(self.gates.origin.elapsed());
                let GateState {
                    box_limiter,
                    campaigns,
                } = &mut *state;
                let Some(campaign) = campaigns.get_mut(&self.campaign) else {
                    return;
                };
                let at = box_limiter
                    .next_available(now)
                    .max(campaign.next_available(now));
                if at <= now {
                    box_limiter.try_acquire(now);
                    campaign.try_acquire(now);
                    return;
                }
                at
            };
            tokio::time::sleep_until(self.gates.origin + at.since_origin()).await;
        }
    }
}

/// A contact claimed for a call, waiting for the pace.
#[derive(Debug, Clone)]
struct Queued {
    contact_id: i64,
    number: E164,
    attempt: u32,
}

/// A call that ended, reported by its task.
struct Ended {
    campaign: CampaignId,
    contact_id: i64,
    attempt: u32,
    call_id: String,
    result: Result<CallRecord, TelephonyError>,
}

struct CampaignRun {
    campaign: Campaign,
    /// `Err`: why this campaign cannot call now (reported, retried each plan).
    template: Result<Arc<CallTemplate>, Problem>,
    /// When `template` was made: it is made again every [`REPREPARE`], so a flow
    /// or prompt changed outside the campaign's settings (the web UI's flow
    /// builder, an audio upload) is used from the next calls on.
    prepared_at: Instant,
    limiter: CpsLimiter,
    controller: PaceController,
    queue: VecDeque<Queued>,
    active: HashMap<String, CallStop>,
    /// The last ended calls: answered or not.
    answers: VecDeque<bool>,
    /// Still among the running campaigns.
    running: bool,
    started: u64,
    ended: BTreeMap<String, u64>,
}

impl CampaignRun {
    fn answer_rate(&self, min_calls: usize) -> Option<f64> {
        (self.answers.len() >= min_calls.max(1))
            .then(|| self.answers.iter().filter(|a| **a).count() as f64 / self.answers.len() as f64)
    }

    fn max_channels(&self) -> u32 {
        self.campaign.settings.pacing.max_channels
    }
}

/// How often a running campaign's call template is made again (see
/// `CampaignRun::prepared_at`).
const REPREPARE: Duration = Duration::from_secs(15);

/// Everything the dialer is given.
pub struct DialerParts {
    pub config: DialerConfig,
    pub telephony: Telephony,
    /// The dialer's own connection (the calls write through `telephony.store`).
    pub store: SharedStore,
    pub scheduler: Scheduler,
    pub prepare: Arc<PrepareCampaign>,
    pub endpoint_for: Arc<EndpointFor>,
    pub metrics: Arc<Metrics>,
    pub health: Box<dyn HealthSource>,
    /// Where the do-not-call index stands in the store's history (what
    /// `Store::load_dnc` returned with the index): changes after it are applied
    /// before the first dial.
    pub dnc_cursor: i64,
}

/// How a run ended.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunSummary {
    pub recovery: Recovery,
    pub calls_started: u64,
    pub calls_ended: u64,
    /// Calls ended by the supervisor because the grace ran out.
    pub calls_cut: usize,
    /// Calls still open when the dialer gave up waiting (closed by the next start).
    pub calls_left_open: usize,
}

pub struct Dialer {
    config: DialerConfig,
    telephony: Telephony,
    store: SharedStore,
    scheduler: Arc<Mutex<Scheduler>>,
    prepare: Arc<PrepareCampaign>,
    endpoint_for: Arc<EndpointFor>,
    metrics: Arc<Metrics>,
    health: Box<dyn HealthSource>,
    campaigns: BTreeMap<CampaignId, CampaignRun>,
    box_limiter: CpsLimiter,
    box_controller: PaceController,
    origin: Instant,
    /// When recent calls were dialed: the actual rate.
    dialed: VecDeque<Instant>,
    ended_tx: mpsc::UnboundedSender<Ended>,
    ended_rx: mpsc::UnboundedReceiver<Ended>,
    run_id: String,
    sequence: u64,
    dnc_cursor: i64,
    status_tx: watch::Sender<DialerStatus>,
    gates: Arc<Gates>,
    summary: RunSummary,
    /// Rotates which campaign dispatches first.
    turn: usize,
    last_health: Health,
}

impl Dialer {
    pub fn new(parts: DialerParts) -> Result<Dialer, DialerError> {
        let DialerParts {
            config,
            telephony,
            store,
            scheduler,
            prepare,
            endpoint_for,
            metrics,
            health,
            dnc_cursor,
        } = parts;
        let box_controller = PaceController::new(config.ceiling, config.thresholds.clone())?;
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        // Fixed width (13 digits of milliseconds, then an 8-digit sequence): Asterisk
        // matches channel ids by prefix.
        let run_id = format!("{:013}", Utc::now().timestamp_millis().max(0));
        metrics.box_ceiling_cps.set(config.ceiling.get());
        metrics.box_pace_cps.set(config.ceiling.get());
        metrics.max_channels.set(i64::from(config.max_channels));
        let (status_tx, _) = watch::channel(DialerStatus::default());
        let origin = Instant::now();
        let gates = Arc::new(Gates {
            origin,
            state: Mutex::new(GateState {
                box_limiter: CpsLimiter::new(config.ceiling),
                campaigns: HashMap::new(),
            }),
        });
        Ok(Dialer {
            box_limiter: CpsLimiter::new(config.ceiling),
            box_controller,
            config,
            telephony,
            store,
            scheduler: Arc::new(Mutex::new(scheduler)),
            prepare,
            endpoint_for,
            metrics,
            health,
            campaigns: BTreeMap::new(),
            origin,
            gates,
            dialed: VecDeque::new(),
            ended_tx,
            ended_rx,
            run_id,
            sequence: 0,
            dnc_cursor,
            status_tx,
            summary: RunSummary::default(),
            turn: 0,
            last_health: Health {
                cpu_percent: 0.0,
                memory_percent: 0.0,
                load_per_core: 0.0,
                asterisk_channels: 0,
                answer_rate: None,
            },
        })
    }

    /// The latest figures, updated every health interval.
    pub fn status(&self) -> watch::Receiver<DialerStatus> {
        self.status_tx.subscribe()
    }

    fn now(&self) -> Monotonic {
        Monotonic::from_duration(self.origin.elapsed())
    }

    fn instant_of(&self, at: Monotonic) -> Instant {
        self.origin + at.since_origin()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store, &mut Scheduler) -> Result<T, DialerError> + Send + 'static,
    ) -> Result<T, DialerError> {
        let store = self.store.clone();
        let scheduler = self.scheduler.clone();
        tokio::task::spawn_blocking(move || work(&mut store.lock(), &mut scheduler.lock()))
            .await
            .map_err(|e| DialerError::Internal(format!("a database task failed: {e}")))?
    }

    /// Runs until `shutdown`, then ends gracefully: no new calls, active calls
    /// finish (or are ended after the grace), every record closed.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<RunSummary, DialerError> {
        let backend = self.telephony.backend.clone();
        // Recovery needs to ask the engine which calls it still has.
        loop {
            match backend.wait_up(Duration::from_secs(5)).await {
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "waiting for the telephony engine before resuming campaigns");
                    self.metrics.telephony_up.set(0);
                    if shutdown.is_cancelled() {
                        return Ok(self.summary);
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(self.summary),
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        self.recover().await?;

        let mut next_plan = Instant::now();
        let mut next_health = Instant::now();
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            self.collect_ended().await?;
            if Instant::now() >= next_health {
                self.observe_health().await?;
                next_health = Instant::now() + self.config.health_interval;
            }
            if Instant::now() >= next_plan {
                self.plan().await?;
                next_plan = Instant::now() + self.config.plan_interval;
                // The live figures follow each plan (several a second), not only
                // the health readings (once a second): the dashboard's freshness.
                self.publish(self.telephony.backend.is_up());
            }
            self.catch_up_dnc()?;
            // A stop asked for while planning: no call starts after it.
            if shutdown.is_cancelled() {
                break;
            }
            let wake = self
                .dispatch()
                .unwrap_or(next_plan)
                .min(next_plan)
                .min(next_health);
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep_until(wake) => {}
                ended = self.ended_rx.recv() => {
                    if let Some(ended) = ended {
                        self.on_ended(vec![ended]).await?;
                    }
                }
            }
        }
        self.shut_down().await
    }

    async fn recover(&mut self) -> Result<(), DialerError> {
        let backend = self.telephony.backend.clone();
        let present: HashSet<String> = backend.channels().await?.into_iter().collect();
        let prefix = self.config.call_prefix.clone();
        let engine = backend.kind();
        let (recovery, hang_up) = self
            .blocking(move |store, scheduler| {
                recover::recover(store, scheduler, &prefix, &present, engine, Utc::now())
            })
            .await?;
        for call_id in hang_up {
            let _ = backend.hangup(&call_id).await;
        }
        if recovery != Recovery::default() {
            tracing::warn!(
                calls_closed = recovery.calls_closed,
                calls_hung_up = recovery.calls_hung_up,
                contacts_settled = recovery.contacts_settled,
                contacts_returned = recovery.contacts_returned,
                "recovered what the previous run left unfinished"
            );
        }
        self.summary.recovery = recovery;
        Ok(())
    }

    fn catch_up_dnc(&mut self) -> Result<(), DialerError> {
        let changes = self
            .store
            .lock()
            .dnc_catch_up(&self.telephony.dnc, &mut self.dnc_cursor)?;
        if changes > 0 {
            tracing::info!(changes, "do-not-call changes picked up");
        }
        Ok(())
    }

    fn active_total(&self) -> u32 {
        self.campaigns.values().map(|c| c.active.len() as u32).sum()
    }

    fn queued_total(&self) -> u32 {
        self.campaigns.values().map(|c| c.queue.len() as u32).sum()
    }

    /// Asks the scheduler for contacts and claims them.
    async fn plan(&mut self) -> Result<(), DialerError> {
        // Enough for the time until the next plan and a little more: a queue
        // short enough that a paused campaign gives back little.
        let horizon = (self.config.plan_interval.as_secs_f64() * 2.0).max(1.0);
        let box_room = self
            .config
            .max_channels
            .saturating_sub(self.active_total() + self.queued_total());
        let box_pace = ((self.box_limiter.rate().get() * horizon).ceil() as u32)
            .saturating_sub(self.queued_total());
        let capacity = box_room.min(box_pace);
        // The scheduler gives a campaign at most `max_channels - in_flight`; a
        // campaign's own pace is folded in by counting as in flight what it could
        // not dial before the next plan anyway.
        let in_flight: BTreeMap<CampaignId, u32> = self
            .campaigns
            .iter()
            .map(|(id, run)| {
                let max = run.max_channels();
                let busy = run.active.len() as u32 + run.queue.len() as u32;
                let by_pace = ((run.limiter.rate().get() * horizon).ceil() as u32)
                    .saturating_sub(run.queue.len() as u32);
                // A campaign that cannot call (stopped, or missing a prompt) is
                // given nothing: its share goes to the others.
                let allowed = if !run.running || run.template.is_err() {
                    0
                } else {
                    max.saturating_sub(busy).min(by_pace)
                };
                (*id, max - allowed)
            })
            .collect();
        let round = Round {
            now: Utc::now(),
            capacity: Capacity {
                voice: capacity,
                sms: 0,
            },
            in_flight,
        };
        let (plan, running, claimed) = self
            .blocking(move |store, scheduler| {
                let plan = scheduler.plan(store, &round)?;
                let running = store.running_campaigns()?;
                let ids: Vec<i64> = plan
                    .dispatch
                    .iter()
                    .flat_map(|d| d.contacts.iter().map(|c| c.contact_id))
                    .collect();
                let claimed: HashMap<i64, u32> =
                    store.claim_contacts(&ids, round.now)?.into_iter().collect();
                Ok((plan, running, claimed))
            })
            .await?;
        for change in &plan.changes {
            tracing::info!(campaign = change.campaign.0, from = %change.from, to = %change.to, "campaign moved");
        }
        self.sync_campaigns(running, &plan.terminate).await?;
        for dispatch in plan.dispatch {
            let Some(run) = self.campaigns.get_mut(&dispatch.campaign) else {
                continue;
            };
            for candidate in dispatch.contacts {
                if let Some(&attempt) = claimed.get(&candidate.contact_id) {
                    run.queue.push_back(Queued {
                        contact_id: candidate.contact_id,
                        number: candidate.e164,
                        attempt,
                    });
                }
            }
        }
        // Contacts claimed for a campaign that cannot call are given back.
        let mut give_back = Vec::new();
        for run in self.campaigns.values_mut() {
            if run.template.is_err() || !run.running {
                give_back.extend(run.queue.drain(..).map(|q| q.contact_id));
            }
        }
        self.give_back(give_back).await?;
        for (id, run) in &self.campaigns {
            self.metrics
                .queued
                .get_or_create(&Metrics::campaign(id.0))
                .set(run.queue.len() as i64);
        }
        Ok(())
    }

    async fn give_back(&self, contact_ids: Vec<i64>) -> Result<(), DialerError> {
        if contact_ids.is_empty() {
            return Ok(());
        }
        let count = contact_ids.len();
        let returned = self
            .blocking(move |store, _| Ok(store.unclaim_contacts(&contact_ids)?))
            .await?;
        tracing::debug!(count, returned, "queued contacts given back");
        Ok(())
    }

    /// Brings the campaigns map in line with the store: new campaigns join,
    /// changed settings apply, stopped ones give their queue back (and, when
    /// cancelled or past their end, their calls are ended).
    async fn sync_campaigns(
        &mut self,
        running: Vec<Campaign>,
        terminate: &[CampaignId],
    ) -> Result<(), DialerError> {
        let running_ids: HashSet<CampaignId> = running.iter().map(|c| c.id).collect();
        let now = self.now();
        for campaign in running {
            let id = campaign.id;
            let run = match self.campaigns.get_mut(&id) {
                Some(run) => run,
                None => {
                    let ceiling = Cps::clamped(campaign.settings.pacing.cps);
                    let mut thresholds =
                        Thresholds::for_channels(campaign.settings.pacing.max_channels.max(5));
                    thresholds.answer_rate_low = self.config.thresholds.answer_rate_low;
                    thresholds.answer_rate_ok = self.config.thresholds.answer_rate_ok;
                    let controller = PaceController::new(ceiling, thresholds)?;
                    self.gates
                        .state
                        .lock()
                        .campaigns
                        .insert(id, CpsLimiter::new(ceiling));
                    tracing::info!(campaign = id.0, name = %campaign.name, cps = ceiling.get(), "campaign running");
                    self.campaigns.insert(
                        id,
                        CampaignRun {
                            campaign: campaign.clone(),
                            template: Err(Problem::new("not_prepared", "not prepared yet")),
                            prepared_at: Instant::now(),
                            limiter: CpsLimiter::new(ceiling),
                            controller,
                            queue: VecDeque::new(),
                            active: HashMap::new(),
                            answers: VecDeque::new(),
                            running: true,
                            started: 0,
                            ended: BTreeMap::new(),
                        },
                    );
                    self.campaigns.get_mut(&id).expect("just inserted")
                }
            };
            let settings_changed = run.campaign.settings != campaign.settings;
            let ceiling = Cps::clamped(campaign.settings.pacing.cps);
            run.running = true;
            if settings_changed || run.template.is_err() || run.prepared_at.elapsed() >= REPREPARE {
                run.prepared_at = Instant::now();
                let prepared = (self.prepare)(&campaign).map(Arc::new);
                match (&prepared, &run.template) {
                    (Err(problem), Err(old)) if problem != old => {
                        tracing::error!(campaign = id.0, code = problem.code, %problem, "campaign cannot call");
                    }
                    (Err(problem), Ok(_)) => {
                        tracing::error!(campaign = id.0, code = problem.code, %problem, "campaign can no longer call");
                    }
                    (Ok(_), Err(_)) => {
                        tracing::info!(campaign = id.0, "campaign ready to call");
                    }
                    _ => {}
                }
                run.template = prepared;
            }
            if ceiling != run.controller.ceiling()
                && let Some(change) = run.controller.set_ceiling(ceiling, now)
            {
                run.limiter.set_rate(change.new_cps);
                if let Some(gate) = self.gates.state.lock().campaigns.get_mut(&id) {
                    gate.set_rate(change.new_cps);
                }
                let entry = pace_entry(Some(id), &change, Utc::now());
                self.log_pace(entry).await?;
            }
            if let Some(run) = self.campaigns.get_mut(&id) {
                run.campaign = campaign;
            }
        }
        // Campaigns no longer running (paused, cancelled, completed).
        let mut stopped = Vec::new();
        for (id, run) in &mut self.campaigns {
            if running_ids.contains(id) {
                continue;
            }
            if run.running {
                tracing::info!(campaign = id.0, "campaign stopped dialing");
                run.running = false;
            }
            stopped.push(*id);
        }
        for id in terminate.iter().copied().chain(stopped.iter().copied()) {
            let cancelled_or_ended = terminate.contains(&id)
                || self
                    .store
                    .lock()
                    .campaign(id)
                    .is_ok_and(|c| c.status == shofar_campaign::Status::Cancelled);
            if let Some(run) = self.campaigns.get(&id)
                && cancelled_or_ended
            {
                let reason = if terminate.contains(&id) {
                    "ended by the supervisor: the campaign's end time passed"
                } else {
                    "ended by the supervisor: the campaign was cancelled"
                };
                for stop in run.active.values() {
                    stop.stop(reason);
                }
            }
        }
        // A stopped campaign leaves the map once its calls are over.
        self.campaigns
            .retain(|_, run| run.running || !run.active.is_empty() || !run.queue.is_empty());
        Ok(())
    }

    async fn log_pace(&self, entry: PaceLogEntry) -> Result<(), DialerError> {
        tracing::info!(
            campaign = entry.campaign.map(|c| c.0),
            old_cps = entry.old_cps,
            new_cps = entry.new_cps,
            reason = %entry.reason,
            "pace changed"
        );
        self.metrics.pace_changes.inc();
        self.blocking(move |store, _| Ok(store.log_pace_change(&entry)?))
            .await
    }

    /// Starts every call the limits allow now; returns when the next one could
    /// start (`None`: nothing is waiting that the limits hold back).
    fn dispatch(&mut self) -> Option<Instant> {
        let ids: Vec<CampaignId> = self.campaigns.keys().copied().collect();
        if ids.is_empty() {
            return None;
        }
        let mut next: Option<Monotonic> = None;
        loop {
            let now = self.now();
            if self.active_total() >= self.config.max_channels {
                return None;
            }
            let box_at = self.box_limiter.next_available(now);
            let mut started = false;
            for offset in 0..ids.len() {
                let id = ids[(self.turn + offset) % ids.len()];
                let Some(run) = self.campaigns.get_mut(&id) else {
                    continue;
                };
                if !run.running
                    || run.queue.is_empty()
                    || run.template.is_err()
                    || run.active.len() as u32 >= run.max_channels()
                {
                    continue;
                }
                let at = run.limiter.next_available(now).max(box_at);
                if at > now {
                    next = Some(next.map_or(at, |n| n.min(at)));
                    continue;
                }
                // Both limiters allow a start now: take both.
                let box_ok = self.box_limiter.try_acquire(now);
                let campaign_ok = run.limiter.try_acquire(now);
                debug_assert!(box_ok && campaign_ok);
                if !(box_ok && campaign_ok) {
                    continue;
                }
                let queued = run.queue.pop_front().expect("checked not empty");
                self.turn = (self.turn + offset + 1) % ids.len();
                self.start_call(id, queued);
                started = true;
                break;
            }
            if !started {
                return next.map(|at| self.instant_of(at));
            }
        }
    }

    fn start_call(&mut self, campaign_id: CampaignId, queued: Queued) {
        self.sequence += 1;
        let call_id = format!(
            "{}{}-{:08}",
            self.config.call_prefix, self.run_id, self.sequence
        );
        let endpoint = (self.endpoint_for)(queued.number);
        let run = self
            .campaigns
            .get_mut(&campaign_id)
            .expect("dispatch starts calls of known campaigns");
        let Ok(template) = run.template.clone() else {
            return;
        };
        let stop = CallStop::new();
        run.active.insert(call_id.clone(), stop.clone());
        run.started += 1;
        let request = CallRequest {
            call_id: call_id.clone(),
            number: queued.number,
            campaign: Some(campaign_id),
            contact_id: Some(queued.contact_id),
            attempt: queued.attempt,
            kind: CallKind::Campaign,
            caller_id: template.caller_id.clone(),
            flow: template.flow.clone(),
            prompts: template.prompts.clone(),
            amd: template.amd.clone(),
            endpoint,
            ring_timeout: template.ring_timeout,
            max_call: template.max_call,
            transfer: template.transfer.clone(),
            stop,
            dial_gate: Some(Arc::new(CallGate {
                gates: self.gates.clone(),
                campaign: campaign_id,
            })),
        };
        let label = Metrics::campaign(campaign_id.0);
        self.metrics.calls_started.get_or_create(&label).inc();
        self.metrics
            .calls_active
            .get_or_create(&label)
            .set(run.active.len() as i64);
        self.summary.calls_started += 1;
        self.dialed.push_back(Instant::now());
        let telephony = self.telephony.clone();
        let ended = self.ended_tx.clone();
        tokio::spawn(async move {
            let result = telephony.call(request).await;
            let _ = ended.send(Ended {
                campaign: campaign_id,
                contact_id: queued.contact_id,
                attempt: queued.attempt,
                call_id,
                result,
            });
        });
    }

    async fn collect_ended(&mut self) -> Result<(), DialerError> {
        let mut batch = Vec::new();
        while let Ok(ended) = self.ended_rx.try_recv() {
            batch.push(ended);
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.on_ended(batch).await
    }

    /// Settles ended calls' contacts, all in one transaction.
    async fn on_ended(&mut self, mut batch: Vec<Ended>) -> Result<(), DialerError> {
        while let Ok(ended) = self.ended_rx.try_recv() {
            batch.push(ended);
        }
        let mut work = Vec::with_capacity(batch.len());
        for ended in &batch {
            let Some(run) = self.campaigns.get_mut(&ended.campaign) else {
                continue;
            };
            run.active.remove(&ended.call_id);
            let outcome = match &ended.result {
                Ok(record) => Some(record_outcome(record)),
                Err(TelephonyError::Blacklisted { .. }) => Some(Outcome::Blacklisted),
                Err(error) => {
                    tracing::warn!(call_id = %ended.call_id, %error, "call failed");
                    None
                }
            };
            if let Some(outcome) = outcome {
                if outcome != Outcome::Blacklisted {
                    run.answers.push_back(matches!(
                        outcome,
                        Outcome::Answered | Outcome::Voicemail | Outcome::OptedOut
                    ));
                    while run.answers.len() > self.config.answer_window {
                        run.answers.pop_front();
                    }
                }
                let name = outcome_name(outcome);
                *run.ended.entry(name.to_owned()).or_default() += 1;
                self.metrics
                    .calls_ended
                    .get_or_create(&OutcomeLabels {
                        campaign: ended.campaign.0.to_string(),
                        outcome: name.to_owned(),
                    })
                    .inc();
            }
            self.metrics
                .calls_active
                .get_or_create(&Metrics::campaign(ended.campaign.0))
                .set(run.active.len() as i64);
            work.push((
                run.campaign.clone(),
                ended.contact_id,
                ended.attempt,
                outcome,
            ));
        }
        self.summary.calls_ended += batch.len() as u64;
        self.blocking(move |store, scheduler| {
            let now = Utc::now();
            store.transaction(|store| {
                for (campaign, contact_id, attempt, outcome) in &work {
                    let result: Result<Settled, DialerError> = match outcome {
                        Some(outcome) => scheduler
                            .call_ended(store, campaign, *contact_id, *outcome, now)
                            .map(|_| Settled::Applied(*outcome))
                            .map_err(DialerError::from),
                        // The call's end is unknown here: settle from its record.
                        None => settle(store, scheduler, campaign, *contact_id, *attempt, now),
                    };
                    match result {
                        Ok(_) => {}
                        // A database failure rolls the whole batch back.
                        Err(DialerError::Store(error))
                        | Err(DialerError::Scheduler(shofar_scheduler::SchedulerError::Store(
                            error,
                        ))) => return Err(error),
                        Err(error) => {
                            tracing::warn!(contact = contact_id, %error, "cannot settle a contact");
                        }
                    }
                }
                Ok(())
            })?;
            Ok(())
        })
        .await
    }

    async fn observe_health(&mut self) -> Result<(), DialerError> {
        let local = self.health.read();
        let backend = self.telephony.backend.clone();
        let up = backend.is_up();
        let channels = if up {
            backend
                .channels()
                .await
                .map(|c| c.len() as u32)
                .unwrap_or(0)
        } else {
            0
        };
        self.metrics.telephony_up.set(i64::from(up));
        self.metrics.cpu_percent.set(local.cpu_percent);
        self.metrics.memory_percent.set(local.memory_percent);
        self.metrics.load_per_core.set(local.load_per_core);
        self.metrics.asterisk_channels.set(i64::from(channels));
        let health = Health {
            cpu_percent: local.cpu_percent,
            memory_percent: local.memory_percent,
            load_per_core: local.load_per_core,
            asterisk_channels: channels,
            answer_rate: None,
        };
        self.last_health = health;
        let now = self.now();
        let mut entries = Vec::new();
        if let Some(change) = self.box_controller.observe(now, &health) {
            self.box_limiter.set_rate(change.new_cps);
            self.gates.state.lock().box_limiter.set_rate(change.new_cps);
            entries.push(pace_entry(None, &change, Utc::now()));
        }
        self.metrics
            .box_pace_cps
            .set(self.box_controller.pace().get());
        for (id, run) in &mut self.campaigns {
            // A campaign's own controller reads only its answer rate: the box's
            // health already paces the box.
            let campaign_health = Health {
                cpu_percent: 0.0,
                memory_percent: 0.0,
                load_per_core: 0.0,
                asterisk_channels: 0,
                answer_rate: run.answer_rate(self.config.answer_min_calls),
            };
            if let Some(change) = run.controller.observe(now, &campaign_health) {
                run.limiter.set_rate(change.new_cps);
                if let Some(gate) = self.gates.state.lock().campaigns.get_mut(id) {
                    gate.set_rate(change.new_cps);
                }
                entries.push(pace_entry(Some(*id), &change, Utc::now()));
                if matches!(change.reason, shofar_pacing::Reason::AnswerRateLow { .. }) {
                    // Fewer calls, better answered: start over on the new pace.
                    run.answers.clear();
                }
            }
            self.metrics
                .pace_cps
                .get_or_create(&Metrics::campaign(id.0))
                .set(run.controller.pace().get());
        }
        for entry in entries {
            self.log_pace(entry).await?;
        }
        let second_ago = Instant::now() - Duration::from_secs(1);
        while self.dialed.front().is_some_and(|at| *at < second_ago) {
            self.dialed.pop_front();
        }
        self.metrics.dial_rate_cps.set(self.dialed.len() as f64);
        self.publish(up);
        Ok(())
    }

    /// Calls dialed in the last second (`dialed` is pruned only once a second).
    fn dial_rate(&self) -> f64 {
        let second_ago = Instant::now() - Duration::from_secs(1);
        let older = self.dialed.partition_point(|at| *at < second_ago);
        (self.dialed.len() - older) as f64
    }

    fn publish(&self, up: bool) {
        let status = DialerStatus {
            at: Some(Utc::now()),
            backend: self.telephony.backend.kind().to_owned(),
            telephony_up: up,
            ceiling_cps: self.box_controller.ceiling().get(),
            pace_cps: self.box_controller.pace().get(),
            dial_rate_cps: self.dial_rate(),
            active: self.active_total(),
            queued: self.queued_total(),
            max_channels: self.config.max_channels,
            cpu_percent: self.last_health.cpu_percent,
            memory_percent: self.last_health.memory_percent,
            load_per_core: self.last_health.load_per_core,
            asterisk_channels: self.last_health.asterisk_channels,
            campaigns: self
                .campaigns
                .iter()
                .map(|(id, run)| CampaignStatus {
                    campaign: *id,
                    name: run.campaign.name.clone(),
                    running: run.running,
                    problem: run.template.as_ref().err().cloned(),
                    active: run.active.len() as u32,
                    queued: run.queue.len() as u32,
                    pace_cps: run.controller.pace().get(),
                    ceiling_cps: run.controller.ceiling().get(),
                    answer_rate: run.answer_rate(self.config.answer_min_calls),
                    started: run.started,
                    ended: run.ended.clone(),
                })
                .collect(),
        };
        self.status_tx.send_replace(status);
    }

    async fn shut_down(mut self) -> Result<RunSummary, DialerError> {
        let queued: Vec<i64> = self
            .campaigns
            .values_mut()
            .flat_map(|run| run.queue.drain(..).map(|q| q.contact_id))
            .collect();
        self.give_back(queued).await?;
        let active = self.active_total();
        tracing::info!(
            active,
            grace_seconds = self.config.grace.as_secs(),
            "shutting down: no new calls; waiting for the calls up to end"
        );
        let grace_end = Instant::now() + self.config.grace;
        self.drain_until(grace_end).await?;
        let cut = self.active_total() as usize;
        if cut > 0 {
            tracing::warn!(calls = cut, "grace over: ending the calls still up");
            for run in self.campaigns.values() {
                for stop in run.active.values() {
                    stop.stop("ended by the supervisor: it was shutting down and the grace period ran out");
                }
            }
            self.drain_until(Instant::now() + Duration::from_secs(15))
                .await?;
        }
        self.summary.calls_cut = cut;
        self.summary.calls_left_open = self.active_total() as usize;
        self.publish(self.telephony.backend.is_up());
        Ok(self.summary)
    }

    async fn drain_until(&mut self, deadline: Instant) -> Result<(), DialerError> {
        while self.active_total() > 0 {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return Ok(()),
                ended = self.ended_rx.recv() => {
                    if let Some(ended) = ended {
                        self.on_ended(vec![ended]).await?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Answered => "answered",
        Outcome::Voicemail => "voicemail",
        Outcome::Busy => "busy",
        Outcome::NoAnswer => "no_answer",
        Outcome::Congestion => "congestion",
        Outcome::Failed => "failed",
        Outcome::Blacklisted => "blacklisted",
        Outcome::OptedOut => "opted_out",
    }
}

/// A pace change as the pacing log keeps it (property 39: when, from what to
/// what, and why).
pub fn pace_entry(
    campaign: Option<CampaignId>,
    change: &PaceChange,
    at: chrono::DateTime<Utc>,
) -> PaceLogEntry {
    PaceLogEntry {
        at,
        campaign,
        old_cps: change.old_cps.get(),
        new_cps: change.new_cps.get(),
        old_channels: None,
        new_channels: None,
        reason: change.reason.to_string(),
        reason_detail: serde_json::to_value(change.reason).ok(),
    }
}

//! The dialer: runs every active campaign until it is done.
//!
//! Read it in the order a call goes through it:
//!
//! - [`plan`]: a few times a second, picks up do-not-call changes other
//!   processes made, asks the scheduler for the contacts each campaign may call
//!   now — no more than the channels and the pace can take before the next ask —
//!   and claims them (their attempt is counted before anything is dialed); keeps
//!   each running campaign's call template ready (`CallPlanner::template`).
//! - [`dispatch`]: starts a task per claimed contact, within the box's and each
//!   campaign's channel limits, into the dialer's `JoinSet`; the task runs
//!   `Telephony::call`, whose dial waits at the [`gate`].
//! - [`gate`]: the calls-per-second ceilings, counted once, at the dial.
//! - [`settle`]: each ended call's contact through the campaign's retry policy,
//!   in the store writer's batches; a call task that panicked is closed here too.
//! - [`pace`]: once a second, the box's health and each campaign's answer rate
//!   into the pace controllers, every change into the pacing log, and the
//!   figures (metrics and a status snapshot).
//!
//! Invariants, as what it must never do:
//!
//! - Never start more calls in any one-second window than the box's configured
//!   ceiling, or a campaign's: counted at the dial itself ([`gate`]).
//! - Never dial without the session's pre-dial check: it hands contacts to
//!   `Telephony::call`, which checks the do-not-call list right before the
//!   originate and spends the permit on the dial; a contact blacklisted while
//!   queued is refused there.
//! - Never give a contact an attempt without a claim first, nor count an attempt
//!   that had no call (see [`recover`]).
//! - Never touch SQLite on its loop: the scheduler's queries run on the blocking
//!   pool, every write of a call or a settlement through the store's one writer.
//! - Never stop because the database is busy: a busy round is skipped and tried
//!   again; only a store that fails otherwise stops it, saying why.
//! - Never lose a call task: every one is in the dialer's `JoinSet`, awaited at
//!   shutdown; one that panics has its record closed and its channel slot freed.

pub mod gate;
pub mod health;
pub mod metrics;
mod pace;
mod plan;
pub mod recover;
mod settle;
mod status;
pub mod test_calls;

mod dispatch;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;
use shofar_pacing::{Cps, Health, InvalidThresholds, Monotonic, PaceController, Thresholds};
use shofar_phone::E164;
use shofar_scheduler::Scheduler;
use shofar_store::campaigns::{Campaign, CampaignId};
use shofar_store::writer::Writer;
use shofar_store::{Condition, Store, StoreError};
use shofar_telephony::{CallStop, CallTemplate, Telephony, TelephonyError};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::gate::Gates;
use crate::health::HealthSource;
use crate::metrics::Metrics;
pub use crate::pace::pace_entry;
use crate::recover::Recovery;
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

impl DialerError {
    /// The store error underneath, if any.
    fn store(&self) -> Option<&StoreError> {
        match self {
            DialerError::Store(error)
            | DialerError::Scheduler(shofar_scheduler::SchedulerError::Store(error))
            | DialerError::Telephony(TelephonyError::Store(error)) => Some(error),
            _ => None,
        }
    }

    /// A condition that passes by itself: the database was busy (another process
    /// writing), or a blocking task was cut short. The round is tried again.
    pub fn is_transient(&self) -> bool {
        match self {
            DialerError::Internal(_) => true,
            _ => self
                .store()
                .is_some_and(|error| error.condition() == Some(Condition::Busy)),
        }
    }
}

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

/// A contact claimed for a call, waiting for a channel.
#[derive(Debug, Clone)]
struct Queued {
    contact_id: i64,
    number: E164,
    attempt: u32,
}

/// Who a running call task is calling: what settles it, whatever the task did.
#[derive(Debug, Clone)]
struct CallKey {
    campaign: CampaignId,
    contact_id: i64,
    attempt: u32,
    call_id: String,
}

/// A call that ended, reported by its task.
struct Ended {
    key: CallKey,
    result: Result<shofar_store::calls::CallRecord, TelephonyError>,
}

struct CampaignRun {
    campaign: Campaign,
    /// `Err`: why this campaign cannot call now (reported, retried each plan).
    template: Result<Arc<CallTemplate>, Problem>,
    /// When `template` was made: it is made again every [`REPREPARE`], so a flow
    /// or prompt changed outside the campaign's settings (the web UI's flow
    /// builder, an audio upload) is used from the next calls on.
    prepared_at: Instant,
    /// The campaign's pace (its ceiling, lowered by its answer rate); the gate
    /// counts it.
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
    /// The calls, with the store writer and the call planner they use.
    pub telephony: Telephony,
    /// The dialer's own connection: the scheduler's reads and claims, on the
    /// blocking pool.
    pub store: Store,
    pub scheduler: Scheduler,
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

/// The scheduler's side: its connection and round state, used on the blocking
/// pool only (a plain mutex: one blocking task at a time holds it).
struct Planning {
    store: Store,
    scheduler: Scheduler,
    dnc_cursor: i64,
}

pub struct Dialer {
    config: DialerConfig,
    telephony: Telephony,
    writer: Writer,
    planning: Arc<Mutex<Planning>>,
    metrics: Arc<Metrics>,
    health: Box<dyn HealthSource>,
    campaigns: BTreeMap<CampaignId, CampaignRun>,
    box_controller: PaceController,
    origin: Instant,
    /// Every call task; each returns its [`Ended`].
    calls: JoinSet<Ended>,
    /// Whose call each task is, by task id: a task that panicked returns nothing.
    tasks: HashMap<tokio::task::Id, CallKey>,
    run_id: String,
    sequence: u64,
    status_tx: watch::Sender<DialerStatus>,
    gates: Arc<Gates>,
    summary: RunSummary,
    /// Rotates which campaign dispatches first.
    turn: usize,
    last_health: Health,
    /// When a busy database was last reported (a warning at most every 10 s).
    busy_reported: Option<Instant>,
    /// Cancelled at shutdown: calls still waiting for their slot are not placed.
    hold: CancellationToken,
}

impl Dialer {
    pub fn new(parts: DialerParts) -> Result<Dialer, DialerError> {
        let DialerParts {
            config,
            telephony,
            store,
            scheduler,
            metrics,
            health,
            dnc_cursor,
        } = parts;
        let box_controller = PaceController::new(config.ceiling, config.thresholds.clone())?;
        // Fixed width (13 digits of milliseconds, then an 8-digit sequence): Asterisk
        // matches channel ids by prefix.
        let run_id = format!("{:013}", Utc::now().timestamp_millis().max(0));
        metrics.box_ceiling_cps.set(config.ceiling.get());
        metrics.box_pace_cps.set(config.ceiling.get());
        metrics.max_channels.set(i64::from(config.max_channels));
        let (status_tx, _) = watch::channel(DialerStatus::default());
        let origin = Instant::now();
        Ok(Dialer {
            gates: Arc::new(Gates::new(origin, config.ceiling)),
            box_controller,
            writer: telephony.writer.clone(),
            config,
            telephony,
            planning: Arc::new(Mutex::new(Planning {
                store,
                scheduler,
                dnc_cursor,
            })),
            metrics,
            health,
            campaigns: BTreeMap::new(),
            origin,
            calls: JoinSet::new(),
            tasks: HashMap::new(),
            run_id,
            sequence: 0,
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
            busy_reported: None,
            hold: CancellationToken::new(),
        })
    }

    /// The latest figures, updated every health interval.
    pub fn status(&self) -> watch::Receiver<DialerStatus> {
        self.status_tx.subscribe()
    }

    fn now(&self) -> Monotonic {
        Monotonic::from_duration(self.origin.elapsed())
    }

    /// Runs `work` with the scheduler's connection on the blocking pool.
    async fn planning<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Planning) -> Result<T, DialerError> + Send + 'static,
    ) -> Result<T, DialerError> {
        let planning = self.planning.clone();
        tokio::task::spawn_blocking(move || work(&mut planning.lock()))
            .await
            .map_err(|e| DialerError::Internal(format!("a database task failed: {e}")))?
    }

    /// A step's error: a transient one is reported (at most every 10 s) and the
    /// loop goes on; any other stops the dialer.
    fn tolerate(&mut self, result: Result<(), DialerError>) -> Result<(), DialerError> {
        match result {
            Err(error) if error.is_transient() => {
                self.metrics.store_busy.inc();
                if self
                    .busy_reported
                    .is_none_or(|at| at.elapsed() >= Duration::from_secs(10))
                {
                    self.busy_reported = Some(Instant::now());
                    tracing::warn!(%error, "the database is busy (another process is writing); trying again");
                }
                Ok(())
            }
            other => other,
        }
    }

    /// Runs until `shutdown`, then ends gracefully: no new calls, active calls
    /// finish (or are ended after the grace), every record closed.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<RunSummary, DialerError> {
        self.hold = shutdown.child_token();
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
        loop {
            let recovered = self.recover().await;
            match recovered {
                Err(error) if error.is_transient() => {
                    tracing::warn!(%error, "cannot recover the previous run's calls yet; trying again");
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(self.summary),
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
                other => break other?,
            }
        }

        let mut next_plan = Instant::now();
        let mut next_health = Instant::now();
        let result = loop {
            if shutdown.is_cancelled() {
                break Ok(());
            }
            if Instant::now() >= next_health {
                let observed = self.observe_health().await;
                if let Err(error) = self.tolerate(observed) {
                    break Err(error);
                }
                next_health = Instant::now() + self.config.health_interval;
            }
            if Instant::now() >= next_plan {
                let planned = self.plan().await;
                if let Err(error) = self.tolerate(planned) {
                    break Err(error);
                }
                next_plan = Instant::now() + self.config.plan_interval;
                // The live figures follow each plan (several a second), not only
                // the health readings (once a second): the dashboard's freshness.
                self.publish(self.telephony.backend.is_up());
            }
            // A stop asked for while planning: no call starts after it.
            if shutdown.is_cancelled() {
                break Ok(());
            }
            self.dispatch();
            let wake = next_plan.min(next_health);
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep_until(wake) => {}
                Some(joined) = self.calls.join_next_with_id(), if !self.calls.is_empty() => {
                    let mut batch = vec![joined];
                    while let Some(more) = self.calls.try_join_next_with_id() {
                        batch.push(more);
                    }
                    let settled = self.on_joined(batch).await;
                    if let Err(error) = self.tolerate(settled) {
                        break Err(error);
                    }
                }
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, "the dialer stops: the database cannot be used");
            // The calls up still end and are recorded before the error is told.
            let _ = self.shut_down().await;
            return Err(error);
        }
        self.shut_down().await
    }

    async fn recover(&mut self) -> Result<(), DialerError> {
        let backend = self.telephony.backend.clone();
        let present = backend.channels().await?.into_iter().collect();
        let prefix = self.config.call_prefix.clone();
        let engine = backend.kind();
        let (recovery, hang_up) = self
            .planning(move |planning| {
                recover::recover(&mut planning.store, &prefix, &present, engine, Utc::now())
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

    fn active_total(&self) -> u32 {
        self.campaigns.values().map(|c| c.active.len() as u32).sum()
    }

    fn queued_total(&self) -> u32 {
        self.campaigns.values().map(|c| c.queue.len() as u32).sum()
    }

    async fn shut_down(mut self) -> Result<RunSummary, DialerError> {
        // Calls still waiting for their slot are not placed (their contacts are
        // given back as they end).
        self.hold.cancel();
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
        let cut = self.calls.len();
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
        self.summary.calls_left_open = self.calls.len();
        // Tasks still running now are the engine's to end (the next start closes
        // their records): they are not left detached.
        self.calls.abort_all();
        while self.calls.join_next().await.is_some() {}
        self.publish(self.telephony.backend.is_up());
        Ok(self.summary)
    }

    async fn drain_until(&mut self, deadline: Instant) -> Result<(), DialerError> {
        while !self.calls.is_empty() {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return Ok(()),
                Some(joined) = self.calls.join_next_with_id() => {
                    let settled = self.on_joined(vec![joined]).await;
                    self.tolerate(settled)?;
                }
            }
        }
        Ok(())
    }
}

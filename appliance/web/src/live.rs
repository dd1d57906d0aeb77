//! Live figures: what the dashboard shows, pushed over `/api/v1/live` the moment
//! they change (and readable once at `/api/v1/status`).
//!
//! Two sources make one snapshot. The dialer's status (calls up, queue, dialing
//! rate, pace, the box's health) comes from its `watch` channel, published
//! several times a second. Counts by outcome come from the call records
//! themselves, followed incrementally by [`OutcomeBook`]: ended records added up
//! once, open ones kept whole and re-read until they end — so the figures are
//! exactly what the database holds at the snapshot (seed properties 41, 42, 45),
//! whoever wrote the records (this dialer, `shofar call`, recovery after a crash).
//!
//! Per-campaign and box-wide figures are the same arithmetic: the box's totals
//! are the merge of the campaigns' (`Totals::merge`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use shofar_dialer::DialerStatus;
use shofar_report::{CallRow, Totals};
use shofar_store::calls::{CallChanges, CallRecord, CallsSnapshot, EndedAggregate};
use shofar_vocab::{CallOutcome, NO_OUTCOME, Stored};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::jobs::{JobOut, Jobs};
use crate::pool::StorePool;
use crate::state::SystemProbe;
use crate::sync::{SyncFollower, SyncStatusLive};
use shofar_store::sync::status::SyncStatus;

/// How often the call records are looked at for changes.
pub const POLL: Duration = Duration::from_millis(200);
/// A snapshot is pushed at least this often even when nothing changed, so a
/// client knows the box is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// A call record as reports count it: ended records without an outcome count as
/// `unknown`, open ones have none.
pub fn call_row(record: &CallRecord) -> CallRow {
    CallRow {
        call_id: record.call_id.clone(),
        campaign_id: record.campaign_id.map(|c| c.0),
        number: record.number.to_string(),
        attempt: record.attempt,
        outcome: if record.is_open() {
            None
        } else {
            Some(
                record
                    .outcome
                    .clone()
                    .unwrap_or_else(|| Stored::parse(NO_OUTCOME)),
            )
        },
        started_at: record.started_at,
        answered_at: record.answered_at,
        ended_at: record.ended_at,
        duration_ms: record.duration_ms,
        talk_ms: record.talk_ms,
        dtmf: record.dtmf.clone(),
        converted: record.converted,
        opted_out: record.opted_out,
        hangup_cause: record.hangup_cause.clone(),
    }
}

/// Totals of ended records added up by the database.
pub fn ended_totals(aggregate: &EndedAggregate) -> Totals {
    Totals::of_ended(
        aggregate.by_outcome.clone(),
        aggregate.converted,
        aggregate.opted_out,
        aggregate.talk_ms,
        aggregate.first_started,
        aggregate.last_started,
    )
}

/// Counts by outcome per campaign, kept equal to the call records. Test calls
/// (no campaign) are left out.
#[derive(Debug, Default)]
pub struct OutcomeBook {
    /// The highest row id seen.
    max_id: i64,
    /// Ended records, per campaign.
    settled: BTreeMap<i64, Totals>,
    /// Records not yet ended, by row id: re-read every poll until they end.
    open: BTreeMap<i64, CallRow>,
    /// The latest moment a change seen happened at (a call started or ended).
    last_event_at: Option<DateTime<Utc>>,
    /// When the records seen new (after the first snapshot) started, the last
    /// minute's or so: the calls started per minute.
    recent_starts: VecDeque<DateTime<Utc>>,
}

/// How far back `OutcomeBook::started_since` can look.
const RECENT_STARTS: chrono::TimeDelta = chrono::TimeDelta::seconds(120);

impl OutcomeBook {
    pub fn new(snapshot: CallsSnapshot) -> OutcomeBook {
        let mut book = OutcomeBook {
            max_id: snapshot.max_id,
            ..OutcomeBook::default()
        };
        for aggregate in &snapshot.ended {
            if let Some(campaign) = aggregate.campaign {
                book.settled
                    .entry(campaign.0)
                    .or_default()
                    .merge(&ended_totals(aggregate));
            }
        }
        for (id, record) in &snapshot.open {
            book.see(*id, record);
        }
        book
    }

    /// The row ids of the open records: what to re-read next time.
    pub fn watching(&self) -> Vec<i64> {
        self.open.keys().copied().collect()
    }

    pub fn max_id(&self) -> i64 {
        self.max_id
    }

    fn see(&mut self, id: i64, record: &CallRecord) {
        if record.campaign_id.is_none() {
            return;
        }
        let row = call_row(record);
        if id > self.max_id && !self.open.contains_key(&id) {
            // A record not seen before: a call started.
            let cutoff = row.started_at - RECENT_STARTS;
            while self.recent_starts.front().is_some_and(|at| *at < cutoff) {
                self.recent_starts.pop_front();
            }
            self.recent_starts.push_back(row.started_at);
        }
        let moment = row.ended_at.unwrap_or(row.started_at);
        self.last_event_at = Some(self.last_event_at.map_or(moment, |at| at.max(moment)));
        if row.outcome.is_some() {
            self.open.remove(&id);
            if let Some(campaign) = row.campaign_id {
                self.settled.entry(campaign).or_default().add(&row);
            }
        } else {
            self.open.insert(id, row);
        }
    }

    /// Applies what changed; returns whether anything did.
    pub fn apply(&mut self, changes: &CallChanges) -> bool {
        let mut changed = false;
        let watched: std::collections::HashSet<i64> =
            changes.watched.iter().map(|(id, _)| *id).collect();
        // Open records gone from the database (their campaign was deleted).
        let gone: Vec<i64> = self
            .open
            .keys()
            .copied()
            .filter(|id| *id <= self.max_id && !watched.contains(id))
            .collect();
        for id in gone {
            self.open.remove(&id);
            changed = true;
        }
        for (id, record) in changes.watched.iter().chain(&changes.new) {
            let before = self.open.get(id).cloned();
            self.see(*id, record);
            if before.as_ref() != self.open.get(id) {
                changed = true;
            }
        }
        self.max_id = self.max_id.max(changes.max_id);
        changed
    }

    /// A campaign's totals now: its ended records and its open ones.
    pub fn totals(&self, campaign: i64) -> Totals {
        let mut totals = self.settled.get(&campaign).cloned().unwrap_or_default();
        for row in self.open.values() {
            if row.campaign_id == Some(campaign) {
                totals.add(row);
            }
        }
        totals
    }

    /// Every campaign with a record.
    pub fn campaigns(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.settled.keys().copied().collect();
        ids.extend(self.open.values().filter_map(|row| row.campaign_id));
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub fn last_event_at(&self) -> Option<DateTime<Utc>> {
        self.last_event_at
    }

    /// Campaign calls started at or after `since` (at most two minutes back),
    /// among those started since the book was made.
    pub fn started_since(&self, since: DateTime<Utc>) -> u64 {
        self.recent_starts.iter().filter(|at| **at >= since).count() as u64
    }
}

/// The calls per second a campaign may start now: its own pace, within the box's
/// (which health may have throttled); none while it is not running.
pub fn effective_cps(running: bool, campaign_pace_cps: f64, box_pace_cps: f64) -> f64 {
    if running {
        campaign_pace_cps.min(box_pace_cps).max(0.0)
    } else {
        0.0
    }
}

/// Figures in a snapshot: counts and rates over call records.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// Every call record.
    pub calls: u64,
    /// Calls up now (records not yet ended).
    pub in_call: u64,
    /// Ended records by outcome (the names of `CallOutcome`; `unknown` for an
    /// ended record without one, and a name this version does not know as it is).
    #[schema(value_type = BTreeMap<String, u64>)]
    pub by_outcome: BTreeMap<Stored<CallOutcome>, u64>,
    /// Ended records that were dialed (all but `blacklisted`).
    pub dialed: u64,
    pub answered: u64,
    pub converted: u64,
    pub opted_out: u64,
    /// answered / dialed.
    pub answer_rate: Option<f64>,
    /// converted / answered.
    pub conversion_rate: Option<f64>,
    /// opted_out / answered.
    pub opt_out_rate: Option<f64>,
}

impl From<&Totals> for Figures {
    fn from(totals: &Totals) -> Figures {
        Figures {
            calls: totals.calls,
            in_call: totals.in_call,
            by_outcome: totals.by_outcome.clone(),
            dialed: totals.dialed,
            answered: totals.answered,
            converted: totals.converted,
            opted_out: totals.opted_out,
            answer_rate: totals.answer_rate(),
            conversion_rate: totals.conversion_rate(),
            opt_out_rate: totals.opt_out_rate(),
        }
    }
}

/// One campaign, live.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CampaignLive {
    pub id: i64,
    pub name: String,
    /// The dialer is calling for it (false: paused, or done and finishing calls).
    pub running: bool,
    /// Why it cannot call, if it cannot (a missing prompt, say), in English.
    pub problem: Option<String>,
    /// The same as a code: `prompts_missing`, `flow_invalid`, `flow_missing`,
    /// `audio_unusable`, `not_prepared` or `other` (then only `problem` says).
    pub problem_code: Option<String>,
    /// What the problem concerns (the prompts without audio, the flow's name).
    pub problem_names: Vec<String>,
    /// Calls up for it now.
    pub active: u32,
    /// Contacts claimed and waiting to be dialed.
    pub queued: u32,
    /// Calls per second its own pacing allows now, and at most (its settings).
    pub pace_cps: f64,
    pub ceiling_cps: f64,
    /// Calls per second it may start now: `pace_cps` within the box's pace (see
    /// `effective_cps`); 0 while it is not running.
    pub effective_cps: f64,
    /// The dialer's answer rate over its recent calls.
    pub recent_answer_rate: Option<f64>,
    /// Over every record of the campaign.
    pub figures: Figures,
}

/// The box's health readings.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HealthLive {
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub load_per_core: f64,
    pub asterisk_channels: u32,
}

/// Something the staff should know now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Alert {
    /// `telephony_down`, `trunk_down`, `disk_low`, `cpu_high`, `memory_high`, `load_high`,
    /// `channels_high`, `pacing_reduced`, `campaign_pacing_reduced`,
    /// `campaign_problem`, `sync_not_running`, `sync_offline`, `sync_backlog`: the UI
    /// words it by this code.
    pub code: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// In English, with the figures.
    pub message: String,
    pub campaign_id: Option<i64>,
    /// The reading, and the limit it crossed.
    pub value: Option<f64>,
    pub limit: Option<f64>,
}

/// When a health reading becomes an alert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertLimits {
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub load_per_core: f64,
    /// Of the box's channel limit.
    pub channels_share: f64,
}

impl Default for AlertLimits {
    fn default() -> AlertLimits {
        AlertLimits {
            cpu_percent: 85.0,
            memory_percent: 90.0,
            load_per_core: 1.5,
            channels_share: 0.9,
        }
    }
}

pub(crate) fn alert(code: &str, severity: &str, message: String) -> Alert {
    Alert {
        code: code.to_owned(),
        severity: severity.to_owned(),
        message,
        campaign_id: None,
        value: None,
        limit: None,
    }
}

/// The alerts a dialer status calls for (seed property 43): one per condition
/// that holds, none otherwise.
pub fn alerts(status: &DialerStatus, limits: &AlertLimits) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if status.at.is_none() {
        return alerts;
    }
    if !status.telephony_up {
        alerts.push(alert(
            "telephony_down",
            "critical",
            format!(
                "the telephony engine ({}) is unreachable: no calls can be placed; check \
                 Asterisk and the trunk (Settings)",
                status.backend
            ),
        ));
    }
    let mut reading = |code: &str, what: &str, value: f64, limit: f64, unit: &str| {
        if value >= limit {
            let mut a = alert(
                code,
                "warning",
                format!(
                    "{what} is {value:.1}{unit} (limit {limit:.1}{unit}): the dialer slows down"
                ),
            );
            a.value = Some(value);
            a.limit = Some(limit);
            alerts.push(a);
        }
    };
    reading(
        "cpu_high",
        "CPU use",
        status.cpu_percent,
        limits.cpu_percent,
        " %",
    );
    reading(
        "memory_high",
        "memory use",
        status.memory_percent,
        limits.memory_percent,
        " %",
    );
    reading(
        "load_high",
        "load per core",
        status.load_per_core,
        limits.load_per_core,
        "",
    );
    if status.max_channels > 0 {
        reading(
            "channels_high",
            "Asterisk's channel count",
            f64::from(status.asterisk_channels),
            (f64::from(status.max_channels) * limits.channels_share).floor(),
            "",
        );
    }
    if status.pace_cps + 1e-9 < status.ceiling_cps {
        let mut a = alert(
            "pacing_reduced",
            "info",
            format!(
                "the box dials at {:.1} calls/s of its {:.1} (pacing log: why)",
                status.pace_cps, status.ceiling_cps
            ),
        );
        a.value = Some(status.pace_cps);
        a.limit = Some(status.ceiling_cps);
        alerts.push(a);
    }
    for campaign in &status.campaigns {
        if let Some(problem) = &campaign.problem {
            let mut a = alert(
                "campaign_problem",
                "critical",
                format!("campaign {:?} cannot call: {problem}", campaign.name),
            );
            a.campaign_id = Some(campaign.campaign.0);
            alerts.push(a);
        }
        if campaign.running && campaign.pace_cps + 1e-9 < campaign.ceiling_cps {
            let mut a = alert(
                "campaign_pacing_reduced",
                "info",
                format!(
                    "campaign {:?} dials at {:.1} calls/s of its {:.1}",
                    campaign.name, campaign.pace_cps, campaign.ceiling_cps
                ),
            );
            a.campaign_id = Some(campaign.campaign.0);
            a.value = Some(campaign.pace_cps);
            a.limit = Some(campaign.ceiling_cps);
            alerts.push(a);
        }
    }
    alerts
}

/// How often the trunk's state is asked of Asterisk, and the disk looked at.
pub const TRUNK_LOOK: Duration = Duration::from_secs(30);

/// The trunk's state in what [`SystemProbe::telephony_status`] answered.
pub fn trunk_state(telephony: &serde_json::Value) -> Option<String> {
    telephony["trunk_state"].as_str().map(str::to_owned)
}

/// An alert when Asterisk says the trunk cannot carry calls (seed property 43):
/// the carrier does not answer (`offline`) or Asterisk has no such endpoint
/// (`missing`).
pub fn trunk_alert(state: &str) -> Option<Alert> {
    let why = match state {
        "offline" => "the carrier does not answer: check its host, port and the firewall",
        "missing" => {
            "Asterisk has no such endpoint: run `shofar asterisk-config --write` and reload"
        }
        _ => return None,
    };
    Some(alert(
        "trunk_down",
        "critical",
        format!("the SIP trunk is {state}: calls fail until it is back; {why} (docs/trunk.md)"),
    ))
}

/// Free space on the disk that holds `path`: `(available bytes, of total bytes)`.
pub fn disk_free(path: &std::path::Path) -> Option<(u64, u64)> {
    let path = path.canonicalize().ok()?;
    let disks = sysinfo::Disks::new_with_refreshed_list();
    disks
        .list()
        .iter()
        .filter(|disk| path.starts_with(disk.mount_point()))
        .max_by_key(|disk| disk.mount_point().as_os_str().len())
        .map(|disk| (disk.available_space(), disk.total_space()))
}

/// An alert when the data disk runs low (seed property 43): below 10 % or 1 GiB
/// free a warning, below 2 % or 200 MiB critical — imports and call records need
/// room, and a full disk refuses every change.
pub fn disk_alert(available: u64, total: u64) -> Option<Alert> {
    const GIB: u64 = 1024 * 1024 * 1024;
    let percent = if total == 0 {
        100.0
    } else {
        available as f64 * 100.0 / total as f64
    };
    let severity = if percent < 2.0 || available < 200 * 1024 * 1024 {
        "critical"
    } else if percent < 10.0 || available < GIB {
        "warning"
    } else {
        return None;
    };
    let mut a = alert(
        "disk_low",
        severity,
        format!(
            "the data disk has {:.1} GB free ({percent:.1} %): free space (old uploads and exports, \
             backups) before it fills",
            available as f64 / GIB as f64
        ),
    );
    a.value = Some(percent);
    a.limit = Some(10.0);
    Some(a)
}

/// What `/api/v1/live` pushes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LiveSnapshot {
    /// Increases with every change.
    pub seq: u64,
    /// When this snapshot was made.
    pub at: DateTime<Utc>,
    /// The latest call start or end it includes: `at - last_event_at` bounds its
    /// staleness.
    pub last_event_at: Option<DateTime<Utc>>,
    /// `asterisk` or `simulator`; null when no dialer runs in this process.
    pub backend: Option<String>,
    pub telephony_up: Option<bool>,
    /// Calls up now, box-wide.
    pub active_calls: u32,
    /// Contacts claimed and waiting to be dialed.
    pub queue_depth: u32,
    /// Calls dialed in the last second.
    pub dialing_rate: f64,
    /// Campaign calls started in the last minute (the dialing rate a person
    /// reads: calls per minute, from the call records).
    pub calls_last_minute: u64,
    /// The box's pace now (calls per second, after health adjustments), and at most.
    pub pace_cps: f64,
    pub ceiling_cps: f64,
    pub max_channels: u32,
    pub health: Option<HealthLive>,
    /// Free space where the box keeps its data (every 30 s), bytes and percent.
    pub disk_free_bytes: Option<u64>,
    pub disk_free_percent: Option<f64>,
    /// The SIP trunk as Asterisk last reported it (every 30 s): `online`,
    /// `offline`, `unknown`, `missing`; null before the first look or on the
    /// simulator.
    pub trunk_state: Option<String>,
    pub alerts: Vec<Alert>,
    /// Campaigns that are scheduled, active or paused, or still have calls up.
    pub campaigns: Vec<CampaignLive>,
    /// The campaigns' figures merged: always their sum.
    pub totals: Figures,
    /// Imports running now.
    pub jobs: Vec<JobOut>,
    /// The fleet sync agent, as its status file says (read every few seconds);
    /// null when it has none (sync is not set up on this box).
    pub sync: Option<SyncStatusLive>,
}

/// What the lookers beside the loop last saw.
struct Looked {
    trunk: Option<String>,
    disk: Option<(u64, u64)>,
    sync: Option<SyncStatus>,
}

/// The live figures' producer side.
pub struct Live {
    dialer: Option<watch::Receiver<DialerStatus>>,
    snapshot: watch::Sender<Arc<LiveSnapshot>>,
    limits: AlertLimits,
    sync: SyncFollower,
}

impl Live {
    /// `sync` is followed while [`Live::run`] runs (`shofar serve` shares it
    /// with `/metrics`).
    pub fn new(
        dialer: Option<watch::Receiver<DialerStatus>>,
        limits: AlertLimits,
        sync: SyncFollower,
    ) -> Live {
        let empty = LiveSnapshot {
            seq: 0,
            at: Utc::now(),
            last_event_at: None,
            backend: None,
            telephony_up: None,
            active_calls: 0,
            queue_depth: 0,
            dialing_rate: 0.0,
            calls_last_minute: 0,
            pace_cps: 0.0,
            ceiling_cps: 0.0,
            max_channels: 0,
            health: None,
            disk_free_bytes: None,
            disk_free_percent: None,
            trunk_state: None,
            alerts: Vec::new(),
            campaigns: Vec::new(),
            totals: Figures::from(&Totals::default()),
            jobs: Vec::new(),
            sync: None,
        };
        Live {
            dialer,
            snapshot: watch::channel(Arc::new(empty)).0,
            limits,
            sync,
        }
    }

    /// The dialer's latest status, if a dialer runs in this process and has
    /// reported.
    pub fn dialer_status(&self) -> Option<DialerStatus> {
        self.dialer
            .as_ref()
            .map(|rx| rx.borrow().clone())
            .filter(|s| s.at.is_some())
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<LiveSnapshot>> {
        self.snapshot.subscribe()
    }

    pub fn current(&self) -> Arc<LiveSnapshot> {
        self.snapshot.borrow().clone()
    }

    /// Follows the dialer and the call records until `shutdown`, publishing a
    /// snapshot whenever a figure changes.
    pub async fn run(
        &self,
        pool: StorePool,
        jobs: Arc<Jobs>,
        probe: Option<Arc<dyn SystemProbe>>,
        data_dir: std::path::PathBuf,
        shutdown: CancellationToken,
    ) {
        // The lookers below are this task's: aborted when it returns.
        let mut lookers = tokio::task::JoinSet::new();
        // The sync agent's status file, read off the loop every few seconds.
        {
            let (sync, dir, shutdown) = (self.sync.clone(), data_dir.clone(), shutdown.clone());
            lookers.spawn(async move { sync.follow(dir, shutdown).await });
        }
        let (disk_tx, disk_rx) = watch::channel(None::<(u64, u64)>);
        {
            let shutdown = shutdown.clone();
            lookers.spawn(async move {
                loop {
                    let dir = data_dir.clone();
                    let free = tokio::task::spawn_blocking(move || disk_free(&dir))
                        .await
                        .ok()
                        .flatten();
                    disk_tx.send_replace(free);
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(TRUNK_LOOK) => {}
                    }
                }
            });
        }
        // The trunk is asked about apart from the loop: Asterisk may take seconds
        // to answer, and the figures must not wait for it.
        let (trunk_tx, trunk_rx) = watch::channel(None::<String>);
        if let Some(probe) = probe {
            let shutdown = shutdown.clone();
            lookers.spawn(async move {
                loop {
                    let telephony = probe.telephony_status().await;
                    trunk_tx.send_replace(trunk_state(&telephony));
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(TRUNK_LOOK) => {}
                    }
                }
            });
        }
        let mut book = loop {
            match pool.run(|store| Ok(store.calls_snapshot()?)).await {
                Ok(snapshot) => break OutcomeBook::new(snapshot),
                Err(error) => {
                    tracing::warn!(message = %error.message, "live figures: cannot read the call records; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(2)) => {}
                    }
                }
            }
        };
        let mut dialer = self.dialer.clone();
        let mut names: BTreeMap<i64, (String, String)> = BTreeMap::new();
        let mut last_names_read = None::<tokio::time::Instant>;
        let mut last_sent = tokio::time::Instant::now();
        loop {
            let dialer_changed = async {
                match dialer.as_mut() {
                    Some(rx) => rx.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = dialer_changed => {}
                () = tokio::time::sleep(POLL) => {}
            }
            let after = book.max_id();
            let watching = book.watching();
            match pool
                .run(move |store| Ok(store.call_changes(after, &watching)?))
                .await
            {
                Ok(changes) => {
                    book.apply(&changes);
                }
                Err(error) => {
                    tracing::warn!(message = %error.message, "live figures: cannot read call records");
                }
            }
            // Campaign names and statuses: cheap, but not every 200 ms.
            if last_names_read.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                if let Ok(list) = pool.run(|store| Ok(store.list_campaigns()?)).await {
                    names = list
                        .into_iter()
                        .map(|c| (c.id.0, (c.name, c.status)))
                        .collect();
                }
                last_names_read = Some(tokio::time::Instant::now());
            }
            let status = dialer.as_ref().map(|rx| rx.borrow().clone());
            let looked = Looked {
                trunk: trunk_rx.borrow().clone(),
                disk: *disk_rx.borrow(),
                sync: self.sync.latest(),
            };
            let next = self.build(&book, status.as_ref(), &names, jobs.running(), looked);
            let previous = self.current();
            let same = LiveSnapshot {
                seq: previous.seq,
                at: previous.at,
                ..next.clone()
            } == *previous;
            if !same || last_sent.elapsed() >= HEARTBEAT {
                self.snapshot.send_replace(Arc::new(LiveSnapshot {
                    seq: previous.seq + 1,
                    ..next
                }));
                last_sent = tokio::time::Instant::now();
            }
        }
    }

    fn build(
        &self,
        book: &OutcomeBook,
        status: Option<&DialerStatus>,
        names: &BTreeMap<i64, (String, String)>,
        jobs: Vec<JobOut>,
        looked: Looked,
    ) -> LiveSnapshot {
        let now = Utc::now();
        let Looked { trunk, disk, sync } = looked;
        let sync = sync.map(|status| crate::sync::view(&status, now));
        let status = status.filter(|s| s.at.is_some());
        let dialing: BTreeMap<i64, &shofar_dialer::CampaignStatus> = status
            .map(|s| s.campaigns.iter().map(|c| (c.campaign.0, c)).collect())
            .unwrap_or_default();
        let mut campaigns = Vec::new();
        let mut totals = Totals::default();
        for (id, (name, state)) in names {
            let live = dialing.get(id);
            let current = matches!(state.as_str(), "scheduled" | "active" | "paused");
            if !current && live.is_none_or(|c| c.active == 0) {
                continue;
            }
            let campaign_totals = book.totals(*id);
            totals.merge(&campaign_totals);
            campaigns.push(CampaignLive {
                id: *id,
                name: name.clone(),
                running: live.is_some_and(|c| c.running),
                problem: live.and_then(|c| c.problem.as_ref().map(|p| p.message.clone())),
                problem_code: live.and_then(|c| c.problem.as_ref().map(|p| p.code.to_owned())),
                problem_names: live
                    .and_then(|c| c.problem.as_ref().map(|p| p.names.clone()))
                    .unwrap_or_default(),
                active: live.map_or(0, |c| c.active),
                queued: live.map_or(0, |c| c.queued),
                pace_cps: live.map_or(0.0, |c| c.pace_cps),
                ceiling_cps: live.map_or(0.0, |c| c.ceiling_cps),
                effective_cps: effective_cps(
                    live.is_some_and(|c| c.running),
                    live.map_or(0.0, |c| c.pace_cps),
                    status.map_or(0.0, |s| s.pace_cps),
                ),
                recent_answer_rate: live.and_then(|c| c.answer_rate),
                figures: Figures::from(&campaign_totals),
            });
        }
        LiveSnapshot {
            seq: 0,
            at: now,
            last_event_at: book.last_event_at(),
            backend: status.map(|s| s.backend.clone()),
            telephony_up: status.map(|s| s.telephony_up),
            active_calls: status.map_or(0, |s| s.active),
            queue_depth: status.map_or(0, |s| s.queued),
            dialing_rate: status.map_or(0.0, |s| s.dial_rate_cps),
            calls_last_minute: book.started_since(now - chrono::TimeDelta::seconds(60)),
            pace_cps: status.map_or(0.0, |s| s.pace_cps),
            ceiling_cps: status.map_or(0.0, |s| s.ceiling_cps),
            max_channels: status.map_or(0, |s| s.max_channels),
            health: status.map(|s| HealthLive {
                cpu_percent: s.cpu_percent,
                memory_percent: s.memory_percent,
                load_per_core: s.load_per_core,
                asterisk_channels: s.asterisk_channels,
            }),
            alerts: status
                .map(|s| alerts(s, &self.limits))
                .unwrap_or_default()
                .into_iter()
                .chain(trunk.as_deref().and_then(trunk_alert))
                .chain(disk.and_then(|(available, total)| disk_alert(available, total)))
                .chain(sync.iter().flat_map(|sync| sync.alerts.iter().cloned()))
                .collect(),
            trunk_state: trunk,
            disk_free_bytes: disk.map(|(available, _)| available),
            disk_free_percent: disk
                .filter(|(_, total)| *total > 0)
                .map(|(available, total)| available as f64 * 100.0 / total as f64),
            campaigns,
            totals: Figures::from(&totals),
            jobs,
            sync,
        }
    }
}

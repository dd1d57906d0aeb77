//! The sync agent (`shofar-sync`, a process of its own) as the supervisor shows
//! it: the agent's status file (`DATA/sync/status.json`, shofar-store's
//! `sync::status`) read every few seconds off the async loop, what it means for
//! people ([`SyncState`], alerts) in `/api/v1/status` and the live socket, and
//! its figures on `/metrics`.
//!
//! Invariants: the file is read only on the blocking pool, at most every
//! [`LOOK`]; a missing or unreadable file is "no agent", never an error; the
//! API's types are this crate's, mapped from the store's (the file's format can
//! change without changing the API).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use serde::Serialize;
use shofar_store::sync::status::{self as file, SyncStatus};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::live::{Alert, alert};

/// How often the status file is read. The agent writes it every two seconds.
pub const LOOK: Duration = Duration::from_secs(3);

/// The agent's status as last read, shared by the live figures and `/metrics`.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct SyncFollower {
    latest: Arc<watch::Sender<Option<SyncStatus>>>,
}

impl Default for SyncFollower {
    fn default() -> SyncFollower {
        SyncFollower::new()
    }
}

impl SyncFollower {
    pub fn new() -> SyncFollower {
        SyncFollower {
            latest: Arc::new(watch::channel(None).0),
        }
    }

    /// The status as last read; `None` when there is no file (no agent set up).
    pub fn latest(&self) -> Option<SyncStatus> {
        self.latest.borrow().clone()
    }

    /// Reads the agent's status file in `data_dir` every [`LOOK`] until
    /// `shutdown`.
    pub async fn follow(&self, data_dir: PathBuf, shutdown: CancellationToken) {
        loop {
            let dir = data_dir.clone();
            let status = tokio::task::spawn_blocking(move || file::read_status(&dir))
                .await
                .ok()
                .flatten();
            self.latest.send_if_modified(|current| {
                let changed = *current != status;
                *current = status;
                changed
            });
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(LOOK) => {}
            }
        }
    }

    /// The agent's series for `/metrics`, read from the latest status at each
    /// scrape.
    pub fn metrics(&self) -> SyncMetrics {
        SyncMetrics {
            follower: self.clone(),
        }
    }
}

/// What the fleet sync is doing, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// The agent runs but has no organization or box name (`[sync]` in
    /// shofar.toml is incomplete).
    NotConfigured,
    /// The agent's status is older than a minute: it has stopped.
    NotRunning,
    /// Connected to MQTT and to S3.
    Online,
    /// Running, but one of its links is down: records and opt-outs wait on
    /// the box.
    Offline,
}

/// One of the agent's connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncLinkLive {
    pub connected: bool,
    /// Since when it is connected (or, when not, disconnected).
    pub since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// The organization's central do-not-call list on this box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncDncLive {
    /// The version of the central list last applied.
    pub version: u64,
    pub applied_at: Option<DateTime<Utc>>,
    /// Numbers the central list has listed here.
    pub listed: u64,
}

/// The last model the agent installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncModelLive {
    pub name: String,
    pub version: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    pub installed_at: DateTime<Utc>,
}

/// An error the agent met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncErrorLive {
    pub at: DateTime<Utc>,
    /// In English, as the agent said it.
    pub what: String,
}

/// The fleet sync agent: its status file, what it means now (`state`,
/// `alerts`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SyncStatusLive {
    pub state: SyncState,
    /// The sync alerts that hold now (also among the snapshot's alerts):
    /// `sync_not_running`, `sync_offline`, `sync_backlog`.
    pub alerts: Vec<Alert>,
    /// Since when a link has been down, while `offline`.
    pub offline_since: Option<DateTime<Utc>>,
    /// The status file's format version.
    pub v: u32,
    pub agent_version: String,
    pub pid: u32,
    /// When the agent last wrote its status.
    pub updated_at: DateTime<Utc>,
    pub org: String,
    pub box_id: String,
    pub mqtt: SyncLinkLive,
    pub s3: SyncLinkLive,
    /// Call and SMS records not yet in the cloud, and since when the oldest
    /// waits.
    pub waiting_records: u64,
    pub oldest_waiting_at: Option<DateTime<Utc>>,
    /// The box's opt-outs not yet published to the other boxes.
    pub waiting_optouts: u64,
    /// What the agent's files take on disk, and the most they may.
    pub disk_bytes: u64,
    pub disk_limit_bytes: u64,
    pub dnc: SyncDncLive,
    pub model: Option<SyncModelLive>,
    pub offline_alert_minutes: u64,
    pub waiting_alert_percent: u8,
    /// The agent's counters since it started (`records_uploaded_total`, …).
    pub counters: BTreeMap<String, u64>,
    /// Its last errors, oldest first.
    pub errors: Vec<SyncErrorLive>,
}

/// The state a status says, at `now`.
pub fn state(status: &SyncStatus, now: DateTime<Utc>) -> SyncState {
    if status.is_stale(now) {
        SyncState::NotRunning
    } else if status.org.is_empty() || status.box_id.is_empty() {
        SyncState::NotConfigured
    } else if status.mqtt.connected && status.s3.connected {
        SyncState::Online
    } else {
        SyncState::Offline
    }
}

/// Since when the agent has not been fully online: the earliest time a link
/// that is down went down.
fn offline_since(status: &SyncStatus) -> Option<DateTime<Utc>> {
    [&status.mqtt, &status.s3]
        .into_iter()
        .filter(|link| !link.connected)
        .filter_map(|link| link.since)
        .min()
}

/// The share of the agent's disk bound its waiting data takes, in percent.
fn disk_percent(status: &SyncStatus) -> Option<f64> {
    (status.disk_limit_bytes > 0)
        .then(|| status.disk_bytes as f64 * 100.0 / status.disk_limit_bytes as f64)
}

/// The alerts a status calls for at `now`: one per condition that holds.
pub fn alerts(status: &SyncStatus, now: DateTime<Utc>) -> Vec<Alert> {
    let mut alerts = Vec::new();
    let state = state(status, now);
    // Whole minutes: the snapshot changes (and is pushed) when a figure does,
    // not with every look at the clock.
    let minutes_since = |at: DateTime<Utc>| (now - at).num_minutes().max(0) as f64;
    if state == SyncState::NotRunning {
        let minutes = minutes_since(status.updated_at);
        let mut a = alert(
            "sync_not_running",
            "warning",
            format!(
                "the sync agent has not reported for {minutes:.0} min (since {}): records and \
                 opt-outs wait on the box; check the shofar-sync service",
                status.updated_at.to_rfc3339()
            ),
        );
        a.value = Some(minutes);
        a.limit = Some(1.0);
        alerts.push(a);
    }
    if state == SyncState::Offline
        && let Some(since) = offline_since(status)
    {
        let minutes = minutes_since(since);
        if minutes >= status.offline_alert_minutes.max(1) as f64 {
            let mut a = alert(
                "sync_offline",
                "warning",
                format!(
                    "the sync agent has been offline for {minutes:.0} min (alert after {} min): \
                     {} records wait; check the network and the agent's last errors",
                    status.offline_alert_minutes, status.waiting_records
                ),
            );
            a.value = Some(minutes);
            a.limit = Some(status.offline_alert_minutes as f64);
            alerts.push(a);
        }
    }
    if let Some(percent) = disk_percent(status)
        && status.waiting_alert_percent > 0
        && percent >= f64::from(status.waiting_alert_percent)
    {
        let mut a = alert(
            "sync_backlog",
            if percent >= 100.0 {
                "critical"
            } else {
                "warning"
            },
            format!(
                "records waiting for the cloud take {percent:.0} % of the sync agent's disk \
                 bound ({} of {} bytes; alert at {} %)",
                status.disk_bytes, status.disk_limit_bytes, status.waiting_alert_percent
            ),
        );
        a.value = Some(percent);
        a.limit = Some(f64::from(status.waiting_alert_percent));
        alerts.push(a);
    }
    alerts
}

fn link(link: &file::Link) -> SyncLinkLive {
    SyncLinkLive {
        connected: link.connected,
        since: link.since,
        last_error: link.last_error.clone(),
    }
}

/// The API's view of a status at `now`.
pub fn view(status: &SyncStatus, now: DateTime<Utc>) -> SyncStatusLive {
    let state = state(status, now);
    SyncStatusLive {
        state,
        alerts: alerts(status, now),
        offline_since: (state == SyncState::Offline)
            .then(|| offline_since(status))
            .flatten(),
        v: status.v,
        agent_version: status.agent_version.clone(),
        pid: status.pid,
        updated_at: status.updated_at,
        org: status.org.clone(),
        box_id: status.box_id.clone(),
        mqtt: link(&status.mqtt),
        s3: link(&status.s3),
        waiting_records: status.waiting_records,
        oldest_waiting_at: status.oldest_waiting_at,
        waiting_optouts: status.waiting_optouts,
        disk_bytes: status.disk_bytes,
        disk_limit_bytes: status.disk_limit_bytes,
        dnc: SyncDncLive {
            version: status.dnc.version,
            applied_at: status.dnc.applied_at,
            listed: status.dnc.listed,
        },
        model: status.model.as_ref().map(|model| SyncModelLive {
            name: model.name.clone(),
            version: model.version.clone(),
            sha256: model.sha256.clone(),
            installed_at: model.installed_at,
        }),
        offline_alert_minutes: status.offline_alert_minutes,
        waiting_alert_percent: status.waiting_alert_percent,
        counters: status.counters.clone(),
        errors: status
            .errors
            .iter()
            .map(|error| SyncErrorLive {
                at: error.at,
                what: error.what.clone(),
            })
            .collect(),
    }
}

/// The agent's series on `/metrics` (prefixed `shofar_` by the registry):
/// none while there is no status file; `sync_up` 0 alone once the status is
/// stale (the agent's figures are no longer true); everything while it is
/// fresh.
#[derive(Debug, Clone)]
pub struct SyncMetrics {
    follower: SyncFollower,
}

/// What each of the agent's counters counts (those the agent adds later get a
/// plain description).
fn counter_help(name: &str) -> String {
    match name {
        "records_published_total" => "Call and SMS records the sync agent published over MQTT".into(),
        "records_uploaded_total" => "Call and SMS records the sync agent uploaded to S3".into(),
        "optouts_published_total" => "The box's opt-outs the sync agent published to the other boxes".into(),
        "dnc_ops_applied_total" => "Central do-not-call changes the sync agent applied to this box's list".into(),
        "refused_total" => "Messages the sync agent refused (another organization's, unsigned, malformed); nothing of them applied".into(),
        "dropped_total" => "Records or changes the sync agent lost for good (never shipped nor applied); counted only when data is really lost, not when it waits or is retried".into(),
        "errors_total" => "Errors the sync agent met (each retried; its status lists the last ones)".into(),
        other => format!("The sync agent's counter {other}"),
    }
}

/// A metric name the text format accepts.
fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn gauge<N>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: N,
) -> Result<(), std::fmt::Error>
where
    ConstGauge<N>: EncodeMetric,
{
    let gauge = ConstGauge::new(value);
    gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
}

impl Collector for SyncMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(status) = self.follower.latest() else {
            return Ok(());
        };
        let now = Utc::now();
        let up = !status.is_stale(now);
        gauge(
            &mut encoder,
            "sync_up",
            "1 while the sync agent reports (its status is under a minute old), 0 once it has stopped",
            i64::from(up),
        )?;
        if !up {
            return Ok(());
        }
        {
            let connected = ConstGauge::new(0i64);
            let mut family = encoder.encode_descriptor(
                "sync_connected",
                "1 while the sync agent's link (mqtt, s3) is connected",
                None,
                connected.metric_type(),
            )?;
            for (name, link) in [("mqtt", &status.mqtt), ("s3", &status.s3)] {
                ConstGauge::new(i64::from(link.connected))
                    .encode(family.encode_family(&[("link", name)])?)?;
            }
        }
        gauge(
            &mut encoder,
            "sync_waiting_records",
            "Call and SMS records waiting on the box for the cloud",
            status.waiting_records as i64,
        )?;
        gauge(
            &mut encoder,
            "sync_oldest_waiting_seconds",
            "How long the oldest waiting record has waited (0 when none waits)",
            status.oldest_waiting_at.map_or(0.0, |at| {
                (now - at).num_milliseconds().max(0) as f64 / 1000.0
            }),
        )?;
        gauge(
            &mut encoder,
            "sync_waiting_optouts",
            "The box's opt-outs waiting to be published to the other boxes",
            status.waiting_optouts as i64,
        )?;
        gauge(
            &mut encoder,
            "sync_dnc_version",
            "The version of the organization's central do-not-call list last applied here",
            status.dnc.version as i64,
        )?;
        for (name, value) in &status.counters {
            if !is_metric_name(name) {
                continue;
            }
            // The text format adds `_total` to a counter's samples itself.
            let family = format!("sync_{}", name.strip_suffix("_total").unwrap_or(name));
            let counter = ConstCounter::new(*value);
            counter.encode(encoder.encode_descriptor(
                &family,
                &counter_help(name),
                None,
                counter.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use prometheus_client::registry::Registry;
    use shofar_store::sync::status::Link;

    fn at(minute: u32, second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, 10, minute, second)
            .unwrap()
    }

    fn online() -> SyncStatus {
        let up = Link {
            connected: true,
            since: Some(at(0, 0)),
            last_error: None,
        };
        SyncStatus {
            updated_at: at(30, 0),
            org: "acme".into(),
            box_id: "tlv-1".into(),
            mqtt: up.clone(),
            s3: up,
            waiting_records: 4,
            oldest_waiting_at: Some(at(29, 30)),
            disk_bytes: 100,
            disk_limit_bytes: 1000,
            offline_alert_minutes: 15,
            waiting_alert_percent: 80,
            counters: [
                ("records_uploaded_total".to_owned(), 12),
                ("dropped_total".to_owned(), 0),
                ("bad name".to_owned(), 1),
            ]
            .into(),
            ..SyncStatus::default()
        }
    }

    fn codes(status: &SyncStatus, now: DateTime<Utc>) -> Vec<String> {
        alerts(status, now).into_iter().map(|a| a.code).collect()
    }

    #[test]
    fn the_state_and_alerts_follow_the_status_and_the_clock() {
        let status = online();
        let now = at(30, 10);
        assert_eq!(state(&status, now), SyncState::Online);
        assert!(codes(&status, now).is_empty());
        // Silent for more than a minute: not running.
        assert_eq!(state(&status, at(31, 1)), SyncState::NotRunning);
        assert_eq!(codes(&status, at(31, 1)), ["sync_not_running"]);
        // Running without its names.
        let unnamed = SyncStatus {
            org: String::new(),
            ..online()
        };
        assert_eq!(state(&unnamed, now), SyncState::NotConfigured);
        // S3 down since 10:20: offline, alerted after 15 minutes.
        let mut offline = online();
        offline.s3 = Link {
            connected: false,
            since: Some(at(20, 0)),
            last_error: Some("timed out".into()),
        };
        assert_eq!(state(&offline, now), SyncState::Offline);
        assert_eq!(view(&offline, now).offline_since, Some(at(20, 0)));
        assert!(codes(&offline, now).is_empty(), "10 minutes is not long");
        offline.mqtt.connected = false;
        offline.mqtt.since = Some(at(10, 0));
        let alerted = alerts(&offline, now);
        assert_eq!(alerted.len(), 1);
        assert_eq!(alerted[0].code, "sync_offline");
        // Down since 10:10, the earlier of the two; whole minutes.
        assert_eq!(alerted[0].value, Some(20.0));
        // Within the minute nothing changes, so the live snapshot is not pushed
        // again for the clock alone.
        assert_eq!(view(&offline, now), view(&offline, at(30, 50)));
        assert_ne!(view(&offline, now), view(&offline, at(31, 10)));
        assert_eq!(alerted[0].limit, Some(15.0));
        // The backlog against the disk bound.
        let mut full = online();
        full.disk_bytes = 800;
        assert_eq!(codes(&full, now), ["sync_backlog"]);
        assert_eq!(alerts(&full, now)[0].severity, "warning");
        full.disk_bytes = 1000;
        assert_eq!(alerts(&full, now)[0].severity, "critical");
        full.disk_limit_bytes = 0;
        assert!(codes(&full, now).is_empty(), "no bound, no share");
    }

    fn scrape(follower: &SyncFollower) -> String {
        let mut registry = Registry::with_prefix("shofar");
        registry.register_collector(Box::new(follower.metrics()));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn metrics_say_the_agent_is_up_only_while_it_reports() {
        let follower = SyncFollower::new();
        assert_eq!(scrape(&follower), "# EOF\n", "no agent, no series");
        let mut status = online();
        status.updated_at = Utc::now();
        status.oldest_waiting_at = Some(Utc::now() - chrono::Duration::seconds(90));
        status.s3.connected = false;
        status.dnc.version = 7;
        follower.latest.send_replace(Some(status.clone()));
        let text = scrape(&follower);
        for line in [
            "shofar_sync_up 1",
            "shofar_sync_connected{link=\"mqtt\"} 1",
            "shofar_sync_connected{link=\"s3\"} 0",
            "shofar_sync_waiting_records 4",
            "shofar_sync_dnc_version 7",
            "# TYPE shofar_sync_records_uploaded counter",
            "shofar_sync_records_uploaded_total 12",
            "shofar_sync_dropped_total 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing from\n{text}"
            );
        }
        assert!(text.contains("really lost"), "dropped says what it counts");
        assert!(!text.contains("bad name"), "{text}");
        let waited = text
            .lines()
            .find_map(|l| l.strip_prefix("shofar_sync_oldest_waiting_seconds "))
            .unwrap();
        assert!(
            (90.0..100.0).contains(&waited.parse::<f64>().unwrap()),
            "{waited}"
        );
        // Stopped: only that.
        status.updated_at = Utc::now() - chrono::Duration::minutes(5);
        follower.latest.send_replace(Some(status));
        let text = scrape(&follower);
        assert!(text.contains("shofar_sync_up 0"), "{text}");
        assert!(!text.contains("waiting_records"), "{text}");
    }
}

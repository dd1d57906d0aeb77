//! How the agent is doing, for people: `DATA/sync/status.json` every two seconds
//! (read by `shofar serve` for `/api/v1/status`, `/metrics` and the web UI, and by
//! `shofar-sync status`), and the box's status in S3 every `status_minutes` for
//! `shofar-sync central boxes`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use shofar_store::Store;
use shofar_store::sync::status::{self as file, DncSync, Link, ModelInfo, SyncError, SyncStatus};

use crate::agent::{Agent, LANE_OPTOUTS};
use crate::config::SyncConfig;
use crate::down::InstalledModel;
use crate::lanes::Lane;
use crate::wire::{self, BoxStatus, Name};

/// A link's state change.
pub struct LinkState {
    connected: bool,
    error: Option<String>,
}

impl LinkState {
    pub fn up() -> LinkState {
        LinkState {
            connected: true,
            error: None,
        }
    }

    pub fn down(error: String) -> LinkState {
        LinkState {
            connected: false,
            error: Some(error),
        }
    }
}

/// What the tasks report for the status.
pub struct Shared {
    inner: Mutex<Inner>,
    org: String,
    box_id: String,
    offline_alert_minutes: u64,
    waiting_alert_percent: u8,
    disk_limit_bytes: u64,
}

struct Inner {
    mqtt: Link,
    s3: Link,
    model: Option<InstalledModel>,
    dnc_applied_at: Option<DateTime<Utc>>,
}

fn set(link: &mut Link, state: LinkState) {
    if link.connected != state.connected || link.since.is_none() {
        link.since = Some(Utc::now());
    }
    link.connected = state.connected;
    if state.error.is_some() || state.connected {
        link.last_error = state.error;
    }
}

impl Shared {
    pub fn new(config: &SyncConfig, me: &Name, model: Option<InstalledModel>) -> Shared {
        let down = Link {
            connected: false,
            since: Some(Utc::now()),
            last_error: None,
        };
        Shared {
            inner: Mutex::new(Inner {
                mqtt: down.clone(),
                s3: down,
                model,
                dnc_applied_at: None,
            }),
            org: config.org.as_str().to_owned(),
            box_id: me.as_str().to_owned(),
            offline_alert_minutes: config.offline_alert_minutes,
            waiting_alert_percent: config.waiting_alert_percent,
            disk_limit_bytes: config.max_disk_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn mqtt(&self, state: LinkState) {
        set(&mut self.lock().mqtt, state);
    }

    pub fn mqtt_connected(&self) -> bool {
        self.lock().mqtt.connected
    }

    pub fn s3(&self, state: LinkState) {
        set(&mut self.lock().s3, state);
    }

    pub fn dnc_applied(&self) {
        self.lock().dnc_applied_at = Some(Utc::now());
    }

    pub fn model(&self) -> Option<InstalledModel> {
        self.lock().model.clone()
    }

    pub fn set_model(&self, model: InstalledModel) {
        self.lock().model = Some(model);
    }
}

/// Writes the status file every two seconds, and the box's status to S3 every
/// `status_minutes`.
pub async fn run(agent: Arc<Agent>) -> anyhow::Result<()> {
    let path = agent.config.data_dir.join("shofar.db");
    let store = tokio::task::spawn_blocking(move || Store::open(&path)).await??;
    let store = Arc::new(Mutex::new(store));
    let mut uploaded: Option<Instant> = None;
    let every = Duration::from_secs(agent.config.status_minutes * 60);
    loop {
        let status = {
            let agent = Arc::clone(&agent);
            let store = Arc::clone(&store);
            tokio::task::spawn_blocking(move || -> anyhow::Result<SyncStatus> {
                let store = store.lock().unwrap_or_else(|p| p.into_inner());
                let status = build(&agent, &store)?;
                file::write_status(&agent.config.data_dir, &status)?;
                Ok(status)
            })
            .await??
        };
        if uploaded.is_none_or(|at| at.elapsed() >= every) {
            let report = BoxStatus {
                v: wire::VERSION,
                org: agent.config.org.clone(),
                r#box: agent.me.clone(),
                at: status.updated_at.to_rfc3339(),
                version: status.agent_version.clone(),
                connected_since: status
                    .mqtt
                    .connected
                    .then_some(status.mqtt.since)
                    .flatten()
                    .map(|t| t.to_rfc3339()),
                waiting_records: status.waiting_records,
                oldest_waiting_at: status.oldest_waiting_at.map(|t| t.to_rfc3339()),
                waiting_optouts: status.waiting_optouts,
                dnc_version: status.dnc.version,
                model: status
                    .model
                    .as_ref()
                    .map(|m| format!("{} {}", m.name, m.version)),
                errors: status.errors.iter().map(|e| e.what.clone()).collect(),
            };
            let key = agent.keys.box_status(&agent.me);
            match agent
                .s3
                .put(&key, serde_json::to_vec(&report)?, "application/json")
                .await
            {
                Ok(()) => uploaded = Some(Instant::now()),
                Err(error) => tracing::debug!(%error, "status not written to S3; next round"),
            }
        }
        tokio::select! {
            _ = agent.stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

fn build(agent: &Agent, store: &Store) -> anyhow::Result<SyncStatus> {
    let records_s3: i64 = agent.state.get("pos:records_s3")?.unwrap_or(0);
    let optouts_lane: Lane = agent.state.get(LANE_OPTOUTS)?.unwrap_or_default();
    let optouts_s3: i64 = agent.state.get("pos:optouts_s3")?.unwrap_or(0);
    let (waiting_records, oldest_waiting_at) = store.sync_waiting(records_s3)?;
    let waiting_optouts =
        store.sync_optouts_waiting(optouts_lane.done_through().min(optouts_s3))?;
    let (version, listed) = {
        let merger = agent.merger.lock().unwrap_or_else(|p| p.into_inner());
        (merger.version(), merger.listed())
    };
    let (counters, errors) = agent.counters.snapshot();
    let shared = &agent.shared;
    let inner = shared.lock();
    Ok(SyncStatus {
        v: file::STATUS_VERSION,
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        pid: std::process::id(),
        updated_at: Utc::now(),
        org: shared.org.clone(),
        box_id: shared.box_id.clone(),
        mqtt: inner.mqtt.clone(),
        s3: inner.s3.clone(),
        waiting_records,
        oldest_waiting_at,
        waiting_optouts,
        disk_bytes: agent.state.size_bytes(),
        disk_limit_bytes: shared.disk_limit_bytes,
        dnc: DncSync {
            version,
            applied_at: inner.dnc_applied_at,
            listed,
        },
        model: inner.model.as_ref().map(|m| ModelInfo {
            name: m.name.clone(),
            version: m.version.clone(),
            sha256: m.sha256.clone(),
            installed_at: m.installed_at,
        }),
        offline_alert_minutes: shared.offline_alert_minutes,
        waiting_alert_percent: shared.waiting_alert_percent,
        counters,
        errors: errors
            .into_iter()
            .map(|(at, what)| SyncError { at, what })
            .collect(),
    })
}

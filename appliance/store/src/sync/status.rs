//! `DATA/sync/status.json`: how the sync agent is doing, written by the agent
//! every few seconds and read by the supervisor (`/api/v1/status`, `/metrics`,
//! the web UI). The file is a versioned format shared by two programs that may
//! be of different versions: written whole (a temporary file, synced, renamed),
//! read tolerantly (a missing field takes its default, an unknown one is
//! ignored), and a file that cannot be read is as good as none — it never fails
//! the reader.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The version of the file's format this crate writes.
pub const STATUS_VERSION: u32 = 1;

/// An agent whose status is older than this is taken as not running (it writes
/// every few seconds).
pub const STALE_AFTER_SECONDS: i64 = 60;

/// The largest status file read; anything bigger is not the agent's.
const MAX_STATUS_BYTES: u64 = 1 << 20;

/// The agent's status.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct SyncStatus {
    /// The file's format version ([`STATUS_VERSION`]).
    pub v: u32,
    pub agent_version: String,
    pub pid: u32,
    /// When the agent wrote the file.
    pub updated_at: DateTime<Utc>,
    pub org: String,
    pub box_id: String,
    pub mqtt: Link,
    pub s3: Link,
    /// Feed entries not yet in the cloud.
    pub waiting_records: u64,
    pub oldest_waiting_at: Option<DateTime<Utc>>,
    /// The box's opt-outs not yet published.
    pub waiting_optouts: u64,
    /// What the agent's own files take, and the most it lets them take.
    pub disk_bytes: u64,
    pub disk_limit_bytes: u64,
    pub dnc: DncSync,
    /// The last model installed.
    pub model: Option<ModelInfo>,
    /// Offline for longer than this many minutes is an alert.
    pub offline_alert_minutes: u64,
    /// Waiting records taking this share of the disk bound or more is an alert.
    pub waiting_alert_percent: u8,
    /// Monotonic counters since the agent started, by name, each ending in
    /// `_total`: `records_published_total`, `records_uploaded_total`,
    /// `optouts_published_total`, `dnc_ops_applied_total`, `refused_total`,
    /// `dropped_total` (data really lost), `errors_total`.
    pub counters: BTreeMap<String, u64>,
    /// The last errors, oldest first.
    pub errors: Vec<SyncError>,
}

impl Default for SyncStatus {
    fn default() -> SyncStatus {
        SyncStatus {
            v: STATUS_VERSION,
            agent_version: String::new(),
            pid: 0,
            updated_at: DateTime::<Utc>::default(),
            org: String::new(),
            box_id: String::new(),
            mqtt: Link::default(),
            s3: Link::default(),
            waiting_records: 0,
            oldest_waiting_at: None,
            waiting_optouts: 0,
            disk_bytes: 0,
            disk_limit_bytes: 0,
            dnc: DncSync::default(),
            model: None,
            offline_alert_minutes: 0,
            waiting_alert_percent: 0,
            counters: BTreeMap::new(),
            errors: Vec::new(),
        }
    }
}

/// A connection the agent keeps (MQTT, S3).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Link {
    pub connected: bool,
    /// Since when it is connected (or, when not, disconnected).
    pub since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// The central do-not-call list as applied on this box.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct DncSync {
    /// The version of the merged central list last applied.
    pub version: u64,
    pub applied_at: Option<DateTime<Utc>>,
    /// Numbers the central list has listed on this box.
    pub listed: u64,
}

/// A model the agent installed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct ModelInfo {
    pub name: String,
    pub version: String,
    /// Hex.
    pub sha256: String,
    pub installed_at: DateTime<Utc>,
}

/// An error the agent met.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct SyncError {
    pub at: DateTime<Utc>,
    pub what: String,
}

impl SyncStatus {
    /// Whether the file is too old to say anything: the agent is not running.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        now.signed_duration_since(self.updated_at).num_seconds() > STALE_AFTER_SECONDS
    }
}

/// `DATA/sync/status.json`.
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sync").join("status.json")
}

/// Writes the status whole: a temporary file beside it, synced, then renamed
/// over it (and the folder synced), so a reader sees the old file or the new
/// one, never a part.
pub fn write_status(data_dir: &Path, status: &SyncStatus) -> std::io::Result<()> {
    let path = status_path(data_dir);
    let folder = path.parent().expect("the status path has a folder");
    std::fs::create_dir_all(folder)?;
    let temporary = folder.join(format!(".status.json.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&serde_json::to_vec_pretty(status)?)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written?;
    // The rename itself survives a power cut once the folder is synced.
    if let Ok(folder) = std::fs::File::open(folder) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// The agent's status, or `None` when there is no file or it cannot be read
/// (never an error: the supervisor shows "no status" instead).
pub fn read_status(data_dir: &Path) -> Option<SyncStatus> {
    use std::io::Read;
    let path = status_path(data_dir);
    let mut bytes = Vec::new();
    let file = std::fs::File::open(&path).ok()?;
    file.take(MAX_STATUS_BYTES).read_to_end(&mut bytes).ok()?;
    // Only an object is a status (serde would take `[]` for one of defaults).
    let parsed =
        serde_json::from_slice::<serde_json::Value>(&bytes).and_then(|value| match value {
            serde_json::Value::Object(_) => serde_json::from_value(value),
            _ => Err(serde::de::Error::custom("not a JSON object")),
        });
    match parsed {
        Ok(status) => Some(status),
        Err(error) => {
            tracing::debug!(path = %path.display(), %error, "the sync agent's status cannot be read");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> SyncStatus {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        SyncStatus {
            agent_version: "0.1.0".into(),
            pid: 4242,
            updated_at: at,
            org: "acme".into(),
            box_id: "tlv-1".into(),
            mqtt: Link {
                connected: true,
                since: Some(at),
                last_error: None,
            },
            waiting_records: 12,
            oldest_waiting_at: Some(at),
            disk_bytes: 1000,
            disk_limit_bytes: 10_000,
            dnc: DncSync {
                version: 7,
                applied_at: Some(at),
                listed: 3,
            },
            model: Some(ModelInfo {
                name: "best-hours".into(),
                version: "2".into(),
                sha256: "ab".repeat(32),
                installed_at: at,
            }),
            offline_alert_minutes: 30,
            waiting_alert_percent: 80,
            counters: [("records_uploaded_total".to_owned(), 5)].into(),
            errors: vec![SyncError {
                at,
                what: "s3: timed out".into(),
            }],
            ..SyncStatus::default()
        }
    }

    #[test]
    fn a_written_status_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_status(dir.path()), None, "no file, no status");
        write_status(dir.path(), &sample()).unwrap();
        assert_eq!(read_status(dir.path()), Some(sample()));
        assert_eq!(read_status(dir.path()).unwrap().v, STATUS_VERSION);
        // Nothing left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sync"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["status.json"]);
    }

    #[test]
    fn reading_is_tolerant_and_never_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = status_path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // An older or newer agent: fields missing, fields unknown.
        std::fs::write(
            &path,
            r#"{"v": 2, "box_id": "tlv-1", "mqtt": {"connected": true}, "future": [1, 2]}"#,
        )
        .unwrap();
        let status = read_status(dir.path()).unwrap();
        assert_eq!((status.v, status.box_id.as_str()), (2, "tlv-1"));
        assert!(status.mqtt.connected && !status.s3.connected);
        assert!(status.counters.is_empty() && status.model.is_none());
        // A half-written or foreign file is no status.
        for text in ["{\"v\": 1, \"pid\"", "not json", "[]"] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(read_status(dir.path()), None, "{text}");
        }
    }

    #[test]
    fn a_status_older_than_a_minute_is_stale() {
        let status = sample();
        let at = status.updated_at;
        assert!(!status.is_stale(at));
        assert!(!status.is_stale(at + chrono::Duration::seconds(60)));
        assert!(status.is_stale(at + chrono::Duration::seconds(61)));
        // A clock that went back says nothing about the agent.
        assert!(!status.is_stale(at - chrono::Duration::seconds(600)));
    }
}

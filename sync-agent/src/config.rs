//! The `[sync]` section of `shofar.toml` (the supervisor's own file: it passes the
//! section over unread), parsed and checked before anything connects.
//!
//! Every key a box needs is named in the error when it is missing; every optional
//! key has a default chosen for AWS IoT Core's limits (docs/sync.md).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::wire::{Name, VerifyingKey};

/// Where the file is looked for when neither `--config` nor `SHOFAR_CONFIG` says.
pub const SYSTEM_CONFIG: &str = "/etc/shofar/shofar.toml";
/// The supervisor's data directory when nothing says (its unit's `StateDirectory`).
pub const SYSTEM_DATA_DIR: &str = "/var/lib/shofar";

/// The part of `shofar.toml` the agent reads; every other section is the supervisor's.
#[derive(Debug, Default, Deserialize)]
struct File {
    data_dir: Option<PathBuf>,
    sync: Option<toml::Table>,
}

/// `[sync]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSection {
    /// The organization: every topic and key is under it.
    pub org: String,
    /// This box's id: its certificate's thing name, `[a-z0-9-]`, unique in the organization.
    pub box_id: String,
    /// `mqtts://HOST:PORT` (AWS IoT Core: the account's ATS endpoint, port 8883).
    pub mqtt_url: String,
    /// The CA that signed the broker's certificate (AWS: AmazonRootCA1.pem).
    pub ca: Option<PathBuf>,
    /// This box's certificate and private key (PEM).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// The S3 endpoint (`https://s3.il-central-1.amazonaws.com`, or an S3-compatible server).
    pub s3_endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// For temporary credentials (the IoT credential provider's).
    pub session_token: Option<String>,
    /// Path-style S3 URLs (`endpoint/bucket/key`): the default for anything but AWS.
    pub path_style: Option<bool>,
    /// The organization's Ed25519 public key (base64): when set, central
    /// do-not-call changes and models must carry its signature.
    pub org_public_key: Option<String>,
    /// The bound on the agent's own files (its state and model downloads), MiB.
    pub max_disk_mb: u64,
    /// Alert when the box has been offline longer than this.
    pub offline_alert_minutes: u64,
    /// Alert when the agent's files reach this share of `max_disk_mb`.
    pub waiting_alert_percent: u8,
    /// MQTT publishes per second (AWS IoT Core allows ≈100 per connection).
    pub publish_rate: u32,
    /// MQTT payload bytes per second, KiB (AWS IoT Core allows 512 per connection).
    pub publish_kib_per_second: u32,
    /// Unacknowledged QoS 1 publishes at most (AWS IoT Core allows 100).
    pub max_inflight: u16,
    /// Records per S3 batch, and the longest a record waits for its batch to fill.
    pub batch_records: usize,
    pub batch_seconds: u64,
    /// How often the box looks in S3 for do-not-call changes and models it missed.
    pub catchup_minutes: u64,
    /// How often the box writes its status to S3 and the broker.
    pub status_minutes: u64,
    /// Where models are installed (default `DATA/models`).
    pub models_dir: Option<PathBuf>,
    /// For `shofar-sync central`: the admin's name, written into every change.
    pub admin: Option<String>,
    /// For `shofar-sync central`: the organization's signing key (PKCS#8).
    pub signing_key: Option<PathBuf>,
}

impl SyncSection {
    fn defaults() -> SyncSection {
        SyncSection {
            region: "il-central-1".into(),
            max_disk_mb: 512,
            offline_alert_minutes: 60,
            waiting_alert_percent: 80,
            publish_rate: 50,
            publish_kib_per_second: 256,
            max_inflight: 50,
            batch_records: 5000,
            batch_seconds: 30,
            catchup_minutes: 15,
            status_minutes: 5,
            ..SyncSection::default()
        }
    }
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub org: Name,
    pub box_id: Option<Name>,
    pub mqtt: Option<MqttConfig>,
    pub s3: S3Config,
    pub org_key: Option<VerifyingKey>,
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub max_disk_bytes: u64,
    pub offline_alert_minutes: u64,
    pub waiting_alert_percent: u8,
    pub publish_rate: u32,
    pub publish_bytes_per_second: u32,
    pub max_inflight: u16,
    pub batch_records: usize,
    pub batch_seconds: u64,
    pub catchup_minutes: u64,
    pub status_minutes: u64,
    pub admin: Option<String>,
    pub signing_key: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub path_style: bool,
}

/// `--config`, else `$SHOFAR_CONFIG`, else `/etc/shofar/shofar.toml`.
pub fn config_path(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_owned)
        .or_else(|| std::env::var_os("SHOFAR_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(SYSTEM_CONFIG))
}

/// Reads and checks `[sync]`. `role` says who asks: a box needs its id and MQTT
/// files; a central admin needs neither.
pub fn load(path: &Path, data_dir_flag: Option<&Path>, role: Role) -> anyhow::Result<SyncConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} (give --config FILE)", path.display()))?;
    parse(&text, data_dir_flag, role).with_context(|| format!("in {}", path.display()))
}

/// Whether the file has a `[sync]` section (a box without one works offline and
/// its agent has nothing to do).
pub fn configured(path: &Path) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} (give --config FILE)", path.display()))?;
    let file: File = toml::from_str(&text).context("not a valid shofar.toml")?;
    Ok(file.sync.is_some())
}

/// Who the configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Box,
    Central,
}

pub fn parse(text: &str, data_dir_flag: Option<&Path>, role: Role) -> anyhow::Result<SyncConfig> {
    let file: File = toml::from_str(text).context("not a valid shofar.toml")?;
    let Some(given) = file.sync else {
        bail!(
            "there is no [sync] section: the box works offline without it; docs/sync.md \
             says how to connect it to the organization's AWS account"
        );
    };
    // The defaults, overlaid with what the file says (serde's `default` on the
    // struct would take the all-zero `Default` instead).
    let mut merged = toml::Table::try_from(SyncDefaults::from(SyncSection::defaults()))?;
    merged.extend(given);
    let section: SyncSection = merged.try_into().context("in [sync]")?;
    let need = |value: &str, key: &str| -> anyhow::Result<()> {
        if value.trim().is_empty() {
            bail!("[sync] {key} is missing (docs/sync.md, \"Setting up a box\")");
        }
        Ok(())
    };
    need(&section.org, "org")?;
    let org = Name::org(&section.org).context("[sync] org")?;
    let box_id = match role {
        Role::Box => {
            need(&section.box_id, "box_id")?;
            Some(Name::boxid(&section.box_id).context("[sync] box_id")?)
        }
        Role::Central => None,
    };
    let mqtt = if section.mqtt_url.trim().is_empty() {
        if role == Role::Box {
            bail!("[sync] mqtt_url is missing (docs/sync.md, \"Setting up a box\")");
        }
        None
    } else {
        let (host, port) = parse_mqtt_url(&section.mqtt_url)?;
        let file = |p: &Option<PathBuf>, key: &str| -> anyhow::Result<PathBuf> {
            p.clone().with_context(|| {
                format!("[sync] {key} is missing: the broker needs mutual TLS (docs/sync.md)")
            })
        };
        Some(MqttConfig {
            host,
            port,
            ca: file(&section.ca, "ca")?,
            cert: file(&section.cert, "cert")?,
            key: file(&section.key, "key")?,
        })
    };
    need(&section.s3_endpoint, "s3_endpoint")?;
    need(&section.bucket, "bucket")?;
    need(&section.access_key_id, "access_key_id")?;
    need(&section.secret_access_key, "secret_access_key")?;
    let path_style = section
        .path_style
        .unwrap_or(!section.s3_endpoint.contains("amazonaws.com"));
    let org_key = section
        .org_public_key
        .as_deref()
        .map(VerifyingKey::from_base64)
        .transpose()
        .context("[sync] org_public_key is not a base64 Ed25519 public key")?;
    if section.max_inflight == 0 || section.max_inflight > 100 {
        bail!("[sync] max_inflight must be 1 to 100 (AWS IoT Core's limit is 100)");
    }
    if section.batch_records == 0 || section.batch_records > 100_000 {
        bail!("[sync] batch_records must be 1 to 100000");
    }
    if section.waiting_alert_percent == 0 || section.waiting_alert_percent > 100 {
        bail!("[sync] waiting_alert_percent must be 1 to 100");
    }
    let data_dir = data_dir_flag
        .map(Path::to_owned)
        .or_else(|| std::env::var_os("SHOFAR_DATA_DIR").map(PathBuf::from))
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from(SYSTEM_DATA_DIR));
    let models_dir = section
        .models_dir
        .clone()
        .unwrap_or_else(|| data_dir.join("models"));
    Ok(SyncConfig {
        org,
        box_id,
        mqtt,
        s3: S3Config {
            endpoint: section.s3_endpoint.clone(),
            region: section.region.clone(),
            bucket: section.bucket.clone(),
            access_key_id: section.access_key_id.clone(),
            secret_access_key: section.secret_access_key.clone(),
            session_token: section.session_token.clone(),
            path_style,
        },
        org_key,
        data_dir,
        models_dir,
        max_disk_bytes: section.max_disk_mb.saturating_mul(1024 * 1024),
        offline_alert_minutes: section.offline_alert_minutes,
        waiting_alert_percent: section.waiting_alert_percent,
        publish_rate: section.publish_rate,
        publish_bytes_per_second: section.publish_kib_per_second.saturating_mul(1024),
        max_inflight: section.max_inflight,
        batch_records: section.batch_records,
        batch_seconds: section.batch_seconds,
        catchup_minutes: section.catchup_minutes.max(1),
        status_minutes: section.status_minutes.max(1),
        admin: section.admin.clone(),
        signing_key: section.signing_key.clone(),
    })
}

/// The defaults as a table (only the keys that have one).
#[derive(serde::Serialize)]
struct SyncDefaults {
    region: String,
    max_disk_mb: u64,
    offline_alert_minutes: u64,
    waiting_alert_percent: u8,
    publish_rate: u32,
    publish_kib_per_second: u32,
    max_inflight: u16,
    batch_records: usize,
    batch_seconds: u64,
    catchup_minutes: u64,
    status_minutes: u64,
}

impl From<SyncSection> for SyncDefaults {
    fn from(s: SyncSection) -> SyncDefaults {
        SyncDefaults {
            region: s.region,
            max_disk_mb: s.max_disk_mb,
            offline_alert_minutes: s.offline_alert_minutes,
            waiting_alert_percent: s.waiting_alert_percent,
            publish_rate: s.publish_rate,
            publish_kib_per_second: s.publish_kib_per_second,
            max_inflight: s.max_inflight,
            batch_records: s.batch_records,
            batch_seconds: s.batch_seconds,
            catchup_minutes: s.catchup_minutes,
            status_minutes: s.status_minutes,
        }
    }
}

fn parse_mqtt_url(url: &str) -> anyhow::Result<(String, u16)> {
    let Some(rest) = url.strip_prefix("mqtts://") else {
        bail!(
            "[sync] mqtt_url {url:?} must start with mqtts://: the broker is reached with \
             mutual TLS only"
        );
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .with_context(|| format!("[sync] mqtt_url {url:?}: bad port"))?,
        ),
        None => (rest, 8883),
    };
    if host.is_empty() {
        bail!("[sync] mqtt_url {url:?} has no host");
    }
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: &str = r#"
        data_dir = "/srv/shofar"
        [http]
        listen = "0.0.0.0:443"
        [sync]
        org = "acme"
        box_id = "jerusalem-1"
        mqtt_url = "mqtts://a1b2c3-ats.iot.il-central-1.amazonaws.com:8883"
        ca = "/etc/shofar/sync/ca.pem"
        cert = "/etc/shofar/sync/box.pem"
        key = "/etc/shofar/sync/box.key"
        s3_endpoint = "https://s3.il-central-1.amazonaws.com"
        bucket = "acme-shofar"
        access_key_id = "AKIA"
        secret_access_key = "secret"
        publish_rate = 20
    "#;

    #[test]
    fn a_box_configuration_with_defaults() {
        let config = parse(BOX, None, Role::Box).unwrap();
        assert_eq!(config.org.as_str(), "acme");
        assert_eq!(config.box_id.unwrap().as_str(), "jerusalem-1");
        let mqtt = config.mqtt.unwrap();
        assert_eq!(mqtt.port, 8883);
        assert!(!config.s3.path_style);
        assert_eq!(config.publish_rate, 20);
        assert_eq!(config.max_inflight, 50);
        assert_eq!(config.batch_records, 5000);
        assert_eq!(config.data_dir, PathBuf::from("/srv/shofar"));
        assert_eq!(config.models_dir, PathBuf::from("/srv/shofar/models"));
    }

    #[test]
    fn what_is_missing_is_named() {
        let no_section = parse("[http]\nlisten = \"x\"\n", None, Role::Box).unwrap_err();
        assert!(format!("{no_section:#}").contains("no [sync] section"));
        let no_box = parse(
            &BOX.replace("box_id = \"jerusalem-1\"", ""),
            None,
            Role::Box,
        )
        .unwrap_err();
        assert!(format!("{no_box:#}").contains("box_id is missing"));
        let plain = parse(&BOX.replace("mqtts://", "mqtt://"), None, Role::Box).unwrap_err();
        assert!(format!("{plain:#}").contains("mutual TLS"));
        let typo = parse(&BOX.replace("publish_rate", "publish_rat"), None, Role::Box).unwrap_err();
        assert!(format!("{typo:#}").contains("publish_rat"));
        let central = parse(
            &BOX.replace("box_id = \"jerusalem-1\"", ""),
            None,
            Role::Central,
        );
        assert!(central.is_ok());
    }
}

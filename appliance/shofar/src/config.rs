//! `shofar.toml`: the box's one configuration file, parsed into a validated typed
//! config at start-up and passed explicitly to whatever needs it.
//!
//! Every key has a documented default (docs/configuration.md), so an empty file —
//! or no file at all — is a working configuration. Unknown keys are errors: a typo
//! must not silently fall back to a default.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use shofar_calendar::{Havdalah, Location};
use shofar_campaign::BoxCalendar;
use shofar_import::DuplicateRule;
use shofar_pacing::{Cps, Thresholds};
use shofar_phone::Normalizer;
use shofar_telephony::SimConfig;
use shofar_telephony::config::{AsteriskConfig, TrunkConfig};

/// Where the config is looked for when neither `--config` nor `SHOFAR_CONFIG` says.
pub const SYSTEM_CONFIG: &str = "/etc/shofar/shofar.toml";

/// Where the box keeps its data when nothing else says (the systemd unit's
/// `StateDirectory`).
pub const SYSTEM_DATA_DIR: &str = "/var/lib/shofar";

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The data directory: the database, rejected-rows files, audio, backups.
    pub data_dir: Option<PathBuf>,
    pub import: ImportConfig,
    pub calendar: CalendarConfig,
    pub log: LogConfig,
    /// How the supervisor reaches Asterisk (ARI) and where audio goes.
    pub asterisk: AsteriskConfig,
    /// The carrier's SIP trunk, rendered into Asterisk's pjsip.conf.
    pub trunk: TrunkConfig,
    /// `shofar serve`: the box-wide pace, channels and health thresholds.
    pub dialer: DialerSection,
    /// `shofar serve`: where the web API, `/metrics` and `/healthz` listen.
    pub http: HttpConfig,
    /// The simulated network `dialer.backend = "simulator"` calls.
    pub simulator: SimConfig,
    /// The sync agent's section, read and checked by `shofar-sync` (docs/sync.md);
    /// the supervisor only passes it over (one file configures the box).
    pub sync: toml::Table,
}

/// Which telephony engine `shofar serve` dials through.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// Asterisk over ARI: real calls.
    #[default]
    Asterisk,
    /// The simulated network: nobody is called (demos and load benchmarks).
    Simulator,
}

/// The whole box's limits, and the health thresholds that lower its pace.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DialerSection {
    pub backend: BackendKind,
    /// Calls started per second, box-wide, at most (each campaign has its own
    /// `pacing.cps` too). Never exceeded in any one-second window.
    pub cps: f64,
    /// Calls up at once, box-wide.
    pub max_channels: u32,
    /// On shutdown, seconds active calls may go on before they are ended.
    pub grace_seconds: u32,
    pub cpu_high_percent: f64,
    pub cpu_ok_percent: f64,
    pub memory_high_percent: f64,
    pub memory_ok_percent: f64,
    pub load_per_core_high: f64,
    pub load_per_core_ok: f64,
    /// A campaign whose answer rate falls below this is slowed down…
    pub answer_rate_low: f64,
    /// …and recovers once it is back at or above this.
    pub answer_rate_ok: f64,
    /// Seconds of good health between two steps back up.
    pub recover_seconds: u32,
    /// Seconds after a decrease before the next change.
    pub hold_down_seconds: u32,
}

impl Default for DialerSection {
    fn default() -> DialerSection {
        let thresholds = Thresholds::for_channels(30);
        DialerSection {
            backend: BackendKind::Asterisk,
            cps: 10.0,
            max_channels: 30,
            grace_seconds: 30,
            cpu_high_percent: thresholds.cpu_high_percent,
            cpu_ok_percent: thresholds.cpu_ok_percent,
            memory_high_percent: thresholds.memory_high_percent,
            memory_ok_percent: thresholds.memory_ok_percent,
            load_per_core_high: thresholds.load_per_core_high,
            load_per_core_ok: thresholds.load_per_core_ok,
            answer_rate_low: thresholds.answer_rate_low,
            answer_rate_ok: thresholds.answer_rate_ok,
            recover_seconds: thresholds.recover_interval.as_secs() as u32,
            hold_down_seconds: thresholds.hold_down.as_secs() as u32,
        }
    }
}

impl DialerSection {
    /// The box's ceiling, validated.
    pub fn ceiling(&self) -> anyhow::Result<Cps> {
        Cps::new(self.cps).map_err(|error| anyhow::anyhow!("[dialer] cps: {error}"))
    }

    /// The pacing controller's thresholds these settings describe.
    pub fn thresholds(&self) -> anyhow::Result<Thresholds> {
        let mut thresholds = Thresholds::for_channels(self.max_channels.max(5));
        thresholds.cpu_high_percent = self.cpu_high_percent;
        thresholds.cpu_ok_percent = self.cpu_ok_percent;
        thresholds.memory_high_percent = self.memory_high_percent;
        thresholds.memory_ok_percent = self.memory_ok_percent;
        thresholds.load_per_core_high = self.load_per_core_high;
        thresholds.load_per_core_ok = self.load_per_core_ok;
        thresholds.answer_rate_low = self.answer_rate_low;
        thresholds.answer_rate_ok = self.answer_rate_ok;
        thresholds.recover_interval =
            std::time::Duration::from_secs(u64::from(self.recover_seconds));
        thresholds.hold_down = std::time::Duration::from_secs(u64::from(self.hold_down_seconds));
        thresholds
            .validate()
            .map_err(|error| anyhow::anyhow!("[dialer] {error}"))?;
        Ok(thresholds)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.ceiling()?;
        if !(1..=20_000).contains(&self.max_channels) {
            bail!(
                "[dialer] max_channels = {} is out of range (1 to 20000)",
                self.max_channels
            );
        }
        if self.grace_seconds > 3600 {
            bail!(
                "[dialer] grace_seconds = {} is too long (at most 3600)",
                self.grace_seconds
            );
        }
        self.thresholds()?;
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// `ADDRESS:PORT` of the web UI and API (`--listen` overrides). Loopback by
    /// default; a box in a rack listens on its LAN address, with `tls = true`.
    pub listen: String,
    /// Serve HTTPS. Without `tls_cert`/`tls_key`, a self-signed certificate is
    /// made on first start (in the data directory's `tls/`).
    pub tls: bool,
    /// The organization's certificate (PEM, with its chain) and key.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// With TLS: also listen here for plain HTTP, only to redirect to HTTPS
    /// (e.g. `0.0.0.0:80`).
    pub redirect_listen: Option<String>,
    /// Names the box is reached by besides `localhost` and its host name (the
    /// organization's DNS name): the redirect to HTTPS keeps one of them, or
    /// sends a request for any other name to the address it arrived at; a
    /// self-signed certificate is made for them too.
    pub host_names: Vec<String>,
    /// A session ends after this many hours unused.
    pub session_idle_hours: u32,
    /// A session ends this many days after login, used or not.
    pub session_days: u32,
    /// The largest contact or do-not-call file accepted, in MB.
    pub max_upload_mb: u64,
    /// The largest audio file accepted, in MB.
    pub max_audio_mb: u64,
    /// The largest backup accepted for a restore from the web UI, in MB.
    pub max_backup_mb: u64,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            listen: "127.0.0.1:8080".to_owned(),
            tls: false,
            tls_cert: None,
            tls_key: None,
            redirect_listen: None,
            host_names: Vec::new(),
            session_idle_hours: 12,
            session_days: 7,
            max_upload_mb: 200,
            max_audio_mb: 50,
            max_backup_mb: 8192,
        }
    }
}

impl HttpConfig {
    pub fn address(&self) -> anyhow::Result<std::net::SocketAddr> {
        self.listen.parse().map_err(|_| {
            anyhow::anyhow!(
                "[http] listen = {:?} is not an ADDRESS:PORT such as 127.0.0.1:8080",
                self.listen
            )
        })
    }

    pub fn redirect_address(&self) -> anyhow::Result<Option<std::net::SocketAddr>> {
        self.redirect_listen
            .as_deref()
            .map(|text| {
                text.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "[http] redirect_listen = {text:?} is not an ADDRESS:PORT such as 0.0.0.0:80"
                    )
                })
            })
            .transpose()
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.address()?;
        self.redirect_address()?;
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            bail!(
                "[http] tls_cert and tls_key go together: give both, or neither for a self-signed certificate"
            );
        }
        if self.redirect_listen.is_some() && !self.tls {
            bail!("[http] redirect_listen redirects to HTTPS: it needs tls = true");
        }
        for name in &self.host_names {
            let host_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !host_name && name.parse::<std::net::IpAddr>().is_err() {
                bail!(
                    "[http] host_names: {name:?} is not a host name or an IP address such as \
                     \"shofar.office.example\" (no scheme, port or path)"
                );
            }
        }
        if !(1..=24 * 30).contains(&self.session_idle_hours) {
            bail!(
                "[http] session_idle_hours = {} is not 1 to 720",
                self.session_idle_hours
            );
        }
        if !(1..=365).contains(&self.session_days) {
            bail!(
                "[http] session_days = {} is not 1 to 365",
                self.session_days
            );
        }
        if !(1..=10_240).contains(&self.max_upload_mb) || !(1..=1_024).contains(&self.max_audio_mb)
        {
            bail!("[http] max_upload_mb must be 1 to 10240 and max_audio_mb 1 to 1024");
        }
        if !(1..=65_536).contains(&self.max_backup_mb) {
            bail!(
                "[http] max_backup_mb = {} is not 1 to 65536",
                self.max_backup_mb
            );
        }
        Ok(())
    }
}

/// Where the box is, for Shabbat and holiday times.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// A known Israeli city (`jerusalem`, `tel_aviv`, `haifa`, …), or `custom` with
    /// `latitude` and `longitude`.
    pub location: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Candle-lighting, minutes before sunset (default: the city's custom — 40 in
    /// Jerusalem, 30 in Haifa, 20 elsewhere).
    pub candle_lighting_minutes: Option<u32>,
    /// Nightfall when the sun is this far below the horizon (default 8.5).
    pub havdalah_degrees: Option<f64>,
    /// Or nightfall a fixed number of minutes after sunset.
    pub havdalah_minutes: Option<u32>,
}

impl Default for CalendarConfig {
    fn default() -> CalendarConfig {
        CalendarConfig {
            location: "jerusalem".to_owned(),
            latitude: None,
            longitude: None,
            candle_lighting_minutes: None,
            havdalah_degrees: None,
            havdalah_minutes: None,
        }
    }
}

impl CalendarConfig {
    /// The box's calendar these settings describe.
    pub fn box_calendar(&self) -> anyhow::Result<BoxCalendar> {
        let location = match (self.location.as_str(), self.latitude, self.longitude) {
            ("custom", Some(latitude), Some(longitude)) => {
                if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
                    bail!("[calendar] latitude/longitude {latitude}, {longitude} are not on Earth");
                }
                Location::custom("custom", latitude, longitude, 20)
            }
            ("custom", _, _) => {
                bail!("[calendar] location = \"custom\" needs latitude and longitude")
            }
            (name, None, None) => Location::named(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "[calendar] unknown location {name:?}: one of {}, or \"custom\" with \
                     latitude and longitude",
                    Location::known_names().join(", ")
                )
            })?,
            (_, _, _) => bail!("[calendar] latitude and longitude go with location = \"custom\""),
        };
        if let Some(minutes) = self.candle_lighting_minutes
            && minutes > 120
        {
            bail!("[calendar] candle_lighting_minutes = {minutes} is too many (at most 120)");
        }
        let havdalah = match (self.havdalah_degrees, self.havdalah_minutes) {
            (Some(_), Some(_)) => {
                bail!("[calendar] give havdalah_degrees or havdalah_minutes, not both")
            }
            (Some(degrees), None) if (0.0..=18.0).contains(&degrees) && degrees > 0.0 => {
                Havdalah::Degrees(degrees)
            }
            (Some(degrees), None) => {
                bail!(
                    "[calendar] havdalah_degrees = {degrees} is out of range (above 0, at most 18)"
                )
            }
            (None, Some(minutes)) if (1..=120).contains(&minutes) => Havdalah::Minutes(minutes),
            (None, Some(minutes)) => {
                bail!("[calendar] havdalah_minutes = {minutes} is out of range (1 to 120)")
            }
            (None, None) => Havdalah::Degrees(8.5),
        };
        Ok(BoxCalendar {
            location,
            candle_lighting_minutes: self.candle_lighting_minutes,
            havdalah,
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// Region for numbers written without a country code (ISO 3166 alpha-2).
    pub default_region: String,
    /// Countries whose numbers are accepted; an empty list accepts every country.
    pub allowed_regions: Vec<String>,
    /// `keep_first` or `merge_metadata`.
    pub duplicates: DuplicateRule,
    /// How many invalid rows an import summary lists (the rejected-rows file has all).
    pub invalid_rows_in_summary: usize,
}

impl Default for ImportConfig {
    fn default() -> ImportConfig {
        ImportConfig {
            default_region: "IL".to_owned(),
            allowed_regions: vec!["IL".to_owned()],
            duplicates: DuplicateRule::KeepFirst,
            invalid_rows_in_summary: 100,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `shofar=debug,warn`; `RUST_LOG` overrides.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            level: "warn".to_owned(),
        }
    }
}

impl Config {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.normalizer()
            .context("[import] default_region / allowed_regions")?;
        self.calendar.box_calendar()?;
        self.asterisk.validate()?;
        self.trunk.validate()?;
        self.dialer.validate()?;
        self.http.validate()?;
        self.simulator
            .validate()
            .map_err(|problem| anyhow::anyhow!("[simulator] {problem}"))?;
        if self.import.invalid_rows_in_summary > 100_000 {
            bail!(
                "[import] invalid_rows_in_summary = {} is too large (at most 100000); \
                 the rejected-rows file lists every row anyway",
                self.import.invalid_rows_in_summary
            );
        }
        if let Some(dir) = &self.data_dir
            && dir.as_os_str().is_empty()
        {
            bail!("data_dir is empty: remove the key to use the default, or give a directory");
        }
        Ok(())
    }

    /// Applies the settings changed through the API (`PUT /api/v1/settings`,
    /// kept in the database) over the file's, and checks the result. Returns
    /// what changed, as `key = value`.
    pub fn apply_stored(
        &mut self,
        stored: &serde_json::Map<String, serde_json::Value>,
    ) -> anyhow::Result<Vec<String>> {
        let mut applied = Vec::new();
        for (key, value) in stored {
            let bad = || anyhow::anyhow!("stored setting {key} = {value} is not usable");
            match key.as_str() {
                "calendar.location" => {
                    self.calendar.location = value.as_str().ok_or_else(bad)?.to_owned();
                    self.calendar.latitude = None;
                    self.calendar.longitude = None;
                }
                "dialer.max_cps" => self.dialer.cps = value.as_f64().ok_or_else(bad)?,
                "dialer.max_channels" => {
                    self.dialer.max_channels = value
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(bad)?;
                }
                // Read by the web UI; nothing here to apply.
                "ui.language" => continue,
                _ => {
                    tracing::warn!(key, "ignoring a stored setting this shofar does not know");
                    continue;
                }
            }
            applied.push(format!("{key} = {value}"));
        }
        self.validate()
            .context("the settings changed in the web UI do not fit; change them there again")?;
        Ok(applied)
    }

    /// The phone-number normalizer the import settings describe.
    pub fn normalizer(&self) -> anyhow::Result<Normalizer> {
        Ok(Normalizer::new(
            &self.import.default_region,
            &self.import.allowed_regions,
        )?)
    }
}

/// The config file to read: `--config`, else `$SHOFAR_CONFIG`, else
/// `/etc/shofar/shofar.toml` if it exists; `None` means built-in defaults.
pub fn config_path(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_owned)
        .or_else(|| std::env::var_os("SHOFAR_CONFIG").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from(SYSTEM_CONFIG)).filter(|p| p.exists()))
}

/// The data directory: `--data-dir`, else `$SHOFAR_DATA_DIR`, else the config's
/// `data_dir`, else [`default_data_dir`]. The flag says whether the default was
/// taken (nobody chose the place), so a new database there can be announced.
pub fn data_dir(flag: Option<&Path>, config: &Config) -> (PathBuf, bool) {
    match flag
        .map(Path::to_owned)
        .or_else(|| std::env::var_os("SHOFAR_DATA_DIR").map(PathBuf::from))
        .or_else(|| config.data_dir.clone())
    {
        Some(dir) => (dir, false),
        None => (default_data_dir(), true),
    }
}

/// Where data lives when nobody said: for a development build (a debug build, or
/// a binary inside a Cargo target directory such as `~/.cache/shofar/target`),
/// `var/` in the checkout the command is run from (or in the current directory,
/// outside any checkout) — so two clones sharing one cached build keep their own
/// data; for an installed binary, `/var/lib/shofar`.
pub fn default_data_dir() -> PathBuf {
    if !development_build() {
        return PathBuf::from(SYSTEM_DATA_DIR);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    checkout_of(&cwd).unwrap_or(&cwd).join("var")
}

/// Whether this binary is a development build: see [`built_by_cargo`].
pub fn development_build() -> bool {
    built_by_cargo(std::env::current_exe().ok().as_deref())
}

/// A debug build, or an executable that Cargo built (its target directory holds
/// Cargo's `CACHEDIR.TAG`, at most three levels up: `target/release/shofar`,
/// `target/<triple>/release/shofar`, `target/debug/deps/…`).
fn built_by_cargo(executable: Option<&Path>) -> bool {
    cfg!(debug_assertions)
        || executable.is_some_and(|exe| {
            exe.ancestors()
                .skip(1)
                .take(4)
                .any(|dir| dir.join("CACHEDIR.TAG").is_file())
        })
}

/// The Shofar checkout `dir` is in: the nearest ancestor holding the workspace's
/// `Cargo.toml` and `appliance/shofar`.
fn checkout_of(dir: &Path) -> Option<&Path> {
    dir.ancestors().find(|candidate| {
        candidate.join("Cargo.toml").is_file()
            && candidate.join("appliance/shofar/Cargo.toml").is_file()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_development_build_keeps_its_data_in_the_checkout_it_runs_in() {
        let clone = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(clone.path().join("appliance/shofar/src")).unwrap();
        std::fs::write(clone.path().join("Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::write(clone.path().join("appliance/shofar/Cargo.toml"), "").unwrap();
        let deep = clone.path().join("appliance/shofar/src");
        assert_eq!(checkout_of(&deep), Some(clone.path()));
        assert_eq!(checkout_of(clone.path()), Some(clone.path()));
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(checkout_of(elsewhere.path()), None);
    }

    #[test]
    fn a_binary_cargo_built_is_a_development_build() {
        let target = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(target.path().join("release")).unwrap();
        std::fs::write(target.path().join("CACHEDIR.TAG"), "").unwrap();
        let built = target.path().join("release/shofar");
        assert!(built_by_cargo(Some(&built)));
        // Tests are debug builds; an installed release binary is not: only the
        // target directory's tag can say so here.
        let installed = tempfile::tempdir().unwrap();
        let installed = installed.path().join("usr/bin/shofar");
        assert_eq!(built_by_cargo(Some(&installed)), cfg!(debug_assertions));
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let config = Config::parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.import.default_region, "IL");
        assert_eq!(config.import.duplicates, DuplicateRule::KeepFirst);
    }

    #[test]
    fn settings_are_read() {
        let config = Config::parse(
            r#"
            data_dir = "/srv/shofar"
            [import]
            allowed_regions = []
            duplicates = "merge_metadata"
            [log]
            level = "debug"
            "#,
        )
        .unwrap();
        assert_eq!(config.data_dir.as_deref(), Some(Path::new("/srv/shofar")));
        assert!(config.import.allowed_regions.is_empty());
        assert_eq!(config.import.duplicates, DuplicateRule::MergeMetadata);
        assert_eq!(config.log.level, "debug");
    }

    #[track_caller]
    fn check_error(text: &str, expected: &str) {
        let error = format!("{:#}", Config::parse(text).unwrap_err());
        assert!(
            error.contains(expected),
            "{error:?} should contain {expected:?}"
        );
    }

    #[test]
    fn mistakes_are_named() {
        check_error(
            "[import]\ndefault_regoin = \"IL\"",
            "unknown field `default_regoin`",
        );
        check_error("[import]\ndefault_region = \"XX\"", "unknown region \"XX\"");
        check_error(
            "[import]\nallowed_regions = [\"IL\", \"ZZ\"]",
            "unknown region \"ZZ\"",
        );
        check_error(
            "[import]\nduplicates = \"newest\"",
            "unknown variant `newest`",
        );
        check_error("data_dir = \"\"", "data_dir is empty");
        check_error("[import]\ninvalid_rows_in_summary = 1000000", "too large");
        check_error("[import", "TOML parse error");
        for name in [
            "https://shofar.example",
            "shofar.example:443",
            "[fe80::1]",
            "",
        ] {
            check_error(
                &format!("[http]\nhost_names = [{name:?}]"),
                "is not a host name or an IP address",
            );
        }
        for name in ["shofar.office.example", "192.168.1.20", "fe80::1"] {
            Config::parse(&format!("[http]\nhost_names = [{name:?}]")).unwrap();
        }
    }

    /// `[sync]` is the agent's: accepted whatever it holds (the agent checks
    /// it), while a mistake elsewhere is still one.
    #[test]
    fn the_sync_section_is_passed_over_to_the_agent() {
        let config = Config::parse(
            r#"
            [sync]
            org = "acme"
            box_id = "tlv-1"
            [sync.mqtt]
            endpoint = "example-ats.iot.il-central-1.amazonaws.com"
            "#,
        )
        .unwrap();
        assert_eq!(config.sync["org"].as_str(), Some("acme"));
        assert_eq!(
            config.sync["mqtt"]["endpoint"].as_str(),
            Some("example-ats.iot.il-central-1.amazonaws.com")
        );
        assert!(Config::default().sync.is_empty());
        check_error(
            "[sync]
org = \"acme\"
[synk]
org = \"acme\"",
            "unknown field `synk`",
        );
    }

    #[test]
    fn the_documented_example_parses() {
        let example = include_str!("../../../docs/shofar.example.toml");
        // The values it shows are the defaults (havdalah_degrees is written out;
        // unset, the calendar applies the same 8.5).
        let mut parsed = Config::parse(example).unwrap();
        assert!(matches!(
            parsed.calendar.box_calendar().unwrap().havdalah,
            Havdalah::Degrees(degrees) if degrees == 8.5
        ));
        parsed.calendar.havdalah_degrees = None;
        assert_eq!(parsed, Config::default());
    }
}

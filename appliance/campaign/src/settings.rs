//! Campaign settings: the file staff write (`campaign.toml`, or the same shape in
//! JSON from the API) and the validated, typed settings the scheduler and dialer
//! read. Every problem is reported with the field it is in and why, all at once.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use shofar_phone::Normalizer;
use shofar_vocab::CallOutcome;

use crate::retry::{RETRY_KEYS, Retry, RetryPolicy, format_delay, parse_delay};
use crate::windows::{DAY_NAMES, TimeRange, WeeklyWindows, format_minute, parse_minute};

/// Voice, SMS, or SMS with a voice call for numbers that cannot get one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Voice,
    Sms,
    Hybrid,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Voice => shofar_vocab::Channel::Voice.as_str(),
            Kind::Sms => shofar_vocab::Channel::Sms.as_str(),
            Kind::Hybrid => "hybrid",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [Kind::Voice, Kind::Sms, Kind::Hybrid]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// Whether this box can run a campaign of this kind. SMS sending is not built
    /// yet, so an SMS or hybrid campaign must neither start nor be dialed: the
    /// people in it were meant to get a text, not a call. The one check that start
    /// (the API and the CLI, through the store) and the scheduler both ask.
    pub fn can_run(self) -> bool {
        match self {
            Kind::Voice => true,
            Kind::Sms | Kind::Hybrid => false,
        }
    }
}

/// Why an SMS or hybrid campaign is refused, for people (the web UI translates
/// by the error's code).
pub const SMS_UNAVAILABLE: &str = "SMS sending is not available on this box yet, so an SMS or \
     hybrid campaign cannot start (its people were meant to get a text, not a call); \
     change the campaign's type to voice to call them";

/// What a campaign is for, which decides whether contacts need recorded consent
/// (Communications Law §30A: donation requests count as advertising).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Donation,
    Advertising,
    Political,
    #[default]
    Informational,
    Emergency,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::Donation,
        Purpose::Advertising,
        Purpose::Political,
        Purpose::Informational,
        Purpose::Emergency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Donation => "donation",
            Purpose::Advertising => "advertising",
            Purpose::Political => "political",
            Purpose::Informational => "informational",
            Purpose::Emergency => "emergency",
        }
    }

    pub fn parse(text: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Whether only contacts with recorded consent may be called.
    pub fn requires_consent(self) -> bool {
        matches!(self, Purpose::Donation | Purpose::Advertising)
    }
}

/// Which quiet periods a campaign keeps (computed at the box's location).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietSettings {
    pub shabbat: bool,
    pub holidays: bool,
    /// The afternoon before Shabbat and Yom Tov is quiet too, from this local time.
    pub erev_from: Option<NaiveTime>,
    pub yom_hazikaron: bool,
}

impl Default for QuietSettings {
    fn default() -> QuietSettings {
        QuietSettings {
            shabbat: true,
            holidays: true,
            erev_from: None,
            yom_hazikaron: false,
        }
    }
}

/// The dialer's limits for one campaign.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Calls (or messages) started per second, at most.
    pub cps: f64,
    /// Calls up at once, at most.
    pub max_channels: u32,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            cps: 5.0,
            max_channels: 30,
        }
    }
}

/// What a campaign does about answering machines (Asterisk's `AMD()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnsweringMachine {
    /// No detection: the IVR starts as soon as the call is answered.
    #[default]
    Off,
    /// Detect; hang up on a machine (the call counts as voicemail).
    HangUp,
    /// Detect; on a machine, play the prompt `voicemail`, then hang up.
    LeaveMessage,
}

impl AnsweringMachine {
    pub const ALL: [AnsweringMachine; 3] = [
        AnsweringMachine::Off,
        AnsweringMachine::HangUp,
        AnsweringMachine::LeaveMessage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnsweringMachine::Off => "off",
            AnsweringMachine::HangUp => "hang_up",
            AnsweringMachine::LeaveMessage => "leave_message",
        }
    }
}

/// A campaign's validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub time_zone: Tz,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub windows: WeeklyWindows,
    pub quiet: QuietSettings,
    pub retry: RetryPolicy,
    pub max_attempts: u32,
    /// E.164, e.g. `+97236123456`.
    pub caller_id: Option<String>,
    pub pacing: Pacing,
    /// Audio and IVR flow references, checked by the telephony layer.
    pub audio: Option<String>,
    pub ivr_flow: Option<String>,
    pub sms_template: Option<String>,
    /// Answering-machine detection.
    pub amd: AnsweringMachine,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            time_zone: chrono_tz::Asia::Jerusalem,
            start: None,
            end: None,
            windows: WeeklyWindows::israeli_default(),
            quiet: QuietSettings::default(),
            retry: RetryPolicy::default(),
            max_attempts: 3,
            caller_id: None,
            pacing: Pacing::default(),
            audio: None,
            ivr_flow: None,
            sms_template: None,
            amd: AnsweringMachine::Off,
        }
    }
}

/// The most attempts a contact may be given: beyond this it is harassment.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;
pub const MAX_CPS: f64 = 500.0;
pub const MAX_CHANNELS: u32 = 10_000;

/// One thing wrong with the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything wrong with a campaign file or request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidSettings(pub Vec<FieldError>);

impl fmt::Display for InvalidSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "invalid campaign settings:\n  {}", lines.join("\n  "))
    }
}

/// A time in the settings: TOML's own date-time, or text.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum TimeValue {
    Toml(toml::value::Datetime),
    Text(String),
}

impl TimeValue {
    fn text(&self) -> String {
        match self {
            TimeValue::Toml(value) => value.to_string(),
            TimeValue::Text(text) => text.clone(),
        }
    }
}

/// A day's windows: `"09:00-20:00"`, a list of them, or `"closed"` / `[]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum DaySpec {
    One(String),
    Many(Vec<String>),
}

/// A retry rule: a delay such as `"15m"`, or `false` for never.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RetrySpec {
    Flag(bool),
    Delay(String),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuietFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shabbat: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holidays: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erev_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yom_hazikaron: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PacingFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cps: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_channels: Option<i64>,
}

/// The settings as written: every key optional, defaults filled in by
/// [`SettingsFile::validate`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<TimeValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<TimeValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ivr_flow: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_template: Option<String>,
    /// `off`, `hang_up` or `leave_message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<BTreeMap<String, DaySpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quiet: Option<QuietFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<BTreeMap<String, RetrySpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pacing: Option<PacingFile>,
}

/// A whole campaign file: who it is, and its settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignFile {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub purpose: Option<String>,
    /// Calls contacts without recorded consent in a donation or advertising
    /// campaign; the reason is kept in the audit log.
    pub consent_override: Option<String>,
    pub settings: SettingsFile,
}

/// The keys of a campaign file that are not settings.
const IDENTITY_KEYS: [&str; 4] = ["name", "type", "purpose", "consent_override"];

impl CampaignFile {
    /// Reads `campaign.toml`. Syntax errors and unknown keys are reported with where
    /// they are.
    pub fn from_toml(text: &str) -> Result<CampaignFile, InvalidSettings> {
        let table: toml::Table = toml::from_str(text).map_err(|error| {
            single("file", error.to_string().trim_end().replace('\n', "\n    "))
        })?;
        Self::from_table(table)
    }

    fn from_table(mut table: toml::Table) -> Result<CampaignFile, InvalidSettings> {
        let mut errors = Vec::new();
        let mut text = |key: &str| match table.remove(key) {
            None => None,
            Some(toml::Value::String(value)) => Some(value),
            Some(other) => {
                errors.push(FieldError {
                    field: key.to_owned(),
                    message: format!("must be text, not {}", other.type_str()),
                });
                None
            }
        };
        let [name, kind, purpose, consent_override] = IDENTITY_KEYS.map(&mut text);
        let settings = toml::Value::Table(table)
            .try_into::<SettingsFile>()
            .map_err(|error| errors.push(shape_error(error.to_string().trim_end())))
            .unwrap_or_default();
        if !errors.is_empty() {
            return Err(InvalidSettings(errors));
        }
        Ok(CampaignFile {
            name,
            kind,
            purpose,
            consent_override,
            settings,
        })
    }
}

/// A campaign file whose every field checked out: what the store creates.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCampaign {
    pub name: String,
    pub kind: Kind,
    pub purpose: Purpose,
    pub settings: Settings,
    pub consent_override: Option<String>,
}

impl CampaignFile {
    /// Reads a campaign given as JSON (the API's request body): the keys of the
    /// file, with the same checks. `null` means "not given".
    pub fn from_json(value: serde_json::Value) -> Result<CampaignFile, InvalidSettings> {
        fn strip_nulls(value: serde_json::Value) -> Option<serde_json::Value> {
            match value {
                serde_json::Value::Null => None,
                serde_json::Value::Object(map) => Some(serde_json::Value::Object(
                    map.into_iter()
                        .filter_map(|(key, value)| strip_nulls(value).map(|v| (key, v)))
                        .collect(),
                )),
                serde_json::Value::Array(items) => Some(serde_json::Value::Array(
                    items.into_iter().filter_map(strip_nulls).collect(),
                )),
                other => Some(other),
            }
        }
        let serde_json::Value::Object(_) = value else {
            return Err(single("campaign", "must be a JSON object".to_owned()));
        };
        let value = strip_nulls(value).unwrap_or_default();
        let table = toml::Table::try_from(&value)
            .map_err(|error| single("campaign", format!("unreadable: {error}")))?;
        Self::from_table(table)
    }

    /// Checks everything at once: the name, type, purpose, consent override and
    /// settings, each problem naming its field.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidCampaign, InvalidSettings> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: String| {
            problems.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        let name = self.name.as_deref().unwrap_or_default().trim().to_owned();
        if name.is_empty() {
            problem("name", "every campaign needs a name".to_owned());
        } else if name.chars().count() > 200 {
            problem("name", "at most 200 characters".to_owned());
        }
        let kind = match self.kind.as_deref() {
            None => Kind::Voice,
            Some(text) => Kind::parse(text).unwrap_or_else(|| {
                problem("type", format!("{text:?} is not one of voice, sms, hybrid"));
                Kind::Voice
            }),
        };
        let purpose_known = self
            .purpose
            .as_deref()
            .is_none_or(|text| Purpose::parse(text).is_some());
        let purpose = match self.purpose.as_deref() {
            None => Purpose::Informational,
            Some(text) => Purpose::parse(text).unwrap_or_else(|| {
                let names: Vec<_> = Purpose::ALL.iter().map(|p| p.as_str()).collect();
                problem(
                    "purpose",
                    format!("{text:?} is not one of {}", names.join(", ")),
                );
                Purpose::Informational
            }),
        };
        if let Some(reason) = &self.consent_override {
            if reason.trim().chars().count() < 5 {
                problem(
                    "consent_override",
                    "give the reason in words (it is kept in the audit log)".to_owned(),
                );
            } else if !purpose.requires_consent() && purpose_known {
                problem(
                    "consent_override",
                    format!(
                        "a {} campaign does not need consent; remove it",
                        purpose.as_str()
                    ),
                );
            }
        }
        let settings = self.settings.validate(now);
        if let Err(invalid) = &settings {
            problems.extend(invalid.0.iter().cloned());
        }
        match settings {
            Ok(settings) if problems.is_empty() => Ok(ValidCampaign {
                name,
                kind,
                purpose,
                settings,
                consent_override: self.consent_override.clone(),
            }),
            _ => Err(InvalidSettings(problems)),
        }
    }
}

/// A value of the wrong shape or an unknown key, named by its field. The TOML
/// reader says where in its message ("…\nin `pacing.cps`", "unknown field
/// `burst`"); a person (and the web UI, which marks the field) wants the field,
/// and a sentence instead of serde's "untagged enum" wording.
fn shape_error(message: &str) -> FieldError {
    let (text, path) = match message.rsplit_once("\nin `") {
        Some((text, path)) => (text.to_owned(), path.strip_suffix('`').map(str::to_owned)),
        None => (message.to_owned(), None),
    };
    let unknown = text
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key.to_owned());
    let field = match (path, unknown) {
        (Some(path), Some(key)) => format!("{path}.{key}"),
        (Some(path), None) => path,
        (None, Some(key)) => key,
        (None, None) => "campaign".to_owned(),
    };
    let message = if text.contains("untagged enum DaySpec") {
        "give a range like \"09:00-20:00\", a list of ranges, or \"closed\"".to_owned()
    } else if text.contains("untagged enum RetrySpec") {
        "give a delay such as \"15m\", or false for no retry".to_owned()
    } else {
        text
    };
    FieldError { field, message }
}

fn single(field: &str, message: String) -> InvalidSettings {
    InvalidSettings(vec![FieldError {
        field: field.to_owned(),
        message,
    }])
}

/// Reads a settings time: RFC 3339 with an offset, or a local date-time (`2026-11-22
/// 09:00`, `2026-11-22T09:00:00`) in `zone`. A bare date is the start of that day,
/// or for an end, the end of it (midnight after).
pub fn parse_time(text: &str, zone: Tz, is_end: bool) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let local = if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let date = if is_end {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        date.and_time(NaiveTime::MIN)
    } else {
        [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .ok_or_else(|| {
            format!("{text:?} is not a date and time like \"2026-12-31 20:00\" (local) or RFC 3339")
        })?
    };
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| format!("{text:?} does not exist in {zone}"))
}

impl SettingsFile {
    /// Validates the settings and fills in defaults. `now` rejects an end that has
    /// already passed.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<Settings, InvalidSettings> {
        let mut errors = Vec::new();
        let mut error = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        let mut settings = Settings::default();

        if let Some(zone) = &self.time_zone {
            match zone.parse::<Tz>() {
                Ok(zone) => settings.time_zone = zone,
                Err(_) => error(
                    "time_zone",
                    format!(
                        "unknown time zone {zone:?}: give an IANA name such as \"Asia/Jerusalem\""
                    ),
                ),
            }
        }
        let zone = settings.time_zone;
        for (field, value, is_end) in [("start", &self.start, false), ("end", &self.end, true)] {
            if let Some(value) = value {
                match parse_time(&value.text(), zone, is_end) {
                    Ok(at) if is_end => settings.end = Some(at),
                    Ok(at) => settings.start = Some(at),
                    Err(message) => error(field, message),
                }
            }
        }
        if let (Some(start), Some(end)) = (settings.start, settings.end)
            && end <= start
        {
            error(
                "end",
                format!(
                    "{} is not after start {}",
                    end.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
                    start.with_timezone(&zone).format("%Y-%m-%d %H:%M")
                ),
            );
        }
        if let Some(end) = settings.end
            && end <= now
        {
            error(
                "end",
                format!(
                    "{} has already passed",
                    end.with_timezone(&zone).format("%Y-%m-%d %H:%M")
                ),
            );
        }

        if let Some(attempts) = self.max_attempts {
            if (1..=i64::from(MAX_ATTEMPTS_LIMIT)).contains(&attempts) {
                settings.max_attempts = attempts as u32;
            } else {
                error(
                    "max_attempts",
                    format!("{attempts} is out of range: from 1 to {MAX_ATTEMPTS_LIMIT}"),
                );
            }
        }
        if let Some(caller_id) = &self.caller_id {
            match Normalizer::israel().normalize_str(caller_id) {
                Ok(number) => settings.caller_id = Some(number.e164.to_string()),
                Err(rejection) => error("caller_id", format!("{caller_id:?}: {rejection}")),
            }
        }
        for (field, value, slot) in [
            ("audio", &self.audio, &mut settings.audio),
            ("ivr_flow", &self.ivr_flow, &mut settings.ivr_flow),
            (
                "sms_template",
                &self.sms_template,
                &mut settings.sms_template,
            ),
        ] {
            match value {
                Some(text) if text.trim().is_empty() => {
                    error(field, "is empty: remove the key or give a value".to_owned())
                }
                Some(text) => *slot = Some(text.clone()),
                None => {}
            }
        }

        if let Some(amd) = &self.amd {
            match AnsweringMachine::ALL
                .into_iter()
                .find(|a| a.as_str() == amd)
            {
                Some(amd) => settings.amd = amd,
                None => error(
                    "amd",
                    format!("{amd:?} is not a choice: off, hang_up or leave_message"),
                ),
            }
        }

        if let Some(days) = &self.windows {
            let mut ranges: [Vec<TimeRange>; 7] = Default::default();
            let mut day_errors = 0;
            for (key, spec) in days {
                let Some(index) = day_index(key) else {
                    day_errors += 1;
                    error(
                        &format!("windows.{key}"),
                        format!("unknown day: one of {}", DAY_NAMES.join(", ")),
                    );
                    continue;
                };
                let texts = match spec {
                    DaySpec::One(text) if text.trim() == "closed" => Vec::new(),
                    DaySpec::One(text) => vec![text.clone()],
                    DaySpec::Many(texts) => texts.clone(),
                };
                for text in texts {
                    match TimeRange::parse(&text) {
                        Ok(range) => ranges[index].push(range),
                        Err(message) => {
                            day_errors += 1;
                            error(&format!("windows.{}", DAY_NAMES[index]), message)
                        }
                    }
                }
            }
            match WeeklyWindows::new(ranges) {
                Ok(windows) if windows.is_empty() && day_errors == 0 => error(
                    "windows",
                    "no day has a calling window, so nobody would ever be called".to_owned(),
                ),
                Ok(windows) if day_errors == 0 => settings.windows = windows,
                Ok(_) => {}
                Err((day, message)) => error(&format!("windows.{}", DAY_NAMES[day]), message),
            }
        }

        if let Some(quiet) = &self.quiet {
            settings.quiet.shabbat = quiet.shabbat.unwrap_or(true);
            settings.quiet.holidays = quiet.holidays.unwrap_or(true);
            settings.quiet.yom_hazikaron = quiet.yom_hazikaron.unwrap_or(false);
            if let Some(text) = &quiet.erev_from {
                match parse_minute(text) {
                    Ok(minute) if minute < 24 * 60 => {
                        settings.quiet.erev_from =
                            NaiveTime::from_num_seconds_from_midnight_opt(u32::from(minute) * 60, 0)
                    }
                    Ok(_) => error("quiet.erev_from", "must be before 24:00".to_owned()),
                    Err(message) => error("quiet.erev_from", message),
                }
            }
        }

        if let Some(rules) = &self.retry {
            for (key, spec) in rules {
                let field = format!("retry.{key}");
                let Some(slot) = settings.retry.rule_mut(key) else {
                    error(
                        &field,
                        format!("unknown outcome: one of {}", RETRY_KEYS.join(", ")),
                    );
                    continue;
                };
                match spec {
                    RetrySpec::Flag(false) => *slot = Retry::Never,
                    RetrySpec::Flag(true) => error(
                        &field,
                        "give a delay such as \"15m\", or false for no retry".to_owned(),
                    ),
                    RetrySpec::Delay(text) => match parse_delay(text) {
                        Ok(delay) if delay >= Duration::minutes(1) => *slot = Retry::After(delay),
                        Ok(_) => error(
                            &field,
                            "at least 1m: redialing at once annoys people and trunks".to_owned(),
                        ),
                        Err(message) => error(&field, message),
                    },
                }
            }
        }

        if let Some(pacing) = &self.pacing {
            if let Some(cps) = pacing.cps {
                if cps > 0.0 && cps <= MAX_CPS {
                    settings.pacing.cps = cps;
                } else {
                    error(
                        "pacing.cps",
                        format!("{cps} is out of range: above 0, at most {MAX_CPS}"),
                    );
                }
            }
            if let Some(channels) = pacing.max_channels {
                if (1..=i64::from(MAX_CHANNELS)).contains(&channels) {
                    settings.pacing.max_channels = channels as u32;
                } else {
                    error(
                        "pacing.max_channels",
                        format!("{channels} is out of range: from 1 to {MAX_CHANNELS}"),
                    );
                }
            }
        }

        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(InvalidSettings(errors))
        }
    }
}

fn day_index(key: &str) -> Option<usize> {
    let key = key.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|name| *name == key || (key.len() == 3 && name.starts_with(&key)))
}

impl Settings {
    /// The settings written out in full, in the file's shape: what the store keeps
    /// and `campaign show` prints. Reading it back gives the same settings.
    pub fn to_file(&self) -> SettingsFile {
        let zone = self.time_zone;
        let local = |at: DateTime<Utc>| TimeValue::Text(at.with_timezone(&zone).to_rfc3339());
        let retry = |rule: Retry| match rule {
            Retry::Never => RetrySpec::Flag(false),
            Retry::After(delay) => RetrySpec::Delay(format_delay(delay)),
        };
        SettingsFile {
            time_zone: Some(zone.name().to_owned()),
            start: self.start.map(local),
            end: self.end.map(local),
            max_attempts: Some(i64::from(self.max_attempts)),
            caller_id: self.caller_id.clone(),
            audio: self.audio.clone(),
            ivr_flow: self.ivr_flow.clone(),
            sms_template: self.sms_template.clone(),
            amd: Some(self.amd.as_str().to_owned()),
            windows: Some(
                DAY_NAMES
                    .iter()
                    .enumerate()
                    .map(|(index, name)| {
                        let ranges: Vec<String> = self
                            .windows
                            .day(index)
                            .iter()
                            .map(ToString::to_string)
                            .collect();
                        (name.to_string(), DaySpec::Many(ranges))
                    })
                    .collect(),
            ),
            quiet: Some(QuietFile {
                shabbat: Some(self.quiet.shabbat),
                holidays: Some(self.quiet.holidays),
                erev_from: self
                    .quiet
                    .erev_from
                    .map(|time| format_minute((time.num_seconds_from_midnight() / 60) as u16)),
                yom_hazikaron: Some(self.quiet.yom_hazikaron),
            }),
            retry: Some(
                [
                    (CallOutcome::Busy, self.retry.busy),
                    (CallOutcome::NoAnswer, self.retry.no_answer),
                    (CallOutcome::Congestion, self.retry.congestion),
                    (CallOutcome::Failed, self.retry.failed),
                    (CallOutcome::Voicemail, self.retry.voicemail),
                ]
                .into_iter()
                .map(|(key, rule)| (key.as_str().to_owned(), retry(rule)))
                .collect(),
            ),
            pacing: Some(PacingFile {
                cps: Some(self.pacing.cps),
                max_channels: Some(i64::from(self.pacing.max_channels)),
            }),
        }
    }

    /// Reads settings the store kept (written by [`Settings::to_file`]).
    pub fn from_json(text: &str) -> Result<Settings, InvalidSettings> {
        let file: SettingsFile = serde_json::from_str(text).map_err(|error| {
            single(
                "settings",
                format!("stored settings are unreadable: {error}"),
            )
        })?;
        // Stored settings were valid when stored; an end that has passed since is
        // the scheduler's business, not an error.
        file.validate(DateTime::<Utc>::MIN_UTC)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_file()).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn errors(text: &str) -> Vec<String> {
        match CampaignFile::from_toml(text).and_then(|file| file.settings.validate(now())) {
            Ok(_) => Vec::new(),
            Err(InvalidSettings(errors)) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    const EXAMPLE: &str = r#"
        name = "Donors 2026"
        type = "voice"
        purpose = "donation"
        start = "2026-11-22 09:00"
        end = 2026-12-31
        max_attempts = 3
        caller_id = "03-6123456"

        [windows]
        sunday = "09:00-20:00"
        monday = "09:00-20:00"
        tuesday = "09:00-20:00"
        wednesday = "09:00-20:00"
        thursday = "09:00-20:00"
        friday = "09:00-13:00"

        [retry]
        busy = "15m"
        no_answer = "2h"
        voicemail = false

        [pacing]
        cps = 3
        max_channels = 20
    "#;

    #[test]
    fn the_example_reads() {
        let file = CampaignFile::from_toml(EXAMPLE).unwrap();
        assert_eq!(file.name.as_deref(), Some("Donors 2026"));
        let settings = file.settings.validate(now()).unwrap();
        assert_eq!(
            settings.start.unwrap().to_rfc3339(),
            "2026-11-22T07:00:00+00:00"
        );
        // A bare end date runs to the end of that day.
        assert_eq!(
            settings.end.unwrap().to_rfc3339(),
            "2026-12-31T22:00:00+00:00"
        );
        assert_eq!(settings.caller_id.as_deref(), Some("+97236123456"));
        assert_eq!(
            settings.windows.day(5),
            &[TimeRange {
                start: 540,
                end: 780
            }]
        );
        assert!(settings.windows.day(6).is_empty());
        assert_eq!(settings.pacing.max_channels, 20);
    }

    #[test]
    fn stored_settings_read_back_the_same() {
        let settings = CampaignFile::from_toml(EXAMPLE)
            .unwrap()
            .settings
            .validate(now())
            .unwrap();
        assert_eq!(Settings::from_json(&settings.to_json()).unwrap(), settings);
        let defaults = Settings::default();
        assert_eq!(Settings::from_json(&defaults.to_json()).unwrap(), defaults);
    }

    #[test]
    fn each_mistake_names_its_field() {
        let cases = [
            (
                "time_zone = \"Asia/Jerusalm\"",
                "time_zone: unknown time zone \"Asia/Jerusalm\"",
            ),
            ("max_attempts = 0", "max_attempts: 0 is out of range"),
            (
                "start = \"2026-12-01\"\nend = \"2026-11-30\"",
                "end: 2026-12-01 00:00 is not after start",
            ),
            (
                "end = \"2026-01-01\"",
                "end: 2026-01-02 00:00 has already passed",
            ),
            (
                "[windows]\nsunday = [\"09:00-12:00\", \"11:00-14:00\"]",
                "windows.sunday: 09:00-12:00 overlaps 11:00-14:00",
            ),
            (
                "[windows]\nmonday = \"20:00-09:00\"",
                "windows.monday: 20:00-09:00 ends before it starts",
            ),
            (
                "[windows]\nfunday = \"09:00-10:00\"",
                "windows.funday: unknown day",
            ),
            (
                "[windows]\nsunday = \"closed\"",
                "windows: no day has a calling window",
            ),
            (
                "[windows]\nsunday = \"9am-5pm\"",
                "windows.sunday: \"9am\" is not a time like \"09:00\"",
            ),
            (
                "[retry]\nbusy = \"soon\"",
                "retry.busy: \"soon\" is not a delay",
            ),
            (
                "[retry]\nhung_up = \"5m\"",
                "retry.hung_up: unknown outcome",
            ),
            ("[pacing]\ncps = 0", "pacing.cps: 0 is out of range"),
            ("caller_id = \"050-1234567\"", "caller_id: \"050-1234567\""),
            ("colour = \"blue\"", "unknown field `colour`"),
        ];
        for (text, expected) in cases {
            let found = errors(text);
            assert!(
                found.iter().any(|line| line.contains(expected)),
                "{text:?}: expected {expected:?} in {found:?}"
            );
        }
    }

    #[test]
    fn all_mistakes_are_reported_at_once() {
        let found =
            errors("max_attempts = 0\ntime_zone = \"Mars/Base\"\n[pacing]\nmax_channels = 0");
        assert_eq!(found.len(), 3, "{found:?}");
    }
}

#[cfg(test)]
mod example {
    use super::*;

    #[test]
    fn the_documented_example_is_valid() {
        let text = include_str!("../../../docs/campaign.example.toml");
        let file = CampaignFile::from_toml(text).unwrap();
        assert_eq!(file.purpose.as_deref(), Some("donation"));
        let now = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let settings = file.settings.validate(now).unwrap();
        assert_eq!(settings.windows, WeeklyWindows::israeli_default());
        assert_eq!(settings.retry, RetryPolicy::default());
    }
}

#[cfg(test)]
mod request_tests {
    use super::*;

    fn problems(body: serde_json::Value) -> Vec<(String, String)> {
        let now = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        match CampaignFile::from_json(body).and_then(|file| file.validate(now)) {
            Ok(_) => Vec::new(),
            Err(invalid) => invalid
                .0
                .into_iter()
                .map(|e| (e.field, e.message))
                .collect(),
        }
    }

    #[test]
    fn a_value_of_the_wrong_shape_or_an_unknown_key_is_named_by_its_field() {
        let found = problems(serde_json::json!({"name": "חורף", "max_attempts": "three"}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "max_attempts");
        let found = problems(serde_json::json!({"name": "x", "pacing": {"burst": 2}}));
        assert_eq!(found[0].0, "pacing.burst", "{found:?}");
        let found = problems(serde_json::json!({"name": "x", "windows": {"sunday": 9}}));
        assert_eq!(found[0].0, "windows.sunday", "{found:?}");
        assert!(found[0].1.contains("09:00-20:00"), "{found:?}");
    }

    #[test]
    fn a_wrong_purpose_is_one_problem_even_with_a_consent_override() {
        let found = problems(serde_json::json!({
            "name": "x", "purpose": "fundraising", "consent_override": "paper forms from 2025"
        }));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "purpose");
        // A known purpose that needs no consent still says so.
        let found = problems(serde_json::json!({
            "name": "x", "purpose": "political", "consent_override": "paper forms from 2025"
        }));
        assert_eq!(found[0].0, "consent_override", "{found:?}");
    }

    #[test]
    fn nulls_are_left_out_and_a_body_must_be_an_object() {
        assert!(
            problems(serde_json::json!({"name": "x", "end": null, "pacing": {"cps": null}}))
                .is_empty()
        );
        assert_eq!(problems(serde_json::json!(["x"]))[0].0, "campaign");
    }
}

//! The box itself: health, settings, the pacing log, the audit log.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shofar_store::campaigns::CampaignId;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Admin, Analyst, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::state::AppState;

/// Whether the box is up; no secrets, no login needed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` while the telephony engine is unreachable.
    pub status: String,
    pub version: String,
    /// `asterisk` or `simulator`; null when no dialer runs.
    pub backend: Option<String>,
    pub telephony_up: Option<bool>,
    pub active_calls: u32,
    pub campaigns_running: usize,
}

/// Whether the box is up (for monitoring; no login, no secrets).
#[utoipa::path(
    get, path = "/healthz", operation_id = "system_healthz", tag = "system",
    responses((status = 200, body = Health)),
    security(())
)]
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    let status = state.live.dialer_status();
    Json(Health {
        status: match &status {
            Some(s) if !s.telephony_up => "degraded",
            _ => "ok",
        }
        .to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: status.as_ref().map(|s| s.backend.clone()),
        telephony_up: status.as_ref().map(|s| s.telephony_up),
        active_calls: status.as_ref().map_or(0, |s| s.active),
        campaigns_running: status
            .as_ref()
            .map_or(0, |s| s.campaigns.iter().filter(|c| c.running).count()),
    })
}

/// A change of pace.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaceChange {
    pub at: DateTime<Utc>,
    /// Null: the box-wide pace.
    pub campaign_id: Option<i64>,
    pub old_cps: f64,
    pub new_cps: f64,
    pub old_channels: Option<u32>,
    pub new_channels: Option<u32>,
    /// Why, in words (English).
    pub reason: String,
    /// The same as data, for a UI to word: `kind` (`cpu_high`, `memory_high`,
    /// `load_high`, `channels_high`, `answer_rate_low`, `recovered`,
    /// `ceiling_changed`) and the reading and threshold it crossed
    /// (`percent`, `load_per_core`, `channels`, `rate`; `threshold`). Null for
    /// changes logged by older versions.
    #[schema(value_type = Option<Object>)]
    pub reason_detail: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PacingQuery {
    /// Only this campaign's changes (and the box-wide ones, which limit it too).
    pub campaign: Option<i64>,
    /// How many, newest first: 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Every change of the dialing pace, newest first: when, from what to what, why.
#[utoipa::path(
    get, path = "/api/v1/pacing", operation_id = "system_pacing", tag = "system",
    params(PacingQuery),
    responses((status = 200, body = Vec<PaceChange>))
)]
pub async fn pacing(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Query(query): Query<PacingQuery>,
) -> ApiResult<Json<Vec<PaceChange>>> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "1 to 1000"));
    }
    let entries = state
        .pool
        .run(move |store| Ok(store.pacing_log(query.campaign.map(CampaignId), limit)?))
        .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| PaceChange {
                at: e.at,
                campaign_id: e.campaign.map(|c| c.0),
                old_cps: e.old_cps,
                new_cps: e.new_cps,
                old_channels: e.old_channels,
                new_channels: e.new_channels,
                reason: e.reason,
                reason_detail: e.reason_detail,
            })
            .collect(),
    ))
}

/// The box's settings: what is in effect, what the API has changed, and the
/// telephony engine's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsOut {
    /// The configuration in effect (shofar.toml and its defaults; no secrets).
    #[schema(value_type = Object)]
    pub effective: serde_json::Value,
    /// Values changed here, applied from the next start of `shofar serve`.
    #[schema(value_type = Object)]
    pub stored: serde_json::Value,
    /// Asterisk's version, the trunk's state, calls up — or why it is unreachable.
    #[schema(value_type = Object)]
    pub telephony: serde_json::Value,
    /// The settings this API may change, with their allowed values.
    pub editable: Vec<EditableSetting>,
    pub database: DatabaseOut,
}

/// The database, as `shofar db info` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseOut {
    pub path: String,
    pub schema_version: u32,
    /// The database file and its write-ahead log, in bytes.
    pub size_bytes: u64,
    pub campaigns: u64,
    pub contacts: u64,
    pub blacklist: u64,
}

/// A setting the API may change.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditableSetting {
    pub key: String,
    pub description: String,
    /// The allowed values, when they are a list.
    pub choices: Vec<String>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
}

/// The settings the API may change; each is applied when `shofar serve` starts.
pub fn editable() -> Vec<EditableSetting> {
    let cities: Vec<String> = shofar_calendar::Location::known_names()
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    vec![
        EditableSetting {
            key: "calendar.location".into(),
            description: "The city Shabbat and holiday times are computed for".into(),
            choices: cities,
            minimum: None,
            maximum: None,
        },
        EditableSetting {
            key: "dialer.max_cps".into(),
            description: "Calls started per second, at most, for the whole box".into(),
            choices: vec![],
            minimum: Some(0.1),
            maximum: Some(500.0),
        },
        EditableSetting {
            key: "dialer.max_channels".into(),
            description: "Calls up at once, at most, for the whole box".into(),
            choices: vec![],
            minimum: Some(1.0),
            maximum: Some(10_000.0),
        },
        EditableSetting {
            key: "ui.language".into(),
            description: "The language the UI opens in for new users".into(),
            choices: vec!["he".into(), "en".into()],
            minimum: None,
            maximum: None,
        },
    ]
}

/// Checks one setting's value against [`editable`].
fn check_setting(key: &str, value: &serde_json::Value) -> Result<(), String> {
    let Some(setting) = editable().into_iter().find(|s| s.key == key) else {
        let keys: Vec<String> = editable().into_iter().map(|s| s.key).collect();
        return Err(format!(
            "not a setting the API changes; use one of {}",
            keys.join(", ")
        ));
    };
    if value.is_null() {
        return Ok(());
    }
    if !setting.choices.is_empty() {
        return match value.as_str() {
            Some(text) if setting.choices.iter().any(|c| c == text) => Ok(()),
            _ => Err(format!("use one of {}", setting.choices.join(", "))),
        };
    }
    let (minimum, maximum) = (
        setting.minimum.unwrap_or(f64::MIN),
        setting.maximum.unwrap_or(f64::MAX),
    );
    match value.as_f64() {
        Some(number) if (minimum..=maximum).contains(&number) => {
            if key == "dialer.max_channels" && number.fract() != 0.0 {
                Err("a whole number".into())
            } else {
                Ok(())
            }
        }
        _ => Err(format!("a number from {minimum} to {maximum}")),
    }
}

async fn settings_out(state: &AppState) -> ApiResult<SettingsOut> {
    let stored = state.pool.run(|store| Ok(store.stored_settings()?)).await?;
    let (effective, telephony) = match &state.probe {
        Some(probe) => (probe.configuration(), probe.telephony_status().await),
        None => (
            serde_json::Value::Object(Default::default()),
            serde_json::json!({ "reachable": false, "error": "no telephony engine is configured" }),
        ),
    };
    let path = state.pool.path().to_owned();
    let database = state
        .pool
        .run(move |store| {
            let campaigns = store.list_campaigns()?;
            let size = |suffix: &str| {
                let mut name = path.clone().into_os_string();
                name.push(suffix);
                std::fs::metadata(&name).map_or(0, |m| m.len())
            };
            Ok(DatabaseOut {
                path: path.display().to_string(),
                schema_version: store.schema_version()?,
                size_bytes: size("") + size("-wal"),
                campaigns: campaigns.len() as u64,
                contacts: campaigns.iter().map(|c| c.contacts).sum(),
                blacklist: store.blacklist_count()?,
            })
        })
        .await?;
    Ok(SettingsOut {
        effective,
        stored: serde_json::Value::Object(stored),
        telephony,
        editable: editable(),
        database,
    })
}

/// The box's settings, and Asterisk's and the trunk's state.
#[utoipa::path(
    get, path = "/api/v1/settings", operation_id = "system_settings", tag = "system",
    responses((status = 200, body = SettingsOut))
)]
pub async fn settings(
    State(state): State<AppState>,
    _: Caller<Analyst>,
) -> ApiResult<Json<SettingsOut>> {
    Ok(Json(settings_out(&state).await?))
}

/// Change settings: `{"dialer.max_cps": 20, "calendar.location": "haifa"}`; a
/// `null` goes back to shofar.toml's value. All or nothing; applied when
/// `shofar serve` next starts.
#[utoipa::path(
    put, path = "/api/v1/settings", operation_id = "system_update_settings", tag = "system",
    request_body(content = Object, description = "Keys from `editable`, with their new values"),
    responses((status = 200, body = SettingsOut))
)]
pub async fn update_settings(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Json<SettingsOut>> {
    let serde_json::Value::Object(values) = body else {
        return Err(ApiError::bad_request("send a JSON object of settings"));
    };
    if values.is_empty() {
        return Err(ApiError::bad_request("send at least one setting"));
    }
    let problems: Vec<_> = values
        .iter()
        .filter_map(|(key, value)| {
            check_setting(key, value)
                .err()
                .map(|message| crate::error::FieldProblem {
                    field: key.clone(),
                    message,
                })
        })
        .collect();
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    let actor = caller.actor();
    state
        .pool
        .run(move |store| Ok(store.store_settings(&values, &actor)?))
        .await?;
    Ok(Json(settings_out(&state).await?))
}

/// An audit-log entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    pub at: DateTime<Utc>,
    /// `cli:USER`, `web:USER`, `api:USER/TOKEN`, `dialer`, …
    pub actor: String,
    /// `campaign.start`, `blacklist.remove`, `user.create`, …
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// How many, newest first: 1 to 1000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Who did what, newest first.
#[utoipa::path(
    get, path = "/api/v1/audit", operation_id = "system_audit", tag = "system",
    params(AuditQuery),
    responses((status = 200, body = Vec<AuditOut>))
)]
pub async fn audit(
    State(state): State<AppState>,
    _: Caller<Admin>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditOut>>> {
    let limit = query.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "1 to 1000"));
    }
    let entries = state
        .pool
        .run(move |store| Ok(store.audit_log(limit)?))
        .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditOut {
                at: e.at,
                actor: e.actor,
                action: e.action,
                subject_kind: e.subject_kind,
                subject_id: e.subject_id,
                details: e.details,
            })
            .collect(),
    ))
}

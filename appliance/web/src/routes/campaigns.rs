//! Campaigns: create, read, change, delete, validate, move along the lifecycle,
//! and the calendar of when they may call.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use shofar_campaign::settings::parse_time;
use shofar_campaign::{CallingPlan, CampaignFile, Event, Gate};
use shofar_scheduler::Scheduler;
use shofar_store::campaigns::{Campaign, CampaignId, NewCampaign, StartBlocker};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Analyst, Caller, Manager};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// A campaign as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignOut {
    pub id: i64,
    pub name: String,
    /// `voice`, `sms` or `hybrid`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `donation`, `advertising`, `political`, `informational` or `emergency`.
    pub purpose: String,
    /// `draft`, `scheduled`, `active`, `paused`, `completed` or `cancelled`.
    pub status: String,
    /// Donation and advertising campaigns call only contacts with recorded
    /// consent, unless overridden with a reason.
    pub consent_required: bool,
    pub consent_override: Option<String>,
    /// Every setting in full, in the campaign file's shape (docs/campaigns.md).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
}

impl From<&Campaign> for CampaignOut {
    fn from(campaign: &Campaign) -> CampaignOut {
        CampaignOut {
            id: campaign.id.0,
            name: campaign.name.clone(),
            kind: campaign.kind.as_str().to_owned(),
            purpose: campaign.purpose.as_str().to_owned(),
            status: campaign.status.as_str().to_owned(),
            consent_required: campaign.consent_required(),
            consent_override: campaign.consent_override.clone(),
            settings: serde_json::to_value(campaign.settings.to_file()).unwrap_or_default(),
            created_at: campaign.created_at.clone(),
            updated_at: campaign.updated_at.clone(),
            created_by: campaign.created_by.clone(),
        }
    }
}

/// A campaign in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignListItem {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub purpose: String,
    pub status: String,
    pub contacts: u64,
    pub blacklisted_contacts: u64,
    pub created_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CampaignListQuery {
    /// Only campaigns in this status.
    pub status: Option<String>,
    /// Only campaigns of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Text in the name.
    pub search: Option<String>,
    /// `id` (default), `name`, `status`, `contacts` or `created_at`; a leading `-`
    /// reverses.
    pub sort: Option<String>,
}

/// Every campaign, with its contact counts; filtered and sorted.
#[utoipa::path(
    get, path = "/api/v1/campaigns", operation_id = "campaigns_list", tag = "campaigns",
    params(CampaignListQuery),
    responses((status = 200, body = Vec<CampaignListItem>))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Query(query): Query<CampaignListQuery>,
) -> ApiResult<Json<Vec<CampaignListItem>>> {
    let sort = query.sort.clone().unwrap_or_else(|| "id".to_owned());
    let (descending, key) = match sort.strip_prefix('-') {
        Some(key) => (true, key.to_owned()),
        None => (false, sort),
    };
    if !["id", "name", "status", "contacts", "created_at"].contains(&key.as_str()) {
        return Err(ApiError::field(
            "sort",
            format!(
                "{key:?}: sort by id, name, status, contacts or created_at (with - to reverse)"
            ),
        ));
    }
    // A misspelt filter would otherwise match nothing and look like no campaigns.
    if let Some(status) = &query.status
        && status.parse::<shofar_campaign::Status>().is_err()
    {
        return Err(ApiError::field(
            "status",
            "draft, scheduled, active, paused, completed or cancelled",
        ));
    }
    if let Some(kind) = &query.kind
        && shofar_campaign::Kind::parse(kind).is_none()
    {
        return Err(ApiError::field("type", "voice, sms or hybrid"));
    }
    let campaigns = state.pool.run(|store| Ok(store.list_campaigns()?)).await?;
    let search = query.search.as_deref().map(str::to_lowercase);
    let mut items: Vec<CampaignListItem> = campaigns
        .into_iter()
        .filter(|c| query.status.as_deref().is_none_or(|s| c.status == s))
        .filter(|c| query.kind.as_deref().is_none_or(|k| c.kind == k))
        .filter(|c| {
            search
                .as_deref()
                .is_none_or(|s| c.name.to_lowercase().contains(s))
        })
        .map(|c| CampaignListItem {
            id: c.id.0,
            name: c.name,
            kind: c.kind,
            purpose: c.purpose,
            status: c.status,
            contacts: c.contacts,
            blacklisted_contacts: c.blacklisted_contacts,
            created_at: c.created_at,
        })
        .collect();
    items.sort_by(|a, b| match key.as_str() {
        "name" => a.name.cmp(&b.name),
        "status" => a.status.cmp(&b.status),
        "contacts" => a.contacts.cmp(&b.contacts),
        "created_at" => a.created_at.cmp(&b.created_at),
        _ => a.id.cmp(&b.id),
    });
    if descending {
        items.reverse();
    }
    Ok(Json(items))
}

/// A campaign as a request gives it: the keys of the campaign file
/// (docs/campaign.example.toml), all optional but `name`. Times are local in
/// `time_zone` (`2026-11-22 09:00`) or RFC 3339; windows are per weekday
/// (`"sunday": "09:00-20:00"` or a list of ranges, or `"closed"`).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CampaignInput {
    pub name: Option<String>,
    /// `voice` (default), `sms` or `hybrid`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `informational` (default), `donation`, `advertising`, `political`, `emergency`.
    pub purpose: Option<String>,
    /// Call contacts without recorded consent in a donation or advertising
    /// campaign: the reason, kept in the audit log.
    pub consent_override: Option<String>,
    /// IANA zone; default `Asia/Jerusalem`.
    pub time_zone: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// Calls per contact, 1 to 20; default 3.
    pub max_attempts: Option<i64>,
    pub caller_id: Option<String>,
    /// The message: a file path on the box, or upload it as the campaign's prompt
    /// `campaign` (POST /api/v1/audio).
    pub audio: Option<String>,
    /// A stored flow's name (GET /api/v1/flows); default: the built-in flow.
    pub ivr_flow: Option<String>,
    pub sms_template: Option<String>,
    /// `off`, `hang_up` or `leave_message`.
    pub amd: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub windows: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub quiet: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub retry: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub pacing: Option<serde_json::Value>,
}

/// Reads a request body the way the CLI reads a campaign file, with every problem
/// named by its field.
fn validated(body: serde_json::Value) -> ApiResult<NewCampaign> {
    let file = CampaignFile::from_json(body)?;
    Ok(file.validate(Utc::now())?.into())
}

/// Create a campaign (a draft) from its settings.
#[utoipa::path(
    post, path = "/api/v1/campaigns", operation_id = "campaigns_create", tag = "campaigns",
    request_body = CampaignInput,
    responses((status = 201, body = CampaignOut))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<CampaignOut>)> {
    let new = validated(body)?;
    check_flow_exists(&state, &new).await?;
    let actor = caller.actor();
    let campaign = state
        .pool
        .run(move |store| {
            let id = store.insert_campaign(&new, &actor)?;
            Ok(store.campaign(id)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(CampaignOut::from(&campaign))))
}

/// A named flow must exist (a path on the box is the CLI's business).
async fn check_flow_exists(state: &AppState, new: &NewCampaign) -> ApiResult<()> {
    let Some(flow) = new.settings.ivr_flow.clone() else {
        return Ok(());
    };
    if flow.contains('/') || flow.ends_with(".json") {
        return Ok(());
    }
    let found = state
        .pool
        .run(move |store| Ok(store.flow_by_name(&flow)?.is_some()))
        .await?;
    if found {
        Ok(())
    } else {
        Err(ApiError::field(
            "ivr_flow",
            format!(
                "no stored flow named {:?}; save it first (POST /api/v1/flows)",
                new.settings.ivr_flow.as_deref().unwrap_or_default()
            ),
        ))
    }
}

/// The settings as they would be stored, or every problem with them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationOut {
    pub valid: bool,
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

/// Check a campaign's settings without saving anything: 200 with the settings in
/// full (defaults filled in), or 422 naming every field that is wrong.
#[utoipa::path(
    post, path = "/api/v1/campaigns/validate", operation_id = "campaigns_validate", tag = "campaigns",
    request_body = CampaignInput,
    responses((status = 200, body = ValidationOut))
)]
pub async fn validate(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Json<ValidationOut>> {
    let new = validated(body)?;
    check_flow_exists(&state, &new).await?;
    Ok(Json(ValidationOut {
        valid: true,
        settings: serde_json::to_value(new.settings.to_file()).unwrap_or_default(),
    }))
}

/// Whether the campaign may call now.
#[derive(Debug, Serialize, ToSchema)]
pub struct GateOut {
    /// `open`, `closed` or `ended`.
    pub state: String,
    /// Open: calls may start until then.
    pub until: Option<DateTime<Utc>>,
    /// Closed: why (`outside_window`, `shabbat`, `yom_tov`, `before_start`, …).
    pub reason: Option<String>,
    /// Closed: when calls may start again (none within three weeks: null).
    pub reopens: Option<DateTime<Utc>>,
}

impl From<Gate> for GateOut {
    fn from(gate: Gate) -> GateOut {
        match gate {
            Gate::Open { until } => GateOut {
                state: "open".into(),
                until: Some(until),
                reason: None,
                reopens: None,
            },
            Gate::Closed { reason, reopens } => GateOut {
                state: "closed".into(),
                until: None,
                reason: Some(reason.as_str().to_owned()),
                reopens,
            },
            Gate::Ended => GateOut {
                state: "ended".into(),
                until: None,
                reason: None,
                reopens: None,
            },
        }
    }
}

/// Where a campaign's contacts stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactCountsOut {
    pub total: u64,
    pub pending: u64,
    pub due: u64,
    pub waiting_retry: u64,
    pub in_progress: u64,
    pub completed: u64,
    pub failed: u64,
    pub blacklisted: u64,
    pub without_consent: u64,
}

/// A campaign with where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    pub campaign: CampaignOut,
    pub contacts: ContactCountsOut,
    /// Call records by outcome (`in_call` for calls not yet ended).
    pub calls: BTreeMap<String, u64>,
    pub gate: GateOut,
}

/// One campaign, with its contact counts, calls by outcome and whether it may
/// call now.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}", operation_id = "campaigns_show", tag = "campaigns",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignDetail))
)]
pub async fn show(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignDetail>> {
    let calendar = state.config.box_calendar.clone();
    let detail = state
        .pool
        .run(move |store| {
            let campaign = store.campaign(CampaignId(id))?;
            let now = Utc::now();
            let gate = Scheduler::new(calendar).policy(&campaign).gate(None, now);
            let counts = store.contact_counts(
                campaign.id,
                now,
                campaign.settings.max_attempts,
                campaign.consent_required(),
            )?;
            let calls = store.call_outcome_counts(campaign.id)?;
            Ok(CampaignDetail {
                campaign: CampaignOut::from(&campaign),
                contacts: ContactCountsOut {
                    total: counts.total,
                    pending: counts.pending,
                    due: counts.due,
                    waiting_retry: counts.waiting_retry,
                    in_progress: counts.in_progress,
                    completed: counts.completed,
                    failed: counts.failed,
                    blacklisted: counts.blacklisted,
                    without_consent: counts.without_consent,
                },
                calls,
                gate: gate.into(),
            })
        })
        .await?;
    Ok(Json(detail))
}

/// Replace a campaign's settings (the whole campaign, as on create). A running
/// campaign takes them from the dialer's next round; a completed or cancelled one
/// does not change.
#[utoipa::path(
    put, path = "/api/v1/campaigns/{id}", operation_id = "campaigns_update", tag = "campaigns",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body = CampaignInput,
    responses((status = 200, body = CampaignOut))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Path(id): Path<i64>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Json<CampaignOut>> {
    let new = validated(body)?;
    check_flow_exists(&state, &new).await?;
    let actor = caller.actor();
    let campaign = state
        .pool
        .run(move |store| Ok(store.update_campaign(CampaignId(id), &new, &actor)?))
        .await?;
    Ok(Json(CampaignOut::from(&campaign)))
}

/// Delete a draft that never called, with its contacts. Anything else is kept for
/// its records: cancel it instead.
#[utoipa::path(
    delete, path = "/api/v1/campaigns/{id}", operation_id = "campaigns_delete", tag = "campaigns",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let actor = caller.actor();
    state
        .pool
        .run(move |store| Ok(store.delete_campaign(CampaignId(id), &actor)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// Why: kept in the audit log.
    pub reason: Option<String>,
}

/// The move a lifecycle request made.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionOut {
    pub id: i64,
    pub from: String,
    pub to: String,
}

/// A JSON body that may be left out, or be `null` (as the document allows).
fn optional_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<Option<T>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<Option<T>>(body).map_err(|error| {
        ApiError::new(
            ErrorCode::ValidationFailed,
            format!("the body does not fit: {error}"),
        )
    })
}

async fn transition(
    state: AppState,
    actor: String,
    id: i64,
    event: Event,
    reason: Option<String>,
) -> ApiResult<Json<TransitionOut>> {
    let (from, to) = state
        .pool
        .run(move |store| {
            let campaign = store.campaign(CampaignId(id))?;
            let now = Utc::now();
            if event == Event::Start {
                match store.start_blocker(&campaign, now)? {
                    None => {}
                    Some(StartBlocker::KindUnavailable(_)) => {
                        return Err(ApiError::new(
                            ErrorCode::SmsUnavailable,
                            format!("campaign {id}: {}", shofar_campaign::SMS_UNAVAILABLE),
                        ));
                    }
                    Some(StartBlocker::EndPassed(end)) => {
                        return Err(ApiError::new(
                            ErrorCode::Conflict,
                            format!(
                                "campaign {id} cannot start: its end ({}) has passed; set a later \
                                 end first",
                                end.to_rfc3339_opts(SecondsFormat::Secs, true)
                            ),
                        ));
                    }
                    Some(StartBlocker::NothingToCall { consent_required }) => {
                        return Err(ApiError::new(
                            ErrorCode::Conflict,
                            format!(
                                "campaign {id} has no contact that could be called{}; import \
                                 contacts first (POST /api/v1/campaigns/{id}/imports)",
                                if consent_required {
                                    " (it needs contacts with recorded consent)"
                                } else {
                                    ""
                                }
                            ),
                        ));
                    }
                }
            }
            Ok(store.campaign_event(CampaignId(id), event, now, &actor, reason.as_deref())?)
        })
        .await?;
    Ok(Json(TransitionOut {
        id,
        from: from.as_str().to_owned(),
        to: to.as_str().to_owned(),
    }))
}

macro_rules! lifecycle_route {
    ($name:ident, $event:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, operation_id = concat!("campaigns_", stringify!($name)), tag = "campaigns",
            params(("id" = i64, Path, description = "The campaign's id")),
            request_body(content = Option<TransitionRequest>, description = "Optional: why"),
            responses((status = 200, body = TransitionOut))
        )]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller<Manager>,
            Path(id): Path<i64>,
            body: axum::body::Bytes,
        ) -> ApiResult<Json<TransitionOut>> {
            let reason = optional_body::<TransitionRequest>(&body)?.and_then(|body| body.reason);
            transition(state, caller.actor(), id, $event, reason).await
        }
    };
}

lifecycle_route!(
    start,
    Event::Start,
    "/api/v1/campaigns/{id}/start",
    "Start a campaign: active now, or scheduled until its start. Refused when its end has passed or nobody could be called."
);
lifecycle_route!(
    pause,
    Event::Pause,
    "/api/v1/campaigns/{id}/pause",
    "Pause a campaign: no new calls; calls up finish."
);
lifecycle_route!(
    resume,
    Event::Resume,
    "/api/v1/campaigns/{id}/resume",
    "Resume a paused campaign."
);
lifecycle_route!(
    cancel,
    Event::Cancel,
    "/api/v1/campaigns/{id}/cancel",
    "Cancel a campaign for good: no new calls; its records stay for reports."
);

#[derive(Debug, Deserialize, IntoParams)]
pub struct CalendarQuery {
    /// First day (`2026-11-22`, in the campaign's zone); default today.
    pub from: Option<String>,
    /// Days to show, 1 to 400; default 7.
    #[param(minimum = 1, maximum = 400)]
    pub days: Option<i64>,
}

/// A stretch of time in a calendar preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntervalOut {
    pub start: String,
    pub end: String,
    /// Blocked stretches: why (`outside_window`, `shabbat`, `yom_tov`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// When calls will actually happen.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarOut {
    pub time_zone: String,
    pub from: String,
    pub to: String,
    pub allowed: Vec<IntervalOut>,
    pub blocked: Vec<IntervalOut>,
}

fn plan_out(
    plan: &CallingPlan,
    zone: chrono_tz::Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CalendarOut {
    let time = |at: DateTime<Utc>| {
        at.with_timezone(&zone)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    };
    CalendarOut {
        time_zone: zone.name().to_owned(),
        from: time(from),
        to: time(to),
        allowed: plan
            .allowed
            .iter()
            .map(|i| IntervalOut {
                start: time(i.start),
                end: time(i.end),
                reason: None,
            })
            .collect(),
        blocked: plan
            .blocked
            .iter()
            .map(|b| IntervalOut {
                start: time(b.interval.start),
                end: time(b.interval.end),
                reason: Some(b.reason.as_str().to_owned()),
            })
            .collect(),
    }
}

fn preview_range(
    query: &CalendarQuery,
    zone: chrono_tz::Tz,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let days = query.days.unwrap_or(7);
    if !(1..=400).contains(&days) {
        return Err(ApiError::field("days", "1 to 400 days"));
    }
    let from_text = query
        .from
        .clone()
        .unwrap_or_else(|| Utc::now().with_timezone(&zone).date_naive().to_string());
    let from = parse_time(&from_text, zone, false).map_err(|message| {
        ApiError::field("from", format!("{message}; give a date like 2026-11-22"))
    })?;
    Ok((from, from + Duration::days(days)))
}

/// When a campaign may call over the coming days: its windows, schedule, Shabbat
/// and holidays, as allowed and blocked stretches with reasons.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/calendar", operation_id = "campaigns_calendar", tag = "campaigns",
    params(("id" = i64, Path, description = "The campaign's id"), CalendarQuery),
    responses((status = 200, body = CalendarOut))
)]
pub async fn calendar(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Path(id): Path<i64>,
    Query(query): Query<CalendarQuery>,
) -> ApiResult<Json<CalendarOut>> {
    let campaign = state
        .pool
        .run(move |store| Ok(store.campaign(CampaignId(id))?))
        .await?;
    let policy = campaign.settings.calling_policy(&state.config.box_calendar);
    let (from, to) = preview_range(&query, policy.zone)?;
    let plan = policy.plan(None, from, to);
    Ok(Json(plan_out(&plan, policy.zone, from, to)))
}

/// The calendar for settings not saved yet (the wizard's preview): the body is a
/// campaign as on create.
#[utoipa::path(
    post, path = "/api/v1/calendar/preview", operation_id = "campaigns_preview", tag = "campaigns",
    params(CalendarQuery),
    request_body = CampaignInput,
    responses((status = 200, body = CalendarOut))
)]
pub async fn preview(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Query(query): Query<CalendarQuery>,
    Json(mut body): Json<serde_json::Value>,
) -> ApiResult<Json<CalendarOut>> {
    // A preview needs no name.
    if let Some(object) = body.as_object_mut() {
        object
            .entry("name")
            .or_insert_with(|| serde_json::Value::String("preview".into()));
    }
    let new = validated(body)?;
    let policy = new.settings.calling_policy(&state.config.box_calendar);
    let (from, to) = preview_range(&query, policy.zone)?;
    let plan = policy.plan(None, from, to);
    Ok(Json(plan_out(&plan, policy.zone, from, to)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NextQuery {
    /// How many, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

/// A contact the dialer would call next.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextContact {
    pub contact_id: i64,
    /// E.164: `+972525551234`.
    pub number: String,
    /// The scoring model's estimate that a call reaches them.
    pub score: f64,
    pub attempts: u32,
    /// Now is within their predicted best hours.
    pub in_predicted_window: bool,
}

/// Who the dialer calls next, and from when.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextOut {
    /// Now if the campaign may call now, else when it next may; null when it
    /// never will (ended, or closed for three weeks).
    pub from: Option<DateTime<Utc>>,
    pub gate: GateOut,
    pub contacts: Vec<NextContact>,
}

/// The contacts the dialer would call next, in its order (`shofar campaign show
/// --next`): now if the campaign may call now, else from when it next may.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/next", operation_id = "campaigns_next", tag = "campaigns",
    params(("id" = i64, Path, description = "The campaign's id"), NextQuery),
    responses((status = 200, body = NextOut))
)]
pub async fn next(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Path(id): Path<i64>,
    Query(query): Query<NextQuery>,
) -> ApiResult<Json<NextOut>> {
    let limit = query.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field("limit", "1 to 100"));
    }
    let calendar = state.config.box_calendar.clone();
    let out = state
        .pool
        .run(move |store| {
            let campaign = store.campaign(CampaignId(id))?;
            let scheduler = Scheduler::new(calendar);
            let policy = scheduler.policy(&campaign);
            let now = Utc::now();
            let gate = policy.gate(None, now);
            let from = match gate {
                Gate::Open { .. } => Some(now),
                Gate::Closed { reopens, .. } => reopens,
                Gate::Ended => None,
            };
            let contacts = match from {
                Some(when) if !campaign.status.is_final() => scheduler
                    .next_contacts(store, &campaign, &policy, when, limit)
                    .map_err(|error| match error {
                        shofar_scheduler::SchedulerError::Store(store) => ApiError::from(store),
                        other => ApiError::internal(other.to_string()),
                    })?,
                _ => Vec::new(),
            };
            Ok(NextOut {
                from,
                gate: gate.into(),
                contacts: contacts
                    .into_iter()
                    .map(|c| NextContact {
                        contact_id: c.contact_id,
                        number: c.e164.to_string(),
                        score: c.score,
                        attempts: c.attempts,
                        in_predicted_window: c.in_predicted_window,
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(Json(out))
}

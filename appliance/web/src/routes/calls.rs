//! Call records: filtered by campaign, outcome, date and number; sorted; paged.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shofar_store::calls::{CallOrder, CallQuery, CallRecord};
use shofar_store::campaigns::CampaignId;
use shofar_vocab::{
    CallAction, CallKind, CallOutcome, CallStatus, EndedBy, OutcomeFilter, Stored, UnknownWord,
};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Analyst, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::routes::{Page, PageQuery};
use crate::state::AppState;

/// A call as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallOut {
    pub call_id: String,
    pub campaign_id: Option<i64>,
    pub contact_id: Option<i64>,
    /// E.164: `+972525551234`.
    pub number: String,
    pub attempt: u32,
    pub kind: CallKind,
    pub status: CallStatus,
    /// Once ended (a name a later version wrote is sent as it is).
    #[schema(value_type = Option<CallOutcome>)]
    pub outcome: Option<Stored<CallOutcome>>,
    pub hangup_code: Option<i64>,
    pub hangup_cause: Option<String>,
    pub dial_status: Option<String>,
    pub amd_result: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub ring_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    /// Keys pressed, in order.
    pub dtmf: String,
    /// What the IVR did, in order.
    pub actions: Vec<CallAction>,
    pub converted: bool,
    pub opted_out: bool,
    /// Who ended the call (a name a later version wrote is sent as it is).
    #[schema(value_type = Option<EndedBy>)]
    pub ended_by: Option<Stored<EndedBy>>,
    pub detail: Option<String>,
    /// The do-not-call list version the pre-dial check passed against.
    pub dnc_version: Option<u64>,
}

impl From<CallRecord> for CallOut {
    fn from(record: CallRecord) -> CallOut {
        CallOut {
            call_id: record.call_id,
            campaign_id: record.campaign_id.map(|c| c.0),
            contact_id: record.contact_id,
            number: record.number.to_string(),
            attempt: record.attempt,
            kind: record.kind,
            status: record.status,
            outcome: record.outcome,
            hangup_code: record.hangup_code,
            hangup_cause: record.hangup_cause,
            dial_status: record.dial_status,
            amd_result: record.amd_result,
            started_at: record.started_at,
            answered_at: record.answered_at,
            ended_at: record.ended_at,
            duration_ms: record.duration_ms,
            ring_ms: record.ring_ms,
            talk_ms: record.talk_ms,
            dtmf: record.dtmf,
            actions: record.actions,
            converted: record.converted,
            opted_out: record.opted_out,
            ended_by: record.ended_by,
            detail: record.detail,
            dnc_version: record.dnc_version,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CallListQuery {
    /// Only this campaign's calls.
    pub campaign: Option<i64>,
    /// An outcome, or `in_call` for calls not ended yet. Read as text and checked
    /// here, so a wrong one is answered as a field error naming `outcome`.
    #[param(value_type = Option<OutcomeFilter>)]
    pub outcome: Option<String>,
    /// Calls started on or after (RFC 3339, or a date: from midnight in Israel).
    pub from: Option<String>,
    /// Calls started until (a date: that whole day included, Israel time; or
    /// an RFC 3339 instant, excluded). The same reading as reports' `to`.
    pub to: Option<String>,
    /// One number, as typed.
    pub number: Option<String>,
    /// `-started_at` (default), `started_at`, `-talk_ms` or `number`.
    #[param(pattern = "^(-started_at|started_at|-talk_ms|number)$")]
    pub sort: Option<String>,
}

/// An instant as a query gives it: RFC 3339, or a date meaning its midnight in
/// `zone`.
pub fn query_time(field: &str, text: &str, zone: chrono_tz::Tz) -> ApiResult<DateTime<Utc>> {
    shofar_campaign::settings::parse_time(text, zone, false).map_err(|message| {
        ApiError::field(
            field,
            format!("{message}; give a date (2026-11-22) or an RFC 3339 time"),
        )
    })
}

impl CallListQuery {
    pub fn to_query(&self, state: &AppState) -> ApiResult<CallQuery> {
        let outcome = self
            .outcome
            .as_deref()
            .map(str::parse::<OutcomeFilter>)
            .transpose()
            .map_err(|unknown: UnknownWord| {
                ApiError::field(
                    "outcome",
                    format!("use one of {}", unknown.expected.join(", ")),
                )
            })?;
        let (from, to) = crate::routes::reports::period_of(
            self.from.as_deref(),
            self.to.as_deref(),
            state.config.zone,
        )?;
        let number = self
            .number
            .as_deref()
            .map(|typed| {
                state
                    .config
                    .normalizer
                    .normalize_str(typed)
                    .map(|n| n.e164)
                    .map_err(|rejection| {
                        ApiError::field("number", format!("{typed:?}: {rejection}"))
                    })
            })
            .transpose()?;
        Ok(CallQuery {
            campaigns: self.campaign.map(CampaignId).into_iter().collect(),
            outcome,
            from,
            to,
            number,
        })
    }
}

/// Call records, newest first by default, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/calls", operation_id = "calls_list", tag = "calls",
    params(CallListQuery, PageQuery),
    responses((status = 200, body = Page<CallOut>))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Query(query): Query<CallListQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<CallOut>>> {
    let (offset, limit) = page.window()?;
    let filter = query.to_query(&state)?;
    let order = match query.sort.as_deref().unwrap_or("-started_at") {
        "-started_at" => CallOrder::NewestFirst,
        "started_at" => CallOrder::OldestFirst,
        "-talk_ms" => CallOrder::TalkTime,
        "number" => CallOrder::Number,
        other => {
            return Err(ApiError::field(
                "sort",
                format!("{other:?}: use -started_at, started_at, -talk_ms or number"),
            ));
        }
    };
    let (records, total) = state
        .pool
        .run(move |store| Ok(store.call_page(&filter, order, offset, limit)?))
        .await?;
    Ok(Json(
        page.of(records.into_iter().map(Into::into).collect(), total),
    ))
}

/// One call record.
#[utoipa::path(
    get, path = "/api/v1/calls/{call_id}", operation_id = "calls_show", tag = "calls",
    params(("call_id" = String, Path, description = "The call's id")),
    responses((status = 200, body = CallOut))
)]
pub async fn show(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Path(call_id): Path<String>,
) -> ApiResult<Json<CallOut>> {
    let lookup = call_id.clone();
    let record = state
        .pool
        .run(move |store| Ok(store.call_record(&lookup)?))
        .await?;
    record
        .map(|r| Json(r.into()))
        .ok_or_else(|| ApiError::not_found(format!("no call {call_id:?}")))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCallRequest {
    /// The number to call, as people type it (052-5551234).
    pub number: String,
    /// Use this campaign's flow, message, prompts and caller ID (default: the
    /// box's built-in flow).
    pub campaign_id: Option<i64>,
}

/// A test call placed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestCallOut {
    pub call_id: String,
    /// Where to follow it: its record, updated as it rings, is answered and ends.
    pub record_url: String,
}

/// Place one real test call (as `shofar call`): through the same engine, pre-dial
/// check and records as campaigns, running the campaign's flow or the built-in
/// one. Answers at once, while it rings; follow it at `record_url`. A number on
/// the do-not-call list is not dialed (its record says so).
#[utoipa::path(
    post, path = "/api/v1/calls/test", operation_id = "calls_test_call", tag = "calls",
    request_body = TestCallRequest,
    responses((status = 202, description = "Dialing", body = TestCallOut))
)]
pub async fn test_call(
    State(state): State<AppState>,
    _: Caller<crate::auth::Manager>,
    Json(request): Json<TestCallRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<TestCallOut>)> {
    let number = state
        .config
        .normalizer
        .normalize_str(&request.number)
        .map(|n| n.e164)
        .map_err(|rejection| {
            ApiError::field("number", format!("{:?}: {rejection}", request.number))
        })?;
    if let Some(id) = request.campaign_id {
        state
            .pool
            .run(move |store| Ok(store.campaign(CampaignId(id))?))
            .await?;
    }
    let calls = state.calls.clone().ok_or_else(|| {
        ApiError::new(
            crate::error::ErrorCode::Unavailable,
            "no telephony engine runs in this process (start shofar serve)",
        )
    })?;
    let call_id =
        calls
            .start(number, request.campaign_id)
            .await
            .map_err(|refused| match refused {
                crate::state::TestCallRefused::NotReady(message) => {
                    ApiError::new(crate::error::ErrorCode::Conflict, message)
                }
                crate::state::TestCallRefused::Busy => ApiError::new(
                    crate::error::ErrorCode::Conflict,
                    "three test calls are up already: wait for one to end",
                ),
                crate::state::TestCallRefused::Unavailable(message) => {
                    ApiError::new(crate::error::ErrorCode::Unavailable, message)
                }
            })?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(TestCallOut {
            record_url: format!("/api/v1/calls/{call_id}"),
            call_id,
        }),
    ))
}

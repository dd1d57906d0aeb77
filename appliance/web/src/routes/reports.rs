//! Reports: a campaign's exact figures, its export as CSV, XLSX or PDF (Hebrew or
//! English), history by date range, and campaigns side by side.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shofar_report::{Lang, Report, Timeline, Totals, compare as compare_reports};
use shofar_store::campaigns::CampaignId;
use shofar_vocab::{OutcomeFilter, Stored};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Analyst, Caller};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{Json, Path, Query};
use crate::live::Figures;
use crate::reports::{Format, Period, ReportError};
use crate::state::AppState;

/// A campaign as a report names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportCampaign {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub purpose: String,
    pub status: String,
}

/// One outcome's count and share of the calls.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeShare {
    /// An outcome, or `in_call` for calls not yet ended (or a name this version
    /// does not know, as stored).
    #[schema(value_type = shofar_vocab::OutcomeFilter)]
    pub outcome: String,
    pub count: u64,
    /// Of all the calls, 0 to 1.
    pub share: f64,
}

/// A campaign's report: exact figures over its call records in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub campaign: ReportCampaign,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub generated_at: DateTime<Utc>,
    pub figures: Figures,
    /// Total talk time, milliseconds.
    pub talk_ms: i64,
    pub first_call: Option<DateTime<Utc>>,
    pub last_call: Option<DateTime<Utc>>,
    pub outcomes: Vec<OutcomeShare>,
    /// Keys pressed in each menu of the campaign's IVR flow, in the flow's
    /// order (empty when the flow has no menu or cannot be read).
    pub menus: Vec<MenuOut>,
}

/// One menu of the flow: how often callers were in it and what they pressed.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuOut {
    /// The menu's node in the flow.
    pub menu: String,
    /// Times a caller was in the menu (a return counts again).
    pub reached: u64,
    /// Each key the menu offers, in the flow's order.
    pub keys: Vec<KeyOut>,
    /// Times a key the menu does not offer was pressed.
    pub invalid: u64,
    /// Times a caller left the menu without a key (timed out or hung up).
    pub no_key: u64,
}

/// A key of a menu and how many pressed it.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyOut {
    pub key: String,
    /// The node the key leads to.
    pub leads_to: String,
    pub count: u64,
}

fn menus_out(report: &Report) -> Vec<MenuOut> {
    report
        .menus
        .iter()
        .map(|menu| MenuOut {
            menu: menu.menu.clone(),
            reached: menu.reached,
            keys: menu
                .keys
                .iter()
                .map(|key| KeyOut {
                    key: key.key.clone(),
                    leads_to: key.leads_to.clone(),
                    count: key.count,
                })
                .collect(),
            invalid: menu.invalid,
            no_key: menu.no_key,
        })
        .collect()
}

fn report_out(report: &Report) -> ReportOut {
    let totals = &report.totals;
    ReportOut {
        campaign: ReportCampaign {
            id: report.campaign.id,
            name: report.campaign.name.clone(),
            kind: report.campaign.kind.clone(),
            purpose: report.campaign.purpose.clone(),
            status: report.campaign.status.clone(),
        },
        from: report.from,
        to: report.to,
        generated_at: report.generated_at,
        figures: Figures::from(totals),
        talk_ms: totals.talk_ms,
        first_call: totals.first_call,
        last_call: totals.last_call,
        outcomes: shares(totals),
        menus: menus_out(report),
    }
}

fn shares(totals: &Totals) -> Vec<OutcomeShare> {
    totals
        .outcome_rows()
        .into_iter()
        .map(|(outcome, count)| OutcomeShare {
            outcome: outcome
                .map_or(OutcomeFilter::InCall.as_str(), Stored::as_str)
                .to_owned(),
            count,
            share: if totals.calls == 0 {
                0.0
            } else {
                count as f64 / totals.calls as f64
            },
        })
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// Calls started on or after (a date, from midnight in Israel, or RFC 3339).
    pub from: Option<String>,
    /// Calls started until (a date: that whole day included, to midnight after
    /// it in Israel; or an RFC 3339 instant, excluded).
    pub to: Option<String>,
}

impl PeriodQuery {
    fn period(&self, state: &AppState) -> ApiResult<Period> {
        period_of(self.from.as_deref(), self.to.as_deref(), state.config.zone)
    }
}

/// [`crate::reports::period`], its refusal as a field error.
pub fn period_of(from: Option<&str>, to: Option<&str>, zone: chrono_tz::Tz) -> ApiResult<Period> {
    crate::reports::period(from, to, zone)
        .map_err(|error| ApiError::field(error.field, error.message))
}

fn report_error(error: ReportError) -> ApiError {
    match error {
        ReportError::Store(store) => store.into(),
        ReportError::Export(message) => ApiError::internal(format!("the export failed: {message}")),
    }
}

/// A campaign's report: its figures and outcomes, exactly the sum of its call
/// records in the period.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/report", operation_id = "reports_report", tag = "reports",
    params(("id" = i64, Path, description = "The campaign's id"), PeriodQuery),
    responses((status = 200, body = ReportOut))
)]
pub async fn report(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Path(id): Path<i64>,
    Query(period): Query<PeriodQuery>,
) -> ApiResult<Json<ReportOut>> {
    let (from, to) = period.period(&state)?;
    let report = state
        .pool
        .run(move |store| {
            Ok(crate::reports::report(
                store,
                CampaignId(id),
                from,
                to,
                Utc::now(),
            )?)
        })
        .await?;
    Ok(Json(report_out(&report)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `csv`, `xlsx`, `pdf`, or `summary` (a PDF for a manager: the figures,
    /// outcomes and keys per menu, no call list).
    #[param(pattern = "^(csv|xlsx|pdf|summary)$")]
    pub format: String,
    /// `he` (default) or `en`.
    #[param(pattern = "^(he|en)$")]
    pub lang: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A campaign's report as a file: CSV (every call, for machines), XLSX (a
/// summary sheet and every call; right-to-left in Hebrew) or PDF (the summary and
/// the first 5,000 calls; Hebrew right-to-left with its font embedded).
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/report/export", operation_id = "reports_export", tag = "reports",
    params(("id" = i64, Path, description = "The campaign's id"), ExportQuery),
    responses(
        (status = 200, description = "The report file", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf")
        ))
    )
)]
pub async fn export(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Path(id): Path<i64>,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let format = Format::parse(&query.format)
        .ok_or_else(|| ApiError::field("format", "csv, xlsx, pdf or summary"))?;
    let lang = match query.lang.as_deref() {
        None => Lang::He,
        Some(code) => Lang::from_code(code).ok_or_else(|| ApiError::field("lang", "he or en"))?,
    };
    let (from, to) = PeriodQuery {
        from: query.from,
        to: query.to,
    }
    .period(&state)?;
    // Its own connection: a large export reads for seconds and must not hold one
    // of the pool's.
    let db = state.pool.path().to_owned();
    let zone = state.config.zone;
    let exports = state.config.data_dir.join("exports");
    let (file, name) = tokio::task::spawn_blocking(move || -> ApiResult<_> {
        std::fs::create_dir_all(&exports).map_err(|error| {
            ApiError::internal(format!("cannot create {}: {error}", exports.display()))
        })?;
        let file = tempfile::tempfile_in(&exports).map_err(|error| {
            if error.raw_os_error() == Some(28) {
                ApiError::new(
                    ErrorCode::DiskFull,
                    "the box's disk is full: free space and try again",
                )
            } else {
                ApiError::internal(format!("cannot write the export: {error}"))
            }
        })?;
        let mut store = shofar_store::Store::open(&db)?;
        let mut writer =
            std::io::BufWriter::new(file.try_clone().map_err(|error| {
                ApiError::internal(format!("cannot write the export: {error}"))
            })?);
        let (report, _) = crate::reports::export(
            &mut store,
            CampaignId(id),
            from,
            to,
            Utc::now(),
            format,
            lang,
            zone,
            &mut writer,
        )
        .map_err(report_error)?;
        std::io::Write::flush(&mut writer)
            .map_err(|error| ApiError::internal(format!("cannot write the export: {error}")))?;
        drop(writer);
        let name = format!(
            "campaign-{}-{}-{}.{}",
            report.campaign.id,
            if format == Format::Summary {
                "summary"
            } else {
                "report"
            },
            report.generated_at.with_timezone(&zone).format("%Y-%m-%d"),
            format.extension()
        );
        Ok((file, name))
    })
    .await
    .map_err(|error| ApiError::internal(format!("the export failed: {error}")))??;
    let mut file = tokio::fs::File::from_std(file);
    tokio::io::AsyncSeekExt::rewind(&mut file)
        .await
        .map_err(|error| ApiError::internal(format!("cannot read the export back: {error}")))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// First day (a date, in Israel) or an RFC 3339 instant.
    pub from: String,
    /// The last day (a date, included whole), or an instant (excluded); at
    /// most 400 days after `from`.
    pub to: String,
    /// Only these campaigns: ids separated by commas (default: all).
    pub campaigns: Option<String>,
}

/// One day of one campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayOut {
    /// The day in Israel.
    pub date: NaiveDate,
    pub campaign_id: Option<i64>,
    pub figures: Figures,
}

/// Calls per day and campaign over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub time_zone: String,
    /// Only days that had calls, by date then campaign.
    pub days: Vec<DayOut>,
    /// The whole period: the sum of the days.
    pub totals: Figures,
}

fn campaign_ids(field: &str, text: Option<&str>) -> ApiResult<Vec<CampaignId>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|part| {
            part.trim().parse::<i64>().map(CampaignId).map_err(|_| {
                ApiError::field(
                    field,
                    format!("{part:?} is not a campaign id; give ids like 3,7"),
                )
            })
        })
        .collect()
}

/// Every campaign's results per day over a date range, with nothing left out:
/// the days add up to the period's totals.
#[utoipa::path(
    get, path = "/api/v1/reports/history", operation_id = "reports_history", tag = "reports",
    params(HistoryQuery),
    responses((status = 200, body = HistoryOut))
)]
pub async fn history(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<HistoryOut>> {
    let zone = state.config.zone;
    let (from, to) = period_of(Some(&query.from), Some(&query.to), zone)?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::field("to", "give both from and to"));
    };
    if to - from > chrono::Duration::days(401) {
        return Err(ApiError::field("to", "at most 400 days after from"));
    }
    let campaigns = campaign_ids("campaigns", query.campaigns.as_deref())?;
    let (days, totals) = state
        .pool
        .run(move |store| Ok(crate::reports::history(store, &campaigns, from, to, zone)?))
        .await?;
    Ok(Json(HistoryOut {
        from,
        to,
        time_zone: zone.name().to_owned(),
        days: days
            .into_iter()
            .map(|day| DayOut {
                date: day.date,
                campaign_id: day.campaign_id,
                figures: Figures::from(&day.totals),
            })
            .collect(),
        totals: Figures::from(&totals),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TimelineQuery {
    /// The first instant (RFC 3339, or a date in Israel); default: an hour
    /// before `to`.
    pub from: Option<String>,
    /// The end: an instant (excluded) or a date (included whole); default: now.
    pub to: Option<String>,
    /// The width of a slice in seconds, 60 to 86,400 (default 300); at most
    /// 1,440 slices.
    #[param(minimum = 60, maximum = 86400)]
    pub step_seconds: Option<u32>,
    /// Only these campaigns: ids separated by commas (default: every call,
    /// test calls included).
    pub campaigns: Option<String>,
}

/// The calls that started in one slice of the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct SliceOut {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub figures: Figures,
}

/// A period in equal slices, empty ones included.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineOut {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub step_seconds: u32,
    pub slices: Vec<SliceOut>,
    /// The whole period: the sum of the slices.
    pub totals: Figures,
}

/// The most slices a timeline answers with.
const MAX_SLICES: i64 = 1_440;

/// Calls by when they started, in equal slices (the dashboard's last hour): each
/// slice counts the calls that started in it, by outcome and with its rates,
/// and the slices add up to the period's totals.
#[utoipa::path(
    get, path = "/api/v1/reports/timeline", operation_id = "reports_timeline", tag = "reports",
    params(TimelineQuery),
    responses((status = 200, body = TimelineOut))
)]
pub async fn timeline(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Query(query): Query<TimelineQuery>,
) -> ApiResult<Json<TimelineOut>> {
    let zone = state.config.zone;
    let step_seconds = query.step_seconds.unwrap_or(300);
    if !(60..=86_400).contains(&step_seconds) {
        return Err(ApiError::field(
            "step_seconds",
            "from 60 (a minute) to 86400 (a day)",
        ));
    }
    let step = chrono::TimeDelta::seconds(step_seconds.into());
    let (from, to) = period_of(query.from.as_deref(), query.to.as_deref(), zone)?;
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - chrono::TimeDelta::hours(1));
    if to <= from {
        return Err(ApiError::field("to", "must be after from"));
    }
    let (span, step_i64) = ((to - from).num_seconds(), i64::from(step_seconds));
    let slices = span / step_i64 + i64::from(span % step_i64 != 0);
    if slices > MAX_SLICES {
        return Err(ApiError::field(
            "step_seconds",
            format!(
                "the period would need {slices} slices, at most {MAX_SLICES}: widen the step or shorten the period"
            ),
        ));
    }
    let Some(fold) = Timeline::new(from, to, step) else {
        return Err(ApiError::field("step_seconds", "too fine for the period"));
    };
    let campaigns = campaign_ids("campaigns", query.campaigns.as_deref())?;
    let (slices, totals) = state
        .pool
        .run(move |store| Ok(crate::reports::timeline(store, &campaigns, fold)?))
        .await?;
    Ok(Json(TimelineOut {
        from,
        to,
        step_seconds,
        slices: slices
            .into_iter()
            .map(|slice| SliceOut {
                start: slice.start,
                end: slice.end,
                figures: Figures::from(&slice.totals),
            })
            .collect(),
        totals: Figures::from(&totals),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CompareQuery {
    /// The campaigns to compare: 2 to 10 ids separated by commas.
    #[param(pattern = "^ *-?[0-9]+ *(, *-?[0-9]+ *){1,9}$")]
    pub campaigns: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One campaign's column in a comparison.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompareColumn {
    pub campaign: ReportCampaign,
    pub figures: Figures,
    pub talk_ms: i64,
    pub outcomes: Vec<OutcomeShare>,
}

/// Which columns lead on each rate (indexes into `columns`; several on a tie).
#[derive(Debug, Serialize, ToSchema)]
pub struct Leaders {
    pub answer_rate: Vec<usize>,
    pub conversion_rate: Vec<usize>,
    /// The lowest opt-out rate leads.
    pub opt_out_rate: Vec<usize>,
}

/// Campaigns side by side.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompareOut {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub columns: Vec<CompareColumn>,
    pub leaders: Leaders,
}

/// Campaigns side by side: each column is exactly that campaign's own report.
#[utoipa::path(
    get, path = "/api/v1/reports/compare", operation_id = "reports_compare", tag = "reports",
    params(CompareQuery),
    responses((status = 200, body = CompareOut))
)]
pub async fn compare(
    State(state): State<AppState>,
    _: Caller<Analyst>,
    Query(query): Query<CompareQuery>,
) -> ApiResult<Json<CompareOut>> {
    let ids = campaign_ids("campaigns", Some(&query.campaigns))?;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    if !(2..=10).contains(&unique.len()) || unique.len() != ids.len() {
        return Err(ApiError::field(
            "campaigns",
            "2 to 10 different campaign ids",
        ));
    }
    let (from, to) = PeriodQuery {
        from: query.from,
        to: query.to,
    }
    .period(&state)?;
    let reports = state
        .pool
        .run(move |store| {
            let now = Utc::now();
            ids.iter()
                .map(|id| Ok(crate::reports::report(store, *id, from, to, now)?))
                .collect::<ApiResult<Vec<Report>>>()
        })
        .await?;
    let comparison = compare_reports(&reports);
    Ok(Json(CompareOut {
        from,
        to,
        columns: comparison
            .columns
            .iter()
            .map(|column| CompareColumn {
                campaign: ReportCampaign {
                    id: column.campaign.id,
                    name: column.campaign.name.clone(),
                    kind: column.campaign.kind.clone(),
                    purpose: column.campaign.purpose.clone(),
                    status: column.campaign.status.clone(),
                },
                figures: Figures::from(&column.totals),
                talk_ms: column.totals.talk_ms,
                outcomes: shares(&column.totals),
            })
            .collect(),
        leaders: Leaders {
            answer_rate: comparison.best.answer_rate,
            conversion_rate: comparison.best.conversion_rate,
            opt_out_rate: comparison.best.opt_out_rate,
        },
    }))
}

//! Reports from the store: a campaign's call records read in one snapshot, added
//! up by `shofar-report` and exported. Shared by the API and `shofar report`.
//!
//! A report's totals and its list of calls are read in the same read
//! transaction, so the aggregates are always the sum of the records listed (seed
//! property 45), even while the campaign is calling.

use std::io::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use shofar_report::{
    CallRow, CampaignInfo, DailyHistory, DayRow, ExportError, Lang, Report, Slice, Timeline,
    Totals, Written,
};
use shofar_store::calls::CallQuery;
use shofar_store::campaigns::{Campaign, CampaignId};
use shofar_store::{Store, StoreError};

use crate::live::call_row;

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Pdf,
    /// A PDF summary for a manager: the figures and keys per menu, no call list.
    Summary,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "pdf" => Some(Format::Pdf),
            "summary" => Some(Format::Summary),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Pdf | Format::Summary => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf | Format::Summary => "application/pdf",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Export(String),
}

impl From<ExportError> for ReportError {
    fn from(error: ExportError) -> ReportError {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        ReportError::Export(message)
    }
}

/// A period as a query gives it, `[from, to)` in UTC; an open end is unbounded.
pub type Period = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A date range field that cannot be read: the field and what to give instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodError {
    pub field: &'static str,
    pub message: String,
}

/// The one reading of "from … until …" for every endpoint and export (issue 18,
/// item 9): a date `from` is its midnight in `zone`, a date `until` includes
/// that whole day (to the next midnight, [`shofar_report::day_range`]); an RFC
/// 3339 instant (or a local `2026-12-07 14:00`) is taken as it is, the end
/// excluded.
pub fn period(from: Option<&str>, until: Option<&str>, zone: Tz) -> Result<Period, PeriodError> {
    let read = |field: &'static str, text: &str, is_end: bool| {
        let text = text.trim();
        if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let (start, end) = shofar_report::day_range(Some(date), Some(date), zone);
            return if is_end { end } else { start }.ok_or_else(|| PeriodError {
                field,
                message: format!("{text:?} is out of range"),
            });
        }
        shofar_campaign::settings::parse_time(text, zone, false).map_err(|message| PeriodError {
            field,
            message: format!("{message}; give a date (2026-11-22) or an RFC 3339 time"),
        })
    };
    let from = from.map(|text| read("from", text, false)).transpose()?;
    let to = until.map(|text| read("to", text, true)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(PeriodError {
            field: "to",
            message: "must not be before from".to_owned(),
        });
    }
    Ok((from, to))
}

/// The IVR flow a campaign's calls run: its `ivr_flow` (a flow saved in the
/// box by that name, else a file), or the built-in one. `None` when it cannot
/// be read (the keys per menu are then left out, the rest of the report not).
pub fn campaign_flow(store: &Store, campaign: &Campaign) -> Option<shofar_ivr::Flow> {
    match campaign.settings.ivr_flow.as_deref() {
        None => Some(shofar_ivr::Flow::default_flow()),
        Some(setting) => match store.flow_by_name(setting).ok().flatten() {
            Some(stored) => shofar_ivr::Flow::from_json(&stored.definition.to_string()).ok(),
            None => std::fs::read_to_string(setting)
                .ok()
                .and_then(|text| shofar_ivr::Flow::from_json(&text).ok()),
        },
    }
}

/// What a report says of its campaign.
pub fn campaign_info(campaign: &Campaign) -> CampaignInfo {
    CampaignInfo {
        id: campaign.id.0,
        name: campaign.name.clone(),
        kind: campaign.kind.as_str().to_owned(),
        purpose: campaign.purpose.as_str().to_owned(),
        status: campaign.status.as_str().to_owned(),
        created_at: shofar_store::parse_time(&campaign.created_at).unwrap_or_default(),
    }
}

/// The calls of one campaign in `[from, to)`.
fn query(
    campaign: CampaignId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> CallQuery {
    CallQuery {
        campaigns: vec![campaign],
        from,
        to,
        ..CallQuery::default()
    }
}

/// Totals over the records `query` selects, read one at a time, and the keys
/// pressed per menu of `flow`.
fn totals(
    store: &Store,
    query: &CallQuery,
    flow: Option<shofar_ivr::Flow>,
) -> Result<(Totals, Vec<shofar_report::MenuKeys>, u64), StoreError> {
    let mut totals = Totals::default();
    let mut keys = flow.map(shofar_report::KeyTally::new);
    let mut reached = std::collections::HashSet::new();
    store.call_records_each(query, |record| {
        let row = call_row(&record);
        if let Some(keys) = keys.as_mut() {
            keys.add(&row);
        }
        if row.outcome == Some(shofar_report::CallOutcome::Answered.into()) {
            reached.insert(record.number);
        }
        totals.add(&row);
        Ok(())
    })?;
    Ok((
        totals,
        keys.map(|k| k.finish()).unwrap_or_default(),
        reached.len() as u64,
    ))
}

/// The campaign's contacts: how many it has, and how many answered in the period.
fn contacts(
    store: &Store,
    campaign: &Campaign,
    reached: u64,
    now: DateTime<Utc>,
) -> Result<shofar_report::Contacts, StoreError> {
    let counts = store.contact_counts(
        campaign.id,
        now,
        campaign.settings.max_attempts,
        campaign.consent_required(),
    )?;
    Ok(shofar_report::Contacts {
        total: counts.total,
        reached,
    })
}

/// A campaign's report over `[from, to)` (open ends: all of it).
pub fn report(
    store: &mut Store,
    campaign: CampaignId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    store.read_snapshot(|store| {
        let stored = store.campaign(campaign)?;
        let flow = campaign_flow(store, &stored);
        let (totals, menus, reached) = totals(store, &query(campaign, from, to), flow)?;
        Ok(Report {
            campaign: campaign_info(&stored),
            from,
            to,
            generated_at: now,
            totals,
            menus,
            contacts: Some(contacts(store, &stored, reached, now)?),
        })
    })
}

/// Writes a campaign's report as CSV, XLSX or PDF to `out`. The totals and the
/// list come from one snapshot of the database; the list is streamed (a thread
/// writes while this one reads), never held whole in memory.
#[allow(clippy::too_many_arguments)]
pub fn export(
    store: &mut Store,
    campaign: CampaignId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    format: Format,
    lang: Lang,
    zone: Tz,
    out: impl Write + Send,
) -> Result<(Report, Written), ReportError> {
    store.read_snapshot(|store| {
        let stored = store.campaign(campaign)?;
        let flow = campaign_flow(store, &stored);
        let selection = query(campaign, from, to);
        let (totals, menus, reached) = totals(store, &selection, flow)?;
        let report = Report {
            campaign: campaign_info(&stored),
            from,
            to,
            generated_at: now,
            totals,
            menus,
            contacts: Some(contacts(store, &stored, reached, now)?),
        };
        if format == Format::Summary {
            let rows = std::iter::empty::<Result<CallRow, std::convert::Infallible>>();
            let options = shofar_report::PdfOptions::summary();
            let written = shofar_report::write_pdf_with(&report, rows, lang, zone, &options, out)?;
            return Ok((report, written));
        }
        let (sender, receiver) = std::sync::mpsc::sync_channel::<CallRow>(1024);
        let written = std::thread::scope(|scope| {
            let report = &report;
            let writer = scope.spawn(move || {
                let rows = receiver.into_iter().map(Ok::<_, std::convert::Infallible>);
                match format {
                    Format::Csv => shofar_report::write_csv(report, rows, lang, zone, out),
                    Format::Xlsx => shofar_report::write_xlsx(report, rows, lang, zone, out),
                    Format::Pdf | Format::Summary => {
                        shofar_report::write_pdf(report, rows, lang, zone, out)
                    }
                }
            });
            let read = store.call_records_each(&selection, |record| {
                // A writer that stopped (it failed) drops its end: stop reading too.
                let _ = sender.send(call_row(&record));
                Ok(())
            });
            drop(sender);
            let written = writer
                .join()
                .map_err(|_| ReportError::Export("the export writer panicked".to_owned()))?;
            read?;
            Ok::<_, ReportError>(written?)
        })?;
        Ok((report, written))
    })
}

/// Calls per local day and campaign in `[from, to)`, over the campaigns given
/// (all when empty), and the period's totals.
pub fn history(
    store: &mut Store,
    campaigns: &[CampaignId],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Tz,
) -> Result<(Vec<DayRow>, Totals), StoreError> {
    let selection = CallQuery {
        campaigns: campaigns.to_vec(),
        from: Some(from),
        to: Some(to),
        ..CallQuery::default()
    };
    let mut history = DailyHistory::new(from, to, zone);
    store.call_records_each(&selection, |record| {
        if record.campaign_id.is_some() {
            history.add(&call_row(&record));
        }
        Ok(())
    })?;
    let total = history.total();
    Ok((history.finish(), total))
}

/// The calls of `campaigns` (every campaign when empty, test calls included)
/// that started in the timeline's period, in its slices, with the period's
/// totals: what the dashboard draws for the last hour.
pub fn timeline(
    store: &mut Store,
    campaigns: &[CampaignId],
    mut timeline: Timeline,
) -> Result<(Vec<Slice>, Totals), StoreError> {
    let (from, to) = timeline.period();
    let selection = CallQuery {
        campaigns: campaigns.to_vec(),
        from: Some(from),
        to: Some(to),
        ..CallQuery::default()
    };
    store.call_records_each(&selection, |record| {
        timeline.add(&call_row(&record));
        Ok(())
    })?;
    let total = timeline.total();
    Ok((timeline.finish(), total))
}

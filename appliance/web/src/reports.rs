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
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
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

/// Totals over the records `query` selects, read one at a time.
fn totals(store: &Store, query: &CallQuery) -> Result<Totals, StoreError> {
    let mut totals = Totals::default();
    store.call_records_each(query, |record| {
        totals.add(&call_row(&record));
        Ok(())
    })?;
    Ok(totals)
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
        let info = campaign_info(&store.campaign(campaign)?);
        let totals = totals(store, &query(campaign, from, to))?;
        Ok(Report {
            campaign: info,
            from,
            to,
            generated_at: now,
            totals,
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
        let info = campaign_info(&store.campaign(campaign)?);
        let selection = query(campaign, from, to);
        let report = Report {
            campaign: info,
            from,
            to,
            generated_at: now,
            totals: totals(store, &selection)?,
        };
        let (sender, receiver) = std::sync::mpsc::sync_channel::<CallRow>(1024);
        let written = std::thread::scope(|scope| {
            let report = &report;
            let writer = scope.spawn(move || {
                let rows = receiver.into_iter().map(Ok::<_, std::convert::Infallible>);
                match format {
                    Format::Csv => shofar_report::write_csv(rows, lang, zone, out),
                    Format::Xlsx => shofar_report::write_xlsx(report, rows, lang, zone, out),
                    Format::Pdf => shofar_report::write_pdf(report, rows, lang, zone, out),
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

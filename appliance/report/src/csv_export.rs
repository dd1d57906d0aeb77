//! The call list as CSV, for people who open it in Excel or LibreOffice.

use std::io::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::format::{duration, phone, spreadsheet_time};
use crate::labels::{Text, cause_label, outcome_label};
use crate::model::{CallRow, Lang, Report};
use crate::{ExportError, Written, next_row};

/// The CSV columns, in order; the header line names them in the chosen language.
pub(crate) const CSV_COLUMNS: [Text; 15] = [
    Text::CallId,
    Text::Campaign,
    Text::CampaignId,
    Text::Number,
    Text::Attempt,
    Text::Outcome,
    Text::StartedAt,
    Text::AnsweredAt,
    Text::EndedAt,
    Text::Duration,
    Text::TalkTime,
    Text::Keys,
    Text::Converted,
    Text::OptedOut,
    Text::HangupCause,
];

/// Writes the call list of `report`'s campaign as CSV: a UTF-8 byte order mark
/// (so Excel reads Hebrew right), one header line in `lang`, then one line per
/// call, streamed. There are no summary lines.
///
/// Every value is written as a spreadsheet reads it for a person, in `lang`:
/// the campaign by name (its id in the next column), the number in the local
/// form (`054-4431298`), the outcome and the hangup cause in words, instants
/// as `2026-11-22 14:05:09` on `zone`'s wall clock, durations as `m:ss`, keys
/// separated by spaces, flags as yes/no, a missing value as an empty field.
///
/// Numbers stay text with nothing added: the local form has a `-` inside, so
/// neither Excel nor LibreOffice reads it as a number or a date (what turned
/// `+972544431298` into 972544431298 and `0544431298` into 544431298). The
/// usual tricks make it worse elsewhere: `="054-4431298"` is a formula that
/// LibreOffice shows as written unless "evaluate formulas" is ticked on import
/// (and that CSV-injection filters strip), and a leading tab stays in the
/// cell's value. A number of another country stays in E.164.
pub fn write_csv<E>(
    report: &Report,
    rows: impl IntoIterator<Item = Result<CallRow, E>>,
    lang: Lang,
    zone: Tz,
    mut out: impl Write,
) -> Result<Written, ExportError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    out.write_all("\u{feff}".as_bytes())?;
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(CSV_COLUMNS.iter().map(|column| column.get(lang)))?;
    let mut written = Written::default();
    let mut rows = rows.into_iter();
    while let Some(row) = next_row(&mut rows)? {
        csv.write_record(csv_record(report, &row, lang, zone))?;
        written.calls += 1;
    }
    csv.flush()?;
    Ok(written)
}

/// Text a spreadsheet would take for a formula or a number (`=`, `+`, `-`, `@`
/// first: a campaign name typed by staff, a foreign number in E.164) starts
/// with an invisible zero-width no-break space, so it stays the text it is.
fn text(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@') => format!("\u{feff}{value}"),
        _ => value.to_owned(),
    }
}

fn csv_record(report: &Report, row: &CallRow, lang: Lang, zone: Tz) -> [String; 15] {
    let instant =
        |at: Option<DateTime<Utc>>| at.map(|at| spreadsheet_time(at, zone)).unwrap_or_default();
    let span = |ms: Option<i64>| ms.map(duration).unwrap_or_default();
    let flag = |value: bool| {
        if value { Text::Yes } else { Text::No }
            .get(lang)
            .to_owned()
    };
    let campaign = match row.campaign_id {
        Some(id) if id == report.campaign.id => text(&report.campaign.name),
        _ => String::new(),
    };
    let keys: Vec<String> = row.dtmf.chars().map(String::from).collect();
    [
        row.call_id.clone(),
        campaign,
        row.campaign_id.map(|id| id.to_string()).unwrap_or_default(),
        text(&phone(&row.number)),
        row.attempt.to_string(),
        row.outcome
            .as_ref()
            .map(|outcome| outcome_label(lang, Some(outcome)).to_owned())
            .unwrap_or_else(|| outcome_label(lang, None).to_owned()),
        spreadsheet_time(row.started_at, zone),
        instant(row.answered_at),
        instant(row.ended_at),
        span(row.duration_ms),
        span(row.talk_ms),
        text(&keys.join(" ")),
        flag(row.converted),
        flag(row.opted_out),
        row.hangup_cause
            .as_deref()
            .map(|cause| text(cause_label(lang, cause)))
            .unwrap_or_default(),
    ]
}

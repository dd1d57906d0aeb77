//! The call list as CSV: machine-readable first, and opening right in Excel.

use std::io::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::format::rfc3339_millis;
use crate::labels::Text;
use crate::model::{CallRow, Lang};
use crate::{ExportError, Written, next_row};

/// The CSV columns, in order; the header line names them in the chosen language.
pub(crate) const CSV_COLUMNS: [Text; 14] = [
    Text::CallId,
    Text::Campaign,
    Text::Number,
    Text::Attempt,
    Text::Outcome,
    Text::StartedAt,
    Text::AnsweredAt,
    Text::EndedAt,
    Text::DurationMs,
    Text::TalkMs,
    Text::Keys,
    Text::Converted,
    Text::OptedOut,
    Text::HangupCause,
];

/// Writes the call list as CSV: a UTF-8 byte order mark (so Excel reads Hebrew
/// right), one header line in `lang`, then one line per call, streamed.
///
/// Values are for machines, whatever the language: the outcome is its code
/// (`answered`, …; empty while in a call), instants are RFC 3339 with
/// milliseconds in `zone`'s offset, durations are milliseconds, flags are `1`
/// or `0`, and a missing value is an empty field. There are no summary lines.
pub fn write_csv<E>(
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
        csv.write_record(csv_record(&row, zone))?;
        written.calls += 1;
    }
    csv.flush()?;
    Ok(written)
}

fn csv_record(row: &CallRow, zone: Tz) -> [String; 14] {
    let instant =
        |at: Option<DateTime<Utc>>| at.map(|at| rfc3339_millis(at, zone)).unwrap_or_default();
    let number = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    let flag = |value: bool| if value { "1" } else { "0" }.to_owned();
    [
        row.call_id.clone(),
        number(row.campaign_id),
        row.number.clone(),
        row.attempt.to_string(),
        row.outcome
            .as_ref()
            .map(|outcome| outcome.as_str().to_owned())
            .unwrap_or_default(),
        rfc3339_millis(row.started_at, zone),
        instant(row.answered_at),
        instant(row.ended_at),
        number(row.duration_ms),
        number(row.talk_ms),
        row.dtmf.clone(),
        flag(row.converted),
        flag(row.opted_out),
        row.hangup_cause.clone().unwrap_or_default(),
    ]
}

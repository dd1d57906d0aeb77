//! Campaign reports from call records: exact totals, daily history, campaigns
//! side by side, and exports as CSV, XLSX and PDF.
//!
//! The caller reads the records (from the store, a page at a time) and hands
//! them over as [`CallRow`]s; this crate only counts and writes.
//!
//! **Invariants:** no database, no HTTP: the only I/O is the writer an export is
//! given (and, for XLSX, rust_xlsxwriter's temporary files for the calls sheets,
//! see [`XlsxOptions::temp_dir`]). No clock: `generated_at` and every period
//! are passed in, so the same input gives the same bytes. Nothing panics on any
//! input: unknown outcomes, empty names, control characters, instants at the
//! ends of chrono's range, overflowing sums (they saturate). Exports stream:
//! CSV and XLSX never hold the call list in memory; PDF holds at most the
//! calls it shows.
//!
//! # Definitions
//!
//! These are the product's definitions; the dashboard, the reports and the API
//! all use [`Totals`]:
//!
//! - **calls**: every record, whatever its state.
//! - **in call**: records with no outcome yet.
//! - **by outcome**: ended records per outcome (`answered`, `voicemail`,
//!   `busy`, `no_answer`, `congestion`, `rejected`, `failed`, `blacklisted`);
//!   an unknown outcome is counted under its own name, never dropped.
//! - **dialed**: ended records except `blacklisted` (those were refused by the
//!   pre-dial check and never dialed).
//! - **answered** / **voicemail**: records that ended so.
//! - **converted** / **opted out**: records with the flag set, whatever their
//!   outcome (a person who pressed 9 during a call still in progress counts).
//! - **talk time**: the sum of the records' `talk_ms`.
//! - **answer rate** = answered / dialed; **conversion rate** = converted /
//!   answered; **opt-out rate** = opted out / answered. Each is `None` when its
//!   denominator is 0. Rates are not clamped: flags on records that were not
//!   answered (which the telephony layer does not produce) could lift
//!   conversion or opt-out above 1, and the report shows it rather than hide it.
//! - **period**: half-open, `from <= started_at < to` ([`in_period`]); a call
//!   belongs to the local date (in the zone asked for) on which it started. A
//!   range of dates "from … until …" includes the until day whole
//!   ([`day_range`]).
//!
//! `Totals` merge exactly: the totals of every campaign merged are the totals
//! of all their calls ([`Totals::check_consistency`]), which is how the live
//! dashboard keeps per-campaign and box-wide figures in step.

#![forbid(unsafe_code)]

mod compare;
mod csv_export;
pub mod format;
mod history;
mod keys;
mod labels;
mod model;
mod pdf;
mod totals;
mod xlsx_export;

pub use compare::{Best, Column, Comparison, compare};
pub use csv_export::write_csv;
pub use history::{DailyHistory, DayRow, Slice, Timeline, history};
pub use keys::{KeyCount, KeyTally, MenuKeys};
pub use labels::{
    call_outcome_label, cause_label, kind_label, node_label, outcome_label, purpose_label,
    status_label,
};
pub use model::{CallRow, CampaignInfo, Contacts, Lang, Report, day_range, in_period};
pub use pdf::{MAX_PDF_CALLS, PdfOptions, write_pdf, write_pdf_with};
pub use shofar_vocab::{CallOutcome, Stored};
pub use totals::{Rates, Ratio, Totals};
pub use xlsx_export::{MAX_CALLS_PER_SHEET, XlsxOptions, write_xlsx, write_xlsx_with};

/// Why an export failed. Nothing is half-written on purpose, but the writer may
/// hold part of the output: the caller discards it.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the export failed")]
    Io(#[from] std::io::Error),
    #[error("writing the CSV failed")]
    Csv(#[from] csv::Error),
    #[error("writing the workbook failed")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("making the PDF failed: {0}")]
    Pdf(String),
    /// The caller's rows failed (e.g. the database, mid-stream).
    #[error("reading the call records failed")]
    Rows(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Calls listed.
    pub calls: u64,
    /// Whether the list stopped before the rows did (PDF only: see
    /// [`PdfOptions::max_calls`]).
    pub capped: bool,
}

/// The rows an export takes are fallible, so a query that fails mid-stream
/// fails the export instead of truncating it. Rows already in memory:
/// `rows.into_iter().map(Ok::<_, std::convert::Infallible>)`.
fn next_row<E>(
    rows: &mut impl Iterator<Item = Result<CallRow, E>>,
) -> Result<Option<CallRow>, ExportError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    rows.next()
        .transpose()
        .map_err(|error| ExportError::Rows(error.into()))
}

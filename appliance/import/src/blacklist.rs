//! Do-not-call list imports: a file of numbers (one column found by header, or the
//! first column when the file has no header), normalized like contacts.

use std::path::Path;

use serde::Serialize;
use shofar_dnc::SharedDnc;
use shofar_phone::{E164, Normalizer};
use shofar_store::Store;
use shofar_store::blacklist::{AddOutcome, BlacklistSource, NewEntry};

use crate::columns;
use crate::contacts::InvalidRow;
use crate::source::{Cell, Row, with_rows};
use crate::{ImportError, Progress};

/// What a blacklist import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlacklistImportSummary {
    pub total_rows: u64,
    /// Numbers newly listed.
    pub added: u64,
    /// Numbers that were on the list already (their first entry is kept).
    pub already_listed: u64,
    /// Rows that repeat a number of an earlier row of the same file.
    pub duplicates: u64,
    pub invalid: u64,
    /// Contacts, in any campaign, that became blacklisted.
    pub contacts_marked: u64,
    pub invalid_rows: Vec<InvalidRow>,
    pub invalid_rows_truncated: bool,
    pub list_size: u64,
}

#[derive(Debug, Clone)]
pub struct BlacklistImportOptions {
    pub source: BlacklistSource,
    /// Used for rows without a reason column of their own.
    pub reason: String,
    /// For compliance imports: the date the national registry was checked.
    pub checked_on: Option<String>,
    pub sheet: Option<String>,
    pub phone_column: Option<String>,
    pub actor: String,
}

const REASON_HEADERS: &[&str] = &["reason", "סיבה", "הערה", "הערות", "note", "notes"];

/// Imports the numbers in `path` onto the do-not-call list. The whole file is
/// read and checked first, so a file that cannot be read adds nothing; then the
/// numbers are written in short transactions (the dialer never waits long for
/// the database), each chunk listed in memory before it commits. They take
/// effect for every campaign the moment it returns (seed property 13).
///
/// Not all or nothing, on purpose: if writing fails half way (a full disk, the
/// database busy past its patience), the numbers already written stay listed
/// and the error says how many ([`ImportError::BlacklistPartlyAdded`]). Never
/// calling a listed number is the invariant; a number listed early is the safe
/// side of it, and running the import again lists the rest (numbers already
/// listed are counted as such).
pub fn import_blacklist(
    store: &mut Store,
    dnc: &SharedDnc,
    normalizer: &Normalizer,
    path: &Path,
    options: &BlacklistImportOptions,
    progress: &dyn Progress,
) -> Result<BlacklistImportSummary, ImportError> {
    with_rows(path, options.sheet.as_deref(), progress, |header, rows| {
        // A file of bare numbers has no header: then the first row is data.
        let header_is_data = options.phone_column.is_none()
            && header
                .cells
                .first()
                .is_some_and(|cell| normalizer.normalize(cell.as_phone()).is_ok());
        let (phone, reason_column) = if header_is_data {
            (0, None)
        } else {
            let columns = columns::detect(&header.cells, options.phone_column.as_deref())
                .map_err(|error| error.in_file(path))?;
            let reason = columns.names.iter().position(|name| {
                REASON_HEADERS.contains(&columns::normalize_header(name).as_str())
            });
            (columns.phone, reason)
        };
        let mut summary = BlacklistImportSummary {
            total_rows: 0,
            added: 0,
            already_listed: 0,
            duplicates: 0,
            invalid: 0,
            contacts_marked: 0,
            invalid_rows: Vec::new(),
            invalid_rows_truncated: false,
            list_size: 0,
        };
        let mut seen = rustc_hash::FxHashSet::default();
        let mut entries = Vec::new();
        let mut take = |row: &Row, summary: &mut BlacklistImportSummary| {
            summary.total_rows += 1;
            let cell = row.cells.get(phone).unwrap_or(&Cell::Empty);
            match normalizer.normalize(cell.as_phone()) {
                Err(rejection) => {
                    summary.invalid += 1;
                    if summary.invalid_rows.len() < 100 {
                        summary.invalid_rows.push(InvalidRow {
                            row: row.number,
                            value: cell.to_text(),
                            reason: rejection.to_string(),
                            code: rejection.code(),
                        });
                    }
                }
                Ok(number) if !seen.insert(number.e164) => summary.duplicates += 1,
                Ok(number) => entries.push(entry(number.e164, row, reason_column, options)),
            }
        };
        if header_is_data {
            take(&header, &mut summary);
        }
        while let Some(batch) = rows.next_batch()? {
            for row in &batch {
                take(row, &mut summary);
            }
        }
        if summary.total_rows == 0 {
            return Err(ImportError::NoDataRows {
                path: path.to_owned(),
            });
        }
        progress.finishing();
        summary.invalid_rows_truncated = summary.invalid > summary.invalid_rows.len() as u64;
        let details = serde_json::json!({
            "file": path.display().to_string(),
            "source": options.source.as_str(),
            "checked_on": options.checked_on,
        });
        let mut outcome = AddOutcome::default();
        store
            .blacklist_add_in_chunks(dnc, entries, &options.actor, details, &mut outcome)
            .map_err(|source| match outcome.added {
                0 => ImportError::Store(source),
                added => ImportError::BlacklistPartlyAdded { added, source },
            })?;
        let AddOutcome {
            added,
            already_listed,
            contacts_marked,
        } = outcome;
        summary.added = added;
        summary.already_listed = already_listed;
        summary.contacts_marked = contacts_marked;
        summary.list_size = store.blacklist_count()?;
        Ok(summary)
    })
}

fn entry(
    e164: E164,
    row: &Row,
    reason_column: Option<usize>,
    options: &BlacklistImportOptions,
) -> NewEntry {
    let reason = reason_column
        .and_then(|i| row.cells.get(i))
        .map(Cell::to_text)
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| options.reason.clone());
    NewEntry {
        e164,
        reason,
        source: options.source,
        checked_on: options.checked_on.clone(),
        campaign: None,
    }
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] shofar_store::StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

/// A CSV writer's failure as the I/O error it is (a closed pipe stays a closed
/// pipe, which the binary treats as the reader going away); csv's own conversion
/// hides the kind behind `Other`.
fn csv_io(error: csv::Error) -> std::io::Error {
    if !error.is_io_error() {
        return std::io::Error::other(error);
    }
    match error.into_kind() {
        csv::ErrorKind::Io(io) => io,
        kind => std::io::Error::other(format!("{kind:?}")),
    }
}

/// Writes the whole list as CSV (`phone, reason, source, added_at, added_by,
/// checked_on`; what `import_blacklist` reads back), in number order. Returns how
/// many numbers were written.
pub fn export_blacklist_csv(store: &Store, out: impl std::io::Write) -> Result<u64, ExportError> {
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(out));
    writer
        .write_record([
            "phone",
            "reason",
            "source",
            "added_at",
            "added_by",
            "checked_on",
        ])
        .map_err(csv_io)?;
    let mut count = 0;
    store.blacklist_for_each(|entry| {
        count += 1;
        writer
            .write_record([
                entry.e164.to_string(),
                entry.reason.clone(),
                entry.source.to_string(),
                shofar_store::format_time(entry.added_at),
                entry.added_by.clone().unwrap_or_default(),
                entry.checked_on.clone().unwrap_or_default(),
            ])
            .map_err(csv_io)
    })??;
    writer.flush()?;
    Ok(count)
}

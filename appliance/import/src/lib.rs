//! Imports of contact lists and do-not-call lists from the files staff bring:
//! `.xlsx`, `.xls`, `.ods` and `.csv` (UTF-8, UTF-8 with BOM, UTF-16 with BOM or
//! Windows-1255; `,` `;` or tab separated).
//!
//! A contact import reads the file on one thread, cleans and validates numbers on
//! all cores (libphonenumber is the expensive part), and writes on the caller's
//! thread in short store transactions under its import job, which one small last
//! commit makes visible whole (`shofar_store::imports`). Every data row ends as
//! exactly one of imported, duplicate or invalid, and the [`ImportSummary`]
//! counts are the counts of what was written.
//!
//! Invariants:
//! - All or nothing: nothing of an import is visible (to the dialer, listings,
//!   counts, reports) before its last commit, and any error (a damaged file, an
//!   oversized cell, a failed write, a panic) leaves the database as it was once
//!   what it wrote is removed, including a campaign the import would have
//!   created. An import whose process dies is removed by the next import or
//!   `shofar serve`'s recovery.
//! - Never long in the way: no transaction of an import holds the write lock for
//!   much more than `shofar_store::imports::TRANSACTION_BUDGET`, and a busy
//!   database is waited for (up to a minute) rather than failing the import.
//! - Bounded: a workbook is refused, before it is unpacked, when its zip
//!   directory declares more than [`source::MAX_UNPACKED_BYTES`] or (past 50 MB)
//!   more than [`source::MAX_PACKING_RATIO`] times its packed size; the
//!   rejected-rows file keeps its first 100,000 rows; [`cleanup`] bounds what
//!   uploads and rejected-rows files take on disk.
//! - One bad row never fails an import: it is counted as invalid, with its row
//!   number and a reason, in the summary and the rejected-rows file.
//! - Row numbers are the spreadsheet's own: the header row is row 1 (for CSV, the
//!   record's number, which is the row a spreadsheet shows it on).
#![forbid(unsafe_code)]

pub mod blacklist;
pub mod cleanup;
pub mod columns;
pub mod consent;
mod contacts;
pub mod rejected;
pub mod source;

use std::path::PathBuf;

pub use contacts::{
    ContactImportOptions, DuplicateRule, ImportSummary, InvalidRow, import_contacts,
};

/// How a long import reports where it is.
pub trait Progress: Sync {
    /// The work ahead: `total` rows or bytes.
    fn start(&self, _total: u64, _unit: ProgressUnit) {}
    /// How far reading has come, in the unit given to `start`.
    fn advance(&self, _position: u64) {}
    /// The import is writing its last rows and committing.
    fn finishing(&self) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressUnit {
    Rows,
    Bytes,
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Why an import failed. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: unsupported file type {extension:?}; save the list as .xlsx, .xls, .ods or .csv"
    )]
    UnsupportedType { path: PathBuf, extension: String },
    #[error(
        "{path} is named as {expected} but its content is {found}; save it again from \
         the spreadsheet program in the format its name says, or rename it to match"
    )]
    WrongContent {
        path: PathBuf,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{path} is empty: there is no header row and no data")]
    EmptyFile { path: PathBuf },
    #[error("{path} has a header row but no data rows below it")]
    NoDataRows { path: PathBuf },
    #[error(
        "{path} cannot be read as a workbook ({message}); the file may be damaged or password-protected"
    )]
    Workbook { path: PathBuf, message: String },
    #[error("{path} has no sheet named {sheet:?}; its sheets are: {}", available.join(", "))]
    SheetNotFound {
        path: PathBuf,
        sheet: String,
        available: Vec<String>,
    },
    #[error(
        "{path}: no phone column found; the headers are: {}. Name the column with \
         --phone-column HEADER (or a column letter such as C), or give it a header \
         such as טלפון, נייד or phone", headers.join(", ")
    )]
    NoPhoneColumn { path: PathBuf, headers: Vec<String> },
    #[error("{path}: there is no column {given:?}; the headers are: {}", headers.join(", "))]
    PhoneColumnMissing {
        path: PathBuf,
        given: String,
        headers: Vec<String>,
    },
    #[error(
        "row {row}, column {column}: the cell holds {bytes} bytes, more than the \
         {limit} a contact field may have; is this the right file?", limit = source::MAX_CELL_BYTES
    )]
    CellTooLarge {
        row: u64,
        column: String,
        bytes: usize,
    },
    #[error("{path}: CSV error at row {row}: {message}")]
    Csv {
        path: PathBuf,
        row: u64,
        message: String,
    },
    #[error("cannot write the rejected-rows file {path}: {source}")]
    RejectedFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} unpacks to {} MB ({ratio}× its {} MB), more than a contact list can; \
         the box reads at most {} MB unpacked and {}× packed. Save the list as CSV \
         (or split it into smaller files) and import that",
        unpacked / 1_000_000, compressed.div_ceil(1_000_000),
        source::MAX_UNPACKED_BYTES / 1_000_000, source::MAX_PACKING_RATIO,
        ratio = unpacked / (*compressed).max(1)
    )]
    UnpacksTooLarge {
        path: PathBuf,
        unpacked: u64,
        compressed: u64,
    },
    #[error(transparent)]
    Store(#[from] shofar_store::StoreError),
    #[error(
        "the do-not-call import stopped after listing {added} numbers: {source}. Those stay \
         listed (listing early is the safe side); run the import again to list the rest"
    )]
    BlacklistPartlyAdded {
        added: u64,
        #[source]
        source: shofar_store::StoreError,
    },
    #[error("the file reader stopped unexpectedly")]
    ReaderGone,
}

impl ImportError {
    /// Every [`ImportError::code`], for a UI to check its wording covers them.
    pub const CODES: &'static [&'static str] = &[
        "unreadable",
        "unsupported_type",
        "wrong_content",
        "empty_file",
        "no_data_rows",
        "damaged_workbook",
        "sheet_not_found",
        "no_phone_column",
        "phone_column_missing",
        "cell_too_large",
        "csv_error",
        "rejected_file_unwritable",
        "unpacks_too_large",
        "disk_full",
        "database_busy",
        "import_running",
        "import_stopped",
        "database",
        "blacklist_partly_added",
        "reader_gone",
    ];

    /// What went wrong, stable for a UI to word in its own language (the file's
    /// name is the UI's to add): `unreadable`, `unsupported_type`, …
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Io { .. } => "unreadable",
            ImportError::UnsupportedType { .. } => "unsupported_type",
            ImportError::WrongContent { .. } => "wrong_content",
            ImportError::EmptyFile { .. } => "empty_file",
            ImportError::NoDataRows { .. } => "no_data_rows",
            ImportError::Workbook { .. } => "damaged_workbook",
            ImportError::SheetNotFound { .. } => "sheet_not_found",
            ImportError::NoPhoneColumn { .. } => "no_phone_column",
            ImportError::PhoneColumnMissing { .. } => "phone_column_missing",
            ImportError::CellTooLarge { .. } => "cell_too_large",
            ImportError::Csv { .. } => "csv_error",
            ImportError::RejectedFile { .. } => "rejected_file_unwritable",
            ImportError::UnpacksTooLarge { .. } => "unpacks_too_large",
            ImportError::Store(error) => match (error, error.condition()) {
                (_, Some(shofar_store::Condition::DiskFull)) => "disk_full",
                (_, Some(shofar_store::Condition::Busy)) => "database_busy",
                (shofar_store::StoreError::ImportRunning { .. }, _) => "import_running",
                (shofar_store::StoreError::ImportStopped { .. }, _) => "import_stopped",
                _ => "database",
            },
            ImportError::BlacklistPartlyAdded { .. } => "blacklist_partly_added",
            ImportError::ReaderGone => "reader_gone",
        }
    }

    /// The values the message names, for a UI's own wording (never a path on
    /// the box): `extension`, `sheet` and `available`, `headers`, `given`,
    /// `row` and `column`, `unpacked_mb` and `limit_mb`, `campaign`, `added`.
    pub fn params(&self) -> std::collections::BTreeMap<&'static str, String> {
        let pairs: Vec<(&'static str, String)> = match self {
            ImportError::UnsupportedType { extension, .. } => {
                vec![("extension", extension.clone())]
            }
            ImportError::WrongContent {
                expected, found, ..
            } => vec![
                ("expected", (*expected).to_owned()),
                ("found", (*found).to_owned()),
            ],
            ImportError::SheetNotFound {
                sheet, available, ..
            } => vec![
                ("sheet", sheet.clone()),
                ("available", available.join(", ")),
            ],
            ImportError::NoPhoneColumn { headers, .. } => {
                vec![("headers", headers.join(", "))]
            }
            ImportError::PhoneColumnMissing { given, headers, .. } => {
                vec![("given", given.clone()), ("headers", headers.join(", "))]
            }
            ImportError::CellTooLarge { row, column, .. } => {
                vec![("row", row.to_string()), ("column", column.clone())]
            }
            ImportError::Csv { row, .. } => vec![("row", row.to_string())],
            ImportError::UnpacksTooLarge {
                unpacked,
                compressed,
                ..
            } => vec![
                ("unpacked_mb", (unpacked / 1_000_000).to_string()),
                ("compressed_mb", compressed.div_ceil(1_000_000).to_string()),
                (
                    "limit_mb",
                    (source::MAX_UNPACKED_BYTES / 1_000_000).to_string(),
                ),
                ("ratio", (unpacked / (*compressed).max(1)).to_string()),
            ],
            ImportError::Store(shofar_store::StoreError::ImportRunning { campaign, .. }) => {
                vec![("campaign", campaign.clone())]
            }
            ImportError::BlacklistPartlyAdded { added, .. } => vec![("added", added.to_string())],
            _ => Vec::new(),
        };
        pairs.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_listed_code_and_no_path_in_its_params() {
        let path = PathBuf::from("/var/lib/shofar/uploads/job-1/תורמים.xlsx");
        let errors = [
            ImportError::Io {
                path: path.clone(),
                source: std::io::Error::other("gone"),
            },
            ImportError::UnsupportedType {
                path: path.clone(),
                extension: "pdf".into(),
            },
            ImportError::WrongContent {
                path: path.clone(),
                expected: "xlsx",
                found: "CSV text",
            },
            ImportError::EmptyFile { path: path.clone() },
            ImportError::NoDataRows { path: path.clone() },
            ImportError::Workbook {
                path: path.clone(),
                message: "zip".into(),
            },
            ImportError::SheetNotFound {
                path: path.clone(),
                sheet: "תורמים".into(),
                available: vec!["Sheet1".into()],
            },
            ImportError::NoPhoneColumn {
                path: path.clone(),
                headers: vec!["שם".into()],
            },
            ImportError::PhoneColumnMissing {
                path: path.clone(),
                given: "נייד".into(),
                headers: vec!["שם".into()],
            },
            ImportError::CellTooLarge {
                row: 3,
                column: "B".into(),
                bytes: 1 << 20,
            },
            ImportError::Csv {
                path: path.clone(),
                row: 7,
                message: "quote".into(),
            },
            ImportError::RejectedFile {
                path: path.clone(),
                source: std::io::Error::other("read-only"),
            },
            ImportError::UnpacksTooLarge {
                path: path.clone(),
                unpacked: 524_000_000,
                compressed: 1_500_000,
            },
            ImportError::Store(shofar_store::StoreError::Busy {
                waited: std::time::Duration::from_secs(61),
            }),
            ImportError::Store(shofar_store::StoreError::ImportRunning {
                campaign: "תורמים".into(),
                job: 3,
            }),
            ImportError::Store(shofar_store::StoreError::ImportStopped { job: 3 }),
            ImportError::BlacklistPartlyAdded {
                added: 5000,
                source: shofar_store::StoreError::Busy {
                    waited: std::time::Duration::from_secs(61),
                },
            },
            ImportError::ReaderGone,
        ];
        for error in &errors {
            assert!(ImportError::CODES.contains(&error.code()), "{error}");
            for value in error.params().values() {
                assert!(!value.contains("/var/lib"), "{error}: {value}");
            }
        }
    }
}

//! Imports of contact lists and do-not-call lists from the files staff bring:
//! `.xlsx`, `.xls`, `.ods` and `.csv` (UTF-8, UTF-8 with BOM, UTF-16 with BOM or
//! Windows-1255; `,` `;` or tab separated).
//!
//! A contact import reads the file on one thread, cleans and validates numbers on
//! all cores (libphonenumber is the expensive part), and writes on the caller's
//! thread inside one store transaction. Every data row ends as exactly one of
//! imported, duplicate or invalid, and the [`ImportSummary`] counts are the counts
//! of what was written.
//!
//! Invariants:
//! - All or nothing: any error (a damaged file, an oversized cell, a failed write)
//!   leaves the database as it was, including a campaign the import would have
//!   created.
//! - One bad row never fails an import: it is counted as invalid, with its row
//!   number and a reason, in the summary and the rejected-rows file.
//! - Row numbers are the spreadsheet's own: the header row is row 1 (for CSV, the
//!   record's number, which is the row a spreadsheet shows it on).
#![forbid(unsafe_code)]

pub mod blacklist;
pub mod columns;
pub mod consent;
mod contacts;
mod rejected;
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
    #[error(transparent)]
    Store(#[from] shofar_store::StoreError),
    #[error("the file reader stopped unexpectedly")]
    ReaderGone,
}

//! The contact import: file rows in, contacts and an exact summary out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use shofar_dnc::SharedDnc;
use shofar_phone::{E164, LineType, Normalizer, Rejection};
use shofar_store::Store;
use shofar_store::contacts::{Consent, ImportCounts, NewContact};

use crate::columns::{self, Columns};
use crate::consent::{self, ConsentValue};
use crate::rejected::RejectedRows;
use crate::source::{Cell, QUEUED_BATCHES, Row, RowStream, with_rows};
use crate::{ImportError, Progress};

/// What happens to a row whose number an earlier row (or an earlier import into
/// the same campaign) already holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateRule {
    /// The first occurrence is kept as it is; later ones are counted as duplicates.
    #[default]
    KeepFirst,
    /// As `KeepFirst`, and the duplicate's fields fill the kept contact's empty
    /// ones (the first non-empty value of each field wins).
    MergeMetadata,
}

#[derive(Debug, Clone)]
pub struct ContactImportOptions {
    pub campaign: String,
    /// Create the campaign if it does not exist (in the import's transaction).
    pub create: bool,
    pub sheet: Option<String>,
    /// The phone column's header or letter; found by header when `None`.
    pub phone_column: Option<String>,
    pub duplicates: DuplicateRule,
    /// Who runs the import, for the audit log.
    pub actor: String,
    /// Where the rejected-rows file goes when the data file's folder is not
    /// writable.
    pub rejected_fallback_dir: Option<PathBuf>,
    /// How many invalid rows the summary lists (all are in the rejected-rows file).
    pub invalid_rows_in_summary: usize,
}

impl ContactImportOptions {
    pub fn new(campaign: impl Into<String>) -> ContactImportOptions {
        ContactImportOptions {
            campaign: campaign.into(),
            create: false,
            sheet: None,
            phone_column: None,
            duplicates: DuplicateRule::KeepFirst,
            actor: "cli".to_owned(),
            rejected_fallback_dir: None,
            invalid_rows_in_summary: 100,
        }
    }
}

/// One invalid row, as the summary lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidRow {
    pub row: u64,
    pub value: String,
    /// In English.
    pub reason: String,
    /// Language-neutral (`unallocated`, `too_short`, …), for scripts and the UI.
    pub code: &'static str,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LineTypeCounts {
    pub mobile: u64,
    pub fixed_line: u64,
    pub voip: u64,
    pub toll_free: u64,
    pub other: u64,
}

impl LineTypeCounts {
    fn add(&mut self, line_type: LineType) {
        *match line_type {
            LineType::Mobile => &mut self.mobile,
            LineType::FixedLine => &mut self.fixed_line,
            LineType::Voip => &mut self.voip,
            LineType::TollFree => &mut self.toll_free,
            LineType::Other => &mut self.other,
        } += 1;
    }
}

/// Consent as recorded on the imported contacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConsentCounts {
    pub given: u64,
    pub refused: u64,
    /// Empty cell or no consent column: nothing recorded.
    pub unknown: u64,
    /// Text that is not yes, no or a date: stored as no consent.
    pub unrecognized: u64,
}

/// What an import did, row by row, in numbers. `imported + duplicates + invalid ==
/// total_rows` always holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub total_rows: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub invalid: u64,
    /// Imported contacts whose number is on the do-not-call list: stored, marked,
    /// never dialed.
    pub blacklisted: u64,
    pub line_types: LineTypeCounts,
    /// The first invalid rows (see `invalid_rows_truncated`); all of them are in
    /// the rejected-rows file.
    pub invalid_rows: Vec<InvalidRow>,
    pub invalid_rows_truncated: bool,
    /// The invalid and duplicate rows with their reasons (the first
    /// 100,000 of them); `None` when there were none.
    pub rejected_rows_file: Option<PathBuf>,
    /// Rejected rows left out of that file, past its bounds (it says so in a
    /// last line).
    pub rejected_rows_omitted: u64,
    /// Imported contacts that can receive SMS (mobiles); the rest get TTS calls.
    pub sms_capable: u64,
    pub consent: ConsentCounts,
    /// Duplicates whose fields were merged into the kept contact.
    pub merged: u64,
    pub campaign: String,
    pub campaign_id: i64,
    pub campaign_created: bool,
    pub import_id: i64,
    pub file: PathBuf,
    pub phone_column: String,
    pub consent_column: Option<String>,
    /// Other columns that look like phone numbers; kept as metadata, not dialed.
    pub other_phone_columns: Vec<String>,
}

/// A row after the parallel stage.
enum Processed {
    Valid {
        e164: E164,
        line_type: LineType,
        metadata: String,
        consent: ConsentValue,
    },
    Invalid {
        value: String,
        rejection: Rejection,
    },
}

/// The row's other columns as a JSON object, in column order. Written by hand
/// into one buffer: it runs for every row of every import, and building a map
/// of owned strings per row cost more than reading the file.
fn metadata_json(row: &Row, columns: &Columns, keys: &[String]) -> String {
    let mut out = String::with_capacity(128);
    out.push('{');
    for (index, cell) in row.cells.iter().enumerate() {
        if index == columns.phone || cell.is_empty() {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        match keys.get(index) {
            Some(key) => out.push_str(key),
            None => push_json_string(
                &mut out,
                &format!("column {}", crate::source::column_name(index)),
            ),
        }
        out.push(':');
        match cell {
            Cell::Text(text) => push_json_string(&mut out, text.trim()),
            other => push_json_string(&mut out, &other.to_text()),
        }
    }
    out.push('}');
    out
}

/// Appends `text` as a JSON string literal.
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Each column's name as a JSON key, escaped once per import.
fn json_keys(columns: &Columns) -> Vec<String> {
    columns
        .names
        .iter()
        .map(|name| {
            let mut key = String::new();
            push_json_string(&mut key, name);
            key
        })
        .collect()
}

fn process(row: &Row, columns: &Columns, keys: &[String], normalizer: &Normalizer) -> Processed {
    let cell = row.cells.get(columns.phone).unwrap_or(&Cell::Empty);
    match normalizer.normalize(cell.as_phone()) {
        Ok(number) => Processed::Valid {
            e164: number.e164,
            line_type: number.line_type,
            metadata: metadata_json(row, columns, keys),
            consent: columns
                .consent
                .map(|index| consent::read(row.cells.get(index).unwrap_or(&Cell::Empty)))
                .unwrap_or(ConsentValue::Unknown),
        },
        Err(rejection) => Processed::Invalid {
            value: cell.to_text(),
            rejection,
        },
    }
}

/// Fills `kept`'s missing or empty fields from `duplicate`; returns the merged
/// object text if anything changed.
fn merge_metadata(kept: &str, duplicate: &str) -> Option<String> {
    let mut kept: serde_json::Map<String, serde_json::Value> = serde_json::from_str(kept).ok()?;
    let duplicate: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(duplicate).ok()?;
    let mut changed = false;
    for (key, value) in duplicate {
        let empty = kept
            .get(&key)
            .is_none_or(|v| v.as_str().is_some_and(str::is_empty));
        if empty {
            kept.insert(key, value);
            changed = true;
        }
    }
    changed.then(|| serde_json::Value::Object(kept).to_string())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// What the classifying stage hands the writer.
enum Write {
    Insert(NewContact),
    /// A duplicate under [`DuplicateRule::MergeMetadata`]: fill the kept
    /// contact's empty fields from these.
    Merge {
        e164: E164,
        metadata: String,
    },
}

/// The counts and files the classifying stage keeps.
struct Tally {
    counts: ImportCounts,
    line_types: LineTypeCounts,
    consent: ConsentCounts,
    invalid_rows: Vec<InvalidRow>,
    sms_capable: u64,
    rejected: RejectedRows,
}

/// The classifying stage: decides what becomes of each row.
struct Classifier<'a> {
    columns: &'a Columns,
    keys: Vec<String>,
    normalizer: &'a Normalizer,
    dnc: &'a SharedDnc,
    options: &'a ContactImportOptions,
    consent_source: Arc<str>,
    /// Number → the row that holds it (0: an earlier import).
    seen: FxHashMap<u64, u64>,
    tally: Tally,
}

impl Classifier<'_> {
    fn run(
        mut self,
        rows: &mut RowStream,
        writes: SyncSender<Vec<Write>>,
    ) -> Result<Tally, ImportError> {
        while let Some(batch) = rows.next_batch()? {
            let processed: Vec<Processed> = batch
                .par_iter()
                .with_min_len(256)
                .map(|row| process(row, self.columns, &self.keys, self.normalizer))
                .collect();
            let mut out = Vec::with_capacity(batch.len());
            for (row, outcome) in batch.iter().zip(processed) {
                self.classify(row, outcome, &mut out)?;
            }
            if writes.send(out).is_err() {
                // The writer failed; its error is the one to report.
                break;
            }
        }
        Ok(self.tally)
    }

    fn classify(
        &mut self,
        row: &Row,
        outcome: Processed,
        out: &mut Vec<Write>,
    ) -> Result<(), ImportError> {
        let tally = &mut self.tally;
        tally.counts.total_rows += 1;
        let (e164, line_type, metadata, consent) = match outcome {
            Processed::Invalid { value, rejection } => {
                tally.counts.invalid += 1;
                let reason = rejection.to_string();
                tally
                    .rejected
                    .add(row, "invalid", &value, &reason, &rejection.hebrew())?;
                if tally.invalid_rows.len() < self.options.invalid_rows_in_summary {
                    tally.invalid_rows.push(InvalidRow {
                        row: row.number,
                        value,
                        reason,
                        code: rejection.code(),
                    });
                }
                return Ok(());
            }
            Processed::Valid {
                e164,
                line_type,
                metadata,
                consent,
            } => (e164, line_type, metadata, consent),
        };
        if let Some(&first) = self.seen.get(&e164.as_u64()) {
            tally.counts.duplicates += 1;
            // In the Hebrew text the number and the campaign name are isolated, so
            // they read left to right (and as typed) inside right-to-left text.
            let (reason, hebrew) = if first == 0 {
                let campaign = &self.options.campaign;
                (
                    format!("duplicate: {e164} is already in campaign {campaign:?}"),
                    format!(
                        "כפול: \u{2066}{e164}\u{2069} כבר נמצא בקמפיין \u{2068}{campaign}\u{2069}"
                    ),
                )
            } else {
                (
                    format!("duplicate of row {first} ({e164})"),
                    format!("כפול של שורה {first} (\u{2066}{e164}\u{2069})"),
                )
            };
            let value = row
                .cells
                .get(self.columns.phone)
                .map(Cell::to_text)
                .unwrap_or_default();
            tally
                .rejected
                .add(row, "duplicate", &value, &reason, &hebrew)?;
            if self.options.duplicates == DuplicateRule::MergeMetadata {
                out.push(Write::Merge { e164, metadata });
            }
            return Ok(());
        }
        self.seen.insert(e164.as_u64(), row.number);
        let blacklisted = self.dnc.contains(e164);
        let consent = match consent {
            ConsentValue::Given(at) => {
                tally.consent.given += 1;
                Some(Consent {
                    given: true,
                    at,
                    source: Arc::clone(&self.consent_source),
                })
            }
            ConsentValue::Refused => {
                tally.consent.refused += 1;
                Some(Consent {
                    given: false,
                    at: None,
                    source: Arc::clone(&self.consent_source),
                })
            }
            ConsentValue::Unknown => {
                tally.consent.unknown += 1;
                None
            }
            ConsentValue::Unrecognized(_) => {
                tally.consent.unrecognized += 1;
                None
            }
        };
        tally.counts.imported += 1;
        tally.counts.blacklisted += u64::from(blacklisted);
        tally.sms_capable += u64::from(line_type.sms_capable());
        tally.line_types.add(line_type);
        out.push(Write::Insert(NewContact {
            e164,
            line_type,
            metadata,
            consent,
            blacklisted,
            source_row: row.number,
        }));
        Ok(())
    }
}

/// Imports the contacts in `path` into a campaign. See the crate documentation for
/// what it guarantees.
pub fn import_contacts(
    store: &mut Store,
    dnc: &SharedDnc,
    normalizer: &Normalizer,
    path: &Path,
    options: &ContactImportOptions,
    progress: &dyn Progress,
) -> Result<ImportSummary, ImportError> {
    with_rows(path, options.sheet.as_deref(), progress, |header, rows| {
        let columns = columns::detect(&header.cells, options.phone_column.as_deref())
            .map_err(|error| error.in_file(path))?;
        let name = file_name(path);
        let mut import =
            store.begin_contact_import(&options.campaign, options.create, &name, &options.actor)?;
        // Number → the row that holds it (0: an earlier import).
        let seen: FxHashMap<u64, u64> = import
            .existing_numbers()?
            .into_iter()
            .map(|n| (n, 0))
            .collect();
        let classifier = Classifier {
            columns: &columns,
            keys: json_keys(&columns),
            normalizer,
            dnc,
            options,
            consent_source: Arc::from(format!("import:{name}")),
            seen,
            tally: Tally {
                counts: ImportCounts::default(),
                line_types: LineTypeCounts::default(),
                consent: ConsentCounts::default(),
                invalid_rows: Vec::new(),
                sms_capable: 0,
                rejected: RejectedRows::new(
                    path,
                    options.rejected_fallback_dir.clone(),
                    columns.names.clone(),
                ),
            },
        };
        let mut merged = 0u64;

        // Three stages run at once: the reader thread; the classifying thread
        // (numbers and metadata on every core, then dedupe, the do-not-call check
        // and the rejected-rows file); and the writer, this thread, which does
        // nothing but write, in short transactions.
        let (writes_tx, writes_rx) = std::sync::mpsc::sync_channel::<Vec<Write>>(QUEUED_BATCHES);
        let tally = std::thread::scope(|scope| -> Result<Tally, ImportError> {
            let classifying = scope.spawn(move || classifier.run(rows, writes_tx));
            loop {
                // Nothing queued: commit before waiting, so the write lock is
                // never held while the file is read. Otherwise the transaction
                // goes on until its time is up (`commit_chunk` by itself).
                let writes = match writes_rx.try_recv() {
                    Ok(writes) => writes,
                    Err(_) => {
                        import.commit_chunk()?;
                        match writes_rx.recv() {
                            Ok(writes) => writes,
                            Err(_) => break,
                        }
                    }
                };
                for write in writes {
                    match write {
                        Write::Insert(contact) => import.insert(contact)?,
                        Write::Merge { e164, metadata } => {
                            if let Some(kept) = import.metadata_of(e164)?
                                && let Some(merged_metadata) = merge_metadata(&kept, &metadata)
                            {
                                import.set_metadata(e164, &merged_metadata)?;
                                merged += 1;
                            }
                        }
                    }
                }
            }
            classifying.join().map_err(|_| ImportError::ReaderGone)?
        })?;
        let Tally {
            counts,
            line_types,
            consent: consent_counts,
            invalid_rows,
            sms_capable,
            rejected,
        } = tally;
        if counts.total_rows == 0 {
            return Err(ImportError::NoDataRows {
                path: path.to_owned(),
            });
        }
        progress.finishing();
        let rejected_rows_omitted = rejected.omitted();
        let rejected_rows_file = rejected.finish()?;
        let summary = ImportSummary {
            total_rows: counts.total_rows,
            imported: counts.imported,
            duplicates: counts.duplicates,
            invalid: counts.invalid,
            blacklisted: counts.blacklisted,
            line_types,
            invalid_rows_truncated: counts.invalid > invalid_rows.len() as u64,
            invalid_rows,
            rejected_rows_file: rejected_rows_file.clone(),
            rejected_rows_omitted,
            sms_capable,
            consent: consent_counts,
            merged,
            campaign: options.campaign.clone(),
            campaign_id: import.campaign().0,
            campaign_created: import.created_campaign(),
            import_id: import.job_id(),
            file: path.to_owned(),
            phone_column: columns.names[columns.phone].clone(),
            consent_column: columns.consent.map(|i| columns.names[i].clone()),
            other_phone_columns: columns.other_phone_columns.clone(),
        };
        let json = serde_json::to_value(&summary).unwrap_or_default();
        let rejected_text = rejected_rows_file.as_ref().map(|p| p.display().to_string());
        if let Err(error) = import.finish(counts, &json, rejected_text.as_deref(), &options.actor) {
            if let Some(file) = &rejected_rows_file {
                let _ = std::fs::remove_file(file);
            }
            return Err(error.into());
        }
        tracing::info!(
            campaign = %options.campaign,
            file = %path.display(),
            total_rows = counts.total_rows,
            imported = counts.imported,
            duplicates = counts.duplicates,
            invalid = counts.invalid,
            blacklisted = counts.blacklisted,
            "contacts imported"
        );
        Ok(summary)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_json_in_column_order() {
        let columns = Columns {
            names: vec![
                "שם".into(),
                "טלפון".into(),
                "note \"x\"".into(),
                "ריק".into(),
            ],
            phone: 1,
            consent: None,
            other_phone_columns: vec![],
        };
        let row = Row {
            number: 2,
            cells: vec![
                Cell::Text(" דנה ".into()),
                Cell::Text("052-5551234".into()),
                Cell::Text("a\\b\n\"c\"\u{1}".into()),
                Cell::Empty,
                Cell::Number(36123456.0),
            ],
        };
        let json = metadata_json(&row, &columns, &json_keys(&columns));
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"שם": "דנה", "note \"x\"": "a\\b\n\"c\"\u{1}", "column E": "36123456"})
        );
        assert!(json.starts_with(r#"{"שם":"דנה","note"#), "{json}");
    }

    #[test]
    fn merging_fills_only_empty_fields() {
        assert_eq!(
            merge_metadata(
                r#"{"שם":"דנה","עיר":""}"#,
                r#"{"שם":"רות","עיר":"חיפה","מייל":"a@b.co.il"}"#
            )
            .as_deref(),
            Some(r#"{"שם":"דנה","עיר":"חיפה","מייל":"a@b.co.il"}"#)
        );
        assert_eq!(merge_metadata(r#"{"שם":"דנה"}"#, r#"{"שם":"רות"}"#), None);
    }
}

//! Contacts: written by imports, read by the scheduler, the UI and reports.

use std::time::Instant;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use shofar_phone::{E164, LineType};

use crate::campaigns::CampaignId;
use crate::imports::{JobLock, TRANSACTION_BUDGET, VISIBLE_CONTACT, visible_count};
use crate::{Result, Store, StoreError, audit, format_time};

/// A contact's recorded consent to receive advertising or donation requests
/// (Communications Law §30A).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub given: bool,
    /// When consent was given, if the file said (`YYYY-MM-DD` or a full timestamp).
    pub at: Option<String>,
    /// Where the consent was recorded, e.g. `import:donors.xlsx` (the contact's
    /// `source_row` says which row). Shared: every contact of an import has it.
    pub source: std::sync::Arc<str>,
}

/// One contact as an import writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub e164: E164,
    pub line_type: LineType,
    /// The row's other columns as a JSON object text.
    pub metadata: String,
    pub consent: Option<Consent>,
    pub blacklisted: bool,
    /// The spreadsheet's own row number (header = 1).
    pub source_row: u64,
}

/// The counts an import job ends with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub total_rows: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub invalid: u64,
    pub blacklisted: u64,
}

/// A contact as the CLI, UI and scheduler read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: i64,
    pub e164: String,
    pub line_type: String,
    pub sms_capable: bool,
    pub metadata: serde_json::Value,
    pub consent: Option<String>,
    pub consent_at: Option<String>,
    pub blacklisted: bool,
    pub status: String,
    pub attempts: u32,
    pub source_row: Option<u64>,
}

/// An import in progress, written in short transactions under its job and
/// invisible until [`ContactImport::finish`] (see [`crate::imports`]).
/// Dropping it without `finish` fails the job and removes what it wrote.
pub struct ContactImport<'store> {
    store: &'store mut Store,
    campaign: CampaignId,
    created: bool,
    job_id: i64,
    /// The mark its rows carry until the import commits; `None` when the
    /// campaign is the import's own (hidden whole until then).
    staged: Option<i64>,
    /// Held while the import runs: its lock file says its process lives.
    lock: Option<JobLock>,
    /// When the open transaction began; `None` between transactions.
    transaction: Option<Instant>,
    /// Contacts waiting to be written by one multi-row INSERT: a statement per
    /// row spends more time starting and ending statements than inserting.
    pending: Vec<NewContact>,
    /// The import committed (or its failure was handled).
    done: bool,
}

/// Rows per multi-row INSERT (12 parameters each, well under SQLite's limit).
const INSERT_BATCH: usize = 64;
const INSERT_COLUMNS: usize = 12;

fn insert_sql(rows: usize) -> String {
    let row = format!("({})", ["?"; INSERT_COLUMNS].join(","));
    format!(
        "INSERT INTO contacts (campaign_id, e164, line_type, sms_capable, metadata, consent,
                               consent_at, consent_source, blacklisted, import_id, source_row,
                               staged_import)
         VALUES {}",
        vec![row; rows].join(",")
    )
}

impl Store {
    /// Starts importing contacts from `file_name` into the campaign named
    /// `campaign`, creating it (hidden until the import commits) if `create` is
    /// set. Recovers what earlier imports left first; refused while another
    /// import into the same campaign runs.
    pub fn begin_contact_import(
        &mut self,
        campaign: &str,
        create: bool,
        file_name: &str,
        actor: &str,
    ) -> Result<ContactImport<'_>> {
        let begun = self.begin_import_job(campaign, create, file_name, actor)?;
        Ok(ContactImport {
            store: self,
            campaign: begun.campaign,
            created: begun.created,
            job_id: begun.job,
            staged: (!begun.created).then_some(begun.job),
            lock: begun.lock,
            transaction: None,
            pending: Vec::with_capacity(INSERT_BATCH),
            done: false,
        })
    }

    /// Contacts of a campaign in import order, `limit` from `offset`.
    pub fn contacts(&self, campaign: CampaignId, offset: u64, limit: u64) -> Result<Vec<Contact>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT id, e164, line_type, sms_capable, metadata, consent, consent_at, blacklisted,
                    status, attempts, source_row
             FROM contacts WHERE campaign_id = ?1 AND {VISIBLE_CONTACT}
             ORDER BY id LIMIT ?2 OFFSET ?3"
        ))?;
        let rows = statement.query_map(
            params![campaign.0, limit as i64, offset as i64],
            contact_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn contact_count(&self, campaign: CampaignId) -> Result<u64> {
        let count: i64 = self.conn.query_row(
            &format!("SELECT {}", visible_count("?1")),
            [campaign.0],
            |row| row.get(0),
        )?;
        Ok(count as u64)
    }
}

impl ContactImport<'_> {
    pub fn job_id(&self) -> i64 {
        self.job_id
    }

    pub fn campaign(&self) -> CampaignId {
        self.campaign
    }

    /// Whether this import created its campaign.
    pub fn created_campaign(&self) -> bool {
        self.created
    }

    /// The numbers the campaign holds: from earlier imports, and those this
    /// one wrote so far.
    pub fn existing_numbers(&mut self) -> Result<Vec<u64>> {
        self.flush()?;
        let mut statement = self.store.conn.prepare(&format!(
            "SELECT e164 FROM contacts
              WHERE campaign_id = ?1 AND (staged_import = ?2 OR {VISIBLE_CONTACT})"
        ))?;
        let rows = statement.query_map(params![self.campaign.0, self.job_id], |row| {
            row.get::<_, i64>(0)
        })?;
        rows.map(|row| row.map(|n| n as u64).map_err(StoreError::from))
            .collect()
    }

    /// Queues a contact; it is written with the next batch, and in any case
    /// before anything reads the campaign's contacts or the import finishes.
    pub fn insert(&mut self, contact: NewContact) -> Result<()> {
        self.pending.push(contact);
        if self.pending.len() >= INSERT_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Opens a transaction unless one is open. Each is short: see
    /// [`ContactImport::commit_chunk`].
    fn open(&mut self) -> Result<()> {
        if self.transaction.is_none() {
            self.store.begin_patiently()?;
            self.transaction = Some(Instant::now());
        }
        Ok(())
    }

    /// Commits what is written so far (still invisible) and lets other writers
    /// in. The import calls it whenever it would wait for more rows, and it
    /// happens by itself once a transaction has run for
    /// [`TRANSACTION_BUDGET`]. Each commit is the job's heartbeat.
    pub fn commit_chunk(&mut self) -> Result<()> {
        self.write_pending()?;
        if self.transaction.take().is_some() {
            let beat = self.store.conn.execute(
                "UPDATE import_jobs SET heartbeat_at = ?2 WHERE id = ?1",
                params![self.job_id, format_time(crate::now())],
            );
            self.store.end(beat.map_err(StoreError::from))?;
        }
        Ok(())
    }

    /// Writes the queued contacts; commits when the transaction's time is up.
    fn flush(&mut self) -> Result<()> {
        self.write_pending()?;
        if self
            .transaction
            .is_some_and(|began| began.elapsed() >= TRANSACTION_BUDGET)
        {
            self.commit_chunk()?;
        }
        Ok(())
    }

    fn write_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.open()?;
        let mut statement = self
            .store
            .conn
            .prepare_cached(&insert_sql(self.pending.len()))?;
        let mut index = 1;
        for contact in &self.pending {
            let (consent, consent_at, consent_source) = match &contact.consent {
                Some(c) => (
                    Some(if c.given { "given" } else { "refused" }),
                    c.at.as_deref(),
                    Some(&*c.source),
                ),
                None => (None, None, None),
            };
            let values: [&dyn rusqlite::ToSql; INSERT_COLUMNS] = [
                &self.campaign.0,
                &(contact.e164.as_u64() as i64),
                &contact.line_type.as_str(),
                &contact.line_type.sms_capable(),
                &contact.metadata,
                &consent,
                &consent_at,
                &consent_source,
                &contact.blacklisted,
                &self.job_id,
                &(contact.source_row as i64),
                &self.staged,
            ];
            for value in values {
                statement.raw_bind_parameter(index, value)?;
                index += 1;
            }
        }
        statement.raw_execute()?;
        self.pending.clear();
        Ok(())
    }

    /// The metadata of the campaign's contact with `number` as this import
    /// sees it (for merging a duplicate into it): a merge already kept aside
    /// for it included.
    pub fn metadata_of(&mut self, number: E164) -> Result<Option<String>> {
        self.flush()?;
        Ok(self
            .store
            .conn
            .prepare_cached(
                "SELECT coalesce((SELECT metadata FROM import_merges
                                   WHERE import_id = ?3 AND contact_id = c.id), c.metadata)
                   FROM contacts c WHERE campaign_id = ?1 AND e164 = ?2",
            )?
            .query_row(
                params![self.campaign.0, number.as_u64() as i64, self.job_id],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Replaces the metadata of the campaign's contact with `number`: at once
    /// on a contact this import wrote; kept aside, and applied once the import
    /// commits, on one that was there before.
    pub fn set_metadata(&mut self, number: E164, metadata: &str) -> Result<()> {
        self.flush()?;
        self.open()?;
        let contact: Option<(i64, bool)> = self
            .store
            .conn
            .prepare_cached(
                "SELECT id, import_id IS ?3 FROM contacts WHERE campaign_id = ?1 AND e164 = ?2",
            )?
            .query_row(
                params![self.campaign.0, number.as_u64() as i64, self.job_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match contact {
            Some((id, true)) => {
                self.store
                    .conn
                    .prepare_cached("UPDATE contacts SET metadata = ?2 WHERE id = ?1")?
                    .execute(params![id, metadata])?;
            }
            Some((id, false)) => {
                self.store
                    .conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO import_merges (import_id, contact_id, metadata)
                         VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![self.job_id, id, metadata])?;
            }
            None => {}
        }
        Ok(())
    }

    /// Records the outcome and commits the whole import in one small
    /// transaction: from then on everything it wrote is visible. Its rows then
    /// join the dispatch order in short transactions (see [`crate::imports`]);
    /// a failure there is logged and left for the next recovery.
    pub fn finish(
        mut self,
        counts: ImportCounts,
        summary: &serde_json::Value,
        rejected_file: Option<&str>,
        actor: &str,
    ) -> Result<i64> {
        self.commit_chunk()?;
        let (job, campaign, created) = (self.job_id, self.campaign, self.created);
        self.store.patient_transaction(|store| {
            let completed = store.conn.execute(
                "UPDATE import_jobs SET status = 'completed', finished_at = ?2, heartbeat_at = ?2,
                        total_rows = ?3, imported = ?4, duplicates = ?5, invalid = ?6,
                        blacklisted = ?7, summary = ?8, rejected_file = ?9
                 WHERE id = ?1 AND status = 'running'",
                params![
                    job,
                    format_time(crate::now()),
                    counts.total_rows as i64,
                    counts.imported as i64,
                    counts.duplicates as i64,
                    counts.invalid as i64,
                    counts.blacklisted as i64,
                    summary.to_string(),
                    rejected_file,
                ],
            )?;
            if completed == 0 {
                return Err(StoreError::ImportStopped { job });
            }
            let subject = campaign.0.to_string();
            if created {
                let name: String = store.conn.query_row(
                    "UPDATE campaigns SET staged_import = NULL WHERE id = ?1 RETURNING name",
                    [campaign.0],
                    |row| row.get(0),
                )?;
                audit::record(
                    &store.conn,
                    actor,
                    "campaign.create",
                    Some(("campaign", &subject)),
                    &serde_json::json!({ "name": name }),
                )?;
            }
            audit::record(
                &store.conn,
                actor,
                "contacts.import",
                Some(("campaign", &subject)),
                &serde_json::json!({ "job": job, "counts": counts }),
            )
        })?;
        self.done = true;
        // Completed: whether its process lives no longer matters.
        drop(self.lock.take());
        if self.staged.is_some()
            && let Err(error) = self.store.clear_completed_job(self.job_id)
        {
            tracing::warn!(job = self.job_id, %error, "the imported contacts join the dispatch order at the next recovery");
        }
        Ok(self.job_id)
    }

    /// Fails the job and removes what it wrote, in short transactions.
    fn abandon(&mut self) -> Result<()> {
        self.pending.clear();
        if self.transaction.take().is_some() {
            let _ = self.store.conn.execute_batch("ROLLBACK");
        }
        self.store
            .fail_job(self.job_id, "the import stopped before it finished")?;
        drop(self.lock.take());
        self.store.remove_failed_job(self.job_id)?;
        Ok(())
    }
}

impl Drop for ContactImport<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        if let Err(error) = self.abandon() {
            // The job stays failed (or running, its lock released): the next
            // recovery removes what it wrote.
            tracing::warn!(job = self.job_id, %error, "cannot remove what a failed import wrote yet");
        }
    }
}

/// Which contacts of a campaign a listing shows.
#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    /// Digits of the number (any part of it, as typed: `0525551234` finds
    /// `+972525551234`), or text in the values of the contact's other columns
    /// (never their headers or the JSON they are kept in), taken literally.
    pub search: Option<String>,
    /// `pending`, `in_progress`, `completed`, `failed` or `blacklisted` (a
    /// pending contact whose number was listed since is `blacklisted`).
    pub status: Option<String>,
}

/// An import as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub campaign_id: i64,
    pub kind: String,
    pub file_name: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub total_rows: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub invalid: u64,
    pub blacklisted: u64,
    /// The summary the import printed, as JSON.
    pub summary: Option<serde_json::Value>,
    pub rejected_file: Option<String>,
    pub actor: Option<String>,
}

fn contact_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Contact> {
    let e164: i64 = row.get(1)?;
    let metadata: String = row.get(4)?;
    Ok(Contact {
        id: row.get(0)?,
        e164: format!("+{e164}"),
        line_type: row.get(2)?,
        sms_capable: row.get(3)?,
        metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
        consent: row.get(5)?,
        consent_at: row.get(6)?,
        blacklisted: row.get(7)?,
        status: row.get(8)?,
        attempts: row.get(9)?,
        source_row: row.get::<_, Option<i64>>(10)?.map(|r| r as u64),
    })
}

/// A contact whose metadata has a value containing the bound pattern: the
/// values of its columns only, never the JSON text around them (its keys,
/// braces and quotes), so `name` or `{` match nothing no value contains.
/// `atom` is NULL for objects and arrays, and metadata that is not JSON (never
/// written by an import) matches nothing rather than failing the query.
const METADATA_VALUE_LIKE: &str = "CASE WHEN json_valid(metadata) THEN EXISTS (
         SELECT 1 FROM json_tree(metadata) WHERE atom LIKE ? ESCAPE '\\'
     ) ELSE 0 END";

/// Text a person typed, as a LIKE pattern that matches it literally (with
/// `ESCAPE '\\'`): `%` and `_` are not wildcards.
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Store {
    /// A page of a campaign's contacts in import order, and how many match.
    pub fn contact_page(
        &self,
        campaign: CampaignId,
        query: &ContactQuery,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<Contact>, u64)> {
        use rusqlite::types::Value;
        let mut clauses = vec!["campaign_id = ?".to_owned(), VISIBLE_CONTACT.to_owned()];
        let mut values = vec![Value::Integer(campaign.0)];
        // A contact whose number was listed after it was imported keeps its
        // status until a dial is refused; it counts as blacklisted (as in
        // `contact_counts`), not as pending.
        match query.status.as_deref() {
            None => {}
            Some("pending") => clauses.push("status = 'pending' AND blacklisted = 0".to_owned()),
            Some("blacklisted") => clauses.push(
                "(status = 'blacklisted' OR (status = 'pending' AND blacklisted = 1))".to_owned(),
            ),
            Some(status) => {
                clauses.push("status = ?".to_owned());
                values.push(Value::Text(status.to_owned()));
            }
        }
        if let Some(search) = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let digits: String = search.chars().filter(char::is_ascii_digit).collect();
            // A local number's leading 0 is the country code in E.164.
            let digits = digits.strip_prefix('0').unwrap_or(&digits).to_owned();
            if digits.len() >= 3 {
                clauses.push(format!(
                    "(CAST(e164 AS TEXT) LIKE ? OR {METADATA_VALUE_LIKE})"
                ));
                values.push(Value::Text(format!("%{digits}%")));
            } else {
                clauses.push(METADATA_VALUE_LIKE.to_owned());
            }
            values.push(Value::Text(format!("%{}%", like_literal(search))));
        }
        let clause = clauses.join(" AND ");
        let total = if clauses.len() == 2 {
            // Unfiltered: counted from the indexes alone.
            self.contact_count(campaign)?
        } else {
            self.conn.query_row(
                &format!("SELECT count(*) FROM contacts WHERE {clause}"),
                rusqlite::params_from_iter(values.iter()),
                |row| row.get::<_, i64>(0),
            )? as u64
        };
        values.push(Value::Integer(limit as i64));
        values.push(Value::Integer(offset as i64));
        let mut statement = self.conn.prepare(&format!(
            "SELECT id, e164, line_type, sms_capable, metadata, consent, consent_at, blacklisted,
                    status, attempts, source_row
             FROM contacts WHERE {clause} ORDER BY id LIMIT ? OFFSET ?"
        ))?;
        let rows =
            statement.query_map(rusqlite::params_from_iter(values.iter()), contact_from_row)?;
        Ok((rows.collect::<Result<_, _>>()?, total))
    }

    /// Recorded imports, newest first; one campaign's or all.
    pub fn imports(&self, campaign: Option<CampaignId>, limit: u64) -> Result<Vec<ImportRecord>> {
        let mut statement = self.conn.prepare(
            "SELECT id, campaign_id, kind, file_name, status, started_at, finished_at, total_rows,
                    imported, duplicates, invalid, blacklisted, summary, rejected_file, actor
             FROM import_jobs WHERE ?1 IS NULL OR campaign_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![campaign.map(|c| c.0), limit as i64],
            import_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn import_record(&self, id: i64) -> Result<Option<ImportRecord>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, campaign_id, kind, file_name, status, started_at, finished_at,
                        total_rows, imported, duplicates, invalid, blacklisted, summary,
                        rejected_file, actor
                 FROM import_jobs WHERE id = ?1",
                [id],
                import_from_row,
            )
            .optional()?)
    }
}

fn import_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ImportRecord> {
    let count = |index| row.get::<_, i64>(index).map(|n| n as u64);
    Ok(ImportRecord {
        id: row.get(0)?,
        campaign_id: row.get(1)?,
        kind: row.get(2)?,
        file_name: row.get(3)?,
        status: row.get(4)?,
        started_at: row.get(5)?,
        finished_at: row.get(6)?,
        total_rows: count(7)?,
        imported: count(8)?,
        duplicates: count(9)?,
        invalid: count(10)?,
        blacklisted: count(11)?,
        summary: row
            .get::<_, Option<String>>(12)?
            .and_then(|text| serde_json::from_str(&text).ok()),
        rejected_file: row.get(13)?,
        actor: row.get(14)?,
    })
}

//! Contacts: written by imports, read by the scheduler, the UI and reports.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use shofar_phone::{E164, LineType};

use crate::campaigns::CampaignId;
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

/// An import in progress: one transaction. Dropping it without
/// [`ContactImport::finish`] rolls everything back.
pub struct ContactImport<'store> {
    tx: Transaction<'store>,
    campaign: CampaignId,
    created: bool,
    job_id: i64,
    /// Contacts waiting to be written by one multi-row INSERT: a statement per
    /// row spends more time starting and ending statements than inserting.
    pending: Vec<NewContact>,
}

/// Rows per multi-row INSERT (11 parameters each, well under SQLite's limit).
const INSERT_BATCH: usize = 64;
const INSERT_COLUMNS: usize = 11;

fn insert_sql(rows: usize) -> String {
    let row = format!("({})", ["?"; INSERT_COLUMNS].join(","));
    format!(
        "INSERT INTO contacts (campaign_id, e164, line_type, sms_capable, metadata, consent,
                               consent_at, consent_source, blacklisted, import_id, source_row)
         VALUES {}",
        vec![row; rows].join(",")
    )
}

impl Store {
    /// Starts importing contacts from `file_name` into the campaign named
    /// `campaign`, creating it (inside the same transaction) if `create` is set.
    pub fn begin_contact_import(
        &mut self,
        campaign: &str,
        create: bool,
        file_name: &str,
        actor: &str,
    ) -> Result<ContactImport<'_>> {
        let tx = self.conn.transaction()?;
        let (campaign, created) = match crate::campaigns::find(&tx, campaign)? {
            Some(id) => (id, false),
            None if create => (crate::campaigns::insert(&tx, campaign, actor)?, true),
            None => return Err(StoreError::NoSuchCampaign(campaign.to_owned())),
        };
        tx.execute(
            "INSERT INTO import_jobs (campaign_id, kind, file_name, status, started_at, actor)
             VALUES (?1, 'contacts', ?2, 'running', ?3, ?4)",
            params![campaign.0, file_name, format_time(crate::now()), actor],
        )?;
        let job_id = tx.last_insert_rowid();
        Ok(ContactImport {
            tx,
            campaign,
            created,
            job_id,
            pending: Vec::with_capacity(INSERT_BATCH),
        })
    }

    /// Contacts of a campaign in import order, `limit` from `offset`.
    pub fn contacts(&self, campaign: CampaignId, offset: u64, limit: u64) -> Result<Vec<Contact>> {
        let mut statement = self.conn.prepare(
            "SELECT id, e164, line_type, sms_capable, metadata, consent, consent_at, blacklisted,
                    status, attempts, source_row
             FROM contacts WHERE campaign_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
        )?;
        let rows = statement.query_map(
            params![campaign.0, limit as i64, offset as i64],
            contact_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn contact_count(&self, campaign: CampaignId) -> Result<u64> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM contacts WHERE campaign_id = ?1",
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

    /// The numbers the campaign already holds (from earlier imports).
    pub fn existing_numbers(&mut self) -> Result<Vec<u64>> {
        self.flush()?;
        let mut statement = self
            .tx
            .prepare("SELECT e164 FROM contacts WHERE campaign_id = ?1")?;
        let rows = statement.query_map([self.campaign.0], |row| row.get::<_, i64>(0))?;
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

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut statement = self.tx.prepare_cached(&insert_sql(self.pending.len()))?;
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

    /// The stored metadata of the campaign's contact with `number` (for merging a
    /// duplicate into it).
    pub fn metadata_of(&mut self, number: E164) -> Result<Option<String>> {
        self.flush()?;
        Ok(self
            .tx
            .prepare_cached("SELECT metadata FROM contacts WHERE campaign_id = ?1 AND e164 = ?2")?
            .query_row(params![self.campaign.0, number.as_u64() as i64], |row| {
                row.get(0)
            })
            .optional()?)
    }

    pub fn set_metadata(&mut self, number: E164, metadata: &str) -> Result<()> {
        self.flush()?;
        self.tx
            .prepare_cached(
                "UPDATE contacts SET metadata = ?3 WHERE campaign_id = ?1 AND e164 = ?2",
            )?
            .execute(params![self.campaign.0, number.as_u64() as i64, metadata])?;
        Ok(())
    }

    /// Records the outcome and commits the whole import.
    pub fn finish(
        mut self,
        counts: ImportCounts,
        summary: &serde_json::Value,
        rejected_file: Option<&str>,
        actor: &str,
    ) -> Result<i64> {
        self.flush()?;
        self.tx.execute(
            "UPDATE import_jobs SET status = 'completed', finished_at = ?2, total_rows = ?3,
                    imported = ?4, duplicates = ?5, invalid = ?6, blacklisted = ?7,
                    summary = ?8, rejected_file = ?9
             WHERE id = ?1",
            params![
                self.job_id,
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
        audit::record(
            &self.tx,
            actor,
            "contacts.import",
            Some(("campaign", &self.campaign.0.to_string())),
            &serde_json::json!({ "job": self.job_id, "counts": counts }),
        )?;
        self.tx.commit()?;
        Ok(self.job_id)
    }
}

/// Which contacts of a campaign a listing shows.
#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    /// Digits of the number (any part of it, as typed: `0525551234` finds
    /// `+972525551234`), or text in the contact's other columns.
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
        let mut clauses = vec!["campaign_id = ?".to_owned()];
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
            let escaped = search
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            if digits.len() >= 3 {
                clauses
                    .push("(CAST(e164 AS TEXT) LIKE ? OR metadata LIKE ? ESCAPE '\\')".to_owned());
                values.push(Value::Text(format!("%{digits}%")));
            } else {
                clauses.push("metadata LIKE ? ESCAPE '\\'".to_owned());
            }
            values.push(Value::Text(format!("%{escaped}%")));
        }
        let clause = clauses.join(" AND ");
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM contacts WHERE {clause}"),
            rusqlite::params_from_iter(values.iter()),
            |row| row.get(0),
        )?;
        values.push(Value::Integer(limit as i64));
        values.push(Value::Integer(offset as i64));
        let mut statement = self.conn.prepare(&format!(
            "SELECT id, e164, line_type, sms_capable, metadata, consent, consent_at, blacklisted,
                    status, attempts, source_row
             FROM contacts WHERE {clause} ORDER BY id LIMIT ? OFFSET ?"
        ))?;
        let rows =
            statement.query_map(rusqlite::params_from_iter(values.iter()), contact_from_row)?;
        Ok((rows.collect::<Result<_, _>>()?, total as u64))
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

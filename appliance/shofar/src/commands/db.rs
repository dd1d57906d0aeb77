//! `shofar db`.

use std::process::ExitCode;

use serde::Serialize;

use std::path::Path;

use anyhow::Context;
use shofar_store::Store;
use shofar_store::backup::{BackupFolder, BackupInfo, RestoreOutcome, Serving};

use crate::App;
use crate::cli::DbCommand;
use crate::output::{print_json, thousands};

#[derive(Serialize)]
struct Info {
    path: String,
    schema_version: u32,
    campaigns: usize,
    contacts: u64,
    blacklist: u64,
}

pub fn run(app: &mut App, command: DbCommand) -> anyhow::Result<ExitCode> {
    match command {
        DbCommand::Migrate => {
            // Opening the store migrated it.
            crate::outln!(
                "database {} is at schema version {}",
                app.data_dir.join("shofar.db").display(),
                app.store.schema_version()?
            );
        }
        DbCommand::Info { json } => {
            let campaigns = app.store.list_campaigns()?;
            let info = Info {
                path: app.data_dir.join("shofar.db").display().to_string(),
                schema_version: app.store.schema_version()?,
                contacts: campaigns.iter().map(|c| c.contacts).sum(),
                campaigns: campaigns.len(),
                blacklist: app.store.blacklist_count()?,
            };
            if json {
                print_json(&info)?;
            } else {
                crate::outln!("database        {}", info.path);
                crate::outln!("schema version  {}", info.schema_version);
                crate::outln!("campaigns       {}", thousands(info.campaigns as u64));
                crate::outln!("contacts        {}", thousands(info.contacts));
                crate::outln!("do-not-call     {}", thousands(info.blacklist));
            }
        }
        DbCommand::Backup { output, keep, json } => {
            let (path, bytes, removed) = match output {
                Some(path) => {
                    let bytes = app
                        .store
                        .backup_to(&path)
                        .context("the backup was not made")?;
                    (path, bytes, Vec::new())
                }
                None => {
                    let made = app
                        .store
                        .backup_into(
                            &BackupFolder::in_data_dir(&app.data_dir),
                            chrono::Local::now().naive_local(),
                            keep as usize,
                            &app.actor,
                        )
                        .context("the backup was not made")?;
                    (made.path, made.backup.bytes, made.removed)
                }
            };
            if json {
                print_json(&serde_json::json!({
                    "path": path.display().to_string(),
                    "bytes": bytes,
                    "removed": removed.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                }))?;
            } else {
                crate::outln!(
                    "backed up to {} ({} bytes)",
                    path.display(),
                    thousands(bytes)
                );
                for old in removed {
                    crate::outln!("removed the older backup {}", old.display());
                }
            }
        }
        DbCommand::Restore { file, json } => {
            let now = restore_time();
            let (info, kept) = with_store_closed(app, |database| {
                shofar_store::backup::restore(database, &file, &now)
                    .context("nothing was restored; the database is as it was")
            })?;
            if json {
                print_json(&serde_json::json!({
                    "restored": info,
                    "kept": kept.map(|p| p.display().to_string()),
                }))?;
            } else {
                print_restored(&file, &info, kept.as_deref());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_restored(file: &Path, info: &BackupInfo, kept: Option<&Path>) {
    crate::outln!(
        "restored {} (schema version {}: {} campaigns, {} contacts, {} on the do-not-call list)",
        file.display(),
        info.schema_version,
        thousands(info.campaigns),
        thousands(info.contacts),
        thousands(info.blacklist)
    );
    if let Some(kept) = kept {
        crate::outln!("the database it replaced is kept as {}", kept.display());
    }
}

/// The time in the name a replaced database is kept under
/// (`shofar.db.before-restore-TIME`).
fn restore_time() -> String {
    chrono::Local::now().format("%Y%m%d-%H%M%S").to_string()
}

/// Runs `work` on the database file with this process's own connection closed
/// (a restore replaces the file), and opens it again after, whatever happened.
fn with_store_closed<T>(
    app: &mut App,
    work: impl FnOnce(&Path) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let database = app.data_dir.join("shofar.db");
    drop(std::mem::replace(&mut app.store, Store::open_in_memory()?));
    let result = work(&database);
    app.store = Store::open(&database)
        .with_context(|| format!("cannot open the database {}", database.display()))?;
    result
}

/// Applies the restore the web UI left pending in DATA/backups, for `shofar
/// serve` at its start (holding `claim`), before it uses the database. A
/// refused file leaves the database as it was; either way the outcome is logged
/// and in the audit log, where the web UI shows it.
pub fn apply_pending_restore(app: &mut App, claim: &Serving) -> anyhow::Result<()> {
    let folder = BackupFolder::in_data_dir(&app.data_dir);
    if !folder.has_pending_restore() {
        return Ok(());
    }
    let now = restore_time();
    let outcome = with_store_closed(app, |database| {
        Ok(shofar_store::backup::apply_pending(
            database, &folder, claim, &now,
        ))
    })?;
    match outcome {
        Some(RestoreOutcome {
            restored: Some(info),
            file_name,
            kept,
            ..
        }) => {
            tracing::info!(
                file = %file_name,
                schema_version = info.schema_version,
                campaigns = info.campaigns,
                contacts = info.contacts,
                kept = kept.as_deref().unwrap_or(""),
                "restored the database from the pending restore"
            );
            eprintln!(
                "shofar serve: restored the database from {file_name} ({} campaigns, {}                  contacts){}",
                thousands(info.campaigns),
                thousands(info.contacts),
                kept.map(|kept| format!("; the one it replaced is kept as {kept}"))
                    .unwrap_or_default()
            );
        }
        Some(RestoreOutcome {
            problem, file_name, ..
        }) => {
            let problem = problem.unwrap_or_default();
            tracing::error!(file = %file_name, %problem, "the pending restore was refused; the database is as it was");
            eprintln!(
                "shofar serve: the pending restore of {file_name} was refused, the database is                  as it was: {problem}"
            );
        }
        None => {}
    }
    Ok(())
}

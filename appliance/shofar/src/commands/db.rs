//! `shofar db`.

use std::process::ExitCode;

use serde::Serialize;

use std::path::{Path, PathBuf};

use anyhow::Context;
use shofar_store::Store;
use shofar_store::backup::BackupInfo;

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
            let (path, rotate) = match output {
                Some(path) => (path, false),
                None => {
                    let name = format!(
                        "shofar-{}.db",
                        chrono::Local::now().format("%Y%m%d-%H%M%S-%3f")
                    );
                    (app.data_dir.join("backups").join(name), true)
                }
            };
            let bytes = app
                .store
                .backup_to(&path)
                .context("the backup was not made")?;
            let removed = if rotate {
                prune(&app.data_dir.join("backups"), keep as usize)
            } else {
                Vec::new()
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
            let database = app.data_dir.join("shofar.db");
            // This process's own connection closes first: the file is replaced.
            drop(std::mem::replace(&mut app.store, Store::open_in_memory()?));
            let now = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
            let (info, kept) = shofar_store::backup::restore(&database, &file, &now)
                .context("nothing was restored; the database is as it was")?;
            app.store = Store::open(&database)?;
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

/// Keeps the newest `keep` backups the daily timer made (`shofar-*.db` in
/// `folder`: their names sort by time); returns those removed.
fn prune(folder: &Path, keep: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut backups: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("shofar-") && name.ends_with(".db"))
        })
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    backups
        .into_iter()
        .take(excess)
        .filter(|path| std::fs::remove_file(path).is_ok())
        .collect()
}

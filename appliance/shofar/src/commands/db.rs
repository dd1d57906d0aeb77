//! `shofar db`.

use std::process::ExitCode;

use serde::Serialize;

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
    }
    Ok(ExitCode::SUCCESS)
}

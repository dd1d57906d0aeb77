//! `shofar campaign`.

use std::process::ExitCode;

use crate::App;
use crate::cli::CampaignCommand;
use crate::output::{print_json, thousands};

pub fn run(app: &mut App, command: CampaignCommand) -> anyhow::Result<ExitCode> {
    match command {
        CampaignCommand::List { json } => {
            let campaigns = app.store.list_campaigns()?;
            if json {
                print_json(&campaigns)?;
            } else if campaigns.is_empty() {
                println!(
                    "No campaigns yet. Import contacts with `shofar import FILE --campaign NAME --create`."
                );
            } else {
                println!(
                    "{:>4}  {:<30} {:<10} {:<6} {:>10} {:>12}",
                    "id", "name", "status", "kind", "contacts", "blacklisted"
                );
                for c in campaigns {
                    println!(
                        "{:>4}  {:<30} {:<10} {:<6} {:>10} {:>12}",
                        c.id.0,
                        c.name,
                        c.status,
                        c.kind,
                        thousands(c.contacts),
                        thousands(c.blacklisted_contacts)
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

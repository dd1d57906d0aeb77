//! `shofar pacing log`: every change of the dialing pace, when and why
//! (seed property 39).

use std::process::ExitCode;

use chrono::Local;

use crate::App;
use crate::cli::PacingCommand;
use crate::output::print_json;

pub fn run(app: &mut App, command: PacingCommand) -> anyhow::Result<ExitCode> {
    match command {
        PacingCommand::Log {
            campaign,
            limit,
            json,
        } => {
            let campaign = match campaign {
                Some(key) => Some(app.store.resolve_campaign(&key)?),
                None => None,
            };
            let entries = app.store.pacing_log(campaign, limit)?;
            if json {
                print_json(&entries)?;
            } else if entries.is_empty() {
                crate::outln!(
                    "the pace has not changed yet: it changes when the box is under load or a \
                     campaign's answer rate drops (`shofar serve` writes every change here)"
                );
            } else {
                for entry in &entries {
                    crate::outln!(
                        "{}  {:<12} {:>7.2} → {:<7.2} cps  {}",
                        entry
                            .at
                            .with_timezone(&Local)
                            .format("%d.%m.%Y %H:%M:%S%.3f"),
                        entry
                            .campaign
                            .map_or_else(|| "box".to_owned(), |c| format!("campaign {}", c.0)),
                        entry.old_cps,
                        entry.new_cps,
                        entry.reason
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

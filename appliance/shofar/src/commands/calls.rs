//! `shofar calls`: call records.

use std::process::ExitCode;

use anyhow::bail;
use shofar_store::calls::CallFilter;

use crate::App;
use crate::cli::CallsCommand;
use crate::commands::call::print_record;
use crate::output::print_json;

pub fn run(app: &mut App, command: CallsCommand) -> anyhow::Result<ExitCode> {
    match command {
        CallsCommand::List {
            campaign,
            limit,
            json,
        } => {
            let campaign = match campaign {
                Some(key) => Some(app.store.resolve_campaign(&key)?),
                None => None,
            };
            let records = app.store.call_records(&CallFilter {
                campaign,
                outcome: None,
                limit,
            })?;
            if json {
                print_json(&records)?;
            } else if records.is_empty() {
                crate::outln!("no calls yet");
            } else {
                for record in &records {
                    crate::outln!(
                        "{}  {}  {:<12} {:<11} keys {:<6} {}",
                        record.started_at.format("%Y-%m-%d %H:%M:%S"),
                        record.number,
                        record
                            .outcome
                            .as_ref()
                            .map_or(record.status.as_str(), |outcome| outcome.as_str()),
                        record.ended_by.as_ref().map_or("-", |by| by.as_str()),
                        if record.dtmf.is_empty() {
                            "-"
                        } else {
                            &record.dtmf
                        },
                        record.call_id
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CallsCommand::Show { call_id, json } => {
            let Some(record) = app.store.call_record(&call_id)? else {
                bail!("no call {call_id:?}: `shofar calls list` shows the latest");
            };
            if json {
                print_json(&record)?;
            } else {
                print_record(&record);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

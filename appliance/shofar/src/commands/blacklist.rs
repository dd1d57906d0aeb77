//! `shofar blacklist`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde::Serialize;
use shofar_dnc::SharedDnc;
use shofar_import::blacklist::{BlacklistImportOptions, export_blacklist_csv, import_blacklist};
use shofar_phone::{E164, Normalizer};
use shofar_store::blacklist::{BlacklistEntry, BlacklistSource, NewEntry};
use shofar_store::format_time;

use crate::App;
use crate::cli::{BlacklistCommand, ExportFormat, SourceArg};
use crate::output::{TerminalProgress, print_json, thousands};

fn source(arg: SourceArg) -> BlacklistSource {
    match arg {
        SourceArg::UserOptout => BlacklistSource::UserOptout,
        SourceArg::AdminImport => BlacklistSource::AdminImport,
        SourceArg::Compliance => BlacklistSource::Compliance,
        SourceArg::Central => BlacklistSource::Central,
    }
}

/// Normalizes every number typed on the command line, or fails naming each bad one
/// (nothing is changed then).
fn numbers(normalizer: &Normalizer, typed: &[String]) -> anyhow::Result<Vec<E164>> {
    let mut good = Vec::with_capacity(typed.len());
    let mut bad = Vec::new();
    for text in typed {
        match normalizer.normalize_str(text) {
            Ok(number) => good.push(number.e164),
            Err(rejection) => bad.push(format!("{text:?}: {rejection}")),
        }
    }
    if !bad.is_empty() {
        bail!(
            "nothing was changed; not valid phone numbers:\n  {}",
            bad.join("\n  ")
        );
    }
    Ok(good)
}

#[derive(Serialize)]
struct CheckResult<'a> {
    number: String,
    listed: bool,
    entry: Option<&'a BlacklistEntry>,
}

pub fn run(app: &mut App, command: BlacklistCommand) -> anyhow::Result<ExitCode> {
    let normalizer = app.config.normalizer()?;
    // This process dials nothing: its index copy only keeps the store API's
    // ordering; a running supervisor follows the change history.
    let dnc = SharedDnc::default();
    match command {
        BlacklistCommand::Add {
            numbers: typed,
            reason,
            source: source_arg,
            json,
        } => {
            let numbers = numbers(&normalizer, &typed)?;
            let entries = numbers.iter().map(|&e164| NewEntry {
                e164,
                reason: reason.clone(),
                source: source(source_arg),
                checked_on: None,
                campaign: None,
            });
            let outcome = app.store.blacklist_add(
                &dnc,
                entries,
                &app.actor,
                serde_json::json!({ "via": "cli" }),
            )?;
            if json {
                print_json(&outcome)?;
            } else {
                crate::outln!(
                    "added {} · already listed {} · contacts marked {}",
                    thousands(outcome.added),
                    thousands(outcome.already_listed),
                    thousands(outcome.contacts_marked)
                );
            }
        }
        BlacklistCommand::Remove {
            numbers: typed,
            reason,
            json,
        } => {
            let numbers = numbers(&normalizer, &typed)?;
            let outcome = app
                .store
                .blacklist_remove(&dnc, &numbers, &reason, &app.actor)?;
            if json {
                print_json(&outcome)?;
            } else {
                crate::outln!(
                    "removed {} · not listed {} · contacts unmarked {}",
                    thousands(outcome.removed),
                    thousands(outcome.not_listed),
                    thousands(outcome.contacts_unmarked)
                );
            }
        }
        BlacklistCommand::Import {
            file,
            source: source_arg,
            reason,
            checked_on,
            sheet,
            phone_column,
            json,
        } => {
            if let Some(date) = &checked_on {
                chrono_free_date_check(date)?;
            }
            let options = BlacklistImportOptions {
                source: source(source_arg),
                reason,
                checked_on,
                sheet,
                phone_column,
                actor: app.actor.clone(),
            };
            let progress = TerminalProgress::new("reading");
            let outcome = import_blacklist(
                &mut app.store,
                &dnc,
                &normalizer,
                &file,
                &options,
                &progress,
            );
            progress.done();
            let summary = outcome.map_err(|error| {
                // One that stopped half way keeps what it listed, and says so.
                let partly = matches!(
                    error,
                    shofar_import::ImportError::BlacklistPartlyAdded { .. }
                );
                let nothing = if partly { "" } else { "; nothing was added" };
                anyhow::Error::new(error).context(format!(
                    "blacklist import of {} failed{nothing}",
                    file.display()
                ))
            })?;
            if json {
                print_json(&summary)?;
            } else {
                crate::outln!("Imported {} onto the do-not-call list:", file.display());
                crate::outln!("  rows            {:>12}", thousands(summary.total_rows));
                crate::outln!("  added           {:>12}", thousands(summary.added));
                crate::outln!(
                    "  already listed  {:>12}",
                    thousands(summary.already_listed)
                );
                crate::outln!("  duplicates      {:>12}", thousands(summary.duplicates));
                crate::outln!("  invalid         {:>12}", thousands(summary.invalid));
                crate::outln!(
                    "  contacts marked {:>12}",
                    thousands(summary.contacts_marked)
                );
                crate::outln!("  list size now   {:>12}", thousands(summary.list_size));
                for invalid in summary.invalid_rows.iter().take(10) {
                    crate::outln!(
                        "  row {:>7}: {:?}: {}",
                        invalid.row,
                        invalid.value,
                        invalid.reason
                    );
                }
            }
        }
        BlacklistCommand::Export { format, output } => {
            let ExportFormat::Csv = format;
            let sink: Box<dyn Write> = match &output {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            export_blacklist_csv(&app.store, sink).context("the export failed")?;
        }
        BlacklistCommand::Check { number, json } => {
            let e164 = numbers(&normalizer, &[number])?[0];
            let entry = app.store.blacklist_entry(e164)?;
            if json {
                print_json(&CheckResult {
                    number: e164.to_string(),
                    listed: entry.is_some(),
                    entry: entry.as_ref(),
                })?;
            } else {
                match &entry {
                    Some(entry) => crate::outln!(
                        "{e164} is listed: source {}, reason {:?}, added {} by {}",
                        entry.source,
                        entry.reason,
                        format_time(entry.added_at),
                        entry.added_by.as_deref().unwrap_or("unknown")
                    ),
                    None => crate::outln!("{e164} is not listed"),
                }
            }
            return Ok(if entry.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        BlacklistCommand::History {
            number,
            limit,
            json,
        } => {
            let e164 = match number {
                Some(text) => Some(numbers(&normalizer, &[text])?[0]),
                None => None,
            };
            let history = app.store.blacklist_history(e164, limit)?;
            if json {
                print_json(&history)?;
            } else if history.is_empty() {
                crate::outln!("no additions or removals recorded");
            } else {
                for h in history {
                    crate::outln!(
                        "{}  {:<6} {}  {:<12} {:<16} {}",
                        format_time(h.at),
                        h.action,
                        h.e164,
                        h.source.as_deref().unwrap_or("-"),
                        h.actor.as_deref().unwrap_or("-"),
                        h.reason
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--checked-on` must be a real calendar date, `YYYY-MM-DD`.
fn chrono_free_date_check(date: &str) -> anyhow::Result<()> {
    let parts: Vec<&str> = date.split('-').collect();
    let valid = parts.len() == 3
        && parts[0].len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && matches!(parts[1].parse::<u32>(), Ok(1..=12))
        && matches!(parts[2].parse::<u32>(), Ok(1..=31));
    if !valid {
        bail!("--checked-on {date:?} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-01");
    }
    Ok(())
}

//! `shofar import`.

use std::process::ExitCode;

use anyhow::Context;
use shofar_dnc::SharedDnc;
use shofar_import::{ContactImportOptions, DuplicateRule, ImportSummary, import_contacts};

use crate::App;
use crate::cli::{DuplicatesArg, ImportArgs};
use crate::output::{TerminalProgress, print_json, thousands};

pub fn run(app: &mut App, args: ImportArgs) -> anyhow::Result<ExitCode> {
    if !args.create && app.store.campaign_id(&args.campaign)?.is_none() {
        anyhow::bail!(
            "no campaign named {:?}: add --create to make it with this import \
             (`shofar campaign list` lists the campaigns)",
            args.campaign
        );
    }
    let normalizer = app.config.normalizer()?;
    let (index, _) = app
        .store
        .load_dnc()
        .context("cannot load the do-not-call list")?;
    let dnc = SharedDnc::new(index);
    let options = ContactImportOptions {
        create: args.create,
        sheet: args.sheet,
        phone_column: args.phone_column,
        duplicates: match args.duplicates {
            Some(DuplicatesArg::KeepFirst) => DuplicateRule::KeepFirst,
            Some(DuplicatesArg::Merge) => DuplicateRule::MergeMetadata,
            None => app.config.import.duplicates,
        },
        actor: app.actor.clone(),
        rejected_fallback_dir: Some(app.data_dir.join("rejected")),
        invalid_rows_in_summary: app.config.import.invalid_rows_in_summary,
        ..ContactImportOptions::new(args.campaign)
    };
    let progress = TerminalProgress::new("importing");
    let outcome = import_contacts(
        &mut app.store,
        &dnc,
        &normalizer,
        &args.file,
        &options,
        &progress,
    );
    progress.done();
    let summary = outcome.with_context(|| {
        format!(
            "import of {} failed; nothing was imported",
            args.file.display()
        )
    })?;
    if args.json {
        print_json(&summary)?;
    } else {
        print_summary(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(summary: &ImportSummary) {
    let created = if summary.campaign_created {
        " (new campaign)"
    } else {
        ""
    };
    crate::outln!(
        "Imported {} into campaign {:?}{created}, phone column {:?}:",
        summary.file.display(),
        summary.campaign,
        summary.phone_column
    );
    let types = &summary.line_types;
    let rows = [
        ("rows", summary.total_rows, String::new()),
        (
            "imported",
            summary.imported,
            format!(
                "mobile {} · fixed line {} · VoIP {} · toll-free {} · other {}",
                thousands(types.mobile),
                thousands(types.fixed_line),
                thousands(types.voip),
                thousands(types.toll_free),
                thousands(types.other)
            ),
        ),
        ("duplicates", summary.duplicates, String::new()),
        ("invalid", summary.invalid, String::new()),
        (
            "blacklisted",
            summary.blacklisted,
            "imported, marked, never dialed".to_owned(),
        ),
    ];
    for (label, count, note) in rows {
        let note = if note.is_empty() {
            note
        } else {
            format!("  ({note})")
        };
        crate::outln!("  {label:<12}{:>12}{note}", thousands(count));
    }
    let consent = &summary.consent;
    if let Some(column) = &summary.consent_column {
        crate::outln!(
            "  consent ({column}): given {} · refused {} · none {} · unreadable {}",
            thousands(consent.given),
            thousands(consent.refused),
            thousands(consent.unknown),
            thousands(consent.unrecognized)
        );
    }
    if summary.imported > summary.sms_capable {
        crate::outln!(
            "  {} imported numbers cannot receive SMS; they get voice (TTS) messages instead",
            thousands(summary.imported - summary.sms_capable)
        );
    }
    if !summary.other_phone_columns.is_empty() {
        crate::outln!(
            "  note: other phone-like columns were kept as details, not dialed: {}",
            summary.other_phone_columns.join(", ")
        );
    }
    for invalid in summary.invalid_rows.iter().take(10) {
        crate::outln!(
            "  row {:>7}: {:?}: {}",
            invalid.row,
            invalid.value,
            invalid.reason
        );
    }
    if summary.invalid > 10 {
        crate::outln!(
            "  … and {} more invalid rows",
            thousands(summary.invalid - 10)
        );
    }
    if let Some(file) = &summary.rejected_rows_file {
        crate::outln!(
            "Every invalid and duplicate row, with its reason: {}",
            file.display()
        );
    }
}

//! `shofar report`: a campaign's report as CSV, XLSX or PDF, or its one-page summary PDF.

use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use shofar_report::Lang;
use shofar_web::reports::{Format, export};

use crate::App;
use crate::cli::{LocaleArg, ReportArgs, ReportFormatArg};
use crate::output::thousands;

pub fn run(app: &mut App, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let campaign = app.store.resolve_campaign(&args.campaign)?;
    let zone = chrono_tz::Asia::Jerusalem;
    // The same reading as the web's: --to a date includes that whole day.
    let (from, to) = shofar_web::reports::period(args.from.as_deref(), args.to.as_deref(), zone)
        .map_err(|error| anyhow::anyhow!("--{}: {}", error.field, error.message))?;
    let format = match args.format {
        ReportFormatArg::Csv => Format::Csv,
        ReportFormatArg::Xlsx => Format::Xlsx,
        ReportFormatArg::Pdf => Format::Pdf,
        ReportFormatArg::Summary => Format::Summary,
    };
    let lang = match args.lang {
        LocaleArg::He => Lang::He,
        LocaleArg::En => Lang::En,
    };
    // Written beside the target and renamed into place: a failed export leaves
    // no half file under the name asked for.
    let folder = args
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    let (report, written) = export(
        &mut app.store,
        campaign,
        from,
        to,
        Utc::now(),
        format,
        lang,
        zone,
        std::io::BufWriter::new(temp.as_file()),
    )
    .with_context(|| format!("the report of campaign {} failed", campaign.0))?;
    temp.persist(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let totals = &report.totals;
    crate::outln!(
        "wrote {}: campaign {} {:?}, {} calls ({} answered, {} converted, {} opted out){}",
        args.output.display(),
        report.campaign.id,
        report.campaign.name,
        thousands(totals.calls),
        thousands(totals.answered),
        thousands(totals.converted),
        thousands(totals.opted_out),
        if written.capped {
            format!(
                "; the PDF lists the first {} calls (the CSV and XLSX list all)",
                thousands(written.calls)
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

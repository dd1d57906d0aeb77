//! The report as an Excel workbook: a summary sheet and the calls, for people.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use chrono_tz::Tz;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::format::{local, phone, rfc3339_millis, until};
use crate::labels::{
    Text, cause_label, kind_label, node_label, outcome_label, purpose_label, status_label,
};
use crate::model::{CallRow, Lang, Report};
use crate::{ExportError, Written, next_row};

/// The most calls one sheet holds: Excel's 1,048,576 rows less the header.
pub const MAX_CALLS_PER_SHEET: u32 = 1_048_575;

/// How a workbook is written.
#[derive(Debug, Clone)]
pub struct XlsxOptions {
    /// Calls per calls sheet before the next one starts; at most (and by
    /// default) [`MAX_CALLS_PER_SHEET`], at least 1.
    pub calls_per_sheet: u32,
    /// Where the calls sheets are spooled while the workbook is written
    /// (rust_xlsxwriter's constant-memory mode keeps each sheet in a temporary
    /// file, not in memory); `None`: the system's temporary directory.
    pub temp_dir: Option<PathBuf>,
}

impl Default for XlsxOptions {
    fn default() -> XlsxOptions {
        XlsxOptions {
            calls_per_sheet: MAX_CALLS_PER_SHEET,
            temp_dir: None,
        }
    }
}

const CALL_COLUMNS: [(Text, f64); 15] = [
    (Text::CallId, 30.0),
    (Text::Campaign, 24.0),
    (Text::CampaignId, 10.0),
    (Text::Number, 16.0),
    (Text::Attempt, 8.0),
    (Text::Outcome, 16.0),
    (Text::StartedAt, 20.0),
    (Text::AnsweredAt, 20.0),
    (Text::EndedAt, 20.0),
    (Text::Duration, 12.0),
    (Text::TalkTime, 14.0),
    (Text::Keys, 10.0),
    (Text::Converted, 10.0),
    (Text::OptedOut, 10.0),
    (Text::HangupCause, 20.0),
];

struct Formats {
    title: Format,
    heading: Format,
    label: Format,
    header: Format,
    count: Format,
    percent: Format,
    date_time: Format,
    total_duration: Format,
    minutes: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            title: Format::new().set_bold().set_font_size(16),
            heading: Format::new().set_bold().set_font_size(12),
            label: Format::new().set_bold(),
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDE3EA))
                .set_border_bottom(FormatBorder::Thin),
            count: Format::new().set_num_format("#,##0"),
            percent: Format::new().set_num_format("0.0%"),
            date_time: Format::new().set_num_format("dd/mm/yyyy hh:mm:ss"),
            total_duration: Format::new().set_num_format("[h]:mm:ss"),
            minutes: Format::new().set_num_format("[m]:ss"),
        }
    }
}

/// Writes the workbook with the default options (see [`write_xlsx_with`]).
pub fn write_xlsx<E>(
    report: &Report,
    rows: impl IntoIterator<Item = Result<CallRow, E>>,
    lang: Lang,
    zone: Tz,
    out: impl Write + Send,
) -> Result<Written, ExportError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    write_xlsx_with(report, rows, lang, zone, &XlsxOptions::default(), out)
}

/// Writes the workbook: a summary sheet (the campaign, the period, the totals,
/// the rates as percentages, the outcomes) and the calls, one row each, on as
/// many calls sheets as they need. Instants are Excel dates in `zone`'s wall
/// clock, shown dd/mm/yyyy hh:mm:ss. Sheets are right-to-left in Hebrew.
pub fn write_xlsx_with<E>(
    report: &Report,
    rows: impl IntoIterator<Item = Result<CallRow, E>>,
    lang: Lang,
    zone: Tz,
    options: &XlsxOptions,
    out: impl Write + Send,
) -> Result<Written, ExportError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    if let Some(dir) = &options.temp_dir {
        workbook.set_tempdir(dir)?;
    }
    let summary = workbook.add_worksheet();
    summary.set_name(Text::SummarySheet.get(lang))?;
    summary.set_right_to_left(lang.is_rtl());
    write_summary(summary, report, lang, zone, &formats)?;

    let per_sheet = options.calls_per_sheet.clamp(1, MAX_CALLS_PER_SHEET);
    let mut rows = rows.into_iter();
    let mut pending = next_row(&mut rows)?;
    let mut written = Written::default();
    let mut sheet_number = 1u32;
    loop {
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        let name = match sheet_number {
            1 => Text::CallsSheet.get(lang).to_owned(),
            n => format!("{} {n}", Text::CallsSheet.get(lang)),
        };
        sheet.set_name(name)?;
        sheet.set_right_to_left(lang.is_rtl());
        for (column, (_, width)) in (0u16..).zip(CALL_COLUMNS) {
            sheet.set_column_width(column, width)?;
        }
        for (column, (text, _)) in (0u16..).zip(CALL_COLUMNS) {
            sheet.write_string_with_format(0, column, text.get(lang), &formats.header)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        let mut line = 0u32;
        while line < per_sheet {
            let Some(row) = pending.take() else { break };
            line += 1;
            write_call(sheet, line, &row, report, lang, zone, &formats)?;
            written.calls += 1;
            pending = next_row(&mut rows)?;
        }
        sheet.autofilter(0, 0, line, CALL_COLUMNS.len() as u16 - 1)?;
        if pending.is_none() {
            break;
        }
        sheet_number += 1;
    }
    workbook.save_to_writer(out)?;
    Ok(written)
}

/// The wall-clock time Excel can show (years 1900 to 9999), or `None`.
fn excel_date_time(instant: DateTime<Utc>, zone: Tz) -> Option<NaiveDateTime> {
    let wall = local(instant, zone);
    (1900..=9999).contains(&wall.year()).then_some(wall)
}

fn write_instant(
    sheet: &mut Worksheet,
    row: u32,
    column: u16,
    instant: Option<DateTime<Utc>>,
    zone: Tz,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let Some(instant) = instant else {
        return Ok(());
    };
    match excel_date_time(instant, zone) {
        Some(wall) => sheet.write_datetime_with_format(row, column, wall, &formats.date_time)?,
        None => sheet.write_string(row, column, rfc3339_millis(instant, zone))?,
    };
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_call(
    sheet: &mut Worksheet,
    line: u32,
    row: &CallRow,
    report: &Report,
    lang: Lang,
    zone: Tz,
    formats: &Formats,
) -> Result<(), XlsxError> {
    // Durations are Excel durations (days) shown m:ss, so they still add up.
    let days = |ms: i64| ms as f64 / 86_400_000.0;
    sheet.write_string(line, 0, &row.call_id)?;
    if let Some(campaign_id) = row.campaign_id {
        if campaign_id == report.campaign.id {
            sheet.write_string(line, 1, &report.campaign.name)?;
        }
        sheet.write_number(line, 2, campaign_id as f64)?;
    }
    // A string cell: the number stays 054-4431298, never a figure.
    sheet.write_string(line, 3, phone(&row.number))?;
    sheet.write_number(line, 4, f64::from(row.attempt))?;
    sheet.write_string(line, 5, outcome_label(lang, row.outcome.as_ref()))?;
    write_instant(sheet, line, 6, Some(row.started_at), zone, formats)?;
    write_instant(sheet, line, 7, row.answered_at, zone, formats)?;
    write_instant(sheet, line, 8, row.ended_at, zone, formats)?;
    if let Some(ms) = row.duration_ms {
        sheet.write_number_with_format(line, 9, days(ms), &formats.minutes)?;
    }
    if let Some(ms) = row.talk_ms {
        sheet.write_number_with_format(line, 10, days(ms), &formats.minutes)?;
    }
    if !row.dtmf.is_empty() {
        let keys: Vec<String> = row.dtmf.chars().map(String::from).collect();
        sheet.write_string(line, 11, keys.join(" "))?;
    }
    let flag = |value: bool| if value { Text::Yes } else { Text::No }.get(lang);
    sheet.write_string(line, 12, flag(row.converted))?;
    sheet.write_string(line, 13, flag(row.opted_out))?;
    if let Some(cause) = &row.hangup_cause {
        sheet.write_string(line, 14, cause_label(lang, cause))?;
    }
    Ok(())
}

/// A label in the first column and a value in the second, a line at a time.
struct Lines<'a> {
    sheet: &'a mut Worksheet,
    next: u32,
    lang: Lang,
    formats: &'a Formats,
}

impl Lines<'_> {
    fn label(&mut self, text: Text) -> Result<u32, XlsxError> {
        let line = self.next;
        self.next += 1;
        self.sheet
            .write_string_with_format(line, 0, text.get(self.lang), &self.formats.label)?;
        Ok(line)
    }

    fn text(&mut self, label: Text, value: &str) -> Result<(), XlsxError> {
        let line = self.label(label)?;
        self.sheet.write_string(line, 1, value)?;
        Ok(())
    }

    fn count(&mut self, label: Text, value: u64) -> Result<(), XlsxError> {
        let line = self.label(label)?;
        self.sheet
            .write_number_with_format(line, 1, value as f64, &self.formats.count)?;
        Ok(())
    }

    fn rate(&mut self, label: Text, rate: Option<f64>) -> Result<(), XlsxError> {
        let line = self.label(label)?;
        match rate {
            Some(rate) => {
                self.sheet
                    .write_number_with_format(line, 1, rate, &self.formats.percent)?
            }
            None => self.sheet.write_string(line, 1, "—")?,
        };
        Ok(())
    }

    fn instant(
        &mut self,
        label: Text,
        instant: Option<DateTime<Utc>>,
        zone: Tz,
        open: Text,
    ) -> Result<(), XlsxError> {
        let line = self.label(label)?;
        match instant {
            Some(_) => write_instant(self.sheet, line, 1, instant, zone, self.formats)?,
            None => {
                self.sheet.write_string(line, 1, open.get(self.lang))?;
            }
        }
        Ok(())
    }

    fn heading(&mut self, text: Text) -> Result<(), XlsxError> {
        self.next += 1;
        let line = self.next;
        self.next += 1;
        self.sheet
            .write_string_with_format(line, 0, text.get(self.lang), &self.formats.heading)?;
        Ok(())
    }
}

fn write_summary(
    sheet: &mut Worksheet,
    report: &Report,
    lang: Lang,
    zone: Tz,
    formats: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 34)?;
    sheet.set_column_width(2, 12)?;
    sheet.write_string_with_format(0, 0, Text::ReportTitle.get(lang), &formats.title)?;
    sheet.write_string_with_format(1, 0, &report.campaign.name, &formats.heading)?;
    let campaign = &report.campaign;
    let totals = &report.totals;
    let mut lines = Lines {
        sheet,
        next: 2,
        lang,
        formats,
    };

    lines.heading(Text::CampaignSection)?;
    let id_line = lines.label(Text::CampaignId)?;
    lines.sheet.write_number(id_line, 1, campaign.id as f64)?;
    lines.text(Text::CampaignName, &campaign.name)?;
    lines.text(Text::Kind, kind_label(lang, &campaign.kind))?;
    lines.text(Text::Purpose, purpose_label(lang, &campaign.purpose))?;
    lines.text(Text::Status, status_label(lang, &campaign.status))?;
    lines.instant(
        Text::Created,
        Some(campaign.created_at),
        zone,
        Text::OpenStart,
    )?;
    lines.instant(Text::PeriodFrom, report.from, zone, Text::OpenStart)?;
    match report.to {
        Some(to) => {
            let (label, value) = until(to, zone);
            lines.text(label, &value)?;
        }
        None => lines.text(Text::PeriodUntil, Text::OpenEnd.get(lang))?,
    }
    lines.instant(
        Text::Generated,
        Some(report.generated_at),
        zone,
        Text::OpenEnd,
    )?;
    lines.text(Text::TimeZone, zone.name())?;

    lines.heading(Text::TotalsSection)?;
    if let Some(contacts) = report.contacts {
        lines.count(Text::ContactsTotal, contacts.total)?;
        lines.count(Text::ContactsReached, contacts.reached)?;
    }
    lines.count(Text::Calls, totals.calls)?;
    lines.count(Text::Dialed, totals.dialed)?;
    lines.count(Text::Answered, totals.answered)?;
    lines.count(Text::Voicemail, totals.voicemail)?;
    lines.count(Text::Converted, totals.converted)?;
    lines.count(Text::OptedOut, totals.opted_out)?;
    lines.count(Text::InCall, totals.in_call)?;
    let talk_line = lines.label(Text::TalkTime)?;
    let talk_days = totals.talk_ms as f64 / 86_400_000.0;
    lines
        .sheet
        .write_number_with_format(talk_line, 1, talk_days, &formats.total_duration)?;
    lines.rate(Text::AnswerRate, totals.answer_rate())?;
    lines.rate(Text::ConversionRate, totals.conversion_rate())?;
    lines.rate(Text::OptOutRate, totals.opt_out_rate())?;
    lines.instant(Text::FirstCall, totals.first_call, zone, Text::NoCalls)?;
    lines.instant(Text::LastCall, totals.last_call, zone, Text::NoCalls)?;

    lines.heading(Text::OutcomesSection)?;
    let header = lines.next;
    lines.next += 1;
    for (column, text) in (0u16..).zip([Text::Outcome, Text::Count, Text::Share]) {
        lines
            .sheet
            .write_string_with_format(header, column, text.get(lang), &formats.header)?;
    }
    for (outcome, count) in totals.outcome_rows() {
        let line = lines.next;
        lines.next += 1;
        lines
            .sheet
            .write_string(line, 0, outcome_label(lang, outcome))?;
        lines
            .sheet
            .write_number_with_format(line, 1, count as f64, &formats.count)?;
        let share = count as f64 / totals.calls.max(1) as f64;
        lines
            .sheet
            .write_number_with_format(line, 2, share, &formats.percent)?;
    }

    lines.heading(Text::KeysSection)?;
    if report.menus.is_empty() {
        let line = lines.next;
        lines.next += 1;
        lines.sheet.write_string(line, 0, Text::NoMenus.get(lang))?;
    }
    for menu in &report.menus {
        let header = lines.next;
        lines.next += 1;
        let titles = [
            node_label(lang, &menu.menu).to_owned(),
            Text::Count.get(lang).to_owned(),
            Text::ShareOfReached.get(lang).to_owned(),
        ];
        for (column, title) in (0u16..).zip(titles) {
            lines
                .sheet
                .write_string_with_format(header, column, title, &formats.header)?;
        }
        let mut rows: Vec<(String, u64)> = vec![(Text::Reached.get(lang).to_owned(), menu.reached)];
        rows.extend(menu.keys.iter().map(|key| {
            (
                format!(
                    "{} {} → {}",
                    Text::PressedKey.get(lang),
                    key.key,
                    node_label(lang, &key.leads_to)
                ),
                key.count,
            )
        }));
        rows.push((Text::InvalidKey.get(lang).to_owned(), menu.invalid));
        rows.push((Text::NoKey.get(lang).to_owned(), menu.no_key));
        for (index, (label, count)) in rows.into_iter().enumerate() {
            let line = lines.next;
            lines.next += 1;
            lines.sheet.write_string(line, 0, label)?;
            lines
                .sheet
                .write_number_with_format(line, 1, count as f64, &formats.count)?;
            if index > 0 {
                let share = count as f64 / menu.reached.max(1) as f64;
                lines
                    .sheet
                    .write_number_with_format(line, 2, share, &formats.percent)?;
            }
        }
        lines.next += 1;
    }
    Ok(())
}

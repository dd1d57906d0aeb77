//! The report as a PDF for people: A4, Hebrew right-to-left (tables mirrored,
//! first column on the right) or English left-to-right, with DejaVu Sans
//! embedded (subset) so Hebrew renders and extracts as text everywhere.
//!
//! Layout is done here, a page at a time: each page's drawing operations are
//! collected, then handed to krilla and dropped, so memory grows with the calls
//! shown (capped), not with pages already written.

mod text;

use std::io::Write;

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::{self, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};

use crate::format::{count, date_time, duration, percent, phone, until};
use crate::labels::{Text, kind_label, node_label, outcome_label, purpose_label, status_label};
use crate::model::{CallRow, Lang, Report};
use crate::{ExportError, Written, next_row};
use text::{Base, Face, Fonts, Line, shape};

/// How many calls a PDF lists by default; the complete list is the CSV's and
/// the XLSX's.
pub const MAX_PDF_CALLS: usize = 5_000;

/// How a PDF is written.
#[derive(Debug, Clone)]
pub struct PdfOptions {
    /// The most calls the calls table lists; when there are more, the page says
    /// so and points to the CSV/XLSX export.
    pub max_calls: usize,
    /// A summary for a manager: the campaign, the period, the figures, the
    /// outcomes and the keys pressed per menu, without the list of calls.
    pub summary_only: bool,
}

impl Default for PdfOptions {
    fn default() -> PdfOptions {
        PdfOptions {
            max_calls: MAX_PDF_CALLS,
            summary_only: false,
        }
    }
}

impl PdfOptions {
    /// The summary a manager is sent ([`PdfOptions::summary_only`]).
    pub fn summary() -> PdfOptions {
        PdfOptions {
            max_calls: 0,
            summary_only: true,
        }
    }
}

/// Writes the PDF with the default options (see [`write_pdf_with`]).
pub fn write_pdf<E>(
    report: &Report,
    rows: impl IntoIterator<Item = Result<CallRow, E>>,
    lang: Lang,
    zone: Tz,
    out: impl Write,
) -> Result<Written, ExportError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    write_pdf_with(report, rows, lang, zone, &PdfOptions::default(), out)
}

/// Writes the PDF: the title, the campaign, the period, the totals, the
/// outcomes with their shares, then the calls (number, attempt, start, outcome,
/// talk time, keys), at most `options.max_calls` of them. Dates are dd/mm/yyyy
/// HH:MM in `zone`, counts have thousands separators.
pub fn write_pdf_with<E>(
    report: &Report,
    rows: impl IntoIterator<Item = Result<CallRow, E>>,
    lang: Lang,
    zone: Tz,
    options: &PdfOptions,
    mut out: impl Write,
) -> Result<Written, ExportError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // The calls shown are read first: whether the list is capped is said
    // above the table.
    let mut rows = rows.into_iter();
    let mut calls = Vec::new();
    let mut capped = false;
    while !options.summary_only
        && let Some(row) = next_row(&mut rows)?
    {
        if calls.len() == options.max_calls {
            capped = true;
            break;
        }
        calls.push(row);
    }

    let fonts = Fonts::load()?;
    let mut document = Document::new();
    let title = if options.summary_only {
        Text::SummaryTitle
    } else {
        Text::ReportTitle
    };
    document.set_metadata(metadata(report, lang, title));
    let footer = format!(
        "{} · {} {}",
        report.campaign.name,
        Text::Generated.get(lang),
        date_time(report.generated_at, zone)
    );
    let mut pages = Pages::new(document, &fonts, lang, footer);
    summary(&mut pages, report, lang, zone, title);
    if !options.summary_only {
        calls_table(&mut pages, report, &calls, capped, lang, zone);
    }
    let bytes = pages.finish()?;
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(Written {
        calls: calls.len() as u64,
        capped,
    })
}

fn metadata(report: &Report, lang: Lang, title: Text) -> Metadata {
    let generated = report.generated_at;
    let created = metadata::DateTime::new(u16::try_from(generated.year()).unwrap_or(0))
        .month(generated.month() as u8)
        .day(generated.day() as u8)
        .hour(generated.hour() as u8)
        .minute(generated.minute() as u8)
        .second(generated.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0);
    Metadata::new()
        .title(format!("{} — {}", title.get(lang), report.campaign.name))
        .language(lang.code().to_owned())
        .creator("Shofar".to_owned())
        .creation_date(created)
        .text_direction(if lang.is_rtl() {
            metadata::TextDirection::RightToLeft
        } else {
            metadata::TextDirection::LeftToRight
        })
}

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 40.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// The bottom of the area tables may use; the footer sits below it.
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - MARGIN - 14.0;
const CELL_PADDING: f32 = 4.0;
/// Longer text is cut before it is shaped (a cell shows far less anyway).
const MAX_CELL_CHARS: usize = 200;

const BLACK: (u8, u8, u8) = (0, 0, 0);
const GREY: (u8, u8, u8) = (0x55, 0x5E, 0x68);
const HEADER_FILL: (u8, u8, u8) = (0xDD, 0xE3, 0xEA);
const STRIPE_FILL: (u8, u8, u8) = (0xF3, 0xF5, 0xF7);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

/// Where a cell's text sits: at the reading start (right in Hebrew) or, for
/// figures, always on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Start,
    Right,
}

enum Op {
    Text {
        line: Line,
        weight: Weight,
        size: f32,
        x: f32,
        baseline: f32,
        color: (u8, u8, u8),
    },
    Rect {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        color: (u8, u8, u8),
    },
}

/// A table column: its share of the content width and where its text sits.
struct ColumnSpec {
    title: String,
    width: f32,
    align: Align,
    /// Whether cells are the document's own words (its direction) or data.
    base: Base,
    weight: Weight,
}

const TABLE_SIZE: f32 = 9.0;
const PAIR_SIZE: f32 = 9.5;

fn row_height(size: f32) -> f32 {
    size + 2.0 * CELL_PADDING + 2.0
}

/// The pages being laid out: the current page's operations and where the next
/// thing goes. Coordinates are krilla's: points, from the top left.
struct Pages<'a> {
    document: Document,
    fonts: &'a Fonts,
    lang: Lang,
    footer: String,
    ops: Vec<Op>,
    y: f32,
    page_number: u32,
    error: Option<ExportError>,
}

impl<'a> Pages<'a> {
    fn new(document: Document, fonts: &'a Fonts, lang: Lang, footer: String) -> Pages<'a> {
        Pages {
            document,
            fonts,
            lang,
            footer,
            ops: Vec::new(),
            y: MARGIN,
            page_number: 1,
            error: None,
        }
    }

    fn face(&self, weight: Weight) -> &'a Face {
        match weight {
            Weight::Regular => &self.fonts.regular,
            Weight::Bold => &self.fonts.bold,
        }
    }

    /// The document's own direction, for its labels and headings.
    fn own(&self) -> Base {
        if self.lang.is_rtl() {
            Base::Rtl
        } else {
            Base::Ltr
        }
    }

    /// The left edge of a span that starts `offset` points from the reading
    /// start of the content area: mirrored in Hebrew.
    fn physical_x(&self, offset: f32, width: f32) -> f32 {
        if self.lang.is_rtl() {
            PAGE_WIDTH - MARGIN - offset - width
        } else {
            MARGIN + offset
        }
    }

    /// Starts a new page if `height` more points do not fit on this one;
    /// returns whether it did.
    fn make_room(&mut self, height: f32) -> bool {
        if self.y + height <= CONTENT_BOTTOM {
            return false;
        }
        self.new_page();
        true
    }

    fn new_page(&mut self) {
        self.flush();
        self.page_number += 1;
        self.y = MARGIN;
    }

    /// Shapes `text` to fit `max_width`, cutting it with an ellipsis if it must.
    fn fit(&self, text: &str, weight: Weight, size: f32, base: Base, max_width: f32) -> Line {
        let face = self.face(weight);
        let text: String = text.chars().take(MAX_CELL_CHARS).collect();
        let line = shape(face, &text, base);
        if line.width(size) <= max_width {
            return line;
        }
        let chars: Vec<char> = text.chars().collect();
        let (mut fits, mut too_long) = (0, chars.len());
        while too_long - fits > 1 {
            let middle = (fits + too_long) / 2;
            let cut: String = chars[..middle].iter().chain(['…'].iter()).collect();
            if shape(face, &cut, base).width(size) <= max_width {
                fits = middle;
            } else {
                too_long = middle;
            }
        }
        let cut: String = chars[..fits].iter().chain(['…'].iter()).collect();
        shape(face, &cut, base)
    }

    /// A line across the content width, at the reading start.
    fn paragraph(
        &mut self,
        text: &str,
        weight: Weight,
        size: f32,
        base: Base,
        color: (u8, u8, u8),
    ) {
        let height = size * 1.5;
        self.make_room(height);
        let line = self.fit(text, weight, size, base, CONTENT_WIDTH);
        let x = self.physical_x(0.0, line.width(size));
        let baseline = self.y + size * 1.1;
        self.ops.push(Op::Text {
            line,
            weight,
            size,
            x,
            baseline,
            color,
        });
        self.y += height;
    }

    fn heading(&mut self, text: &str) {
        self.y += 8.0;
        // A heading never ends a page: keep room for it and a few rows.
        self.make_room(13.0 * 1.5 + 3.0 * row_height(TABLE_SIZE));
        self.paragraph(text, Weight::Bold, 13.0, self.own(), BLACK);
    }

    /// One table row; `header` sets every cell in bold.
    fn row(
        &mut self,
        columns: &[ColumnSpec],
        cells: &[&str],
        header: bool,
        size: f32,
        fill: Option<(u8, u8, u8)>,
    ) {
        let height = row_height(size);
        if let Some(color) = fill {
            let x = self.physical_x(0.0, CONTENT_WIDTH);
            self.ops.push(Op::Rect {
                x,
                y: self.y,
                width: CONTENT_WIDTH,
                height,
                color,
            });
        }
        let baseline = self.y + CELL_PADDING + size * 0.95;
        let mut offset = 0.0;
        for (column, cell) in columns.iter().zip(cells) {
            let inner = column.width - 2.0 * CELL_PADDING;
            let weight = if header { Weight::Bold } else { column.weight };
            let line = self.fit(cell, weight, size, column.base, inner);
            let width = line.width(size);
            let cell_x = self.physical_x(offset, column.width);
            let x = match (column.align, self.lang.is_rtl()) {
                (Align::Start, false) => cell_x + CELL_PADDING,
                (Align::Start, true) | (Align::Right, _) => {
                    cell_x + column.width - CELL_PADDING - width
                }
            };
            self.ops.push(Op::Text {
                line,
                weight,
                size,
                x,
                baseline,
                color: BLACK,
            });
            offset += column.width;
        }
        self.y += height;
    }

    /// A table with a header row, repeated on every page it runs onto.
    fn table(&mut self, columns: &[ColumnSpec], rows: impl IntoIterator<Item = Vec<String>>) {
        let titles: Vec<&str> = columns.iter().map(|column| column.title.as_str()).collect();
        self.make_room(2.0 * row_height(TABLE_SIZE));
        self.row(columns, &titles, true, TABLE_SIZE, Some(HEADER_FILL));
        for (index, cells) in rows.into_iter().enumerate() {
            if self.make_room(row_height(TABLE_SIZE)) {
                self.row(columns, &titles, true, TABLE_SIZE, Some(HEADER_FILL));
            }
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            let stripe = (index % 2 == 1).then_some(STRIPE_FILL);
            self.row(columns, &cells, false, TABLE_SIZE, stripe);
        }
        self.y += 4.0;
    }

    /// Label/value pairs: a two-column table without a header, labels in bold.
    fn pairs(&mut self, pairs: &[(Text, String)]) {
        let columns = [
            ColumnSpec {
                title: String::new(),
                width: CONTENT_WIDTH * 0.32,
                align: Align::Start,
                base: self.own(),
                weight: Weight::Bold,
            },
            ColumnSpec {
                title: String::new(),
                width: CONTENT_WIDTH * 0.68,
                align: Align::Start,
                base: Base::Auto,
                weight: Weight::Regular,
            },
        ];
        for (index, (label, value)) in pairs.iter().enumerate() {
            self.make_room(row_height(PAIR_SIZE));
            let stripe = (index % 2 == 1).then_some(STRIPE_FILL);
            let label = label.get(self.lang);
            self.row(&columns, &[label, value], false, PAIR_SIZE, stripe);
        }
        self.y += 4.0;
    }

    /// Hands the current page to krilla (with its footer).
    fn flush(&mut self) {
        let page_label = format!("{} {}", Text::Page.get(self.lang), self.page_number);
        let size = 8.0;
        let baseline = PAGE_HEIGHT - MARGIN + 4.0;
        let line = self.fit(
            &page_label,
            Weight::Regular,
            size,
            self.own(),
            CONTENT_WIDTH * 0.2,
        );
        let x = if self.lang.is_rtl() {
            MARGIN
        } else {
            PAGE_WIDTH - MARGIN - line.width(size)
        };
        self.ops.push(Op::Text {
            line,
            weight: Weight::Regular,
            size,
            x,
            baseline,
            color: GREY,
        });
        let footer = self.footer.clone();
        let line = self.fit(
            &footer,
            Weight::Regular,
            size,
            Base::Auto,
            CONTENT_WIDTH * 0.75,
        );
        let x = self.physical_x(0.0, line.width(size));
        self.ops.push(Op::Text {
            line,
            weight: Weight::Regular,
            size,
            x,
            baseline,
            color: GREY,
        });

        let ops = std::mem::take(&mut self.ops);
        let Some(settings) = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT) else {
            self.error
                .get_or_insert(ExportError::Pdf("the A4 page size was refused".to_owned()));
            return;
        };
        let mut page = self.document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Rect {
                    x,
                    y,
                    width,
                    height,
                    color,
                } => {
                    let Some(rect) = Rect::from_xywh(x, y, width, height) else {
                        continue;
                    };
                    let mut path = PathBuilder::new();
                    path.push_rect(rect);
                    let Some(path) = path.finish() else { continue };
                    surface.set_fill(Some(fill(color)));
                    surface.draw_path(&path);
                }
                Op::Text {
                    line,
                    weight,
                    size,
                    x,
                    baseline,
                    color,
                } => {
                    surface.set_fill(Some(fill(color)));
                    let face = match weight {
                        Weight::Regular => &self.fonts.regular,
                        Weight::Bold => &self.fonts.bold,
                    };
                    line.draw(&mut surface, face, size, x, baseline);
                }
            }
        }
        surface.finish();
        page.finish();
    }

    fn finish(mut self) -> Result<Vec<u8>, ExportError> {
        self.flush();
        if let Some(error) = self.error {
            return Err(error);
        }
        self.document
            .finish()
            .map_err(|error| ExportError::Pdf(format!("{error:?}")))
    }
}

/// A table column taking `share` of the content width.
fn column(lang: Lang, title: Text, share: f32, align: Align, base: Base) -> ColumnSpec {
    ColumnSpec {
        title: title.get(lang).to_owned(),
        width: CONTENT_WIDTH * share,
        align,
        base,
        weight: Weight::Regular,
    }
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn summary(pages: &mut Pages<'_>, report: &Report, lang: Lang, zone: Tz, title: Text) {
    let own = pages.own();
    pages.paragraph(title.get(lang), Weight::Bold, 20.0, own, BLACK);
    pages.paragraph(&report.campaign.name, Weight::Bold, 14.0, Base::Auto, BLACK);
    pages.y += 4.0;

    let campaign = &report.campaign;
    let open = |instant: Option<DateTime<Utc>>, otherwise: Text| {
        instant.map_or_else(|| otherwise.get(lang).to_owned(), |at| date_time(at, zone))
    };
    pages.heading(Text::CampaignSection.get(lang));
    pages.pairs(&[
        (Text::CampaignId, campaign.id.to_string()),
        (Text::CampaignName, campaign.name.clone()),
        (Text::Kind, kind_label(lang, &campaign.kind).to_owned()),
        (
            Text::Purpose,
            purpose_label(lang, &campaign.purpose).to_owned(),
        ),
        (
            Text::Status,
            status_label(lang, &campaign.status).to_owned(),
        ),
        (Text::Created, date_time(campaign.created_at, zone)),
        (Text::PeriodFrom, open(report.from, Text::OpenStart)),
        report.to.map_or(
            (Text::PeriodUntil, Text::OpenEnd.get(lang).to_owned()),
            |to| until(to, zone),
        ),
        (Text::Generated, date_time(report.generated_at, zone)),
        (Text::TimeZone, zone.name().to_owned()),
    ]);

    let totals = &report.totals;
    pages.heading(Text::TotalsSection.get(lang));
    if let Some(contacts) = report.contacts {
        pages.pairs(&[
            (Text::ContactsTotal, count(contacts.total)),
            (Text::ContactsReached, count(contacts.reached)),
        ]);
    }
    pages.pairs(&[
        (Text::Calls, count(totals.calls)),
        (Text::Dialed, count(totals.dialed)),
        (Text::Answered, count(totals.answered)),
        (Text::Voicemail, count(totals.voicemail)),
        (Text::Converted, count(totals.converted)),
        (Text::OptedOut, count(totals.opted_out)),
        (Text::InCall, count(totals.in_call)),
        (Text::TalkTime, duration(totals.talk_ms)),
        (Text::AnswerRate, percent(totals.answer_rate())),
        (Text::ConversionRate, percent(totals.conversion_rate())),
        (Text::OptOutRate, percent(totals.opt_out_rate())),
        (Text::FirstCall, open(totals.first_call, Text::NoCalls)),
        (Text::LastCall, open(totals.last_call, Text::NoCalls)),
    ]);

    pages.heading(Text::OutcomesSection.get(lang));
    let columns = [
        column(lang, Text::Outcome, 0.5, Align::Start, own),
        column(lang, Text::Count, 0.25, Align::Right, Base::Auto),
        column(lang, Text::Share, 0.25, Align::Right, Base::Auto),
    ];
    if totals.calls == 0 {
        pages.paragraph(Text::NoCalls.get(lang), Weight::Regular, 10.0, own, GREY);
    } else {
        let calls = totals.calls;
        let rows = totals.outcome_rows().into_iter().map(|(outcome, n)| {
            let share = (calls > 0).then(|| n as f64 / calls as f64);
            vec![
                outcome_label(lang, outcome).to_owned(),
                count(n),
                percent(share),
            ]
        });
        pages.table(&columns, rows);
    }
    menus(pages, report, lang);
}

/// Keys pressed in each menu of the flow: a table per menu.
fn menus(pages: &mut Pages<'_>, report: &Report, lang: Lang) {
    let own = pages.own();
    pages.heading(Text::KeysSection.get(lang));
    if report.menus.is_empty() {
        pages.paragraph(Text::NoMenus.get(lang), Weight::Regular, 10.0, own, GREY);
        return;
    }
    for menu in &report.menus {
        // The section says these are menus: each is named as staff know it.
        let heading = node_label(lang, &menu.menu).to_owned();
        pages.paragraph(&heading, Weight::Bold, 10.0, own, BLACK);
        let columns = [
            column(lang, Text::PressedKey, 0.3, Align::Start, own),
            column(lang, Text::LeadsTo, 0.25, Align::Start, Base::Auto),
            column(lang, Text::Count, 0.2, Align::Right, Base::Auto),
            column(lang, Text::ShareOfReached, 0.25, Align::Right, Base::Auto),
        ];
        let share = |n: u64| percent((menu.reached > 0).then(|| n as f64 / menu.reached as f64));
        let mut rows: Vec<Vec<String>> = vec![vec![
            Text::Reached.get(lang).to_owned(),
            String::new(),
            count(menu.reached),
            String::new(),
        ]];
        rows.extend(menu.keys.iter().map(|key| {
            vec![
                format!("{} {}", Text::PressedKey.get(lang), key.key),
                node_label(lang, &key.leads_to).to_owned(),
                count(key.count),
                share(key.count),
            ]
        }));
        rows.push(vec![
            Text::InvalidKey.get(lang).to_owned(),
            String::new(),
            count(menu.invalid),
            share(menu.invalid),
        ]);
        rows.push(vec![
            Text::NoKey.get(lang).to_owned(),
            String::new(),
            count(menu.no_key),
            share(menu.no_key),
        ]);
        pages.table(&columns, rows);
    }
}

fn calls_table(
    pages: &mut Pages<'_>,
    report: &Report,
    calls: &[CallRow],
    capped: bool,
    lang: Lang,
    zone: Tz,
) {
    let own = pages.own();
    pages.heading(Text::CallsSection.get(lang));
    if calls.is_empty() {
        pages.paragraph(Text::NoCalls.get(lang), Weight::Regular, 10.0, own, GREY);
        return;
    }
    if capped {
        let shown = count(calls.len() as u64);
        // Two lines without punctuation after the figures: a period or dash
        // next to a number in a Hebrew sentence is where copy-and-paste from
        // PDF viewers goes wrong.
        let total = count(report.totals.calls);
        let of_total = report.totals.calls > calls.len() as u64;
        let (shown_line, pointer) = match lang {
            Lang::He if of_total => (
                format!("מוצגות {shown} השיחות הראשונות מתוך {total}"),
                "הרשימה המלאה נמצאת בייצוא CSV או XLSX",
            ),
            Lang::He => (
                format!("מוצגות {shown} השיחות הראשונות"),
                "הרשימה המלאה נמצאת בייצוא CSV או XLSX",
            ),
            Lang::En if of_total => (
                format!("Showing the first {shown} of {total} calls."),
                "The complete list is in the CSV or XLSX export.",
            ),
            Lang::En => (
                format!("Showing the first {shown} calls."),
                "The complete list is in the CSV or XLSX export.",
            ),
        };
        pages.paragraph(&shown_line, Weight::Bold, 9.5, own, GREY);
        pages.paragraph(pointer, Weight::Bold, 9.5, own, GREY);
    }
    let columns = [
        column(lang, Text::Number, 0.22, Align::Start, Base::Auto),
        column(lang, Text::Attempt, 0.09, Align::Right, Base::Auto),
        column(lang, Text::StartedAt, 0.22, Align::Start, Base::Auto),
        column(lang, Text::Outcome, 0.19, Align::Start, own),
        column(lang, Text::TalkTime, 0.12, Align::Right, Base::Auto),
        column(lang, Text::Keys, 0.16, Align::Start, Base::Auto),
    ];
    let rows = calls.iter().map(|call| {
        vec![
            phone(&call.number),
            count(u64::from(call.attempt)),
            date_time(call.started_at, zone),
            outcome_label(lang, call.outcome.as_ref()).to_owned(),
            call.talk_ms.map(duration).unwrap_or_default(),
            call.dtmf.clone(),
        ]
    });
    pages.table(&columns, rows);
}

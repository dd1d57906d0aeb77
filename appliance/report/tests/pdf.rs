//! The PDF read back with poppler's `pdftotext`, as a person would copy it:
//! Hebrew in logical order, the figures present, English too, the cap said.
//!
//! Needs `pdftotext` (Debian: `apt-get install -y poppler-utils`); without it
//! these tests fail and say so. `SHOFAR_REPORT_SAMPLES=/some/dir` also keeps the
//! PDFs there to look at.

mod common;

use std::path::PathBuf;
use std::process::Command;

use chrono_tz::Asia::Jerusalem;
use common::{at, campaign, ok_rows, sample_calls};
use shofar_report::{CallRow, Lang, PdfOptions, Report, Written, write_pdf, write_pdf_with};

const NAME: &str = "תרומות חורף 2026";

fn report(calls: &[CallRow]) -> Report {
    Report::from_rows(
        campaign(12, NAME),
        Some(at("2026-11-21T22:00:00Z")),
        Some(at("2026-11-30T22:00:00Z")),
        at("2026-12-01T07:30:00Z"),
        calls,
    )
}

fn pdf(report: &Report, calls: &[CallRow], lang: Lang, options: &PdfOptions) -> (Vec<u8>, Written) {
    let mut bytes = Vec::new();
    let written =
        write_pdf_with(report, ok_rows(calls), lang, Jerusalem, options, &mut bytes).unwrap();
    (bytes, written)
}

/// The text `pdftotext` extracts, plain and with `-layout`, with the bidi marks
/// poppler adds around runs taken out (they are invisible to a reader).
fn extract(bytes: &[u8], name: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.pdf"));
    std::fs::write(&path, bytes).unwrap();
    if let Ok(samples) = std::env::var("SHOFAR_REPORT_SAMPLES") {
        let _ = std::fs::write(PathBuf::from(samples).join(format!("{name}.pdf")), bytes);
    }
    let run = |layout: bool| {
        let mut command = Command::new("pdftotext");
        if layout {
            command.arg("-layout");
        }
        let output = command
            .arg(&path)
            .arg("-")
            .output()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot run pdftotext ({error}): install poppler-utils \
                 (apt-get install -y poppler-utils) to test PDF reports"
                )
            });
        assert!(
            output.status.success(),
            "pdftotext failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).expect("pdftotext writes UTF-8");
        text.chars().filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')).collect::<String>()
    };
    (run(false), run(true))
}

fn assert_contains(text: &str, expected: &str) {
    assert!(
        text.contains(expected),
        "{expected:?} is not in the extracted text:\n{text}"
    );
}

/// Where a Hebrew sentence holds a number, poppler moves the spaces around the
/// number into its left-to-right run (`מוצגות  1,000השיחות`): the words are in
/// reading order, the spaces are not. Such lines are compared without spaces.
fn assert_contains_ignoring_spaces(text: &str, expected: &str) {
    let squeeze = |text: &str| {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
    };
    assert!(
        squeeze(text).contains(&squeeze(expected)),
        "{expected:?} (spaces aside) is not in the extracted text:\n{text}"
    );
}

#[test]
fn hebrew_pdf_reads_in_logical_order() {
    let calls = sample_calls();
    let report = report(&calls);
    let (bytes, written) = pdf(&report, &calls, Lang::He, &PdfOptions::default());
    assert_eq!(
        written,
        Written {
            calls: 12,
            capped: false
        }
    );
    assert!(bytes.starts_with(b"%PDF-"));
    for text in [
        extract(&bytes, "report-he").0,
        extract(&bytes, "report-he").1,
    ] {
        // The title, headings and the campaign's name, as a person reads them.
        for expected in [
            "דוח קמפיין",
            NAME,
            "פרטי הקמפיין",
            "תוצאות השיחות",
            "שיעור מענה",
            "שם הקמפיין",
            "אין מענה",
            "משיבון",
            "עומס ברשת",
            "נחסם לפני חיוג",
            "בשיחה",
        ] {
            assert_contains(&text, expected);
        }
        // Totals: 12 calls, 10 dialed (one blacklisted, one in progress),
        // 4 answered: 40.0% answered, 25.0% converted and opted out.
        for expected in [
            "40.0%",
            "25.0%",
            "22/11/2026 12:05",
            "01/12/2026 09:30",
            "052-5551234",
            "03-6123456",
            // Until 30/11 inclusive: the period ends at midnight after it.
            "עד תאריך (כולל)",
            "30/11/2026",
            "מקשים שנלחצו בכל תפריט",
        ] {
            assert_contains(&text, expected);
        }
    }
}

/// Issue 18, item 13: the summary a manager is sent: the figures, the answer
/// rate with what it is counted of, the keys pressed per menu, no call list
/// (property 45: its figures are the report's totals).
#[test]
fn the_summary_pdf_has_keys_per_menu_and_no_calls() {
    let calls = sample_calls();
    let mut report = report(&calls);
    let mut keys = shofar_report::KeyTally::new(shofar_ivr::Flow::default_flow());
    for call in &calls {
        keys.add(call);
    }
    report.menus = keys.finish();
    report.contacts = Some(shofar_report::Contacts {
        total: 1_250,
        reached: 4,
    });
    let (bytes, written) = pdf(&report, &calls, Lang::He, &PdfOptions::summary());
    assert_eq!(written.calls, 0);
    let text = extract(&bytes, "summary-he").0;
    for expected in [
        "סיכום קמפיין",
        NAME,
        "מתוך שחויגו",
        "40.0%",
        "מקשים שנלחצו בכל תפריט",
        "תפריט ראשי",
        "תרומה",
        "לחצו 1",
        "לחצו 9",
        "ביקשו הסרה",
        "אנשי קשר בקמפיין",
        "1,250",
        "אנשי קשר שענו",
    ] {
        assert_contains(&text, expected);
    }
    assert!(!text.contains("052-5551234"), "no call list in a summary");
    let (bytes, _) = pdf(&report, &calls, Lang::En, &PdfOptions::summary());
    let text = extract(&bytes, "summary-en").0;
    for expected in [
        "Campaign summary",
        "Answer rate (of dialed)",
        "Keys pressed in each menu",
        "Pressed 1",
        "Main menu",
        "Remove from list",
        "No key (timed out or hung up)",
    ] {
        assert_contains(&text, expected);
    }
}

#[test]
fn english_pdf() {
    let calls = sample_calls();
    let report = report(&calls);
    let (bytes, _) = pdf(&report, &calls, Lang::En, &PdfOptions::default());
    for text in [
        extract(&bytes, "report-en").0,
        extract(&bytes, "report-en").1,
    ] {
        // On a left-to-right page poppler puts a number that ends a Hebrew name
        // before it ("2026 תרומות חורף"), though the page shows the name as a
        // Hebrew reader reads it (the layout's own tests check the visual
        // order): the Hebrew words themselves must read in order.
        assert_contains(&text, "תרומות חורף");
        for expected in [
            "Campaign report",
            "Answer rate",
            "40.0%",
            "Conversion rate",
            "25.0%",
            "No answer",
            "Blocked before dialing",
            "052-5551234",
            "22/11/2026 12:05",
            "Until (inclusive)",
            "30/11/2026",
        ] {
            assert_contains(&text, expected);
        }
    }
}

#[test]
fn a_capped_calls_table_points_to_the_full_exports() {
    let calls: Vec<CallRow> = (0..1_234)
        .map(|index| {
            let mut call = sample_calls()[index % 12].clone();
            call.call_id = format!("call-{index:05}");
            call
        })
        .collect();
    let report = report(&calls);
    let (bytes, written) = pdf(
        &report,
        &calls,
        Lang::He,
        &PdfOptions {
            max_calls: 1_000,
            ..PdfOptions::default()
        },
    );
    assert_eq!(
        written,
        Written {
            calls: 1_000,
            capped: true
        }
    );
    let (plain, _) = extract(&bytes, "report-he-capped");
    assert_contains_ignoring_spaces(&plain, "מוצגות 1,000 השיחות הראשונות מתוך 1,234");
    assert_contains_ignoring_spaces(&plain, "הרשימה המלאה נמצאת בייצוא CSV או XLSX");
    assert_contains(&plain, "עמוד 2");

    let (bytes, _) = pdf(
        &report,
        &calls,
        Lang::En,
        &PdfOptions {
            max_calls: 1_000,
            ..PdfOptions::default()
        },
    );
    let (plain, _) = extract(&bytes, "report-en-capped");
    assert_contains(&plain, "Showing the first 1,000 of 1,234 calls.");
    assert_contains(&plain, "The complete list is in the CSV or XLSX export.");
}

#[test]
fn an_empty_report_and_hostile_text_still_make_a_pdf() {
    let mut info = campaign(
        7,
        "קמפיין\nעם שורה חדשה\t\u{202e}ועוד 😀 ".repeat(40).as_str(),
    );
    info.kind = "fax".to_owned();
    let report = Report::from_rows(
        info,
        None,
        None,
        at("2026-12-01T07:30:00Z"),
        Vec::<CallRow>::new(),
    );
    let mut bytes = Vec::new();
    let written = write_pdf(&report, ok_rows(&[]), Lang::He, Jerusalem, &mut bytes).unwrap();
    assert_eq!(
        written,
        Written {
            calls: 0,
            capped: false
        }
    );
    let (plain, _) = extract(&bytes, "report-he-empty");
    assert_contains(&plain, "אין שיחות בתקופה");
    assert_contains(&plain, "fax");
}

#[test]
fn the_same_report_makes_the_same_bytes() {
    let calls = sample_calls();
    let report = report(&calls);
    let (first, _) = pdf(&report, &calls, Lang::He, &PdfOptions::default());
    let (second, _) = pdf(&report, &calls, Lang::He, &PdfOptions::default());
    assert!(
        first == second,
        "the PDF depends on something besides its input"
    );
}

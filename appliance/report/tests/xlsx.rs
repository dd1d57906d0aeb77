//! The workbook read back with calamine.

mod common;

use std::io::Cursor;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};
use chrono::NaiveDateTime;
use chrono_tz::Asia::Jerusalem;
use common::{at, campaign, ok_rows, sample_calls};
use shofar_report::{CallRow, Lang, Report, Written, XlsxOptions, write_xlsx, write_xlsx_with};

const NAME: &str = "תרומות חורף 2026";

fn report(rows: &[CallRow]) -> Report {
    Report::from_rows(
        campaign(12, NAME),
        Some(at("2026-11-21T22:00:00Z")),
        Some(at("2026-11-30T22:00:00Z")),
        at("2026-12-01T07:30:00Z"),
        rows,
    )
}

fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes)).expect("a workbook calamine reads")
}

fn sheet(workbook: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<Data>> {
    workbook
        .worksheet_range(name)
        .unwrap()
        .rows()
        .map(<[Data]>::to_vec)
        .collect()
}

/// The value next to a label on the summary sheet.
fn value_of<'a>(summary: &'a [Vec<Data>], label: &str) -> &'a Data {
    let row = summary
        .iter()
        .find(|row| row.first().and_then(|cell| cell.get_string()) == Some(label))
        .unwrap_or_else(|| panic!("no {label:?} on the summary sheet"));
    &row[1]
}

fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

#[test]
fn hebrew_workbook_reads_back() {
    let rows = sample_calls();
    let mut bytes = Vec::new();
    let written = write_xlsx(
        &report(&rows),
        ok_rows(&rows),
        Lang::He,
        Jerusalem,
        &mut bytes,
    )
    .unwrap();
    assert_eq!(
        written,
        Written {
            calls: 12,
            capped: false
        }
    );
    let mut workbook = open(bytes);
    assert_eq!(workbook.sheet_names(), ["סיכום", "שיחות"]);

    let summary = sheet(&mut workbook, "סיכום");
    assert_eq!(summary[0][0].get_string(), Some("דוח קמפיין"));
    assert_eq!(summary[1][0].get_string(), Some(NAME));
    assert_eq!(value_of(&summary, "שם הקמפיין").get_string(), Some(NAME));
    assert_eq!(value_of(&summary, "סוג").get_string(), Some("קולי"));
    assert_eq!(value_of(&summary, "כל השיחות").get_float(), Some(12.0));
    assert_eq!(value_of(&summary, "חויגו").get_float(), Some(10.0));
    assert_eq!(value_of(&summary, "נענו").get_float(), Some(4.0));
    assert_eq!(
        value_of(&summary, "שיעור מענה (מתוך שחויגו)").get_float(),
        Some(0.4)
    );
    assert_eq!(
        value_of(&summary, "שיעור המרה (מתוך שנענו)").get_float(),
        Some(0.25)
    );
    assert_eq!(
        value_of(&summary, "אזור זמן").get_string(),
        Some("Asia/Jerusalem")
    );
    assert_eq!(
        value_of(&summary, "מתאריך").as_datetime(),
        Some(local("2026-11-22 00:00:00"))
    );
    assert_eq!(
        value_of(&summary, "שיחה ראשונה").as_datetime(),
        Some(local("2026-11-22 12:05:00.123"))
    );
    let blacklisted = summary
        .iter()
        .find(|row| row[0].get_string() == Some("נחסם לפני חיוג"))
        .expect("the outcome table");
    assert_eq!(blacklisted[1].get_float(), Some(1.0));
    assert_eq!(blacklisted[2].get_float(), Some(1.0 / 12.0));

    let calls = sheet(&mut workbook, "שיחות");
    assert_eq!(calls.len(), 1 + rows.len(), "a header and one row per call");
    assert_eq!(calls[0][0].get_string(), Some("מזהה שיחה"));
    assert_eq!(calls[0][5].get_string(), Some("תוצאה"));
    for (line, row) in calls[1..].iter().zip(&rows) {
        assert_eq!(line[0].get_string(), Some(row.call_id.as_str()));
        assert_eq!(line[1].get_string(), Some(NAME));
        assert_eq!(line[2].get_float(), Some(12.0));
        // Issue 18, item 8: the local form, in a string cell.
        assert_eq!(
            line[3],
            Data::String(shofar_report::format::phone(&row.number))
        );
        let started = row.started_at.with_timezone(&Jerusalem).naive_local();
        let read = line[6].as_datetime().expect("a real Excel date");
        assert!(
            (read - started).num_milliseconds().abs() <= 1,
            "{read} != {started}"
        );
    }
    assert_eq!(calls[1][3].get_string(), Some("052-5551234"));
    assert_eq!(calls[1][5].get_string(), Some("נענתה"));
    assert_eq!(calls[11][5].get_string(), Some("בשיחה"));
    // Talk time 88 s as an Excel duration (days), shown m:ss.
    let talk = match &calls[1][10] {
        Data::DateTime(duration) => duration.as_f64(),
        other => other.as_f64().expect("a duration"),
    };
    assert!((talk * 86_400.0 - 88.0).abs() < 1e-6, "{talk}");
    assert_eq!(calls[1][12].get_string(), Some("כן"));
    assert_eq!(calls[1][14].get_string(), Some("ניתוק רגיל"));
    // The period's end, midnight after 30/11, reads as "until 30/11 inclusive".
    assert_eq!(
        value_of(&summary, "עד תאריך (כולל)").get_string(),
        Some("30/11/2026")
    );
    // Keys per menu are not counted here (no flow given): said so.
    assert!(
        summary
            .iter()
            .any(|row| row[0].get_string() == Some("אין בתסריט תפריט מקשים"))
    );
}

#[test]
fn english_workbook() {
    let rows = sample_calls();
    let mut bytes = Vec::new();
    write_xlsx(
        &report(&rows),
        ok_rows(&rows),
        Lang::En,
        Jerusalem,
        &mut bytes,
    )
    .unwrap();
    let mut workbook = open(bytes);
    assert_eq!(workbook.sheet_names(), ["Summary", "Calls"]);
    let summary = sheet(&mut workbook, "Summary");
    assert_eq!(value_of(&summary, "Name").get_string(), Some(NAME));
    assert_eq!(
        value_of(&summary, "Answer rate (of dialed)").get_float(),
        Some(0.4)
    );
    let calls = sheet(&mut workbook, "Calls");
    assert_eq!(calls[0][0].get_string(), Some("Call ID"));
    assert_eq!(calls[5][5].get_string(), Some("No answer"));
}

#[test]
fn calls_beyond_a_sheet_continue_on_the_next() {
    let rows: Vec<CallRow> = (0..25)
        .map(|index| {
            let mut call = sample_calls()[index % 12].clone();
            call.call_id = format!("call-{index:04}");
            call
        })
        .collect();
    let options = XlsxOptions {
        calls_per_sheet: 10,
        ..XlsxOptions::default()
    };
    let mut bytes = Vec::new();
    let written = write_xlsx_with(
        &report(&rows),
        ok_rows(&rows),
        Lang::He,
        Jerusalem,
        &options,
        &mut bytes,
    )
    .unwrap();
    assert_eq!(written.calls, 25);
    let mut workbook = open(bytes);
    assert_eq!(
        workbook.sheet_names(),
        ["סיכום", "שיחות", "שיחות 2", "שיחות 3"]
    );
    let ids: Vec<String> = ["שיחות", "שיחות 2", "שיחות 3"]
        .iter()
        .flat_map(|name| {
            let lines = sheet(&mut workbook, name);
            assert_eq!(
                lines[0][0].get_string(),
                Some("מזהה שיחה"),
                "every calls sheet has its header"
            );
            lines
                .into_iter()
                .skip(1)
                .map(|line| line[0].get_string().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: Vec<String> = rows.iter().map(|row| row.call_id.clone()).collect();
    assert_eq!(ids, expected);

    // Exactly full sheets do not leave an empty one behind.
    let mut bytes = Vec::new();
    write_xlsx_with(
        &report(&rows[..20]),
        ok_rows(&rows[..20]),
        Lang::En,
        Jerusalem,
        &options,
        &mut bytes,
    )
    .unwrap();
    assert_eq!(open(bytes).sheet_names(), ["Summary", "Calls", "Calls 2"]);
}

#[test]
fn an_empty_report_has_a_header_only_calls_sheet() {
    let report = report(&[]);
    let mut bytes = Vec::new();
    write_xlsx(&report, ok_rows(&[]), Lang::He, Jerusalem, &mut bytes).unwrap();
    let mut workbook = open(bytes);
    let calls = sheet(&mut workbook, "שיחות");
    assert_eq!(calls.len(), 1);
    let summary = sheet(&mut workbook, "סיכום");
    assert_eq!(
        value_of(&summary, "שיעור מענה (מתוך שחויגו)").get_string(),
        Some("—")
    );
}

/// Set `SHOFAR_SLOW_TESTS=1` to write a real sheet's worth (1,048,575 calls)
/// plus one and see the last one land on a second calls sheet.
#[test]
fn a_full_excel_sheet_continues_on_the_next() {
    if std::env::var_os("SHOFAR_SLOW_TESTS").is_none() {
        return;
    }
    let template = sample_calls();
    let total = shofar_report::MAX_CALLS_PER_SHEET as usize + 1;
    let rows = (0..total).map(|index| {
        let mut call = template[index % 12].clone();
        call.call_id = format!("call-{index:07}");
        Ok::<_, std::convert::Infallible>(call)
    });
    let mut bytes = Vec::new();
    let written = write_xlsx(&report(&template), rows, Lang::He, Jerusalem, &mut bytes).unwrap();
    assert_eq!(written.calls as usize, total);
    let mut workbook = open(bytes);
    assert_eq!(workbook.sheet_names(), ["סיכום", "שיחות", "שיחות 2"]);
    let second = sheet(&mut workbook, "שיחות 2");
    assert_eq!(second.len(), 2);
    assert_eq!(second[1][0].get_string(), Some("call-1048575"));
}

//! The CSV export read back with the csv crate.

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;

use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Asia::Jerusalem;
use chrono_tz::Tz;
use common::{at, calls, campaign, ok_rows, sample_calls};
use proptest::prelude::*;
use shofar_report::{
    CallRow, ExportError, Lang, Report, Written, format, outcome_label, write_csv,
};

fn report() -> Report {
    Report::from_rows(
        campaign(12, "תרומות חורף 2026"),
        None,
        None,
        at("2026-12-01T07:30:00Z"),
        Vec::<CallRow>::new(),
    )
}

fn export(rows: &[CallRow], lang: Lang, zone: Tz) -> Vec<u8> {
    let mut bytes = Vec::new();
    let written = write_csv(&report(), ok_rows(rows), lang, zone, &mut bytes).unwrap();
    assert_eq!(
        written,
        Written {
            calls: rows.len() as u64,
            capped: false
        }
    );
    bytes
}

/// The records after the byte order mark and the header.
fn read_back(bytes: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let body = bytes
        .strip_prefix("\u{feff}".as_bytes())
        .expect("a UTF-8 byte order mark");
    let mut reader = csv::Reader::from_reader(body);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader.records().map(Result::unwrap).collect();
    (header, records)
}

/// A wall-clock time as written, `2026-11-22 12:05:00`, is one of the local
/// times of `instant` in `zone` (to the second; in the hour a clock goes back,
/// either reading).
fn is_local_time_of(field: &str, instant: DateTime<Utc>, zone: Tz) -> bool {
    let wall = NaiveDateTime::parse_from_str(field, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|error| panic!("{field:?} is not a local time: {error}"));
    let second = instant.duration_trunc(TimeDelta::seconds(1)).unwrap();
    let candidates: Vec<DateTime<Utc>> = zone
        .from_local_datetime(&wall)
        .earliest()
        .into_iter()
        .chain(zone.from_local_datetime(&wall).latest())
        .map(|at| at.with_timezone(&Utc))
        .collect();
    candidates.contains(&second)
}

proptest! {
    /// Property 44 (campaign report completeness): for any set of calls, the CSV
    /// export parsed back has exactly one line per call, with the same call ids,
    /// outcomes in words and instants to the second on the zone's clock, and
    /// every other field as a person reads it (issue 18, item 8).
    #[test]
    fn property_44_csv_lists_every_call_with_exact_timestamps(
        rows in calls(60),
        lang in prop_oneof![Just(Lang::He), Just(Lang::En)],
        zone in prop_oneof![Just(Jerusalem), Just(chrono_tz::UTC), Just(chrono_tz::America::New_York)],
    ) {
        let (header, records) = read_back(&export(&rows, lang, zone));
        prop_assert_eq!(header.len(), 15);
        prop_assert_eq!(records.len(), rows.len());
        let by_id: BTreeMap<&str, &csv::StringRecord> =
            records.iter().map(|record| (&record[0], record)).collect();
        prop_assert_eq!(by_id.len(), rows.len(), "call ids are unique and all there");
        let (yes, no) = match lang { Lang::He => ("כן", "לא"), Lang::En => ("Yes", "No") };
        for row in &rows {
            let record = by_id.get(row.call_id.as_str()).expect("every call has its line");
            prop_assert_eq!(record.len(), 15);
            let name = if row.campaign_id == Some(12) { "תרומות חורף 2026" } else { "" };
            prop_assert_eq!(&record[1], name);
            prop_assert_eq!(&record[2], row.campaign_id.map(|id| id.to_string()).unwrap_or_default());
            prop_assert_eq!(&record[3], format::phone(&row.number));
            prop_assert!(!record[3].starts_with('+'), "{} is local", &record[3]);
            prop_assert_eq!(&record[4], row.attempt.to_string());
            prop_assert_eq!(&record[5], outcome_label(lang, row.outcome.as_ref()));
            prop_assert!(is_local_time_of(&record[6], row.started_at, zone));
            prop_assert_eq!(record[7].is_empty(), row.answered_at.is_none());
            if let Some(answered) = row.answered_at {
                prop_assert!(is_local_time_of(&record[7], answered, zone));
            }
            if let Some(ended) = row.ended_at {
                prop_assert!(is_local_time_of(&record[8], ended, zone));
            }
            prop_assert_eq!(&record[9], row.duration_ms.map(format::duration).unwrap_or_default());
            prop_assert_eq!(&record[10], row.talk_ms.map(format::duration).unwrap_or_default());
            prop_assert_eq!(record[11].replace(' ', ""), row.dtmf.clone());
            prop_assert_eq!(&record[12], if row.converted { yes } else { no });
            prop_assert_eq!(&record[13], if row.opted_out { yes } else { no });
            prop_assert_eq!(record[14].is_empty(), row.hangup_cause.as_deref().is_none_or(str::is_empty));
        }
    }
}

/// Issue 18, item 8: what Excel shows. Hebrew labels and words, the campaign by
/// name, the number in the local form, times on Israel's clock, m:ss.
#[test]
fn csv_header_is_in_the_chosen_language_and_lines_are_exact() {
    let rows = sample_calls();
    let (header, records) = read_back(&export(&rows, Lang::He, Jerusalem));
    assert_eq!(header[0], "מזהה שיחה");
    assert_eq!(header[1], "קמפיין");
    assert_eq!(header[3], "מספר טלפון");
    assert_eq!(header[5], "תוצאה");
    let first: Vec<&str> = records[0].iter().collect();
    assert_eq!(
        first,
        [
            "call-0001",
            "תרומות חורף 2026",
            "12",
            "052-5551234",
            "1",
            "נענתה",
            "2026-11-22 12:05:00",
            "2026-11-22 12:05:07",
            "2026-11-22 12:06:35",
            "1:35",
            "1:28",
            "1 #",
            "כן",
            "לא",
            "ניתוק רגיל",
        ]
    );
    // A call still in progress: "in a call", no end.
    assert_eq!(&records[10][5], "בשיחה");
    assert_eq!(&records[10][8], "");

    let (header, records) = read_back(&export(&rows, Lang::En, Jerusalem));
    assert_eq!(header[0], "Call ID");
    assert_eq!(header[6], "Started");
    assert_eq!(&records[0][5], "Answered");
    assert_eq!(&records[0][14], "Normal hang-up");
    assert_eq!(&records[1][3], "03-6123456");
}

/// Text a spreadsheet would run as a formula or read as a number stays text.
#[test]
fn formula_like_text_stays_text() {
    let mut row = sample_calls()[0].clone();
    row.number = "+12125551234".to_owned();
    let mut named = report();
    named.campaign.name = "=HYPERLINK(\"x\")".to_owned();
    let mut bytes = Vec::new();
    write_csv(&named, ok_rows(&[row]), Lang::En, Jerusalem, &mut bytes).unwrap();
    let (_, records) = read_back(&bytes);
    assert_eq!(&records[0][1], "\u{feff}=HYPERLINK(\"x\")");
    assert_eq!(&records[0][3], "\u{feff}+12125551234");
}

#[test]
fn a_failing_source_fails_the_export() {
    let rows: Vec<Result<CallRow, std::io::Error>> = vec![
        Ok(sample_calls()[0].clone()),
        Err(std::io::Error::other("database is locked")),
        Ok(sample_calls()[1].clone()),
    ];
    let error = write_csv(&report(), rows, Lang::He, Jerusalem, Vec::new()).unwrap_err();
    assert!(matches!(error, ExportError::Rows(_)), "{error:?}");
    assert_eq!(
        std::error::Error::source(&error).unwrap().to_string(),
        "database is locked"
    );
}

#[test]
fn an_empty_list_is_a_header_alone() {
    let mut bytes = Vec::new();
    let written = write_csv(
        &report(),
        std::iter::empty::<Result<CallRow, Infallible>>(),
        Lang::En,
        Jerusalem,
        &mut bytes,
    )
    .unwrap();
    assert_eq!(written.calls, 0);
    let (header, records) = read_back(&bytes);
    assert_eq!(header.len(), 15);
    assert!(records.is_empty());
}

//! The CSV export read back with the csv crate.

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;

use chrono::{DateTime, DurationRound, Offset, TimeDelta, Utc};
use chrono_tz::Asia::Jerusalem;
use chrono_tz::Tz;
use common::{calls, ok_rows, sample_calls};
use proptest::prelude::*;
use shofar_report::{CallRow, ExportError, Lang, Written, write_csv};

fn export(rows: &[CallRow], lang: Lang, zone: Tz) -> Vec<u8> {
    let mut bytes = Vec::new();
    let written = write_csv(ok_rows(rows), lang, zone, &mut bytes).unwrap();
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

fn millis(instant: DateTime<Utc>) -> DateTime<Utc> {
    instant.duration_trunc(TimeDelta::milliseconds(1)).unwrap()
}

fn parse_instant(field: &str) -> Option<DateTime<Utc>> {
    (!field.is_empty()).then(|| {
        DateTime::parse_from_rfc3339(field)
            .unwrap_or_else(|error| panic!("{field:?} is not RFC 3339: {error}"))
            .with_timezone(&Utc)
    })
}

proptest! {
    /// Property 44 (campaign report completeness): for any set of calls, the CSV
    /// export parsed back has exactly one line per call, with the same call ids,
    /// outcomes and instants to the millisecond, and every other field intact.
    #[test]
    fn property_44_csv_lists_every_call_with_exact_timestamps(
        rows in calls(60),
        lang in prop_oneof![Just(Lang::He), Just(Lang::En)],
        zone in prop_oneof![Just(Jerusalem), Just(chrono_tz::UTC), Just(chrono_tz::America::New_York)],
    ) {
        let (header, records) = read_back(&export(&rows, lang, zone));
        prop_assert_eq!(header.len(), 14);
        prop_assert_eq!(records.len(), rows.len());
        let by_id: BTreeMap<&str, &csv::StringRecord> =
            records.iter().map(|record| (&record[0], record)).collect();
        prop_assert_eq!(by_id.len(), rows.len(), "call ids are unique and all there");
        for row in &rows {
            let record = by_id.get(row.call_id.as_str()).expect("every call has its line");
            prop_assert_eq!(record.len(), 14);
            prop_assert_eq!(&record[1], row.campaign_id.map(|id| id.to_string()).unwrap_or_default());
            prop_assert_eq!(&record[2], &row.number);
            prop_assert_eq!(&record[3], row.attempt.to_string());
            prop_assert_eq!(&record[4], row.outcome.as_ref().map(|o| o.as_str().to_owned()).unwrap_or_default());
            prop_assert_eq!(parse_instant(&record[5]), Some(millis(row.started_at)));
            prop_assert_eq!(parse_instant(&record[6]), row.answered_at.map(millis));
            prop_assert_eq!(parse_instant(&record[7]), row.ended_at.map(millis));
            // The offset written is the zone's at that instant.
            let offset = DateTime::parse_from_rfc3339(&record[5]).unwrap().offset().local_minus_utc();
            let expected = row.started_at.with_timezone(&zone).offset().fix().local_minus_utc();
            prop_assert_eq!(offset, expected);
            prop_assert_eq!(&record[8], row.duration_ms.map(|v| v.to_string()).unwrap_or_default());
            prop_assert_eq!(&record[9], row.talk_ms.map(|v| v.to_string()).unwrap_or_default());
            prop_assert_eq!(&record[10], &row.dtmf);
            prop_assert_eq!(&record[11], if row.converted { "1" } else { "0" });
            prop_assert_eq!(&record[12], if row.opted_out { "1" } else { "0" });
            prop_assert_eq!(&record[13], row.hangup_cause.clone().unwrap_or_default());
        }
    }
}

#[test]
fn csv_header_is_in_the_chosen_language_and_lines_are_exact() {
    let rows = sample_calls();
    let (header, records) = read_back(&export(&rows, Lang::He, Jerusalem));
    assert_eq!(header[0], "מזהה שיחה");
    assert_eq!(header[2], "מספר טלפון");
    assert_eq!(header[4], "תוצאה");
    let first: Vec<&str> = records[0].iter().collect();
    assert_eq!(
        first,
        [
            "call-0001",
            "12",
            "+972525551234",
            "1",
            "answered",
            "2026-11-22T12:05:00.123+02:00",
            "2026-11-22T12:05:07.123+02:00",
            "2026-11-22T12:06:35.123+02:00",
            "95000",
            "88000",
            "1#",
            "1",
            "0",
            "normal clearing",
        ]
    );
    // A call still in progress: no outcome, no end.
    assert_eq!(&records[10][4], "");
    assert_eq!(&records[10][7], "");

    let (header, _) = read_back(&export(&rows, Lang::En, Jerusalem));
    assert_eq!(header[0], "Call ID");
    assert_eq!(header[5], "Started");
}

#[test]
fn a_failing_source_fails_the_export() {
    let rows: Vec<Result<CallRow, std::io::Error>> = vec![
        Ok(sample_calls()[0].clone()),
        Err(std::io::Error::other("database is locked")),
        Ok(sample_calls()[1].clone()),
    ];
    let error = write_csv(rows, Lang::He, Jerusalem, Vec::new()).unwrap_err();
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
        std::iter::empty::<Result<CallRow, Infallible>>(),
        Lang::En,
        Jerusalem,
        &mut bytes,
    )
    .unwrap();
    assert_eq!(written.calls, 0);
    let (header, records) = read_back(&bytes);
    assert_eq!(header.len(), 14);
    assert!(records.is_empty());
}

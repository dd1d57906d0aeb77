//! Reports over call records written through the store: the figures are a
//! recount of the records (property 45), a history counts every call of its
//! period once (property 46), a comparison's columns are the campaigns' own
//! reports (property 47); exports come as CSV, XLSX and a Hebrew PDF read back
//! with `pdftotext`.
//!
//! Needs `pdftotext` (Debian: `apt-get install -y poppler-utils`); without it the
//! PDF test fails and says so.

use std::collections::BTreeMap;
use std::process::Command;

use axum::http::{StatusCode, header};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use shofar_store::accounts::Role;
use shofar_store::calls::CallOutcome;

use crate::support::{Call, Client, TestApp, at};

const WINTER: &str = "תרומות חורף 2026";
const SURVEY: &str = "סקר שביעות רצון";

struct Dataset {
    winter: i64,
    survey: i64,
    calls: Vec<Call>,
}

/// Two campaigns' calls over four days, crossing midnight in Israel: every
/// outcome, conversions and opt-outs, a number refused at the pre-dial check,
/// and a call still up.
async fn dataset(app: &TestApp, client: &Client) -> Dataset {
    let winter = app
        .create_campaign(
            client,
            json!({"name": WINTER, "purpose": "donation",
                   "consent_override": "Existing donors, consent on paper forms 2025"}),
        )
        .await;
    let survey = app.create_campaign(client, json!({"name": SURVEY})).await;
    use CallOutcome::*;
    let winter_outcomes = [
        Answered,
        Busy,
        NoAnswer,
        Answered,
        Voicemail,
        Congestion,
        Answered,
        Rejected,
        Failed,
        Blacklisted,
        NoAnswer,
        Answered,
    ];
    let survey_outcomes = [
        Answered, NoAnswer, Voicemail, Answered, Busy, Failed, Answered,
    ];
    let start = at("2026-11-22T05:00:00Z");
    let mut calls = Vec::new();
    for i in 0..36u32 {
        let outcome = winter_outcomes[i as usize % winter_outcomes.len()];
        let mut call = Call::new(
            &format!("winter-{i:03}"),
            winter,
            &format!("+97252555{:04}", 1000 + i),
            "2026-11-22T05:00:00Z",
            outcome,
        );
        call.started_at = start + Duration::minutes(133 * i64::from(i));
        call.converted = outcome == Answered && i % 3 == 0;
        call.opted_out = outcome == Answered && i % 7 == 1;
        if call.converted {
            call.dtmf = "1".into();
        }
        if i == 35 {
            call.outcome = None;
        }
        calls.push(call);
    }
    for i in 0..14u32 {
        let outcome = survey_outcomes[i as usize % survey_outcomes.len()];
        let mut call = Call::new(
            &format!("survey-{i:03}"),
            survey,
            &format!("+97254765{:04}", 4000 + i),
            "2026-11-22T06:00:00Z",
            outcome,
        );
        call.started_at = at("2026-11-22T06:00:00Z") + Duration::hours(5 * i64::from(i));
        call.converted = outcome == Answered && i % 2 == 0;
        calls.push(call);
    }
    for call in &calls {
        app.record_call(call);
    }
    Dataset {
        winter,
        survey,
        calls,
    }
}

/// The figures of `calls`, counted here from what was written, not by the code
/// under test.
fn recount<'a>(calls: impl IntoIterator<Item = &'a Call>) -> Value {
    let calls: Vec<&Call> = calls.into_iter().collect();
    let ended: Vec<&&Call> = calls.iter().filter(|c| c.outcome.is_some()).collect();
    let mut by_outcome = BTreeMap::new();
    for call in &ended {
        *by_outcome
            .entry(call.outcome.unwrap().as_str().to_owned())
            .or_insert(0u64) += 1;
    }
    let count = |f: &dyn Fn(&Call) -> bool| calls.iter().filter(|c| f(c)).count() as u64;
    let dialed = ended
        .iter()
        .filter(|c| c.outcome != Some(CallOutcome::Blacklisted))
        .count() as u64;
    let answered = count(&|c| c.outcome == Some(CallOutcome::Answered));
    let converted = count(&|c| c.converted);
    let opted_out = count(&|c| c.opted_out);
    let rate = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    json!({
        "calls": calls.len(),
        "in_call": calls.len() - ended.len(),
        "by_outcome": by_outcome,
        "dialed": dialed,
        "answered": answered,
        "converted": converted,
        "opted_out": opted_out,
        "answer_rate": rate(answered, dialed),
        "conversion_rate": rate(converted, answered),
        "opt_out_rate": rate(opted_out, answered),
    })
}

/// Talk time of ended calls that were answered (by a person or a machine).
fn talk_ms<'a>(calls: impl IntoIterator<Item = &'a Call>) -> i64 {
    calls
        .into_iter()
        .filter(|c| c.outcome.is_some())
        .filter_map(|c| {
            c.answered_after_seconds
                .map(|after| (c.seconds - after) * 1000)
        })
        .sum()
}

/// Figures compared: counts exactly, rates to the last bit that matters.
#[track_caller]
fn assert_figures(actual: &Value, expected: &Value) {
    for key in [
        "calls",
        "in_call",
        "by_outcome",
        "dialed",
        "answered",
        "converted",
        "opted_out",
    ] {
        assert_eq!(actual[key], expected[key], "{key}: {actual:#}");
    }
    for key in ["answer_rate", "conversion_rate", "opt_out_rate"] {
        match (actual[key].as_f64(), expected[key].as_f64()) {
            (Some(a), Some(e)) => assert!((a - e).abs() < 1e-12, "{key}: {a} vs {e}"),
            (a, e) => assert_eq!(a, e, "{key}"),
        }
    }
}

fn in_period(call: &Call, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    call.started_at >= from && call.started_at < to
}

/// Property 45 (report totals equal the sum of the call records), at the API:
/// the report's figures, talk time, first and last call and outcome shares are a
/// recount of the records written, over all of them and over a period.
#[tokio::test]
async fn property_45_a_report_is_a_recount_of_the_call_records() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let winter: Vec<&Call> = data
        .calls
        .iter()
        .filter(|c| c.campaign == Some(data.winter))
        .collect();

    let report = ana
        .get(&format!("/api/v1/campaigns/{}/report", data.winter))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        report["campaign"],
        json!({"id": data.winter, "name": WINTER, "type": "voice", "purpose": "donation", "status": "draft"})
    );
    assert_eq!(
        (&report["from"], &report["to"]),
        (&Value::Null, &Value::Null)
    );
    assert_figures(&report["figures"], &recount(winter.iter().copied()));
    assert_eq!(report["talk_ms"], talk_ms(winter.iter().copied()));
    assert_eq!(report["first_call"], "2026-11-22T05:00:00Z");
    let last = winter.iter().map(|c| c.started_at).max().unwrap();
    assert_eq!(
        report["last_call"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        last
    );
    // Outcomes and their shares: every call once, shares summing to one.
    let outcomes = report["outcomes"].as_array().unwrap();
    let counted: u64 = outcomes.iter().map(|o| o["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, winter.len() as u64);
    let shares: f64 = outcomes.iter().map(|o| o["share"].as_f64().unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
    let in_call = outcomes.iter().find(|o| o["outcome"] == "in_call").unwrap();
    assert_eq!(in_call["count"], 1);

    // A period: the days 23 and 24 November in Israel.
    let (from, to) = (at("2026-11-22T22:00:00Z"), at("2026-11-24T22:00:00Z"));
    let period = ana
        .get(&format!(
            "/api/v1/campaigns/{}/report?from=2026-11-23&to=2026-11-24",
            data.winter
        ))
        .await
        .expect(StatusCode::OK);
    assert_eq!(period["from"], "2026-11-22T22:00:00Z");
    assert_eq!(period["to"], "2026-11-24T22:00:00Z");
    let inside: Vec<&Call> = winter
        .iter()
        .copied()
        .filter(|c| in_period(c, from, to))
        .collect();
    assert!(inside.len() > 5 && inside.len() < winter.len());
    assert_figures(&period["figures"], &recount(inside.iter().copied()));
    assert_eq!(period["talk_ms"], talk_ms(inside.iter().copied()));

    // RFC 3339 bounds work too, half-open.
    let exact = ana
        .get(&format!(
            "/api/v1/campaigns/{}/report?from=2026-11-22T05:00:00Z&to=2026-11-22T07:13:00Z",
            data.winter
        ))
        .await
        .json();
    assert_eq!(exact["figures"]["calls"], 1);
}

#[tokio::test]
async fn report_requests_are_checked() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let report = format!("/api/v1/campaigns/{}/report", data.winter);
    let export = format!("{report}/export");
    for (path, field) in [
        (format!("{report}?from=yesterday"), "from"),
        (format!("{report}?to=2026-02-30"), "to"),
        (format!("{report}?from=2026-11-25&to=2026-11-23"), "to"),
        (format!("{report}?from=2026-11-25&to=2026-11-24"), "to"),
        (format!("{export}?format=docx"), "format"),
        (format!("{export}?format=pdf&lang=fr"), "lang"),
        (format!("{export}?format=csv&from=last%20week"), "from"),
        (
            format!("{export}?format=csv&from=2026-11-25&to=2026-11-23"),
            "to",
        ),
    ] {
        ana.get(&path).await.expect_fields(&[field]);
    }
    ana.get(&export)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    for path in [
        "/api/v1/campaigns/999/report",
        "/api/v1/campaigns/999/report/export?format=csv",
    ] {
        ana.get(path)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    ana.get("/api/v1/campaigns/winter/report")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

/// The date in `Content-Disposition`'s file name is today's in Israel.
fn expected_file_name(campaign: i64, extension: &str) -> String {
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Jerusalem)
        .format("%Y-%m-%d");
    format!("attachment; filename=\"campaign-{campaign}-report-{today}.{extension}\"")
}

#[tokio::test]
async fn the_csv_export_lists_every_call_with_exact_times() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let analyst = app.token_for("nightly", Role::Analyst);
    let response = analyst
        .get(&format!(
            "/api/v1/campaigns/{}/report/export?format=csv&lang=en",
            data.winter
        ))
        .await;
    response.expect(StatusCode::OK);
    assert_eq!(
        response.header(header::CONTENT_TYPE),
        Some("text/csv; charset=utf-8")
    );
    let disposition = response.header(header::CONTENT_DISPOSITION).unwrap();
    // Around midnight the date may turn between the export and this line.
    assert!(
        disposition == expected_file_name(data.winter, "csv")
            || disposition.starts_with(&format!(
                "attachment; filename=\"campaign-{}-report-",
                data.winter
            )),
        "{disposition}"
    );
    assert!(disposition.ends_with(".csv\""), "{disposition}");
    let text = String::from_utf8(response.body.clone()).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let lines: Vec<&str> = text.lines().collect();
    let winter: Vec<&Call> = data
        .calls
        .iter()
        .filter(|c| c.campaign == Some(data.winter))
        .collect();
    // A header, then every call of the campaign, oldest first.
    assert_eq!(lines.len(), 1 + winter.len());
    assert!(lines[0].to_lowercase().contains("call"), "{}", lines[0]);
    for (line, call) in lines[1..].iter().zip(&winter) {
        assert!(
            line.starts_with(&format!("{},{WINTER},{},", call.id, data.winter)),
            "{line}"
        );
        // Issue 18, item 8: the number as the UI shows it, not E.164.
        let local = format!("0{}-{}", &call.number[4..6], &call.number[6..]);
        assert!(line.contains(&format!(",{local},")), "{line}");
        assert!(!line.contains("+972"), "{line}");
    }
    // Times on Israel's clock, durations m:ss, outcomes in words.
    assert!(
        lines[1].contains(",Answered,2026-11-22 07:00:00,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",0:48,0:40,"), "{}", lines[1]);
    // The survey's calls are not in the winter campaign's file.
    assert!(!text.contains("survey-"));

    // In Hebrew the header is Hebrew; the rows are the same.
    let hebrew = analyst
        .get(&format!(
            "/api/v1/campaigns/{}/report/export?format=csv",
            data.winter
        ))
        .await;
    let hebrew_text = hebrew.text();
    let hebrew_lines: Vec<&str> = hebrew_text.lines().collect();
    assert!(
        hebrew_lines[0]
            .chars()
            .any(|c| ('\u{05d0}'..='\u{05ea}').contains(&c)),
        "{}",
        hebrew_lines[0]
    );
    assert_eq!(hebrew_lines.len(), lines.len());
    assert!(hebrew_lines[1].contains(",נענתה,"), "{}", hebrew_lines[1]);

    // A period exports only its calls.
    let period = analyst
        .get(&format!(
            "/api/v1/campaigns/{}/report/export?format=csv&lang=en&from=2026-11-23&to=2026-11-23",
            data.winter
        ))
        .await
        .text();
    let expected = winter
        .iter()
        .filter(|c| in_period(c, at("2026-11-22T22:00:00Z"), at("2026-11-23T22:00:00Z")))
        .count();
    assert_eq!(period.lines().count(), 1 + expected);
}

#[tokio::test]
async fn the_xlsx_export_is_a_workbook_of_a_summary_and_the_calls() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let response = mia
        .get(&format!(
            "/api/v1/campaigns/{}/report/export?format=xlsx&lang=he",
            data.survey
        ))
        .await;
    response.expect(StatusCode::OK);
    assert_eq!(
        response.header(header::CONTENT_TYPE),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let disposition = response.header(header::CONTENT_DISPOSITION).unwrap();
    assert!(disposition.ends_with(".xlsx\""), "{disposition}");
    // A zip whose directory names the workbook and its two sheets (names in a
    // zip's directory are stored uncompressed).
    assert_eq!(&response.body[..4], b"PK\x03\x04");
    let contains = |needle: &str| {
        response
            .body
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    };
    for part in [
        "xl/workbook.xml",
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml",
    ] {
        assert!(contains(part), "{part} is not in the workbook");
    }
}

/// The text `pdftotext` extracts from a PDF, without the invisible bidi marks
/// poppler adds around runs.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let output = Command::new("pdftotext")
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
    String::from_utf8(output.stdout)
        .expect("pdftotext writes UTF-8")
        .chars()
        .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

#[tokio::test]
async fn the_hebrew_pdf_names_the_campaign_and_its_totals() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let response = mia
        .get(&format!(
            "/api/v1/campaigns/{}/report/export?format=pdf&lang=he",
            data.winter
        ))
        .await;
    response.expect(StatusCode::OK);
    assert_eq!(
        response.header(header::CONTENT_TYPE),
        Some("application/pdf")
    );
    let disposition = response.header(header::CONTENT_DISPOSITION).unwrap();
    assert!(
        disposition.starts_with(&format!(
            "attachment; filename=\"campaign-{}-report-",
            data.winter
        )) && disposition.ends_with(".pdf\""),
        "{disposition}"
    );
    assert!(response.body.starts_with(b"%PDF-"));
    let text = pdf_text(&response.body);
    let report = mia
        .get(&format!("/api/v1/campaigns/{}/report", data.winter))
        .await
        .json();
    let figures = &report["figures"];
    let percent = |rate: &Value| format!("{:.1}%", rate.as_f64().unwrap() * 100.0);
    for expected in [
        WINTER.to_owned(),
        "דוח קמפיין".to_owned(),
        "שיעור מענה".to_owned(),
        percent(&figures["answer_rate"]),
        percent(&figures["conversion_rate"]),
        percent(&figures["opt_out_rate"]),
        figures["calls"].to_string(),
        figures["dialed"].to_string(),
        "052-5551000".to_owned(),
    ] {
        assert!(
            text.contains(&expected),
            "{expected:?} is not in the PDF's text:\n{text}"
        );
    }
    // In English too.
    let english = mia
        .get(&format!(
            "/api/v1/campaigns/{}/report/export?format=pdf&lang=en",
            data.winter
        ))
        .await;
    let text = pdf_text(&english.body);
    assert!(
        text.contains("Answer rate") || text.contains("answer rate"),
        "{text}"
    );
    assert!(text.contains(&percent(&figures["answer_rate"])), "{text}");
}

/// Property 46 (historical data retrieval accuracy), at the API: a history over
/// a date range counts every call started in it exactly once, on its day in
/// Israel and under its campaign, and its totals are the sum of its days.
#[tokio::test]
async fn property_46_a_history_counts_every_call_in_its_range_once() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let zone = chrono_tz::Asia::Jerusalem;
    let check = |from: &'static str, to: &'static str, campaigns: Option<Vec<i64>>| {
        let ana = ana.clone();
        let calls = data.calls.clone();
        async move {
            let query = match &campaigns {
                Some(ids) => format!(
                    "from={from}&to={to}&campaigns={}",
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                ),
                None => format!("from={from}&to={to}"),
            };
            let history = ana
                .get(&format!("/api/v1/reports/history?{query}"))
                .await
                .expect(StatusCode::OK);
            assert_eq!(history["time_zone"], "Asia/Jerusalem");
            let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
            let start = day(from)
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_local_timezone(zone)
                .unwrap();
            // "to" is the last day, included whole (issue 18, item 9).
            let end = day(to)
                .succ_opt()
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_local_timezone(zone)
                .unwrap();
            let selected: Vec<&Call> = calls
                .iter()
                .filter(|c| in_period(c, start.to_utc(), end.to_utc()))
                .filter(|c| {
                    campaigns
                        .as_ref()
                        .is_none_or(|ids| ids.contains(&c.campaign.unwrap()))
                })
                .collect();
            let mut expected: BTreeMap<(String, i64), Vec<&Call>> = BTreeMap::new();
            for call in &selected {
                let date = call
                    .started_at
                    .with_timezone(&zone)
                    .date_naive()
                    .to_string();
                expected
                    .entry((date, call.campaign.unwrap()))
                    .or_default()
                    .push(call);
            }
            let days = history["days"].as_array().unwrap();
            let listed: Vec<(String, i64)> = days
                .iter()
                .map(|d| {
                    (
                        d["date"].as_str().unwrap().to_owned(),
                        d["campaign_id"].as_i64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                listed,
                expected.keys().cloned().collect::<Vec<_>>(),
                "{query}"
            );
            for (day, (_, calls)) in days.iter().zip(&expected) {
                assert_figures(&day["figures"], &recount(calls.iter().copied()));
            }
            let summed: u64 = days
                .iter()
                .map(|d| d["figures"]["calls"].as_u64().unwrap())
                .sum();
            assert_eq!(summed, selected.len() as u64, "every call once: {query}");
            assert_figures(&history["totals"], &recount(selected.iter().copied()));
            selected.len()
        }
    };
    let everything = check("2026-11-01", "2026-12-01", None).await;
    assert_eq!(everything, data.calls.len());
    let middle = check("2026-11-23", "2026-11-25", None).await;
    assert!(middle > 0 && middle < everything);
    check("2026-11-22", "2026-11-26", Some(vec![data.survey])).await;
    check(
        "2026-11-22",
        "2026-11-23",
        Some(vec![data.winter, data.survey]),
    )
    .await;
    assert_eq!(check("2026-10-01", "2026-10-31", None).await, 0);
}

#[tokio::test]
async fn history_requests_are_checked() {
    let app = TestApp::new();
    let ana = app.login_as("ana", Role::Analyst).await;
    for (query, field) in [
        ("from=2026-11-25&to=2026-11-01", "to"),
        ("from=2026-11-25&to=2026-11-24", "to"),
        ("from=2026-01-01&to=2027-02-06", "to"),
        ("from=1/11/2026&to=2026-12-01", "from"),
        ("from=2026-11-01&to=december", "to"),
        (
            "from=2026-11-01&to=2026-12-01&campaigns=1,winter",
            "campaigns",
        ),
    ] {
        ana.get(&format!("/api/v1/reports/history?{query}"))
            .await
            .expect_fields(&[field]);
    }
    ana.get("/api/v1/reports/history?from=2026-01-01&to=2027-02-05")
        .await
        .expect(StatusCode::OK);
    ana.get("/api/v1/reports/history?from=2026-11-01")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

/// Property 47 (campaign comparison correctness), at the API: each column of a
/// comparison is exactly that campaign's own report over the same period, and
/// the leaders are the columns with the best rate.
#[tokio::test]
async fn property_47_each_column_equals_the_campaigns_own_report() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let empty = app.create_campaign(&mia, json!({"name": "ריק"})).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    for period in ["", "&from=2026-11-23&to=2026-11-25"] {
        let ids = [data.survey, data.winter, empty];
        let comparison = ana
            .get(&format!(
                "/api/v1/reports/compare?campaigns={},{},{}{period}",
                ids[0], ids[1], ids[2]
            ))
            .await
            .expect(StatusCode::OK);
        let columns = comparison["columns"].as_array().unwrap();
        assert_eq!(columns.len(), 3);
        let mut answer_rates = Vec::new();
        for (column, id) in columns.iter().zip(ids) {
            let own = ana
                .get(&format!(
                    "/api/v1/campaigns/{id}/report?{}",
                    &period.trim_start_matches('&')
                ))
                .await
                .expect(StatusCode::OK);
            assert_eq!(column["campaign"], own["campaign"]);
            assert_eq!(column["figures"], own["figures"], "campaign {id} {period}");
            assert_eq!(column["talk_ms"], own["talk_ms"]);
            assert_eq!(column["outcomes"], own["outcomes"]);
            answer_rates.push(own["figures"]["answer_rate"].as_f64());
        }
        assert_eq!(
            comparison["from"],
            if period.is_empty() {
                Value::Null
            } else {
                json!("2026-11-22T22:00:00Z")
            }
        );
        // The leader on answer rate is the column with the highest (an empty
        // campaign has none and cannot lead).
        let best = answer_rates
            .iter()
            .flatten()
            .cloned()
            .fold(f64::MIN, f64::max);
        let leaders: Vec<usize> = answer_rates
            .iter()
            .enumerate()
            .filter(|(_, rate)| **rate == Some(best))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            comparison["leaders"]["answer_rate"],
            json!(leaders),
            "{period}"
        );
    }
}

#[tokio::test]
async fn compare_requests_are_checked() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let (a, b) = (data.winter, data.survey);
    let eleven: Vec<String> = (1..=11).map(|i| i.to_string()).collect();
    for (query, field) in [
        (format!("campaigns={a}"), "campaigns"),
        (format!("campaigns={a},{a}"), "campaigns"),
        (format!("campaigns={}", eleven.join(",")), "campaigns"),
        (format!("campaigns={a},winter"), "campaigns"),
        ("campaigns=".to_owned(), "campaigns"),
        (format!("campaigns={a},{b}&from=someday"), "from"),
        (
            format!("campaigns={a},{b}&from=2026-11-25&to=2026-11-24"),
            "to",
        ),
    ] {
        ana.get(&format!("/api/v1/reports/compare?{query}"))
            .await
            .expect_fields(&[field]);
    }
    ana.get(&format!("/api/v1/reports/compare?campaigns={a},999"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    ana.get("/api/v1/reports/compare")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

/// Property 46 for the dashboard's chart, at the API: a timeline counts every
/// call started in its period once, in the slice it started in; its slices tile
/// the period, empty ones included, and add up to its totals — which equal the
/// same period's history.
#[tokio::test]
async fn property_46_a_timeline_slices_its_period_and_adds_up() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let data = dataset(&app, &mia).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let (from, to) = (at("2026-11-22T04:00:00Z"), at("2026-11-23T04:00:00Z"));
    for (step, campaigns) in [(3_600i64, None), (7_200, Some(data.winter)), (60, None)] {
        let mut query = format!(
            "from={}&to={}&step_seconds={step}",
            from.to_rfc3339(),
            to.to_rfc3339()
        )
        .replace('+', "%2B");
        if let Some(id) = campaigns {
            query.push_str(&format!("&campaigns={id}"));
        }
        let timeline = ana
            .get(&format!("/api/v1/reports/timeline?{query}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(timeline["step_seconds"], step);
        let slices = timeline["slices"].as_array().unwrap();
        assert_eq!(slices.len() as i64, 24 * 3_600 / step);
        let mut edge = from;
        for slice in slices {
            let start: DateTime<Utc> = slice["start"].as_str().unwrap().parse().unwrap();
            let end: DateTime<Utc> = slice["end"].as_str().unwrap().parse().unwrap();
            assert_eq!(start, edge, "slices tile the period");
            assert_eq!(end - start, Duration::seconds(step));
            let inside = data.calls.iter().filter(|c| {
                in_period(c, start, end) && campaigns.is_none_or(|id| c.campaign == Some(id))
            });
            assert_eq!(slice["figures"], recount(inside), "slice from {start}");
            edge = end;
        }
        assert_eq!(edge, to);
        let period = data.calls.iter().filter(|c| {
            in_period(c, from, to) && campaigns.is_none_or(|id| c.campaign == Some(id))
        });
        assert_eq!(timeline["totals"], recount(period));
    }

    // By default: the last hour in 5-minute slices, ending now.
    let recent = ana
        .get("/api/v1/reports/timeline")
        .await
        .expect(StatusCode::OK);
    assert_eq!(recent["step_seconds"], 300);
    assert_eq!(recent["slices"].as_array().unwrap().len(), 12);
    let end: DateTime<Utc> = recent["to"].as_str().unwrap().parse().unwrap();
    assert!((Utc::now() - end).num_seconds().abs() < 3_600, "{end}");
    assert_eq!(recent["totals"]["calls"], 0);
}

#[tokio::test]
async fn timeline_requests_are_checked() {
    let app = TestApp::new();
    let ana = app.login_as("ana", Role::Analyst).await;
    for (query, field) in [
        ("step_seconds=59", "step_seconds"),
        ("step_seconds=86401", "step_seconds"),
        (
            "from=2026-11-01&to=2026-12-01&step_seconds=60",
            "step_seconds",
        ),
        ("from=2026-11-25&to=2026-11-01", "to"),
        ("from=yesterday", "from"),
        ("campaigns=1,winter", "campaigns"),
    ] {
        ana.get(&format!("/api/v1/reports/timeline?{query}"))
            .await
            .expect_fields(&[field]);
    }
    ana.get("/api/v1/reports/timeline?from=2026-11-01&to=2026-12-01&step_seconds=3600")
        .await
        .expect(StatusCode::OK);
}

/// Issue 18, item 9 (and property 46: a period's calls without omissions):
/// "until 2026-12-07" includes all of 7 December in Israel, in every endpoint
/// and export: a call at 23:59 that day is counted and listed, one at 00:00 on
/// the 8th is not, nor one at 23:59 on the 6th (before "from").
#[tokio::test]
async fn until_a_date_includes_that_whole_day_everywhere() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let winter = app.create_campaign(&mia, json!({"name": WINTER})).await;
    let survey = app.create_campaign(&mia, json!({"name": SURVEY})).await;
    // Israel is UTC+2 in December.
    let calls = [
        ("before", "+972525557001", "2026-12-06T21:59:00Z"),
        ("last-minute", "+972525557002", "2026-12-07T21:59:00Z"),
        ("next-day", "+972525557003", "2026-12-07T22:00:00Z"),
    ];
    for (id, number, started) in calls {
        for campaign in [winter, survey] {
            let mut call = Call::new(
                &format!("{id}-{campaign}"),
                campaign,
                number,
                started,
                CallOutcome::Answered,
            );
            call.started_at = at(started);
            app.record_call(&call);
        }
    }
    let period = "from=2026-12-07&to=2026-12-07";

    let listed = mia
        .get(&format!("/api/v1/calls?campaign={winter}&{period}"))
        .await
        .expect(StatusCode::OK);
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| call["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [format!("last-minute-{winter}")], "the calls list");

    let report = mia
        .get(&format!("/api/v1/campaigns/{winter}/report?{period}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(report["figures"]["calls"], 1, "the report");
    assert_eq!(report["to"], "2026-12-07T22:00:00Z");

    let history = mia
        .get(&format!("/api/v1/reports/history?{period}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(history["totals"]["calls"], 2, "the history (two campaigns)");

    let compare = mia
        .get(&format!(
            "/api/v1/reports/compare?campaigns={winter},{survey}&{period}"
        ))
        .await
        .expect(StatusCode::OK);
    for column in compare["columns"].as_array().unwrap() {
        assert_eq!(column["figures"]["calls"], 1, "the comparison");
    }

    let timeline = mia
        .get(&format!(
            "/api/v1/reports/timeline?{period}&step_seconds=3600"
        ))
        .await
        .expect(StatusCode::OK);
    assert_eq!(timeline["totals"]["calls"], 2, "the timeline");

    let export = |format: &'static str| {
        let mia = &mia;
        async move {
            let response = mia
                .get(&format!(
                    "/api/v1/campaigns/{winter}/report/export?format={format}&lang=he&{period}"
                ))
                .await;
            response.expect(StatusCode::OK);
            response.body.to_vec()
        }
    };
    let csv = String::from_utf8(export("csv").await).unwrap();
    assert!(
        csv.contains("052-5557002"),
        "the CSV lists the 23:59 call:\n{csv}"
    );
    assert!(!csv.contains("052-5557003"), "{csv}");
    assert!(!csv.contains("052-5557001"), "{csv}");
    assert_eq!(csv.lines().count(), 2, "a header and one call:\n{csv}");

    let xlsx = export("xlsx").await;
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    use calamine::Reader;
    let calls_sheet = workbook.worksheet_range("שיחות").unwrap();
    assert_eq!(
        calls_sheet.height(),
        2,
        "the workbook: a header and one call"
    );

    for format in ["pdf", "summary"] {
        let text = pdf_text(&export(format).await);
        assert!(text.contains("עד תאריך (כולל)"), "{format}: {text}");
        assert!(text.contains("07/12/2026"), "{format}: {text}");
        // Issue 18, item 13: the contacts and those reached, for a manager.
        assert!(text.contains("אנשי קשר שענו"), "{format}: {text}");
        if format == "pdf" {
            assert!(text.contains("052-5557002"), "{text}");
            assert!(!text.contains("052-5557003"), "{text}");
        }
    }
}

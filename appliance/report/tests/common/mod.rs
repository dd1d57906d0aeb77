//! Realistic call records for the tests: Israeli numbers in libphonenumber-valid
//! ranges, every outcome (and unknown ones), calls still in progress, instants
//! with sub-millisecond digits.

#![allow(dead_code)]

use std::convert::Infallible;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use shofar_report::{CallOutcome, CallRow, CampaignInfo, Stored};

pub fn ok_rows(rows: &[CallRow]) -> impl Iterator<Item = Result<CallRow, Infallible>> + '_ {
    rows.iter().cloned().map(Ok)
}

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("a test instant")
}

pub fn campaign(id: i64, name: &str) -> CampaignInfo {
    CampaignInfo {
        id,
        name: name.to_owned(),
        kind: "voice".to_owned(),
        purpose: "donation".to_owned(),
        status: "completed".to_owned(),
        created_at: at("2026-11-01T08:00:00Z"),
    }
}

/// A call that ended with `outcome` (or is still in progress: `None`).
pub fn call(call_id: &str, number: &str, outcome: Option<&str>, started_at: &str) -> CallRow {
    let started = at(started_at);
    let answered = outcome == Some(CallOutcome::Answered.as_str());
    let ended = outcome.is_some();
    CallRow {
        call_id: call_id.to_owned(),
        campaign_id: Some(12),
        number: number.to_owned(),
        attempt: 1,
        outcome: outcome.map(Stored::parse),
        started_at: started,
        answered_at: answered.then(|| started + Duration::seconds(7)),
        ended_at: ended.then(|| started + Duration::seconds(if answered { 95 } else { 30 })),
        duration_ms: ended.then_some(if answered { 95_000 } else { 30_000 }),
        talk_ms: answered.then_some(88_000),
        dtmf: if answered {
            "1".to_owned()
        } else {
            String::new()
        },
        converted: false,
        opted_out: false,
        hangup_cause: ended.then(|| "normal clearing".to_owned()),
    }
}

/// Twelve calls of campaign 12 with every outcome, one in progress, one that
/// converted and one that opted out.
pub fn sample_calls() -> Vec<CallRow> {
    let mut calls = vec![
        call(
            "call-0001",
            "+972525551234",
            Some("answered"),
            "2026-11-22T10:05:00.123Z",
        ),
        call(
            "call-0002",
            "+97236123456",
            Some("answered"),
            "2026-11-22T10:06:10.500Z",
        ),
        call(
            "call-0003",
            "+972525551235",
            Some("voicemail"),
            "2026-11-22T10:07:00Z",
        ),
        call(
            "call-0004",
            "+972525551236",
            Some("busy"),
            "2026-11-22T10:08:00Z",
        ),
        call(
            "call-0005",
            "+97236123457",
            Some("no_answer"),
            "2026-11-22T10:09:00Z",
        ),
        call(
            "call-0006",
            "+972525551237",
            Some("congestion"),
            "2026-11-22T10:10:00Z",
        ),
        call(
            "call-0007",
            "+972525551238",
            Some("rejected"),
            "2026-11-22T10:11:00Z",
        ),
        call(
            "call-0008",
            "+97236123458",
            Some("failed"),
            "2026-11-22T10:12:00Z",
        ),
        call(
            "call-0009",
            "+972525551239",
            Some("blacklisted"),
            "2026-11-22T10:13:00Z",
        ),
        call(
            "call-0010",
            "+972525551240",
            Some("answered"),
            "2026-11-23T09:00:00Z",
        ),
        call("call-0011", "+972525551241", None, "2026-11-23T09:01:00Z"),
        call(
            "call-0012",
            "+972525551242",
            Some("answered"),
            "2026-11-23T09:02:00Z",
        ),
    ];
    calls[0].converted = true;
    calls[0].dtmf = "1#".to_owned();
    calls[1].opted_out = true;
    calls[1].dtmf = "9".to_owned();
    calls[1].attempt = 2;
    calls
}

/// Israeli numbers libphonenumber accepts: 052-555-xxxx mobiles and 03-61x-xxxx
/// Tel Aviv lines.
pub fn israeli_number() -> impl Strategy<Value = String> {
    prop_oneof!["\\+97252555[0-9]{4}", "\\+972361[0-9]{5}"]
}

pub fn any_outcome() -> impl Strategy<Value = Option<Stored<CallOutcome>>> {
    prop_oneof![
        2 => Just(None),
        10 => proptest::sample::select(CallOutcome::ALL.to_vec()).prop_map(|o| Some(o.into())),
        // Outcomes a later version might add: counted under their own name.
        1 => "[a-z_]{1,10}".prop_map(|name| Some(Stored::parse(&name))),
    ]
}

/// An instant in 2025–2027 with sub-millisecond digits.
pub fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let end = Utc
        .with_ymd_and_hms(2028, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (start..end, 0u32..1_000_000_000)
        .prop_map(|(seconds, nanos)| DateTime::from_timestamp(seconds, nanos).unwrap())
}

/// Calls with unique ids, of campaigns 1 to 4 (or none).
pub fn calls(max: usize) -> impl Strategy<Value = Vec<CallRow>> {
    let one = (
        proptest::option::weighted(0.95, 1i64..5),
        israeli_number(),
        1u32..5,
        any_outcome(),
        instant(),
        proptest::option::of(0i64..600_000),
        proptest::option::of(0i64..3_600_000),
        "[0-9*#]{0,6}",
        any::<bool>(),
        any::<bool>(),
        // Causes with commas, quotes, newlines and Hebrew: CSV quoting must hold.
        proptest::option::of("[a-zA-Z ,\"\n\u{5d0}-\u{5ea}]{0,16}"),
    );
    proptest::collection::vec(one, 0..max).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(
                |(
                    index,
                    (
                        campaign_id,
                        number,
                        attempt,
                        outcome,
                        started_at,
                        ring,
                        talk,
                        dtmf,
                        converted,
                        opted_out,
                        cause,
                    ),
                )| {
                    let ended = outcome.is_some();
                    let answered = outcome == Some(CallOutcome::Answered.into());
                    let answered_at =
                        (answered).then(|| started_at + Duration::milliseconds(ring.unwrap_or(0)));
                    let talk_ms = answered.then(|| talk.unwrap_or(0));
                    let duration_ms = ended.then(|| ring.unwrap_or(0) + talk_ms.unwrap_or(0));
                    CallRow {
                        call_id: format!("1795000000.{index:06}"),
                        campaign_id,
                        number,
                        attempt,
                        outcome,
                        started_at,
                        answered_at,
                        ended_at: duration_ms.map(|ms| started_at + Duration::milliseconds(ms)),
                        duration_ms,
                        talk_ms,
                        dtmf,
                        converted,
                        opted_out,
                        hangup_cause: cause,
                    }
                },
            )
            .collect()
    })
}

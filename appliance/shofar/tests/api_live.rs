//! `/api/v1/live` end to end, as a dashboard meets it (issue: "starts a simulated
//! campaign and checks figures arrive and agree with the database"): `shofar
//! serve --simulate` dials a campaign of a few hundred generated contacts on a
//! sped-up simulator while an analyst's API token watches the WebSocket.
//!
//! - a first snapshot arrives at once, and more keep arriving while it dials, with
//!   the campaign's figures growing;
//! - in every snapshot the campaign's figures merge to `totals` (properties 41
//!   and 42: outcome counts per campaign, and the box-wide view as their merge);
//! - after `shofar campaign pause` and the calls up have ended, the snapshot's
//!   counts per outcome are exactly a count of the call records in the database;
//! - a socket without a login is refused with 401.
//!
//! No wall-clock figure is asserted; every wait is bounded and says what did
//! not happen.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

mod support;
use support::{SIMULATED, TestBox, generated_contacts, serve};

const CONTACTS: usize = 300;

/// The campaign, open around the clock (`TestBox::campaign_around_the_clock`).
const CAMPAIGN: &str =
    "name = \"live\"\nmax_attempts = 1\npacing.cps = 10\npacing.max_channels = 40\n";

/// A campaign's figures as the snapshot and the database both say them.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    calls: u64,
    in_call: u64,
    by_outcome: BTreeMap<String, u64>,
    dialed: u64,
    answered: u64,
    converted: u64,
    opted_out: u64,
}

fn count(figures: &Value, field: &str) -> u64 {
    figures[field]
        .as_u64()
        .unwrap_or_else(|| panic!("figures.{field} is not a count: {figures}"))
}

fn counts(figures: &Value) -> Counts {
    Counts {
        calls: count(figures, "calls"),
        in_call: count(figures, "in_call"),
        by_outcome: figures["by_outcome"]
            .as_object()
            .unwrap_or_else(|| panic!("figures.by_outcome is not an object: {figures}"))
            .iter()
            .map(|(outcome, n)| (outcome.clone(), n.as_u64().unwrap()))
            .collect(),
        dialed: count(figures, "dialed"),
        answered: count(figures, "answered"),
        converted: count(figures, "converted"),
        opted_out: count(figures, "opted_out"),
    }
}

fn rate(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn same_rate(found: &Value, expected: Option<f64>) -> bool {
    match (found.as_f64(), expected) {
        (None, None) => found.is_null(),
        (Some(found), Some(expected)) => (found - expected).abs() < 1e-12,
        _ => false,
    }
}

/// Properties 41 and 42: the campaigns' figures, merged, are `totals` — every
/// count summed, outcome by outcome — and the rates are those of the merged counts.
fn check_totals_are_the_merge(snapshot: &Value) {
    let mut merged = Counts::default();
    for campaign in snapshot["campaigns"].as_array().unwrap() {
        let part = counts(&campaign["figures"]);
        merged.calls += part.calls;
        merged.in_call += part.in_call;
        for (outcome, n) in part.by_outcome {
            *merged.by_outcome.entry(outcome).or_default() += n;
        }
        merged.dialed += part.dialed;
        merged.answered += part.answered;
        merged.converted += part.converted;
        merged.opted_out += part.opted_out;
    }
    let totals = &snapshot["totals"];
    assert_eq!(
        counts(totals),
        merged,
        "snapshot {}: totals are not the campaigns' figures merged",
        snapshot["seq"]
    );
    for (field, expected) in [
        ("answer_rate", rate(merged.answered, merged.dialed)),
        ("conversion_rate", rate(merged.converted, merged.answered)),
        ("opt_out_rate", rate(merged.opted_out, merged.answered)),
    ] {
        assert!(
            same_rate(&totals[field], expected),
            "snapshot {}: totals.{field} is {}, the merged counts give {expected:?}",
            snapshot["seq"],
            totals[field]
        );
    }
}

fn campaign<'a>(snapshot: &'a Value, name: &str) -> Option<&'a Value> {
    snapshot["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next snapshot, within `wait`.
async fn next_snapshot(socket: &mut Socket, wait: Duration, what: &str) -> Value {
    let deadline = Instant::now() + wait;
    loop {
        let message = timeout(
            deadline.saturating_duration_since(Instant::now()),
            socket.next(),
        )
        .await
        .unwrap_or_else(|_| panic!("no snapshot within {wait:?}: {what}"))
        .unwrap_or_else(|| panic!("the live socket closed: {what}"))
        .unwrap_or_else(|error| panic!("the live socket failed ({error}): {what}"));
        if let Message::Text(text) = message {
            let snapshot: Value = serde_json::from_str(&text).unwrap();
            check_totals_are_the_merge(&snapshot);
            return snapshot;
        }
    }
}

/// Reads (and checks) the snapshots that arrive within `wait`.
async fn drain(socket: &mut Socket, wait: Duration) {
    let deadline = Instant::now() + wait;
    while let Ok(Some(message)) = timeout(
        deadline.saturating_duration_since(Instant::now()),
        socket.next(),
    )
    .await
    {
        if let Message::Text(text) = message.unwrap() {
            check_totals_are_the_merge(&serde_json::from_str(&text).unwrap());
        }
    }
}

/// What the call records of `campaign` say, read straight from the database.
fn database_counts(database: &std::path::Path, campaign: i64) -> Counts {
    let db = rusqlite::Connection::open_with_flags(
        database,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    let one = |sql: &str| -> u64 {
        db.query_row(sql, [campaign], |row| row.get::<_, i64>(0))
            .unwrap() as u64
    };
    let mut by_outcome = BTreeMap::new();
    let mut statement = db
        .prepare(
            "SELECT coalesce(outcome, 'unknown'), count(*) FROM call_records
              WHERE campaign_id = ?1 AND status = 'ended' GROUP BY 1",
        )
        .unwrap();
    let rows = statement
        .query_map([campaign], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .unwrap();
    for row in rows {
        let (outcome, n) = row.unwrap();
        by_outcome.insert(outcome, n as u64);
    }
    Counts {
        calls: one("SELECT count(*) FROM call_records WHERE campaign_id = ?1"),
        in_call: one(
            "SELECT count(*) FROM call_records WHERE campaign_id = ?1 AND status != 'ended'",
        ),
        dialed: one("SELECT count(*) FROM call_records
              WHERE campaign_id = ?1 AND status = 'ended'
                AND coalesce(outcome, 'unknown') != 'blacklisted'"),
        answered: by_outcome.get("answered").copied().unwrap_or(0),
        by_outcome,
        converted: one("SELECT count(*) FROM call_records
              WHERE campaign_id = ?1 AND status = 'ended' AND converted != 0"),
        opted_out: one("SELECT count(*) FROM call_records
              WHERE campaign_id = ?1 AND status = 'ended' AND opted_out != 0"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_figures_arrive_grow_merge_and_equal_the_call_records() {
    let test_box = TestBox::new(SIMULATED);
    test_box.campaign_around_the_clock(CAMPAIGN, &generated_contacts(CONTACTS, 41));
    test_box.ok(&["campaign", "start", "live"], "");
    let token = test_box.user_token("watcher", "analyst");
    let served = serve(&test_box);
    let url = format!(
        "ws://{}/api/v1/live",
        served.address.trim_start_matches("http://")
    );

    // Without a login: refused before the upgrade.
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(WsError::Http(response)) => assert_eq!(
            response.status(),
            401,
            "an anonymous socket: {:?}",
            response.body().as_deref().map(String::from_utf8_lossy)
        ),
        Err(other) => panic!("an anonymous socket failed otherwise: {other}"),
        Ok(_) => panic!("an anonymous socket was accepted"),
    }

    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);

    // A snapshot at once, without waiting for a change.
    let first = next_snapshot(&mut socket, Duration::from_secs(10), "the first one").await;
    let mut seq = first["seq"].as_u64().unwrap();

    // While it dials: snapshots keep coming, in order, and the campaign's figures
    // never shrink and grow past a few dozen calls.
    let mut calls = 0;
    let mut snapshots = 1;
    let mut campaign_id = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while calls < 40 || snapshots < 10 {
        assert!(
            Instant::now() < deadline,
            "after {snapshots} snapshots the campaign shows {calls} calls, not 40"
        );
        let snapshot = next_snapshot(&mut socket, Duration::from_secs(10), "while dialing").await;
        snapshots += 1;
        let next_seq = snapshot["seq"].as_u64().unwrap();
        assert!(next_seq > seq, "seq went from {seq} to {next_seq}");
        seq = next_seq;
        let Some(live) = campaign(&snapshot, "live") else {
            panic!("the running campaign is missing from snapshot {snapshot}");
        };
        campaign_id = live["id"].as_i64();
        let now = count(&live["figures"], "calls");
        assert!(
            now >= calls,
            "the campaign's calls went from {calls} to {now}"
        );
        calls = now;
    }
    let campaign_id = campaign_id.expect("the campaign has an id");

    // Pause, then wait until the calls up have ended and nothing has been written
    // for a while.
    test_box.ok(&["campaign", "pause", "live"], "");
    let database = test_box.data().join("shofar.db");
    let quiet_deadline = Instant::now() + Duration::from_secs(120);
    let mut last = database_counts(&database, campaign_id);
    let mut steady = 0;
    while last.in_call > 0 || steady < 4 {
        assert!(
            Instant::now() < quiet_deadline,
            "the paused campaign's calls did not end: {last:?}"
        );
        // Keep reading the socket meanwhile, checking each snapshot's totals.
        drain(&mut socket, Duration::from_millis(500)).await;
        let now = database_counts(&database, campaign_id);
        steady = if now == last { steady + 1 } else { 0 };
        last = now;
    }
    let settled_at = chrono::Utc::now();

    // The first snapshot made after that says exactly what the records say.
    let final_deadline = Instant::now() + Duration::from_secs(30);
    let snapshot = loop {
        assert!(
            Instant::now() < final_deadline,
            "no snapshot made after the calls ended"
        );
        let snapshot = next_snapshot(&mut socket, Duration::from_secs(15), "after the pause").await;
        let at: chrono::DateTime<chrono::Utc> = snapshot["at"].as_str().unwrap().parse().unwrap();
        if at > settled_at {
            break snapshot;
        }
    };
    let live = campaign(&snapshot, "live").expect("a paused campaign stays in the snapshot");
    assert_eq!(live["running"], false, "paused: {live}");
    let database = database_counts(&database, campaign_id);
    assert_eq!(database.in_call, 0);
    assert!(database.calls >= 40, "{database:?}");
    assert_eq!(
        counts(&live["figures"]),
        database,
        "the live figures after the pause against the call records"
    );
    drop(served);
}

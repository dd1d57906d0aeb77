//! How fresh the live figures are when they reach a client (REQUIREMENTS §4:
//! "dashboard event → browser ≤ 500 ms"; `make bench-api`).
//!
//! Connects to `/api/v1/live` of a running box with an API token, as the
//! dashboard does, and notes when each snapshot arrives and the call counts it
//! carries (`totals.calls`: records started; `calls − in_call`: records ended).
//! Afterwards it reads the call records themselves (`GET /api/v1/calls`) and times
//! every call start and end of the window: the k-th start reached the client with
//! the first snapshot counting k calls, so its latency is that snapshot's arrival
//! minus the record's `started_at` (ends alike, by `ended_at`). Also:
//!
//! - `receive − at`: a snapshot's way from being made to the client;
//! - `receive − last_event_at`, for snapshots carrying a newer event than the
//!   one before: the newest event's way to the client;
//! - snapshots per second.
//!
//! Times are the box's clock against this machine's: run it on the box. Prints one
//! JSON line with p50, p99 and max of each.
//!
//! ```sh
//! cargo run --release -p shofar-web --example live_freshness -- \
//!     --url http://127.0.0.1:8080 --token shofar_… --seconds 60
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Args {
    url: String,
    token: String,
    seconds: u64,
}

fn args() -> Result<Args, String> {
    let mut url = None;
    let mut token = std::env::var("SHOFAR_TOKEN").ok();
    let mut seconds = 60;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--token" => token = Some(value()?),
            "--seconds" => {
                seconds = value()?
                    .parse()
                    .map_err(|_| "--seconds takes a whole number")?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        url: url
            .ok_or("--url http://HOST:PORT is required")?
            .trim_end_matches('/')
            .to_owned(),
        token: token.ok_or("--token (or SHOFAR_TOKEN) is required")?,
        seconds,
    })
}

/// p50, p99 and max in milliseconds, and how many.
fn summary(mut values: Vec<f64>) -> Value {
    if values.is_empty() {
        return json!({"n": 0});
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    let round = |v: f64| (v * 10.0).round() / 10.0;
    json!({
        "n": values.len(),
        "p50_ms": round(at(0.50)),
        "p99_ms": round(at(0.99)),
        "max_ms": round(values[values.len() - 1]),
    })
}

fn stamp(value: &Value, field: &str) -> Option<DateTime<Utc>> {
    value[field].as_str().and_then(|text| text.parse().ok())
}

fn millis(later: DateTime<Utc>, earlier: DateTime<Utc>) -> f64 {
    (later - earlier).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

/// A snapshot as it arrived.
struct Seen {
    received: DateTime<Utc>,
    /// Call records started, and ended, that it counts.
    started: u64,
    ended: u64,
}

/// For the k-th event (k > what the first snapshot counted, up to what the last
/// counted): the first snapshot counting k, minus the event's time.
fn event_latencies(
    times: &[DateTime<Utc>],
    seen: &[Seen],
    count: impl Fn(&Seen) -> u64,
) -> Vec<f64> {
    let (Some(first), Some(last)) = (seen.first(), seen.last()) else {
        return Vec::new();
    };
    let mut latencies = Vec::new();
    let mut next = 0;
    for k in count(first) + 1..=count(last).min(times.len() as u64) {
        while count(&seen[next]) < k {
            next += 1;
        }
        latencies.push(millis(seen[next].received, times[k as usize - 1]));
    }
    latencies
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("live_freshness: {message}");
            std::process::exit(2);
        }
    };
    if let Err(message) = run(args).await {
        eprintln!("live_freshness: {message}");
        std::process::exit(2);
    }
}

async fn get(http: &reqwest::Client, args: &Args, path: &str) -> Result<Value, String> {
    let fail = |error: reqwest::Error| format!("GET {path}: {error}");
    http.get(format!("{}{path}", args.url))
        .bearer_auth(&args.token)
        .send()
        .await
        .map_err(fail)?
        .error_for_status()
        .map_err(fail)?
        .json()
        .await
        .map_err(fail)
}

/// Every campaign call's start and end times, each sorted.
async fn call_times(
    http: &reqwest::Client,
    args: &Args,
) -> Result<(Vec<DateTime<Utc>>, Vec<DateTime<Utc>>), String> {
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    for page in 1.. {
        let path = format!("/api/v1/calls?sort=started_at&per_page=500&page={page}");
        let body = get(http, args, &path).await?;
        for call in body["items"].as_array().ok_or("calls: no items")? {
            if call["campaign_id"].is_null() {
                continue;
            }
            starts.extend(stamp(call, "started_at"));
            ends.extend(stamp(call, "ended_at"));
        }
        if page >= body["pages"].as_u64().unwrap_or(0) {
            break;
        }
    }
    starts.sort();
    ends.sort();
    Ok((starts, ends))
}

async fn run(args: Args) -> Result<(), String> {
    // A workspace build gives reqwest rustls without a provider: install ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    // The token works and the box is dialing: else the figures mean nothing.
    let status = get(&http, &args, "/api/v1/status").await?;
    if !status["campaigns"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["running"] == true))
    {
        eprintln!("live_freshness: warning: no campaign is running; events will be rare");
    }

    let ws_url = format!(
        "{}/api/v1/live",
        args.url
            .replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1)
    );
    let mut request = ws_url
        .as_str()
        .into_client_request()
        .map_err(|error| format!("{ws_url}: {error}"))?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", args.token)
            .parse()
            .map_err(|_| "the token is not a valid header value")?,
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|error| format!("{ws_url}: {error}"))?;

    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut delivery = Vec::new();
    let mut newest_event = Vec::new();
    let mut seen = Vec::new();
    let mut previous_event: Option<Option<DateTime<Utc>>> = None;
    while let Ok(message) = tokio::time::timeout_at(deadline, socket.next()).await {
        let message = match message {
            Some(Ok(message)) => message,
            Some(Err(error)) => return Err(format!("the live socket failed: {error}")),
            None => return Err("the live socket closed".into()),
        };
        let received = Utc::now();
        let Message::Text(text) = message else {
            continue;
        };
        let snapshot: Value =
            serde_json::from_str(&text).map_err(|error| format!("not a snapshot: {error}"))?;
        let at = stamp(&snapshot, "at").ok_or("a snapshot without `at`")?;
        let last_event_at = stamp(&snapshot, "last_event_at");
        let calls = snapshot["totals"]["calls"].as_u64().unwrap_or(0);
        let in_call = snapshot["totals"]["in_call"].as_u64().unwrap_or(0);
        seen.push(Seen {
            received,
            started: calls,
            ended: calls.saturating_sub(in_call),
        });
        // The first message is the snapshot current at connection: old by design.
        if let Some(before) = previous_event {
            delivery.push(millis(received, at));
            if let Some(event) = last_event_at
                && before.is_none_or(|before| event > before)
            {
                newest_event.push(millis(received, event));
            }
        }
        previous_event = Some(last_event_at);
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(socket);

    let (starts, ends) = call_times(&http, &args).await?;
    let start_latency = event_latencies(&starts, &seen, |s| s.started);
    let end_latency = event_latencies(&ends, &seen, |s| s.ended);
    let mut every_event = start_latency.clone();
    every_event.extend(&end_latency);
    let line = json!({
        "seconds": (seconds * 10.0).round() / 10.0,
        "snapshots": seen.len(),
        "snapshots_per_second": ((seen.len() as f64 / seconds) * 100.0).round() / 100.0,
        "event_to_client": summary(every_event),
        "call_start_to_client": summary(start_latency),
        "call_end_to_client": summary(end_latency),
        "receive_minus_at": summary(delivery),
        "receive_minus_last_event_at": summary(newest_event),
    });
    println!("{line}");
    Ok(())
}

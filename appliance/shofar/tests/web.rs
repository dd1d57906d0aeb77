//! The web API as a user meets it through the binary: the first-run setup link,
//! HTTPS with the self-signed certificate and the plain-HTTP redirect, and the
//! `user` and `report` commands.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;
use support::{PASSWORD, TestBox, serve};

const PLAIN: &str = r#"
[http]
listen = "127.0.0.1:0"
"#;

#[tokio::test]
async fn the_first_run_link_creates_the_first_admin_once_and_then_they_log_in() {
    let test_box = TestBox::new(PLAIN);
    let served = serve(&test_box);
    let token = served
        .printed
        .split("setup?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no setup link printed:\n{}", served.printed))
        .to_owned();
    let http = {
        shofar_ari::install_crypto_provider();
        reqwest::Client::new()
    };
    let base = &served.address;
    let needed: Value = http
        .get(format!("{base}/api/v1/setup"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(needed["needed"], true);
    let setup = |secret: String| {
        http.post(format!("{base}/api/v1/setup"))
            .json(&json!({"token": secret, "name": "dana", "password": PASSWORD}))
            .send()
    };
    let wrong = setup("0".repeat(48)).await.unwrap();
    assert_eq!(wrong.status(), 403);
    let created = setup(token.clone()).await.unwrap();
    assert_eq!(created.status(), 201);
    let again = setup(token).await.unwrap();
    assert_eq!(again.status(), 409, "the link works once");
    // The admin logs in as docs/api.md says, and the session works.
    let login = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"name": "dana", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains("Secure"), "no Secure flag over plain HTTP");
    let session = cookie.split(';').next().unwrap().to_owned();
    let get = |path: &str| {
        http.get(format!("{base}{path}"))
            .header("cookie", &session)
            .send()
    };
    let me: Value = get("/api/v1/session").await.unwrap().json().await.unwrap();
    assert_eq!(me["user"]["name"], "dana");
    assert_eq!(me["role"], "admin");
    // The settings say what runs: `--simulate` is the simulator, whatever the file.
    let settings: Value = get("/api/v1/settings").await.unwrap().json().await.unwrap();
    assert_eq!(settings["effective"]["dialer"]["backend"], "simulator");
    assert_eq!(settings["telephony"]["engine"], "simulator");
    // A restarted box with a user prints no link.
    drop(served);
    let restarted = serve(&test_box);
    assert!(
        !restarted.printed.contains("setup?token="),
        "{}",
        restarted.printed
    );
}

/// A free loopback port (bound, read, released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request over TLS, trusting only `ca` (the box's certificate).
fn https_get(address: &str, ca: &Path, path: &str) -> String {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = address.rsplit_once(':').unwrap().0.to_owned();
    let name = ServerName::try_from(host.clone()).unwrap();
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    let mut stream = rustls::Stream::new(&mut connection, &mut socket);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    // A close without close_notify is the server's business; what was read counts.
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn https_serves_with_its_self_signed_certificate_and_plain_http_redirects() {
    let redirect = free_port();
    let test_box = TestBox::new(&format!(
        r#"
[http]
listen = "127.0.0.1:0"
tls = true
redirect_listen = "127.0.0.1:{redirect}"
"#
    ));
    let served = serve(&test_box);
    assert!(served.address.starts_with("https://"), "{}", served.address);
    assert!(served.printed.contains("self-signed"), "{}", served.printed);
    let address = served.address.trim_start_matches("https://").to_owned();
    let cert = test_box.data().join("tls/self-signed.crt");
    // The certificate is valid for 127.0.0.1: the handshake verifies it.
    let response = https_get(&address, &cert, "/healthz");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ok\""), "{response}");
    // Security probe: HTTPS answers said nothing of HSTS.
    assert!(
        response.contains("strict-transport-security: max-age=31536000\r\n"),
        "{response}"
    );
    // Plain HTTP is sent to HTTPS, same path, on the box: security probe, a
    // forged Host was echoed into the Location.
    let port = address.rsplit_once(':').unwrap().1;
    for host in [format!("127.0.0.1:{redirect}"), "evil.example".to_owned()] {
        let mut plain = std::net::TcpStream::connect(("127.0.0.1", redirect)).unwrap();
        write!(
            plain,
            "GET /api/v1/campaigns?x=1 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        plain.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 308"), "{answer}");
        assert!(
            answer.contains(&format!(
                "location: https://127.0.0.1:{port}/api/v1/campaigns?x=1\r\n"
            )),
            "{answer}"
        );
        assert!(!answer.contains("strict-transport-security"), "{answer}");
    }
    // `shofar live` follows the box over HTTPS, trusting the certificate serve
    // made (found in the data directory), and refuses one it cannot verify.
    let token = test_box.analyst_token();
    let printed = test_box.live_json(&served.address, &token, 1);
    let snapshot: Value = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!(snapshot["backend"], "simulator", "{printed}");
    let stranger = test_box.dir.path().join("other.crt");
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    std::fs::write(&stranger, other.cert.pem()).unwrap();
    let refused = test_box.run(
        &[
            "live",
            "--url",
            &served.address,
            "--token",
            &token,
            "--ca",
            stranger.to_str().unwrap(),
            "--count",
            "1",
        ],
        "",
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("TLS handshake"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    drop(served);
}

#[test]
fn users_are_managed_from_the_shell() {
    let test_box = TestBox::new(PLAIN);
    let added = test_box.ok(
        &["user", "add", "dana", "--role", "admin", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(added.contains("added dana (admin)"), "{added}");
    let weak = test_box.run(
        &[
            "user",
            "add",
            "noa",
            "--role",
            "analyst",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_eq!(weak.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 10 characters"));
    test_box.ok(
        &[
            "user",
            "add",
            "noa",
            "--role",
            "analyst",
            "--password-stdin",
            "--locale",
            "en",
        ],
        &format!("{PASSWORD} too\n"),
    );
    let list: Value = serde_json::from_str(&test_box.ok(&["user", "list", "--json"], "")).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dana", "noa"]);
    // A token never does more than its user.
    let escalate = test_box.run(&["user", "token", "noa", "--role", "admin"], "");
    assert_eq!(escalate.status.code(), Some(2));
    let token = test_box.ok(&["user", "token", "noa", "--label", "export"], "");
    assert!(token.trim().starts_with("shofar_"), "{token}");
    // The last admin stays.
    let last = test_box.run(&["user", "remove", "dana"], "");
    assert_eq!(last.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&last.stderr).contains("last admin"));
    test_box.ok(&["user", "disable", "noa"], "");
    let list: Value = serde_json::from_str(&test_box.ok(&["user", "list", "--json"], "")).unwrap();
    assert_eq!(list[1]["disabled"], true);
}

#[test]
fn a_report_is_written_in_hebrew_with_its_totals() {
    let test_box = TestBox::new(PLAIN);
    test_box.ok(&["campaign", "create", "--name", "תרומות חורף"], "");
    {
        use shofar_store::calls::{CallEnd, CallKind, CallOutcome, NewCall};
        let mut store = shofar_store::Store::open(&test_box.data().join("shofar.db")).unwrap();
        let start = chrono::Utc::now() - chrono::Duration::hours(1);
        for (index, outcome) in [
            CallOutcome::Answered,
            CallOutcome::Answered,
            CallOutcome::Busy,
            CallOutcome::NoAnswer,
        ]
        .into_iter()
        .enumerate()
        {
            let call_id = format!("report-{index}");
            store
                .call_started(&NewCall {
                    call_id: call_id.clone(),
                    campaign: Some(shofar_store::campaigns::CampaignId(1)),
                    contact_id: None,
                    e164: "+972525551234".parse().unwrap(),
                    attempt: 1,
                    kind: CallKind::Campaign,
                    dnc_version: Some(1),
                    started_at: start + chrono::Duration::minutes(index as i64),
                })
                .unwrap();
            store
                .call_finished(
                    &call_id,
                    &CallEnd {
                        outcome: Some(outcome),
                        ended_at: Some(start + chrono::Duration::minutes(index as i64 + 1)),
                        ..CallEnd::default()
                    },
                )
                .unwrap();
        }
    }
    let out = test_box.dir.path().join("winter.pdf");
    let said = test_box.ok(
        &[
            "report",
            "1",
            "--format",
            "pdf",
            "-o",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert!(said.contains("4 calls (2 answered"), "{said}");
    let text = Command::new("pdftotext")
        .arg(&out)
        .arg("-")
        .output()
        .expect("pdftotext (Debian: apt-get install poppler-utils) reads the report back");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("תרומות חורף"), "{text}");
    assert!(text.contains("דוח קמפיין"), "{text}");
    // The one-page summary for a manager (issue 18, item 13), from the command line too.
    let summary = test_box.dir.path().join("winter-summary.pdf");
    let said = test_box.ok(
        &[
            "report",
            "1",
            "--format",
            "summary",
            "-o",
            summary.to_str().unwrap(),
        ],
        "",
    );
    assert!(said.contains("4 calls (2 answered"), "{said}");
    let text = Command::new("pdftotext")
        .arg(&summary)
        .arg("-")
        .output()
        .expect("pdftotext reads the summary back");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("סיכום קמפיין"), "{text}");
    assert!(text.contains("תרומות חורף"), "{text}");
    let csv = test_box.dir.path().join("winter.csv");
    test_box.ok(
        &[
            "report",
            "תרומות חורף",
            "--format",
            "csv",
            "--lang",
            "en",
            "-o",
            csv.to_str().unwrap(),
        ],
        "",
    );
    let lines = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        lines.lines().count(),
        5,
        "a header and one line per call:\n{lines}"
    );
    // An unknown campaign is an error that says what to do, and writes nothing.
    let missing = test_box.dir.path().join("missing.pdf");
    let failed = test_box.run(
        &[
            "report",
            "no such",
            "--format",
            "pdf",
            "-o",
            missing.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(failed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("campaign list"));
    assert!(!missing.exists());
}

/// A campaign that names a flow saved in the box (the web UI's builder) runs that
/// flow: here one that takes every person who answers off the list at once, so
/// every answered call ends opted out — the built-in flow would opt out only
/// those who press 9.
#[test]
fn a_campaign_runs_the_flow_saved_in_the_box() {
    let test_box = TestBox::new(
        r#"
[dialer]
cps = 40
max_channels = 40
grace_seconds = 2

[simulator]
time_scale = 20.0
answer_rate = 0.7
machine_rate = 0.0

[http]
listen = "127.0.0.1:0"
"#,
    );
    let mut rows = String::from("phone,first_name\n");
    for i in 0..30 {
        rows.push_str(&format!("052-555{:04},Contact {i}\n", 2000 + i));
    }
    test_box.campaign_around_the_clock(
        "name = \"saved flow\"\nmax_attempts = 1\nivr_flow = \"opt everyone out\"\n",
        &rows,
    );
    let definition = json!({
        "version": 1,
        "name": "opt everyone out",
        "start": "out",
        "nodes": {
            "out": {"type": "action", "action": {"kind": "blacklist"}, "next": "bye"},
            "bye": {"type": "action", "action": {"kind": "end_call"}}
        }
    });
    shofar_ivr::Flow::from_json(&definition.to_string()).expect("a valid flow");
    shofar_store::Store::open(&test_box.data().join("shofar.db"))
        .unwrap()
        .flow_insert("opt everyone out", &definition, "test")
        .unwrap();
    test_box.ok(&["campaign", "start", "saved flow"], "");
    let served = serve(&test_box);
    let deadline = Instant::now() + Duration::from_secs(120);
    let show = loop {
        let show: Value =
            serde_json::from_str(&test_box.ok(&["campaign", "show", "saved flow", "--json"], ""))
                .unwrap();
        if show["campaign"]["status"] == "completed" {
            break show;
        }
        assert!(
            Instant::now() < deadline,
            "the campaign did not complete: {show}\n{}",
            served.printed
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    drop(served);
    let store = shofar_store::Store::open(&test_box.data().join("shofar.db")).unwrap();
    let count = |sql: &str| -> i64 {
        store
            .connection()
            .query_row(sql, [], |row| row.get(0))
            .unwrap()
    };
    let answered = count("SELECT count(*) FROM call_records WHERE outcome = 'answered'");
    assert!(answered > 0, "some calls were answered: {show}");
    assert_eq!(
        count("SELECT count(*) FROM call_records WHERE outcome = 'answered' AND opted_out = 1"),
        answered,
        "every answered call ran the saved flow"
    );
    assert_eq!(
        count("SELECT count(*) FROM blacklist WHERE source = 'user_optout'"),
        answered,
        "each person who answered is on the list"
    );
}

/// A test call placed through the API runs through the box's engine and records;
/// a number on the do-not-call list is refused at the pre-dial check and never
/// dialed (property 10 for calls started from the web UI).
#[tokio::test]
async fn a_test_call_from_the_api_is_recorded_and_a_listed_number_is_never_dialed() {
    let test_box = TestBox::new(
        r#"
[simulator]
time_scale = 20.0

[http]
listen = "127.0.0.1:0"
"#,
    );
    test_box.ok(
        &[
            "user",
            "add",
            "mia",
            "--role",
            "manager",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    let token = test_box.ok(&["user", "token", "mia"], "").trim().to_owned();
    test_box.ok(
        &[
            "blacklist",
            "add",
            "054-5551234",
            "--reason",
            "asked not to be called",
        ],
        "",
    );
    let served = serve(&test_box);
    let http = {
        shofar_ari::install_crypto_provider();
        reqwest::Client::new()
    };
    let base = served.address.clone();
    let place = |number: &'static str| {
        http.post(format!("{base}/api/v1/calls/test"))
            .bearer_auth(&token)
            .json(&json!({"number": number}))
            .send()
    };
    let record = |call_id: String| {
        http.get(format!("{base}/api/v1/calls/{call_id}"))
            .bearer_auth(&token)
            .send()
    };
    let until_ended = |call_id: String| async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let body: Value = record(call_id.clone()).await.unwrap().json().await.unwrap();
            if body["status"] == "ended" {
                return body;
            }
            assert!(Instant::now() < deadline, "the call did not end: {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let placed = place("052-5551234").await.unwrap();
    assert_eq!(placed.status(), 202);
    let placed: Value = placed.json().await.unwrap();
    let ended = until_ended(placed["call_id"].as_str().unwrap().to_owned()).await;
    assert_eq!(ended["kind"], "test");
    assert_eq!(ended["number"], "+972525551234");
    assert_ne!(ended["outcome"], "blacklisted");

    let refused: Value = place("054-5551234").await.unwrap().json().await.unwrap();
    let ended = until_ended(refused["call_id"].as_str().unwrap().to_owned()).await;
    assert_eq!(ended["outcome"], "blacklisted", "{ended}");
    assert!(
        ended["answered_at"].is_null() && ended["dial_status"].is_null(),
        "{ended}"
    );

    let bad = place("0234").await.unwrap();
    assert_eq!(bad.status(), 422);
}

/// `shofar live` prints the live snapshots of a running box; a wrong token is
/// refused with a message that says so.
#[test]
fn shofar_live_prints_the_snapshots_of_a_running_box() {
    let test_box = TestBox::new(PLAIN);
    let token = test_box.analyst_token();
    let served = serve(&test_box);
    let printed = test_box.live_json(&served.address, &token, 2);
    let snapshots: Vec<Value> = printed
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(snapshots.len(), 2, "{printed}");
    assert!(snapshots[1]["seq"].as_u64() > snapshots[0]["seq"].as_u64());
    assert_eq!(snapshots[0]["backend"], "simulator");
    let refused = test_box.run(
        &[
            "live",
            "--url",
            &served.address,
            "--token",
            "shofar_wrong",
            "--count",
            "1",
        ],
        "",
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));
}

/// A campaign that cannot call says why on the live socket, with a code the web
/// UI words in Hebrew and the names it concerns, not only an English sentence.
#[test]
fn a_campaign_that_cannot_call_says_why_with_a_code() {
    let test_box = TestBox::new(PLAIN);
    test_box.campaign_around_the_clock(
        "name = \"no flow\"\nivr_flow = \"menu that was never saved\"\n",
        "phone\n052-5552001\n03-6123456\n",
    );
    test_box.ok(&["campaign", "start", "no flow"], "");
    let token = test_box.analyst_token();
    let served = serve(&test_box);
    let printed = test_box.live_json(&served.address, &token, 8);
    // The dialer reports it from its first plan on; the first snapshots may
    // come before.
    let last: Value = printed
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|snapshot| !snapshot["campaigns"][0]["problem_code"].is_null())
        .unwrap_or_else(|| panic!("no snapshot says the campaign cannot call:\n{printed}"));
    let campaign = &last["campaigns"][0];
    assert_eq!(campaign["name"], "no flow", "{printed}");
    assert_eq!(campaign["problem_code"], "flow_missing", "{printed}");
    assert_eq!(
        campaign["problem_names"],
        json!(["menu that was never saved"]),
        "{printed}"
    );
    assert!(
        campaign["problem"]
            .as_str()
            .is_some_and(|p| p.contains("cannot read the IVR flow")),
        "{printed}"
    );
    assert!(
        last["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "campaign_problem"),
        "{printed}"
    );
    let store = shofar_store::Store::open(&test_box.data().join("shofar.db")).unwrap();
    let calls: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM call_records", [], |row| row.get(0))
        .unwrap();
    assert_eq!(calls, 0, "nobody is called");
}

/// A `shofar.toml` with the sync agent's `[sync]` section serves (the section is
/// the agent's), and `/metrics` carries the agent's series from its status file.
#[tokio::test]
async fn a_box_with_sync_serves_and_shows_the_agent_on_metrics() {
    use shofar_store::sync::status::{Link, SyncStatus, write_status};
    let test_box = TestBox::new(&format!(
        "{PLAIN}\n[sync]\norg = \"acme\"\nbox_id = \"tlv-1\"\n[sync.mqtt]\nendpoint = \"example.invalid\"\n"
    ));
    let now = chrono::Utc::now() + chrono::Duration::seconds(30);
    let up = Link {
        connected: true,
        since: Some(now),
        last_error: None,
    };
    write_status(
        &test_box.data(),
        &SyncStatus {
            updated_at: now,
            org: "acme".into(),
            box_id: "tlv-1".into(),
            mqtt: up.clone(),
            s3: up,
            waiting_records: 3,
            counters: [("dropped_total".to_owned(), 0)].into(),
            ..SyncStatus::default()
        },
    )
    .unwrap();
    let served = serve(&test_box);
    let http = {
        shofar_ari::install_crypto_provider();
        reqwest::Client::new()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let text = http
            .get(format!("{}/metrics", served.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("shofar_sync_up") || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for line in [
        "shofar_sync_up 1",
        "shofar_sync_connected{link=\"s3\"} 1",
        "shofar_sync_waiting_records 3",
        "shofar_sync_dropped_total 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line:?} missing from\n{metrics}"
        );
    }
    // The dialer's series are still there, and the text ends once.
    assert!(metrics.contains("shofar_pace_ceiling_cps"), "{metrics}");
    assert_eq!(metrics.matches("# EOF").count(), 1);
}

//! Issue 15: `shofar serve` exited when a large list was imported while it
//! dialed — the import held the database's write lock for its whole file. Now
//! imports write in short transactions and one small commit makes them
//! visible; these tests run the real binaries on the simulator:
//!
//! - a 1,000,000-row `shofar import --create` beside a running campaign: serve
//!   keeps running and dialing during and after it, the counts are the
//!   generator's truth, and nothing of the import is visible before it ends
//!   (slow: only with `SHOFAR_SLOW_TESTS=1`, which `make test` sets);
//! - an upload through the web API into an existing campaign beside the dialer;
//! - an import killed with SIGKILL half way: nothing visible, and `shofar serve`
//!   removes what it wrote when it starts.
//!
//! No wall-clock figure is asserted; every wait is bounded and says what did
//! not happen.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use shofar_store::Store;
use shofar_testdata::{ContactsSpec, CsvEncoding, truth, write_csv};

mod support;
use support::{SIMULATED, TestBox, generated_contacts, serve};

/// A campaign that keeps dialing through a test, open around the clock
/// (`TestBox::campaign_around_the_clock`).
const CAMPAIGN: &str =
    "name = \"live\"\nmax_attempts = 1\npacing.cps = 20\npacing.max_channels = 40\n";

/// A box dialing campaign "live" (`contacts` generated contacts) once served.
fn dialing(contacts: usize) -> TestBox {
    let test_box = TestBox::new(SIMULATED);
    test_box.campaign_around_the_clock(CAMPAIGN, &generated_contacts(contacts, 7));
    test_box.ok(&["campaign", "start", "live"], "");
    test_box
}

/// A number from the box's database, read as another process would (0 before
/// there is one).
fn count(test_box: &TestBox, sql: &str) -> i64 {
    rusqlite::Connection::open_with_flags(
        test_box.data().join("shofar.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|db| db.query_row(sql, [], |row| row.get(0)))
    .unwrap_or(0)
}

fn calls(test_box: &TestBox) -> i64 {
    count(test_box, "SELECT count(*) FROM call_records")
}

/// Waits until `done` says so, or panics saying `what` did not happen.
fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn slow_tests() -> bool {
    if std::env::var_os("SHOFAR_SLOW_TESTS").is_some_and(|v| v == "1") {
        return true;
    }
    println!("skipped: set SHOFAR_SLOW_TESTS=1 to run (make test does)");
    false
}

/// The headline of issue 15.
#[test]
fn a_million_rows_imported_beside_a_running_campaign() {
    if !slow_tests() {
        return;
    }
    const ROWS: usize = 1_000_000;
    let test_box = dialing(20_000);
    let spec = ContactsSpec::new(ROWS, 15);
    let big = test_box.path("big.csv");
    write_csv(&spec, &big, CsvEncoding::Utf8, b',').unwrap();
    let expected = truth(&spec);

    let mut served = serve(&test_box);
    wait_for("dialing", Duration::from_secs(60), || calls(&test_box) > 0);
    let mut import = test_box
        .command(&[
            "import",
            big.to_str().unwrap(),
            "--campaign",
            "big",
            "--create",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let calls_at_start = calls(&test_box);
    let store = Store::open(&test_box.data().join("shofar.db")).unwrap();
    let mut hidden_rows_seen = 0;
    let deadline = Instant::now() + Duration::from_secs(1800);
    while import.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the import did not end");
        served.assert_running("during the import");
        // What anyone can see first, then whether the import had committed:
        // while its job is still running, nothing of it may have been seen.
        let visible = store.campaign_id("big").unwrap();
        let listed = store.list_campaigns().unwrap().len();
        let status = running_status(&test_box);
        if status.as_deref() == Some("running") {
            assert_eq!(
                visible, None,
                "the campaign appeared before the import ended"
            );
            assert_eq!(listed, 1, "only the dialing campaign is listed");
            hidden_rows_seen = hidden_rows_seen.max(count(
                &test_box,
                "SELECT count(*) FROM contacts WHERE campaign_id =
                   (SELECT id FROM campaigns WHERE name = 'big')",
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let output = import.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls_at_end = calls(&test_box);
    assert!(
        calls_at_end > calls_at_start,
        "no call was placed during the import ({calls_at_start} before, {calls_at_end} after)"
    );
    assert!(hidden_rows_seen > 0, "never saw the import half way");
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["total_rows"], expected.total_rows);
    assert_eq!(summary["imported"], expected.imported);
    assert_eq!(summary["duplicates"], expected.duplicates);
    assert_eq!(summary["invalid"], expected.invalid);
    let campaign = store.require_campaign("big").unwrap();
    assert_eq!(store.contact_count(campaign).unwrap(), expected.imported);

    served.assert_running("after the import");
    wait_for("a call after the import", Duration::from_secs(60), || {
        calls(&test_box) > calls_at_end
    });
    let printed = served.stop();
    assert!(!printed.contains("database is locked"), "{printed}");
}

/// The status of the big import's job, once it has one.
fn running_status(test_box: &TestBox) -> Option<String> {
    let db = rusqlite::Connection::open_with_flags(
        test_box.data().join("shofar.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    db.query_row(
        "SELECT status FROM import_jobs WHERE file_name = 'big.csv'",
        [],
        |row| row.get(0),
    )
    .ok()
}

/// A multipart form with one file field, as a browser sends it.
fn multipart(file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "shofar-test-boundary-7b1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_beside_the_dialer_is_invisible_until_done_and_serve_dials_on() {
    const ROWS: usize = 60_000;
    let test_box = dialing(5_000);
    test_box.ok(
        &[
            "campaign",
            "create",
            "--name",
            "web",
            "--purpose",
            "informational",
        ],
        "",
    );
    let show: Value =
        serde_json::from_str(&test_box.ok(&["campaign", "show", "web", "--json"], "")).unwrap();
    let campaign = show["campaign"]["id"].as_i64().unwrap();
    let token = test_box.user_token("mia", "manager");
    let spec = ContactsSpec::new(ROWS, 16);
    let list = test_box.path("web.csv");
    write_csv(&spec, &list, CsvEncoding::Utf8, b',').unwrap();
    let expected = truth(&spec);

    let mut served = serve(&test_box);
    wait_for("dialing", Duration::from_secs(60), || calls(&test_box) > 0);
    let http = {
        shofar_ari::install_crypto_provider();
        reqwest::Client::new()
    };
    let base = served.address.clone();
    let get = |path: String| {
        let request = http.get(format!("{base}{path}")).bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.json::<Value>().await.unwrap()
        }
    };
    let (content_type, body) = multipart("web.csv", &std::fs::read(&list).unwrap());
    let started = http
        .post(format!("{base}/api/v1/campaigns/{campaign}/imports"))
        .bearer_auth(&token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let job: Value = started.json().await.unwrap();
    let calls_at_start = calls(&test_box);

    let deadline = Instant::now() + Duration::from_secs(600);
    let mut polls_while_running = 0;
    let job = loop {
        assert!(Instant::now() < deadline, "the upload's import did not end");
        served.assert_running("during the upload's import");
        // The listing first, then the import's record: while it is still
        // running, the listing cannot have shown any of it.
        let listed = get(format!("/api/v1/campaigns/{campaign}/contacts?per_page=1")).await;
        let records = get(format!("/api/v1/imports?campaign={campaign}")).await;
        if records[0]["status"] == "running" {
            polls_while_running += 1;
            assert_eq!(
                listed["total"], 0,
                "contacts appeared before the import ended"
            );
        }
        let now = get(format!("/api/v1/jobs/{}", job["id"])).await;
        if now["status"] != "running" {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(job["status"], "completed", "{job}");
    assert!(polls_while_running > 0, "never saw the import half way");
    let summary = &job["summary"];
    assert_eq!(summary["imported"], expected.imported);
    assert_eq!(summary["duplicates"], expected.duplicates);
    assert_eq!(summary["invalid"], expected.invalid);
    let listed = get(format!("/api/v1/campaigns/{campaign}/contacts?per_page=1")).await;
    assert_eq!(listed["total"], expected.imported);
    let calls_at_end = calls(&test_box);
    assert!(
        calls_at_end > calls_at_start,
        "no call during the upload's import"
    );
    served.assert_running("after the upload's import");
    wait_for(
        "a call after the upload's import",
        Duration::from_secs(60),
        || calls(&test_box) > calls_at_end,
    );
    let printed = served.stop();
    assert!(!printed.contains("database is locked"), "{printed}");
}

/// Waits until the import `child` has committed some rows (hidden), then kills it.
fn kill_half_way(test_box: &TestBox, mut child: Child, staged: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while count(test_box, staged) == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be killed; make the file larger"
        );
        assert!(Instant::now() < deadline, "the import wrote nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[test]
fn an_import_killed_half_way_is_invisible_and_serve_removes_it() {
    let test_box = dialing(300);
    let before = count(&test_box, "SELECT count(*) FROM contacts");
    let list = test_box.path("more.csv");
    write_csv(
        &ContactsSpec::new(200_000, 17),
        &list,
        CsvEncoding::Utf8,
        b',',
    )
    .unwrap();
    let child = test_box
        .command(&["import", list.to_str().unwrap(), "--campaign", "live"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    kill_half_way(
        &test_box,
        child,
        "SELECT count(*) FROM contacts WHERE staged_import IS NOT NULL",
    );
    let lock_dir = test_box.path("data").join("shofar.db-imports");
    assert_eq!(
        std::fs::read_dir(&lock_dir).unwrap().count(),
        1,
        "the killed import's lock file"
    );
    // Nothing of it is seen.
    let show: Value =
        serde_json::from_str(&test_box.ok(&["campaign", "show", "live", "--json"], "")).unwrap();
    assert_eq!(show["contacts"]["total"], before, "{show}");

    // serve removes it as it starts.
    let served = serve(&test_box);
    wait_for(
        "the killed import's removal",
        Duration::from_secs(120),
        || count(&test_box, "SELECT count(*) FROM contacts") == before,
    );
    assert_eq!(count(&test_box, "SELECT count(*) FROM import_jobs"), 1);
    assert_eq!(
        std::fs::read_dir(&lock_dir).unwrap().count(),
        0,
        "no lock file is left"
    );
    let printed = served.stop();
    assert!(!printed.contains("database is locked"), "{printed}");
}

//! `shofar serve` as a process: killed with SIGKILL again and again in the middle
//! of a running campaign, then restarted until the campaign is done — nothing may
//! be lost or done twice. Runs on the simulator (the same session, IVR and record
//! path as real calls; the testbed tests cover Asterisk).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use shofar_store::Store;

mod support;
use support::TestBox;

const CONTACTS: usize = 240;
const MAX_ATTEMPTS: i64 = 2;

/// The shared test box (`support`), with what this test adds.
struct Box(TestBox);

impl std::ops::Deref for Box {
    type Target = TestBox;

    fn deref(&self) -> &TestBox {
        &self.0
    }
}

impl Box {
    fn new() -> Box {
        Box(TestBox::new(
            r#"
[dialer]
backend = "simulator"
cps = 40
max_channels = 40
grace_seconds = 2

[simulator]
# Calls of a second or two: many starts and ends between two kills.
time_scale = 20.0
answer_rate = 0.5
busy_rate = 0.25

[http]
listen = "127.0.0.1:0"
"#,
        ))
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().unwrap();
        assert!(
            output.status.success(),
            "shofar {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn serve(&self, log: &Path) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        self.command(&["serve", "--quiet"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    /// Lets the retry delays pass: contacts waiting for a retry are due now
    /// (the test's stand-in for a minute going by).
    fn retries_due(&self) {
        let store = Store::open(&self.data().join("shofar.db")).unwrap();
        store
            .connection()
            .execute(
                "UPDATE contacts SET next_attempt_at = NULL
                  WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
                [],
            )
            .unwrap();
    }

    fn status(&self) -> String {
        let output = self.run(&["campaign", "show", "crash", "--json"]);
        let show: Value = serde_json::from_slice(&output.stdout).unwrap();
        show["campaign"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

fn campaign_file(dir: &Path) -> PathBuf {
    let path = dir.join("campaign.toml");
    std::fs::write(
        &path,
        r#"
name = "crash"
purpose = "informational"
max_attempts = 2

[windows]
sunday = "00:00-24:00"
monday = "00:00-24:00"
tuesday = "00:00-24:00"
wednesday = "00:00-24:00"
thursday = "00:00-24:00"
friday = "00:00-24:00"
saturday = "00:00-24:00"

[quiet]
shabbat = false
holidays = false

[retry]
busy = "1m"
no_answer = "1m"
congestion = "1m"
failed = "1m"

[pacing]
cps = 40
max_channels = 40
"#,
    )
    .unwrap();
    path
}

/// Crash safety (issue 5; seed properties 10 and 49's "nothing lost"): `kill -9`
/// at random moments of a running campaign, restart, repeat; then let it finish.
/// Afterwards no call record is open, every contact has exactly as many call
/// records as attempts counted (no attempt without a record: claims that never
/// dialed were given back; no record lost), none has more attempts than the
/// campaign allows, and calls that were in flight at a kill were closed by the
/// next start with `ended_by = reconcile` and a cause that says so.
#[test]
fn kill_9_during_a_campaign_loses_nothing_and_calls_nobody_too_often() {
    let sandbox = Box::new();
    let csv = sandbox.dir.path().join("contacts.csv");
    let mut file = std::fs::File::create(&csv).unwrap();
    writeln!(file, "phone,first_name").unwrap();
    for i in 0..CONTACTS {
        writeln!(file, "052-555{:04},Contact {i}", 1000 + i).unwrap();
    }
    drop(file);
    sandbox.run(&[
        "campaign",
        "create",
        "--file",
        campaign_file(sandbox.dir.path()).to_str().unwrap(),
    ]);
    sandbox.run(&["import", csv.to_str().unwrap(), "--campaign", "crash"]);
    sandbox.run(&["campaign", "start", "crash"]);

    let log = sandbox.dir.path().join("serve.log");
    // Kill at uneven moments: during the first plan, mid-dial, mid-call.
    let kills = [700, 1900, 400, 2600, 1300, 900, 3100];
    for (round, after_ms) in kills.iter().enumerate() {
        sandbox.retries_due();
        let mut serve = sandbox.serve(&log);
        std::thread::sleep(Duration::from_millis(*after_ms));
        serve.kill().unwrap(); // SIGKILL
        let status = serve.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: serve should have been killed"
        );
    }

    // The last run: to the end of the campaign, then a graceful stop.
    let mut serve = sandbox.serve(&log);
    let deadline = Instant::now() + Duration::from_secs(300);
    while sandbox.status() != "completed" {
        assert!(
            serve.try_wait().unwrap().is_none(),
            "serve exited: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        assert!(
            Instant::now() < deadline,
            "the campaign did not complete: {}",
            String::from_utf8_lossy(&sandbox.run(&["campaign", "show", "crash"]).stdout)
        );
        sandbox.retries_due();
        std::thread::sleep(Duration::from_millis(500));
    }
    // SIGTERM: a graceful stop.
    Command::new("kill")
        .arg(serve.id().to_string())
        .status()
        .unwrap();
    assert!(serve.wait().unwrap().success());

    let store = Store::open(&sandbox.data().join("shofar.db")).unwrap();
    let db = store.connection();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM call_records WHERE status != 'ended'"),
        0,
        "every call record is closed"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM contacts WHERE status IN ('pending', 'in_progress') AND attempts < 2"
        ),
        0,
        "the campaign completed: nobody is left to call"
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM contacts WHERE attempts > {MAX_ATTEMPTS}"
        )),
        0,
        "no contact has more attempts than the campaign allows"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM contacts c WHERE attempts !=
               (SELECT count(*) FROM call_records r WHERE r.contact_id = c.id)"
        ),
        0,
        "every attempt has exactly one call record, and every record an attempt"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM contacts c WHERE attempts != 
               (SELECT count(DISTINCT attempt) FROM call_records r WHERE r.contact_id = c.id)"
        ),
        0,
        "attempt numbers are not reused"
    );
    let reconciled = count("SELECT count(*) FROM call_records WHERE ended_by = 'reconcile'");
    assert!(
        reconciled > 0,
        "seven kills mid-campaign must have left calls in flight"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM call_records WHERE ended_by = 'reconcile'
               AND detail NOT LIKE '%killed or crashed%'"
        ),
        0,
        "each reconciled call says why it was closed"
    );
    // Contacts reached are done; the rest failed after their last attempt.
    assert_eq!(
        count(
            "SELECT count(*) FROM contacts c WHERE status = 'completed' AND NOT EXISTS
               (SELECT 1 FROM call_records r WHERE r.contact_id = c.id
                 AND r.attempt = c.attempts AND r.outcome IN ('answered', 'voicemail'))"
        ),
        0,
        "a completed contact's last call was answered"
    );
    let total = count("SELECT count(*) FROM call_records");
    assert!(
        total >= CONTACTS as i64,
        "every contact was called at least once"
    );
}

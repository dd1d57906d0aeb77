//! The fleet end to end: real `shofar` boxes (simulated telephony), real
//! `shofar-sync` agents, mosquitto requiring client certificates (as AWS IoT Core
//! does) and an S3 server (s3s-fs), all on loopback; the central admin's tool
//! against the same servers.
//!
//! Needs mosquitto and s3s-fs (`make fleet-tools`; `make test` installs them).
//! Without them these tests say they were skipped — except under CI.
//! The `shofar` binary must be built (`cargo test --workspace` builds it).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use shofar_phone::E164;
use shofar_store::Store;
use shofar_store::blacklist::BlacklistSource;
use support::{Broker, Persistence, Pki, S3, Tools};

const ORG: &str = "acme";
const BUCKET: &str = "acme-shofar";

/// The `shofar` binary beside this test's (target/debug/deps/fleet-… → target/debug/shofar).
fn shofar_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("shofar");
    assert!(
        path.exists(),
        "no shofar binary at {}: build it first (cargo build -p shofar; `cargo test --workspace` does)",
        path.display()
    );
    path
}

struct Fleet {
    dir: tempfile::TempDir,
    pki: Pki,
    broker: Broker,
    s3: S3,
    /// More `[sync]` keys for the admin's configuration (a signing key).
    admin_extra: std::cell::RefCell<String>,
}

impl Fleet {
    fn start(tools: &Tools, persistence: Persistence) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::new(
            &dir.path().join("pki"),
            &["jerusalem-1", "haifa-1", "admin"],
        );
        let broker = Broker::start(tools, &pki, &dir.path().join("broker"), persistence);
        let s3 = S3::start(tools, &dir.path().join("s3"));
        s3.create_bucket(BUCKET);
        Fleet {
            dir,
            pki,
            broker,
            s3,
            admin_extra: Default::default(),
        }
    }

    fn sync_section(&self, name: &str, extra: &str) -> String {
        format!(
            r#"
[sync]
org = "{ORG}"
box_id = "{name}"
mqtt_url = "mqtts://localhost:{port}"
ca = "{ca}"
cert = "{cert}"
key = "{key}"
s3_endpoint = "{endpoint}"
region = "{region}"
bucket = "{BUCKET}"
access_key_id = "{ak}"
secret_access_key = "{sk}"
batch_seconds = 1
catchup_minutes = 1
status_minutes = 1
{extra}
"#,
            port = self.broker.port(),
            ca = self.pki.ca().display(),
            cert = self.pki.cert(name).display(),
            key = self.pki.key(name).display(),
            endpoint = self.s3.endpoint(),
            region = support::REGION,
            ak = support::ACCESS_KEY,
            sk = support::SECRET_KEY,
        )
    }

    fn new_box(&self, name: &str, extra_sync: &str) -> TestBox {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            r#"
[dialer]
backend = "simulator"
cps = 20
max_channels = 20
grace_seconds = 1

[simulator]
time_scale = 60.0
answer_rate = 0.6
busy_rate = 0.2

[http]
listen = "127.0.0.1:0"
{}"#,
            self.sync_section(name, extra_sync)
        );
        std::fs::write(dir.join("shofar.toml"), config).unwrap();
        let b = TestBox {
            name: name.to_owned(),
            dir,
            agent: None,
            serve: None,
        };
        // Makes the database.
        b.shofar(&["db", "migrate"]);
        b
    }

    /// `shofar-sync central …` as the admin.
    fn central(&self, args: &[&str]) -> String {
        let output = self.central_output(args);
        assert!(
            output.status.success(),
            "central {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn central_output(&self, args: &[&str]) -> Output {
        let config = self.dir.path().join("admin.toml");
        let extra = format!("admin = \"noa\"\n{}", self.admin_extra.borrow());
        let section = self
            .sync_section("admin", &extra)
            .replace("box_id = \"admin\"\n", "");
        std::fs::write(&config, section).unwrap();
        Command::new(env!("CARGO_BIN_EXE_shofar-sync"))
            .arg("--config")
            .arg(&config)
            .arg("central")
            .args(args)
            .output()
            .unwrap()
    }

    /// Every record in S3, by key, with how many times each key was found.
    fn records_in_s3(&self) -> BTreeMap<String, usize> {
        let mut keys = BTreeMap::new();
        for (key, path) in self.s3.objects(BUCKET) {
            if !key.starts_with(&format!("{ORG}/records/v1/")) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let records = shofar_sync::wire::parse_jsonl_gz(&bytes, 1 << 30).unwrap();
            for (_, record) in records {
                *keys.entry(record.key().to_owned()).or_default() += 1;
            }
        }
        keys
    }
}

struct TestBox {
    name: String,
    dir: PathBuf,
    agent: Option<Child>,
    serve: Option<Child>,
}

impl TestBox {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env_remove("SHOFAR_DATA_DIR")
            .env("SHOFAR_CONFIG", self.dir.join("shofar.toml"))
            .env("RUST_LOG", "warn")
            .arg("--data-dir")
            .arg(self.data());
        command
    }

    fn shofar(&self, args: &[&str]) -> Output {
        let output = self.command(&shofar_binary()).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{}: shofar {args:?} failed: {}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn log(&self, what: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{what}.log")))
            .unwrap()
    }

    fn start_agent(&mut self) {
        let child = self
            .command(Path::new(env!("CARGO_BIN_EXE_shofar-sync")))
            .env("SHOFAR_LOG", "info")
            .arg("run")
            .stdout(Stdio::null())
            .stderr(self.log("agent"))
            .spawn()
            .unwrap();
        self.agent = Some(child);
    }

    /// SIGKILL: no chance to save anything.
    fn kill_agent(&mut self) {
        if let Some(mut child) = self.agent.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn stop_agent(&mut self) {
        if let Some(mut child) = self.agent.take() {
            Command::new("kill")
                .arg(child.id().to_string())
                .status()
                .unwrap();
            let status = child.wait().unwrap();
            assert!(
                status.success(),
                "{}: the agent did not stop cleanly: {}",
                self.name,
                self.agent_log()
            );
        }
    }

    fn agent_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("agent.log")).unwrap_or_default()
    }

    fn serve(&mut self) {
        let child = self
            .command(&shofar_binary())
            .args(["serve", "--quiet"])
            .stdout(Stdio::null())
            .stderr(self.log("serve"))
            .spawn()
            .unwrap();
        self.serve = Some(child);
    }

    fn store(&self) -> Store {
        Store::open(&self.data().join("shofar.db")).unwrap()
    }

    fn listed(&self, number: &str) -> Option<BlacklistSource> {
        let e164 = e164(number);
        self.store()
            .blacklist_entry(e164)
            .unwrap()
            .map(|entry| entry.source)
    }

    fn status(&self) -> Option<shofar_store::sync::status::SyncStatus> {
        shofar_store::sync::status::read_status(&self.data())
    }

    fn campaign(&self, name: &str, numbers: &[String]) {
        let file = self.dir.join(format!("{name}.toml"));
        std::fs::write(
            &file,
            format!(
                r#"
name = "{name}"
purpose = "informational"
max_attempts = 1

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

[pacing]
cps = 20
max_channels = 20
"#
            ),
        )
        .unwrap();
        self.shofar(&["campaign", "create", "--file", file.to_str().unwrap()]);
        let csv = self.dir.join(format!("{name}.csv"));
        let mut text = String::from("phone,name\n");
        for (i, n) in numbers.iter().enumerate() {
            writeln!(text, "{n},Contact {i}").unwrap();
        }
        std::fs::write(&csv, text).unwrap();
        self.shofar(&["import", csv.to_str().unwrap(), "--campaign", name]);
    }

    fn calls_to(&self, number: &str) -> usize {
        let e164 = e164(number);
        let store = self.store();
        store
            .call_records(&Default::default())
            .unwrap()
            .iter()
            .filter(|c| c.number == e164)
            .count()
    }
}

impl Drop for TestBox {
    fn drop(&mut self) {
        for child in [self.agent.take(), self.serve.take()].into_iter().flatten() {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until `check` holds (or panics after `limit`, with `what` and the logs).
fn wait_for(
    limit: Duration,
    what: &str,
    logs: &[&TestBox],
    mut check: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    while !check() {
        if start.elapsed() > limit {
            let mut text = String::new();
            for b in logs {
                writeln!(text, "--- {} agent log ---\n{}", b.name, b.agent_log()).unwrap();
                let serve = std::fs::read_to_string(b.dir.join("serve.log")).unwrap_or_default();
                let tail: Vec<&str> = serve.lines().rev().take(30).collect();
                writeln!(
                    text,
                    "--- {} serve log (last lines, newest first) ---\n{}",
                    b.name,
                    tail.join("\n")
                )
                .unwrap();
            }
            panic!("timed out after {limit:?} waiting for: {what}\n{text}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

fn e164(number: &str) -> E164 {
    shofar_phone::Normalizer::israel()
        .normalize_str(number)
        .unwrap()
        .e164
}

fn numbers(count: usize, first: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("052-555{:04}", first + i))
        .collect()
}

/// Seed properties 10 and 13 across boxes: an opt-out on box A is on box B's list within
/// seconds and B's running campaign never dials it; a central addition and a
/// central removal reach both boxes; a removal never undoes an opt-out it did not
/// see.
#[test]
fn an_optout_on_one_box_stops_the_others_and_central_changes_reach_all() {
    let Some(tools) = support::tools() else {
        return;
    };
    let fleet = Fleet::start(&tools, Persistence::On);
    let mut jerusalem = fleet.new_box("jerusalem-1", "");
    let mut haifa = fleet.new_box("haifa-1", "");
    let target = "052-5559999";
    // Haifa's campaign: the target comes last, 150 calls after the start.
    let mut contacts = numbers(150, 1000);
    contacts.push(target.to_owned());
    haifa.campaign("haifa", &contacts);
    jerusalem.start_agent();
    haifa.start_agent();
    wait_for(
        Duration::from_secs(30),
        "both agents connected",
        &[&jerusalem, &haifa],
        || {
            [&jerusalem, &haifa]
                .iter()
                .all(|b| b.status().is_some_and(|s| s.mqtt.connected))
        },
    );
    haifa.shofar(&["campaign", "start", "haifa"]);
    haifa.serve();

    // The person presses 9 on a call from Jerusalem.
    jerusalem.shofar(&[
        "blacklist",
        "add",
        target,
        "--source",
        "user_optout",
        "--reason",
        "pressed 9",
    ]);
    let took = wait_for(
        Duration::from_secs(20),
        "the opt-out listed on haifa",
        &[&jerusalem, &haifa],
        || haifa.listed(target) == Some(BlacklistSource::Central),
    );
    eprintln!("an opt-out reached the other box in {took:?}");

    // A central addition reaches both.
    let landline = "03-6123456";
    fleet.central(&[
        "blacklist",
        "add",
        landline,
        "--reason",
        "asked the city hall",
    ]);
    wait_for(
        Duration::from_secs(20),
        "the central addition on both boxes",
        &[&jerusalem, &haifa],
        || {
            jerusalem.listed(landline) == Some(BlacklistSource::Central)
                && haifa.listed(landline) == Some(BlacklistSource::Central)
        },
    );

    // Haifa's campaign runs to its end and never dials the target.
    let store_done = || {
        let out = haifa.shofar(&["campaign", "show", "haifa", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["campaign"]["status"] == "completed"
    };
    wait_for(
        Duration::from_secs(240),
        "haifa's campaign completed",
        &[&haifa],
        store_done,
    );
    assert_eq!(
        haifa.calls_to(target),
        0,
        "haifa dialed a number that opted out on jerusalem"
    );

    // A central removal of the landline reaches both boxes.
    fleet.central(&[
        "blacklist",
        "remove",
        landline,
        "--reason",
        "consent given again, form 17",
    ]);
    wait_for(
        Duration::from_secs(20),
        "the central removal on both boxes",
        &[&jerusalem, &haifa],
        || jerusalem.listed(landline).is_none() && haifa.listed(landline).is_none(),
    );

    // A removal that did not see an opt-out leaves it: the admin removes the
    // target while Jerusalem's agent is away and the person opts out again there.
    jerusalem.stop_agent();
    jerusalem.shofar(&[
        "blacklist",
        "remove",
        target,
        "--reason",
        "staff cleared it",
    ]);
    jerusalem.shofar(&[
        "blacklist",
        "add",
        target,
        "--source",
        "user_optout",
        "--reason",
        "pressed 9 again",
    ]);
    fleet.central(&[
        "blacklist",
        "remove",
        target,
        "--reason",
        "consent given again",
    ]);
    wait_for(
        Duration::from_secs(20),
        "the removal on haifa",
        &[&haifa],
        || haifa.listed(target).is_none(),
    );
    jerusalem.start_agent();
    wait_for(
        Duration::from_secs(30),
        "the new opt-out back on haifa",
        &[&jerusalem, &haifa],
        || haifa.listed(target) == Some(BlacklistSource::Central),
    );
    assert_eq!(jerusalem.listed(target), Some(BlacklistSource::UserOptout));

    // What the admin sees.
    let export = fleet.central(&["blacklist", "export"]);
    assert!(export.contains("+972525559999"), "{export}");
    assert!(!export.contains("+97236123456"), "{export}");
    let boxes = fleet.central(&["boxes", "--json"]);
    let boxes: serde_json::Value = serde_json::from_str(&boxes).unwrap();
    let names: BTreeSet<&str> = boxes
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["box"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["haifa-1", "jerusalem-1"]));

    // Every call Haifa made is in S3 exactly once.
    let ended = haifa
        .store()
        .call_records(&Default::default())
        .unwrap()
        .iter()
        .filter(|c| c.ended_at.is_some())
        .count();
    wait_for(
        Duration::from_secs(60),
        "haifa's records all in S3",
        &[&haifa],
        || fleet.records_in_s3().len() >= ended,
    );
    let in_s3 = fleet.records_in_s3();
    assert_eq!(in_s3.len(), ended);
    assert!(in_s3.values().all(|&n| n == 1), "a record is in S3 twice");
    haifa.stop_agent();
    jerusalem.stop_agent();
}

/// Nothing is lost: while box Jerusalem runs a campaign, its agent is killed
/// (SIGKILL) again and again mid-batch, the supervisor is killed once, the broker
/// is stopped and restarted without persistence (every session lost), S3 is down
/// for a minute, and box Haifa is away while a central change is made and the
/// broker forgets its session (it catches up from S3). Afterwards every call
/// record is in S3 exactly once by key, and every opt-out is on every box.
#[test]
fn nothing_is_lost_across_kills_outages_and_a_lost_session() {
    let Some(tools) = support::tools() else {
        return;
    };
    let mut fleet = Fleet::start(&tools, Persistence::Off);
    let mut jerusalem = fleet.new_box("jerusalem-1", "batch_records = 40");
    let mut haifa = fleet.new_box("haifa-1", "");
    jerusalem.campaign("jerusalem", &numbers(400, 2000));
    jerusalem.shofar(&["campaign", "start", "jerusalem"]);
    jerusalem.start_agent();
    haifa.start_agent();
    jerusalem.serve();

    // The agent killed at uneven moments while records are being written.
    for after_ms in [700, 1500, 300, 2200, 900] {
        std::thread::sleep(Duration::from_millis(after_ms));
        jerusalem.kill_agent();
        jerusalem.start_agent();
    }
    // The supervisor killed mid-campaign, then started again.
    if let Some(mut serve) = jerusalem.serve.take() {
        serve.kill().unwrap();
        serve.wait().unwrap();
    }
    jerusalem.serve();

    // The broker goes away (forgetting every session) while an opt-out is made.
    fleet.broker.stop();
    jerusalem.shofar(&[
        "blacklist",
        "add",
        "052-5557001",
        "--source",
        "user_optout",
        "--reason",
        "asked on the phone",
    ]);
    std::thread::sleep(Duration::from_secs(3));
    fleet.broker.start_again();
    wait_for(
        Duration::from_secs(90),
        "the opt-out made during the outage on haifa",
        &[&jerusalem, &haifa],
        || haifa.listed("052-5557001") == Some(BlacklistSource::Central),
    );

    // S3 down for a minute; the box keeps working and uploads afterwards.
    fleet.s3.stop();
    std::thread::sleep(Duration::from_secs(60));
    assert!(
        jerusalem
            .status()
            .is_some_and(|s| !s.s3.connected || s.waiting_records > 0),
        "the status should show S3 down or records waiting"
    );
    fleet.s3.start_again();

    // Haifa is away when a central change is made, and the broker loses the
    // session that held it: Haifa must find it in S3.
    haifa.stop_agent();
    fleet.central(&["blacklist", "add", "03-6123457", "--reason", "registry"]);
    fleet.broker.kill();
    fleet.broker.start_again();
    haifa.start_agent();
    wait_for(
        Duration::from_secs(90),
        "haifa caught up from S3",
        &[&haifa],
        || haifa.listed("03-6123457") == Some(BlacklistSource::Central),
    );

    // The campaign ends; everything reaches S3, once.
    wait_for(
        Duration::from_secs(300),
        "jerusalem's campaign completed",
        &[&jerusalem],
        || {
            let out = jerusalem.shofar(&["campaign", "show", "jerusalem", "--json"]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["campaign"]["status"] == "completed"
        },
    );
    let ended: BTreeSet<String> = jerusalem
        .store()
        .call_records(&Default::default())
        .unwrap()
        .iter()
        .filter(|c| c.ended_at.is_some())
        .map(|c| format!("jerusalem-1/call/{}", c.call_id))
        .collect();
    wait_for(
        Duration::from_secs(120),
        "every record in S3",
        &[&jerusalem],
        || {
            fleet.records_in_s3().len() >= ended.len()
                && jerusalem.status().is_some_and(|s| s.waiting_records == 0)
        },
    );
    let in_s3 = fleet.records_in_s3();
    let keys: BTreeSet<String> = in_s3.keys().cloned().collect();
    assert_eq!(keys, ended, "S3 must hold exactly the box's ended calls");
    let twice: Vec<_> = in_s3.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "records in S3 more than once: {twice:?}");

    // Every opt-out of Jerusalem's (people pressing 9 in the simulated calls,
    // and the one made during the outage) is on Haifa's list.
    let optouts: Vec<E164> = jerusalem
        .store()
        .blacklist_history(None, 100_000)
        .unwrap()
        .iter()
        .filter(|h| h.action == "add" && h.source.as_deref() == Some("user_optout"))
        .map(|h| h.e164)
        .collect();
    assert!(!optouts.is_empty());
    wait_for(
        Duration::from_secs(60),
        "every opt-out on haifa",
        &[&haifa],
        || {
            let store = haifa.store();
            optouts
                .iter()
                .all(|&n| store.blacklist_entry(n).unwrap().is_some())
        },
    );
    jerusalem.stop_agent();
    haifa.stop_agent();
}

/// Seed property 50 (every message between modules conforms to its schema), on the
/// wire between boxes: with an organization key, central changes and models must be signed: an
/// unsigned, badly signed, malformed, unknown-version or other-organization
/// message is refused, counted and never applied; a model is verified (size,
/// sha256, signature) and installed atomically, a corrupt one refused with the
/// installed one kept.
#[test]
fn signed_changes_and_models_are_verified_and_bad_input_is_refused() {
    let Some(tools) = support::tools() else {
        return;
    };
    let fleet = Fleet::start(&tools, Persistence::On);
    let key = fleet.dir.path().join("org.pk8");
    let out = fleet.central(&["keygen", "-o", key.to_str().unwrap()]);
    let public = out
        .lines()
        .find_map(|l| l.strip_prefix("org_public_key = "))
        .expect("keygen prints the public key line")
        .to_owned();
    *fleet.admin_extra.borrow_mut() = format!(
        "signing_key = \"{}\"\norg_public_key = {public}\n",
        key.display()
    );
    let mut haifa = fleet.new_box("haifa-1", &format!("org_public_key = {public}"));
    haifa.start_agent();
    wait_for(
        Duration::from_secs(30),
        "haifa connected",
        &[&haifa],
        || haifa.status().is_some_and(|s| s.mqtt.connected),
    );

    // A signed central addition is applied.
    fleet.central(&[
        "blacklist",
        "add",
        "03-6123456",
        "--reason",
        "asked the city hall",
    ]);
    wait_for(
        Duration::from_secs(20),
        "the signed addition on haifa",
        &[&haifa],
        || haifa.listed("03-6123456") == Some(BlacklistSource::Central),
    );

    // Bad messages on the central topic: none is applied, each is counted.
    let unsigned = r#"{"v":1,"org":"acme","from":"central:mallory","ops":[{"op":"add","tag":"central:0123456789abcdef0123456789abcdef","e164":"+97236123458","reason":"x","source":"central","at":"2026-12-07T10:00:00Z","by":"mallory"}]}"#;
    let forged = unsigned.replace("]}", r#"],"sig":"AAAA"}"#);
    let other_org = unsigned.replace(r#""org":"acme""#, r#""org":"globex""#);
    let future = unsigned.replace(r#""v":1"#, r#""v":2"#);
    let refused_before = refused(&haifa);
    for payload in [unsigned, &forged, &other_org, &future, "{not json"] {
        let status = fleet
            .broker
            .client("mosquitto_pub", &fleet.pki, "admin")
            .args(["-t", "cmd/shofar/acme/dnc", "-q", "1", "-m", payload])
            .status()
            .unwrap();
        assert!(status.success());
    }
    wait_for(
        Duration::from_secs(20),
        "five refusals counted",
        &[&haifa],
        || refused(&haifa) >= refused_before + 5,
    );
    assert_eq!(
        haifa.listed("03-6123458"),
        None,
        "a refused message was applied"
    );

    // A model: published, verified, installed.
    let models = haifa.data().join("models");
    let v1 = fleet.dir.path().join("answer-v1.onnx");
    std::fs::write(&v1, b"ONNX model bytes, version 1".repeat(1000)).unwrap();
    fleet.central(&[
        "model",
        "publish",
        v1.to_str().unwrap(),
        "--name",
        "answer",
        "--version",
        "2026.12.1",
    ]);
    wait_for(
        Duration::from_secs(30),
        "model v1 installed",
        &[&haifa],
        || std::fs::read(models.join("answer.onnx")).ok() == Some(std::fs::read(&v1).unwrap()),
    );
    wait_for(
        Duration::from_secs(10),
        "the status names the model",
        &[&haifa],
        || {
            haifa
                .status()
                .and_then(|s| s.model)
                .is_some_and(|m| m.version == "2026.12.1")
        },
    );

    // Version 2 is published while the box is away, and its file corrupted in S3:
    // refused, version 1 kept.
    haifa.stop_agent();
    let v2 = fleet.dir.path().join("answer-v2.onnx");
    std::fs::write(&v2, b"ONNX model bytes, version 2".repeat(1000)).unwrap();
    fleet.central(&[
        "model",
        "publish",
        v2.to_str().unwrap(),
        "--name",
        "answer",
        "--version",
        "2026.12.2",
    ]);
    let object = fleet
        .s3
        .objects(BUCKET)
        .into_iter()
        .find(|(key, _)| key.starts_with("acme/models/answer/2026.12.2-"))
        .expect("the v2 object");
    let mut corrupt = std::fs::read(&object.1).unwrap();
    corrupt[10] ^= 0xff;
    fleet.s3.put(BUCKET, &object.0, &corrupt);
    haifa.start_agent();
    wait_for(
        Duration::from_secs(30),
        "the corrupt model reported",
        &[&haifa],
        || {
            haifa
                .status()
                .is_some_and(|s| s.errors.iter().any(|e| e.what.contains("model")))
        },
    );
    assert_eq!(
        std::fs::read(models.join("answer.onnx")).unwrap(),
        std::fs::read(&v1).unwrap(),
        "the installed model must be kept"
    );

    // An unsigned change from an admin without the key is refused by the tool itself.
    *fleet.admin_extra.borrow_mut() = format!("org_public_key = {public}\n");
    let output = fleet.central_output(&["blacklist", "add", "03-6123459", "--reason", "x"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("signing_key"));
    haifa.stop_agent();
}

fn refused(b: &TestBox) -> u64 {
    b.status()
        .and_then(|s| s.counters.get("refused_total").copied())
        .unwrap_or(0)
}

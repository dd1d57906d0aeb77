//! End to end against real Asterisk and sipp phones: `shofar call` places a real
//! call through the testbed's trunk and the test checks both the call record and
//! what the phone received.
//!
//! Needs the testbed (`make testbed-up`) and `SHOFAR_TESTBED` pointing at its
//! `target/testbed/shofar.toml`; `make test` does both. Without it these tests say
//! they were skipped — except under CI, where a missing testbed is a failure.
//! Tests share one trunk (the phone listens on 127.0.0.1:5070), so they run one at
//! a time.

mod phone;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, Once};
use std::time::Duration;

use phone::{Phone, PhoneReport, Phones, SeenCall};
use serde_json::Value;

struct Testbed {
    config: PathBuf,
    _serial: MutexGuard<'static, ()>,
}

static SERIAL: Mutex<()> = Mutex::new(());
static PROMPTS: Once = Once::new();

/// The prompts the test flows play: short tones, so tests run fast. They go
/// through `shofar audio add` like an operator's recordings would.
const PROMPTS_TONES: &[(&str, f32, u32)] = &[
    ("campaign", 1.0, 440),
    ("menu", 0.6, 660),
    ("invalid", 0.4, 880),
    ("no-input", 0.4, 330),
    ("thanks", 0.4, 550),
    ("optout-confirm", 0.6, 770),
    ("goodbye", 0.4, 990),
    ("info", 0.4, 1100),
    ("voicemail", 0.5, 500),
];

fn testbed() -> Option<Testbed> {
    let Some(config) = std::env::var_os("SHOFAR_TESTBED").map(PathBuf::from) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run these tests against the testbed: `make test` sets SHOFAR_TESTBED"
        );
        eprintln!(
            "skipped: no testbed (run `make testbed-up` and set SHOFAR_TESTBED=target/testbed/shofar.toml)"
        );
        return None;
    };
    let serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    PROMPTS.call_once(|| {
        let dir = tempfile::tempdir().unwrap();
        for (name, seconds, hertz) in PROMPTS_TONES {
            let wav = dir.path().join(format!("{name}.wav"));
            let status = Command::new("sox")
                .args(["-n", "-r", "16000", "-c", "1", "-b", "16"])
                .arg(&wav)
                .args([
                    "synth",
                    &seconds.to_string(),
                    "sine",
                    &hertz.to_string(),
                    "vol",
                    "0.5",
                ])
                .status()
                .expect("sox runs (the testbed installs it)");
            assert!(status.success());
            let output = shofar(
                &config,
                dir.path(),
                &["audio", "add", name, wav.to_str().unwrap()],
            );
            assert!(
                output.status.success(),
                "audio add {name}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    });
    Some(Testbed {
        config,
        _serial: serial,
    })
}

fn shofar(config: &Path, data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shofar"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// A call's result: the exit code, the record (JSON), what the phone saw.
struct Called {
    code: Option<i32>,
    record: Value,
    stderr: String,
    phone: PhoneReport,
}

impl Testbed {
    /// Places a call from a fresh data directory while `phone` answers.
    fn call(&self, phone: &Phone, number: &str, args: &[&str]) -> (Called, tempfile::TempDir) {
        let data = tempfile::tempdir().unwrap();
        let called = self.call_in(data.path(), phone, number, args);
        (called, data)
    }

    fn call_in(&self, data: &Path, phone: &Phone, number: &str, args: &[&str]) -> Called {
        let running = phone.start(data);
        let mut full = vec!["call", number, "--json"];
        full.extend_from_slice(args);
        let output = shofar(&self.config, data, &full);
        let phone = running.finish(Duration::from_secs(5));
        let stdout = String::from_utf8_lossy(&output.stdout);
        Called {
            code: output.status.code(),
            record: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            phone,
        }
    }

    /// Places calls at once — one `shofar call NUMBER --json ARGS…` each, from a
    /// data directory of its own — while one sipp plays every phone. The results
    /// come in the order given, each with all that the phones saw.
    fn call_at_once(
        &self,
        phones: &Phones,
        calls: &[(&str, Vec<&str>)],
    ) -> Vec<(Called, tempfile::TempDir)> {
        let phone_dir = tempfile::tempdir().unwrap();
        let running = phones.start(phone_dir.path(), calls.len() as u32);
        let outputs: Vec<(std::process::Output, tempfile::TempDir)> = std::thread::scope(|scope| {
            let threads: Vec<_> = calls
                .iter()
                .map(|(number, args)| {
                    scope.spawn(move || {
                        let data = tempfile::tempdir().unwrap();
                        let mut full = vec!["call", number, "--json"];
                        full.extend_from_slice(args);
                        (shofar(&self.config, data.path(), &full), data)
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|thread| thread.join().unwrap())
                .collect()
        });
        let phone = running.finish(Duration::from_secs(10));
        outputs
            .into_iter()
            .map(|(output, data)| {
                let called = Called {
                    code: output.status.code(),
                    record: serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                    phone: phone.clone(),
                };
                (called, data)
            })
            .collect()
    }

    fn flow(&self, dir: &Path, json: &str) -> String {
        let path = dir.join("flow.json");
        std::fs::write(&path, json).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Called {
    fn field(&self, name: &str) -> &Value {
        &self.record[name]
    }

    fn check(&self, outcome: &str, ended_by: &str, keys: &str, actions: &[&str]) {
        assert_eq!(
            self.code,
            Some(0),
            "shofar call failed: {}\nphone: {:?}",
            self.stderr,
            self.phone
        );
        assert_eq!(
            self.field("outcome"),
            outcome,
            "record: {:#}\nphone: {:#?}",
            self.record,
            self.phone
        );
        assert_eq!(
            self.field("ended_by"),
            ended_by,
            "record: {:#}",
            self.record
        );
        assert_eq!(self.field("dtmf"), keys, "record: {:#}", self.record);
        let got: Vec<&str> = self
            .field("actions")
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(got, actions, "record: {:#}", self.record);
        assert_eq!(self.field("status"), "ended");
    }
}

/// Two levels, short timeouts: what most tests run.
const TEST_FLOW: &str = r#"{
  "version": 1, "name": "Test", "start": "main",
  "nodes": {
    "main": {"type": "menu", "prompts": ["campaign", "menu"],
             "keys": {"1": "donate", "2": "sub", "9": "optout"},
             "timeout": {"seconds": 2, "prompt": "no-input", "retries": 1, "then": "goodbye"},
             "invalid": {"prompt": "invalid", "retries": 2, "then": "goodbye"}},
    "sub": {"type": "menu", "prompts": ["info"], "keys": {"3": "donate", "0": "main"},
            "timeout": {"seconds": 2, "prompt": "no-input", "retries": 0, "then": "goodbye"},
            "invalid": {"prompt": "invalid", "retries": 1, "then": "goodbye"}},
    "donate": {"type": "action", "action": {"kind": "donate"}, "next": "thanks"},
    "thanks": {"type": "play", "prompts": ["thanks"], "next": "bye"},
    "optout": {"type": "action", "action": {"kind": "blacklist"}, "next": "optout-confirm"},
    "optout-confirm": {"type": "play", "prompts": ["optout-confirm"], "next": "bye"},
    "goodbye": {"type": "play", "prompts": ["goodbye"], "next": "bye"},
    "bye": {"type": "action", "action": {"kind": "end_call"}}
  }
}"#;

fn is_listed(testbed: &Testbed, data: &Path, number: &str) -> bool {
    shofar(&testbed.config, data, &["blacklist", "check", number])
        .status
        .code()
        == Some(0)
}

/// Seed property 12: pressing 9 lists the number before anything else, a
/// confirmation plays and the box hangs up — keys sent as SIP INFO.
#[test]
fn pressing_9_by_sip_info_opts_out_and_hangs_up() {
    let Some(testbed) = testbed() else { return };
    let phone = Phone::answer().pause(700).info('9').await_bye();
    let (called, data) = testbed.call(&phone, "0525551234", &[]);
    called.check("answered", "flow", "9", &["blacklist"]);
    assert_eq!(called.field("opted_out"), true);
    assert!(
        called.phone.completed(),
        "the phone did not get the box's BYE: {:?}",
        called.phone
    );
    assert!(is_listed(&testbed, data.path(), "0525551234"));
    let history = shofar(
        &testbed.config,
        data.path(),
        &["blacklist", "check", "0525551234", "--json"],
    );
    assert!(String::from_utf8_lossy(&history.stdout).contains("user_optout"));
}

/// Seed property 12, keys as RTP telephone-events (RFC 4733).
#[test]
fn pressing_9_by_rfc4733_opts_out_and_hangs_up() {
    let Some(testbed) = testbed() else { return };
    let phone = Phone::answer().pause(700).rfc4733('9').await_bye();
    let (called, data) = testbed.call(&phone, "0545551234", &[]);
    called.check("answered", "flow", "9", &["blacklist"]);
    assert!(called.phone.completed(), "{:?}", called.phone);
    assert!(is_listed(&testbed, data.path(), "054-5551234"));
}

/// Key 1 in the default flow: a donation, recorded as a conversion with its SMS
/// pending.
#[test]
fn pressing_1_is_a_conversion() {
    let Some(testbed) = testbed() else { return };
    let phone = Phone::answer().pause(500).info('1').await_bye();
    let (called, data) = testbed.call(&phone, "0525551235", &[]);
    called.check("answered", "flow", "1", &["donate", "send_sms:pending"]);
    assert_eq!(called.field("converted"), true);
    assert!(!is_listed(&testbed, data.path(), "0525551235"));
}

/// Seed property 16: an unmapped key plays the error prompt and the menu again;
/// the valid key after it acts.
#[test]
fn an_invalid_key_then_a_valid_one() {
    let Some(testbed) = testbed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let flow = testbed.flow(dir.path(), TEST_FLOW);
    let phone = Phone::answer()
        .pause(500)
        .info('7')
        .pause(1200)
        .info('1')
        .await_bye();
    let (called, _data) = testbed.call(&phone, "0525551236", &["--flow", &flow]);
    called.check("answered", "flow", "71", &["donate", "send_sms:pending"]);
}

/// Seed property 18: no key → the timeout prompt, the menu again, then the
/// configured action (goodbye, hang up).
#[test]
fn no_key_takes_the_timeout_path() {
    let Some(testbed) = testbed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let flow = testbed.flow(dir.path(), TEST_FLOW);
    let phone = Phone::answer().await_bye();
    let (called, _data) = testbed.call(&phone, "0525551237", &["--flow", &flow]);
    called.check("answered", "flow", "", &[]);
    // Two rounds of the menu (1.6 s of prompts, 2 s of waiting each) and goodbye.
    assert!(
        called.field("talk_ms").as_i64().unwrap() >= 7_000,
        "{:#}",
        called.record
    );
    assert!(called.phone.completed());
}

/// Seed property 17: 2 opens the sub-menu, 3 there donates.
#[test]
fn a_two_level_menu() {
    let Some(testbed) = testbed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let flow = testbed.flow(dir.path(), TEST_FLOW);
    let phone = Phone::answer()
        .pause(500)
        .info('2')
        .pause(300)
        .rfc4733('3')
        .await_bye();
    let (called, _data) = testbed.call(&phone, "0525551238", &["--flow", &flow]);
    called.check("answered", "flow", "23", &["donate", "send_sms:pending"]);
}

#[test]
fn busy_congestion_and_rejected_are_told_apart() {
    let Some(testbed) = testbed() else { return };
    for (code, reason, outcome, cause) in [
        (486, "Busy Here", "busy", 17),
        (503, "Service Unavailable", "congestion", 34),
        (603, "Decline", "rejected", 21),
    ] {
        let (called, _data) = testbed.call(&Phone::reject(code, reason), "0525551239", &[]);
        called.check(outcome, "network", "", &[]);
        assert_eq!(
            called.field("hangup_code"),
            cause,
            "{code}: {:#}",
            called.record
        );
        assert!(called.field("answered_at").is_null());
        assert!(called.phone.completed(), "{code}: {:?}", called.phone);
    }
}

#[test]
fn ringing_with_no_answer() {
    let Some(testbed) = testbed() else { return };
    let (called, _data) = testbed.call(
        &Phone::ring_forever(),
        "0525551240",
        &["--ring-timeout", "4"],
    );
    called.check("no_answer", "network", "", &[]);
    assert!(
        called.field("ring_ms").as_i64().unwrap() >= 3_500,
        "{:#}",
        called.record
    );
    assert!(
        called.phone.completed(),
        "the phone never got the CANCEL: {:?}",
        called.phone
    );
}

#[test]
fn an_unreachable_far_end_fails() {
    let Some(testbed) = testbed() else { return };
    let data = tempfile::tempdir().unwrap();
    // No phone listens on 5070.
    let output = shofar(
        &testbed.config,
        data.path(),
        &["call", "0525551241", "--json", "--ring-timeout", "4"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(record["outcome"], "failed", "{record:#}");
    assert!(record["answered_at"].is_null());
}

#[test]
fn the_callee_hangs_up_mid_prompt() {
    let Some(testbed) = testbed() else { return };
    let phone = Phone::answer().pause(400).hang_up();
    let (called, _data) = testbed.call(&phone, "0525551242", &[]);
    called.check("answered", "callee", "", &[]);
    assert!(called.phone.completed(), "{:?}", called.phone);
}

/// Never dial a blacklisted number: the phone must see no INVITE at all.
#[test]
fn a_blacklisted_number_is_never_originated() {
    let Some(testbed) = testbed() else { return };
    let data = tempfile::tempdir().unwrap();
    let added = shofar(
        &testbed.config,
        data.path(),
        &[
            "blacklist",
            "add",
            "052-5551243",
            "--reason",
            "asked by phone",
        ],
    );
    assert!(added.status.success());
    let called = testbed.call_in(data.path(), &Phone::answer().await_bye(), "0525551243", &[]);
    assert_eq!(called.code, Some(1), "{}", called.stderr);
    assert!(
        called.stderr.contains("do-not-call list"),
        "{}",
        called.stderr
    );
    // The refusal is what it says; it never announces a call it does not place.
    assert!(
        !called.stderr.contains("calling "),
        "said \"calling\" before refusing: {}",
        called.stderr
    );
    assert_eq!(called.field("outcome"), "blacklisted");
    assert_eq!(
        called.phone.invites(),
        0,
        "the phone got an INVITE: {}",
        called.phone.messages
    );
}

/// Asterisk dies mid-call and comes back: the supervisor reconnects by itself,
/// reconciles, and the call does not stay "in progress".
#[test]
fn asterisk_restarting_during_a_call_leaves_no_stuck_call() {
    let Some(testbed) = testbed() else { return };
    let data = tempfile::tempdir().unwrap();
    let running = Phone::answer().await_bye().start(data.path());
    let child = Command::new(env!("CARGO_BIN_EXE_shofar"))
        .arg("--config")
        .arg(&testbed.config)
        .arg("--data-dir")
        .arg(data.path())
        .args(["call", "0525551244", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let the call be answered and the menu start (the default flow waits 10 s).
    std::thread::sleep(Duration::from_millis(2500));
    let restart =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/testbed/start-asterisk.sh");
    let status = Command::new(&restart).arg("--kill").status().unwrap();
    assert!(status.success(), "Asterisk did not come back");
    let output = child.wait_with_output().unwrap();
    let _phone = running.finish(Duration::from_secs(1));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(record["status"], "ended", "{record:#}");
    assert_eq!(record["outcome"], "answered", "{record:#}");
    assert_eq!(record["ended_by"], "reconcile", "{record:#}");
    assert!(
        record["detail"]
            .as_str()
            .unwrap()
            .contains("no longer exists"),
        "{record:#}"
    );
    // And the box can call again on the new Asterisk.
    let phone = Phone::answer().pause(500).info('9').await_bye();
    let called = testbed.call_in(data.path(), &phone, "0525551245", &[]);
    called.check("answered", "flow", "9", &["blacklist"]);
}

/// A campaign's settings reach the call: its message (`audio`), its flow, its
/// caller ID and its answering-machine setting. A machine answers: the voicemail
/// message plays, the box hangs up, the outcome is voicemail.
#[test]
fn a_campaign_leaves_its_message_on_an_answering_machine() {
    let Some(testbed) = testbed() else { return };
    let data = tempfile::tempdir().unwrap();
    let wav = data.path().join("message.wav");
    let status = Command::new("sox")
        .args(["-n", "-r", "44100", "-c", "2", "-b", "16"])
        .arg(&wav)
        .args(["synth", "0.8", "sine", "523", "vol", "0.5"])
        .status()
        .unwrap();
    assert!(status.success());
    let flow = testbed.flow(data.path(), TEST_FLOW);
    let campaign = data.path().join("campaign.toml");
    std::fs::write(
        &campaign,
        format!(
            "name = \"Machines\"\npurpose = \"informational\"\naudio = {:?}\nivr_flow = {:?}\n\
             caller_id = \"03-6123456\"\namd = \"leave_message\"\n",
            wav.to_str().unwrap(),
            flow
        ),
    )
    .unwrap();
    let created = shofar(
        &testbed.config,
        data.path(),
        &["campaign", "create", "--file", campaign.to_str().unwrap()],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let called = testbed.call_in(
        data.path(),
        &Phone::machine().await_bye(),
        "0525551246",
        &["--campaign", "Machines"],
    );
    called.check("voicemail", "flow", "", &["voicemail_drop"]);
    assert_eq!(called.field("amd_result"), "MACHINE");
    assert_eq!(called.field("campaign_id"), 1);
    // The campaign's caller ID went out in the INVITE.
    assert!(
        called.phone.messages.contains("036123456"),
        "{}",
        called.phone.messages
    );
}

/// A capture node collects digits up to the terminator; the donation carries the
/// amount.
#[test]
fn a_captured_amount_reaches_the_donation() {
    let Some(testbed) = testbed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let flow = testbed.flow(
        dir.path(),
        r#"{"version": 1, "name": "Amount", "start": "amount", "nodes": {
          "amount": {"type": "capture", "prompts": ["menu"], "variable": "amount", "max_length": 5,
                     "timeout": {"seconds": 3, "prompt": "no-input", "retries": 1, "then": "bye"},
                     "invalid": {"prompt": "invalid", "retries": 1, "then": "bye"}, "next": "donate"},
          "donate": {"type": "action", "action": {"kind": "donate", "amount_variable": "amount"}, "next": "thanks"},
          "thanks": {"type": "play", "prompts": ["thanks"], "next": "bye"},
          "bye": {"type": "action", "action": {"kind": "end_call"}}}}"#,
    );
    // People press keys a few hundred milliseconds apart. (Back to back, Asterisk
    // holds SIP INFO keys after the first until media arrives, which sipp does not
    // send.)
    let phone = Phone::answer()
        .pause(300)
        .info('1')
        .pause(300)
        .info('8')
        .pause(300)
        .info('0')
        .pause(300)
        .info('#')
        .await_bye();
    let (called, _data) = testbed.call(&phone, "0525551247", &["--flow", &flow]);
    called.check(
        "answered",
        "flow",
        "180#",
        &["donate:180", "send_sms:pending"],
    );
}

/// Key 3 transfers to an agent: the box dials the agent through the trunk and
/// bridges the two; when the caller hangs up, the agent's leg ends too.
#[test]
fn a_transfer_bridges_the_caller_to_an_agent() {
    let Some(testbed) = testbed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let flow = testbed.flow(
        dir.path(),
        r#"{"version": 1, "name": "Agent", "start": "main", "nodes": {
          "main": {"type": "menu", "prompts": ["menu"], "keys": {"3": "agent"},
                   "timeout": {"seconds": 3, "prompt": "no-input", "retries": 0, "then": "bye"},
                   "invalid": {"prompt": "invalid", "retries": 0, "then": "bye"}},
          "agent": {"type": "action", "action": {"kind": "transfer", "to": "03-6123456"}},
          "bye": {"type": "action", "action": {"kind": "end_call"}}}}"#,
    );
    // Both legs reach the same sipp: the caller presses 3 and later hangs up; the
    // agent's leg answers and waits until the box hangs it up.
    let phone = Phone::answer()
        .pause(300)
        .info('3')
        .pause(2500)
        .hang_up()
        .with_agent("036123456");
    let (called, _data) = testbed.call(&phone, "0525551248", &["--flow", &flow]);
    called.check(
        "answered",
        "callee",
        "3",
        &["transfer:03-6123456", "transfer_connected"],
    );
    assert_eq!(called.phone.invites(), 2, "{}", called.phone.messages);
    assert!(
        called.phone.completed(),
        "both legs end cleanly: {:?}",
        called.phone
    );
    assert!(
        called.phone.messages.contains("INVITE sip:036123456@"),
        "{}",
        called.phone.messages
    );
}

/// A dead Asterisk or wrong ARI credentials: the operator is told which, with the
/// fix, and nothing is dialed or recorded; `asterisk-status` says the same.
#[test]
fn a_dead_asterisk_or_wrong_credentials_are_explained() {
    let Some(testbed) = testbed() else { return };
    let data = tempfile::tempdir().unwrap();
    let wrong = data.path().join("wrong.toml");
    let config = std::fs::read_to_string(&testbed.config).unwrap();
    let wrong_config: String = config
        .lines()
        .map(|line| {
            if line.starts_with("ari_password") {
                "ari_password = \"not-the-password\"".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&wrong, wrong_config).unwrap();
    let output = shofar(&wrong, data.path(), &["call", "0525551249"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refused the ARI credentials") && stderr.contains("ari_password"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("not-the-password"),
        "the password leaked: {stderr}"
    );

    let scripts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/testbed");
    let pid_file = testbed.config.parent().unwrap().join("asterisk.pid");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        Command::new("kill")
            .arg(pid.trim())
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_secs(2));
    let output = shofar(&testbed.config, data.path(), &["call", "0525551249"]);
    let status_down = shofar(&testbed.config, data.path(), &["asterisk-status"]);
    let restarted = Command::new(scripts.join("start-asterisk.sh"))
        .status()
        .unwrap();
    assert!(restarted.success(), "Asterisk did not come back");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach Asterisk's ARI") && stderr.contains("is Asterisk running"),
        "{stderr}"
    );
    assert_eq!(status_down.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&status_down.stderr).contains("cannot reach Asterisk's ARI"));
    let status = shofar(&testbed.config, data.path(), &["asterisk-status", "--json"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(
        status["asterisk"].as_str().unwrap().starts_with("22."),
        "{status}"
    );
    assert_eq!(
        (&status["trunk"], &status["trunk_state"]),
        (&Value::from("carrier"), &Value::from("online"))
    );
    let listed = shofar(&testbed.config, data.path(), &["calls", "list", "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).trim(),
        "[]",
        "a call was recorded"
    );
}

/// One sipp plays every phone of a campaign at once, each number its own
/// behaviour (picked by its last two digits): what the dialer's tests stand on.
/// Eight calls overlap; each record has its own outcome, each number reached the
/// phones exactly once, and the one never dialed never did.
#[test]
fn one_sipp_serves_many_phones_at_once() {
    let Some(testbed) = testbed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let flow = testbed.flow(dir.path(), TEST_FLOW);
    let phones = Phones::new()
        .on("61", Phone::answer().pause(700).info('1').await_bye())
        .on("62", Phone::answer().await_bye())
        .on("63", Phone::answer().pause(1500).hang_up())
        .on("64", Phone::reject(486, "Busy Here"))
        .on("65", Phone::reject(503, "Service Unavailable"))
        .on("66", Phone::ring_forever())
        .on("67", Phone::machine().await_bye())
        .on("69", Phone::answer().await_bye())
        .otherwise(Phone::reject(603, "Decline"));

    /// One call: what it is dialed with, what the box records, and the phone's
    /// final answer to the INVITE.
    struct Expect {
        number: &'static str,
        args: &'static [&'static str],
        outcome: &'static str,
        ended_by: &'static str,
        keys: &'static str,
        actions: &'static [&'static str],
        status: u16,
    }
    let expect = |number, outcome, ended_by, keys, actions, status| Expect {
        number,
        args: &[],
        outcome,
        ended_by,
        keys,
        actions,
        status,
    };
    let expected = [
        expect(
            "0525551261",
            "answered",
            "flow",
            "1",
            &["donate", "send_sms:pending"],
            200,
        ),
        // No key: the menu times out twice and the box says goodbye.
        expect("0525551262", "answered", "flow", "", &[], 200),
        expect("0525551263", "answered", "callee", "", &[], 200),
        expect("0525551264", "busy", "network", "", &[], 486),
        expect("0525551265", "congestion", "network", "", &[], 503),
        Expect {
            args: &["--ring-timeout", "4"],
            ..expect("0525551266", "no_answer", "network", "", &[], 487)
        },
        Expect {
            args: &["--amd", "message"],
            ..expect(
                "0525551267",
                "voicemail",
                "flow",
                "",
                &["voicemail_drop"],
                200,
            )
        },
        // No suffix matches: the `otherwise` phone declines.
        expect("0525551260", "rejected", "network", "", &[], 603),
    ];
    let calls: Vec<(&str, Vec<&str>)> = expected
        .iter()
        .map(|call| {
            let mut args = vec!["--flow", flow.as_str()];
            args.extend_from_slice(call.args);
            (call.number, args)
        })
        .collect();
    let results = testbed.call_at_once(&phones, &calls);

    for ((called, _data), call) in results.iter().zip(&expected) {
        called.check(call.outcome, call.ended_by, call.keys, call.actions);
        assert_eq!(
            called.field("number").as_str(),
            Some(format!("+972{}", &call.number[1..]).as_str())
        );
        assert_eq!(
            called.phone.call_to(call.number),
            SeenCall {
                number: call.number.to_owned(),
                final_status: Some(call.status),
                cancelled: call.outcome == "no_answer",
                bye_from_box: call.ended_by == "flow",
                bye_from_phone: call.ended_by == "callee",
            },
            "{}: {:#}",
            call.number,
            called.record
        );
    }
    let phone = &results[0].0.phone;
    assert!(
        phone.completed(),
        "every phone's scenario ran to its end: {phone:?}"
    );
    let mut once: Vec<(String, usize)> = expected
        .iter()
        .map(|call| (call.number.to_owned(), 1))
        .collect();
    once.sort();
    assert_eq!(
        phone.invites_by_number().into_iter().collect::<Vec<_>>(),
        once,
        "each number reached the phones exactly once"
    );
    assert_eq!(phone.invites(), expected.len());
    assert_eq!(phone.invites_to("0525551269"), 0, "a number never dialed");
    // The calls overlapped: the busy one began before the no-key one (about
    // 8 s) ended.
    let (busy, no_key) = (&results[3].0, &results[1].0);
    assert!(
        busy.field("started_at").as_str() < no_key.field("ended_at").as_str(),
        "{:#} {:#}",
        busy.record,
        no_key.record
    );
}

/// Issue 5, end to end on real Asterisk: `shofar serve` runs a small campaign of
/// 31 contacts to completion while one sipp plays 30 phones with mixed behaviours
/// (dialed up to 8 at once). Every outcome is counted exactly, every phone got
/// exactly one INVITE, and the contact blacklisted before the start got none
/// (properties 10, 11: never dialed). The pressers of 9 end on the do-not-call
/// list (12), and the campaign moves itself to completed.
#[test]
fn shofar_serve_runs_a_campaign_to_completion_on_real_asterisk() {
    let Some(testbed) = testbed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let flow = testbed.flow(dir.path(), TEST_FLOW);
    // The testbed's config, with a short ring timeout (for the phones that never
    // answer) and the API on a free port.
    let base = std::fs::read_to_string(&testbed.config).unwrap();
    let config = dir.path().join("shofar.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n[dialer]\ncps = 5\nmax_channels = 8\ngrace_seconds = 5\n\n[http]\nlisten = \"127.0.0.1:0\"\n",
            base.replace("ring_timeout_seconds = 30", "ring_timeout_seconds = 5")
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = shofar(&config, &data, args);
        assert!(
            output.status.success(),
            "shofar {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };

    // By the last digit: 1 donates, 9 opts out, 2 presses nothing, 3 hangs up,
    // 4 busy, 5 congestion, 6 never answers; 0, 7 and 8 decline.
    let phones = Phones::new()
        .on("1", Phone::answer().pause(700).info('1').await_bye())
        .on("9", Phone::answer().pause(700).info('9').await_bye())
        .on("2", Phone::answer().await_bye())
        .on("3", Phone::answer().pause(1500).hang_up())
        .on("4", Phone::reject(486, "Busy Here"))
        .on("5", Phone::reject(503, "Service Unavailable"))
        .on("6", Phone::ring_forever())
        .otherwise(Phone::reject(603, "Decline"));
    let numbers: Vec<String> = (0..30).map(|i| format!("05255513{i:02}")).collect();
    let listed = "0525551350";
    let csv = dir.path().join("contacts.csv");
    let mut text = String::from("phone,first_name\n");
    for (i, number) in numbers.iter().chain([&listed.to_owned()]).enumerate() {
        text.push_str(&format!("{number},Contact {i}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let campaign = dir.path().join("campaign.toml");
    std::fs::write(
        &campaign,
        format!(
            r#"name = "e2e"
purpose = "informational"
max_attempts = 1
ivr_flow = "{flow}"
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
cps = 4
max_channels = 8
"#
        ),
    )
    .unwrap();
    run(&["campaign", "create", "--file", campaign.to_str().unwrap()]);
    run(&["import", csv.to_str().unwrap(), "--campaign", "e2e"]);
    run(&[
        "blacklist",
        "add",
        listed,
        "--reason",
        "asked before the campaign",
    ]);
    run(&["campaign", "start", "e2e"]);

    let phone_dir = tempfile::tempdir().unwrap();
    let running = phones.start(phone_dir.path(), numbers.len() as u32);
    let log = dir.path().join("serve.log");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_shofar"))
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--quiet"])
        .env("RUST_LOG", "info")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = |data: &Path| -> Value {
        let output = shofar(&config, data, &["campaign", "show", "e2e", "--json"]);
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    };
    loop {
        let show = status(&data);
        if show["campaign"]["status"] == "completed" {
            break;
        }
        assert!(
            serve.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(240),
            "the campaign did not complete: {show:#}\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // SIGTERM: a graceful stop.
    Command::new("kill")
        .arg(serve.id().to_string())
        .status()
        .unwrap();
    assert!(serve.wait().unwrap().success(), "serve exits 0 on SIGTERM");
    let phone = running.finish(Duration::from_secs(10));

    let show = status(&data);
    let calls = &show["calls"];
    let expected = serde_json::json!({
        "answered": 12, "busy": 3, "congestion": 3, "no_answer": 3, "rejected": 9,
    });
    assert_eq!(calls, &expected, "calls by outcome: {show:#}");
    let contacts = &show["contacts"];
    assert_eq!(contacts["total"], 31);
    assert_eq!(contacts["completed"], 9, "{contacts:#}");
    assert_eq!(
        contacts["blacklisted"], 4,
        "three opted out, one listed before"
    );
    assert_eq!(contacts["failed"], 18, "{contacts:#}");
    assert_eq!(contacts["in_progress"], 0);
    for number in &numbers {
        assert_eq!(phone.invites_to(number), 1, "{number}: {phone:#?}");
    }
    assert_eq!(
        phone.invites_to(listed),
        0,
        "a blacklisted number is never dialed"
    );
    for last in ['9'] {
        for number in numbers.iter().filter(|n| n.ends_with(last)) {
            let check = shofar(&config, &data, &["blacklist", "check", number]);
            assert_eq!(check.status.code(), Some(0), "{number} opted out");
        }
    }
    let records: Value = serde_json::from_slice(
        &run(&[
            "calls",
            "list",
            "--campaign",
            "e2e",
            "--limit",
            "100",
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 30);
    assert!(records.iter().all(|r| r["status"] == "ended"));
    assert_eq!(records.iter().filter(|r| r["converted"] == true).count(), 3);
    assert_eq!(records.iter().filter(|r| r["opted_out"] == true).count(), 3);
    let pacing = run(&["pacing", "log", "--json"]);
    assert!(
        serde_json::from_slice::<Value>(&pacing.stdout)
            .unwrap()
            .is_array()
    );
}

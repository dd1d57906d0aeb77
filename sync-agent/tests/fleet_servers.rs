//! The fleet tests' servers (tests/support) do what the sync agent's tests rely on:
//! the broker authenticates like AWS IoT Core (client certificates from our CA only,
//! the CN as the username), keeps persistent sessions and queued QoS 1 messages
//! across a restart when persistence is on and loses them when it is off, and
//! disconnects a client sending more than 128 KiB; s3s-fs checks signatures and
//! keeps its objects, plain files, across a restart.
//!
//! Needs `make fleet-tools` (skipped without, except under CI).

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use support::{Broker, MAX_PAYLOAD, MAX_TOPIC, Persistence, Pki, S3};

const BOXES: &[&str] = &["jerusalem-1", "haifa-1", "admin"];

/// A broker of the test's own, with the boxes' certificates (`None`: skipped).
fn broker(persistence: Persistence) -> Option<(TempDir, Pki, Broker)> {
    let tools = support::tools()?;
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(&dir.path().join("pki"), BOXES);
    let broker = Broker::start(&tools, &pki, &dir.path().join("broker"), persistence);
    Some((dir, pki, broker))
}

fn run(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"))
}

fn text(output: &Output) -> String {
    format!(
        "status {}, stdout {:?}, stderr {:?}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Subscribes `id` with a persistent session (clean session off) at QoS 1 and leaves.
fn subscribe_persistent(broker: &Broker, pki: &Pki, name: &str, id: &str, topic: &str) {
    let output = run(broker
        .client("mosquitto_sub", pki, name)
        .args(["-c", "-i", id, "-q", "1", "-t", topic, "-E"]));
    assert!(output.status.success(), "subscribe: {}", text(&output));
}

fn publish(broker: &Broker, pki: &Pki, name: &str, topic: &str, message: &str, retain: bool) {
    let mut command = broker.client("mosquitto_pub", pki, name);
    command.args(["-q", "1", "-t", topic, "-m", message]);
    if retain {
        command.arg("-r");
    }
    let output = run(&mut command);
    assert!(output.status.success(), "publish: {}", text(&output));
}

/// jerusalem-1 subscribes with a persistent session and leaves; haifa-1 publishes
/// an opt-out it misses (queued for it), an admin a retained model manifest.
fn leave_messages(broker: &Broker, pki: &Pki) {
    subscribe_persistent(
        broker,
        pki,
        "jerusalem-1",
        "jerusalem-1",
        "dt/shofar/acme/dnc/+",
    );
    publish(
        broker,
        pki,
        "haifa-1",
        "dt/shofar/acme/dnc/haifa-1",
        "opt-out",
        false,
    );
    publish(
        broker,
        pki,
        "admin",
        "cmd/shofar/acme/model",
        "manifest",
        true,
    );
}

/// What `id`'s session receives in `wait` seconds (at most `count` messages), as
/// "topic payload" lines.
fn receive(
    broker: &Broker,
    pki: &Pki,
    name: &str,
    id: &str,
    topic: &str,
    count: u32,
    wait: u32,
) -> Vec<String> {
    let output = run(broker.client("mosquitto_sub", pki, name).args([
        "-c",
        "-i",
        id,
        "-q",
        "1",
        "-t",
        topic,
        "-v",
        "-C",
        &count.to_string(),
        "-W",
        &wait.to_string(),
    ]));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn broker_accepts_only_certificates_of_its_ca_and_names_clients_by_cn() {
    let Some((dir, pki, mut broker)) = broker(Persistence::On) else {
        return;
    };
    assert_eq!(broker.url(), format!("mqtts://localhost:{}", broker.port()));

    let output = run(broker.client("mosquitto_pub", &pki, "jerusalem-1").args([
        "-q",
        "1",
        "-t",
        "dt/shofar/acme/status/jerusalem-1",
        "-m",
        "{}",
    ]));
    assert!(
        output.status.success(),
        "with a certificate: {}",
        text(&output)
    );
    assert!(
        broker.log().contains("u'jerusalem-1'"),
        "the certificate's CN is the username:\n{}",
        broker.log()
    );

    let output = run(broker
        .client_without_certificate("mosquitto_pub", &pki)
        .args(["-q", "1", "-t", "dt/shofar/acme/status/x", "-m", "{}"]));
    assert!(
        !output.status.success(),
        "without a certificate: {}",
        text(&output)
    );
    assert!(broker.log().contains("peer did not return a certificate"));

    // A client certificate of another CA, with a name the broker knows.
    let stranger = Pki::new(&dir.path().join("stranger"), &["jerusalem-1"]);
    let output = run(broker
        .client_without_certificate("mosquitto_pub", &pki)
        .arg("--cert")
        .arg(stranger.cert("jerusalem-1"))
        .arg("--key")
        .arg(stranger.key("jerusalem-1"))
        .args(["-q", "1", "-t", "dt/shofar/acme/status/x", "-m", "{}"]));
    assert!(
        !output.status.success(),
        "another CA's certificate: {}",
        text(&output)
    );

    assert!(broker.is_running());
    let pid = broker.pid().unwrap();
    drop(broker);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "drop stops the broker"
    );
}

#[test]
fn persistence_on_keeps_sessions_queued_and_retained_messages_across_a_restart() {
    let Some((_dir, pki, mut broker)) = broker(Persistence::On) else {
        return;
    };
    let port = broker.port();

    leave_messages(&broker, &pki);

    let stopped = Instant::now();
    broker.stop();
    assert!(!broker.is_running());
    broker.start_again();
    eprintln!(
        "broker stopped and started again in {:?}",
        stopped.elapsed()
    );
    assert_eq!(broker.port(), port, "same port after a restart");

    assert_eq!(
        receive(
            &broker,
            &pki,
            "jerusalem-1",
            "jerusalem-1",
            "dt/shofar/acme/dnc/+",
            1,
            5
        ),
        ["dt/shofar/acme/dnc/haifa-1 opt-out"],
        "the session and its queued message survive:\n{}",
        broker.log()
    );
    assert_eq!(
        receive(
            &broker,
            &pki,
            "haifa-1",
            "haifa-1",
            "cmd/shofar/acme/model",
            1,
            5
        ),
        ["cmd/shofar/acme/model manifest"],
        "the retained message survives"
    );
}

#[test]
fn persistence_on_keeps_what_was_autosaved_before_a_kill() {
    let Some((_dir, pki, mut broker)) = broker(Persistence::On) else {
        return;
    };

    subscribe_persistent(
        &broker,
        &pki,
        "jerusalem-1",
        "jerusalem-1",
        "cmd/shofar/acme/dnc",
    );
    publish(&broker, &pki, "admin", "cmd/shofar/acme/dnc", "add", false);
    // autosave_interval 1: the database is written every second.
    std::thread::sleep(Duration::from_millis(2500));
    broker.kill();
    broker.start_again();

    assert_eq!(
        receive(
            &broker,
            &pki,
            "jerusalem-1",
            "jerusalem-1",
            "cmd/shofar/acme/dnc",
            1,
            5
        ),
        ["cmd/shofar/acme/dnc add"],
        "{}",
        broker.log()
    );
}

#[test]
fn start_again_waits_until_its_port_is_free() {
    let Some((_dir, pki, mut broker)) = broker(Persistence::Off) else {
        return;
    };
    broker.stop();
    let squatter = std::net::TcpListener::bind(("127.0.0.1", broker.port())).unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(squatter);
    });
    broker.start_again();
    release.join().unwrap();
    assert!(broker.is_running());
    assert!(
        broker.log().contains("Address already in use"),
        "{}",
        broker.log()
    );
    publish(
        &broker,
        &pki,
        "haifa-1",
        "dt/shofar/acme/status/haifa-1",
        "{}",
        true,
    );
}

#[test]
fn persistence_off_loses_sessions_and_retained_messages_on_a_restart() {
    let Some((_dir, pki, mut broker)) = broker(Persistence::Off) else {
        return;
    };

    leave_messages(&broker, &pki);
    // Before the restart the session is there (persistence off still keeps it
    // in memory): proves the test below would see the message.
    subscribe_persistent(&broker, &pki, "haifa-1", "haifa-1", "dt/shofar/acme/dnc/+");
    publish(
        &broker,
        &pki,
        "jerusalem-1",
        "dt/shofar/acme/dnc/jerusalem-1",
        "mine",
        false,
    );
    assert_eq!(
        receive(
            &broker,
            &pki,
            "haifa-1",
            "haifa-1",
            "dt/shofar/acme/dnc/+",
            1,
            5
        ),
        ["dt/shofar/acme/dnc/jerusalem-1 mine"]
    );

    broker.stop();
    broker.start_again();

    assert!(
        receive(
            &broker,
            &pki,
            "jerusalem-1",
            "jerusalem-1",
            "dt/shofar/acme/dnc/+",
            1,
            1
        )
        .is_empty(),
        "the session is lost"
    );
    assert!(
        receive(
            &broker,
            &pki,
            "haifa-1",
            "haifa-1",
            "cmd/shofar/acme/model",
            1,
            1
        )
        .is_empty(),
        "the retained message is lost"
    );
}

#[test]
fn broker_disconnects_a_client_publishing_more_than_128_kib() {
    let Some((dir, pki, broker)) = broker(Persistence::Off) else {
        return;
    };

    let longest_topic = format!("dt/shofar/acme/records/{}", "x".repeat(MAX_TOPIC - 23));
    assert_eq!(longest_topic.len(), MAX_TOPIC);
    let largest = dir.path().join("largest");
    std::fs::write(&largest, vec![b'a'; MAX_PAYLOAD]).unwrap();
    let output = run(broker
        .client("mosquitto_pub", &pki, "jerusalem-1")
        .args(["-q", "1", "-t", &longest_topic, "-f"])
        .arg(&largest));
    assert!(output.status.success(), "128 KiB: {}", text(&output));

    let too_large = dir.path().join("too-large");
    std::fs::write(&too_large, vec![b'a'; MAX_PAYLOAD + MAX_TOPIC + 1]).unwrap();
    let output = run(broker
        .client("mosquitto_pub", &pki, "jerusalem-1")
        .args(["-q", "1", "-t", "dt/shofar/acme/records/jerusalem-1", "-f"])
        .arg(&too_large));
    assert!(!output.status.success(), "over 128 KiB: {}", text(&output));
    assert!(broker.log().contains("oversize packet"), "{}", broker.log());
}

/// curl with SigV4 signing (`Some(secret)`) or unsigned; returns the status and body.
fn curl(s3: &S3, secret: Option<&str>, args: &[&str], path: &str) -> (u16, String) {
    let mut command = Command::new("curl");
    command.args(["-sS", "-w", "\n%{http_code}"]);
    if let Some(secret) = secret {
        command
            .arg("--aws-sigv4")
            .arg(format!("aws:amz:{}:s3", support::REGION))
            .arg("--user")
            .arg(format!("{}:{secret}", support::ACCESS_KEY))
            // curl 7.88 does not send it; s3s insists on it in signed requests.
            .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]);
    }
    let output = run(command.args(args).arg(format!("{}{path}", s3.endpoint())));
    assert!(output.status.success(), "curl: {}", text(&output));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (body, status) = stdout.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

/// A GET signed with the test credentials.
fn signed_get(s3: &S3, path: &str) -> (u16, String) {
    curl(s3, Some(support::SECRET_KEY), &[], path)
}

#[test]
fn s3_checks_signatures_and_keeps_plain_files_across_a_restart() {
    let Some(tools) = support::tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut s3 = S3::start(&tools, dir.path());
    eprintln!("s3s-fs up in {:?}", started.elapsed());
    assert_eq!(s3.endpoint(), format!("http://127.0.0.1:{}", s3.port()));
    s3.create_bucket("shofar-fleet");

    let (status, body) = curl(&s3, None, &[], "/shofar-fleet?list-type=2");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    let (status, body) = curl(&s3, Some("wrong"), &[], "/shofar-fleet?list-type=2");
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    let (status, body) = signed_get(&s3, "/shofar-fleet?list-type=2");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<KeyCount>0</KeyCount>"), "{body}");

    // A PUT through the API, a key with '/': a plain file in subfolders, its
    // metadata outside the bucket's folder.
    let key = "acme/records/v1/box=jerusalem-1/date=2026-12-07/000000000001-000000000002.jsonl.gz";
    let upload = dir.path().join("upload");
    std::fs::write(&upload, b"records").unwrap();
    let (status, body) = curl(
        &s3,
        Some(support::SECRET_KEY),
        &["-T", upload.to_str().unwrap()],
        &format!("/shofar-fleet/{key}"),
    );
    assert_eq!(status, 200, "{body}");
    // And a file written straight into the store (as the central side would).
    s3.put("shofar-fleet", "acme/models/latest.json", b"{\"v\":1}");
    let objects = s3.objects("shofar-fleet");
    let keys: Vec<&str> = objects.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["acme/models/latest.json", key]);
    assert_eq!(objects[1].1, s3.data_dir().join("shofar-fleet").join(key));
    assert_eq!(s3.get("shofar-fleet", key).unwrap(), b"records");

    s3.stop();
    assert!(!s3.is_running());
    let output = run(Command::new("curl")
        .args(["-sS", "-o", "/dev/null"])
        .arg(s3.endpoint()));
    assert!(!output.status.success(), "stopped: nothing listens");
    s3.start_again();

    let (status, body) = signed_get(&s3, &format!("/shofar-fleet/{key}"));
    assert_eq!((status, body.as_str()), (200, "records"));
    let (status, body) = signed_get(&s3, "/shofar-fleet/acme/models/latest.json");
    assert_eq!((status, body.as_str()), (200, "{\"v\":1}"));
    let (status, body) = signed_get(&s3, "/shofar-fleet?list-type=2");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<KeyCount>2</KeyCount>"), "{body}");

    let pid = s3.pid().unwrap();
    drop(s3);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "drop stops s3s-fs"
    );
}

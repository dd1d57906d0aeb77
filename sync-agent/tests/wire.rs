//! The wire (`shofar_sync::wire`): every way a payload can be wrong is refused with
//! the right kind of error and a message an operator can act on, and every type
//! reads back what it wrote (seed property 50: every message between modules —
//! here between boxes and the cloud — conforms to its versioned schema).

use std::fmt::Debug;

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use shofar_phone::E164;
use shofar_sync::wire::{
    self, AddOp, AddSource, BoxStatus, CallRec, DncMessage, DncOp, DncSnapshot, Inbound, Keys,
    MAX_PAYLOAD, ModelManifest, Name, Record, RecordBatch, RemoveOp, Sender, SigningKey, SmsRec,
    Topics, VerifyingKey, WireError,
};

// ---------------------------------------------------------------------------
// The helper

/// Checks that `result` is an error of `kind` whose message contains `fragment`.
#[track_caller]
fn check<T: Debug>(case: &str, result: Result<T, WireError>, kind: &str, fragment: &str) {
    match result {
        Ok(value) => panic!("{case}: accepted, expected {kind}: {value:?}"),
        Err(error) => {
            let message = error.to_string();
            assert_eq!(error.kind(), kind, "{case}: {message}");
            assert!(
                message.contains(fragment),
                "{case}: {message:?} does not contain {fragment:?}"
            );
        }
    }
}

fn org() -> Name {
    Name::org("acme").unwrap()
}

fn tel_aviv() -> Name {
    Name::boxid("tel-aviv").unwrap()
}

fn number() -> E164 {
    "+972525551234".parse().unwrap()
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 2, 9, 30, 0).unwrap()
}

const CENTRAL_TAG: &str = "central:0123456789abcdef0123456789abcdef";

fn optout(tag: &str, e164: &str) -> Value {
    json!({"op": "add", "tag": tag, "e164": e164, "reason": "pressed 9",
           "source": "user_optout", "at": "2025-03-02T09:30:00Z", "by": "ivr"})
}

fn removal(tags: &[&str]) -> Value {
    json!({"op": "remove", "e164": "+972525551234", "tags": tags,
           "reason": "asked to be called again", "at": "2025-03-02T10:00:00Z", "by": "dana"})
}

fn message(from: &str, ops: Vec<Value>) -> Value {
    json!({"v": 1, "org": "acme", "from": from, "ops": ops})
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// `value` with `field` of its object (or of its first op, for `ops.0.field`) set.
fn with(mut value: Value, field: &str, new: Value) -> Value {
    match field.strip_prefix("ops.0.") {
        Some(op_field) => value["ops"][0][op_field] = new,
        None => value[field] = new,
    }
    value
}

/// A central message of an addition and a removal, signed with `key`.
fn central_signed(key: &SigningKey) -> DncMessage {
    let mut message = DncMessage::central(
        &org(),
        "dana",
        vec![
            DncOp::Add(AddOp::central(number(), "complained", at(), "dana")),
            DncOp::Remove(RemoveOp::new(
                "+97236123456".parse().unwrap(),
                vec!["haifa:7".into()],
                "registry mistake",
                at(),
                "dana",
            )),
        ],
    );
    message.sign(key);
    message
}

fn json_of(message: &DncMessage) -> Value {
    serde_json::from_slice(&message.to_json()).unwrap()
}

// ---------------------------------------------------------------------------
// Refusals

/// Every way a do-not-call message can be wrong, through `parse_dnc` with the
/// organization's key.
#[test]
fn bad_dnc_messages_are_refused() {
    let (key, _) = SigningKey::generate();
    let (other_key, _) = SigningKey::generate();
    let verify = key.verifying_key();
    let good_box = message("box:tel-aviv", vec![optout("tel-aviv:17", "+972525551234")]);
    let signed = json_of(&central_signed(&key));
    let mut tampered = signed.clone();
    tampered["ops"][1]["tags"] = json!(["haifa:7", "haifa:8"]);
    let huge_reason = "x".repeat(MAX_PAYLOAD);

    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "malformed JSON",
            b"{\"v\": 1, \"org\": \"acme\"".to_vec(),
            "json",
            "EOF",
        ),
        ("not an object", b"[1, 2]".to_vec(), "json", "invalid type"),
        (
            "no version",
            bytes(&json!({"org": "acme"})),
            "json",
            "missing field `v`",
        ),
        (
            "a newer version, with fields this one does not know",
            bytes(&with(
                with(good_box.clone(), "v", json!(2)),
                "priority",
                json!("high"),
            )),
            "version",
            "version 2",
        ),
        (
            "oversized",
            bytes(&with(good_box.clone(), "ops.0.reason", json!(huge_reason))),
            "too_large",
            "limit of 131072 bytes",
        ),
        (
            "another organization",
            bytes(&with(good_box.clone(), "org", json!("globex"))),
            "other_org",
            "\"globex\"",
        ),
        (
            "an unknown field",
            bytes(&with(good_box.clone(), "note", json!("hi"))),
            "json",
            "unknown field `note`",
        ),
        (
            "an unknown field in an operation",
            bytes(&with(good_box.clone(), "ops.0.campaign", json!(3))),
            "json",
            "unknown field `campaign`",
        ),
        (
            "an unknown operation",
            bytes(&with(good_box.clone(), "ops.0.op", json!("replace"))),
            "json",
            "unknown variant `replace`",
        ),
        (
            "a box message with a removal",
            bytes(&message("box:tel-aviv", vec![removal(&["tel-aviv:17"])])),
            "invalid",
            "a box only adds its own opt-outs",
        ),
        (
            "a box message with another box's opt-out",
            bytes(&message(
                "box:tel-aviv",
                vec![optout("haifa:17", "+972525551234")],
            )),
            "invalid",
            "tagged \"haifa:17\"",
        ),
        (
            "a box message with a central addition",
            bytes(&message(
                "box:tel-aviv",
                vec![with(
                    with(
                        optout(CENTRAL_TAG, "+972525551234"),
                        "source",
                        json!("central"),
                    ),
                    "by",
                    json!("x"),
                )],
            )),
            "invalid",
            "a box only adds its own opt-outs",
        ),
        (
            "a central message, unsigned",
            bytes(&with(signed.clone(), "sig", Value::Null)),
            "unsigned",
            "not signed",
        ),
        (
            "a central message, signature not base64",
            bytes(&with(signed.clone(), "sig", json!("not base64!"))),
            "signature",
            "not base64",
        ),
        (
            "a central message, signature of other content",
            bytes(&tampered),
            "signature",
            "does not match",
        ),
        (
            "a central message signed by another key",
            central_signed(&other_key).to_json(),
            "signature",
            "does not match",
        ),
        (
            "a box tag that is not a history id",
            bytes(&message(
                "box:tel-aviv",
                vec![optout("tel-aviv:abc", "+972525551234")],
            )),
            "invalid",
            "tag \"tel-aviv:abc\" is not valid",
        ),
        (
            "a central tag in capitals",
            bytes(&with(
                signed.clone(),
                "ops.0.tag",
                json!("central:0123456789ABCDEF0123456789ABCDEF"),
            )),
            "invalid",
            "is not valid",
        ),
        (
            "an empty tag",
            bytes(&message("box:tel-aviv", vec![optout("", "+972525551234")])),
            "invalid",
            "tag \"\" is not valid",
        ),
        (
            "a tag that disagrees with its source",
            bytes(&with(signed.clone(), "ops.0.source", json!("user_optout"))),
            "invalid",
            "does not agree with source",
        ),
        (
            "a number as people type it",
            bytes(&message(
                "box:tel-aviv",
                vec![optout("tel-aviv:17", "050-1234567")],
            )),
            "invalid",
            "\"050-1234567\" is not a number in canonical E.164",
        ),
        (
            "a number without its plus",
            bytes(&message(
                "box:tel-aviv",
                vec![optout("tel-aviv:17", "972525551234")],
            )),
            "invalid",
            "canonical E.164",
        ),
        (
            "a time that is not RFC 3339",
            bytes(&with(
                good_box.clone(),
                "ops.0.at",
                json!("2025-03-02 09:30"),
            )),
            "invalid",
            "not an RFC 3339 time",
        ),
        (
            "a reason over 500 characters",
            bytes(&with(
                good_box.clone(),
                "ops.0.reason",
                json!("א".repeat(501)),
            )),
            "invalid",
            "501 characters long",
        ),
        (
            "a removal without a reason",
            bytes(&message(
                "central:dana",
                vec![with(removal(&["haifa:7"]), "reason", json!(" "))],
            )),
            "invalid",
            "must say why",
        ),
        (
            "a removal that lists no tag",
            bytes(&message("central:dana", vec![removal(&[])])),
            "invalid",
            "lists no tag",
        ),
        (
            "a box sender named central",
            bytes(&with(good_box.clone(), "from", json!("box:central"))),
            "invalid",
            "reserved",
        ),
        (
            "a sender of neither kind",
            bytes(&with(good_box.clone(), "from", json!("robot"))),
            "invalid",
            "sender \"robot\" is not valid",
        ),
        (
            "a central sender without a name",
            bytes(&with(signed.clone(), "from", json!("central:"))),
            "invalid",
            "sender \"central:\" is not valid",
        ),
    ];
    for (case, payload, kind, fragment) in cases {
        check(
            case,
            wire::parse_dnc(&payload, &org(), Some(&verify)),
            kind,
            fragment,
        );
    }
}

/// Without the organization's key, a central message's signature is not checked;
/// a box's message is never signed, and a signature on it is ignored.
#[test]
fn signatures_are_checked_only_on_central_messages_with_a_key() {
    let (key, _) = SigningKey::generate();
    let (other_key, _) = SigningKey::generate();
    let unsigned = with(json_of(&central_signed(&key)), "sig", Value::Null);
    let unsigned = {
        let mut value = unsigned;
        value.as_object_mut().unwrap().remove("sig");
        value
    };
    assert!(wire::parse_dnc(&bytes(&unsigned), &org(), None).is_ok());
    assert!(wire::parse_dnc(&central_signed(&other_key).to_json(), &org(), None).is_ok());
    let box_message = with(
        message("box:tel-aviv", vec![optout("tel-aviv:17", "+972525551234")]),
        "sig",
        json!("AAAA"),
    );
    let parsed = wire::parse_dnc(&bytes(&box_message), &org(), Some(&key.verifying_key())).unwrap();
    assert_eq!(parsed.sender(), Ok(Sender::Box(tel_aviv())));
}

/// Whitespace and field order on the way do not break a signature: it covers the
/// values, re-serialized.
#[test]
fn a_signature_survives_reformatting() {
    let (key, _) = SigningKey::generate();
    let signed = central_signed(&key);
    let mut value = json_of(&signed);
    let object = value.as_object_mut().unwrap();
    let reordered: serde_json::Map<String, Value> = object
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let pretty = serde_json::to_vec_pretty(&reordered).unwrap();
    let parsed = wire::parse_dnc(&pretty, &org(), Some(&key.verifying_key())).unwrap();
    assert_eq!(parsed, signed);
}

/// Operations checked one by one, with what they are checked against.
#[test]
fn bad_operations_are_refused() {
    let good = RemoveOp::new(number(), vec!["haifa:7".into()], "mistake", at(), "dana");
    let too_many = RemoveOp {
        tags: (0..10_001).map(|i| format!("haifa:{i}")).collect(),
        ..good.clone()
    };
    check(
        "a removal of 10,001 tags",
        DncOp::Remove(too_many).validate(),
        "invalid",
        "at most 10000",
    );
    let bad_tag = RemoveOp {
        tags: vec!["haifa:7".into(), "haifa".into()],
        ..good.clone()
    };
    check(
        "a removal with a bad tag",
        DncOp::Remove(bad_tag).validate(),
        "invalid",
        "\"haifa\"",
    );
    let long_by = RemoveOp {
        by: "d".repeat(501),
        ..good.clone()
    };
    check(
        "a long author",
        DncOp::Remove(long_by).validate(),
        "invalid",
        "`by`",
    );
    assert_eq!(DncOp::Remove(good).validate(), Ok(number()));
}

fn call(seq: i64) -> Record {
    Record::Call(CallRec {
        key: format!("tel-aviv/call/c-{seq}"),
        seq,
        call_id: format!("c-{seq}"),
        campaign_id: Some(3),
        campaign: Some("חנוכה 2025".into()),
        contact_id: Some(812),
        e164: "+972525551234".into(),
        attempt: 2,
        call_kind: "campaign".into(),
        status: "completed".into(),
        outcome: Some("answered_human".into()),
        hangup_cause: Some("16".into()),
        amd_result: Some("HUMAN".into()),
        started_at: "2025-03-02T09:30:00.000Z".into(),
        answered_at: Some("2025-03-02T09:30:07.000Z".into()),
        ended_at: Some("2025-03-02T09:31:00.000Z".into()),
        duration_ms: Some(60_000),
        talk_ms: Some(53_000),
        dtmf: "19".into(),
        actions: vec!["donate:100".into()],
        opted_out: false,
        ended_by: Some("caller".into()),
        dnc_version: Some(41),
    })
}

fn sms(seq: i64) -> Record {
    Record::Sms(SmsRec {
        key: format!("tel-aviv/sms/{seq}"),
        seq,
        id: seq,
        campaign_id: None,
        campaign: None,
        contact_id: None,
        e164: "+97236123456".into(),
        status: "delivered".into(),
        provider: Some("019".into()),
        provider_message_id: Some("m-1".into()),
        attempts: 1,
        queued_at: "2025-03-02T09:30:00.000Z".into(),
        sent_at: Some("2025-03-02T09:30:01.000Z".into()),
        delivered_at: None,
        failure_reason: None,
        fallback_call: None,
        dnc_version: Some(41),
        cost_agorot: Some(7),
    })
}

fn batch() -> RecordBatch {
    RecordBatch {
        v: 1,
        org: org(),
        r#box: tel_aviv(),
        first_seq: 10,
        last_seq: 12,
        records: vec![call(10), sms(12)],
    }
}

/// Record batches, on MQTT and in S3.
#[test]
fn bad_record_batches_are_refused() {
    let good: Value = serde_json::from_slice(&batch().to_json()).unwrap();
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "another organization",
            with(good.clone(), "org", json!("globex")),
            "other_org",
            "globex",
        ),
        (
            "a newer version",
            with(good.clone(), "v", json!(3)),
            "version",
            "version 3",
        ),
        (
            "an unknown field",
            with(good.clone(), "boxes", json!([])),
            "json",
            "unknown field",
        ),
        (
            "a box named central",
            with(good.clone(), "box", json!("central")),
            "invalid",
            "reserved",
        ),
        (
            "a box name in capitals",
            with(good.clone(), "box", json!("Tel-Aviv")),
            "json",
            "not valid",
        ),
        (
            "a range backwards",
            with(good.clone(), "first_seq", json!(13)),
            "invalid",
            "after its last",
        ),
        (
            "a record outside the range",
            with(good.clone(), "last_seq", json!(11)),
            "invalid",
            "outside",
        ),
        (
            "a record of another box",
            with(good.clone(), "box", json!("haifa")),
            "invalid",
            "haifa/call/",
        ),
        (
            "a record with a message body",
            {
                let mut value = good.clone();
                value["records"][1]["body"] = json!("שלום");
                value
            },
            "json",
            "unknown field `body`",
        ),
        (
            "a record of an unknown kind",
            {
                let mut value = good.clone();
                value["records"][0]["kind"] = json!("fax");
                value
            },
            "json",
            "unknown variant `fax`",
        ),
    ];
    for (case, value, kind, fragment) in cases {
        check(
            case,
            wire::parse_records(&bytes(&value), &org()),
            kind,
            fragment,
        );
    }
}

fn zeros_gzipped(size: usize) -> Vec<u8> {
    wire::gzip(&vec![b'\n'; size])
}

/// Gzip is decompressed only up to its limit: a bomb is refused without filling
/// memory.
#[test]
fn bad_gzip_is_refused() {
    let bomb = zeros_gzipped(64 * 1024 * 1024);
    assert!(bomb.len() < 128 * 1024, "{} bytes", bomb.len());
    check(
        "a bomb",
        wire::gunzip(&bomb, 1024 * 1024),
        "too_large",
        "at least 1048577 bytes",
    );
    check(
        "a bomb of records",
        wire::parse_jsonl_gz(&bomb, 1024 * 1024),
        "too_large",
        "limit",
    );
    check(
        "not gzip",
        wire::gunzip(b"{\"v\": 1}", 1024),
        "invalid",
        "not valid gzip",
    );
    let bad_line = wire::gzip(b"{\"box\": \"tel-aviv\", \"kind\": \"call\"}\n");
    check(
        "a line that is not a record",
        wire::parse_jsonl_gz(&bad_line, 1024),
        "json",
        "line 1",
    );
    let no_box = wire::gzip(b"\n{\"kind\": \"sms\"}\n");
    check(
        "a line without its box",
        wire::parse_jsonl_gz(&no_box, 1024),
        "json",
        "line 2",
    );
    let mut line: Value = serde_json::from_slice(&serde_json::to_vec(&sms(3)).unwrap()).unwrap();
    line["box"] = json!("haifa");
    let other_box = wire::gzip(&bytes(&line));
    check(
        "a record of another box",
        wire::parse_jsonl_gz(&other_box, 1024),
        "invalid",
        "line 1",
    );
    // Exactly at the limit is accepted.
    assert_eq!(
        wire::gunzip(&zeros_gzipped(1000), 1000).unwrap().len(),
        1000
    );
}

fn manifest(data: &[u8]) -> ModelManifest {
    use sha2::{Digest, Sha256};
    let sha256: String = Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ModelManifest {
        v: 1,
        org: org(),
        name: "amd".into(),
        version: "2025.03-1".into(),
        size: data.len() as u64,
        key: Keys::new(&org()).model("amd", "2025.03-1", &sha256),
        sha256,
        published_at: "2025-03-02T09:30:00Z".into(),
        by: "dana".into(),
        sig: None,
    }
}

/// Model manifests, and the files they describe.
#[test]
fn bad_models_are_refused() {
    let (key, _) = SigningKey::generate();
    let (other_key, _) = SigningKey::generate();
    let verify = key.verifying_key();
    let data = b"onnx model bytes".as_slice();
    let mut signed = manifest(data);
    signed.sign(&key);
    let good: Value = serde_json::from_slice(&signed.to_json()).unwrap();
    let mut by_other = manifest(data);
    by_other.sign(&other_key);

    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "unsigned",
            bytes(&with(good.clone(), "sig", Value::Null)),
            "unsigned",
            "not signed",
        ),
        (
            "signed by another key",
            by_other.to_json(),
            "signature",
            "does not match",
        ),
        (
            "a size other than signed",
            bytes(&with(good.clone(), "size", json!(17))),
            "signature",
            "does not match",
        ),
        (
            "another organization",
            bytes(&with(good.clone(), "org", json!("globex"))),
            "other_org",
            "globex",
        ),
        (
            "a name with a slash",
            bytes(&with(good.clone(), "name", json!("../amd"))),
            "invalid",
            "model name",
        ),
        (
            "a version with a space",
            bytes(&with(good.clone(), "version", json!("1 0"))),
            "invalid",
            "model version",
        ),
        (
            "a short hash",
            bytes(&with(good.clone(), "sha256", json!("abc"))),
            "invalid",
            "64 lowercase hex",
        ),
        (
            "a key of another organization",
            bytes(&with(
                good.clone(),
                "key",
                json!("globex/models/amd/1.onnx"),
            )),
            "invalid",
            "not under acme/models/",
        ),
        (
            "a key that climbs out",
            bytes(&with(
                good.clone(),
                "key",
                json!("acme/models/../records/x"),
            )),
            "invalid",
            "not under",
        ),
        (
            "an unknown field",
            bytes(&with(good.clone(), "url", json!("http://x"))),
            "json",
            "unknown field `url`",
        ),
    ];
    for (case, payload, kind, fragment) in cases {
        check(
            case,
            wire::parse_manifest(&payload, &org(), Some(&verify)),
            kind,
            fragment,
        );
    }

    let manifest = wire::parse_manifest(&signed.to_json(), &org(), Some(&verify)).unwrap();
    assert_eq!(manifest.check_model_bytes(data), Ok(()));
    check(
        "a truncated file",
        manifest.check_model_bytes(&data[1..]),
        "invalid",
        "incomplete",
    );
    let mut damaged = data.to_vec();
    damaged[0] ^= 1;
    check(
        "a damaged file",
        manifest.check_model_bytes(&damaged),
        "invalid",
        "damaged",
    );
}

/// Snapshots and statuses, the rest of the payloads.
#[test]
fn bad_snapshots_and_statuses_are_refused() {
    let (key, _) = SigningKey::generate();
    let verify = key.verifying_key();
    let mut snapshot = DncSnapshot::new(&org(), at(), "dana", central_signed(&key).ops);
    snapshot.sign(&key);
    let good: Value = serde_json::from_slice(&snapshot.to_json()).unwrap();
    let parse =
        |value: &Value, limit| wire::parse_snapshot(&bytes(value), &org(), Some(&verify), limit);
    check(
        "a snapshot unsigned",
        parse(&with(good.clone(), "sig", Value::Null), 1 << 20),
        "unsigned",
        "",
    );
    check(
        "a snapshot changed",
        parse(&with(good.clone(), "by", json!("eve")), 1 << 20),
        "signature",
        "",
    );
    check(
        "a snapshot over its limit",
        parse(&good, 100),
        "too_large",
        "limit of 100 bytes",
    );
    check(
        "a snapshot with a bad operation",
        parse(
            &with(good.clone(), "ops.0.e164", json!("050-1234567")),
            1 << 20,
        ),
        "invalid",
        "operation 1 (add \"050-1234567\")",
    );
    // A signed message is not a signed snapshot, even with the same operations.
    let message = central_signed(&key);
    let replayed = with(good.clone(), "sig", json!(message.sig));
    check(
        "a message's signature on a snapshot",
        parse(&replayed, 1 << 20),
        "signature",
        "",
    );

    let status: Value = serde_json::from_slice(&status().to_json()).unwrap();
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "a status of a box named central",
            with(status.clone(), "box", json!("central")),
            "invalid",
            "reserved",
        ),
        (
            "a status with a bad time",
            with(status.clone(), "connected_since", json!("now")),
            "invalid",
            "RFC 3339",
        ),
        (
            "a status with an unknown field",
            with(status.clone(), "uptime", json!(3)),
            "json",
            "unknown field",
        ),
        (
            "a status missing a field",
            {
                let mut value = status.clone();
                value.as_object_mut().unwrap().remove("waiting_optouts");
                value
            },
            "json",
            "missing field `waiting_optouts`",
        ),
    ];
    for (case, value, kind, fragment) in cases {
        check(
            case,
            wire::parse_status(&bytes(&value), &org()),
            kind,
            fragment,
        );
    }
}

/// Names, as ids of organizations and boxes.
#[test]
fn bad_names_are_refused() {
    for text in [
        "",
        "-acme",
        "Acme",
        "acme_1",
        "אקמה",
        &"a".repeat(33),
        "a/b",
        "a b",
    ] {
        check(text, Name::org(text), "invalid", "is not valid");
        check(text, Name::boxid(text), "invalid", "is not valid");
    }
    check("central", Name::boxid("central"), "invalid", "reserved");
    assert!(Name::org("central").is_ok());
    for text in ["a", "acme", "tel-aviv-2", "0", &"a".repeat(32)] {
        assert_eq!(Name::boxid(text).unwrap().as_str(), text);
    }
    assert!(serde_json::from_str::<Name>("\"-x\"").is_err());
}

/// Keys: a signing key reads back from its PKCS#8, and a verifying key from base64.
#[test]
fn keys_read_back_and_bad_ones_are_refused() {
    let (key, pkcs8) = SigningKey::generate();
    let again = SigningKey::from_pkcs8(&pkcs8).unwrap();
    assert_eq!(again.public_base64(), key.public_base64());
    let verify = VerifyingKey::from_base64(&key.public_base64()).unwrap();
    assert_eq!(verify, key.verifying_key());
    let signature = again.sign_bytes(b"hello");
    assert_eq!(verify.verify_bytes(b"hello", &signature), Ok(()));
    check(
        "another message",
        verify.verify_bytes(b"hellO", &signature),
        "signature",
        "does not match",
    );
    check(
        "not a key",
        SigningKey::from_pkcs8(b"nonsense"),
        "signature",
        "PKCS#8",
    );
    check(
        "not base64",
        VerifyingKey::from_base64("!!"),
        "signature",
        "not base64",
    );
    check(
        "a short key",
        VerifyingKey::from_base64("AAAA"),
        "signature",
        "3 bytes",
    );
    assert!(!format!("{key:?}").contains(&format!("{pkcs8:?}")));
}

// ---------------------------------------------------------------------------
// Round trips and names

fn status() -> BoxStatus {
    BoxStatus {
        v: 1,
        org: org(),
        r#box: tel_aviv(),
        at: "2025-03-02T09:30:00.000Z".into(),
        version: "1.4.0".into(),
        connected_since: Some("2025-03-02T08:00:00Z".into()),
        waiting_records: 12,
        oldest_waiting_at: None,
        waiting_optouts: 0,
        dnc_version: 41,
        model: Some("amd 2025.03-1".into()),
        errors: vec!["S3: access denied".into()],
    }
}

#[test]
fn every_payload_reads_back_what_it_wrote() {
    let (key, _) = SigningKey::generate();
    let verify = key.verifying_key();

    let optouts = DncMessage::from_box(
        &org(),
        &tel_aviv(),
        vec![DncOp::Add(AddOp::box_optout(
            &tel_aviv(),
            17,
            number(),
            "pressed 9",
            at(),
            "ivr",
        ))],
    );
    assert_eq!(
        wire::parse_dnc(&optouts.to_json(), &org(), Some(&verify)),
        Ok(optouts.clone())
    );
    assert!(
        !String::from_utf8(optouts.to_json())
            .unwrap()
            .contains("sig")
    );
    let central = central_signed(&key);
    assert_eq!(
        wire::parse_dnc(&central.to_json(), &org(), Some(&verify)),
        Ok(central.clone())
    );
    assert_eq!(central.sender(), Ok(Sender::Central("dana".into())));

    assert_eq!(wire::parse_records(&batch().to_json(), &org()), Ok(batch()));

    let mut snapshot = DncSnapshot::new(&org(), at(), "dana", central.ops.clone());
    snapshot.sign(&key);
    let gz = wire::gzip(&snapshot.to_json());
    let json = wire::gunzip(&gz, 1 << 20).unwrap();
    assert_eq!(
        wire::parse_snapshot(&json, &org(), Some(&verify), 1 << 20),
        Ok(snapshot)
    );

    let mut model = manifest(b"bytes");
    model.sign(&key);
    assert_eq!(
        wire::parse_manifest(&model.to_json(), &org(), Some(&verify)),
        Ok(model.clone())
    );
    assert_eq!(
        model.signed_text(),
        format!("amd\n2025.03-1\n5\n{}", model.sha256)
    );

    assert_eq!(
        wire::parse_status(&status().to_json(), &org()),
        Ok(status())
    );

    let records = batch().records;
    let object = wire::jsonl_gz(&tel_aviv(), &records);
    let text = String::from_utf8(wire::gunzip(&object, 1 << 20).unwrap()).unwrap();
    assert!(
        text.lines()
            .all(|line| line.starts_with("{\"box\":\"tel-aviv\",\"kind\":")),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2);
    let read: Vec<(Name, Record)> = wire::parse_jsonl_gz(&object, 1 << 20).unwrap();
    assert_eq!(
        read,
        records
            .into_iter()
            .map(|r| (tel_aviv(), r))
            .collect::<Vec<_>>()
    );
}

/// The JSON of one opt-out, as the contract spells it.
#[test]
fn an_optout_on_the_wire() {
    let op = DncOp::Add(AddOp::box_optout(
        &tel_aviv(),
        17,
        number(),
        "pressed 9",
        at(),
        "ivr",
    ));
    assert_eq!(
        String::from_utf8(serde_json::to_vec(&op).unwrap()).unwrap(),
        r#"{"op":"add","tag":"tel-aviv:17","e164":"+972525551234","reason":"pressed 9","source":"user_optout","at":"2025-03-02T09:30:00.000Z","by":"ivr"}"#
    );
    assert_eq!(op.id(), "tel-aviv:17");
    let DncOp::Add(add) = &op else { unreachable!() };
    assert_eq!(add.source, AddSource::UserOptout);
    let central = AddOp::central(number(), "complained", at(), "dana");
    assert!(
        central.tag.starts_with("central:") && central.tag.len() == 40,
        "{}",
        central.tag
    );
    assert_ne!(
        central.tag,
        AddOp::central(number(), "complained", at(), "dana").tag
    );
}

/// A removal's id is its content's: the order of its tags does not change it, any
/// other field does.
#[test]
fn a_removal_id_is_deterministic() {
    let tags = |list: &[&str]| list.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    let one = RemoveOp::new(number(), tags(&["b:1", "a:2"]), "mistake", at(), "dana");
    let mut two = one.clone();
    two.tags = tags(&["a:2", "b:1", "a:2"]);
    assert_eq!(DncOp::Remove(one.clone()).id(), DncOp::Remove(two).id());
    assert!(one.id().starts_with("rm:") && one.id().len() == 3 + 64);
    let mut other = one.clone();
    other.reason = "mistake!".into();
    assert_ne!(one.id(), other.id());
    // Fields cannot trade characters and keep the id.
    let mut shifted = one.clone();
    shifted.reason = "mistakeda".into();
    shifted.by = "na".into();
    assert_ne!(one.id(), shifted.id());
}

#[test]
fn topics_and_their_classification() {
    let topics = Topics::new(&org(), &tel_aviv());
    assert_eq!(topics.dnc_mine(), "dt/shofar/acme/dnc/tel-aviv");
    assert_eq!(topics.dnc_all(), "dt/shofar/acme/dnc/+");
    assert_eq!(topics.dnc_central(), "cmd/shofar/acme/dnc");
    assert_eq!(topics.records(), "dt/shofar/acme/records/tel-aviv");
    assert_eq!(topics.status(), "dt/shofar/acme/status/tel-aviv");
    assert_eq!(topics.model(), "cmd/shofar/acme/model");

    let haifa = Name::boxid("haifa").unwrap();
    let cases: &[(&str, Option<Inbound>)] = &[
        (
            "dt/shofar/acme/dnc/haifa",
            Some(Inbound::BoxDnc(haifa.clone())),
        ),
        ("cmd/shofar/acme/dnc", Some(Inbound::CentralDnc)),
        ("cmd/shofar/acme/model", Some(Inbound::Model)),
        (
            "dt/shofar/acme/status/haifa",
            Some(Inbound::Status(haifa.clone())),
        ),
        (
            "dt/shofar/acme/records/haifa",
            Some(Inbound::Records(haifa)),
        ),
        ("dt/shofar/globex/dnc/haifa", None),
        ("cmd/shofar/globex/dnc", None),
        ("dt/shofar/acme/dnc/central", None),
        ("dt/shofar/acme/dnc/Haifa", None),
        ("dt/shofar/acme/dnc/haifa/x", None),
        ("dt/shofar/acme/calls/haifa", None),
        ("", None),
    ];
    for (topic, expected) in cases {
        assert_eq!(&wire::classify(&org(), topic), expected, "{topic}");
    }
}

#[test]
fn s3_keys() {
    let keys = Keys::new(&org());
    let date = NaiveDate::from_ymd_opt(2025, 3, 2).unwrap();
    let records = keys.records(&tel_aviv(), date, 1, 250);
    assert_eq!(
        records,
        "acme/records/v1/box=tel-aviv/date=2025-03-02/000000000001-000000000250.jsonl.gz"
    );
    assert!(records.starts_with(&keys.records_prefix()));
    assert_eq!(
        wire::parse_records_key(&records),
        Some((tel_aviv(), date, 1, 250))
    );
    let change = keys.dnc_change("central", at(), "1", "9");
    assert_eq!(change, "acme/dnc/changes/central/20250302T093000Z-1-9.json");
    assert!(change.starts_with(&keys.dnc_changes_prefix()));
    let snapshot = keys.dnc_snapshot(at());
    assert_eq!(snapshot, "acme/dnc/snapshots/20250302T093000Z.json.gz");
    assert!(snapshot.starts_with(&keys.dnc_snapshots_prefix()));
    let status = keys.box_status(&tel_aviv());
    assert_eq!(status, "acme/boxes/tel-aviv/status.json");
    assert!(status.starts_with(&keys.boxes_prefix()));
    let sha = "0123456789abcdef".repeat(4);
    assert_eq!(
        keys.model("amd", "2025.03-1", &sha),
        "acme/models/amd/2025.03-1-0123456789abcdef.onnx"
    );
    assert_eq!(keys.model_latest(), "acme/models/latest.json");

    for key in [
        "acme/records/v1/box=tel-aviv/date=2025-03-02/1-250.jsonl.gz",
        "acme/records/v1/box=tel-aviv/date=2025-3-2/000000000001-000000000250.jsonl.gz",
        "acme/records/v1/box=central/date=2025-03-02/000000000001-000000000250.jsonl.gz",
        "acme/records/v2/box=tel-aviv/date=2025-03-02/000000000001-000000000250.jsonl.gz",
        "acme/records/v1/box=tel-aviv/date=2025-03-02/+00000000001-000000000250.jsonl.gz",
        "acme/records/v1/box=tel-aviv/date=2025-03-02/000000000001-000000000250.json",
        "acme/records/v1/tel-aviv/2025-03-02/000000000001-000000000250.jsonl.gz",
        "acme/dnc/changes/central/20250302T093000Z-1-9.json",
    ] {
        assert_eq!(wire::parse_records_key(key), None, "{key}");
    }
}

proptest! {
    /// Every record key reads back, whatever its box, date and positions.
    #[test]
    fn record_keys_read_back(
        boxid in "[a-z0-9][a-z0-9-]{0,31}",
        days in 0i32..40_000,
        first in 0i64..i64::MAX,
        length in 0i64..1_000_000,
    ) {
        prop_assume!(boxid != "central");
        let boxid = Name::boxid(&boxid).unwrap();
        let date = NaiveDate::from_num_days_from_ce_opt(700_000 + days).unwrap();
        let last = first.saturating_add(length);
        let key = Keys::new(&org()).records(&boxid, date, first, last);
        prop_assert_eq!(wire::parse_records_key(&key), Some((boxid, date, first, last)));
    }
}

//! The sync agent's wire: every MQTT payload and S3 object it reads or writes, the
//! names of its topics and keys, and the checks a payload passes before anything
//! received is applied.
//!
//! # The format
//!
//! Every payload is JSON with `"v": 1` and the organization it belongs to. Version 1
//! is a fixed format: a reader refuses unknown fields, so a field is never added
//! without a new version, and a newer payload is reported as a newer version
//! (upgrade the agent), not as a typo. Times are RFC 3339 text and numbers stay
//! text (`"+972525551234"`) on the wire, so the format does not move when a domain
//! type does; [`DncOp::validate`] turns them into domain values.
//!
//! # What a parser checks, in this order
//!
//! 1. Size: at most [`MAX_PAYLOAD`] (AWS IoT's limit) or the limit given; gzip
//!    is decompressed only up to its limit, so a small bomb cannot fill memory.
//! 2. JSON, then the version, then the organization, then the exact shape.
//! 3. Each value: names, numbers, tags, times, lengths.
//! 4. The sender's rights: a box speaks only for its own opt-outs; a central change
//!    is signed with the organization's key when the organization has one.
//!
//! Signatures are Ed25519 over bytes this module re-serializes from the parsed
//! values (a private struct with a fixed field order), never over the bytes
//! received, so whitespace or field order on the way does not matter. The signed
//! structs of a message and a snapshot have different fields, so a signature made
//! for one never verifies as the other.
//!
//! Invariants:
//! - No I/O and no clock: callers pass times in, and every function here is pure.
//! - Nothing here panics on any input.

use std::fmt;
use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shofar_phone::E164;

/// The format version this agent writes and the only one it reads.
pub const VERSION: u32 = 1;

/// The largest MQTT payload accepted or sent: AWS IoT Core's limit.
pub const MAX_PAYLOAD: usize = 128 * 1024;

/// The size a sender aims at when it splits work into payloads, leaving room under
/// [`MAX_PAYLOAD`] for the envelope and a signature.
pub const TARGET_PAYLOAD: usize = 96 * 1024;

/// The longest tag, reason or `by` accepted, in characters.
const MAX_TAG: usize = 100;
const MAX_TEXT: usize = 500;
/// The most tags one removal may list.
const MAX_REMOVE_TAGS: usize = 10_000;
/// The longest central admin name in a `from`.
const MAX_ADMIN: usize = 64;
/// The longest S3 key a model manifest may name (S3's own limit).
const MAX_KEY: usize = 1024;

/// The name a box may never take: central admins sign their changes with it.
const CENTRAL: &str = "central";

// ---------------------------------------------------------------------------
// Errors

/// Why a payload, name or key was refused. The message is for the operator reading
/// the agent's log: it says what was wrong and, where it can, what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The payload (or what it decompresses to) is over the limit.
    #[error(
        "payload of at least {size} bytes is over the limit of {limit} bytes; the sender must split it"
    )]
    TooLarge {
        /// The size seen; for gzip, the limit plus one (decompression stops there).
        size: usize,
        /// The limit that applied.
        limit: usize,
    },
    /// Not JSON, or JSON of another shape (an unknown or missing field).
    #[error("not a valid payload: {0}")]
    Json(String),
    /// A format version this agent does not read.
    #[error("format version {0} is not understood (this agent reads version 1): upgrade the agent")]
    Version(u32),
    /// A payload of another organization.
    #[error(
        "the payload belongs to organization {got:?}, this agent to {expected:?}: check the topic permissions of the sender"
    )]
    OtherOrg {
        /// This agent's organization.
        expected: String,
        /// The organization the payload names.
        got: String,
    },
    /// A value that breaks the contract: a bad number, tag, name, time or right.
    #[error("invalid: {0}")]
    Invalid(String),
    /// A signature that does not verify, or a key that cannot be used.
    #[error("bad signature: {0}; was it signed with the organization's current key?")]
    Signature(String),
    /// A central payload without a signature where the organization has a key.
    #[error(
        "the payload is not signed, but this organization's central changes must be: sign it with the organization's key"
    )]
    Unsigned,
}

impl WireError {
    /// A short stable name of the kind of error, for a metrics label:
    /// `too_large`, `json`, `version`, `other_org`, `invalid`, `signature` or
    /// `unsigned`.
    pub fn kind(&self) -> &'static str {
        match self {
            WireError::TooLarge { .. } => "too_large",
            WireError::Json(_) => "json",
            WireError::Version(_) => "version",
            WireError::OtherOrg { .. } => "other_org",
            WireError::Invalid(_) => "invalid",
            WireError::Signature(_) => "signature",
            WireError::Unsigned => "unsigned",
        }
    }
}

fn invalid(message: impl Into<String>) -> WireError {
    WireError::Invalid(message.into())
}

// ---------------------------------------------------------------------------
// Names

/// A validated organization or box id: 1 to 32 of `a-z`, `0-9` and `-`, not
/// starting with `-`. It is safe in a topic, an S3 key and a tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    /// An organization id.
    pub fn org(text: &str) -> Result<Name, WireError> {
        Name::checked(text, "organization")
    }

    /// A box id; `central` is reserved for the organization's central admins.
    pub fn boxid(text: &str) -> Result<Name, WireError> {
        let name = Name::checked(text, "box")?;
        if name.0 == CENTRAL {
            return Err(invalid(
                "\"central\" is reserved for the organization's central admins and cannot name a box",
            ));
        }
        Ok(name)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn checked(text: &str, what: &str) -> Result<Name, WireError> {
        let valid = !text.is_empty()
            && text.len() <= 32
            && !text.starts_with('-')
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Name(text.to_owned()))
        } else {
            Err(invalid(format!(
                "{what} id {text:?} is not valid: use 1 to 32 lowercase letters, digits and '-', not starting with '-'"
            )))
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

impl TryFrom<String> for Name {
    type Error = WireError;

    /// The rules both kinds of id share; a parser that reads a box id also refuses
    /// `central`.
    fn try_from(text: String) -> Result<Name, WireError> {
        Name::checked(&text, "organization or box")
    }
}

/// Refuses `central` where a deserialized name is a box's.
fn check_box(name: &Name) -> Result<(), WireError> {
    Name::boxid(name.as_str()).map(drop)
}

// ---------------------------------------------------------------------------
// MQTT topics

/// The MQTT topics of one box, after AWS IoT's conventions: `dt/` for data a device
/// sends, `cmd/` for what it is told, the thing's name last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    org: Name,
    boxid: Name,
}

impl Topics {
    /// The topics of box `boxid` of organization `org`.
    pub fn new(org: &Name, boxid: &Name) -> Topics {
        Topics {
            org: org.clone(),
            boxid: boxid.clone(),
        }
    }

    /// Where this box publishes its opt-outs: `dt/shofar/{org}/dnc/{box}`.
    pub fn dnc_mine(&self) -> String {
        format!("dt/shofar/{}/dnc/{}", self.org, self.boxid)
    }

    /// Every box's opt-outs, to subscribe: `dt/shofar/{org}/dnc/+`.
    pub fn dnc_all(&self) -> String {
        format!("dt/shofar/{}/dnc/+", self.org)
    }

    /// The central admins' changes: `cmd/shofar/{org}/dnc`.
    pub fn dnc_central(&self) -> String {
        central_dnc_topic(&self.org)
    }

    /// Where this box publishes its record batches: `dt/shofar/{org}/records/{box}`.
    pub fn records(&self) -> String {
        format!("dt/shofar/{}/records/{}", self.org, self.boxid)
    }

    /// Where this box publishes its status (retained): `dt/shofar/{org}/status/{box}`.
    pub fn status(&self) -> String {
        format!("dt/shofar/{}/status/{}", self.org, self.boxid)
    }

    /// Where a published model is announced (retained): `cmd/shofar/{org}/model`.
    pub fn model(&self) -> String {
        central_model_topic(&self.org)
    }
}

/// Where central admins publish do-not-call changes: `cmd/shofar/{org}/dnc`.
pub fn central_dnc_topic(org: &Name) -> String {
    format!("cmd/shofar/{org}/dnc")
}

/// Where central admins announce a model (retained): `cmd/shofar/{org}/model`.
pub fn central_model_topic(org: &Name) -> String {
    format!("cmd/shofar/{org}/model")
}

/// What a topic of the organization carries, as [`classify`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A box's opt-outs; the box the topic names.
    BoxDnc(Name),
    /// The central admins' changes.
    CentralDnc,
    /// A model announcement.
    Model,
    /// A box's status; the box the topic names.
    Status(Name),
    /// A box's record batches; the box the topic names.
    Records(Name),
}

/// What `topic` carries, or `None` for a topic that is not one of `org`'s (another
/// organization's, or not a Shofar topic at all).
pub fn classify(org: &Name, topic: &str) -> Option<Inbound> {
    let parts: Vec<&str> = topic.split('/').collect();
    let boxid = |text: &str| Name::boxid(text).ok();
    match parts.as_slice() {
        ["dt", "shofar", o, "dnc", b] if *o == org.as_str() => boxid(b).map(Inbound::BoxDnc),
        ["dt", "shofar", o, "status", b] if *o == org.as_str() => boxid(b).map(Inbound::Status),
        ["dt", "shofar", o, "records", b] if *o == org.as_str() => boxid(b).map(Inbound::Records),
        ["cmd", "shofar", o, "dnc"] if *o == org.as_str() => Some(Inbound::CentralDnc),
        ["cmd", "shofar", o, "model"] if *o == org.as_str() => Some(Inbound::Model),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// S3 keys

/// The S3 key layout of one organization; every key starts with `{org}/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    org: Name,
}

/// The compact UTC time in keys: `20250101T120000Z`, sorting as time does.
fn key_time(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

impl Keys {
    /// The keys of organization `org`.
    pub fn new(org: &Name) -> Keys {
        Keys { org: org.clone() }
    }

    /// A record batch: `{org}/records/v1/box={box}/date={YYYY-MM-DD}/{first:012}-{last:012}.jsonl.gz`.
    /// The agent stores a batch's bounds before it uploads, so a retry writes the
    /// same key. Sequence numbers are not negative (the box's feed positions).
    pub fn records(&self, boxid: &Name, date: NaiveDate, first_seq: i64, last_seq: i64) -> String {
        format!(
            "{}/records/v1/box={boxid}/date={}/{first_seq:012}-{last_seq:012}.jsonl.gz",
            self.org,
            date.format("%Y-%m-%d")
        )
    }

    /// The prefix of every record batch: `{org}/records/v1/`.
    pub fn records_prefix(&self) -> String {
        format!("{}/records/v1/", self.org)
    }

    /// A do-not-call change, the same bytes as on MQTT:
    /// `{org}/dnc/changes/{source}/{YYYYMMDDTHHMMSSZ}-{first}-{last}.json`, where
    /// `source` is a box id or `central` and `first`/`last` name the message's
    /// first and last operation (the caller's choice; they must be key-safe).
    pub fn dnc_change(&self, source: &str, at: DateTime<Utc>, first: &str, last: &str) -> String {
        format!(
            "{}/dnc/changes/{source}/{}-{first}-{last}.json",
            self.org,
            key_time(at)
        )
    }

    /// The prefix of every do-not-call change: `{org}/dnc/changes/`.
    pub fn dnc_changes_prefix(&self) -> String {
        format!("{}/dnc/changes/", self.org)
    }

    /// A full do-not-call snapshot: `{org}/dnc/snapshots/{YYYYMMDDTHHMMSSZ}.json.gz`.
    pub fn dnc_snapshot(&self, at: DateTime<Utc>) -> String {
        format!("{}/dnc/snapshots/{}.json.gz", self.org, key_time(at))
    }

    /// The prefix of every snapshot: `{org}/dnc/snapshots/`; the last in key order
    /// is the newest.
    pub fn dnc_snapshots_prefix(&self) -> String {
        format!("{}/dnc/snapshots/", self.org)
    }

    /// A box's last status: `{org}/boxes/{box}/status.json`.
    pub fn box_status(&self, boxid: &Name) -> String {
        format!("{}/boxes/{boxid}/status.json", self.org)
    }

    /// The prefix of every box's folder: `{org}/boxes/`.
    pub fn boxes_prefix(&self) -> String {
        format!("{}/boxes/", self.org)
    }

    /// A model file: `{org}/models/{name}/{version}-{first 16 hex of sha256}.onnx`.
    pub fn model(&self, name: &str, version: &str, sha256hex: &str) -> String {
        let short = sha256hex.get(..16).unwrap_or(sha256hex);
        format!("{}/models/{name}/{version}-{short}.onnx", self.org)
    }

    /// The manifest of the newest model: `{org}/models/latest.json`.
    pub fn model_latest(&self) -> String {
        format!("{}/models/latest.json", self.org)
    }

    /// The prefix of every model: `{org}/models/`.
    pub fn models_prefix(&self) -> String {
        format!("{}/models/", self.org)
    }
}

/// Reads a key written by [`Keys::records`] (of any organization) back into its
/// box, date and first and last sequence numbers; `None` for any other key.
/// Only the exact form [`Keys::records`] writes is accepted.
pub fn parse_records_key(key: &str) -> Option<(Name, NaiveDate, i64, i64)> {
    let parts: Vec<&str> = key.split('/').collect();
    let [org, "records", "v1", boxid, date, file] = parts.as_slice() else {
        return None;
    };
    let org = Name::org(org).ok()?;
    let boxid = Name::boxid(boxid.strip_prefix("box=")?).ok()?;
    let date = NaiveDate::parse_from_str(date.strip_prefix("date=")?, "%Y-%m-%d").ok()?;
    let (first, last) = file.strip_suffix(".jsonl.gz")?.split_once('-')?;
    let digits = |text: &str| {
        if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<i64>().ok()
        } else {
            None
        }
    };
    let (first, last) = (digits(first)?, digits(last)?);
    // Only the canonical spelling: the same batch never has two keys.
    (Keys::new(&org).records(&boxid, date, first, last) == key)
        .then_some((boxid, date, first, last))
}

// ---------------------------------------------------------------------------
// Small helpers

/// `at` as the RFC 3339 text the wire carries: UTC, milliseconds, `Z`.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn check_time(what: &str, text: &str) -> Result<(), WireError> {
    DateTime::parse_from_rfc3339(text)
        .map(drop)
        .map_err(|_| invalid(format!("{what} {text:?} is not an RFC 3339 time")))
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), WireError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(invalid(format!(
            "{what} is {chars} characters long, at most {max} are accepted"
        )));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks size, JSON, version and organization, in that order, on a loose reading
/// that ignores every other field: a newer version is reported as such even when
/// it has fields this version would refuse.
fn envelope(bytes: &[u8], org: &Name, limit: usize) -> Result<(), WireError> {
    #[derive(Deserialize)]
    struct Envelope {
        v: u32,
        org: String,
    }
    if bytes.len() > limit {
        return Err(WireError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let envelope: Envelope =
        serde_json::from_slice(bytes).map_err(|error| WireError::Json(error.to_string()))?;
    if envelope.v != VERSION {
        return Err(WireError::Version(envelope.v));
    }
    if envelope.org != org.as_str() {
        return Err(WireError::OtherOrg {
            expected: org.to_string(),
            got: envelope.org,
        });
    }
    Ok(())
}

/// The exact reading, after [`envelope`].
fn strict<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    serde_json::from_slice(bytes).map_err(|error| WireError::Json(error.to_string()))
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // These types hold only strings, numbers and lists: serializing cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Keys and signatures

/// An organization's Ed25519 private key, which signs central do-not-call changes,
/// snapshots and model manifests. Its `Debug` shows only the public key.
pub struct SigningKey {
    pair: ring::signature::Ed25519KeyPair,
}

impl SigningKey {
    /// A new random key and its PKCS#8 document, to store.
    ///
    /// # Panics
    ///
    /// If the operating system's random source fails, which leaves nothing safe to
    /// do.
    pub fn generate() -> (SigningKey, Vec<u8>) {
        let rng = ring::rand::SystemRandom::new();
        let document = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .expect("the operating system's random source works");
        let pkcs8 = document.as_ref().to_vec();
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(&pkcs8)
            .expect("ring reads the PKCS#8 document it just wrote");
        (SigningKey { pair }, pkcs8)
    }

    /// A key from a PKCS#8 document: ring's own (v2) or `openssl genpkey
    /// -algorithm ed25519`'s (v1, without the public key).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<SigningKey, WireError> {
        ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map(|pair| SigningKey { pair })
            .map_err(|error| {
                WireError::Signature(format!("not an Ed25519 PKCS#8 private key ({error})"))
            })
    }

    /// The raw 32-byte public key in standard base64, as [`VerifyingKey::from_base64`]
    /// reads it (what a box's configuration holds).
    pub fn public_base64(&self) -> String {
        use ring::signature::KeyPair;
        BASE64.encode(self.pair.public_key().as_ref())
    }

    /// The key that verifies this key's signatures.
    pub fn verifying_key(&self) -> VerifyingKey {
        use ring::signature::KeyPair;
        let mut public = [0; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        VerifyingKey { public }
    }

    /// The Ed25519 signature of `message`, in standard base64.
    pub fn sign_bytes(&self, message: &[u8]) -> String {
        BASE64.encode(self.pair.sign(message).as_ref())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public_base64())
            .finish_non_exhaustive()
    }
}

/// An organization's Ed25519 public key, which a box checks central changes and
/// models with.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    public: [u8; 32],
}

impl VerifyingKey {
    /// The key from the standard base64 of its raw 32 bytes.
    pub fn from_base64(text: &str) -> Result<VerifyingKey, WireError> {
        let bytes = BASE64.decode(text.trim()).map_err(|error| {
            WireError::Signature(format!("the public key is not base64 ({error})"))
        })?;
        let public: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            WireError::Signature(format!(
                "the public key is {} bytes, an Ed25519 key is 32",
                bytes.len()
            ))
        })?;
        Ok(VerifyingKey { public })
    }

    /// The key as standard base64 of its raw 32 bytes.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.public)
    }

    /// Checks `signature` (standard base64) of `message`.
    pub fn verify_bytes(&self, message: &[u8], signature: &str) -> Result<(), WireError> {
        let signature = BASE64.decode(signature).map_err(|error| {
            WireError::Signature(format!("the signature is not base64 ({error})"))
        })?;
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, self.public)
            .verify(message, &signature)
            .map_err(|_| WireError::Signature("the signature does not match the content".into()))
    }

    /// Checks an optional signature: none is [`WireError::Unsigned`].
    fn verify_optional(&self, message: &[u8], signature: Option<&str>) -> Result<(), WireError> {
        self.verify_bytes(message, signature.ok_or(WireError::Unsigned)?)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VerifyingKey")
            .field(&self.to_base64())
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Do-not-call operations

/// Why a number was added: the person asked on a box, or a central admin listed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddSource {
    /// The person asked not to be called (on a call, by SMS, or to the staff of a
    /// box); the tag is `{box}:{history id}`.
    UserOptout,
    /// A central admin listed the number; the tag is `central:{32 hex}`.
    Central,
}

/// One change to the organization's do-not-call list, as the merge
/// ([`crate::merge::OrSet`]) takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum DncOp {
    /// List the number, under a tag no other addition has.
    Add(AddOp),
    /// Cancel the additions of a number it lists by tag (those its author saw).
    Remove(RemoveOp),
}

/// An addition, identified by its tag for ever.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOp {
    /// `{box}:{blacklist history id}` for a box's opt-out, `central:{32 lowercase
    /// hex}` for a central addition.
    pub tag: String,
    /// The number in canonical E.164, `+972525551234`.
    pub e164: String,
    /// Why, as the person or admin gave it (at most 500 characters).
    pub reason: String,
    /// Where the addition comes from; agrees with the tag's form.
    pub source: AddSource,
    /// When it was made, RFC 3339.
    pub at: String,
    /// Who made it (at most 500 characters).
    pub by: String,
}

/// A removal: it cancels exactly the additions of its number whose tags it lists,
/// so an addition its author never saw survives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveOp {
    /// The number in canonical E.164.
    pub e164: String,
    /// The tags of the additions cancelled (1 to 10,000).
    pub tags: Vec<String>,
    /// Why; a removal must say (at most 500 characters).
    pub reason: String,
    /// When it was made, RFC 3339.
    pub at: String,
    /// Who made it (at most 500 characters).
    pub by: String,
}

/// Which form a valid tag has.
enum TagForm {
    Box,
    Central,
}

fn parse_tag(tag: &str) -> Result<TagForm, WireError> {
    let bad = || {
        invalid(format!(
            "tag {tag:?} is not valid: use {{box}}:{{history id}} or central:{{32 lowercase hex}}"
        ))
    };
    if tag.is_empty() || tag.len() > MAX_TAG {
        return Err(bad());
    }
    let (prefix, rest) = tag.split_once(':').ok_or_else(bad)?;
    if prefix == CENTRAL {
        return is_lower_hex(rest, 32)
            .then_some(TagForm::Central)
            .ok_or_else(bad);
    }
    let digits = !rest.is_empty() && rest.len() <= 19 && rest.bytes().all(|b| b.is_ascii_digit());
    if digits && Name::boxid(prefix).is_ok() {
        Ok(TagForm::Box)
    } else {
        Err(bad())
    }
}

fn parse_e164(text: &str) -> Result<E164, WireError> {
    match text.parse::<E164>() {
        Ok(number) if number.to_string() == text => Ok(number),
        _ => Err(invalid(format!(
            "{text:?} is not a number in canonical E.164 form such as +972525551234"
        ))),
    }
}

impl DncOp {
    /// Checks every field and returns the number. See the module doc for the rules.
    pub fn validate(&self) -> Result<E164, WireError> {
        match self {
            DncOp::Add(add) => {
                let form = parse_tag(&add.tag)?;
                match (form, add.source) {
                    (TagForm::Box, AddSource::UserOptout)
                    | (TagForm::Central, AddSource::Central) => {}
                    _ => {
                        return Err(invalid(format!(
                            "tag {:?} does not agree with source {:?}: an opt-out has a box's tag, a central addition a central one",
                            add.tag, add.source
                        )));
                    }
                }
                check_time("time", &add.at)?;
                check_text("the reason", &add.reason, MAX_TEXT)?;
                check_text("`by`", &add.by, MAX_TEXT)?;
                parse_e164(&add.e164)
            }
            DncOp::Remove(remove) => {
                if remove.tags.is_empty() {
                    return Err(invalid(
                        "a removal lists no tag: it must name the additions it cancels",
                    ));
                }
                if remove.tags.len() > MAX_REMOVE_TAGS {
                    return Err(invalid(format!(
                        "a removal lists {} tags, at most {MAX_REMOVE_TAGS} are accepted",
                        remove.tags.len()
                    )));
                }
                for tag in &remove.tags {
                    parse_tag(tag)?;
                }
                if remove.reason.trim().is_empty() {
                    return Err(invalid(
                        "a removal has no reason: removing a number from do-not-call must say why",
                    ));
                }
                check_time("time", &remove.at)?;
                check_text("the reason", &remove.reason, MAX_TEXT)?;
                check_text("`by`", &remove.by, MAX_TEXT)?;
                parse_e164(&remove.e164)
            }
        }
    }

    /// The operation's identity: an addition's tag; for a removal `rm:` and the hex
    /// SHA-256 of its number, its tags (sorted, each once), reason, time and
    /// author. The same removal made twice has the same id.
    pub fn id(&self) -> String {
        match self {
            DncOp::Add(add) => add.tag.clone(),
            DncOp::Remove(remove) => remove.id(),
        }
    }

    /// The number, as the operation spells it.
    pub fn e164(&self) -> &str {
        match self {
            DncOp::Add(add) => &add.e164,
            DncOp::Remove(remove) => &remove.e164,
        }
    }
}

impl AddOp {
    /// A box's opt-out: tag `{box}:{history_id}` (the row of the box's blacklist
    /// history), source `user_optout`.
    pub fn box_optout(
        boxid: &Name,
        history_id: i64,
        e164: E164,
        reason: impl Into<String>,
        at: DateTime<Utc>,
        by: impl Into<String>,
    ) -> AddOp {
        AddOp {
            tag: format!("{boxid}:{history_id}"),
            e164: e164.to_string(),
            reason: reason.into(),
            source: AddSource::UserOptout,
            at: rfc3339(at),
            by: by.into(),
        }
    }

    /// A central addition, with a fresh random tag `central:{32 lowercase hex}`.
    pub fn central(
        e164: E164,
        reason: impl Into<String>,
        at: DateTime<Utc>,
        by: impl Into<String>,
    ) -> AddOp {
        let random: [u8; 16] = rand::random();
        AddOp {
            tag: format!("{CENTRAL}:{}", hex(&random)),
            e164: e164.to_string(),
            reason: reason.into(),
            source: AddSource::Central,
            at: rfc3339(at),
            by: by.into(),
        }
    }
}

impl RemoveOp {
    /// A removal of the additions `tags` of `e164` (the tags are kept sorted, each
    /// once).
    pub fn new(
        e164: E164,
        mut tags: Vec<String>,
        reason: impl Into<String>,
        at: DateTime<Utc>,
        by: impl Into<String>,
    ) -> RemoveOp {
        tags.sort();
        tags.dedup();
        RemoveOp {
            e164: e164.to_string(),
            tags,
            reason: reason.into(),
            at: rfc3339(at),
            by: by.into(),
        }
    }

    /// See [`DncOp::id`]. Each field enters the hash with its length first, so no
    /// two different removals share their hashed bytes.
    pub fn id(&self) -> String {
        let mut tags: Vec<&str> = self.tags.iter().map(String::as_str).collect();
        tags.sort_unstable();
        tags.dedup();
        let mut hash = Sha256::new();
        let mut field = |text: &str| {
            hash.update((text.len() as u64).to_le_bytes());
            hash.update(text.as_bytes());
        };
        field(&self.e164);
        field(&tags.len().to_string());
        for tag in &tags {
            field(tag);
        }
        field(&self.reason);
        field(&self.at);
        field(&self.by);
        format!("rm:{}", hex(&hash.finalize()))
    }
}

// ---------------------------------------------------------------------------
// Do-not-call messages

/// A batch of do-not-call operations on MQTT (`dt/shofar/{org}/dnc/{box}` from a
/// box, `cmd/shofar/{org}/dnc` from central) and in S3 (`dnc/changes/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DncMessage {
    /// The format version, [`VERSION`].
    pub v: u32,
    /// The organization.
    pub org: Name,
    /// The sender: `box:{box}` or `central:{admin}`.
    pub from: String,
    /// The operations, applied in any order.
    pub ops: Vec<DncOp>,
    /// Central only: the base64 Ed25519 signature, see [`DncMessage::sign`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

/// Who sent a [`DncMessage`], read from its `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A box, which speaks only for its own opt-outs.
    Box(Name),
    /// A central admin, by name.
    Central(String),
}

impl Sender {
    fn parse(from: &str) -> Result<Sender, WireError> {
        if let Some(boxid) = from.strip_prefix("box:") {
            return Name::boxid(boxid).map(Sender::Box);
        }
        if let Some(admin) = from.strip_prefix("central:") {
            let chars = admin.chars().count();
            if (1..=MAX_ADMIN).contains(&chars) && !admin.chars().any(char::is_control) {
                return Ok(Sender::Central(admin.to_owned()));
            }
        }
        Err(invalid(format!(
            "sender {from:?} is not valid: use box:{{box}} or central:{{admin, 1 to 64 characters}}"
        )))
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sender::Box(boxid) => write!(f, "box:{boxid}"),
            Sender::Central(admin) => write!(f, "central:{admin}"),
        }
    }
}

/// What a DNC message's signature covers, in this field order.
#[derive(Serialize)]
struct Signable<'a> {
    v: u32,
    org: &'a Name,
    from: &'a str,
    ops: &'a [DncOp],
}

impl DncMessage {
    /// A box's message of its opt-outs (unsigned).
    pub fn from_box(org: &Name, boxid: &Name, ops: Vec<DncOp>) -> DncMessage {
        DncMessage {
            v: VERSION,
            org: org.clone(),
            from: Sender::Box(boxid.clone()).to_string(),
            ops,
            sig: None,
        }
    }

    /// A central admin's message, to [`sign`](DncMessage::sign) before sending.
    pub fn central(org: &Name, admin: &str, ops: Vec<DncOp>) -> DncMessage {
        DncMessage {
            v: VERSION,
            org: org.clone(),
            from: Sender::Central(admin.to_owned()).to_string(),
            ops,
            sig: None,
        }
    }

    /// Who sent it, or why `from` is not valid.
    pub fn sender(&self) -> Result<Sender, WireError> {
        Sender::parse(&self.from)
    }

    fn signable(&self) -> Vec<u8> {
        to_json(&Signable {
            v: self.v,
            org: &self.org,
            from: &self.from,
            ops: &self.ops,
        })
    }

    /// Signs the message (its version, organization, sender and operations).
    pub fn sign(&mut self, key: &SigningKey) {
        self.sig = Some(key.sign_bytes(&self.signable()));
    }

    /// The JSON payload.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}

/// Validates operations and names the first bad one.
fn validate_ops(ops: &[DncOp]) -> Result<(), WireError> {
    for (index, op) in ops.iter().enumerate() {
        op.validate().map_err(|error| {
            invalid(format!(
                "operation {} ({} {:?}): {}",
                index + 1,
                match op {
                    DncOp::Add(_) => "add",
                    DncOp::Remove(_) => "remove",
                },
                op.e164(),
                match error {
                    WireError::Invalid(message) => message,
                    other => other.to_string(),
                }
            ))
        })?;
    }
    Ok(())
}

/// Reads and checks a do-not-call message of organization `org`: size, JSON,
/// version, organization, every operation, the sender's rights (a box sends only
/// additions of its own opt-outs), and, for a central message when `verify` is
/// given, its signature. With `verify` `None` a signature is not checked.
pub fn parse_dnc(
    bytes: &[u8],
    org: &Name,
    verify: Option<&VerifyingKey>,
) -> Result<DncMessage, WireError> {
    envelope(bytes, org, MAX_PAYLOAD)?;
    let message: DncMessage = strict(bytes)?;
    validate_ops(&message.ops)?;
    match message.sender()? {
        Sender::Box(boxid) => {
            for op in &message.ops {
                let own_optout = match op {
                    DncOp::Add(add) => {
                        add.source == AddSource::UserOptout
                            && add.tag.split_once(':').map(|(prefix, _)| prefix)
                                == Some(boxid.as_str())
                    }
                    DncOp::Remove(_) => false,
                };
                if !own_optout {
                    return Err(invalid(format!(
                        "box {boxid} sent {} {:?}: a box only adds its own opt-outs (tag {boxid}:…); removals and central entries come from central",
                        match op {
                            DncOp::Add(add) => format!("an addition tagged {:?} of", add.tag),
                            DncOp::Remove(_) => "a removal of".to_owned(),
                        },
                        op.e164()
                    )));
                }
            }
        }
        Sender::Central(_) => {
            if let Some(key) = verify {
                key.verify_optional(&message.signable(), message.sig.as_deref())?;
            }
        }
    }
    Ok(message)
}

// ---------------------------------------------------------------------------
// Do-not-call snapshots

/// The organization's whole do-not-call state at a time: every addition and every
/// removal it knows ([`crate::merge::OrSet::ops`]), written by central to
/// `dnc/snapshots/` (gzipped) and signed like a central message. A new box starts
/// from the newest one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DncSnapshot {
    /// The format version, [`VERSION`].
    pub v: u32,
    /// The organization.
    pub org: Name,
    /// When it was taken, RFC 3339.
    pub at: String,
    /// Who took it.
    pub by: String,
    /// Every known operation, additions then removals.
    pub ops: Vec<DncOp>,
    /// The base64 Ed25519 signature, see [`DncSnapshot::sign`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

/// What a snapshot's signature covers, in this field order.
#[derive(Serialize)]
struct SnapshotSignable<'a> {
    v: u32,
    org: &'a Name,
    at: &'a str,
    by: &'a str,
    ops: &'a [DncOp],
}

impl DncSnapshot {
    /// An unsigned snapshot of `ops` taken at `at` by `by`.
    pub fn new(
        org: &Name,
        at: DateTime<Utc>,
        by: impl Into<String>,
        ops: Vec<DncOp>,
    ) -> DncSnapshot {
        DncSnapshot {
            v: VERSION,
            org: org.clone(),
            at: rfc3339(at),
            by: by.into(),
            ops,
            sig: None,
        }
    }

    fn signable(&self) -> Vec<u8> {
        to_json(&SnapshotSignable {
            v: self.v,
            org: &self.org,
            at: &self.at,
            by: &self.by,
            ops: &self.ops,
        })
    }

    /// Signs the snapshot (everything but the signature).
    pub fn sign(&mut self, key: &SigningKey) {
        self.sig = Some(key.sign_bytes(&self.signable()));
    }

    /// The JSON, before gzip.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}

/// Reads and checks a snapshot (already decompressed with [`gunzip`]) of at most
/// `limit` bytes: like [`parse_dnc`], with the signature required and checked when
/// `verify` is given.
pub fn parse_snapshot(
    bytes: &[u8],
    org: &Name,
    verify: Option<&VerifyingKey>,
    limit: usize,
) -> Result<DncSnapshot, WireError> {
    envelope(bytes, org, limit)?;
    let snapshot: DncSnapshot = strict(bytes)?;
    check_time("the snapshot time", &snapshot.at)?;
    check_text("`by`", &snapshot.by, MAX_TEXT)?;
    validate_ops(&snapshot.ops)?;
    if let Some(key) = verify {
        key.verify_optional(&snapshot.signable(), snapshot.sig.as_deref())?;
    }
    Ok(snapshot)
}

// ---------------------------------------------------------------------------
// gzip

/// `bytes` gzipped.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Compressing into memory cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Decompresses gzip (one or more members) into at most `limit` bytes; more is
/// [`WireError::TooLarge`] with `size` the limit plus one, found without ever
/// holding more than that: a small bomb cannot fill memory.
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|error| invalid(format!("not valid gzip: {error}")))?;
    if out.len() > limit {
        return Err(WireError::TooLarge {
            size: out.len(),
            limit,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Records

/// One call or SMS record a box ships up, self-contained (the campaign's name is
/// copied in) so the cloud side needs nothing else to report on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A call attempt.
    Call(CallRec),
    /// An SMS.
    Sms(SmsRec),
}

/// A call attempt, as the box's store last holds it. Times are RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRec {
    /// `{box}/call/{call_id}`: unique in the organization; a later version of the
    /// same call has the same key and replaces it.
    pub key: String,
    /// The box's feed position of this version of the record.
    pub seq: i64,
    /// The box's call id.
    pub call_id: String,
    /// The campaign's id on the box, if any.
    pub campaign_id: Option<i64>,
    /// The campaign's name at the time.
    pub campaign: Option<String>,
    /// The contact's id on the box, if any.
    pub contact_id: Option<i64>,
    /// The number called, E.164.
    pub e164: String,
    /// Which attempt of the contact this was, from 1.
    pub attempt: u32,
    /// The kind of call (vocabulary of `shofar-vocab`).
    pub call_kind: String,
    /// The call's status.
    pub status: String,
    /// The outcome, once settled.
    pub outcome: Option<String>,
    /// The network's hangup cause.
    pub hangup_cause: Option<String>,
    /// The answering-machine detection's result.
    pub amd_result: Option<String>,
    /// When dialing started.
    pub started_at: String,
    /// When the call was answered.
    pub answered_at: Option<String>,
    /// When it ended.
    pub ended_at: Option<String>,
    /// From start to end, in milliseconds.
    pub duration_ms: Option<i64>,
    /// From answer to end, in milliseconds.
    pub talk_ms: Option<i64>,
    /// The keys pressed.
    pub dtmf: String,
    /// What the IVR did (`donate:{amount}`, `transfer:{to}`, …).
    pub actions: Vec<String>,
    /// Whether the person opted out during the call.
    pub opted_out: bool,
    /// Who ended the call.
    pub ended_by: Option<String>,
    /// The do-not-call version the pre-dial check saw.
    pub dnc_version: Option<u64>,
}

/// An SMS, as the box's store last holds it. Times are RFC 3339. The message body
/// is never shipped: it may carry personal details, and the campaign has the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsRec {
    /// `{box}/sms/{id}`: unique in the organization; a later version replaces it.
    pub key: String,
    /// The box's feed position of this version of the record.
    pub seq: i64,
    /// The box's SMS id.
    pub id: i64,
    /// The campaign's id on the box, if any.
    pub campaign_id: Option<i64>,
    /// The campaign's name at the time.
    pub campaign: Option<String>,
    /// The contact's id on the box, if any.
    pub contact_id: Option<i64>,
    /// The number texted, E.164.
    pub e164: String,
    /// The SMS's status.
    pub status: String,
    /// The provider that sent it.
    pub provider: Option<String>,
    /// The provider's id of the message.
    pub provider_message_id: Option<String>,
    /// How many sends were tried.
    pub attempts: u32,
    /// When it was queued.
    pub queued_at: String,
    /// When the provider accepted it.
    pub sent_at: Option<String>,
    /// When delivery was reported.
    pub delivered_at: Option<String>,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// The call made instead, when the SMS failed (its call id).
    pub fallback_call: Option<String>,
    /// The do-not-call version the pre-send check saw.
    pub dnc_version: Option<u64>,
    /// What it cost, in agorot.
    pub cost_agorot: Option<i64>,
}

impl Record {
    /// The record's key, `{box}/call/{id}` or `{box}/sms/{id}`.
    pub fn key(&self) -> &str {
        match self {
            Record::Call(call) => &call.key,
            Record::Sms(sms) => &sms.key,
        }
    }

    /// The box's feed position of the record.
    pub fn seq(&self) -> i64 {
        match self {
            Record::Call(call) => call.seq,
            Record::Sms(sms) => sms.seq,
        }
    }

    /// Refuses a record whose key is not of box `boxid`.
    fn check(&self, boxid: &Name) -> Result<(), WireError> {
        let kind = match self {
            Record::Call(_) => "call",
            Record::Sms(_) => "sms",
        };
        let prefix = format!("{boxid}/{kind}/");
        match self.key().strip_prefix(&prefix) {
            Some(rest) if !rest.is_empty() => Ok(()),
            _ => Err(invalid(format!(
                "record key {:?} is not of the form {prefix}{{id}}",
                self.key()
            ))),
        }
    }
}

/// Records of one box on MQTT (`dt/shofar/{org}/records/{box}`): the records of
/// feed positions `first_seq..=last_seq` (those that still exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordBatch {
    /// The format version, [`VERSION`].
    pub v: u32,
    /// The organization.
    pub org: Name,
    /// The box.
    #[serde(rename = "box")]
    pub r#box: Name,
    /// The first feed position covered.
    pub first_seq: i64,
    /// The last feed position covered.
    pub last_seq: i64,
    /// The records, each of a position in the range.
    pub records: Vec<Record>,
}

impl RecordBatch {
    /// The JSON payload.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}

/// Reads and checks a record batch of organization `org`: size, JSON, version,
/// organization, a box id, `first_seq <= last_seq`, and each record of the box and
/// in the range.
pub fn parse_records(bytes: &[u8], org: &Name) -> Result<RecordBatch, WireError> {
    envelope(bytes, org, MAX_PAYLOAD)?;
    let batch: RecordBatch = strict(bytes)?;
    check_box(&batch.r#box)?;
    if batch.first_seq > batch.last_seq {
        return Err(invalid(format!(
            "the batch's first position {} is after its last {}",
            batch.first_seq, batch.last_seq
        )));
    }
    for record in &batch.records {
        record.check(&batch.r#box)?;
        if !(batch.first_seq..=batch.last_seq).contains(&record.seq()) {
            return Err(invalid(format!(
                "record {:?} has position {}, outside the batch's {}..={}",
                record.key(),
                record.seq(),
                batch.first_seq,
                batch.last_seq
            )));
        }
    }
    Ok(batch)
}

/// Records as an S3 object: one JSON record per line, each with a `"box"` field
/// first, gzipped.
pub fn jsonl_gz(boxid: &Name, records: &[Record]) -> Vec<u8> {
    let mut text = Vec::new();
    for record in records {
        let mut line = serde_json::Map::new();
        line.insert("box".into(), boxid.as_str().into());
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(record) {
            line.extend(fields);
        }
        text.extend(to_json(&line));
        text.push(b'\n');
    }
    gzip(&text)
}

/// Reads an object written by [`jsonl_gz`], decompressing at most `limit_bytes`.
/// Empty lines are skipped; every other line must be a record of the box it names.
pub fn parse_jsonl_gz(bytes: &[u8], limit_bytes: usize) -> Result<Vec<(Name, Record)>, WireError> {
    let text = gunzip(bytes, limit_bytes)?;
    let mut records = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at_line = |message: String| format!("line {}: {message}", index + 1);
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(line)
                .map_err(|error| WireError::Json(at_line(error.to_string())))?;
        let boxid = match fields.remove("box") {
            Some(serde_json::Value::String(text)) => {
                Name::boxid(&text).map_err(|error| invalid(at_line(error.to_string())))?
            }
            _ => return Err(WireError::Json(at_line("no \"box\" text field".into()))),
        };
        let record: Record = serde_json::from_value(serde_json::Value::Object(fields))
            .map_err(|error| WireError::Json(at_line(error.to_string())))?;
        record
            .check(&boxid)
            .map_err(|error| invalid(at_line(error.to_string())))?;
        records.push((boxid, record));
    }
    Ok(records)
}

// ---------------------------------------------------------------------------
// Models

/// A published model: on MQTT (`cmd/shofar/{org}/model`, retained) and as
/// `models/latest.json`. The signature covers [`ModelManifest::signed_text`]; the
/// file itself is checked by size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    /// The format version, [`VERSION`].
    pub v: u32,
    /// The organization.
    pub org: Name,
    /// The model's name, `[a-z0-9_-]{1,64}`; installed as `{name}.onnx`.
    pub name: String,
    /// Its version, `[A-Za-z0-9._-]{1,64}`.
    pub version: String,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's SHA-256, 64 lowercase hex.
    pub sha256: String,
    /// The file's S3 key, under `{org}/models/` ([`Keys::model`]).
    pub key: String,
    /// When it was published, RFC 3339.
    pub published_at: String,
    /// Who published it.
    pub by: String,
    /// The base64 Ed25519 signature of [`ModelManifest::signed_text`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

impl ModelManifest {
    /// What the signature covers: `{name}\n{version}\n{size}\n{sha256}`.
    pub fn signed_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.name, self.version, self.size, self.sha256
        )
    }

    /// Signs the manifest.
    pub fn sign(&mut self, key: &SigningKey) {
        self.sig = Some(key.sign_bytes(self.signed_text().as_bytes()));
    }

    /// Checks a downloaded file: its size, then its SHA-256.
    pub fn check_model_bytes(&self, data: &[u8]) -> Result<(), WireError> {
        self.check_model_digest(data.len() as u64, &hex(&Sha256::digest(data)))
    }

    /// Checks a file hashed elsewhere (streamed from disk): its size, then its
    /// SHA-256 in hex.
    pub fn check_model_digest(&self, size: u64, sha256hex: &str) -> Result<(), WireError> {
        if size != self.size {
            return Err(invalid(format!(
                "model {} {} is {size} bytes, its manifest says {}: the download is incomplete or not this model",
                self.name, self.version, self.size
            )));
        }
        if !sha256hex.eq_ignore_ascii_case(&self.sha256) {
            return Err(invalid(format!(
                "model {} {} has SHA-256 {sha256hex}, its manifest says {}: the file is damaged or not this model",
                self.name, self.version, self.sha256
            )));
        }
        Ok(())
    }

    /// The JSON payload.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}

/// Reads and checks a model manifest of organization `org`: size, JSON, version,
/// organization, name, version, hash, a key under `{org}/models/`, and, when
/// `verify` is given, the signature (required).
pub fn parse_manifest(
    bytes: &[u8],
    org: &Name,
    verify: Option<&VerifyingKey>,
) -> Result<ModelManifest, WireError> {
    envelope(bytes, org, MAX_PAYLOAD)?;
    let manifest: ModelManifest = strict(bytes)?;
    let name_ok = (1..=64).contains(&manifest.name.len())
        && manifest
            .name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
    if !name_ok {
        return Err(invalid(format!(
            "model name {:?} is not valid: use 1 to 64 of a-z, 0-9, '_' and '-'",
            manifest.name
        )));
    }
    let version_ok = (1..=64).contains(&manifest.version.len())
        && manifest
            .version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !version_ok {
        return Err(invalid(format!(
            "model version {:?} is not valid: use 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'",
            manifest.version
        )));
    }
    if !is_lower_hex(&manifest.sha256, 64) {
        return Err(invalid(format!(
            "model SHA-256 {:?} is not 64 lowercase hex digits",
            manifest.sha256
        )));
    }
    let prefix = Keys::new(org).models_prefix();
    let key_ok = manifest.key.len() <= MAX_KEY
        && manifest.key.strip_prefix(&prefix).is_some_and(|rest| {
            !rest.is_empty() && !rest.split('/').any(|part| part.is_empty() || part == "..")
        });
    if !key_ok {
        return Err(invalid(format!(
            "model key {:?} is not under {prefix}",
            manifest.key
        )));
    }
    check_time("the publication time", &manifest.published_at)?;
    check_text("`by`", &manifest.by, MAX_TEXT)?;
    if let Some(key) = verify {
        key.verify_optional(manifest.signed_text().as_bytes(), manifest.sig.as_deref())?;
    }
    Ok(manifest)
}

// ---------------------------------------------------------------------------
// Box status

/// A box's status on MQTT (`dt/shofar/{org}/status/{box}`, retained) and in S3
/// (`boxes/{box}/status.json`). Times are RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxStatus {
    /// The format version, [`VERSION`].
    pub v: u32,
    /// The organization.
    pub org: Name,
    /// The box.
    #[serde(rename = "box")]
    pub r#box: Name,
    /// When the status was taken.
    pub at: String,
    /// The agent's version.
    pub version: String,
    /// Since when the agent is connected to the broker, if it is.
    pub connected_since: Option<String>,
    /// Records not yet acknowledged by the cloud.
    pub waiting_records: u64,
    /// When the oldest of them was written.
    pub oldest_waiting_at: Option<String>,
    /// Opt-outs not yet acknowledged by the broker.
    pub waiting_optouts: u64,
    /// The box's do-not-call version (operations merged).
    pub dnc_version: u64,
    /// The installed model, `{name} {version}`.
    pub model: Option<String>,
    /// The current problems, for the operator.
    pub errors: Vec<String>,
}

impl BoxStatus {
    /// The JSON payload.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}

/// Reads and checks a box status of organization `org`: size, JSON, version,
/// organization, a box id and its times.
pub fn parse_status(bytes: &[u8], org: &Name) -> Result<BoxStatus, WireError> {
    envelope(bytes, org, MAX_PAYLOAD)?;
    let status: BoxStatus = strict(bytes)?;
    check_box(&status.r#box)?;
    check_time("the status time", &status.at)?;
    for (what, time) in [
        ("the connection time", &status.connected_since),
        ("the oldest waiting time", &status.oldest_waiting_at),
    ] {
        if let Some(time) = time {
            check_time(what, time)?;
        }
    }
    Ok(status)
}

//! The simulator drives real sessions: every call here goes through
//! `Telephony::call` — the pre-dial check, the record in a real SQLite file, the
//! IVR engine running the default flow, the outcome classification — and only the
//! far end is simulated. The records in the store say what the configured world
//! did.
//!
//! Most tests run on a paused clock (`start_paused`): time moves only when every
//! task waits, so IVR timeouts and call deadlines pass at once and in a fixed
//! order, and nothing depends on how fast the machine is. The tests about
//! concurrency and the simulator's own measurements run on the real
//! multi-threaded runtime with the world sped up (`time_scale`); they assert
//! nothing about how long anything took.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use shofar_dnc::SharedDnc;
use shofar_ivr::Flow;
use shofar_phone::E164;
use shofar_store::Store;
use shofar_store::blacklist::{BlacklistSource, NewEntry};
use shofar_store::calls::{CallKind, CallRecord};
use shofar_telephony::backend::sim::KeyShares;
use shofar_telephony::{
    Amd, Backend, CallControl, CallPlan, CallPlanner, CallTemplate, Link, SimConfig, Simulator,
    Telephony, TelephonyError,
};
use tempfile::TempDir;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The start of every channel id, as `AriLink` and the simulator are given it.
const PREFIX: &str = "sim-test-";

/// Above `SimConfig::default().ring_seconds`' maximum (12 s): a ring longer than
/// the box waits is a no-answer, which would blur the shares.
const RING_TIMEOUT: Duration = Duration::from_secs(30);

/// The flow every call runs: the product's default.
static FLOW: LazyLock<Arc<Flow>> = LazyLock::new(|| Arc::new(Flow::default_flow()));

/// A media string for each of the flow's prompts and the voicemail message (the
/// simulator plays any string).
static PROMPTS: LazyLock<Arc<HashMap<String, String>>> = LazyLock::new(|| {
    let prompts = FLOW
        .prompts()
        .iter()
        .cloned()
        .chain(["voicemail".to_owned()])
        .map(|name| {
            let media = format!("sound:shofar/{name}");
            (name, media)
        })
        .collect();
    Arc::new(prompts)
});

/// A simulated network, a store in a real SQLite file and the do-not-call
/// index, tied together the way the supervisor ties them.
struct World {
    simulator: Simulator,
    telephony: Telephony,
    /// The test's own connection, as another process would read the records.
    store: parking_lot::Mutex<Store>,
    _writer: shofar_store::writer::WriterThread,
    _dir: TempDir,
}

/// The planner the calls dial with: the default trunk (national dial strings,
/// see [`endpoint`]), the simulator (no audio).
fn planner() -> CallPlanner {
    let normalizer = shofar_phone::Normalizer::new("IL", &["IL".to_owned()]).unwrap();
    CallPlanner::new(
        &shofar_telephony::config::AsteriskConfig::default(),
        shofar_telephony::config::TrunkConfig::default(),
        normalizer,
        true,
    )
}

impl World {
    fn new(config: SimConfig) -> World {
        World::with_shutdown(config, CancellationToken::new())
    }

    fn with_shutdown(config: SimConfig, shutdown: CancellationToken) -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shofar.db");
        let store = Store::open(&path).unwrap();
        let (writer, writer_thread) = shofar_store::writer::spawn(Store::open(&path).unwrap());
        let simulator = Simulator::new(config, "shofar", PREFIX, shutdown).unwrap();
        let telephony = Telephony {
            backend: Arc::new(simulator.clone()),
            writer,
            planner: Arc::new(planner()),
            dnc: SharedDnc::default(),
            link_wait: Duration::from_secs(1),
        };
        World {
            simulator,
            telephony,
            store: parking_lot::Mutex::new(store),
            _writer: writer_thread,
            _dir: dir,
        }
    }

    /// Places one call and returns its record as the store holds it.
    async fn call(&self, request: CallPlan) -> CallRecord {
        let call_id = request.call_id.clone();
        let returned = self
            .telephony
            .call(request, CallControl::default())
            .await
            .unwrap();
        let stored = self.record(&call_id);
        assert_eq!(returned, stored, "the session returned another record");
        stored
    }

    /// Waits until every write given to the writer so far is applied.
    fn settled(&self) {
        self.telephony
            .writer
            .write_blocking(|_| Ok(()))
            .expect("the writer runs");
    }

    fn record(&self, call_id: &str) -> CallRecord {
        self.store
            .lock()
            .call_record(call_id)
            .unwrap()
            .unwrap_or_else(|| panic!("call {call_id} has no record"))
    }

    /// Every call of the batch, placed at once in the given order; their
    /// records, by call id.
    async fn batch(&self, indexes: impl Iterator<Item = u64>) -> BTreeMap<String, CallRecord> {
        let mut calls = JoinSet::new();
        for index in indexes {
            let telephony = self.telephony.clone();
            let request = request(&call_id(index), batch_number(index), batch_amd());
            calls.spawn(async move { telephony.call(request, CallControl::default()).await });
        }
        let mut records = BTreeMap::new();
        while let Some(result) = calls.join_next().await {
            let record = result.unwrap().unwrap();
            records.insert(record.call_id.clone(), record);
        }
        records
    }
}

/// Fixed width: Asterisk checks channel ids by prefix.
fn call_id(index: u64) -> String {
    format!("{PREFIX}{index:06}")
}

fn number(text: &str) -> E164 {
    text.parse().unwrap()
}

/// 052-555xxxx, one number per call of a batch.
fn batch_number(index: u64) -> E164 {
    E164::from_u64(972_525_550_000 + index).unwrap()
}

/// The detection batches run with: machines get the message.
fn batch_amd() -> Amd {
    Amd::LeaveMessage {
        prompt: "voicemail".to_owned(),
    }
}

/// The dial string for the number, national digits as the trunk writes them.
fn endpoint(number: E164) -> String {
    let national = number.to_string().replacen("+972", "0", 1);
    format!("PJSIP/{national}@trunk")
}

fn template(amd: Amd, max_call: Duration) -> Arc<CallTemplate> {
    Arc::new(CallTemplate {
        caller_id: Some("036123456".to_owned()),
        flow: FLOW.clone(),
        prompts: PROMPTS.clone(),
        amd,
        transfers: false,
        ring_timeout: RING_TIMEOUT,
        max_call,
    })
}

fn request(call_id: &str, number: E164, amd: Amd) -> CallPlan {
    CallPlan {
        call_id: call_id.to_owned(),
        number,
        campaign: None,
        contact_id: None,
        attempt: 1,
        kind: CallKind::Test,
        template: template(amd, Duration::from_secs(600)),
    }
}

fn no_keys() -> KeyShares {
    KeyShares {
        one: 0.0,
        two: 0.0,
        nine: 0.0,
        zero: 0.0,
        invalid: 0.0,
    }
}

/// A world where every call meets the same fate (shares of 0 or 1), nobody is a
/// machine, nobody presses a key and people stay on the line until the box hangs
/// up. The box's own timers are not scaled (the menu waits 10 real seconds, 500
/// of the world's at this scale), so "until the box hangs up" is an hour.
fn certain(answer: f64, busy: f64, congestion: f64, failed: f64) -> SimConfig {
    SimConfig {
        answer_rate: answer,
        busy_rate: busy,
        congestion_rate: congestion,
        failed_rate: failed,
        machine_rate: 0.0,
        talk_seconds: [3600.0, 3600.0],
        keys: no_keys(),
        time_scale: 50.0,
        ..SimConfig::default()
    }
}

/// Every call is answered by a person who listens to the end.
fn answering() -> SimConfig {
    certain(1.0, 0.0, 0.0, 0.0)
}

/// Every call is answered by a person who presses the keys in these shares.
fn pressing(keys: KeyShares) -> SimConfig {
    SimConfig {
        keys,
        ..answering()
    }
}

/// The record's ending as a test names it: status, outcome, who ended it, the
/// keys and the actions, compared at once so a failure shows the whole record.
#[track_caller]
fn check(record: &CallRecord, outcome: &str, ended_by: &str, dtmf: &str, actions: &[&str]) {
    let got = (
        record.status.as_str(),
        record.outcome.as_ref().map(|o| o.as_str()),
        record.ended_by.as_ref().map(|by| by.as_str()),
        record.dtmf.as_str(),
        record
            .actions
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    );
    let expected = (
        "ended",
        Some(outcome),
        Some(ended_by),
        dtmf,
        actions.iter().map(ToString::to_string).collect(),
    );
    assert_eq!(got, expected, "record: {record:#?}");
}

/// An answered call the box ended itself (normal clearing).
#[track_caller]
fn check_answered_by_a_person(record: &CallRecord) {
    assert_eq!(record.hangup_code, Some(16), "record: {record:#?}");
    assert_eq!(record.dial_status.as_deref(), Some("ANSWER"));
    assert!(record.answered_at.is_some(), "record: {record:#?}");
}

/// The default menu waits 10 s for a key, twice more after the "no-input"
/// prompt, then says goodbye and hangs up.
const THREE_MENU_TIMEOUTS: Duration = Duration::from_secs(30);

/// Seed property 18 through the simulator: a person answers and presses nothing;
/// the menu times out three times (on the paused clock: at least 30 s pass), the
/// flow says goodbye and hangs up. Answered, ended by the flow, no keys, no
/// actions.
#[tokio::test(start_paused = true)]
async fn an_answered_call_with_no_key_times_out_and_the_flow_hangs_up() {
    let world = World::new(answering());
    let placed = Instant::now();
    let record = world
        .call(request(&call_id(1), number("+972525551234"), Amd::Off))
        .await;
    check(&record, "answered", "flow", "", &[]);
    check_answered_by_a_person(&record);
    assert!(!record.opted_out && !record.converted, "{record:#?}");
    assert_eq!(record.amd_result, None);
    assert!(
        placed.elapsed() >= THREE_MENU_TIMEOUTS,
        "the flow ended before its timeouts: {:?}",
        placed.elapsed()
    );
}

/// A call that is never answered: its record names the outcome, the Q.850
/// cause, the Dial status, and the network as who ended it.
#[track_caller]
fn check_unanswered(record: &CallRecord, outcome: &str, cause: i64, dial_status: &str) {
    check(record, outcome, "network", "", &[]);
    assert_eq!(
        (record.hangup_code, record.dial_status.as_deref()),
        (Some(cause), Some(dial_status)),
        "record: {record:#?}"
    );
    assert!(record.answered_at.is_none(), "record: {record:#?}");
    assert!(!record.opted_out && !record.converted);
}

async fn call_once(config: SimConfig) -> CallRecord {
    let world = World::new(config);
    world
        .call(request(&call_id(1), number("+97236123456"), Amd::Off))
        .await
}

/// A busy line: outcome `busy`, cause 17, Dial `BUSY`.
#[tokio::test(start_paused = true)]
async fn a_busy_line_is_busy_with_cause_17() {
    let record = call_once(certain(0.0, 1.0, 0.0, 0.0)).await;
    check_unanswered(&record, "busy", 17, "BUSY");
}

/// A congested network: outcome `congestion`, cause 34, Dial `CONGESTION`.
#[tokio::test(start_paused = true)]
async fn a_congested_network_is_congestion() {
    let record = call_once(certain(0.0, 0.0, 1.0, 0.0)).await;
    check_unanswered(&record, "congestion", 34, "CONGESTION");
}

/// An unreachable number: outcome `failed`, cause 3, Dial `CHANUNAVAIL`.
#[tokio::test(start_paused = true)]
async fn an_unreachable_number_failed() {
    let record = call_once(certain(0.0, 0.0, 0.0, 1.0)).await;
    check_unanswered(&record, "failed", 3, "CHANUNAVAIL");
}

/// Nobody answers: it rings until the ring timeout, outcome `no_answer`,
/// cause 19.
#[tokio::test(start_paused = true)]
async fn ringing_with_nobody_answering_is_no_answer() {
    let record = call_once(certain(0.0, 0.0, 0.0, 0.0)).await;
    check_unanswered(&record, "no_answer", 19, "NOANSWER");
}

/// A person who would answer after 40 s of ringing, longer than the box's 30 s
/// ring timeout, is a no-answer too.
#[tokio::test(start_paused = true)]
async fn an_answer_later_than_the_ring_timeout_is_no_answer() {
    let record = call_once(SimConfig {
        ring_seconds: [40.0, 40.0],
        ..answering()
    })
    .await;
    check_unanswered(&record, "no_answer", 19, "NOANSWER");
}

/// Seed property 12 through the simulator: pressing 9 lists the number (in the
/// store and in the shared index the pre-dial check reads), the record says
/// opted out, the flow confirms and hangs up — and the next call to the number is
/// refused without being dialed.
#[tokio::test(start_paused = true)]
async fn pressing_9_opts_out_and_the_number_is_never_dialed_again() {
    let world = World::new(pressing(KeyShares {
        nine: 1.0,
        ..no_keys()
    }));
    let number = number("+972525551234");
    let record = world.call(request(&call_id(1), number, Amd::Off)).await;
    check(&record, "answered", "flow", "9", &["blacklist"]);
    check_answered_by_a_person(&record);
    assert!(record.opted_out && !record.converted, "{record:#?}");

    let entry = world
        .store
        .lock()
        .blacklist_entry(number)
        .unwrap()
        .expect("the opted-out number is not on the list");
    assert_eq!(entry.source, BlacklistSource::UserOptout);
    assert!(world.telephony.dnc.predial_check(number).is_err());

    let again = world
        .telephony
        .call(
            request(&call_id(2), number, Amd::Off),
            CallControl::default(),
        )
        .await;
    assert!(
        matches!(&again, Err(TelephonyError::Blacklisted { call_id: refused, .. }) if *refused == call_id(2)),
        "{again:?}"
    );
    check(
        &world.record(&call_id(2)),
        "blacklisted",
        "supervisor",
        "",
        &[],
    );
    let dialed: Vec<String> = world
        .simulator
        .stats()
        .dialed
        .into_iter()
        .map(|(_, endpoint)| endpoint)
        .collect();
    assert_eq!(
        dialed,
        [endpoint(number)],
        "dialed once, before the opt-out"
    );
}

/// Pressing 1 in the default flow donates: converted, `donate` and the pending
/// thank-you SMS among the actions; the flow thanks and hangs up.
#[tokio::test(start_paused = true)]
async fn pressing_1_donates() {
    let world = World::new(pressing(KeyShares {
        one: 1.0,
        ..no_keys()
    }));
    let number = number("+972545551234");
    let record = world.call(request(&call_id(1), number, Amd::Off)).await;
    check(
        &record,
        "answered",
        "flow",
        "1",
        &["donate", "send_sms:pending"],
    );
    check_answered_by_a_person(&record);
    assert!(record.converted && !record.opted_out, "{record:#?}");
    assert!(world.telephony.dnc.predial_check(number).is_ok());
}

/// Seed property 16 then 18: a key the menu does not know (7) plays the
/// "invalid" prompt and the menu again; with no key after it the menu times out
/// three times and the flow hangs up. The 7 is in the record; nothing was done.
#[tokio::test(start_paused = true)]
async fn an_invalid_key_then_no_key_takes_the_timeout_path() {
    let world = World::new(pressing(KeyShares {
        invalid: 1.0,
        ..no_keys()
    }));
    let placed = Instant::now();
    let record = world
        .call(request(&call_id(1), number("+972525551234"), Amd::Off))
        .await;
    check(&record, "answered", "flow", "7", &[]);
    check_answered_by_a_person(&record);
    assert!(!record.converted && !record.opted_out);
    assert!(
        placed.elapsed() >= THREE_MENU_TIMEOUTS,
        "{:?}",
        placed.elapsed()
    );
}

/// AMD finds a machine and the campaign leaves its message: outcome
/// `voicemail`, the drop among the actions, the flow hangs up after the message.
#[tokio::test(start_paused = true)]
async fn a_machine_gets_the_voicemail_drop() {
    let world = World::new(SimConfig {
        machine_rate: 1.0,
        ..answering()
    });
    let record = world
        .call(request(&call_id(1), number("+97236123456"), batch_amd()))
        .await;
    check(&record, "voicemail", "flow", "", &["voicemail_drop"]);
    assert_eq!(record.amd_result.as_deref(), Some("MACHINE"));
    assert_eq!(record.hangup_code, Some(16));
}

/// With `Amd::HangUp` a machine is hung up on at once: `voicemail`, no drop.
#[tokio::test(start_paused = true)]
async fn amd_hang_up_leaves_a_machine_without_a_message() {
    let world = World::new(SimConfig {
        machine_rate: 1.0,
        ..answering()
    });
    let record = world
        .call(request(&call_id(1), number("+97236123456"), Amd::HangUp))
        .await;
    check(&record, "voicemail", "flow", "", &[]);
    assert_eq!(record.amd_result.as_deref(), Some("MACHINE"));
}

/// A person passes detection (`HUMAN`) and the IVR runs: their 1 donates and the
/// call is `answered`.
#[tokio::test(start_paused = true)]
async fn a_person_passes_amd_and_hears_the_ivr() {
    let world = World::new(pressing(KeyShares {
        one: 1.0,
        ..no_keys()
    }));
    let record = world
        .call(request(&call_id(1), number("+972525551234"), Amd::HangUp))
        .await;
    check(
        &record,
        "answered",
        "flow",
        "1",
        &["donate", "send_sms:pending"],
    );
    assert_eq!(record.amd_result.as_deref(), Some("HUMAN"));
    check_answered_by_a_person(&record);
}

/// The module's promise: each call's fate is drawn from the seed and the
/// channel id, so the same seed and the same ids give the same calls — whatever
/// order they are dialed in. 50 concurrent calls on the real runtime, then the
/// same ids again in reverse order in a fresh world.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_seed_and_ids_give_the_same_calls_in_any_dialing_order() {
    // People stay on long enough (0.4 s and more at this scale) for every key and
    // every detection to happen before they hang up, however busy the machine.
    let config = SimConfig {
        seed: 5772,
        talk_seconds: [20.0, 40.0],
        time_scale: 50.0,
        ..SimConfig::default()
    };
    let summary = |records: BTreeMap<String, CallRecord>| -> BTreeMap<String, _> {
        records
            .into_iter()
            .map(|(call_id, r)| {
                let facts = (
                    r.outcome,
                    r.hangup_code,
                    r.dial_status,
                    r.amd_result,
                    r.dtmf,
                    r.actions,
                );
                (call_id, facts)
            })
            .collect()
    };
    let first = summary(World::new(config.clone()).batch(1..=50).await);
    let second = summary(World::new(config).batch((1..=50).rev()).await);
    let differing: Vec<_> = first
        .iter()
        .filter(|(call_id, facts)| second.get(*call_id) != Some(facts))
        .map(|(call_id, facts)| (call_id, facts, &second[call_id]))
        .collect();
    assert!(
        differing.is_empty(),
        "{} of 50 calls differ (call, first run, second run): {differing:#?}",
        differing.len()
    );

    // Not vacuous: the batch holds different fates and some keys.
    let outcomes: HashSet<_> = first.values().map(|facts| facts.0.clone()).collect();
    assert!(outcomes.len() >= 3, "{outcomes:?}");
    assert!(
        first.values().any(|facts| !facts.4.is_empty()),
        "nobody pressed a key: {first:#?}"
    );
}

/// The share of `count` in `total` is within four standard deviations of the
/// binomial share `expected`.
#[track_caller]
fn check_share(name: &str, count: usize, total: usize, expected: f64) {
    let mean = total as f64 * expected;
    let deviation = (total as f64 * expected * (1.0 - expected)).sqrt();
    assert!(
        (count as f64 - mean).abs() <= 4.0 * deviation + 1.0,
        "{name}: {count} of {total}, expected about {mean:.0} (± {:.0})",
        4.0 * deviation
    );
}

/// 2,000 concurrent calls in the default world (with detection on): each
/// outcome's share is within four standard deviations of what the configuration
/// says — answered people and machines together of `answer_rate`, machines
/// `machine_rate` of those, busy, congestion and failed their rates, no-answer the
/// rest (the ring timeout is above every ring) — and of the people who answered,
/// the donors and the opt-outs the shares of keys 1 and 9.
#[tokio::test(start_paused = true)]
async fn two_thousand_calls_meet_their_fates_in_the_configured_shares() {
    const CALLS: usize = 2000;
    let config = SimConfig {
        time_scale: 50.0,
        ..SimConfig::default()
    };
    let world = World::new(config.clone());
    let records = world.batch(1..=CALLS as u64).await;
    assert_eq!(records.len(), CALLS);

    let mut outcomes: HashMap<&str, usize> = HashMap::new();
    for record in records.values() {
        assert_eq!(record.status.as_str(), "ended", "{record:#?}");
        *outcomes
            .entry(record.outcome.as_ref().map_or("none", |o| o.as_str()))
            .or_default() += 1;
    }
    let count = |outcome: &str| outcomes.get(outcome).copied().unwrap_or(0);
    let known = [
        "answered",
        "voicemail",
        "busy",
        "congestion",
        "failed",
        "no_answer",
    ];
    assert_eq!(
        known.iter().map(|o| count(o)).sum::<usize>(),
        CALLS,
        "outcomes the world cannot produce: {outcomes:?}"
    );

    let answered = count("answered") + count("voicemail");
    check_share("answered + voicemail", answered, CALLS, config.answer_rate);
    check_share(
        "voicemail of answered",
        count("voicemail"),
        answered,
        config.machine_rate,
    );
    check_share("busy", count("busy"), CALLS, config.busy_rate);
    check_share(
        "congestion",
        count("congestion"),
        CALLS,
        config.congestion_rate,
    );
    check_share("failed", count("failed"), CALLS, config.failed_rate);
    let rest =
        1.0 - config.answer_rate - config.busy_rate - config.congestion_rate - config.failed_rate;
    check_share("no_answer", count("no_answer"), CALLS, rest);

    let people: Vec<&CallRecord> = records
        .values()
        .filter(|r| r.outcome.as_ref().map(|o| o.as_str()) == Some("answered"))
        .collect();
    let converted = people.iter().filter(|r| r.converted).count();
    let opted_out = people.iter().filter(|r| r.opted_out).count();
    check_share("donors", converted, people.len(), config.keys.one);
    check_share("opt-outs", opted_out, people.len(), config.keys.nine);
    assert!(
        records
            .values()
            .filter(|r| r.outcome.as_ref().map(|o| o.as_str()) != Some("answered"))
            .all(|r| r.dtmf.is_empty() && !r.converted && !r.opted_out),
        "only people press keys"
    );
}

/// A number on the do-not-call list is never originated: the call returns
/// `Blacklisted`, its record's outcome is `blacklisted`, and the simulator never
/// saw a dial to it — while the next, unlisted number is dialed.
#[tokio::test(start_paused = true)]
async fn a_listed_number_is_never_originated() {
    let world = World::new(answering());
    let listed = number("+97236123456");
    world
        .store
        .lock()
        .blacklist_add(
            &world.telephony.dnc,
            [NewEntry {
                e164: listed,
                reason: "asked not to be called".to_owned(),
                source: BlacklistSource::AdminImport,
                checked_on: None,
                campaign: None,
            }],
            "test",
            serde_json::json!({}),
        )
        .unwrap();

    let refused = world
        .telephony
        .call(
            request(&call_id(1), listed, Amd::Off),
            CallControl::default(),
        )
        .await;
    assert!(
        matches!(&refused, Err(TelephonyError::Blacklisted { number, .. }) if *number == listed),
        "{refused:?}"
    );
    let record = world.record(&call_id(1));
    check(&record, "blacklisted", "supervisor", "", &[]);
    assert_eq!(record.hangup_code, None);
    assert!(record.answered_at.is_none());
    assert!(world.simulator.stats().dialed.is_empty());
    assert_eq!(world.simulator.stats().max_channels, 0);

    let unlisted = number("+972525551234");
    world.call(request(&call_id(2), unlisted, Amd::Off)).await;
    let dialed: Vec<String> = world
        .simulator
        .stats()
        .dialed
        .into_iter()
        .map(|(_, endpoint)| endpoint)
        .collect();
    assert_eq!(dialed, [endpoint(unlisted)]);
    assert_eq!((world.simulator.active(), world.simulator.routed()), (0, 0));
}

/// What the simulator measures, on the real runtime with 200 concurrent calls in
/// the default world: one dial per placed call (each endpoint once, in order of
/// time), reaction samples, more than one channel up at once; and once every
/// call ended, no channel up and no route left.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_simulator_measures_every_call_and_leaves_nothing_behind() {
    const CALLS: u64 = 200;
    let world = World::new(SimConfig {
        time_scale: 50.0,
        ..SimConfig::default()
    });
    let records = world.batch(1..=CALLS).await;
    assert_eq!(records.len(), CALLS as usize);
    assert!(records.values().all(|r| r.status.as_str() == "ended"));

    let stats = world.simulator.stats();
    assert_eq!(stats.dialed.len(), CALLS as usize);
    let endpoints: HashSet<&str> = stats.dialed.iter().map(|(_, e)| e.as_str()).collect();
    let expected: HashSet<String> = (1..=CALLS).map(|i| endpoint(batch_number(i))).collect();
    assert_eq!(
        endpoints,
        expected.iter().map(String::as_str).collect::<HashSet<_>>()
    );
    assert!(stats.dialed.is_sorted_by_key(|(at, _)| *at));
    assert!(!stats.reaction_us.is_empty(), "no reaction was measured");
    assert!(
        stats.max_channels > 1 && stats.max_channels <= CALLS as usize,
        "max_channels = {}",
        stats.max_channels
    );

    assert_eq!(world.simulator.active(), 0, "channels left up");
    assert_eq!(world.simulator.routed(), 0, "routes left registered");
    assert!(world.simulator.channels().await.unwrap().is_empty());
    assert!(world.simulator.is_up());
}

/// Shutting the simulator down mid-call (its token cancelled, as when the
/// process is stopped): the link is down and new calls are refused before
/// anything is written; the channels are gone without a word, as a killed
/// Asterisk's are. No call hangs: each session waits for its deadline (ring
/// timeout + `max_call`), hangs up, waits its grace period for an end that never
/// comes, and closes the record itself — ended by the supervisor, with
/// `max_call_length` among the actions and no cause; the answered call stays
/// `answered`, the one that was still ringing is `failed`.
#[tokio::test(start_paused = true)]
async fn shutting_down_mid_call_takes_the_link_down_and_every_call_still_ends() {
    const MAX_CALL: Duration = Duration::from_secs(5);
    let shutdown = CancellationToken::new();
    // One network answers at once (the person listens to the menu); the other
    // rings 20 s (0.4 s at this scale) before anyone would answer.
    let world = World::with_shutdown(
        SimConfig {
            ring_seconds: [1.0, 1.0],
            ..answering()
        },
        shutdown.clone(),
    );
    let slow = Simulator::new(
        SimConfig {
            ring_seconds: [20.0, 20.0],
            ..answering()
        },
        "shofar",
        PREFIX,
        shutdown.clone(),
    )
    .unwrap();
    let slow_telephony = Telephony {
        backend: Arc::new(slow.clone()),
        ..world.telephony.clone()
    };

    let placed = Instant::now();
    let mut calls = JoinSet::new();
    for (telephony, index, number) in [
        (world.telephony.clone(), 1, number("+972525551234")),
        (slow_telephony, 2, number("+972545551234")),
    ] {
        let request = CallPlan {
            template: template(Amd::Off, MAX_CALL),
            ..request(&call_id(index), number, Amd::Off)
        };
        calls.spawn(async move { telephony.call(request, CallControl::default()).await });
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A call's progress is recorded in the writer's order without the call
    // waiting for it: read it once the writer (a real thread, in real time) has
    // caught up.
    world.settled();
    assert_eq!(world.record(&call_id(1)).status.as_str(), "answered");
    assert_eq!(world.record(&call_id(2)).status.as_str(), "dialing");
    assert_eq!((world.simulator.active(), slow.active()), (1, 1));

    shutdown.cancel();
    for simulator in [&world.simulator, &slow] {
        assert!(
            matches!(simulator.link(), Link::Down { error: Some(_) }),
            "{:?}",
            simulator.link()
        );
        assert!(!simulator.is_up());
    }
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!((world.simulator.active(), slow.active()), (0, 0));

    let refused = world
        .telephony
        .call(
            request(&call_id(3), number("+97236123456"), Amd::Off),
            CallControl::default(),
        )
        .await;
    assert!(
        matches!(refused, Err(TelephonyError::LinkDown { .. })),
        "{refused:?}"
    );
    assert!(
        world
            .store
            .lock()
            .call_record(&call_id(3))
            .unwrap()
            .is_none()
    );

    // On the paused clock an hour passes at once if a session waits on nothing:
    // a hung call fails here instead of hanging the test.
    let ended = tokio::time::timeout(Duration::from_secs(3600), async {
        let mut records = Vec::new();
        while let Some(result) = calls.join_next().await {
            records.push(result.unwrap().unwrap());
        }
        records
    })
    .await
    .expect("a call outlived its deadline by an hour");
    assert_eq!(ended.len(), 2);
    assert!(
        placed.elapsed() >= RING_TIMEOUT + MAX_CALL,
        "ended before the deadline"
    );

    for (index, outcome, answered) in [(1, "answered", true), (2, "failed", false)] {
        let record = world.record(&call_id(index));
        check(&record, outcome, "supervisor", "", &["max_call_length"]);
        assert_eq!(record.hangup_code, None, "{record:#?}");
        assert_eq!(record.answered_at.is_some(), answered, "{record:#?}");
        assert_eq!(
            record.detail.as_deref(),
            Some("the call did not end after the supervisor hung it up")
        );
    }
    assert_eq!((world.simulator.routed(), slow.routed()), (0, 0));
    assert_eq!(
        (
            world.simulator.stats().dialed.len(),
            slow.stats().dialed.len()
        ),
        (1, 1)
    );
}

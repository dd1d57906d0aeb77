//! Up to S3: record batches and the box's opt-outs as change objects.
//!
//! A record batch is formed once — its feed range and date written to the state
//! before the upload — so however often the upload is retried, after any crash,
//! it has the same key and the same records: each record is in S3 exactly once by
//! key. Only after S3 answered 200 does the position move past the batch (and the
//! feed below both the S3 position and the MQTT lane's is pruned).
//!
//! Several batches are uploaded at once (at most [`MAX_UPLOADS`], and
//! [`MAX_RECORDS_IN_FLIGHT`] records between them): the state holds every batch
//! formed and not yet passed, in feed order and contiguous from the S3 position.
//! The position moves only past the leading batches S3 acknowledged — a batch
//! acknowledged before one in front of it stays in the list, and after a crash
//! is uploaded again under the same key, with the same records. A batch formed
//! here is uploaded from the records read to form it; only a batch taken from the
//! state (after a restart) or retried after a failure is read again.
//!
//! Opt-outs go first on every round: a change object holds the box's opt-outs
//! after the S3 position, under a key made of their history ids, so a retry
//! writes the same object (or, if more came since, a larger one that repeats
//! some — the merge ignores repeats).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shofar_store::Store;
use shofar_store::sync::{OptOutEvent, SyncRecord};
use tokio::task::JoinSet;

use crate::agent::{Agent, LANE_RECORDS, READER_CACHE_PRAGMA};
use crate::lanes::Lane;
use crate::status::LinkState;
use crate::wire::{self, AddOp, CallRec, DncMessage, DncOp, Name, Record, SmsRec};

const RECORDS_S3: &str = "pos:records_s3";
const OPTOUTS_S3: &str = "pos:optouts_s3";
/// The batches formed and not yet passed, in order (a list of [`Batch`]).
const BATCHES: &str = "batches:records";
/// The one batch of agents before several were uploaded at once; taken over at
/// start.
const LEGACY_BATCH: &str = "batch:records";
/// Opt-outs per change object at most.
const OPTOUTS_PER_OBJECT: usize = 500;
/// Record batches uploaded at once at most.
pub const MAX_UPLOADS: usize = 4;
/// Records in the batches being uploaded at most (one batch is always allowed,
/// however large `batch_records` is).
pub const MAX_RECORDS_IN_FLIGHT: usize = 20_000;

/// A batch being uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub first: i64,
    pub last: i64,
    pub date: NaiveDate,
    pub records: usize,
}

/// Where a formed batch stands.
enum Step {
    /// Not being uploaded: with its records when they were just read to form it.
    Waiting(Option<Vec<SyncRecord>>),
    Uploading,
    /// S3 has it; the position moves past it once every batch before it is done.
    Done,
}

struct Slot {
    batch: Batch,
    step: Step,
}

/// The uploads of record batches: the state's position and list, and the
/// uploads running.
struct Uploads {
    pos: i64,
    slots: Vec<Slot>,
    running: JoinSet<anyhow::Result<usize>>,
    /// The batch (its first position) of each upload running.
    tasks: HashMap<tokio::task::Id, i64>,
}

/// The uploader's loop: opt-outs, then batches, as long as there is work; waits
/// for a batch to fill (or its oldest record to wait `batch_seconds`).
pub async fn run(agent: Arc<Agent>) -> anyhow::Result<()> {
    let path = agent.config.data_dir.join("shofar.db");
    let store = tokio::task::spawn_blocking(move || -> anyhow::Result<Store> {
        let store = Store::open(&path)?;
        store.connection().execute_batch(READER_CACHE_PRAGMA)?;
        Ok(store)
    })
    .await??;
    let store = Arc::new(std::sync::Mutex::new(store));
    let mut uploads = Uploads::load(&agent).await?;
    let mut pause = Duration::from_secs(1);
    loop {
        match round(&agent, &store, &mut uploads).await {
            Ok(worked) => {
                agent.shared.s3(LinkState::up());
                pause = Duration::from_secs(1);
                if worked {
                    continue;
                }
            }
            Err(error) => {
                let text = format!("{error:#}");
                tracing::warn!(error = %text, "S3 upload failed; retrying (nothing is lost: the records stay in the box's database)");
                agent.shared.s3(LinkState::down(text.clone()));
                agent.counters.error(format!("S3 upload: {text}"));
                tokio::select! {
                    _ = agent.stop.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(Duration::from_secs(60));
                continue;
            }
        }
        tokio::select! {
            _ = agent.stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

async fn db<T: Send + 'static>(
    store: &Arc<std::sync::Mutex<Store>>,
    body: impl FnOnce(&mut Store) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || {
        let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
        body(&mut store)
    })
    .await?
}

async fn state<T: Send + 'static>(
    agent: &Arc<Agent>,
    body: impl FnOnce(&crate::state::State) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let state = Arc::clone(&agent.state);
    tokio::task::spawn_blocking(move || body(&state)).await?
}

/// One round; true when there is more to do at once (something was uploaded, or
/// uploads are running).
async fn round(
    agent: &Arc<Agent>,
    store: &Arc<std::sync::Mutex<Store>>,
    uploads: &mut Uploads,
) -> anyhow::Result<bool> {
    if upload_optouts(agent, store).await? {
        return Ok(true);
    }
    uploads.start(agent, store).await?;
    if uploads.running.is_empty() {
        return Ok(false);
    }
    uploads.finish_one(agent, store).await?;
    Ok(true)
}

impl Uploads {
    /// The position and the batches formed before (an earlier agent's one batch
    /// included).
    async fn load(agent: &Arc<Agent>) -> anyhow::Result<Uploads> {
        let (pos, batches) = state(agent, |s| {
            let pos = s.get::<i64>(RECORDS_S3)?.unwrap_or(0);
            let legacy = s.get::<Batch>(LEGACY_BATCH)?;
            let batches = match s.get::<Vec<Batch>>(BATCHES)? {
                Some(batches) => batches,
                None => legacy.into_iter().collect(),
            };
            if legacy.is_some() {
                s.put(BATCHES, &batches)?;
                s.remove(LEGACY_BATCH)?;
            }
            Ok((pos, batches))
        })
        .await?;
        Ok(Uploads {
            pos,
            slots: batches
                .into_iter()
                .map(|batch| Slot {
                    batch,
                    step: Step::Waiting(None),
                })
                .collect(),
            running: JoinSet::new(),
            tasks: HashMap::new(),
        })
    }

    fn records_in_flight(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s.step, Step::Uploading))
            .map(|s| s.batch.records)
            .sum()
    }

    fn room(&self, records: usize) -> bool {
        self.running.is_empty()
            || (self.running.len() < MAX_UPLOADS
                && self.records_in_flight() + records <= MAX_RECORDS_IN_FLIGHT)
    }

    /// Starts uploads while there is room: batches formed before first, then new
    /// ones.
    async fn start(
        &mut self,
        agent: &Arc<Agent>,
        store: &Arc<std::sync::Mutex<Store>>,
    ) -> anyhow::Result<()> {
        for index in 0..self.slots.len() {
            let slot = &self.slots[index];
            if !matches!(slot.step, Step::Waiting(_)) {
                continue;
            }
            if !self.room(slot.batch.records) {
                return Ok(());
            }
            self.spawn(index, agent, store);
        }
        while self.room(agent.config.batch_records) {
            let after = self.slots.last().map_or(self.pos, |s| s.batch.last);
            let Some((batch, records)) = self.form(agent, store, after).await? else {
                return Ok(());
            };
            self.slots.push(Slot {
                batch,
                step: Step::Waiting(Some(records)),
            });
            self.spawn(self.slots.len() - 1, agent, store);
        }
        Ok(())
    }

    /// Forms the batch after feed position `after` (and writes it to the state
    /// with the others) when it is full or its oldest record has waited long
    /// enough.
    async fn form(
        &mut self,
        agent: &Arc<Agent>,
        store: &Arc<std::sync::Mutex<Store>>,
        after: i64,
    ) -> anyhow::Result<Option<(Batch, Vec<SyncRecord>)>> {
        let limit = agent.config.batch_records;
        let wait = chrono::Duration::seconds(agent.config.batch_seconds as i64);
        let (records, oldest) = db(store, move |s| {
            let records = s.sync_records_after(after, limit)?;
            // The age matters only for a batch that is not full.
            let oldest = if records.len() < limit && !records.is_empty() {
                s.sync_waiting(after)?.1
            } else {
                None
            };
            Ok((records, oldest))
        })
        .await?;
        let Some(last) = records.last().map(SyncRecord::seq) else {
            return Ok(None);
        };
        let full = records.len() >= limit;
        let old_enough =
            oldest.is_some_and(|at| Utc::now() - at >= wait) || agent.stop.is_cancelled();
        if !full && !old_enough {
            return Ok(None);
        }
        let batch = Batch {
            first: after + 1,
            last,
            date: Utc::now().date_naive(),
            records: records.len(),
        };
        let mut batches: Vec<Batch> = self.slots.iter().map(|s| s.batch).collect();
        batches.push(batch);
        state(agent, move |s| Ok(s.put(BATCHES, &batches)?)).await?;
        Ok(Some((batch, records)))
    }

    /// Uploads the batch of slot `index` in a task of its own.
    fn spawn(&mut self, index: usize, agent: &Arc<Agent>, store: &Arc<std::sync::Mutex<Store>>) {
        let slot = &mut self.slots[index];
        let Step::Waiting(records) = std::mem::replace(&mut slot.step, Step::Uploading) else {
            return;
        };
        let batch = slot.batch;
        let (agent, store) = (Arc::clone(agent), Arc::clone(store));
        let task = self
            .running
            .spawn(async move { upload_batch(&agent, &store, batch, records).await });
        self.tasks.insert(task.id(), batch.first);
    }

    /// Waits for one upload to end. A success moves the position past every
    /// leading batch S3 has (one write to the state), then prunes the feed. A
    /// failure leaves its batch to be uploaded again and is the round's error —
    /// after the other uploads running ended too, so an outage costs one pause,
    /// not one per upload.
    async fn finish_one(
        &mut self,
        agent: &Arc<Agent>,
        store: &Arc<std::sync::Mutex<Store>>,
    ) -> anyhow::Result<()> {
        let Some(joined) = self.running.join_next_with_id().await else {
            return Ok(());
        };
        let mut failed = self.settle(agent, joined).err();
        if failed.is_some() {
            while let Some(joined) = self.running.join_next_with_id().await {
                if let Err(error) = self.settle(agent, joined) {
                    tracing::debug!(error = format!("{error:#}"), "another upload failed too");
                }
            }
        }
        if let Err(error) = self.pass(agent, store).await {
            failed.get_or_insert(error);
        }
        failed.map_or(Ok(()), Err)
    }

    /// Marks an ended upload's batch done, or waiting to be uploaded again.
    fn settle(
        &mut self,
        agent: &Arc<Agent>,
        joined: Result<(tokio::task::Id, anyhow::Result<usize>), tokio::task::JoinError>,
    ) -> anyhow::Result<()> {
        let (id, outcome) = match joined {
            Ok(done) => done,
            // A panic: the batch is uploaded again, like after any failure.
            Err(error) => (
                error.id(),
                Err(anyhow::anyhow!("an upload task failed: {error}")),
            ),
        };
        let Some(first) = self.tasks.remove(&id) else {
            return Ok(());
        };
        let Some(slot) = self.slots.iter_mut().find(|s| s.batch.first == first) else {
            return Ok(());
        };
        match outcome {
            Ok(count) => {
                slot.step = Step::Done;
                agent.counters.add("records_uploaded_total", count as u64);
                agent.counters.add("batches_uploaded_total", 1);
                Ok(())
            }
            Err(error) => {
                slot.step = Step::Waiting(None);
                Err(error)
            }
        }
    }

    /// Moves the position past the leading batches S3 has (the position and the
    /// batches left in one write to the state), then prunes the feed below what
    /// both S3 and the broker have.
    async fn pass(
        &mut self,
        agent: &Arc<Agent>,
        store: &Arc<std::sync::Mutex<Store>>,
    ) -> anyhow::Result<()> {
        let passed = self
            .slots
            .iter()
            .take_while(|s| matches!(s.step, Step::Done))
            .count();
        if passed == 0 {
            return Ok(());
        }
        let pos = self.slots[passed - 1].batch.last;
        let rest: Vec<Batch> = self.slots[passed..].iter().map(|s| s.batch).collect();
        state(agent, move |s| {
            s.put_all(&[
                (RECORDS_S3, serde_json::json!(pos)),
                (BATCHES, serde_json::to_value(&rest)?),
            ])?;
            Ok(())
        })
        .await?;
        self.slots.drain(..passed);
        self.pos = pos;
        let mqtt_done = state(agent, |s| {
            Ok(s.get::<Lane>(LANE_RECORDS)?.map_or(0, |l| l.done_through()))
        })
        .await?;
        let prune = pos.min(mqtt_done);
        if prune > 0 {
            db(store, move |s| Ok(s.sync_feed_prune(prune)?)).await?;
        }
        Ok(())
    }
}

/// Uploads one batch (reading its records again unless given); returns how many
/// records it held.
async fn upload_batch(
    agent: &Arc<Agent>,
    store: &Arc<std::sync::Mutex<Store>>,
    batch: Batch,
    records: Option<Vec<SyncRecord>>,
) -> anyhow::Result<usize> {
    let records = match records {
        Some(records) => records,
        None => {
            let (first, last) = (batch.first, batch.last);
            db(store, move |s| Ok(s.sync_records_between(first, last)?)).await?
        }
    };
    let me = agent.me.clone();
    let (count, body) = tokio::task::spawn_blocking(move || {
        let wire_records: Vec<Record> = records.iter().map(|r| to_wire(&me, r)).collect();
        (wire_records.len(), wire::jsonl_gz(&me, &wire_records))
    })
    .await?;
    let key = agent
        .keys
        .records(&agent.me, batch.date, batch.first, batch.last);
    agent.s3.put(&key, body, "application/gzip").await?;
    tracing::debug!(%key, records = count, "uploaded a record batch");
    Ok(count)
}

/// Uploads the box's opt-outs after the S3 position; true when it did.
async fn upload_optouts(
    agent: &Arc<Agent>,
    store: &Arc<std::sync::Mutex<Store>>,
) -> anyhow::Result<bool> {
    let pos = state(agent, |s| Ok(s.get::<i64>(OPTOUTS_S3)?.unwrap_or(0))).await?;
    let events = db(store, move |s| {
        Ok(s.sync_optouts_after(pos, OPTOUTS_PER_OBJECT)?)
    })
    .await?;
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(false);
    };
    let (first_id, last_id, at) = (first.history_id, last.history_id, first.at);
    let me = agent.me.clone();
    let ops: Vec<DncOp> = optout_ops(&me, &events);
    let message = box_message(&agent.config.org, &me, ops);
    let body = serde_json::to_vec(&message)?;
    let key = agent.keys.dnc_change(
        me.as_str(),
        at,
        &format!("{first_id:012}"),
        &format!("{last_id:012}"),
    );
    agent.s3.put(&key, body, "application/json").await?;
    state(agent, move |s| Ok(s.put(OPTOUTS_S3, &last_id)?)).await?;
    agent
        .counters
        .add("optouts_uploaded_total", events.len() as u64);
    Ok(true)
}

/// A stored record in its wire form (`key` unique in the organization).
pub fn to_wire(me: &Name, record: &SyncRecord) -> Record {
    let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match record {
        SyncRecord::Call {
            seq,
            record,
            campaign,
        } => Record::Call(CallRec {
            key: format!("{}/call/{}", me.as_str(), record.call_id),
            seq: *seq,
            call_id: record.call_id.clone(),
            campaign_id: record.campaign_id.map(|c| c.0),
            campaign: campaign.clone(),
            contact_id: record.contact_id,
            e164: record.number.to_string(),
            attempt: record.attempt,
            call_kind: record.kind.to_string(),
            status: record.status.to_string(),
            outcome: record.outcome.as_ref().map(ToString::to_string),
            hangup_cause: record.hangup_cause.clone(),
            amd_result: record.amd_result.clone(),
            started_at: time(record.started_at),
            answered_at: record.answered_at.map(time),
            ended_at: record.ended_at.map(time),
            duration_ms: record.duration_ms,
            talk_ms: record.talk_ms,
            dtmf: record.dtmf.clone(),
            actions: record.actions.iter().map(ToString::to_string).collect(),
            opted_out: record.opted_out,
            ended_by: record.ended_by.as_ref().map(ToString::to_string),
            dnc_version: record.dnc_version,
        }),
        SyncRecord::Sms {
            seq,
            record,
            campaign,
        } => Record::Sms(SmsRec {
            key: format!("{}/sms/{}", me.as_str(), record.id),
            seq: *seq,
            id: record.id,
            campaign_id: record.campaign_id.map(|c| c.0),
            campaign: campaign.clone(),
            contact_id: record.contact_id,
            e164: record.e164.to_string(),
            status: record.status.clone(),
            provider: record.provider.clone(),
            provider_message_id: record.provider_message_id.clone(),
            attempts: record.attempts,
            queued_at: time(record.queued_at),
            sent_at: record.sent_at.map(time),
            delivered_at: record.delivered_at.map(time),
            failure_reason: record.failure_reason.clone(),
            fallback_call: record.tts_fallback_call.clone(),
            dnc_version: record.dnc_version,
            cost_agorot: record.cost_agorot,
        }),
    }
}

/// The message that carries this box's opt-outs (over MQTT and in S3 alike).
pub fn box_message(org: &Name, me: &Name, ops: Vec<DncOp>) -> DncMessage {
    DncMessage {
        v: wire::VERSION,
        org: org.clone(),
        from: format!("box:{}", me.as_str()),
        ops,
        sig: None,
    }
}

/// The box's opt-outs as the operations that carry them (tag `{box}:{history id}`).
pub fn optout_ops(me: &Name, events: &[OptOutEvent]) -> Vec<DncOp> {
    events
        .iter()
        .map(|e| {
            DncOp::Add(AddOp::box_optout(
                me,
                e.history_id,
                e.e164,
                e.reason.clone(),
                e.at,
                e.actor.clone().unwrap_or_default(),
            ))
        })
        .collect()
}

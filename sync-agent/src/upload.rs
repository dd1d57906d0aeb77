//! Up to S3: record batches and the box's opt-outs as change objects.
//!
//! A record batch is formed once — its feed range and date written to the state
//! before the upload — so however often the upload is retried, after any crash,
//! it has the same key and the same records: each record is in S3 exactly once by
//! key. Only after S3 answered 200 does the position move past the batch (and the
//! feed below both the S3 position and the MQTT lane's is pruned).
//!
//! Opt-outs go first on every round: a change object holds the box's opt-outs
//! after the S3 position, under a key made of their history ids, so a retry
//! writes the same object (or, if more came since, a larger one that repeats
//! some — the merge ignores repeats).

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shofar_store::Store;
use shofar_store::sync::{OptOutEvent, SyncRecord};

use crate::agent::{Agent, LANE_RECORDS};
use crate::lanes::Lane;
use crate::status::LinkState;
use crate::wire::{self, AddOp, CallRec, DncMessage, DncOp, Name, Record, SmsRec};

const RECORDS_S3: &str = "pos:records_s3";
const OPTOUTS_S3: &str = "pos:optouts_s3";
const BATCH: &str = "batch:records";
/// Opt-outs per change object at most.
const OPTOUTS_PER_OBJECT: usize = 500;

/// A batch being uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub first: i64,
    pub last: i64,
    pub date: NaiveDate,
    pub records: usize,
}

/// The uploader's loop: opt-outs, then a batch, as long as there is work; waits
/// for a batch to fill (or its oldest record to wait `batch_seconds`).
pub async fn run(agent: Arc<Agent>) -> anyhow::Result<()> {
    let path = agent.config.data_dir.join("shofar.db");
    let store = tokio::task::spawn_blocking(move || Store::open(&path)).await??;
    let store = Arc::new(std::sync::Mutex::new(store));
    let mut pause = Duration::from_secs(1);
    loop {
        match round(&agent, &store).await {
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

/// One round; true when it uploaded something (so the next round starts at once).
async fn round(agent: &Arc<Agent>, store: &Arc<std::sync::Mutex<Store>>) -> anyhow::Result<bool> {
    if upload_optouts(agent, store).await? {
        return Ok(true);
    }
    let batch = match state(agent, |s| Ok(s.get::<Batch>(BATCH)?)).await? {
        Some(batch) => batch,
        None => match form_batch(agent, store).await? {
            Some(batch) => batch,
            None => return Ok(false),
        },
    };
    let (first, last) = (batch.first, batch.last);
    let records = db(store, move |s| Ok(s.sync_records_between(first, last)?)).await?;
    let me = agent.me.clone();
    let wire_records: Vec<Record> = records.iter().map(|r| to_wire(&me, r)).collect();
    let count = wire_records.len();
    let body = tokio::task::spawn_blocking(move || wire::jsonl_gz(&me, &wire_records)).await?;
    let key = agent
        .keys
        .records(&agent.me, batch.date, batch.first, batch.last);
    agent.s3.put(&key, body, "application/gzip").await?;
    state(agent, move |s| {
        s.put_all(&[(RECORDS_S3, serde_json::json!(last))])?;
        s.remove(BATCH)?;
        Ok(())
    })
    .await?;
    agent.counters.add("records_uploaded_total", count as u64);
    agent.counters.add("batches_uploaded_total", 1);
    tracing::debug!(%key, records = count, "uploaded a record batch");
    // The feed below what both S3 and the broker have is no longer needed.
    let mqtt_done = state(agent, |s| {
        Ok(s.get::<Lane>(LANE_RECORDS)?.map_or(0, |l| l.done_through()))
    })
    .await?;
    let prune = last.min(mqtt_done);
    if prune > 0 {
        db(store, move |s| Ok(s.sync_feed_prune(prune)?)).await?;
    }
    Ok(true)
}

/// Forms the next batch (and writes it to the state) when it is full or its
/// oldest record has waited long enough.
async fn form_batch(
    agent: &Arc<Agent>,
    store: &Arc<std::sync::Mutex<Store>>,
) -> anyhow::Result<Option<Batch>> {
    let pos = state(agent, |s| Ok(s.get::<i64>(RECORDS_S3)?.unwrap_or(0))).await?;
    let limit = agent.config.batch_records;
    let wait = chrono::Duration::seconds(agent.config.batch_seconds as i64);
    let (records, oldest) = db(store, move |s| {
        let records = s.sync_records_after(pos, limit)?;
        let (_, oldest) = s.sync_waiting(pos)?;
        Ok((records, oldest))
    })
    .await?;
    let Some(last) = records.last().map(SyncRecord::seq) else {
        return Ok(None);
    };
    let full = records.len() >= limit;
    let old_enough = oldest.is_some_and(|at| Utc::now() - at >= wait) || agent.stop.is_cancelled();
    if !full && !old_enough {
        return Ok(None);
    }
    let batch = Batch {
        first: pos + 1,
        last,
        date: Utc::now().date_naive(),
        records: records.len(),
    };
    state(agent, move |s| Ok(s.put(BATCH, &batch)?)).await?;
    Ok(Some(batch))
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

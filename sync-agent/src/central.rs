//! `shofar-sync central …`: the central admins' tool, run from an admin's machine
//! with the organization's credentials. There is no cloud code of our own: the
//! shared do-not-call list *is* the change objects and snapshots in S3, merged
//! (an observed-remove set, [`crate::merge`]); a change is also published on the
//! broker so boxes online apply it within seconds.
//!
//! Every list change is written as a change object first (boxes that are away
//! find it in S3), then published, then folded into a new snapshot (so a new box
//! reads one object and the changes after it). A removal lists the additions it
//! saw: an opt-out made on a box after the admin looked survives it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use rumqttc::{AsyncClient, Event, Incoming, QoS};
use sha2::{Digest, Sha256};
use shofar_phone::{E164, Normalizer};

use crate::config::SyncConfig;
use crate::merge::OrSet;
use crate::s3::S3;
use crate::wire::{
    self, AddOp, DncMessage, DncOp, DncSnapshot, Keys, ModelManifest, Record, RemoveOp, SigningKey,
};

#[derive(Subcommand)]
pub enum Command {
    /// Make the organization's signing key (keep it safe); prints the public key
    /// to put in every box's `[sync] org_public_key`.
    Keygen {
        /// Where to write the private key (PKCS#8, created 0600; never overwritten).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// The organization's shared do-not-call list.
    #[command(subcommand)]
    Blacklist(Blacklist),
    /// Every box: last seen, version, records waiting, do-not-call version.
    Boxes {
        #[arg(long)]
        json: bool,
    },
    /// The organization's call records from S3.
    #[command(subcommand)]
    Records(Records),
    /// Models for the boxes.
    #[command(subcommand)]
    Model(Model),
}

#[derive(Subcommand)]
pub enum Blacklist {
    /// List numbers on every box (source `central` there).
    Add(Change),
    /// Take numbers off every box's list: only the additions seen now are
    /// removed, so an opt-out made since survives. A reason is required.
    Remove(Change),
    /// List every number in a file (one per line, or the first column of a CSV).
    Import {
        file: PathBuf,
        #[arg(long)]
        reason: String,
    },
    /// Write the merged list as CSV (to stdout, or -o FILE).
    Export {
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct Change {
    /// Numbers as people write them (052-5551234, +972525551234).
    #[arg(required = true)]
    numbers: Vec<String>,
    /// Why (shown on every box, kept in the history).
    #[arg(long)]
    reason: String,
}

#[derive(Subcommand)]
pub enum Records {
    /// Write the call and SMS records of [--from, --to] (dates the boxes uploaded
    /// them, inclusive) as CSV, one row per record key.
    Export {
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum Model {
    /// Upload an ONNX model and announce it: every box downloads, verifies and
    /// installs it.
    Publish {
        file: PathBuf,
        /// The model's name (the file name on the box: NAME.onnx).
        #[arg(long, default_value = "answer")]
        name: String,
        #[arg(long)]
        version: String,
    },
}

pub async fn run(config: SyncConfig, command: Command) -> anyhow::Result<()> {
    if let Command::Keygen { output } = &command {
        return keygen(output);
    }
    let s3 = S3::new(&config.s3)?;
    let keys = Keys::new(&config.org);
    let central = Central {
        signing: match &config.signing_key {
            Some(path) => Some(SigningKey::from_pkcs8(
                &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            )?),
            None => None,
        },
        admin: config
            .admin
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "admin".into()),
        config,
        s3,
        keys,
    };
    match command {
        Command::Keygen { .. } => unreachable!("handled above"),
        Command::Blacklist(Blacklist::Add(change)) => {
            central.add(&change.numbers, &change.reason).await
        }
        Command::Blacklist(Blacklist::Remove(change)) => {
            central.remove(&change.numbers, &change.reason).await
        }
        Command::Blacklist(Blacklist::Import { file, reason }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let numbers: Vec<String> = text
                .lines()
                .filter_map(|line| line.split([',', ';', '\t']).next())
                .map(|cell| cell.trim().trim_matches('"').to_owned())
                .filter(|cell| !cell.is_empty())
                .collect();
            central.add(&numbers, &reason).await
        }
        Command::Blacklist(Blacklist::Export { output }) => central.export(output).await,
        Command::Boxes { json } => central.boxes(json).await,
        Command::Records(Records::Export { from, to, output }) => {
            central.records(from, to, &output).await
        }
        Command::Model(Model::Publish {
            file,
            name,
            version,
        }) => central.publish_model(&file, &name, &version).await,
    }
}

fn keygen(output: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let (key, pkcs8) = SigningKey::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(output)
        .with_context(|| {
            format!(
                "cannot create {} (an existing key is never overwritten)",
                output.display()
            )
        })?;
    file.write_all(&pkcs8)?;
    file.sync_all()?;
    println!(
        "Wrote the organization's signing key to {}.",
        output.display()
    );
    println!("Put this line in [sync] of every box's shofar.toml:");
    println!("org_public_key = \"{}\"", key.public_base64());
    Ok(())
}

struct Central {
    config: SyncConfig,
    s3: S3,
    keys: Keys,
    signing: Option<SigningKey>,
    admin: String,
}

/// The most a change object or the snapshot may weigh.
const CHANGE_LIMIT: u64 = 1024 * 1024;
const SNAPSHOT_LIMIT: u64 = 512 * 1024 * 1024;

impl Central {
    fn numbers(&self, given: &[String]) -> anyhow::Result<Vec<E164>> {
        let normalizer = Normalizer::israel();
        let mut numbers = Vec::new();
        let mut bad = Vec::new();
        for text in given {
            match normalizer.normalize_str(text) {
                Ok(n) => numbers.push(n.e164),
                Err(why) => bad.push(format!("{text}: {why}")),
            }
        }
        if !bad.is_empty() {
            bail!(
                "not valid phone numbers (nothing was changed):\n  {}",
                bad.join("\n  ")
            );
        }
        numbers.sort_unstable();
        numbers.dedup();
        Ok(numbers)
    }

    /// The merged list as S3 has it: the newest snapshot and every change object.
    async fn view(&self) -> anyhow::Result<OrSet> {
        let mut set = OrSet::new();
        let verify = self.config.org_key.as_ref();
        let org = &self.config.org;
        if let Some(newest) = self
            .s3
            .list(&self.keys.dnc_snapshots_prefix(), None)
            .await?
            .last()
            && let Some(bytes) = self.s3.get(&newest.key, SNAPSHOT_LIMIT).await?
        {
            match wire::gunzip(&bytes, SNAPSHOT_LIMIT as usize)
                .and_then(|text| wire::parse_snapshot(&text, org, verify, SNAPSHOT_LIMIT as usize))
            {
                Ok(snapshot) => snapshot.ops.iter().for_each(|op| {
                    set.apply(op);
                }),
                Err(error) => eprintln!("warning: snapshot {} refused: {error}", newest.key),
            }
        }
        for object in self.s3.list(&self.keys.dnc_changes_prefix(), None).await? {
            let Some(bytes) = self.s3.get(&object.key, CHANGE_LIMIT).await? else {
                continue;
            };
            match wire::parse_dnc(&bytes, org, verify) {
                Ok(message) => message.ops.iter().for_each(|op| {
                    set.apply(op);
                }),
                Err(error) => eprintln!("warning: {} refused: {error}", object.key),
            }
        }
        Ok(set)
    }

    async fn add(&self, numbers: &[String], reason: &str) -> anyhow::Result<()> {
        if reason.trim().is_empty() {
            bail!("--reason is required: every box shows it");
        }
        let numbers = self.numbers(numbers)?;
        let now = Utc::now();
        let ops: Vec<DncOp> = numbers
            .iter()
            .map(|&e164| {
                DncOp::Add(AddOp::central(
                    e164,
                    reason.to_owned(),
                    now,
                    self.admin.clone(),
                ))
            })
            .collect();
        let n = ops.len();
        self.change(ops).await?;
        println!("Listed {n} number(s) on every box of {}.", self.config.org);
        Ok(())
    }

    async fn remove(&self, numbers: &[String], reason: &str) -> anyhow::Result<()> {
        if reason.trim().is_empty() {
            bail!(
                "--reason is required: a removal must say why (it is kept in every box's history)"
            );
        }
        let numbers = self.numbers(numbers)?;
        let view = self.view().await?;
        let now = Utc::now();
        let mut ops = Vec::new();
        for e164 in numbers {
            let tags = view.tags_for(e164);
            if tags.is_empty() || !view.is_listed(e164) {
                println!("{e164} is not on the organization's list: nothing to remove.");
                continue;
            }
            ops.push(DncOp::Remove(RemoveOp::new(
                e164,
                tags,
                reason.to_owned(),
                now,
                self.admin.clone(),
            )));
        }
        if ops.is_empty() {
            return Ok(());
        }
        let n = ops.len();
        self.change(ops).await?;
        println!(
            "Removed {n} number(s) from every box of {} (opt-outs made after this look survive).",
            self.config.org
        );
        Ok(())
    }

    /// Writes ops as a change object, publishes them, and folds them into a new
    /// snapshot.
    async fn change(&self, ops: Vec<DncOp>) -> anyhow::Result<()> {
        let org = &self.config.org;
        let now = Utc::now();
        let mut message = DncMessage {
            v: wire::VERSION,
            org: org.clone(),
            from: format!("central:{}", self.admin),
            ops,
            sig: None,
        };
        if let Some(key) = &self.signing {
            message.sign(key);
        } else if self.config.org_key.is_some() {
            bail!(
                "the organization signs its changes ([sync] org_public_key is set): give [sync] signing_key"
            );
        }
        let body = serde_json::to_vec(&message)?;
        let digest = hex(&Sha256::digest(&body))[..12].to_owned();
        let key = self
            .keys
            .dnc_change("central", now, &sanitize(&self.admin), &digest);
        self.s3.put(&key, body.clone(), "application/json").await?;
        if body.len() <= wire::MAX_PAYLOAD
            && let Err(error) = self
                .publish(wire::central_dnc_topic(org), body, false)
                .await
        {
            eprintln!(
                "warning: not published on the broker ({error:#}); the boxes pick the change up from S3 within [sync] catchup_minutes"
            );
        }
        self.snapshot().await
    }

    /// Folds the list as it now stands into a new snapshot.
    async fn snapshot(&self) -> anyhow::Result<()> {
        let view = self.view().await?;
        let now = Utc::now();
        let mut snapshot = DncSnapshot {
            v: wire::VERSION,
            org: self.config.org.clone(),
            at: now.to_rfc3339(),
            by: self.admin.clone(),
            ops: view.ops().collect(),
            sig: None,
        };
        if let Some(key) = &self.signing {
            snapshot.sign(key);
        }
        let body = wire::gzip(&serde_json::to_vec(&snapshot)?);
        self.s3
            .put(&self.keys.dnc_snapshot(now), body, "application/gzip")
            .await?;
        Ok(())
    }

    async fn export(&self, output: Option<PathBuf>) -> anyhow::Result<()> {
        let view = self.view().await?;
        let mut out: Box<dyn Write> = match &output {
            Some(path) => Box::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            ),
            None => Box::new(std::io::stdout().lock()),
        };
        let mut csv = csv::Writer::from_writer(&mut out);
        csv.write_record(["number", "source", "reason", "added_at", "added_by", "box"])?;
        for (e164, add) in view.listed() {
            let from_box = match add.source {
                wire::AddSource::UserOptout => add.tag.split(':').next().unwrap_or(""),
                wire::AddSource::Central => "",
            };
            csv.write_record([
                e164.to_string().as_str(),
                match add.source {
                    wire::AddSource::UserOptout => "user_optout",
                    wire::AddSource::Central => "central",
                },
                add.reason.as_str(),
                add.at.as_str(),
                add.by.as_str(),
                from_box,
            ])?;
        }
        csv.flush()?;
        Ok(())
    }

    async fn boxes(&self, json: bool) -> anyhow::Result<()> {
        let mut boxes = Vec::new();
        for object in self.s3.list(&self.keys.boxes_prefix(), None).await? {
            if !object.key.ends_with("/status.json") {
                continue;
            }
            let Some(bytes) = self.s3.get(&object.key, 256 * 1024).await? else {
                continue;
            };
            match wire::parse_status(&bytes, &self.config.org) {
                Ok(status) => boxes.push(status),
                Err(error) => eprintln!("warning: {} refused: {error}", object.key),
            }
        }
        if json {
            println!("{}", serde_json::to_string_pretty(&boxes)?);
            return Ok(());
        }
        if boxes.is_empty() {
            println!("No box of {} has reported yet.", self.config.org);
            return Ok(());
        }
        println!(
            "{:<20} {:<26} {:<10} {:>9} {:>8}  MODEL",
            "BOX", "LAST SEEN", "VERSION", "WAITING", "DNC"
        );
        for b in &boxes {
            println!(
                "{:<20} {:<26} {:<10} {:>9} {:>8}  {}",
                b.r#box.as_str(),
                b.at,
                b.version,
                b.waiting_records,
                b.dnc_version,
                b.model.as_deref().unwrap_or("-")
            );
        }
        Ok(())
    }

    async fn records(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        output: &std::path::Path,
    ) -> anyhow::Result<()> {
        if to < from {
            bail!("--to {to} is before --from {from}");
        }
        let mut latest: BTreeMap<String, (String, Record)> = BTreeMap::new();
        let mut objects = 0;
        for object in self.s3.list(&self.keys.records_prefix(), None).await? {
            let Some((box_id, date, _, _)) = wire::parse_records_key(&object.key) else {
                continue;
            };
            if date < from || date > to {
                continue;
            }
            let Some(bytes) = self.s3.get(&object.key, 256 * 1024 * 1024).await? else {
                continue;
            };
            objects += 1;
            for (_, record) in wire::parse_jsonl_gz(&bytes, 1024 * 1024 * 1024)? {
                let key = record.key().to_owned();
                // A later entry of the same record (an SMS that was delivered) wins.
                match latest.get(&key) {
                    Some((_, old)) if old.seq() >= record.seq() => {}
                    _ => {
                        latest.insert(key, (box_id.as_str().to_owned(), record));
                    }
                }
            }
        }
        let mut csv = csv::Writer::from_path(output)
            .with_context(|| format!("cannot write {}", output.display()))?;
        csv.write_record([
            "key",
            "box",
            "kind",
            "campaign",
            "number",
            "status",
            "outcome",
            "started_at",
            "answered_at",
            "ended_at",
            "duration_s",
            "attempt",
            "dtmf",
        ])?;
        for (key, (box_id, record)) in &latest {
            let row: Vec<String> = match record {
                Record::Call(c) => vec![
                    key.clone(),
                    box_id.clone(),
                    "call".into(),
                    c.campaign.clone().unwrap_or_default(),
                    c.e164.clone(),
                    c.status.clone(),
                    c.outcome.clone().unwrap_or_default(),
                    c.started_at.clone(),
                    c.answered_at.clone().unwrap_or_default(),
                    c.ended_at.clone().unwrap_or_default(),
                    c.duration_ms
                        .map(|ms| format!("{:.1}", ms as f64 / 1000.0))
                        .unwrap_or_default(),
                    c.attempt.to_string(),
                    c.dtmf.clone(),
                ],
                Record::Sms(s) => vec![
                    key.clone(),
                    box_id.clone(),
                    "sms".into(),
                    s.campaign.clone().unwrap_or_default(),
                    s.e164.clone(),
                    s.status.clone(),
                    s.failure_reason.clone().unwrap_or_default(),
                    s.queued_at.clone(),
                    String::new(),
                    s.delivered_at.clone().unwrap_or_default(),
                    String::new(),
                    s.attempts.to_string(),
                    String::new(),
                ],
            };
            csv.write_record(&row)?;
        }
        csv.flush()?;
        println!(
            "Wrote {} record(s) from {objects} batch(es) to {}.",
            latest.len(),
            output.display()
        );
        Ok(())
    }

    async fn publish_model(
        &self,
        file: &std::path::Path,
        name: &str,
        version: &str,
    ) -> anyhow::Result<()> {
        let data =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let sha256 = hex(&Sha256::digest(&data));
        let key = self.keys.model(name, version, &sha256);
        let mut manifest = ModelManifest {
            v: wire::VERSION,
            org: self.config.org.clone(),
            name: name.to_owned(),
            version: version.to_owned(),
            size: data.len() as u64,
            sha256,
            key: key.clone(),
            published_at: Utc::now().to_rfc3339(),
            by: self.admin.clone(),
            sig: None,
        };
        if let Some(signing) = &self.signing {
            manifest.sign(signing);
        } else if self.config.org_key.is_some() {
            bail!(
                "the organization signs its models ([sync] org_public_key is set): give [sync] signing_key"
            );
        }
        // Validate it as a box will before anything is uploaded.
        let body = serde_json::to_vec(&manifest)?;
        wire::parse_manifest(&body, &self.config.org, self.config.org_key.as_ref())?;
        self.s3.put(&key, data, "application/octet-stream").await?;
        self.s3
            .put(&self.keys.model_latest(), body.clone(), "application/json")
            .await?;
        if let Err(error) = self
            .publish(wire::central_model_topic(&self.config.org), body, true)
            .await
        {
            eprintln!(
                "warning: not announced on the broker ({error:#}); boxes find it in S3 within [sync] catchup_minutes"
            );
        }
        println!(
            "Published {name} {version} ({} bytes) to every box of {}.",
            manifest.size, self.config.org
        );
        Ok(())
    }

    /// One QoS 1 publish with the admin's certificate, waiting for the broker's ack.
    async fn publish(&self, topic: String, payload: Vec<u8>, retain: bool) -> anyhow::Result<()> {
        let Some(mqtt) = &self.config.mqtt else {
            bail!("no [sync] mqtt_url");
        };
        let id = format!(
            "central-{}-{:08x}",
            sanitize(&self.admin),
            rand::random::<u32>()
        );
        let mut options = crate::mqtt::options(mqtt, &id, 10)?;
        options.set_clean_session(true).set_manual_acks(false);
        let (client, mut eventloop) = AsyncClient::new(options, 10);
        client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await?;
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match eventloop.poll().await? {
                    Event::Incoming(Incoming::PubAck(_)) => return anyhow::Ok(()),
                    _ => continue,
                }
            }
        })
        .await
        .context("the broker did not acknowledge within 20 s")??;
        let _ = client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), eventloop.poll()).await;
        Ok(())
    }
}

fn sanitize(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(32)
        .collect();
    if cleaned.is_empty() {
        "admin".into()
    } else {
        cleaned
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

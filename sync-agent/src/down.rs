//! Down: the organization's do-not-call changes into the box's list, and models
//! into the models folder.
//!
//! [`Merger`] is the one place a do-not-call operation reaches the box, whether it
//! came over MQTT or from S3. Before anything remote is merged, the box's own
//! opt-outs are merged first, so the set knows every local opt-out a removal
//! could not have seen. The changes the merge makes are written to the
//! supervisor's database (source `central`) in one transaction, then the
//! operations are recorded in the agent's state; only after both may the message
//! be acknowledged. A crash in between means the message comes again, and the
//! merge and the store both ignore what they already have.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use shofar_dnc::SharedDnc;
use shofar_store::Store;
use shofar_store::sync::{CentralChange, CentralOutcome};

use crate::counters::Counters;
use crate::merge::{Change, OrSet};
use crate::s3::S3;
use crate::state::State;
use crate::wire::{self, AddOp, AddSource, DncOp, Keys, ModelManifest, Name, VerifyingKey};

/// The merged set and the two places it is written to.
pub struct Merger {
    set: OrSet,
    store: Store,
    /// The supervisor's index is its own; this one only satisfies the store's
    /// order of operations.
    dnc: SharedDnc,
    state: Arc<State>,
    me: Name,
    /// The highest history id of this box's own opt-outs merged into `set`.
    own_seen: i64,
}

/// What one application did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub ops: usize,
    pub outcome: CentralOutcomeCopy,
}

/// The store's outcome, copied (it is not `Copy`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CentralOutcomeCopy {
    pub listed: u64,
    pub already_listed: u64,
    pub unlisted: u64,
    pub kept: u64,
}

impl From<&CentralOutcome> for CentralOutcomeCopy {
    fn from(o: &CentralOutcome) -> Self {
        CentralOutcomeCopy {
            listed: o.listed,
            already_listed: o.already_listed,
            unlisted: o.unlisted,
            kept: o.kept,
        }
    }
}

const OWN_SEEN: &str = "own_optouts_merged";

impl Merger {
    /// Rebuilds the set from the state, then makes sure the box's list has every
    /// number the set lists (a crash between the two writes is repaired here).
    pub fn open(store: Store, state: Arc<State>, me: Name) -> anyhow::Result<Merger> {
        let mut set = OrSet::new();
        for op in state.ops()? {
            set.apply(&op);
        }
        let own_seen = state.get::<i64>(OWN_SEEN)?.unwrap_or(0);
        let mut merger = Merger {
            set,
            store,
            dnc: SharedDnc::default(),
            state,
            me,
            own_seen,
        };
        let missing: Vec<CentralChange> = merger
            .set
            .listed()
            .map(|(e164, add)| CentralChange::List {
                e164,
                reason: reason_for(add),
                by: add.by.clone(),
            })
            .collect();
        if !missing.is_empty() {
            merger
                .store
                .blacklist_apply_central(&merger.dnc, &missing)
                .context("cannot bring the box's list in step with the merged list")?;
        }
        Ok(merger)
    }

    pub fn version(&self) -> u64 {
        self.set.version()
    }

    pub fn listed(&self) -> u64 {
        self.set.listed_count() as u64
    }

    /// Merges the box's own opt-outs written since the last call.
    pub fn merge_own(&mut self) -> anyhow::Result<usize> {
        let mut merged = 0;
        loop {
            let events = self.store.sync_optouts_after(self.own_seen, 1000)?;
            let Some(last) = events.last().map(|e| e.history_id) else {
                return Ok(merged);
            };
            let ops: Vec<DncOp> = crate::upload::optout_ops(&self.me, &events);
            for op in &ops {
                self.set.apply(op);
            }
            self.state.merged(&ops, &[], unix_now())?;
            self.state.put(OWN_SEEN, &last)?;
            self.own_seen = last;
            merged += ops.len();
        }
    }

    /// Applies operations that arrived (validated already), recording `objects`
    /// (S3 keys) as applied in the same state transaction.
    pub fn apply(&mut self, ops: &[DncOp], objects: &[&str]) -> anyhow::Result<Applied> {
        self.merge_own()?;
        let mut changes = Vec::new();
        for op in ops {
            match self.set.apply(op) {
                Change::None => {}
                Change::Listed { e164, by } => changes.push(CentralChange::List {
                    e164,
                    reason: reason_for(&by),
                    by: by.by.clone(),
                }),
                Change::Unlisted { e164, by } => changes.push(CentralChange::Unlist {
                    e164,
                    reason: by.reason.clone(),
                    by: by.by.clone(),
                    own_history_at_most: self.own_seen,
                }),
            }
        }
        let outcome = if changes.is_empty() {
            CentralOutcome::default()
        } else {
            self.store
                .blacklist_apply_central(&self.dnc, &changes)
                .context("cannot write the organization's do-not-call changes to the box's list")?
        };
        self.state.merged(ops, objects, unix_now())?;
        Ok(Applied {
            ops: ops.len(),
            outcome: (&outcome).into(),
        })
    }

    pub fn is_applied(&self, key: &str) -> anyhow::Result<bool> {
        Ok(self.state.is_applied(key)?)
    }

    /// Marks objects handled without applying anything (refused or our own).
    pub fn skip(&self, objects: &[&str]) -> anyhow::Result<()> {
        Ok(self.state.merged(&[], objects, unix_now())?)
    }

    /// The current merged operations (for a central snapshot).
    pub fn set(&self) -> &OrSet {
        &self.set
    }
}

/// The reason the box's list shows for a number the organization listed.
fn reason_for(add: &AddOp) -> String {
    match add.source {
        AddSource::UserOptout => {
            let from = add.tag.split(':').next().unwrap_or("?");
            if add.reason.is_empty() {
                format!("opted out on box {from}")
            } else {
                format!("opted out on box {from}: {}", add.reason)
            }
        }
        AddSource::Central => add.reason.clone(),
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The most a change object may weigh (one MQTT payload's worth, and some).
const CHANGE_LIMIT: u64 = 1024 * 1024;
/// The most a snapshot may weigh, compressed and not.
const SNAPSHOT_LIMIT: u64 = 512 * 1024 * 1024;

/// What one catch-up found.
#[derive(Debug, Default, Clone, Copy)]
pub struct CatchUp {
    pub objects: usize,
    pub ops: usize,
    pub refused: usize,
}

/// Reads from S3 what the box has not applied: the newest snapshot, then every
/// change object. Own objects are skipped. A refused object is counted, logged
/// and never applied, and not fetched again.
pub async fn catch_up(
    s3: &S3,
    keys: &Keys,
    org: &Name,
    me: &Name,
    verify: Option<&VerifyingKey>,
    merger: &Arc<std::sync::Mutex<Merger>>,
    counters: &Counters,
) -> anyhow::Result<CatchUp> {
    let mut report = CatchUp::default();
    let snapshots = s3.list(&keys.dnc_snapshots_prefix(), None).await?;
    if let Some(newest) = snapshots.last() {
        let key = newest.key.clone();
        if !blocking(merger, {
            let key = key.clone();
            move |m| m.is_applied(&key)
        })
        .await?
        {
            let parsed = s3.get(&key, SNAPSHOT_LIMIT).await?.map(|bytes| {
                wire::gunzip(&bytes, SNAPSHOT_LIMIT as usize).and_then(|text| {
                    wire::parse_snapshot(&text, org, verify, SNAPSHOT_LIMIT as usize)
                })
            });
            report.objects += usize::from(parsed.is_some());
            match parsed.unwrap_or_else(|| {
                Ok(wire::DncSnapshot::new(
                    org,
                    chrono::Utc::now(),
                    "",
                    Vec::new(),
                ))
            }) {
                Ok(snapshot) => {
                    report.ops += snapshot.ops.len();
                    let ops = snapshot.ops;
                    blocking(merger, move |m| m.apply(&ops, &[key.as_str()]).map(drop)).await?;
                    counters.add("dnc_objects_applied_total", 1);
                }
                Err(error) => {
                    report.refused += 1;
                    counters.refused(&error);
                    tracing::warn!(%key, %error, "a do-not-call snapshot was refused: nothing of it is applied");
                    blocking(merger, move |m| m.skip(&[key.as_str()])).await?;
                }
            }
        }
    }
    let own_prefix = format!("{}{}/", keys.dnc_changes_prefix(), me.as_str());
    let changes = s3.list(&keys.dnc_changes_prefix(), None).await?;
    let mut pending = Vec::new();
    for object in changes {
        if object.key.starts_with(&own_prefix) {
            continue;
        }
        pending.push(object.key);
    }
    let fresh: Vec<String> = blocking(merger, move |m| {
        let mut fresh = Vec::new();
        for key in pending {
            if !m.is_applied(&key)? {
                fresh.push(key);
            }
        }
        Ok(fresh)
    })
    .await?;
    for key in fresh {
        report.objects += 1;
        let parsed = match s3.get(&key, CHANGE_LIMIT).await {
            Ok(Some(bytes)) => wire::parse_dnc(&bytes, org, verify),
            Ok(None) => continue,
            Err(error) if !error.is_outage() => {
                tracing::warn!(%key, %error, "a do-not-call change object cannot be read; skipped");
                report.refused += 1;
                counters.add("refused_total", 1);
                blocking(merger, move |m| m.skip(&[key.as_str()])).await?;
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        match parsed {
            Ok(message) => {
                report.ops += message.ops.len();
                let ops = message.ops;
                blocking(merger, move |m| m.apply(&ops, &[key.as_str()]).map(drop)).await?;
                counters.add("dnc_objects_applied_total", 1);
            }
            Err(error) => {
                report.refused += 1;
                counters.refused(&error);
                tracing::warn!(%key, %error, "a do-not-call change object was refused: nothing of it is applied");
                blocking(merger, move |m| m.skip(&[key.as_str()])).await?;
            }
        }
    }
    Ok(report)
}

/// Runs `body` on the merger off the async threads (it writes SQLite and redb).
pub async fn blocking<T: Send + 'static>(
    merger: &Arc<std::sync::Mutex<Merger>>,
    body: impl FnOnce(&mut Merger) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let merger = Arc::clone(merger);
    tokio::task::spawn_blocking(move || {
        let mut guard = merger.lock().unwrap_or_else(|p| p.into_inner());
        body(&mut guard)
    })
    .await
    .context("the do-not-call merge task failed")?
}

/// A model installed in the models folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledModel {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub installed_at: chrono::DateTime<chrono::Utc>,
}

/// What a look at the published model found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelCheck {
    NonePublished,
    AlreadyInstalled,
    Installed(InstalledModel),
}

/// Fetches the organization's manifest; when it names a model this box does not
/// have, downloads it (within the disk bound), verifies size, sha256 and — when
/// the organization has a key — the signature, and installs it atomically:
/// `NAME.onnx` becomes `NAME.previous.onnx` and the new file takes its place.
pub async fn check_model(
    s3: &S3,
    keys: &Keys,
    org: &Name,
    verify: Option<&VerifyingKey>,
    models_dir: &Path,
    installed: Option<&InstalledModel>,
    room: u64,
) -> anyhow::Result<ModelCheck> {
    let Some(bytes) = s3.get(&keys.model_latest(), 64 * 1024).await? else {
        return Ok(ModelCheck::NonePublished);
    };
    let manifest: ModelManifest = wire::parse_manifest(&bytes, org, verify)?;
    if installed.is_some_and(|m| m.sha256 == manifest.sha256 && m.name == manifest.name) {
        return Ok(ModelCheck::AlreadyInstalled);
    }
    if manifest.size > room {
        anyhow::bail!(
            "model {} {} is {} bytes, more than the {} bytes left under [sync] max_disk_mb: not downloaded",
            manifest.name,
            manifest.version,
            manifest.size,
            room
        );
    }
    let data = s3
        .get(&manifest.key, manifest.size)
        .await?
        .with_context(|| {
            format!(
                "the manifest names {} but S3 has no such object",
                manifest.key
            )
        })?;
    manifest.check_model_bytes(&data)?;
    let dir = models_dir.to_owned();
    let name = manifest.name.clone();
    tokio::task::spawn_blocking(move || install(&dir, &name, &data))
        .await
        .context("the model install task failed")??;
    Ok(ModelCheck::Installed(InstalledModel {
        name: manifest.name,
        version: manifest.version,
        sha256: manifest.sha256,
        installed_at: chrono::Utc::now(),
    }))
}

fn install(dir: &Path, name: &str, data: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot make the models folder {}", dir.display()))?;
    let target: PathBuf = dir.join(format!("{name}.onnx"));
    let previous = dir.join(format!("{name}.previous.onnx"));
    let partial = dir.join(format!(".{name}.onnx.partial"));
    {
        let mut file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        file.write_all(data)?;
        file.sync_all()?;
    }
    if target.exists() {
        std::fs::rename(&target, &previous)
            .with_context(|| format!("cannot keep the previous model as {}", previous.display()))?;
    }
    std::fs::rename(&partial, &target)
        .with_context(|| format!("cannot install {}", target.display()))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Distinct box ids named in tags (for tests and status).
pub fn boxes_in(ops: &[DncOp]) -> BTreeSet<String> {
    ops.iter()
        .filter_map(|op| match op {
            DncOp::Add(add) => add.tag.split(':').next().map(str::to_owned),
            DncOp::Remove(_) => None,
        })
        .collect()
}

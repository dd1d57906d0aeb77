//! Keeping what imports leave on the box's disk bounded: the web UI's uploads
//! (one folder per job: the file as sent and its rejected-rows file) and the
//! rejected-rows files of imports from a read-only folder (`rejected/`).
//!
//! [`sweep`] removes from one such directory, by the newest change inside
//! each top-level entry:
//! - a rejected-rows file still being written (`*.partial`) not touched for
//!   [`Retention::partial_after`]: its import died with its process (a dying
//!   import that unwinds removes its own);
//! - entries older than [`Retention::max_age`];
//! - then the oldest entries until the directory holds at most
//!   [`Retention::max_bytes`] — never one changed within
//!   [`Retention::in_use_for`], which a running import may be reading.
//!
//! The decision is [`plan`], without I/O; `shofar serve` sweeps at start and
//! once a day (`shofar_web::jobs::housekeeping`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::rejected::PARTIAL_SUFFIX;

/// How long files are kept, and how much of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_age: Duration,
    pub max_bytes: u64,
    pub partial_after: Duration,
    pub in_use_for: Duration,
}

impl Default for Retention {
    /// 30 days, 2 GB per directory; a partial file an hour after its last write.
    fn default() -> Retention {
        Retention {
            max_age: Duration::from_secs(30 * 24 * 3600),
            max_bytes: 2_000_000_000,
            partial_after: Duration::from_secs(3600),
            in_use_for: Duration::from_secs(3600),
        }
    }
}

/// One top-level entry of a swept directory, as [`plan`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Since the newest change inside it.
    pub age: Duration,
    pub bytes: u64,
}

/// Which entries to remove (indexes into `entries`, oldest first among those
/// removed for space): every one older than the maximum age, then the oldest
/// of the rest until the total fits — none changed within `in_use_for`.
pub fn plan(entries: &[Entry], retention: &Retention) -> Vec<usize> {
    let mut remove: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].age > retention.max_age)
        .collect();
    let mut total: u64 = (0..entries.len())
        .filter(|i| !remove.contains(i))
        .map(|i| entries[i].bytes)
        .sum();
    let mut by_age: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].age <= retention.max_age && entries[i].age > retention.in_use_for)
        .collect();
    by_age.sort_by(|&a, &b| entries[b].age.cmp(&entries[a].age).then(a.cmp(&b)));
    for index in by_age {
        if total <= retention.max_bytes {
            break;
        }
        total -= entries[index].bytes;
        remove.push(index);
    }
    remove
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Top-level entries and stale partial files removed.
    pub removed: u64,
    pub freed_bytes: u64,
    pub kept_bytes: u64,
}

/// Applies the [`Retention`] to `dir` at `now` (see the module documentation).
/// A directory that does not exist is empty; an entry that cannot be read or
/// removed is logged and left.
pub fn sweep(dir: &Path, retention: &Retention, now: SystemTime) -> std::io::Result<Swept> {
    let mut swept = Swept::default();
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(swept),
        Err(error) => return Err(error),
    };
    let mut paths = Vec::new();
    let mut entries = Vec::new();
    for item in listing {
        let path = item?.path();
        // Partial files first: they are removed whatever their folder's age.
        let mut stale = Vec::new();
        let (newest, bytes) = measure(&path, &mut |file, modified, bytes| {
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            if name.ends_with(PARTIAL_SUFFIX) && age(now, modified) > retention.partial_after {
                stale.push((file.to_owned(), bytes));
                return true;
            }
            false
        });
        for (file, bytes) in stale {
            if remove(&file) {
                swept.removed += 1;
                swept.freed_bytes += bytes;
            }
        }
        let Some(newest) = newest else { continue };
        paths.push(path);
        entries.push(Entry {
            age: age(now, newest),
            bytes,
        });
    }
    let removed = plan(&entries, retention);
    for (index, (path, entry)) in paths.iter().zip(&entries).enumerate() {
        if removed.contains(&index) && remove(path) {
            swept.removed += 1;
            swept.freed_bytes += entry.bytes;
        } else {
            swept.kept_bytes += entry.bytes;
        }
    }
    if swept.removed > 0 {
        tracing::info!(dir = %dir.display(), removed = swept.removed, freed_bytes = swept.freed_bytes, kept_bytes = swept.kept_bytes, "removed old import files");
    }
    Ok(swept)
}

fn age(now: SystemTime, then: SystemTime) -> Duration {
    now.duration_since(then).unwrap_or_default()
}

/// The newest change and the size of `path` (a file, or a folder and all in
/// it), leaving out files `skip` takes (it is told each file's path, change
/// and size); `None` when nothing is left in it.
fn measure(
    path: &Path,
    skip: &mut impl FnMut(&Path, SystemTime, u64) -> bool,
) -> (Option<SystemTime>, u64) {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return (None, 0);
    };
    let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if !metadata.is_dir() {
        if skip(path, modified, metadata.len()) {
            return (None, 0);
        }
        return (Some(modified), metadata.len());
    }
    let mut newest = Some(modified);
    let mut bytes = 0;
    let children: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|listing| {
            listing
                .filter_map(|item| item.ok().map(|item| item.path()))
                .collect()
        })
        .unwrap_or_default();
    for child in children {
        let (child_newest, child_bytes) = measure(&child, skip);
        newest = newest.max(child_newest);
        bytes += child_bytes;
    }
    (newest, bytes)
}

fn remove(path: &Path) -> bool {
    let removed = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match removed {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot remove an old import file");
            false
        }
    }
}

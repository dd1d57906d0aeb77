//! The agent's counters (`shofar_sync_*_total` on the supervisor's `/metrics`,
//! through the status file) and its last errors. "dropped" is counted only when
//! data is truly lost; a refused message or object is "refused".

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::wire::WireError;

/// How many errors the status keeps.
const KEEP_ERRORS: usize = 10;

/// An error and when it happened.
pub type Recent = (DateTime<Utc>, String);

#[derive(Default)]
pub struct Counters {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    counts: BTreeMap<String, u64>,
    errors: VecDeque<(DateTime<Utc>, String)>,
}

impl Counters {
    pub fn with(initial: BTreeMap<String, u64>) -> Counters {
        Counters {
            inner: Mutex::new(Inner {
                counts: initial,
                errors: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, name: &str, n: u64) {
        *self.lock().counts.entry(name.to_owned()).or_default() += n;
    }

    /// A message or object refused: counted by reason, and as an error.
    pub fn refused(&self, error: &WireError) {
        self.add("refused_total", 1);
        self.add(&format!("refused_{}_total", error.kind()), 1);
        self.error(format!("refused: {error}"));
    }

    pub fn error(&self, what: String) {
        let mut inner = self.lock();
        *inner.counts.entry("errors_total".into()).or_default() += 1;
        if inner.errors.back().is_some_and(|(_, last)| *last == what) {
            return;
        }
        inner.errors.push_back((Utc::now(), what));
        while inner.errors.len() > KEEP_ERRORS {
            inner.errors.pop_front();
        }
    }

    pub fn snapshot(&self) -> (BTreeMap<String, u64>, Vec<Recent>) {
        let inner = self.lock();
        (inner.counts.clone(), inner.errors.iter().cloned().collect())
    }

    pub fn get(&self, name: &str) -> u64 {
        self.lock().counts.get(name).copied().unwrap_or(0)
    }
}

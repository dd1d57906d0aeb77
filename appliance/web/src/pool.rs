//! A few open connections to the store, used from async handlers.
//!
//! A `Store` is one SQLite connection and not `Sync`; SQLite in WAL mode lets
//! readers run beside the one writer. Each request borrows a connection and runs
//! its storage work on the blocking pool, so no handler ever blocks the runtime
//! on the database (a million-row import can hold the write lock for seconds).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use shofar_store::{Store, StoreError};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct StorePool {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Idle connections. A `std`-style mutex held only to push or pop, never
    /// across an `.await`.
    idle: Mutex<Vec<Store>>,
    /// How many connections may be in use at once.
    permits: Semaphore,
}

impl StorePool {
    /// Opens `size` connections to the database at `path` (migrating it first).
    pub fn open(path: &Path, size: usize) -> Result<StorePool, StoreError> {
        let size = size.max(1);
        let idle = (0..size)
            .map(|_| Store::open(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StorePool {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                idle: Mutex::new(idle),
                permits: Semaphore::new(size),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `work` with a connection on the blocking pool.
    pub async fn run<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> ApiResult<T> + Send + 'static,
    {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::internal("the database pool is closed"))?;
        let taken = self.inner.idle.lock().pop();
        let mut store = match taken {
            Some(store) => store,
            // A connection is lost only when work panicked with it; open another.
            None => Store::open(&self.inner.path)?,
        };
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let result = work(&mut store);
            inner.idle.lock().push(store);
            result
        })
        .await
        .map_err(|error| ApiError::internal(format!("a database task failed: {error}")))?
    }
}

//! The one writer: a thread that owns a [`Store`] and runs every write given to it
//! in batches, one transaction per batch.
//!
//! Calls write their records as they go (placed, answered, keys, ended) and the
//! dialer settles each ended call's contact: at hundreds of calls a second that is
//! thousands of small writes a second. Through one connection behind a mutex they
//! queued one behind another, each paying its own commit; here whatever is waiting
//! when the writer comes round runs in one transaction, and the commit is paid
//! once per batch.
//!
//! Guarantees, as what it never does:
//! - Never answers a write before its batch committed: a caller told `Ok` can
//!   rely on the row being on disk (as far as `synchronous = NORMAL` goes), and
//!   one told `Err` can rely on nothing of it being there.
//! - Never lets one write's failure undo another's: each write runs in a
//!   savepoint of its own; an error rolls back that write alone.
//! - Never gives up on a busy database: `BEGIN IMMEDIATE` is retried, with a
//!   warning every [`BUSY_WARNING`], until it gets the write lock (another
//!   process — an import, the CLI — holds it only for short transactions). Only a
//!   database that fails otherwise (disk full, unwritable, corrupt) fails the
//!   batch's writes, each with that error.
//! - Never touches SQLite on the caller's thread: [`Writer::write`] only sends
//!   and waits, [`Writer::write_later`] only sends.
//! - Never reorders: writes run in the order they were given.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{Condition, Result, Store, StoreError};

/// How long a busy database is retried before the writer says so in the log (it
/// goes on retrying).
pub const BUSY_WARNING: Duration = Duration::from_secs(10);

/// At most this many writes share one transaction.
const MAX_BATCH: usize = 512;

/// One write, waiting for its batch.
trait Job: Send {
    /// Runs the write (in a savepoint of the batch's transaction) and returns what
    /// answers it once the batch's fate is known.
    fn run(self: Box<Self>, store: &mut Store) -> Box<dyn Finish>;
    /// Answers without running: the batch could not start.
    fn refuse(self: Box<Self>, error: &StoreError);
}

/// Answers a write that ran: `failed` is `None` when its batch committed.
trait Finish: Send {
    fn finish(self: Box<Self>, failed: Option<&StoreError>);
}

/// Where a write's result goes: to the caller waiting for it, or, for a write
/// nobody waits on, into the log if it failed.
enum Reply<T> {
    Wait(mpsc::SyncSender<Result<T>>),
    Log(&'static str),
}

impl<T> Reply<T> {
    fn send(self, result: Result<T>) {
        match self {
            // A caller that stopped waiting no longer needs the answer.
            Reply::Wait(sender) => {
                let _ = sender.send(result);
            }
            Reply::Log(what) => {
                if let Err(error) = result {
                    tracing::warn!(%error, write = what, "a write failed");
                }
            }
        }
    }
}

struct Work<F, T> {
    work: F,
    reply: Reply<T>,
}

struct Ran<T> {
    result: Result<T>,
    reply: Reply<T>,
}

impl<F, T> Job for Work<F, T>
where
    F: FnOnce(&mut Store) -> Result<T> + Send,
    T: Send + 'static,
{
    fn run(self: Box<Self>, store: &mut Store) -> Box<dyn Finish> {
        let Work { work, reply } = *self;
        // Inside the batch's transaction, `transaction` is a savepoint: an error
        // rolls back this write alone.
        let result = store.transaction(work);
        Box::new(Ran { result, reply })
    }

    fn refuse(self: Box<Self>, error: &StoreError) {
        self.reply.send(Err(error.copy()));
    }
}

impl<T: Send> Finish for Ran<T> {
    fn finish(self: Box<Self>, failed: Option<&StoreError>) {
        let result = match (self.result, failed) {
            (Ok(_), Some(error)) => Err(error.copy()),
            (result, _) => result,
        };
        self.reply.send(result);
    }
}

enum Message {
    Write(Box<dyn Job>),
    Stop,
}

/// A handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    sender: mpsc::Sender<Message>,
}

/// The writer thread itself: [`WriterThread::stop`] finishes what was sent before
/// it and joins the thread.
pub struct WriterThread {
    sender: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

/// Starts the writer on its own thread, owning `store`.
pub fn spawn(store: Store) -> (Writer, WriterThread) {
    let (sender, receiver) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("shofar-writer".to_owned())
        .spawn(move || run(store, receiver))
        .expect("the store writer's thread starts");
    (
        Writer {
            sender: sender.clone(),
        },
        WriterThread {
            sender,
            thread: Some(thread),
        },
    )
}

impl Writer {
    /// Runs `work` in the writer's next batch and returns its result once the
    /// batch committed. `work` may call any `Store` operation, including ones that
    /// open a transaction of their own (they become savepoints).
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        // Waited for on the blocking pool rather than through an async channel:
        // a runtime with a paused clock (tests) must not jump its time ahead
        // while a write is on its way, and tokio holds time only for blocking
        // tasks. The thread only waits; the writer thread does the work.
        let writer = self.clone();
        tokio::task::spawn_blocking(move || writer.write_blocking(work))
            .await
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// [`Writer::write`] from a thread that is not async (a blocking task).
    pub fn write_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(work, Reply::Wait(reply))?;
        answer.recv().map_err(|_| StoreError::WriterStopped)?
    }

    /// Runs `work` in the writer's next batch without waiting for it, for writes
    /// nothing waits on (a call's progress, so its reactions never wait on the
    /// disk). Writes run in the order they are given, so one given later — an
    /// awaited one included — is applied after it; a failure is logged, naming
    /// `what`.
    pub fn write_later(
        &self,
        what: &'static str,
        work: impl FnOnce(&mut Store) -> Result<()> + Send + 'static,
    ) {
        if let Err(error) = self.send(work, Reply::Log(what)) {
            tracing::error!(%error, write = what, "a write was not made");
        }
    }

    fn send<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
        reply: Reply<T>,
    ) -> Result<()> {
        self.sender
            .send(Message::Write(Box::new(Work { work, reply })))
            .map_err(|_| StoreError::WriterStopped)
    }
}

impl WriterThread {
    /// Runs what was sent before this call, then ends the thread.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the store writer's thread panicked");
        }
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        self.finish();
    }
}

fn run(mut store: Store, receiver: mpsc::Receiver<Message>) {
    let mut stopping = false;
    while !stopping {
        let Ok(first) = receiver.recv() else { return };
        let mut batch = Vec::new();
        match first {
            Message::Write(job) => batch.push(job),
            Message::Stop => return,
        }
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(Message::Write(job)) => batch.push(job),
                Ok(Message::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        run_batch(&mut store, batch);
    }
    // Whatever was sent before the stop is still answered.
    while let Ok(Message::Write(job)) = receiver.try_recv() {
        run_batch(&mut store, vec![job]);
    }
}

fn run_batch(store: &mut Store, batch: Vec<Box<dyn Job>>) {
    if let Err(error) = begin(store) {
        tracing::error!(%error, writes = batch.len(), "a batch of writes could not start");
        for job in batch {
            job.refuse(&error);
        }
        return;
    }
    let finishers: Vec<Box<dyn Finish>> = batch.into_iter().map(|job| job.run(store)).collect();
    let committed = store.conn.execute_batch("COMMIT").map_err(StoreError::from);
    if committed.is_err() {
        let _ = store.conn.execute_batch("ROLLBACK");
    }
    let failed = committed.err();
    if let Some(error) = &failed {
        tracing::error!(%error, writes = finishers.len(), "a batch of writes did not commit");
    }
    for finish in finishers {
        finish.finish(failed.as_ref());
    }
}

/// `BEGIN IMMEDIATE`, retried while another connection holds the write lock.
fn begin(store: &mut Store) -> Result<()> {
    let started = Instant::now();
    let mut warned_at = started;
    let mut pause = Duration::from_millis(20);
    loop {
        match store.conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => return Ok(()),
            Err(error) => {
                let error = StoreError::from(error);
                if error.condition() != Some(Condition::Busy) {
                    return Err(error);
                }
                if warned_at.elapsed() >= BUSY_WARNING {
                    warned_at = Instant::now();
                    tracing::warn!(
                        waited_seconds = started.elapsed().as_secs(),
                        "the database is busy (another process is writing); the writer keeps retrying"
                    );
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(500));
            }
        }
    }
}

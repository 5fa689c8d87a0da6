//! Group commit of the chat's writes on the embedded store (issue 19).
//!
//! Every chat writes its question (with a new session) before any slow step and its answer
//! before `done`, each a transaction of its own. On SQLite each commit appends the pages
//! it changed to the WAL (copied and checksummed), and makes every other pooled connection
//! drop its page cache at its next read; under concurrent chats the writers queued one
//! behind the other at the write gate, each committing alone.
//!
//! Here a chat's write is queued, then waits for its turn at the write gate *or* for its
//! result, whichever comes first. Whoever gets the gate takes every write queued by then
//! and runs them in one transaction, in the order they were queued, then sends each its
//! own result — **after** the commit. So a write still returns only once it is committed
//! (what survives a crash is unchanged: a question is stored before any slow step, an
//! answer before `done`), and writes that arrive while one group commits form the next
//! group instead of waiting for one commit each.
//!
//! Each write stays all-or-nothing: when a group's transaction fails, nothing of it was
//! committed and every write of the group runs again alone, in its own transaction, as
//! without grouping (a write that fails then fails alone; the others are committed). A
//! write's `Ok(false)` (a run check that found a newer run) is an answer, not a failure,
//! and keeps its group. Only writes whose statements do not depend on a result the
//! store gives back to the caller mid-way are grouped (an insert, a conditional update).
//!
//! PostgreSQL has row locks and commits concurrently: its writes are not grouped.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use crate::store::SqliteConn;
use crate::{DbError, Store, StoreError};

/// Writes in one transaction at most: the rest wait for the next group (their callers
/// queue at the gate). A transaction of thousands of writes (a burst of 5,000 new chats)
/// would hold all their pages in SQLite's memory at once.
const MAX_GROUP: usize = 64;

/// The statements of one grouped write, without a transaction of their own (the group's
/// is around them). Run again alone when its group's transaction fails, hence `FnMut`.
pub(crate) type Work =
    Box<dyn for<'c> FnMut(&'c mut SqliteConn) -> BoxFuture<'c, Result<bool, DbError>> + Send>;

struct Queued {
    id: u64,
    work: Work,
    done: oneshot::Sender<Result<bool, DbError>>,
}

/// Writes waiting for a group.
#[derive(Default)]
pub(crate) struct Group {
    queue: Mutex<Vec<Queued>>,
    next_id: AtomicU64,
}

/// The embedded store's pool.
type SqlitePool = deadpool::managed::Pool<
    diesel_async::pooled_connection::AsyncDieselConnectionManager<SqliteConn>,
>;

/// Takes a write out of the queue when its caller goes away before a group took it: a
/// write whose caller stopped waiting is not run later for nobody (as an ungrouped one
/// whose caller went away before its turn never ran).
struct Unqueue<'a> {
    group: &'a Group,
    id: u64,
}

impl Drop for Unqueue<'_> {
    fn drop(&mut self) {
        lock(&self.group.queue).retain(|q| q.id != self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Store {
    /// Runs `work` in the next group's transaction (SQLite only; see the module's docs) and
    /// returns its result once that transaction is committed.
    pub(crate) async fn grouped_write(
        &self,
        pool: &SqlitePool,
        work: Work,
    ) -> Result<bool, DbError> {
        let (done, mut result) = oneshot::channel();
        let id = self.group.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.group.queue).push(Queued { id, work, done });
        let unqueue = Unqueue {
            group: &self.group,
            id,
        };
        let turn = tokio::select! {
            biased;
            r = &mut result => return r.unwrap_or_else(|_| Err(lost())),
            turn = self.write_gate.clone().lock_owned() => turn,
        };
        // Whoever held the gate before may have run this write: it sends the results
        // before it lets the gate go.
        if let Ok(r) = result.try_recv() {
            return r;
        }
        let mut batch: Vec<Queued> = {
            let mut queue = lock(&self.group.queue);
            let n = queue.len().min(MAX_GROUP);
            let mut batch: Vec<Queued> = queue.drain(..n).collect();
            // This write is always in the group it leads: nobody else may be left to run
            // it (its caller waits for the result only from here on). Writes of different
            // chats are independent; one chat's writes are never queued at once.
            if let Some(i) = queue.iter().position(|q| q.id == id) {
                batch.push(queue.remove(i));
            }
            batch
        };
        drop(unqueue);
        if batch.len() == 1 {
            // This write alone: run here, as without grouping (a caller that goes away
            // abandons its own write, which is rolled back, and nobody else's).
            run_group(pool, &mut batch).await;
            drop(turn);
        } else {
            // Others' writes too: from here on the group runs whether or not this caller
            // still waits (a task of its own, so that their writes never depend on it).
            let pool = pool.clone();
            tokio::spawn(async move {
                run_group(&pool, &mut batch).await;
                drop(turn);
            });
        }
        result.await.unwrap_or_else(|_| Err(lost()))
    }
}

fn lost() -> DbError {
    DbError(StoreError::Unavailable(
        "a grouped write ended without a result".into(),
    ))
}

/// Runs a group in one transaction; on failure each write alone. Sends every result.
async fn run_group(pool: &SqlitePool, batch: &mut Vec<Queued>) {
    use diesel_async::AsyncConnection;
    let mut guard = match pool.get().await {
        Ok(g) => g,
        Err(e) => {
            for q in batch.drain(..) {
                let _ = q
                    .done
                    .send(Err(DbError(StoreError::Unavailable(e.to_string()))));
            }
            return;
        }
    };
    let c: &mut SqliteConn = &mut guard;
    if batch.len() > 1 {
        let works = &mut *batch;
        let together = c
            .transaction::<_, DbError, _>(async move |c| {
                let mut results = Vec::with_capacity(works.len());
                for q in works.iter_mut() {
                    results.push((q.work)(c).await?);
                }
                Ok(results)
            })
            .await;
        if let Ok(results) = together {
            for (q, r) in batch.drain(..).zip(results) {
                let _ = q.done.send(Ok(r));
            }
            return;
        }
        // Rolled back: nothing of the group was committed. Each alone, below.
    }
    for mut q in batch.drain(..) {
        let work = &mut q.work;
        let r = c
            .transaction::<_, DbError, _>(async move |c| work(c).await)
            .await;
        let _ = q.done.send(r);
    }
}

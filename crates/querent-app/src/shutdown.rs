//! Graceful shutdown (design §9). The binary catches SIGTERM or Ctrl-C, stops accepting
//! connections and calls [`App::begin_shutdown`]; from then on:
//!
//! - **Chats** in progress end at once: the pipeline is dropped — which cancels a running
//!   target query (the engine's cancellation, as when a client disconnects) — the message
//!   is stored as `error` with the code `shutting_down`, and a stream gets an `error` event
//!   with that code, then `done`. A chat that starts now ends the same way before it
//!   begins.
//! - **Asynchronous questions** being answered are let go: their lease is ended at once, so
//!   any instance's recovery takes them again (they are read-only; running one again is
//!   safe); workers take no new ones.
//! - **Workflow runs** in progress stop and end their lease, so any instance's scheduler
//!   records them as failed because their instance stopped; the scheduler claims no new
//!   slots.
//!
//! [`App::drain`] then waits for all of that to be written and flushes the cache's queued
//! writes; the binary bounds the whole with `shutdown_timeout_seconds`.

use std::future::Future;

use tokio::sync::watch;

use crate::App;

/// What a chat ended by a shutdown says.
pub const SHUTTING_DOWN_DETAIL: &str = "the server is shutting down; ask again (another instance, or this one once restarted, answers)";

/// Whether the server is stopping, and how much work is still being ended.
#[derive(Debug)]
pub(crate) struct ShutdownState {
    stopping: watch::Sender<bool>,
    /// Chats, questions and workflow runs in progress in this process.
    in_flight: watch::Sender<usize>,
}

impl Default for ShutdownState {
    fn default() -> Self {
        Self {
            stopping: watch::Sender::new(false),
            in_flight: watch::Sender::new(0),
        }
    }
}

/// Counts one piece of work in progress until dropped (see [`App::drain`]).
pub(crate) struct InFlight(watch::Sender<usize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl App {
    /// Starts the shutdown: chats, questions and workflow runs in progress end as the
    /// module doc says, and no new ones start. Idempotent.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.stopping.send_replace(true);
    }

    /// Whether [`App::begin_shutdown`] was called.
    pub fn is_shutting_down(&self) -> bool {
        *self.inner.shutdown.stopping.borrow()
    }

    /// Resolves once the shutdown began (at once if it has).
    pub(crate) fn shutting_down(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.inner.shutdown.stopping.subscribe();
        async move {
            // An error means the sender is gone with the App: nothing will stop then.
            if rx.wait_for(|stopping| *stopping).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Marks a piece of work in progress until the guard is dropped.
    pub(crate) fn in_flight(&self) -> InFlight {
        let tx = self.inner.shutdown.in_flight.clone();
        tx.send_modify(|n| *n += 1);
        InFlight(tx)
    }

    /// Waits until every chat, question and workflow run of this process has ended and
    /// written its end, then flushes the cache's queued writes. Call after
    /// [`App::begin_shutdown`]; the caller bounds the wait.
    pub async fn drain(&self) {
        let mut rx = self.inner.shutdown.in_flight.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
        self.flush_cache_writes().await;
    }
}

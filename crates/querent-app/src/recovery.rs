//! Chats interrupted by a crash. A message is stored `running` when its question arrives
//! and gets its final status when the pipeline ends; a process that dies in between leaves
//! it `running` for ever. Recovery ends such messages with status `error` and the code
//! `interrupted`, without touching the chats other live instances are answering:
//!
//! - **Heartbeat.** While a chat runs, its pipeline touches the message's `updated_at`
//!   every [`HEARTBEAT`] (`App::keep_alive`). So a `running` message whose last change is
//!   older than [`STALE_AFTER`] has no live process behind it, however long chats may take
//!   (provider retries and statement timeouts have no useful upper bound).
//! - **One clock.** The heartbeat is written with the *store's* clock and staleness is
//!   judged against the store's `now` in the same UPDATE (querent-store), so instances whose
//!   clocks disagree — by minutes, even — never mark each other's live chats.
//! - **At start** ([`App::recover_interrupted_chats`]): on the embedded SQLite store, which
//!   belongs to one server process, every `running` message is from a previous run and is
//!   ended at once. On PostgreSQL, which several instances share, only stale ones are: a
//!   chat another instance is answering keeps its heartbeat fresh.
//! - **Periodic sweep** ([`App::spawn_recovery_sweep`], every [`SWEEP_EVERY`]): ends stale
//!   messages on either store, so a crashed instance's chats end even when it never comes
//!   back.
//!
//! Should a live chat be marked by mistake (its store writes failed for [`STALE_AFTER`]),
//! its final update overwrites the mark with the real outcome — but only while the message
//! is still that run's: every ask, approval and edit starts a new run (`run_id`), and a
//! run's final write is conditional on it ([`querent_domain::ports::MetadataStore::finish_message`]).
//! So once the user edited or re-ran a message marked interrupted, the old pipeline's late
//! answer is dropped instead of clobbering the newer one.

use std::convert::Infallible;
use std::time::Duration;

use querent_domain::{ErrorCode, MessageId, RunId};

use crate::{App, ServiceResult};

/// How often a running chat marks its message alive.
pub const HEARTBEAT: Duration = Duration::from_secs(30);
/// A `running` message untouched for this long belongs to no live process (ten missed
/// heartbeats: room for store hiccups and clock skew between instances).
pub const STALE_AFTER: Duration = Duration::from_secs(5 * 60);
/// How often each server sweeps for stale messages.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What an interrupted message says.
pub const INTERRUPTED_DETAIL: &str =
    "the server stopped before this answer was complete; ask the question again";

impl App {
    /// Ends the chats a crash left `running`: all of them on the embedded store, the stale
    /// ones (see [`STALE_AFTER`]) on a shared PostgreSQL store. Call once at server start.
    pub async fn recover_interrupted_chats(&self) -> ServiceResult<u64> {
        let embedded = self.store().health().backend == "sqlite";
        self.interrupt_idle((!embedded).then_some(STALE_AFTER))
            .await
    }

    /// Ends the `running` messages nobody has touched for [`STALE_AFTER`].
    pub async fn sweep_interrupted_chats(&self) -> ServiceResult<u64> {
        self.interrupt_idle(Some(STALE_AFTER)).await
    }

    /// Ends the running messages idle for `idle_for` (all of them with `None`), measured on
    /// the store's clock alone: neither this instance's clock nor the one of the instance
    /// that wrote a heartbeat takes part, so skew between instances cannot end a live chat.
    async fn interrupt_idle(&self, idle_for: Option<Duration>) -> ServiceResult<u64> {
        let n = self
            .store()
            .interrupt_running_messages(idle_for, ErrorCode::Interrupted, INTERRUPTED_DETAIL)
            .await?;
        if n > 0 {
            tracing::warn!(
                messages = n,
                "ended chats left running by a stopped server (code interrupted)"
            );
        }
        Ok(n)
    }

    /// Runs [`App::sweep_interrupted_chats`] every [`SWEEP_EVERY`] until the task is
    /// aborted (the server keeps the handle).
    pub fn spawn_recovery_sweep(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SWEEP_EVERY).await;
                if let Err(e) = app.sweep_interrupted_chats().await {
                    tracing::warn!(error = %e.detail, "could not sweep interrupted chats");
                }
            }
        })
    }

    /// Keeps a running message's heartbeat fresh; never returns (dropped with the chat).
    pub(crate) async fn keep_alive(&self, id: MessageId, run: Option<RunId>) -> Infallible {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            // Bumps `updated_at` (on the store's clock) while the message is `running` and
            // still this run's; false once it left that status or was taken over, which the
            // pipeline's final (conditional) update settles anyway.
            if let Err(e) = self.store().heartbeat_message(id, run).await {
                tracing::warn!(error = %e, message_id = %id, "could not refresh a chat's heartbeat");
            }
        }
    }
}

//! The reads of every chat, on the embedded store's synchronous connection (issue 19).
//!
//! diesel-async's `SyncConnectionWrapper` (the embedded store's pooled connection) writes
//! every statement's SQL text, collects its binds into owned buffers, then finds the
//! prepared statement by hashing that text, and copies every row it reads into an owned row
//! before deserialising it: for the store's point reads that was most of their cost (on a
//! chat hit, writing identifiers into SQL text alone was 7.7% of its instructions). diesel's
//! synchronous `SqliteConnection` finds the statement of a query whose SQL its type fixes
//! by the type (nothing written, nothing hashed) and deserialises rows where they are.
//! The wrapper hands that connection out through `spawn_blocking`, which on this store runs
//! in place ([`crate::store::Inline`]).
//!
//! So the reads every chat makes (the token's user, the connection, the membership, the
//! provider, the schema's and the model's stamps, a cache entry's confirmation) are here as
//! functions of a `SqliteConnection`, called through `with_conn_sync!` (lib.rs);
//! PostgreSQL runs the async statement beside each call. Both are built by the same `q_*`
//! macro, so the two backends cannot run different SQL, and the store's test suite runs
//! both.
//!
//! The chat's writes stay on diesel-async's connection (their statements are built by the
//! `q_*` macros here too): diesel's synchronous `execute` takes a statement by reference,
//! and for a reference diesel decides whether the statement may be cached by walking it, so
//! a [`crate::statements::Kept`] `UPDATE` would be prepared again on every call (measured:
//! the two `UPDATE`s of a chat, 45k instructions each).

use diesel::{OptionalExtension, RunQueryDsl, SqliteConnection};

use crate::DbError;
use crate::models::{ConnectionRow, ProviderRow, UserRow};

/// The user of an access token.
macro_rules! q_user {
    ($id:expr) => {
        $crate::schema::users::table.find($id).limit_one()
    };
}
pub(crate) use q_user;

/// Whether a token family is revoked.
macro_rules! q_family_revoked {
    ($family:expr) => {
        diesel::select(diesel::dsl::exists(
            $crate::schema::refresh_tokens::table.filter(
                $crate::schema::refresh_tokens::family_id
                    .eq($family)
                    .and($crate::schema::refresh_tokens::revoked.eq(true)),
            ),
        ))
    };
}
pub(crate) use q_family_revoked;

/// A connection by id.
macro_rules! q_connection {
    ($id:expr) => {
        $crate::schema::connections::table.find($id).limit_one()
    };
}
pub(crate) use q_connection;

/// A team's provider by name.
macro_rules! q_provider {
    ($team:expr, $name:expr) => {
        $crate::schema::provider_configs::table
            .filter($crate::schema::provider_configs::team_id.eq($team))
            .filter($crate::schema::provider_configs::name.eq($name))
            .limit_one()
    };
}
pub(crate) use q_provider;

/// A member's role in a team.
macro_rules! q_membership {
    ($team:expr, $user:expr) => {
        $crate::schema::team_members::table
            .find(($team, $user))
            .select($crate::schema::team_members::role)
            .limit_one()
    };
}
pub(crate) use q_membership;

/// Whether a cache entry exists and is unexpired (a count of 0 or 1).
macro_rules! q_cache_entry_live {
    ($id:expr, $now:expr) => {
        $crate::schema::cache_entries::table
            .find($id)
            .filter($crate::schema::cache_entries::expires_at.gt($now))
            .select(diesel::dsl::count_star())
            .limit_one()
    };
}
pub(crate) use q_cache_entry_live;

/// A connection's schema snapshot: fingerprint, time and size.
macro_rules! q_schema_stamp {
    ($connection:expr) => {
        $crate::schema::schema_snapshots::table
            .find($connection)
            .select((
                $crate::schema::schema_snapshots::fingerprint,
                $crate::schema::schema_snapshots::taken_at,
                diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "CAST(octet_length(snapshot) AS BIGINT)",
                ),
            ))
            .limit_one()
            .kept()
    };
}
pub(crate) use q_schema_stamp;

/// A connection's latest semantic model: version, time and size.
macro_rules! q_model_stamp {
    ($connection:expr) => {
        $crate::schema::semantic_models::table
            .filter($crate::schema::semantic_models::connection_id.eq($connection))
            .order($crate::schema::semantic_models::version.desc())
            .select((
                $crate::schema::semantic_models::version,
                $crate::schema::semantic_models::created_at,
                diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "CAST(octet_length(model) AS BIGINT)",
                ),
            ))
            .limit_one()
            .kept()
    };
}
pub(crate) use q_model_stamp;

/// Sets a running message's heartbeat to the store's clock (see
/// `interrupt_running_messages`).
macro_rules! q_heartbeat {
    ($c:expr, $id:expr) => {
        diesel::update($crate::schema::messages::table.find($id))
            .set($crate::schema::messages::updated_at.eq($crate::store::store_now($c, 0)))
            .kept()
    };
}
pub(crate) use q_heartbeat;

/// A message's final state, written only while `run_id` is still `$run` (a newer run that
/// took the message over is never overwritten).
macro_rules! q_finish {
    ($row:expr, Some($run:expr)) => {
        diesel::update(
            $crate::schema::messages::table
                .find(&$row.id)
                .filter($crate::schema::messages::run_id.eq($run)),
        )
        .set($row)
        .kept()
    };
    ($row:expr, None) => {
        diesel::update(
            $crate::schema::messages::table
                .find(&$row.id)
                .filter($crate::schema::messages::run_id.is_null()),
        )
        .set($row)
        .kept()
    };
}
pub(crate) use q_finish;

/// [`q_finish!`] on connection `$c` (an identifier), then [`q_heartbeat!`] when the
/// message was written and is still running: whether it was written. The one body of the
/// grouped SQLite write and of PostgreSQL's transaction (`finish_message`).
macro_rules! finish_and_beat {
    ($c:ident, $row:expr, $run:expr, $running:expr) => {{
        let n = match $run {
            Some(r) => $crate::sync::q_finish!($row, Some(r)).execute($c).await?,
            None => $crate::sync::q_finish!($row, None).execute($c).await?,
        };
        if n == 1 && $running {
            $crate::sync::q_heartbeat!(&*$c, &$row.id)
                .execute($c)
                .await?;
        }
        Ok(n == 1)
    }};
}
pub(crate) use finish_and_beat;

// The `q_*` macros expand here too.
use crate::statements::KeptDsl;
use diesel::{BoolExpressionMethods, ExpressionMethods, QueryDsl};

pub(crate) fn user_for_token(
    c: &mut SqliteConnection,
    id: &str,
    family: Option<&str>,
) -> Result<(UserRow, bool), DbError> {
    let row: UserRow = q_user!(id).get_result(c)?;
    let revoked = match family {
        Some(f) => q_family_revoked!(f).get_result::<bool>(c)?,
        None => false,
    };
    Ok((row, revoked))
}

pub(crate) fn connection(c: &mut SqliteConnection, id: &str) -> Result<ConnectionRow, DbError> {
    Ok(q_connection!(id).get_result(c)?)
}

pub(crate) fn provider(
    c: &mut SqliteConnection,
    team: &str,
    name: &str,
) -> Result<Option<ProviderRow>, DbError> {
    Ok(q_provider!(team, name).get_result(c).optional()?)
}

pub(crate) fn membership(
    c: &mut SqliteConnection,
    team: &str,
    user: &str,
) -> Result<Option<String>, DbError> {
    Ok(q_membership!(team, user).get_result(c).optional()?)
}

pub(crate) fn cache_entry_live(
    c: &mut SqliteConnection,
    id: &str,
    now: i64,
) -> Result<bool, DbError> {
    let n: i64 = q_cache_entry_live!(id, now).get_result(c)?;
    Ok(n > 0)
}

pub(crate) fn schema_stamp(
    c: &mut SqliteConnection,
    connection: &str,
) -> Result<Option<(String, i64, i64)>, DbError> {
    Ok(q_schema_stamp!(connection).get_result(c).optional()?)
}

pub(crate) fn model_stamp(
    c: &mut SqliteConnection,
    connection: &str,
) -> Result<Option<(i32, i64, i64)>, DbError> {
    Ok(q_model_stamp!(connection).get_result(c).optional()?)
}

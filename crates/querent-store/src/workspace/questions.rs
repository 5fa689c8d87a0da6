//! Asynchronous questions (`async_questions`): a queue in a table. Workers take questions
//! by a compare-and-set on their state (`PENDING` → `IN_PROGRESS`, one row at a time), so
//! no two instances ever take the same one; a question is then written only by the holder
//! of its lease, and one whose holder stopped is requeued or, after too many attempts,
//! failed.

use crate::statements::KeptDsl;
use diesel::dsl::count_star;
use diesel::prelude::{Insertable, Queryable};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};
use querent_domain::ports::StoreResult;
use querent_domain::workspace::AsyncQuestion;
use querent_domain::{ErrorCode, QuestionId, QuestionState, UnixMillis};

use super::{from_i64, to_i64};
use crate::models::{json, parse, to_json};
use crate::schema::async_questions;
use crate::{DbError, Store, StoreError};

/// How many times a claim selects candidates again after losing some to other instances.
const CLAIM_ROUNDS: usize = 4;

#[derive(Queryable, Insertable)]
#[diesel(table_name = async_questions)]
struct QuestionRow {
    id: String,
    team_id: String,
    connection_id: String,
    question: String,
    provider: Option<String>,
    assistant_id: Option<String>,
    state: String,
    asked_by: String,
    attempts: i64,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
    results: Option<String>,
    error_code: Option<String>,
    error_detail: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl QuestionRow {
    fn from_domain(q: &AsyncQuestion) -> Self {
        Self {
            id: q.id.to_string(),
            team_id: q.team_id.to_string(),
            connection_id: q.connection_id.to_string(),
            question: q.question.clone(),
            provider: q.provider.clone(),
            assistant_id: q.assistant_id.map(|a| a.to_string()),
            state: q.state.as_str().to_owned(),
            asked_by: q.asked_by.clone(),
            attempts: i64::from(q.attempts),
            lease_owner: q.lease_owner.clone(),
            lease_expires_at: q.lease_expires_at,
            results: q.results.as_ref().map(to_json),
            error_code: q.error_code.map(|c| c.as_str().to_owned()),
            error_detail: q.error_detail.clone(),
            created_at: q.created_at,
            started_at: q.started_at,
            finished_at: q.finished_at,
        }
    }

    fn into_domain(self) -> Result<AsyncQuestion, DbError> {
        Ok(AsyncQuestion {
            id: parse("question id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            connection_id: parse("connection id", &self.connection_id)?,
            question: self.question,
            provider: self.provider,
            assistant_id: self
                .assistant_id
                .as_deref()
                .map(|a| parse("assistant id", a))
                .transpose()?,
            state: parse("question state", &self.state)?,
            asked_by: self.asked_by,
            attempts: from_i64("question attempts", self.attempts)?,
            lease_owner: self.lease_owner,
            lease_expires_at: self.lease_expires_at,
            results: self
                .results
                .as_deref()
                .map(|r| json("question results", r))
                .transpose()?,
            error_code: self
                .error_code
                .as_deref()
                .map(|c| parse("error code", c))
                .transpose()?,
            error_detail: self.error_detail,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
        })
    }
}

pub(super) async fn insert(store: &Store, question: &AsyncQuestion) -> StoreResult<()> {
    let row = QuestionRow::from_domain(question);
    with_write!(store, c => {
        diesel::insert_into(async_questions::table).values(&row).execute(c).await?;
        Ok(())
    })
}

pub(super) async fn get(store: &Store, id: QuestionId) -> StoreResult<AsyncQuestion> {
    with_conn!(store, c => {
        let row: QuestionRow = async_questions::table.find(id.to_string()).limit_one().get_result(c).await?;
        Ok(row.into_domain()?)
    })
}

pub(super) async fn claim(
    store: &Store,
    owner: &str,
    now: UnixMillis,
    lease_until: UnixMillis,
    limit: i64,
) -> StoreResult<Vec<AsyncQuestion>> {
    let owner = owner.to_owned();
    let pending = QuestionState::Pending.as_str();
    with_write!(store, c => {
        let mut taken: Vec<String> = Vec::new();
        for _ in 0..CLAIM_ROUNDS {
            let want = limit - to_i64(taken.len());
            if want <= 0 {
                break;
            }
            let candidates: Vec<String> = async_questions::table
                .filter(async_questions::state.eq(pending))
                .order((async_questions::created_at.asc(), async_questions::id.asc()))
                .limit(want)
                .select(async_questions::id)
                .load(c)
                .await?;
            let mut lost = false;
            for id in candidates {
                // The compare-and-set: on PostgreSQL a concurrent claimer of the same row
                // waits for the first to commit, then re-checks the state and takes nothing.
                let n = diesel::update(
                    async_questions::table
                        .find(&id)
                        .filter(async_questions::state.eq(pending)),
                )
                .set((
                    async_questions::state.eq(QuestionState::InProgress.as_str()),
                    async_questions::lease_owner.eq(&owner),
                    async_questions::lease_expires_at.eq(lease_until),
                    async_questions::attempts.eq(async_questions::attempts + 1),
                    async_questions::started_at.eq(now),
                ))
                .execute(c)
                .await?;
                if n == 1 {
                    taken.push(id);
                } else {
                    lost = true;
                }
            }
            // Without losses the candidates were all there was (or enough).
            if !lost {
                break;
            }
        }
        if taken.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<QuestionRow> = async_questions::table
            .filter(async_questions::id.eq_any(taken))
            .order((async_questions::created_at.asc(), async_questions::id.asc()))
            .load(c)
            .await?;
        Ok(rows.into_iter().map(QuestionRow::into_domain).collect::<Result<Vec<_>, _>>()?)
    })
}

pub(super) async fn renew_lease(
    store: &Store,
    id: QuestionId,
    owner: &str,
    lease_until: UnixMillis,
) -> StoreResult<bool> {
    let (id, owner) = (id.to_string(), owner.to_owned());
    with_write!(store, c => {
        let n = diesel::update(
            async_questions::table
                .find(&id)
                .filter(async_questions::lease_owner.eq(&owner))
                .filter(async_questions::state.eq(QuestionState::InProgress.as_str())),
        )
        .set(async_questions::lease_expires_at.eq(lease_until))
        .execute(c)
        .await?;
        if n > 0 {
            return Ok(true);
        }
        let exists: i64 = async_questions::table.find(&id).count().get_result(c).await?;
        if exists == 0 { Err(StoreError::NotFound.into()) } else { Ok(false) }
    })
}

pub(super) async fn finish(
    store: &Store,
    question: &AsyncQuestion,
    owner: &str,
) -> StoreResult<bool> {
    let row = QuestionRow::from_domain(question);
    let owner = owner.to_owned();
    with_write!(store, c => {
        let n = diesel::update(
            async_questions::table
                .find(&row.id)
                .filter(async_questions::lease_owner.eq(&owner))
                .filter(async_questions::state.eq(QuestionState::InProgress.as_str())),
        )
        .set((
            async_questions::state.eq(&row.state),
            async_questions::results.eq(&row.results),
            async_questions::error_code.eq(&row.error_code),
            async_questions::error_detail.eq(&row.error_detail),
            async_questions::finished_at.eq(row.finished_at),
        ))
        .execute(c)
        .await?;
        if n > 0 {
            return Ok(true);
        }
        let exists: i64 = async_questions::table.find(&row.id).count().get_result(c).await?;
        if exists == 0 { Err(StoreError::NotFound.into()) } else { Ok(false) }
    })
}

pub(super) async fn recover(
    store: &Store,
    now: UnixMillis,
    max_attempts: u32,
    reason: &str,
) -> StoreResult<(u64, u64)> {
    let reason = reason.to_owned();
    let max = i64::from(max_attempts);
    let in_progress = QuestionState::InProgress.as_str();
    with_write!(store, c => {
        c.transaction::<_, DbError, _>(async |c| {
            let failed = diesel::update(
                async_questions::table
                    .filter(async_questions::state.eq(in_progress))
                    .filter(async_questions::lease_expires_at.lt(now))
                    .filter(async_questions::attempts.ge(max)),
            )
            .set((
                async_questions::state.eq(QuestionState::Failed.as_str()),
                async_questions::error_code.eq(ErrorCode::Interrupted.as_str()),
                async_questions::error_detail.eq(&reason),
                async_questions::finished_at.eq(now),
                async_questions::lease_owner.eq(None::<String>),
                async_questions::lease_expires_at.eq(None::<i64>),
            ))
            .execute(c)
            .await?;
            let requeued = diesel::update(
                async_questions::table
                    .filter(async_questions::state.eq(in_progress))
                    .filter(async_questions::lease_expires_at.lt(now))
                    .filter(async_questions::attempts.lt(max)),
            )
            .set((
                async_questions::state.eq(QuestionState::Pending.as_str()),
                async_questions::lease_owner.eq(None::<String>),
                async_questions::lease_expires_at.eq(None::<i64>),
            ))
            .execute(c)
            .await?;
            Ok((requeued as u64, failed as u64))
        })
        .await
    })
}

pub(super) async fn count_open(store: &Store) -> StoreResult<(u64, u64)> {
    let (pending, in_progress) = (
        QuestionState::Pending.as_str(),
        QuestionState::InProgress.as_str(),
    );
    let counts: Vec<(String, i64)> = with_conn!(store, c => {
        Ok(async_questions::table
            .filter(async_questions::state.eq_any([pending, in_progress]))
            .group_by(async_questions::state)
            .select((async_questions::state, count_star()))
            .load(c)
            .await?)
    })?;
    let of = |state: &str| {
        counts
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
    };
    Ok((of(pending), of(in_progress)))
}

//! Invitations (`invitations`, the [`InvitationStore`] port): pending invitations to join a
//! team, found by id or by the SHA-256 of their token; accepting one marks it, creates the
//! user and the membership in one transaction, and only while it is still pending.

use crate::statements::KeptDsl;
use diesel::prelude::{Insertable, Queryable};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};
use querent_domain::invitations::{Invitation, InvitationStore};
use querent_domain::ports::StoreResult;
use querent_domain::{InvitationId, TeamId, TeamRole, UnixMillis, User};

use crate::models::{MemberRow, UserRow, parse};
use crate::schema::{invitations, team_members, users};
use crate::{DbError, Store, StoreError};

#[derive(Queryable, Insertable)]
#[diesel(table_name = invitations)]
struct InvitationRow {
    id: String,
    team_id: String,
    email: String,
    role: String,
    token_hash: String,
    invited_by: String,
    created_at: i64,
    expires_at: i64,
    accepted_at: Option<i64>,
}

impl InvitationRow {
    fn from_domain(i: &Invitation, token_hash: &str) -> Self {
        Self {
            id: i.id.to_string(),
            team_id: i.team_id.to_string(),
            email: i.email.clone(),
            role: i.role.to_string(),
            token_hash: token_hash.to_owned(),
            invited_by: i.invited_by.clone(),
            created_at: i.created_at,
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
        }
    }

    fn into_domain(self) -> Result<Invitation, DbError> {
        Ok(Invitation {
            id: parse("invitation id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            email: self.email,
            role: parse("team role", &self.role)?,
            invited_by: self.invited_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            accepted_at: self.accepted_at,
        })
    }
}

fn not_found_if_zero(n: usize) -> Result<(), DbError> {
    if n == 0 {
        Err(StoreError::NotFound.into())
    } else {
        Ok(())
    }
}

#[async_trait::async_trait]
impl InvitationStore for Store {
    async fn insert_invitation(&self, inv: &Invitation, token_hash: &str) -> StoreResult<()> {
        let row = InvitationRow::from_domain(inv, token_hash);
        with_write!(self, c => {
            diesel::insert_into(invitations::table).values(&row).execute(c).await?;
            Ok(())
        })
    }

    async fn get_invitation(&self, id: InvitationId) -> StoreResult<Invitation> {
        with_conn!(self, c => {
            let row: InvitationRow = invitations::table.find(id.to_string()).limit_one().get_result(c).await?;
            Ok(row.into_domain()?)
        })
    }

    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Invitation> {
        with_conn!(self, c => {
            let row: InvitationRow = invitations::table
                .filter(invitations::token_hash.eq(token_hash))
                .limit_one()
                .get_result(c)
                .await?;
            Ok(row.into_domain()?)
        })
    }

    async fn pending_invitations(&self, team: TeamId) -> StoreResult<Vec<Invitation>> {
        with_conn!(self, c => {
            let rows: Vec<InvitationRow> = invitations::table
                .filter(invitations::team_id.eq(team.to_string()))
                .filter(invitations::accepted_at.is_null())
                .order((invitations::created_at.asc(), invitations::id.asc()))
                .load(c)
                .await?;
            Ok(rows.into_iter().map(InvitationRow::into_domain).collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn set_invitation_role(&self, id: InvitationId, role: TeamRole) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::update(
                invitations::table
                    .find(id.to_string())
                    .filter(invitations::accepted_at.is_null()),
            )
            .set(invitations::role.eq(role.to_string()))
            .execute(c)
            .await?;
            not_found_if_zero(n)
        })
    }

    async fn delete_invitation(&self, id: InvitationId) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::delete(invitations::table.find(id.to_string())).execute(c).await?;
            not_found_if_zero(n)
        })
    }

    async fn accept_invitation(
        &self,
        id: InvitationId,
        user: &User,
        password_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<()> {
        let urow = UserRow::from_domain(user, password_hash);
        let id = id.to_string();
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                // The compare-and-set first: a token is used once, also under a race.
                let n = diesel::update(
                    invitations::table.find(&id).filter(invitations::accepted_at.is_null()),
                )
                .set(invitations::accepted_at.eq(Some(now)))
                .execute(c)
                .await?;
                not_found_if_zero(n)?;
                let row: InvitationRow = invitations::table.find(&id).limit_one().get_result(c).await?;
                diesel::insert_into(users::table).values(&urow).execute(c).await?;
                let member = MemberRow {
                    team_id: row.team_id,
                    user_id: urow.id.clone(),
                    role: row.role,
                    created_at: now,
                };
                diesel::insert_into(team_members::table).values(&member).execute(c).await?;
                Ok(())
            })
            .await
        })
    }
}

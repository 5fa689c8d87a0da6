//! Statements that stay prepared (issue 19: preparing statements was ~10% of a chat's CPU).
//!
//! diesel keeps a connection's prepared statements in its statement cache, but two kinds of
//! the store's statements were prepared again on every call:
//!
//! - **A bound `LIMIT`** (`.first()`, `.limit(n)`): SQLite (3.4x) marks a statement whose
//!   `LIMIT` is a bound parameter to be recompiled whenever that parameter is bound again,
//!   which diesel does on every execution, so a cached `… LIMIT ?` was re-prepared by every
//!   `sqlite3_step`. [`LiteralLimit`] writes the number into the SQL instead.
//! - **SQL diesel will not cache**: `UPDATE`s and statements with an SQL literal (the store
//!   clock, `length(…)`), because their SQL might vary without end. [`Kept`] caches such a
//!   statement by its SQL text; it is used only where that text comes from a small fixed
//!   set (a changeset with `treat_none_as_null`, constant literals).
//!
//! Both render exactly the SQL they wrap (plus the `LIMIT`), with the same bind parameters.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;

/// `query LIMIT n` with `n` written into the SQL, not bound (see the module's docs). The
/// query must have no `LIMIT`, `OFFSET` or locking clause of its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LiteralLimit<Q> {
    query: Q,
    n: i64,
}

impl<Q> QueryId for LiteralLimit<Q> {
    // Cached by its SQL text (which holds `n`).
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for LiteralLimit<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for LiteralLimit<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(pass.reborrow())?;
        // A number: formatting it into the SQL injects nothing.
        pass.push_sql(&format!(" LIMIT {}", self.n));
        Ok(())
    }
}

/// `query LIMIT 1`, written into the SQL like [`LiteralLimit`], whose SQL is fixed by
/// its type whenever the query's is: it keeps the query's static id, so diesel finds its
/// prepared statement by type without writing and hashing its SQL text (on diesel's
/// synchronous SQLite connection, `sync.rs`, and on PostgreSQL). The query must have no
/// `LIMIT`, `OFFSET` or locking clause of its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LimitOne<Q>(Q);

impl<Q: QueryId> QueryId for LimitOne<Q> {
    // The SQL is the query's and ` LIMIT 1`: static exactly when the query's is.
    type QueryId = LimitOne<Q::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q: Query> Query for LimitOne<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for LimitOne<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass.reborrow())?;
        pass.push_sql(" LIMIT 1");
        Ok(())
    }
}

// Run with diesel's synchronous connection too (`sync.rs`).
impl<Q, Conn> diesel::RunQueryDsl<Conn> for LimitOne<Q> {}

/// A statement diesel would not cache, cached by its SQL text (see the module's docs). Only
/// for statements whose SQL text is one of a few (no values formatted into it, no `IN` list
/// of varying length, no batch insert).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kept<Q>(Q);

impl<Q> QueryId for Kept<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Kept<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for Kept<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Kept<Q> {}

/// [`LiteralLimit`] and [`Kept`] as methods.
pub(crate) trait KeptDsl: Sized {
    /// `LIMIT 1`, written into the SQL: use with `get_result` where diesel's `first` was.
    fn limit_one(self) -> LimitOne<Self> {
        LimitOne(self)
    }

    /// `LIMIT n`, written into the SQL.
    fn literal_limit(self, n: i64) -> LiteralLimit<Self> {
        LiteralLimit { query: self, n }
    }

    /// Cached by its SQL text.
    fn kept(self) -> Kept<Self> {
        Kept(self)
    }
}

impl<T> KeptDsl for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::users;
    use diesel::sqlite::Sqlite;
    use diesel::{ExpressionMethods, QueryDsl};

    #[test]
    fn renders_the_wrapped_sql_with_a_literal_limit() {
        let q = users::table
            .filter(users::username.eq("a"))
            .select(users::id)
            .limit_one();
        let sql = diesel::debug_query::<Sqlite, _>(&q).to_string();
        assert!(
            sql.ends_with("WHERE (`users`.`username` = ?) LIMIT 1 -- binds: [\"a\"]"),
            "{sql}"
        );
        let q = users::table.select(users::id).literal_limit(25);
        let sql = diesel::debug_query::<Sqlite, _>(&q).to_string();
        assert!(sql.contains("FROM `users` LIMIT 25"), "{sql}");
    }

    #[test]
    fn limit_one_keeps_the_query_s_static_id() {
        fn id_of<T: QueryId>(_: &T) -> Option<std::any::TypeId> {
            T::query_id()
        }
        let q = users::table
            .filter(users::username.eq("a"))
            .select(users::id);
        let one = q.limit_one();
        assert!(id_of(&q).is_some());
        assert!(id_of(&one).is_some());
        assert_ne!(
            id_of(&one),
            id_of(&q),
            "another statement than the query's own"
        );
        // A query whose SQL its type does not fix has none, with LIMIT 1 too.
        let literal = users::table
            .select(diesel::dsl::sql::<diesel::sql_types::BigInt>("1"))
            .limit_one();
        assert!(id_of(&literal).is_none());
    }

    #[test]
    fn kept_statements_render_as_they_are_and_are_cacheable() {
        let update = diesel::update(users::table.find("x")).set(users::username.eq("y"));
        let plain = diesel::debug_query::<Sqlite, _>(&update).to_string();
        assert!(!update.is_safe_to_cache_prepared(&Sqlite).unwrap());
        let kept = update.kept();
        assert_eq!(diesel::debug_query::<Sqlite, _>(&kept).to_string(), plain);
        assert!(kept.is_safe_to_cache_prepared(&Sqlite).unwrap());
    }
}

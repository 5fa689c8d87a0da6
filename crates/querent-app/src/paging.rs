//! Cursor pagination: `?limit=&cursor=` in, `{items, next_cursor}` out. The cursor is the
//! last id of the previous page (ids are UUIDv7, so id order is creation order).

use querent_domain::ports::Page;
use serde::{Deserialize, Serialize};

use crate::ServiceError;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 200;

/// Query parameters of a list endpoint.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListParams {
    /// Page size (1–200, default 50).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    /// The store page (one extra row, to know whether another page follows).
    pub(crate) fn page(&self) -> Result<Page, ServiceError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ServiceError::validation(format!(
                "limit: must be between 1 and {MAX_LIMIT}"
            )));
        }
        if let Some(c) = &self.cursor {
            uuid::Uuid::parse_str(c).map_err(|_| {
                ServiceError::validation("cursor: not a cursor returned by this API")
            })?;
        }
        Ok(Page {
            after: self.cursor.clone(),
            limit: limit + 1,
        })
    }
}

/// One page of a list.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Paginated<T> {
    /// The items, oldest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    /// Builds a page from `limit + 1` fetched rows.
    pub(crate) fn from_rows<R>(
        mut rows: Vec<R>,
        page: &Page,
        id: impl Fn(&R) -> String,
        map: impl Fn(R) -> T,
    ) -> Self {
        let want = (page.limit - 1).max(0) as usize;
        let next_cursor = if rows.len() > want {
            rows.truncate(want);
            rows.last().map(&id)
        } else {
            None
        };
        Self {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

//! Row cap and batching between a driver's row stream and a [`RowSink`].

use querent_domain::query::{ColumnMeta, Row, RowSink, SinkClosed};
use querent_sql::ValidatedSql;

/// Rows per batch handed to a [`RowSink`] at most.
pub const BATCH_SIZE: usize = 500;

/// Column metadata with the guard's masked columns flagged.
pub(crate) fn column_meta(
    columns: impl IntoIterator<Item = (String, String)>,
    validated: &ValidatedSql,
) -> Vec<ColumnMeta> {
    let masked = validated.masked_columns();
    columns
        .into_iter()
        .map(|(name, type_name)| ColumnMeta {
            masked: masked.iter().any(|m| m.eq_ignore_ascii_case(&name)),
            name,
            type_name,
        })
        .collect()
}

/// Hands rows to a sink in batches of at most [`BATCH_SIZE`], never more than `max_rows`
/// in total; a row beyond the cap marks the result as truncated.
pub(crate) struct Delivery<'s> {
    sink: &'s mut dyn RowSink,
    max_rows: u64,
    batch: Vec<Row>,
    delivered: u64,
    truncated: bool,
}

impl<'s> Delivery<'s> {
    /// A delivery of at most `max_rows` rows.
    pub fn new(sink: &'s mut dyn RowSink, max_rows: u64) -> Self {
        Self {
            sink,
            max_rows,
            batch: Vec::new(),
            delivered: 0,
            truncated: false,
        }
    }

    /// Sends the columns (once, before any row).
    pub async fn columns(&mut self, columns: &[ColumnMeta]) -> Result<(), SinkClosed> {
        self.sink.columns(columns).await
    }

    /// Whether the cap is reached: the next row, if any, only marks truncation, so the
    /// caller should call [`Delivery::overflow`] instead of converting it.
    pub fn full(&self) -> bool {
        self.delivered >= self.max_rows
    }

    /// Records that a row beyond the cap exists; the caller stops reading.
    pub fn overflow(&mut self) {
        self.truncated = true;
    }

    /// Queues one row (the caller checked [`Delivery::full`]), sending a batch when full.
    pub async fn push(&mut self, row: Row) -> Result<(), SinkClosed> {
        self.batch.push(row);
        self.delivered += 1;
        if self.batch.len() >= BATCH_SIZE {
            self.flush().await?;
        }
        Ok(())
    }

    /// Queues a batch produced elsewhere (SQLite's worker already applied the cap).
    pub async fn push_batch(&mut self, rows: Vec<Row>) -> Result<(), SinkClosed> {
        for row in rows {
            if self.full() {
                self.overflow();
                break;
            }
            self.push(row).await?;
        }
        Ok(())
    }

    /// Sends the last partial batch; returns (rows delivered, truncated).
    pub async fn finish(mut self) -> Result<(u64, bool), SinkClosed> {
        self.flush().await?;
        Ok((self.delivered, self.truncated))
    }

    async fn flush(&mut self) -> Result<(), SinkClosed> {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            self.sink.rows(batch).await?;
        }
        Ok(())
    }
}

//! Row cap, byte caps and batching between a driver's row stream and a [`RowSink`].
//!
//! Every row a target returns passes through a [`Delivery`] (PostgreSQL and MySQL rows one
//! by one, SQLite's in batches its worker built under the same [`Budget`]): values longer
//! than the per-value cap are cut while they are converted ([`ValueCap`]), rows stop before
//! the one that would pass the per-result byte cap or the row cap, and the limit that cut
//! the result short is reported.

use querent_domain::query::{
    ColumnMeta, QueryLimits, Row, RowSink, SinkClosed, Truncation, TruncationReason,
};
use querent_sql::ValidatedSql;
use serde_json::Value;

/// Rows per batch handed to a [`RowSink`] at most.
pub const BATCH_SIZE: usize = 500;

/// A row whose raw size passed this many bytes may have grown the driver's buffers: its
/// connection is closed after the query instead of going back to the pool, so the memory
/// goes with it.
pub(crate) const LARGE_ROW_BYTES: usize = 1024 * 1024;

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

/// The size a value counts for against the result byte cap: about its JSON text (integers
/// their digits, other numbers 24 bytes, strings their UTF-8 length plus quotes; escapes
/// are not counted).
pub(crate) fn json_size(v: &Value) -> u64 {
    match v {
        Value::Null => 4,
        Value::Bool(_) => 5,
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u64::from(u.checked_ilog10().unwrap_or(0)) + 1
            } else if let Some(i) = n.as_i64() {
                u64::from(i.unsigned_abs().checked_ilog10().unwrap_or(0)) + 2
            } else {
                24
            }
        }
        Value::String(s) => s.len() as u64 + 2,
        Value::Array(items) => 2 + items.iter().map(|i| json_size(i) + 1).sum::<u64>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| k.len() as u64 + 4 + json_size(v))
                .sum::<u64>()
        }
    }
}

/// The size a row counts for against the result byte cap.
pub(crate) fn row_size(row: &Row) -> u64 {
    2 + row.iter().map(|v| json_size(v) + 1).sum::<u64>()
}

/// The longest prefix of `raw` of at most `max` bytes that does not split a UTF-8
/// character (for text that is valid UTF-8; invalid bytes are replaced later anyway).
fn utf8_prefix(raw: &[u8], max: usize) -> &[u8] {
    if raw.len() <= max {
        return raw;
    }
    let mut end = max;
    // A continuation byte (0b10xx_xxxx) is never the start of a character.
    while end > 0 && (raw[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    &raw[..end]
}

/// Cuts values longer than the per-value byte cap while they are converted, so a giant
/// value is never copied whole, and counts how many it cut (values of the row being
/// converted count once the row is delivered: [`ValueCap::commit`]).
#[derive(Clone, Debug)]
pub(crate) struct ValueCap {
    max: usize,
    committed: u64,
    cut: u64,
}

impl ValueCap {
    /// A cap of `max` bytes (at least 4, so that one character and one base64 quantum fit).
    pub fn new(max: u64) -> Self {
        Self {
            max: usize::try_from(max).unwrap_or(usize::MAX).max(4),
            committed: 0,
            cut: 0,
        }
    }

    /// Values cut so far (delivered or not).
    #[cfg(test)]
    pub fn cut(&self) -> u64 {
        self.committed + self.cut
    }

    /// The values cut since the last call belong to a delivered row.
    fn commit(&mut self) {
        self.committed += std::mem::take(&mut self.cut);
    }

    /// The values cut since the last commit belong to a row that was not delivered.
    fn forget(&mut self) {
        self.cut = 0;
    }

    /// Text (lossy UTF-8), cut at a character boundary.
    pub fn text(&mut self, raw: &[u8]) -> Value {
        let prefix = utf8_prefix(raw, self.max);
        if prefix.len() < raw.len() {
            self.cut += 1;
        }
        self.string(String::from_utf8_lossy(prefix).into_owned())
    }

    /// Bytes as standard base64, the bytes cut so that the text fits the cap.
    pub fn bytes(&mut self, raw: &[u8]) -> Value {
        let keep = self.max / 4 * 3;
        if raw.len() > keep {
            self.cut += 1;
            crate::values::base64(&raw[..keep])
        } else {
            crate::values::base64(raw)
        }
    }

    /// Text that should hold JSON: the parsed document when it fits the cap, else the text
    /// itself, cut.
    pub fn json(&mut self, raw: &[u8]) -> Value {
        if raw.len() > self.max {
            self.text(raw)
        } else {
            crate::values::json_text(raw)
        }
    }

    /// A converted value: strings longer than the cap are cut at a character boundary
    /// (replacement characters can make lossy text longer than its bytes; long decimals).
    pub fn string(&mut self, s: String) -> Value {
        if s.len() <= self.max {
            return Value::String(s);
        }
        let mut s = s;
        let mut end = self.max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        self.cut += 1;
        Value::String(s)
    }

    /// Any converted value: strings are checked by [`ValueCap::string`], arrays and objects
    /// whose JSON size passes the cap keep the leading items that fit.
    pub fn value(&mut self, v: Value) -> Value {
        match v {
            Value::String(s) => self.string(s),
            Value::Array(items) if json_size_over(&items, self.max) => {
                self.cut += 1;
                let mut size = 2u64;
                let kept = items
                    .into_iter()
                    .take_while(|i| {
                        size += json_size(i) + 1;
                        size <= self.max as u64
                    })
                    .collect();
                Value::Array(kept)
            }
            other => other,
        }
    }

    /// The per-value cap in bytes.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Records a value cut elsewhere.
    pub fn count_cut(&mut self) {
        self.cut += 1;
    }
}

fn json_size_over(items: &[Value], max: usize) -> bool {
    let mut size = 2u64;
    for i in items {
        size += json_size(i) + 1;
        if size > max as u64 {
            return true;
        }
    }
    false
}

/// The caps of one result and what has been admitted so far.
#[derive(Clone, Debug)]
pub(crate) struct Budget {
    max_rows: u64,
    max_result_bytes: u64,
    max_value_bytes: u64,
    /// Cuts values while they are converted.
    pub values: ValueCap,
    rows: u64,
    bytes: u64,
    stopped: Option<TruncationReason>,
    largest_raw_row: usize,
}

/// What a [`Budget`] admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Admitted {
    /// Rows admitted.
    pub rows: u64,
    /// What stopped the rows (row cap or result bytes), if anything did.
    pub stopped: Option<TruncationReason>,
    /// Values cut by the per-value cap.
    pub values_cut: u64,
    /// The largest raw row seen, in bytes (as the driver held it).
    pub largest_raw_row: usize,
}

impl Budget {
    /// The caps of `limits`, with the row cap the guard put in force.
    pub fn new(limits: &QueryLimits, max_rows: u64) -> Self {
        Self {
            max_rows,
            max_result_bytes: limits.max_result_bytes,
            max_value_bytes: limits.max_value_bytes,
            values: ValueCap::new(limits.max_value_bytes),
            rows: 0,
            bytes: 0,
            stopped: None,
            largest_raw_row: 0,
        }
    }

    /// Whether the row cap is reached: the next row, if any, only marks truncation
    /// ([`Budget::overflow`]) and is not converted.
    pub fn full(&self) -> bool {
        self.rows >= self.max_rows || self.stopped.is_some()
    }

    /// Records that a row beyond the row cap exists; the caller stops reading.
    pub fn overflow(&mut self) {
        self.stopped.get_or_insert(TruncationReason::RowCap);
    }

    /// Records the raw size of a row as the driver held it.
    pub fn raw_row(&mut self, bytes: usize) {
        self.largest_raw_row = self.largest_raw_row.max(bytes);
    }

    /// Admits a converted row unless it would pass the result byte cap (then the rows stop
    /// here and the caller stops reading).
    pub fn admit(&mut self, row: &Row) -> bool {
        if self.full() {
            self.overflow();
            self.values.forget();
            return false;
        }
        let size = row_size(row);
        if self.bytes.saturating_add(size) > self.max_result_bytes {
            self.stopped = Some(TruncationReason::ResultBytes);
            self.values.forget();
            return false;
        }
        self.bytes += size;
        self.rows += 1;
        self.values.commit();
        true
    }

    /// Whether the result byte cap stopped the rows (the server may still be sending).
    pub fn stopped_by_bytes(&self) -> bool {
        self.stopped == Some(TruncationReason::ResultBytes)
    }

    /// What was admitted.
    pub fn admitted(&self) -> Admitted {
        Admitted {
            rows: self.rows,
            stopped: self.stopped,
            values_cut: self.values.committed,
            largest_raw_row: self.largest_raw_row,
        }
    }

    /// The limit to report: the one that stopped the rows, else the value cap when values
    /// were cut.
    fn truncation(&self, admitted: &Admitted) -> Option<Truncation> {
        match admitted.stopped {
            Some(TruncationReason::RowCap) => Some(Truncation {
                reason: TruncationReason::RowCap,
                limit: self.max_rows,
            }),
            Some(TruncationReason::ResultBytes) => Some(Truncation {
                reason: TruncationReason::ResultBytes,
                limit: self.max_result_bytes,
            }),
            Some(TruncationReason::ValueBytes) | None => {
                (admitted.values_cut > 0).then_some(Truncation {
                    reason: TruncationReason::ValueBytes,
                    limit: self.max_value_bytes,
                })
            }
        }
    }
}

/// How a delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delivered {
    /// Rows delivered.
    pub row_count: u64,
    /// The limit that cut the result short, if any.
    pub truncated_by: Option<Truncation>,
    /// Values shortened by the per-value cap.
    pub values_truncated: u64,
    /// The result byte cap stopped reading: the server may still be sending rows, so the
    /// connection must be cancelled rather than rolled back and reused.
    pub stopped_early: bool,
    /// A row was large enough to have grown the driver's buffers: close the connection
    /// after the query rather than pooling it.
    pub large_rows: bool,
}

/// Hands rows to a sink in batches of at most [`BATCH_SIZE`], within the row cap and the
/// byte caps of a [`Budget`]; a row beyond a cap marks the result as truncated.
pub(crate) struct Delivery<'s> {
    sink: &'s mut dyn RowSink,
    budget: Budget,
    batch: Vec<Row>,
    /// Stop reason and cut values reported by a worker that applied its own budget.
    worker: Option<Admitted>,
}

impl<'s> Delivery<'s> {
    /// A delivery under `limits`, with the guard's row cap `max_rows`.
    pub fn new(sink: &'s mut dyn RowSink, limits: &QueryLimits, max_rows: u64) -> Self {
        Self {
            sink,
            budget: Budget::new(limits, max_rows),
            batch: Vec::new(),
            worker: None,
        }
    }

    /// Sends the columns (once, before any row).
    pub async fn columns(&mut self, columns: &[ColumnMeta]) -> Result<(), SinkClosed> {
        self.sink.columns(columns).await
    }

    /// Whether the row cap is reached: the next row, if any, only marks truncation, so the
    /// caller should call [`Delivery::overflow`] instead of converting it.
    pub fn full(&self) -> bool {
        self.budget.full()
    }

    /// Records that a row beyond the cap exists; the caller stops reading.
    pub fn overflow(&mut self) {
        self.budget.overflow();
    }

    /// The value cap to convert the next row's values with.
    pub fn values(&mut self) -> &mut ValueCap {
        &mut self.budget.values
    }

    /// Records the raw size of the row being converted.
    pub fn raw_row(&mut self, bytes: usize) {
        self.budget.raw_row(bytes);
    }

    /// Queues one converted row, sending a batch when full. `Ok(false)`: the row would pass
    /// the result byte cap, so it was not delivered and the caller stops reading.
    pub async fn push(&mut self, row: Row) -> Result<bool, SinkClosed> {
        if !self.budget.admit(&row) {
            return Ok(false);
        }
        self.batch.push(row);
        if self.batch.len() >= BATCH_SIZE {
            self.flush().await?;
        }
        Ok(true)
    }

    /// Queues a batch produced elsewhere (SQLite's worker already applied the same caps;
    /// they are applied again here).
    pub async fn push_batch(&mut self, rows: Vec<Row>) -> Result<(), SinkClosed> {
        for row in rows {
            if !self.push(row).await? {
                break;
            }
        }
        Ok(())
    }

    /// Adds what a worker with its own [`Budget`] reported (its stop reason, the values it
    /// cut, its largest row).
    pub fn absorb(&mut self, worker: Admitted) {
        self.worker = Some(worker);
    }

    /// Sends the last partial batch; returns how the delivery ended.
    pub async fn finish(mut self) -> Result<Delivered, SinkClosed> {
        self.flush().await?;
        let mut admitted = self.budget.admitted();
        if let Some(w) = self.worker {
            admitted.stopped = admitted.stopped.or(w.stopped);
            admitted.values_cut += w.values_cut;
            admitted.largest_raw_row = admitted.largest_raw_row.max(w.largest_raw_row);
        }
        Ok(Delivered {
            row_count: admitted.rows,
            truncated_by: self.budget.truncation(&admitted),
            values_truncated: admitted.values_cut,
            stopped_early: self.budget.stopped_by_bytes(),
            large_rows: admitted.largest_raw_row > LARGE_ROW_BYTES,
        })
    }

    async fn flush(&mut self) -> Result<(), SinkClosed> {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            self.sink.rows(batch).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use async_trait::async_trait;
    use serde_json::json;

    use super::*;

    fn limits(value: u64, result: u64) -> QueryLimits {
        QueryLimits {
            max_value_bytes: value,
            max_result_bytes: result,
            ..QueryLimits::new(100, Duration::from_secs(1), Duration::from_secs(1))
        }
    }

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        let mut cap = ValueCap::new(5);
        assert_eq!(cap.text(b"hello"), json!("hello"));
        assert_eq!(cap.cut(), 0);
        // "héllo": the é takes bytes 1..3; 5 bytes end inside nothing: "héll".
        assert_eq!(cap.text("héllo!".as_bytes()), json!("héll"));
        // "aaaa€": the € (3 bytes) would straddle byte 5: cut before it.
        assert_eq!(cap.text("aaaa€".as_bytes()), json!("aaaa"));
        assert_eq!(cap.cut(), 2);
        assert_eq!(cap.string("ab€cd".to_owned()), json!("ab€"));
        assert_eq!(cap.cut(), 3);
    }

    #[test]
    fn bytes_fit_the_cap_as_base64() {
        let mut cap = ValueCap::new(8);
        assert_eq!(cap.bytes(&[0, 1, 2, 3, 4, 5]), json!("AAECAwQF"));
        assert_eq!(cap.cut(), 0);
        let v = cap.bytes(&[0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(v, json!("AAECAwQF"));
        assert_eq!(cap.cut(), 1);
        // JSON over the cap stays text, cut.
        assert_eq!(cap.json(br#"{"a": 12345}"#), json!("{\"a\": 12"));
        assert_eq!(cap.json(br#"{"a":1}"#), json!({"a": 1}));
        assert_eq!(cap.value(json!([1, 2, 3])), json!([1, 2, 3]));
        assert_eq!(cap.value(json!([1, 2, 3, 4])), json!([1, 2, 3]));
        assert_eq!(cap.cut(), 3);
        assert_eq!(json_size(&json!(-12)), 3);
        assert_eq!(json_size(&json!(0)), 1);
    }

    #[derive(Default)]
    struct Sink(Vec<Row>);

    #[async_trait]
    impl RowSink for Sink {
        async fn columns(&mut self, _: &[ColumnMeta]) -> Result<(), SinkClosed> {
            Ok(())
        }
        async fn rows(&mut self, batch: Vec<Row>) -> Result<(), SinkClosed> {
            self.0.extend(batch);
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_result_cap_stops_rows_and_is_reported() {
        let mut sink = Sink::default();
        // Each row ["xxxxxxxx"] counts 2 + (10 + 1) = 13 bytes.
        let mut d = Delivery::new(&mut sink, &limits(64, 40), 100);
        let mut pushed = 0;
        for _ in 0..10 {
            if !d.push(vec![json!("xxxxxxxx")]).await.unwrap() {
                break;
            }
            pushed += 1;
        }
        assert_eq!(pushed, 3);
        let done = d.finish().await.unwrap();
        assert_eq!(done.row_count, 3);
        assert_eq!(
            done.truncated_by,
            Some(Truncation {
                reason: TruncationReason::ResultBytes,
                limit: 40
            })
        );
        assert!(done.stopped_early);
        assert_eq!(sink.0.len(), 3);

        // Values cut in a row that is not delivered do not count.
        let mut sink = Sink::default();
        let mut d = Delivery::new(&mut sink, &limits(4, 20), 100);
        for _ in 0..3 {
            let v = d.values().text(b"abcdefgh");
            if !d.push(vec![v]).await.unwrap() {
                break;
            }
        }
        let done = d.finish().await.unwrap();
        assert_eq!((done.row_count, done.values_truncated), (2, 2));
    }

    #[tokio::test]
    async fn the_row_cap_wins_over_cut_values_and_cut_values_are_reported() {
        let mut sink = Sink::default();
        let mut d = Delivery::new(&mut sink, &limits(4, 1 << 20), 2);
        for _ in 0..3 {
            if d.full() {
                d.overflow();
                break;
            }
            let v = d.values().text(b"abcdefgh");
            d.push(vec![v]).await.unwrap();
        }
        let done = d.finish().await.unwrap();
        assert_eq!(done.row_count, 2);
        assert_eq!(done.values_truncated, 2);
        assert_eq!(
            done.truncated_by.map(|t| (t.reason, t.limit)),
            Some((TruncationReason::RowCap, 2))
        );
        assert!(!done.stopped_early);
        assert_eq!(sink.0, vec![vec![json!("abcd")], vec![json!("abcd")]]);

        let mut sink = Sink::default();
        let mut d = Delivery::new(&mut sink, &limits(4, 1 << 20), 10);
        let v = d.values().text(b"abcdefgh");
        d.push(vec![v]).await.unwrap();
        let done = d.finish().await.unwrap();
        assert_eq!(
            done.truncated_by.map(|t| (t.reason, t.limit)),
            Some((TruncationReason::ValueBytes, 4))
        );
    }
}

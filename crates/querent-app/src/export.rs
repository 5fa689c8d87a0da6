//! Exports (`GET /queries/{id}/export`, `GET /sessions/{id}/messages/{message_id}/export`):
//! a result as CSV, JSON or XLSX.
//!
//! By default the SQL is **run again** through the guard, under the connection's current
//! policy and caps (so an export is never staler or less masked than a new answer would
//! be); `source=snapshot` exports the rows kept instead — a saved query's newest snapshot,
//! or the first rows stored with a chat answer — without touching the database.
//!
//! CSV is streamed: the header leaves as soon as the database answers, then rows as they
//! arrive, so a large export never sits in memory; a failure before the first byte is an
//! ordinary error answer. JSON (an array of objects) and XLSX (typed cells) are built
//! whole — the row and byte caps bound them. Masked columns stay masked: the exporters
//! write what the guard let through.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use querent_domain::chat::ResultSet;
use querent_domain::query::{ColumnMeta, Row, RowSink, SinkClosed};
use querent_domain::{
    Connection, ErrorCode, MessageId, MessageStatus, SavedQueryId, SessionId, TeamRole,
};
use querent_results::CsvWriter;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use crate::{Actor, App, ServiceError, ServiceResult};

/// A file format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Comma-separated values (RFC 4180), streamed.
    #[default]
    Csv,
    /// A JSON array of objects keyed by column name.
    Json,
    /// An Excel workbook with typed cells.
    Xlsx,
}

impl ExportFormat {
    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// Where the exported rows come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ExportSource {
    /// Run the SQL again now (the default).
    #[default]
    Run,
    /// The rows kept: a saved query's newest snapshot, a chat answer's stored rows.
    Snapshot,
}

/// Export parameters.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ExportParams {
    /// `csv` (default), `json` or `xlsx`.
    pub format: Option<ExportFormat>,
    /// `run` (default) or `snapshot`.
    pub source: Option<ExportSource>,
    /// Rows at most (bounded by the connection's and the server's caps).
    pub max_rows: Option<u32>,
}

/// A chunk of a streamed export, or the failure that cut it.
pub type ExportChunk = Result<Vec<u8>, ServiceError>;

/// What an export produced.
pub enum ExportBody {
    /// The whole file.
    Whole(Vec<u8>),
    /// The file in chunks, as the rows arrive.
    Stream(mpsc::Receiver<ExportChunk>),
}

/// An export ready to send.
pub struct Export {
    /// A file name for `Content-Disposition`.
    pub filename: String,
    /// The media type.
    pub content_type: &'static str,
    /// The bytes.
    pub body: ExportBody,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// A file name from a title: letters, digits, `-` and `_`, at most 60 characters.
fn file_name(title: &str, format: ExportFormat) -> String {
    let mut stem: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    stem = stem.trim_matches('_').to_owned();
    if stem.is_empty() {
        stem = "export".to_owned();
    }
    format!("{stem}.{}", format.extension())
}

/// A `Write` whose bytes are taken out between batches.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Streams CSV into a channel as the engine delivers rows.
struct CsvSink {
    buf: Shared,
    writer: Option<CsvWriter<Shared>>,
    tx: mpsc::Sender<ExportChunk>,
    started: Option<oneshot::Sender<ServiceResult<()>>>,
}

impl CsvSink {
    async fn send(&mut self) -> Result<(), SinkClosed> {
        let bytes = self.buf.take();
        if let Some(started) = self.started.take() {
            let _ = started.send(Ok(()));
        }
        if bytes.is_empty() {
            return Ok(());
        }
        self.tx.send(Ok(bytes)).await.map_err(|_| SinkClosed)
    }
}

#[async_trait]
impl RowSink for CsvSink {
    async fn columns(&mut self, columns: &[ColumnMeta]) -> Result<(), SinkClosed> {
        self.writer = Some(CsvWriter::new(self.buf.clone(), columns).map_err(|_| SinkClosed)?);
        self.send().await
    }

    async fn rows(&mut self, batch: Vec<Row>) -> Result<(), SinkClosed> {
        if let Some(w) = &mut self.writer {
            w.write_rows(&batch).map_err(|_| SinkClosed)?;
        }
        self.send().await
    }
}

/// What to export: a connection and SQL to run, or rows already kept.
enum Rows {
    Run { conn: Box<Connection>, sql: String },
    Kept(ResultSet),
}

impl App {
    /// `GET /queries/{id}/export` (viewer or above).
    pub async fn export_saved_query(
        &self,
        actor: &Actor,
        id: SavedQueryId,
        params: &ExportParams,
    ) -> ServiceResult<Export> {
        let q = self.load_saved_query(actor, id, TeamRole::Viewer).await?;
        let rows = match params.source.unwrap_or_default() {
            ExportSource::Run => {
                let conn = self
                    .load_connection(actor, q.connection_id, TeamRole::Viewer)
                    .await?;
                Rows::Run {
                    conn: Box::new(conn),
                    sql: q.sql.clone(),
                }
            }
            ExportSource::Snapshot => {
                let run = self.store().latest_query_snapshot(id).await?;
                match run.and_then(|r| r.snapshot) {
                    Some(s) => Rows::Kept(s),
                    None => {
                        return Err(ServiceError::new(
                            ErrorCode::NotFound,
                            "this saved query has no snapshot; run it with \"snapshot\": true, or export with source=run",
                        ));
                    }
                }
            }
        };
        self.audit_by(actor, "query.export", format!("query:{id}"), None)
            .await;
        self.export_rows(actor, rows, &q.name, params).await
    }

    /// `GET /sessions/{id}/messages/{message_id}/export`: a chat answer, re-run by
    /// default (only answers that ran can be), or its stored rows with `source=snapshot`.
    pub async fn export_message(
        &self,
        actor: &Actor,
        session: SessionId,
        message: MessageId,
        params: &ExportParams,
    ) -> ServiceResult<Export> {
        let s = self.owned_session(actor, session).await?;
        let m = self
            .store()
            .get_message(message)
            .await
            .ok()
            .filter(|m| m.session_id == s.id)
            .ok_or_else(|| ServiceError::not_found("message"))?;
        if !matches!(m.status, MessageStatus::Executed | MessageStatus::Cached) {
            return Err(ServiceError::new(
                ErrorCode::Conflict,
                format!(
                    "this answer is {}: only answers that ran can be exported",
                    m.status
                ),
            ));
        }
        let rows = match params.source.unwrap_or_default() {
            ExportSource::Run => {
                let conn = self
                    .load_connection(actor, s.connection_id, TeamRole::Viewer)
                    .await?;
                let sql = m
                    .sql
                    .clone()
                    .ok_or_else(|| ServiceError::not_found("the answer's SQL"))?;
                Rows::Run {
                    conn: Box::new(conn),
                    sql,
                }
            }
            ExportSource::Snapshot => Rows::Kept(m.results.clone().unwrap_or_default()),
        };
        self.audit_by(actor, "message.export", format!("message:{message}"), None)
            .await;
        self.export_rows(actor, rows, &m.question, params).await
    }

    async fn export_rows(
        &self,
        actor: &Actor,
        rows: Rows,
        title: &str,
        params: &ExportParams,
    ) -> ServiceResult<Export> {
        let format = params.format.unwrap_or_default();
        let filename = file_name(title, format);
        let content_type = format.content_type();
        let result = match (rows, format) {
            (Rows::Run { conn, sql }, ExportFormat::Csv) => {
                let max_rows = self.row_cap(&conn, params.max_rows)?;
                let body = self.stream_csv(actor, *conn, sql, max_rows).await?;
                return Ok(Export {
                    filename,
                    content_type,
                    body,
                });
            }
            (Rows::Run { conn, sql }, _) => {
                let max_rows = self.row_cap(&conn, params.max_rows)?;
                self.run_stored_sql_collect(actor, &conn, &sql, max_rows)
                    .await?
            }
            (Rows::Kept(mut r), _) => {
                if let Some(n) = params.max_rows {
                    r.rows.truncate(n as usize);
                }
                r
            }
        };
        let bytes = match format {
            ExportFormat::Csv => {
                let mut w = CsvWriter::new(Vec::new(), &result.columns)
                    .and_then(|mut w| w.write_rows(&result.rows).map(|()| w))
                    .and_then(CsvWriter::finish)
                    .map_err(|e| ServiceError::internal(format!("csv: {e}")))?;
                std::mem::take(&mut w)
            }
            ExportFormat::Json => querent_results::to_json(&result.columns, &result.rows),
            ExportFormat::Xlsx => {
                let sheet = title.to_owned();
                tokio::task::spawn_blocking(move || {
                    querent_results::to_xlsx(&result.columns, &result.rows, &sheet)
                })
                .await
                .map_err(|e| ServiceError::internal(format!("xlsx: {e}")))?
                .map_err(|e| ServiceError::validation(e.to_string()))?
            }
        };
        Ok(Export {
            filename,
            content_type,
            body: ExportBody::Whole(bytes),
        })
    }

    /// Runs `sql` in the background, streaming CSV; returns once the header is out (or the
    /// run failed before it, which is then this call's error).
    async fn stream_csv(
        &self,
        actor: &Actor,
        conn: Connection,
        sql: String,
        max_rows: u64,
    ) -> ServiceResult<ExportBody> {
        let (tx, rx) = mpsc::channel(8);
        // One answer: the header is out (stream from here), or the run failed before it.
        let (started_tx, started_rx) = oneshot::channel();
        let app = self.clone();
        let actor = actor.clone();
        tokio::spawn(async move {
            let mut sink = CsvSink {
                buf: Shared::default(),
                writer: None,
                tx: tx.clone(),
                started: Some(started_tx),
            };
            let run = app
                .run_stored_sql(&actor, &conn, &sql, max_rows, &mut sink)
                .await;
            match run {
                Ok(_) => {
                    if let Some(w) = sink.writer.take() {
                        let _ = w.finish();
                    }
                    let _ = sink.send().await;
                }
                Err(e) => match sink.started.take() {
                    Some(started) => {
                        let _ = started.send(Err(e));
                    }
                    None => {
                        let _ = tx.send(Err(e)).await;
                    }
                },
            }
        });
        match started_rx.await {
            Ok(Ok(())) => Ok(ExportBody::Stream(rx)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ServiceError::internal(
                "the export stopped before it started",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain() {
        assert_eq!(
            file_name("Orders by status", ExportFormat::Csv),
            "Orders_by_status.csv"
        );
        assert_eq!(
            file_name("../../etc/passwd", ExportFormat::Json),
            "etc_passwd.json"
        );
        assert_eq!(file_name("¿?", ExportFormat::Xlsx), "export.xlsx");
        assert_eq!(file_name(&"x".repeat(100), ExportFormat::Csv).len(), 64);
    }
}

//! Typed answers: a handler returns `ApiResult<Json<T>>` (200), `ApiResult<Created<T>>`
//! (201) or `ApiResult<NoContent>` (204), so the body the OpenAPI document promises is the
//! type the handler returns; the HTTP test suite validates every answer against the
//! document. Errors are [`crate::error::ApiError`] (`{"detail", "code"}`).

use actix_web::body::BoxBody;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;

use crate::extract::Json;

impl<T: Serialize> Responder for Json<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::Ok().json(self.0)
    }
}

/// 201 Created with `T` as JSON.
#[derive(Debug)]
pub struct Created<T>(pub T);

impl<T> From<T> for Created<T> {
    fn from(value: T) -> Self {
        Created(value)
    }
}

impl<T: Serialize> Responder for Created<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::Created().json(self.0)
    }
}

/// 204 No Content.
#[derive(Debug)]
pub struct NoContent;

impl From<()> for NoContent {
    fn from((): ()) -> Self {
        NoContent
    }
}

impl Responder for NoContent {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}

/// The bytes of a binary file, as the OpenAPI document describes them.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// 200 with a file: `Content-Type` and `Content-Disposition: attachment` from the export,
/// the body whole or streamed as the export produces it. A failure in the middle of a
/// stream ends the connection early (the status was already sent), so a client sees a
/// truncated download rather than a complete-looking file.
pub struct Download(pub querent_app::export::Export);

impl From<querent_app::export::Export> for Download {
    fn from(value: querent_app::export::Export) -> Self {
        Download(value)
    }
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Responder for Download {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        use querent_app::export::ExportBody;
        let export = self.0;
        let mut reply = HttpResponse::Ok();
        reply.content_type(export.content_type).insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", export.filename),
        ));
        match export.body {
            ExportBody::Whole(bytes) => reply.body(bytes),
            ExportBody::Stream(rx) => {
                let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                    match rx.recv().await? {
                        Ok(bytes) => Some((Ok(actix_web::web::Bytes::from(bytes)), rx)),
                        Err(e) => {
                            tracing::warn!(error = %e.detail, "export cut short");
                            Some((Err(std::io::Error::other(e.detail)), rx))
                        }
                    }
                });
                reply.streaming(stream)
            }
        }
    }
}

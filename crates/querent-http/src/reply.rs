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

//! Extractors: [`Caller`] (a verified caller with the services, so no handler parses
//! tokens), [`Json`] (a JSON body whose errors name the offending field and come back as 422;
//! also the 200 JSON answer, see [`crate::reply`]), and the client address.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use querent_app::{Actor, App, ServiceError, ServiceResult};
use querent_domain::ErrorCode;
use serde::de::DeserializeOwned;

use crate::Services;
use crate::error::{ApiError, ApiResult};

/// The client address: the TCP peer, or — when the peer is one of the configured
/// `trusted_proxies` — the address its `X-Forwarded-For` names ([`crate::proxies`]); an
/// untrusted peer's forwarding headers are ignored, so they cannot dodge login throttling.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let ip = match req.app_data::<web::Data<crate::proxies::TrustedProxies>>() {
        Some(trusted) => {
            let forwarded = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok());
            trusted.client(peer, forwarded)
        }
        None => peer,
    };
    Some(ip.to_string())
}

/// The services, for handlers that need no caller (login, setup, health).
fn services(req: &HttpRequest) -> Result<web::Data<Services>, ApiError> {
    req.app_data::<web::Data<Services>>()
        .cloned()
        .ok_or_else(|| ApiError(ServiceError::internal("services missing from app data")))
}

/// The authenticated caller of a request (bearer access token, rate limited per caller)
/// with the services it calls.
#[derive(Clone)]
pub struct Caller {
    svc: web::Data<Services>,
    actor: Actor,
}

impl Caller {
    /// Runs `f(app, actor)` to completion on the application runtime (see
    /// [`Services::call`]).
    pub async fn call<T, F, Fut>(self, f: F) -> ApiResult<T>
    where
        F: FnOnce(App, Actor) -> Fut,
        Fut: Future<Output = ServiceResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let actor = self.actor;
        self.svc.call(move |app| f(app, actor)).await
    }

    /// [`Caller::call`], with the result wrapped in the handler's reply type ([`Json`],
    /// [`crate::reply::Created`], [`crate::reply::NoContent`]): the documented body is the
    /// type the service returns.
    pub async fn reply<R, T, F, Fut>(self, f: F) -> ApiResult<R>
    where
        R: From<T>,
        F: FnOnce(App, Actor) -> Fut,
        Fut: Future<Output = ServiceResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.call(f).await.map(R::from)
    }

    /// The services, for work that outlives one call (a chat stream).
    pub fn services(&self) -> &Services {
        &self.svc
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credentials = Credentials::of(req);
        Box::pin(async move {
            let credentials = credentials?;
            let svc = credentials.svc.clone();
            let actor = svc
                .call(move |app| async move { credentials.authenticate(&app).await })
                .await?;
            Ok(Caller { svc, actor })
        })
    }
}

/// A bearer token not yet checked, with the services and the client address: what
/// [`Caller`] verifies, for a handler that verifies it in the same task as the rest of
/// its work ([`Services::chat`]). A missing token is refused at once.
pub struct Credentials {
    svc: web::Data<Services>,
    token: String,
    ip: Option<String>,
}

impl Credentials {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let svc = services(req)?;
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_owned())
            .ok_or_else(|| {
                ApiError(ServiceError::unauthorized(
                    "missing bearer token: send `Authorization: Bearer <access_token>`",
                ))
            })?;
        Ok(Self {
            svc,
            token,
            ip: client_ip(req),
        })
    }

    /// The services.
    pub fn services(&self) -> &Services {
        &self.svc
    }

    /// The caller the token names, counted by the rate limit (run on the application
    /// runtime).
    pub(crate) async fn authenticate(self, app: &App) -> ServiceResult<Actor> {
        let actor = app.authenticate(&self.token, self.ip).await?;
        app.check_rate_limit(&actor).await?;
        Ok(actor)
    }
}

impl FromRequest for Credentials {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::of(req))
    }
}

/// The services and the client address, for the endpoints that need no bearer token.
#[derive(Clone)]
pub struct Public {
    svc: web::Data<Services>,
    ip: Option<String>,
}

impl Public {
    /// Runs `f(app, client address)` on the application runtime, wrapping the result in
    /// the handler's reply type (see [`Caller::reply`]).
    pub async fn reply<R, T, F, Fut>(self, f: F) -> ApiResult<R>
    where
        R: From<T>,
        F: FnOnce(App, Option<String>) -> Fut,
        Fut: Future<Output = ServiceResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let ip = self.ip;
        self.svc.call(move |app| f(app, ip)).await.map(R::from)
    }
}

impl FromRequest for Public {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(services(req).map(|svc| Public {
            svc,
            ip: client_ip(req),
        }))
    }
}

/// A JSON request body. Malformed JSON, missing fields, wrong types and unknown fields are
/// 422 `validation_error` with a message naming the field; a body over the size limit is
/// 413 `payload_too_large`. As a handler's return value it is a 200 answer with `T` as
/// JSON.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> From<T> for Json<T> {
    fn from(value: T) -> Self {
        Json(value)
    }
}

fn describe(err: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = err.path().to_string();
    let inner = err.inner();
    let msg = inner.to_string();
    // serde_json appends " at line L column C"; keep the message short and about the field.
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    };
    if inner.is_eof() && path == "." {
        return "body: expected a JSON object".into();
    }
    if inner.is_syntax() || inner.is_eof() {
        return format!(
            "body: malformed JSON ({msg}, line {} column {})",
            inner.line(),
            inner.column()
        );
    }
    if path == "." {
        format!("body: {msg}")
    } else {
        format!("{path}: {msg}")
    }
}

/// Reads a request body: over the size limit is 413, anything unreadable 422.
async fn body_bytes(
    bytes: impl Future<Output = Result<web::Bytes, actix_web::Error>>,
) -> Result<web::Bytes, ApiError> {
    bytes.await.map_err(|e| {
        let overflow = e
            .as_error::<PayloadError>()
            .is_some_and(|p| matches!(p, PayloadError::Overflow | PayloadError::UnknownLength));
        if overflow
            || e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
        {
            ApiError(ServiceError::new(
                ErrorCode::PayloadTooLarge,
                "request body is larger than the server accepts",
            ))
        } else {
            ApiError::validation(format!("body: could not be read ({e})"))
        }
    })
}

/// Parses a JSON object body into `T`, naming the field of any mistake.
fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every request body of this API is a JSON object; serde would otherwise read a
    // struct from an array by position.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::validation(
            "body: expected a JSON object, got an array",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ApiError::validation(describe(&e)))?;
    de.end()
        .map_err(|_| ApiError::validation("body: trailing characters after the JSON value"))?;
    Ok(value)
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body_bytes(bytes).await?;
            Ok(Json(parse_object(&bytes)?))
        })
    }
}

/// A JSON request body whose fields are all optional: an empty body (with or without a
/// `Content-Type`) reads as `T::default()`; anything else is read as [`Json`] reads it.
#[derive(Debug)]
pub struct JsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for JsonOrEmpty<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body_bytes(bytes).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(JsonOrEmpty(T::default()));
            }
            Ok(JsonOrEmpty(parse_object(&bytes)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        port: Option<u16>,
    }

    fn err(json: &str) -> String {
        let mut de = serde_json::Deserializer::from_str(json);
        describe(&serde_path_to_error::deserialize::<_, Body>(&mut de).unwrap_err())
    }

    #[test]
    fn messages_name_the_field() {
        assert_eq!(err(r#"{"port": 1}"#), "body: missing field `name`");
        assert!(
            err(r#"{"name": "x", "port": "a"}"#).starts_with("port: invalid type: string"),
            "{}",
            err(r#"{"name":"x","port":"a"}"#)
        );
        assert!(err(r#"{"name": 5}"#).starts_with("name: invalid type: integer"));
        assert!(err(r#"{"name": "x", "extra": 1}"#).contains("unknown field `extra`"));
        assert!(err(r#"{"name": "#).starts_with("body: malformed JSON"));
        assert_eq!(err(""), "body: expected a JSON object");
    }
}

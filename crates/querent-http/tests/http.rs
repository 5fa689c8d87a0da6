//! querent-http on its own: the OpenAPI document is snapshot-tested, so any change to the
//! public API shows up in review as a diff of `tests/snapshots/`, and validated: against
//! the OpenAPI 3.1 schema, by parsing it with `oas3`, and for what a schema cannot say
//! (every `$ref` resolves, path parameters match their templates, operation ids are
//! unique, every component is a valid JSON Schema, error answers are documented, enums are
//! spelt as on the wire, `limit` maxima are the server's).

#![allow(
    // Test code: unwrapping is the assertion, blocking I/O and long tests are fine.
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

#[path = "http/openapi_valid.rs"]
mod openapi_valid;

use querent_domain::ErrorCode;

#[test]
fn openapi_document_is_stable() {
    let doc = querent_http::openapi::document();
    let json = serde_json::to_value(&doc).expect("serialise");
    insta::assert_json_snapshot!("openapi", json);
}

#[test]
fn every_error_code_maps_to_its_status() {
    use actix_web::ResponseError as _;
    for code in ErrorCode::ALL {
        let e = querent_http::error::ApiError(querent_app::ServiceError::new(*code, "x"));
        assert_eq!(e.status_code().as_u16(), code.http_status(), "{code}");
    }
}

/// The router's edges, on the real routes without services: a wrong method on an existing
/// path is 405 with `Allow`, an unknown path 404, and an error actix answers without a
/// body gets the `{"detail", "code"}` body.
#[actix_web::test]
async fn wrong_methods_unknown_paths_and_bodiless_errors_answer_in_json() {
    use actix_web::dev::Service as _;
    use actix_web::{HttpResponse, test, web};
    use utoipa_actix_web::AppExt as _;

    let doc = querent_http::openapi::document();
    let app = test::init_service(
        actix_web::App::new()
            .into_utoipa_app()
            .configure(querent_http::routes::endpoints)
            .into_app()
            .route(
                "/too-large",
                web::get().to(|| async { HttpResponse::PayloadTooLarge().finish() }),
            )
            .default_service(querent_http::fallback(&doc))
            .wrap_fn(|req, srv| {
                let fut = srv.call(req);
                async move { Ok(querent_http::error_body(fut.await?)) }
            }),
    )
    .await;
    let call = |method: actix_web::http::Method, path: &str| {
        test::TestRequest::default()
            .method(method)
            .uri(path)
            .to_request()
    };
    use actix_web::http::Method;

    let resp = test::call_service(&app, call(Method::GET, "/api/v1/auth/login")).await;
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers().get("allow").unwrap(), "POST");
    let body: serde_json::Value = test::read_body_json(resp).await;
    assert_eq!(body["code"], "method_not_allowed", "{body}");

    let id = "01a24935-d287-706d-8e43-a1ae1a0d37ff";
    let resp = test::call_service(
        &app,
        call(Method::PUT, &format!("/api/v1/connections/{id}")),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers().get("allow").unwrap(), "DELETE, GET, PATCH");

    let resp = test::call_service(&app, call(Method::GET, "/api/v1/nothing-here")).await;
    assert_eq!(resp.status().as_u16(), 404);
    let body: serde_json::Value = test::read_body_json(resp).await;
    assert_eq!(body["code"], "not_found");

    let resp = test::call_service(&app, call(Method::GET, "/too-large")).await;
    assert_eq!(resp.status().as_u16(), 413);
    let body: serde_json::Value = test::read_body_json(resp).await;
    assert_eq!(
        (body["code"].as_str(), body["detail"].is_string()),
        (Some("payload_too_large"), true)
    );
}

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

/// The workers' routers register the endpoints without collecting the document
/// (`routes::routes_only`): every method on every documented path answers there exactly as
/// in the router built with the document (`routes::endpoints`) — the same handler, or no
/// handler for both — and every documented operation reaches a handler.
#[actix_web::test]
async fn the_router_without_the_document_routes_every_documented_endpoint() {
    use actix_web::http::Method;
    use actix_web::{HttpResponse, test, web};
    use utoipa_actix_web::AppExt as _;

    // No handler answers 418: it marks "no endpoint matched".
    let unmatched = || web::to(|| async { HttpResponse::ImATeapot().finish() });
    let documented = test::init_service(
        actix_web::App::new()
            .into_utoipa_app()
            .configure(querent_http::routes::endpoints)
            .into_app()
            .default_service(unmatched()),
    )
    .await;
    let routed = test::init_service(
        actix_web::App::new()
            .configure(querent_http::routes::routes_only)
            .default_service(unmatched()),
    )
    .await;
    let doc = serde_json::to_value(querent_http::openapi::document()).unwrap();
    let id = "01a24935-d287-706d-8e43-a1ae1a0d37ff";
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let path: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { id } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "put", "post", "delete", "patch"] {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = |resp: actix_web::dev::ServiceResponse| resp.status().as_u16();
            let request = || {
                test::TestRequest::default()
                    .method(m.clone())
                    .uri(&path)
                    .to_request()
            };
            let a = status(test::call_service(&documented, request()).await);
            let b = status(test::call_service(&routed, request()).await);
            assert_eq!(a, b, "{method} {path}: {a} with the document, {b} without");
            if item.get(method).is_some() {
                assert_ne!(a, 418, "{method} {path} is documented but not routed");
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
    for path in ["/api/v1/nothing-here", "/api/v2/chat", "/api/v1/chat/x/y/z"] {
        let request = || test::TestRequest::get().uri(path).to_request();
        assert_eq!(
            test::call_service(&routed, request())
                .await
                .status()
                .as_u16(),
            418,
            "{path}"
        );
    }
}

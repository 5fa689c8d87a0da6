//! querent-http on its own: the OpenAPI document is snapshot-tested, so any change to the
//! public API shows up in review as a diff of `tests/snapshots/`, and validated: against
//! the OpenAPI 3.1 schema, by parsing it with `oas3`, and for what a schema cannot say
//! (every `$ref` resolves, path parameters match their templates, operation ids are
//! unique, every component is a valid JSON Schema, error answers are documented, enums are
//! spelt as on the wire, `limit` maxima are the server's).

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

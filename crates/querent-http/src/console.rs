//! The web console: the static files of `crates/querent-http/console/` (plain ES modules,
//! CSS and the vendored Vega libraries), embedded in the binary at compile time and served
//! at `/` (the page) and `/console/…` (its assets). The console speaks only to the public
//! `/api/v1`, like any other client; nothing here reads a token or calls a service.
//!
//! Every answer carries a strict Content-Security-Policy (scripts, styles and connections
//! from this origin only, no inline script or style, no framing), `nosniff` and no
//! referrer. The vendored libraries live under versioned folders (`vendor/vega-5.33.1/…`)
//! and are cached for a year as immutable; the page and the console's own files are
//! revalidated on every load through their ETag (the SHA-256 of the embedded bytes).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, guard, middleware, web};
use rust_embed::RustEmbed;

/// The console's files, embedded at compile time (also in debug builds).
#[derive(RustEmbed)]
#[folder = "console/"]
struct Assets;

/// The policy every console answer carries. Vega renders through the expression
/// interpreter (vega-embed's `ast` option), so it needs no `unsafe-eval`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Registers `/` and `/console/{path}` for GET and HEAD (gzip-compressed when the client
/// accepts it).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let read = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.service(
        web::resource("/")
            .wrap(middleware::Compress::default())
            .route(read().to(index)),
    )
    .service(
        web::resource("/console/{path:.*}")
            .wrap(middleware::Compress::default())
            .route(read().to(asset)),
    );
}

async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, "index.html")
}

async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    serve(&req, &path)
}

/// The content type of a console file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("ico") => "image/x-icon",
        _ => "text/plain; charset=utf-8",
    }
}

/// Hex of the first 16 bytes of a SHA-256: the ETag of an embedded file.
fn etag_of(hash: &[u8; 32]) -> String {
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn serve(req: &HttpRequest, path: &str) -> HttpResponse {
    let Some(file) = Assets::get(path) else {
        return crate::error::error_response(
            querent_domain::ErrorCode::NotFound,
            "no such console file",
        );
    };
    let etag = etag_of(&file.metadata.sha256_hash());
    let cache = if path.starts_with("vendor/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if fresh {
        HttpResponse::build(StatusCode::NOT_MODIFIED).finish()
    } else {
        HttpResponse::Ok()
            .content_type(content_type(path))
            .body(file.data.into_owned())
    };
    let headers = resp.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, cache),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_tags() {
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "text/plain; charset=utf-8");
        assert_eq!(etag_of(&[0xab; 32]), format!("\"{}\"", "ab".repeat(16)));
    }

    #[test]
    fn the_page_and_its_modules_are_embedded() {
        assert!(Assets::get("index.html").is_some());
        let page = String::from_utf8(Assets::get("index.html").unwrap().data.into_owned()).unwrap();
        // The policy forbids inline script and style: the page must have none.
        assert!(!page.contains("<script>") && !page.contains("style="));
        assert!(!page.contains("<style"));
    }
}

//! The compatibility layers: each seed's API, served as its own documentation writes it, so
//! clients of those products can point at Querent (design §5, `docs/COMPAT.md`):
//!
//! | mount | seed | module |
//! |---|---|---|
//! | `/compat/basejump/api/v1` | 000 | [`basejump`] |
//! | `/compat/codemie/v1` | 002 | [`codemie`] |
//! | `/compat/aifordb/v1` | 003 | [`aifordb`] |
//! | `/compat/connecty/v1` | 004 | [`connecty`] |
//!
//! Each layer only translates: its requests to querent-app's services, their answers and
//! errors to its seed's shapes, status codes and error format. No business logic lives
//! here, and the layers own no store tables (id aliases aside, kept by the services).
//!
//! The layers are plain actix routes, not part of the native OpenAPI document (which
//! describes `/api/v1`): each seed's own text is their contract. Every scope sets its own
//! path, query and JSON error handlers and its own fallback, so even a malformed request
//! gets the seed's error format.

pub mod aifordb;
pub mod basejump;
pub mod codemie;
pub mod connecty;
mod detail;

pub use detail::DetailError;

use actix_web::web;

/// Mounts every layer.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/compat/basejump/api/v1").configure(basejump::routes))
        .service(web::scope("/compat/codemie/v1").configure(codemie::routes))
        .service(web::scope("/compat/aifordb/v1").configure(aifordb::routes))
        .service(web::scope("/compat/connecty/v1").configure(connecty::routes));
}

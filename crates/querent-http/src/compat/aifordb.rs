//! Seed compatibility layer (being written).

use actix_web::web;

/// Registers this layer's routes on its scope.
pub fn routes(_cfg: &mut web::ServiceConfig) {}

//! Semantic cache entries (`cache_entries`) and verified examples (`examples`).

use querent_domain::ports::{CacheStore, ExampleStore};

use crate::Store;

#[async_trait::async_trait]
impl CacheStore for Store {}

#[async_trait::async_trait]
impl ExampleStore for Store {}

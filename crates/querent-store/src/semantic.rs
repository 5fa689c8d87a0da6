//! Semantic models (`semantic_models`).

use querent_domain::ports::SemanticModelStore;

use crate::Store;

#[async_trait::async_trait]
impl SemanticModelStore for Store {}

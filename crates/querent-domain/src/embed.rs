//! The embedding port: texts in, vectors out. Used for cache similarity, example retrieval
//! and (where available) schema linking. Adapters: the deterministic lexical embedder
//! (querent-cache), the OpenAI-compatible `/embeddings` adapter (querent-llm) and the local
//! sentence-transformer (querent-embed, behind a cargo feature).

use async_trait::async_trait;

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The provider could not be reached or timed out.
    #[error("embedding provider unreachable: {0}")]
    Unavailable(String),
    /// The provider answered with an error or an unreadable reply.
    #[error("embedding provider error: {0}")]
    Provider(String),
    /// The local model could not be loaded or run.
    #[error("embedding model error: {0}")]
    Model(String),
}

/// Turns texts into vectors. Vectors from embedders with different [`Embedder::id`]s are
/// never compared with each other.
#[async_trait]
pub trait Embedder: Send + Sync + 'static {
    /// Stable identity of the model, e.g. `lexical-trigram-256`,
    /// `local:all-MiniLM-L6-v2`, `openai:text-embedding-3-small`.
    fn id(&self) -> &str;
    /// Length of every vector it returns.
    fn dims(&self) -> usize;
    /// One unit-length vector per text, in the same order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

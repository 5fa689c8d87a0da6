//! Chooses the semantic cache's embedder from the configuration (`embedder`): a local
//! sentence-transformer (built with the `local-embeddings` feature), an OpenAI-compatible
//! `/embeddings` API, or the deterministic lexical fallback. A wanted model that cannot be
//! used never stops the server: it falls back to lexical, logs why, and `/ready` says so.

use std::sync::Arc;

use querent_domain::embed::Embedder;

use crate::config::Config;

/// The embedder and, when it is the fallback although something else was wanted or could
/// be had, why.
pub async fn build(config: &Config) -> (Arc<dyn Embedder>, Option<String>) {
    let lexical = || -> Arc<dyn Embedder> { Arc::new(querent_cache::LexicalEmbedder) };
    let choice = config.embedder.trim().to_ascii_lowercase();
    let (embedder, note) = match choice.as_str() {
        "lexical" => (lexical(), None),
        "openai" => match openai(config).await {
            Ok(e) => (e, None),
            Err(why) => (
                lexical(),
                Some(format!("openai embedder unavailable: {why}")),
            ),
        },
        "local" | "auto" => {
            match querent_embed::find_model_dir(config.embedding_model_dir.as_deref()) {
                Some(dir) if querent_embed::local_available() => {
                    match querent_embed::LocalEmbedder::load(&dir) {
                        Ok(e) => (Arc::new(e) as Arc<dyn Embedder>, None),
                        Err(e) => (
                            lexical(),
                            Some(format!(
                                "local model at {} failed to load: {e}",
                                dir.display()
                            )),
                        ),
                    }
                }
                Some(dir) => (
                    lexical(),
                    Some(format!(
                        "a model is at {} but this build lacks the `local-embeddings` feature \
                         (cargo build --release --features local-embeddings)",
                        dir.display()
                    )),
                ),
                None => (
                    lexical(),
                    Some(match &config.embedding_model_dir {
                        Some(d) => format!("no model files in {}", d.display()),
                        None => format!(
                            "no local model (set embedding_model_dir or {}; `bash scripts/fetch-embedding-model.sh` fetches one)",
                            querent_embed::MODEL_DIR_ENV
                        ),
                    }),
                ),
            }
        }
        other => (
            lexical(),
            Some(format!(
                "unknown embedder `{other}` (auto, local, openai, lexical)"
            )),
        ),
    };
    match &note {
        Some(why) if choice == "auto" => {
            tracing::info!(
                embedder = embedder.id(),
                "semantic cache: lexical embeddings ({why})"
            )
        }
        Some(why) => {
            tracing::warn!(
                embedder = embedder.id(),
                "semantic cache: falling back to lexical embeddings: {why}"
            )
        }
        None => tracing::info!(
            embedder = embedder.id(),
            dims = embedder.dims(),
            "semantic cache embedder"
        ),
    }
    (embedder, note)
}

async fn openai(config: &Config) -> Result<Arc<dyn Embedder>, String> {
    let base = config
        .embedding_base_url
        .clone()
        .ok_or("embedding_base_url is not set")?;
    let model = config
        .embedding_model
        .clone()
        .ok_or("embedding_model is not set")?;
    let mut cfg = querent_llm::OpenAiEmbedderConfig::new(base, model);
    if let Some(key) = &config.embedding_api_key {
        cfg = cfg.with_api_key(key.clone());
    }
    let policy = querent_llm::UrlPolicy {
        allow_private: config.allow_private_provider_urls,
        allow_loopback: true,
    };
    let e = querent_llm::OpenAiEmbedder::connect(cfg, &policy)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(e))
}

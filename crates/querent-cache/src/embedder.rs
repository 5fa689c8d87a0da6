//! [`LexicalEmbedder`]: the deterministic hashed-trigram embedding behind the
//! [`Embedder`] port, used until a model embedder (local or remote) is configured.

use async_trait::async_trait;
use querent_domain::embed::{EmbedError, Embedder};

use crate::matching::{LEXICAL_DIMS, lexical_embedding, normalize};

/// The lexical fallback embedder: each text is normalised with [`normalize`] and embedded
/// with [`lexical_embedding`] (hashed character trigrams, [`LEXICAL_DIMS`] dimensions).
/// Needs no model, no network and no threads; never fails.
///
/// Vectors are unit length, except for a text with no words left after normalisation
/// (empty, punctuation or filler only), which gets the zero vector: similar to nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct LexicalEmbedder;

impl LexicalEmbedder {
    /// The identity of its vectors.
    pub const ID: &'static str = "lexical-trigram-256";

    /// The embedder (it has no state).
    pub fn new() -> Self {
        Self
    }

    /// The vector of one text, synchronously.
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        lexical_embedding(&normalize(text))
    }
}

#[async_trait]
impl Embedder for LexicalEmbedder {
    fn id(&self) -> &str {
        Self::ID
    }

    fn dims(&self) -> usize {
        LEXICAL_DIMS
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosine;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // The future never awaits anything, so one poll completes it.
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        match f.as_mut().poll(&mut std::task::Context::from_waker(waker)) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("the lexical embedder never waits"),
        }
    }

    #[test]
    fn embeds_like_the_matching_core() {
        let e = LexicalEmbedder::new();
        assert_eq!(e.id(), "lexical-trigram-256");
        assert_eq!(e.dims(), LEXICAL_DIMS);
        let texts: Vec<String> = [
            "How many customers do we have?",
            "number of customers",
            "Revenue by region in 2023",
            "",
        ]
        .map(String::from)
        .to_vec();
        let vectors = block_on(e.embed(&texts)).unwrap();
        assert_eq!(vectors.len(), texts.len());
        for (text, v) in texts.iter().zip(&vectors) {
            assert_eq!(v.len(), LEXICAL_DIMS);
            assert_eq!(v, &lexical_embedding(&normalize(text)), "{text:?}");
        }
        for v in &vectors[..3] {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
        }
        assert!(
            vectors[3].iter().all(|x| *x == 0.0),
            "no words, zero vector"
        );
        // Rephrasings are closer than unrelated questions.
        assert!(cosine(&vectors[0], &vectors[1]) > cosine(&vectors[0], &vectors[2]));
        // Deterministic and order-preserving.
        let again = block_on(e.embed(&[texts[2].clone(), texts[0].clone()])).unwrap();
        assert_eq!(again, vec![vectors[2].clone(), vectors[0].clone()]);
        assert!(block_on(e.embed(&[])).unwrap().is_empty());
    }
}

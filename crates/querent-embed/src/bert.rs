//! The model itself (feature `local`): tokenizer, BERT forward pass on the CPU, mean
//! pooling over the attention mask and L2 normalisation — sentence-transformers'
//! `Transformer → Pooling(mean) → Normalize` for all-MiniLM-L6-v2.

#![allow(clippy::disallowed_methods)] // the model is loaded at start-up, synchronously; embedding runs on spawn_blocking

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use querent_domain::embed::EmbedError;
use tokenizers::{Tokenizer, TruncationParams};

use crate::DEFAULT_MAX_TOKENS;

/// Texts per forward pass: bounds the padded activations (batch × tokens × hidden).
const BATCH: usize = 32;

/// A loaded sentence-transformer.
pub(crate) struct Model {
    id: String,
    dims: usize,
    max_tokens: usize,
    pad_id: u32,
    bert: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl Model {
    /// Loads the model files of `dir` (already resolved: the files are in it).
    pub(crate) fn load(dir: &Path, id: String) -> Result<Self, EmbedError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            EmbedError::Model(format!("{id}: {what} in {}: {e}", dir.display()))
        };
        let config_text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| fail("could not read config.json", &e))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| fail("config.json is not a BERT configuration", &e))?;
        let max_tokens = sentence_max_tokens(dir)
            .map_err(|e| fail("sentence_bert_config.json is unreadable", &e))?
            .unwrap_or(DEFAULT_MAX_TOKENS)
            .min(config.max_position_embeddings);

        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| fail("could not load tokenizer.json", &e))?;
        // tokenizer.json may carry its own settings (MiniLM's pads everything to 128 and
        // truncates at 128); sentence-transformers truncates at max_seq_length and pads
        // per batch, which `embed` does itself.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..TruncationParams::default()
            }))
            .map_err(|e| fail("could not set the tokenizer's truncation", &e))?;

        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &device)
            .map_err(|e| fail("could not read model.safetensors", &e))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let bert = BertModel::load(vb, &config)
            .map_err(|e| fail("model.safetensors does not fit config.json", &e))?;
        Ok(Self {
            id,
            dims: config.hidden_size,
            max_tokens,
            pad_id: u32::try_from(config.pad_token_id).unwrap_or(0),
            bert,
            tokenizer,
            device,
        })
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn dims(&self) -> usize {
        self.dims
    }

    pub(crate) fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// One unit-length vector per text, in order (blocking).
    pub(crate) fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.iter().map(String::as_str).collect::<Vec<_>>(), true)
            .map_err(|e| self.fail("tokenising failed", &e))?;
        let tokens: Vec<(&[u32], &[u32])> = encodings
            .iter()
            .map(|e| (e.get_ids(), e.get_type_ids()))
            .collect();
        // Texts of similar length share a forward pass, so little is spent on padding.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| tokens[i].0.len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<(&[u32], &[u32])> = chunk.iter().map(|&i| tokens[i]).collect();
            let vectors = self
                .forward(&batch)
                .map_err(|e| self.fail("inference failed", &e))?;
            for (&i, v) in chunk.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// Mean-pooled, normalised vectors of one batch of token sequences (ids, type ids).
    fn forward(&self, batch: &[(&[u32], &[u32])]) -> candle_core::Result<Vec<Vec<f32>>> {
        let len = batch.iter().map(|(ids, _)| ids.len()).max().unwrap_or(0);
        let n = batch.len();
        let mut ids = Vec::with_capacity(n * len);
        let mut types = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for (i, t) in batch {
            let pad = len - i.len();
            ids.extend_from_slice(i);
            ids.extend(std::iter::repeat_n(self.pad_id, pad));
            types.extend_from_slice(t);
            types.extend(std::iter::repeat_n(0u32, pad));
            mask.extend(std::iter::repeat_n(1u32, i.len()));
            mask.extend(std::iter::repeat_n(0u32, pad));
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let types = Tensor::from_vec(types, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let hidden = self.bert.forward(&ids, &types, Some(&mask))?; // (n, len, dims)
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (n, dims)
        let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        mean.broadcast_div(&norm)?.to_vec2::<f32>()
    }

    fn fail(&self, what: &str, e: &dyn std::fmt::Display) -> EmbedError {
        EmbedError::Model(format!("{}: {what}: {e}", self.id))
    }
}

/// `max_seq_length` of `sentence_bert_config.json`, when the file is there.
fn sentence_max_tokens(dir: &Path) -> Result<Option<usize>, String> {
    let path = dir.join("sentence_bert_config.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    Ok(value
        .get("max_seq_length")
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0))
}

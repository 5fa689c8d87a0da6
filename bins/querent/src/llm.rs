//! The [`ProviderFactory`] adapter: turns stored provider configurations into querent-llm
//! providers (OpenAI-compatible, Anthropic) or the built-in offline translator, and applies
//! the outbound URL policy.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use querent_domain::providers::ProviderConfig;
use querent_domain::query::{ProviderError, ProviderFactory, SqlProvider};
use querent_domain::{ProviderKind, Secret};
use querent_llm::{
    AnthropicConfig, AnthropicProvider, OpenAiConfig, OpenAiProvider, PromptBudget, RetryPolicy,
    UrlPolicy,
};

/// Copies the options both adapters' configurations share (same field names, different
/// types) from a stored provider configuration.
macro_rules! apply_options {
    ($factory:expr, $c:ident, $config:expr, $key:expr) => {
        $c.api_key = $key;
        if $config.options.temperature.is_some() {
            $c.temperature = $config.options.temperature;
        }
        $c.stream = $config.options.stream;
        if let Some(ms) = $config.options.request_timeout_ms {
            $c.request_timeout = Duration::from_millis(ms);
        }
        $c.retry = $factory.retry($config);
        if let Some(t) = $config.options.max_prompt_tokens {
            $c.budget = PromptBudget {
                max_prompt_tokens: t as usize,
            };
        }
    };
}

/// Builds providers; one per process.
pub struct LlmProviders {
    policy: UrlPolicy,
    offline: Arc<dyn SqlProvider>,
    /// Cap on the delay between retries (tests shorten it).
    max_retry_delay: Duration,
}

impl LlmProviders {
    /// A factory with this outbound policy and built-in offline provider.
    pub fn new(
        policy: UrlPolicy,
        offline: Arc<dyn SqlProvider>,
        max_retry_delay: Duration,
    ) -> Self {
        Self {
            policy,
            offline,
            max_retry_delay,
        }
    }

    fn retry(&self, config: &ProviderConfig) -> RetryPolicy {
        let mut r = RetryPolicy::default();
        if let Some(n) = config.options.max_retries {
            r.max_retries = n.min(10);
        }
        r.max_delay = self.max_retry_delay;
        r.base_delay = r.base_delay.min(self.max_retry_delay);
        r
    }

    fn parts(config: &ProviderConfig) -> Result<(&str, &str), ProviderError> {
        match (config.base_url.as_deref(), config.model.as_deref()) {
            (Some(u), Some(m)) => Ok((u, m)),
            _ => Err(ProviderError::Failed(format!(
                "provider `{}` has no base_url or model",
                config.name
            ))),
        }
    }

    fn openai(
        &self,
        config: &ProviderConfig,
        key: Option<Secret<String>>,
    ) -> Result<OpenAiProvider, ProviderError> {
        let (url, model) = Self::parts(config)?;
        let mut c = OpenAiConfig::new(url, model);
        apply_options!(self, c, config, key);
        if config.options.max_tokens.is_some() {
            c.max_tokens = config.options.max_tokens;
        }
        OpenAiProvider::new(c)
    }

    fn anthropic(
        &self,
        config: &ProviderConfig,
        key: Option<Secret<String>>,
    ) -> Result<AnthropicProvider, ProviderError> {
        let (url, model) = Self::parts(config)?;
        let mut c = AnthropicConfig::new(url, model);
        apply_options!(self, c, config, key);
        if let Some(m) = config.options.max_tokens {
            c.max_tokens = m;
        }
        AnthropicProvider::new(c)
    }
}

#[async_trait]
impl ProviderFactory for LlmProviders {
    fn build(
        &self,
        config: &ProviderConfig,
        api_key: Option<Secret<String>>,
    ) -> Result<Arc<dyn SqlProvider>, ProviderError> {
        Ok(match config.kind {
            ProviderKind::Offline => Arc::clone(&self.offline),
            ProviderKind::Openai => Arc::new(self.openai(config, api_key)?),
            ProviderKind::Anthropic => Arc::new(self.anthropic(config, api_key)?),
        })
    }

    async fn check_url(&self, base_url: &str) -> Result<(), String> {
        querent_llm::check_base_url(base_url, &self.policy).await
    }

    async fn test(
        &self,
        config: &ProviderConfig,
        api_key: Option<Secret<String>>,
    ) -> Result<String, ProviderError> {
        match config.kind {
            ProviderKind::Offline => Ok("offline translator ready".into()),
            ProviderKind::Openai => self.openai(config, api_key)?.test().await,
            ProviderKind::Anthropic => self.anthropic(config, api_key)?.test().await,
        }
    }

    async fn list_models(
        &self,
        config: &ProviderConfig,
        api_key: Option<Secret<String>>,
    ) -> Result<Vec<String>, ProviderError> {
        match config.kind {
            ProviderKind::Offline => Ok(vec!["offline".into()]),
            ProviderKind::Openai => self.openai(config, api_key)?.list_models().await,
            ProviderKind::Anthropic => self.anthropic(config, api_key)?.list_models().await,
        }
    }
}

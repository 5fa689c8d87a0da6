//! The [`ProviderFactory`] adapter: turns stored provider configurations into querent-llm
//! providers (OpenAI-compatible, Anthropic) or the built-in offline translator, and applies
//! the outbound URL policy.
//!
//! Providers built for chats are kept (see [`LlmProviders::build`]): building one makes a
//! new HTTP client and TLS configuration, so every chat opened a new connection to its
//! provider.

use std::sync::{Arc, Mutex};
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
    /// Providers already built, the most recently built last (at most [`MAX_BUILT`]).
    built: Mutex<Vec<Built>>,
}

/// A provider built from a stored configuration and API key.
struct Built {
    /// The whole stored configuration it was built from (id, kind, URL, model, the
    /// encrypted key, options, and `updated_at`, which every change moves).
    config: ProviderConfig,
    /// The decrypted key it was built with.
    key: Option<Secret<String>>,
    provider: Arc<dyn SqlProvider>,
}

/// Providers kept at most; the oldest is dropped first.
const MAX_BUILT: usize = 64;

/// Whether two optional keys are the same.
fn same_key(a: Option<&Secret<String>>, b: Option<&Secret<String>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.expose() == b.expose(),
        _ => false,
    }
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
            built: Mutex::new(Vec::new()),
        }
    }

    fn lock_built(&self) -> std::sync::MutexGuard<'_, Vec<Built>> {
        self.built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A provider built from exactly this configuration and key, if one was kept.
    fn kept(
        &self,
        config: &ProviderConfig,
        key: Option<&Secret<String>>,
    ) -> Option<Arc<dyn SqlProvider>> {
        self.lock_built()
            .iter()
            .find(|b| b.config == *config && same_key(b.key.as_ref(), key))
            .map(|b| Arc::clone(&b.provider))
    }

    /// Keeps a provider built from this configuration and key, in place of any other built
    /// from the same provider and model (an older version of it).
    fn keep(
        &self,
        config: &ProviderConfig,
        key: Option<Secret<String>>,
        provider: &Arc<dyn SqlProvider>,
    ) {
        let mut built = self.lock_built();
        built.retain(|b| !(b.config.id == config.id && b.config.model == config.model));
        if built.len() >= MAX_BUILT {
            built.remove(0);
        }
        built.push(Built {
            config: config.clone(),
            key,
            provider: Arc::clone(provider),
        });
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
    /// The provider for a stored configuration: the one already built from an equal
    /// configuration (every field, `updated_at` included) and the same key, or a new one,
    /// kept. An edited provider is stored with a new `updated_at`, and a deleted one is
    /// never read again, so neither is ever answered from what was kept; sharing one
    /// provider between chats shares its HTTP client and so its idle connections.
    fn build(
        &self,
        config: &ProviderConfig,
        api_key: Option<Secret<String>>,
    ) -> Result<Arc<dyn SqlProvider>, ProviderError> {
        if let Some(p) = self.kept(config, api_key.as_ref()) {
            return Ok(p);
        }
        let kept_key = api_key.as_ref().map(|k| Secret::new(k.expose().clone()));
        let provider: Arc<dyn SqlProvider> = match config.kind {
            ProviderKind::Offline => return Ok(Arc::clone(&self.offline)),
            ProviderKind::Openai => Arc::new(self.openai(config, api_key)?),
            ProviderKind::Anthropic => Arc::new(self.anthropic(config, api_key)?),
        };
        self.keep(config, kept_key, &provider);
        Ok(provider)
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

#[cfg(test)]
mod tests {
    use querent_domain::providers::ProviderOptions;
    use querent_domain::query::{GenerateRequest, Generated};
    use querent_domain::{ProviderId, TeamId};

    use super::*;

    struct Offline;

    #[async_trait]
    impl SqlProvider for Offline {
        fn name(&self) -> &str {
            "offline"
        }
        async fn generate(&self, _: &GenerateRequest) -> Result<Generated, ProviderError> {
            Err(ProviderError::Failed("not in this test".into()))
        }
    }

    fn factory() -> LlmProviders {
        LlmProviders::new(
            UrlPolicy {
                allow_private: true,
                allow_loopback: true,
            },
            Arc::new(Offline),
            Duration::from_millis(10),
        )
    }

    fn config(kind: ProviderKind) -> ProviderConfig {
        ProviderConfig {
            id: ProviderId::new(),
            team_id: TeamId::new(),
            name: "fast".into(),
            kind,
            base_url: Some("http://127.0.0.1:9/v1".into()),
            model: Some("model-a".into()),
            encrypted_api_key: Some("sealed-key-1".into()),
            options: ProviderOptions::default(),
            is_default: false,
            created_by: None,
            created_at: 1,
            updated_at: 1,
        }
    }

    fn key(k: &str) -> Option<Secret<String>> {
        Some(Secret::new(k.to_owned()))
    }

    /// A provider is built once per stored configuration and key: asked again with the
    /// same ones, the factory gives the same provider; any field of the configuration or
    /// the key changed gives a new one (and asking again gives that new one).
    #[test]
    fn providers_are_kept_per_configuration_and_key() {
        type Change = fn(&mut ProviderConfig);
        let changes: [(&str, Change); 14] = [
            ("updated_at", |c| c.updated_at += 1),
            ("name", |c| c.name = "faster".into()),
            ("kind", |c| c.kind = ProviderKind::Anthropic),
            ("base_url", |c| {
                c.base_url = Some("http://127.0.0.1:10/v1".into())
            }),
            ("model", |c| c.model = Some("model-b".into())),
            ("encrypted key", |c| {
                c.encrypted_api_key = Some("sealed-key-2".into())
            }),
            ("no key", |c| c.encrypted_api_key = None),
            ("temperature", |c| c.options.temperature = Some(0.5)),
            ("max_tokens", |c| c.options.max_tokens = Some(64)),
            ("stream", |c| c.options.stream = !c.options.stream),
            ("request timeout", |c| {
                c.options.request_timeout_ms = Some(5)
            }),
            ("retries", |c| c.options.max_retries = Some(1)),
            ("prompt budget", |c| c.options.max_prompt_tokens = Some(100)),
            ("id", |c| c.id = ProviderId::new()),
        ];
        for kind in [ProviderKind::Openai, ProviderKind::Anthropic] {
            let f = factory();
            let base = config(kind);
            let first = f.build(&base, key("sk-1")).unwrap();
            assert!(Arc::ptr_eq(&first, &f.build(&base, key("sk-1")).unwrap()));
            for (what, change) in changes {
                let mut changed = base.clone();
                change(&mut changed);
                let other = f.build(&changed, key("sk-1")).unwrap();
                assert!(!Arc::ptr_eq(&first, &other), "{what}");
                assert!(
                    Arc::ptr_eq(&other, &f.build(&changed, key("sk-1")).unwrap()),
                    "{what}"
                );
            }
            for k in [key("sk-2"), None] {
                let other = f.build(&base, k).unwrap();
                assert!(!Arc::ptr_eq(&first, &other));
            }
        }
    }

    /// An edited provider replaces the one built before (it is not kept beside it), the
    /// offline kind is the built-in translator, and no more than [`MAX_BUILT`] are kept.
    #[test]
    fn kept_providers_are_replaced_and_bounded() {
        let f = factory();
        let mut c = config(ProviderKind::Openai);
        f.build(&c, None).unwrap();
        c.updated_at += 1;
        f.build(&c, None).unwrap();
        assert_eq!(f.lock_built().len(), 1);
        assert_eq!(f.lock_built()[0].config, c);
        let offline = f.build(&config(ProviderKind::Offline), None).unwrap();
        assert_eq!(offline.name(), "offline");
        assert_eq!(f.lock_built().len(), 1);
        for _ in 0..MAX_BUILT + 5 {
            f.build(&config(ProviderKind::Openai), None).unwrap();
        }
        assert_eq!(f.lock_built().len(), MAX_BUILT);
    }
}

//! The outbound webhook port: how querent-app delivers a workflow's `webhook` step without
//! linking an HTTP client. querent-llm implements it with the same outbound URL policy as
//! provider base URLs (no link-local or metadata addresses; private ranges only when the
//! server allows them) and never follows redirects.

use std::time::Duration;

use async_trait::async_trait;

/// Why one delivery attempt failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver answered with a status outside 2xx.
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    /// No answer within the timeout.
    #[error("the receiver did not answer within {0:?}")]
    Timeout(Duration),
    /// The request could not be sent (connection refused, DNS, TLS, …).
    #[error("the request could not be sent: {0}")]
    Transport(String),
    /// The URL is refused by the outbound policy (checked again on every delivery).
    #[error("{0}")]
    Refused(String),
}

impl DeliveryError {
    /// Whether another attempt may succeed: server errors (5xx), 429, timeouts and
    /// transport failures are retried; other statuses and refusals are final.
    pub fn retryable(&self) -> bool {
        match self {
            DeliveryError::Status(s) => *s >= 500 || *s == 429,
            DeliveryError::Timeout(_) | DeliveryError::Transport(_) => true,
            DeliveryError::Refused(_) => false,
        }
    }
}

/// Delivers JSON to webhook URLs.
#[async_trait]
pub trait WebhookSender: Send + Sync + 'static {
    /// Checks a URL against the outbound policy; the message says why it is refused.
    async fn check_url(&self, url: &str) -> Result<(), String>;
    /// POSTs `body` as JSON to `url` once (the URL is checked first), within `timeout`;
    /// `Ok` with the 2xx status.
    async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<u16, DeliveryError>;
}

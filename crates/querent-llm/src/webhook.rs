//! [`HttpWebhooks`]: querent-domain's [`WebhookSender`] port — one JSON POST per call, to a
//! URL that passes the outbound [`UrlPolicy`] (the one provider base URLs pass). The host is
//! resolved once, every address checked, and the request pinned to those addresses, so a
//! name cannot resolve to an allowed address for the check and a forbidden one for the
//! request. Redirects are never followed; the reply body is not read.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use querent_domain::webhook::{DeliveryError, WebhookSender};

use crate::url_policy::{UrlPolicy, check_ip};

/// Delivers webhooks under an outbound policy.
#[derive(Clone, Debug)]
pub struct HttpWebhooks {
    policy: UrlPolicy,
    connect_timeout: Duration,
}

impl HttpWebhooks {
    /// A sender applying `policy`.
    pub fn new(policy: UrlPolicy) -> Self {
        Self {
            policy,
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// The URL, its host, and the checked addresses it resolves to.
    async fn resolve(&self, url: &str) -> Result<(reqwest::Url, String, Vec<SocketAddr>), String> {
        let parsed = reqwest::Url::parse(url.trim())
            .map_err(|e| format!("the URL {url:?} is not a valid URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "the URL must use http or https, not {:?}",
                parsed.scheme()
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("the URL must not contain credentials".to_owned());
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        let host = parsed
            .host_str()
            .ok_or_else(|| "the URL has no host".to_owned())?
            .to_owned();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| format!("the URL's host {bare:?} could not be resolved: {e}"))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err("the URL's host resolved to no address".to_owned());
        }
        for a in &addrs {
            check_ip(a.ip(), &self.policy).map_err(|e| e.replacen("the base URL", "the URL", 1))?;
        }
        Ok((parsed, bare.to_owned(), addrs))
    }
}

#[async_trait]
impl WebhookSender for HttpWebhooks {
    async fn check_url(&self, url: &str) -> Result<(), String> {
        self.resolve(url).await.map(|_| ())
    }

    async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<u16, DeliveryError> {
        let (parsed, host, addrs) = self.resolve(url).await.map_err(DeliveryError::Refused)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout.min(timeout))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("querent/", env!("CARGO_PKG_VERSION")));
        if host.parse::<IpAddr>().is_err() {
            builder = builder.resolve_to_addrs(&host, &addrs);
        }
        let client = builder.build().map_err(|e| {
            DeliveryError::Transport(format!("the HTTP client could not start: {e}"))
        })?;
        let payload = serde_json::to_vec(body)
            .map_err(|e| DeliveryError::Transport(format!("the body could not be encoded: {e}")))?;
        let resp = client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    DeliveryError::Timeout(timeout)
                } else {
                    DeliveryError::Transport(without_url(e))
                }
            })?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            Ok(status)
        } else {
            Err(DeliveryError::Status(status))
        }
    }
}

/// A reqwest error's message without the URL (it may carry a token in its query).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    match std::error::Error::source(&e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_what_the_policy_refuses() {
        let w = HttpWebhooks::new(UrlPolicy::default());
        for (url, why) in [
            ("http://169.254.169.254/hook", "metadata"),
            ("http://10.1.2.3/hook", "private network"),
            ("ftp://example.com/x", "http or https"),
            ("http://user:pw@127.0.0.1/x", "credentials"),
        ] {
            let e = w.check_url(url).await.unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
        assert!(w.check_url("http://127.0.0.1:9/hook").await.is_ok());
        let e = w
            .post_json(
                "http://10.1.2.3/hook",
                &serde_json::json!({}),
                Duration::from_secs(1),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, DeliveryError::Refused(_)) && !e.retryable());
    }

    #[tokio::test]
    async fn a_closed_port_is_a_retryable_transport_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let w = HttpWebhooks::new(UrlPolicy::default());
        let e = w
            .post_json(
                &format!("http://127.0.0.1:{port}/hook"),
                &serde_json::json!({}),
                Duration::from_secs(2),
            )
            .await
            .unwrap_err();
        assert!(e.retryable(), "{e:?}");
    }
}

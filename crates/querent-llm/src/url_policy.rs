//! Which provider base URLs may be configured (design §6).
//!
//! A provider's base URL is chosen by an administrator but fetched by the server, so a bad
//! one turns Querent into a proxy into its own network (server-side request forgery). The
//! policy: `http` or `https` only, no credentials in the URL, and every address the host
//! resolves to must be acceptable:
//!
//! - always refused: unspecified (`0.0.0.0`, `::`, `0.0.0.0/8`), link-local
//!   (`169.254.0.0/16`, `fe80::/10`), cloud metadata endpoints (`169.254.169.254`,
//!   `fd00:ec2::254`, `100.100.100.200`, `168.63.129.16`), multicast and broadcast;
//! - refused unless [`UrlPolicy::allow_private`]: private and shared ranges (`10/8`,
//!   `172.16/12`, `192.168/16`, `100.64/10`, `fc00::/7`);
//! - allowed unless [`UrlPolicy::allow_loopback`] is off: loopback (`127/8`, `::1`), so
//!   Ollama or LM Studio on the same machine work out of the box.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are judged as the IPv4 address they carry.
//! The check resolves the name once; callers that need protection against DNS rebinding
//! must also pin the resolved address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What [`check_base_url`] lets through besides public addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Private and shared address ranges (a model server on the LAN).
    pub allow_private: bool,
    /// Loopback addresses (a model server on this machine); on by default.
    pub allow_loopback: bool,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            allow_loopback: true,
        }
    }
}

/// Checks a provider base URL against the policy, resolving its host name. The error is a
/// sentence for the administrator who entered the URL.
pub async fn check_base_url(url: &str, policy: &UrlPolicy) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| format!("the base URL {url:?} is not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the base URL must use http or https, not {:?}",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(
            "the base URL must not contain credentials; set the provider's API key instead"
                .to_owned(),
        );
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = parsed
        .host_str()
        .ok_or_else(|| "the base URL has no host".to_owned())?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("the base URL's host {bare:?} could not be resolved: {e}"))?
            .map(|sa| sa.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err("the base URL's host resolved to no address".to_owned());
    }
    for ip in addresses {
        check_ip(ip, policy)?;
    }
    Ok(())
}

/// Checks one address against the policy.
pub fn check_ip(ip: IpAddr, policy: &UrlPolicy) -> Result<(), String> {
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    let refuse = |why: &str| Err(format!("the base URL resolves to {ip}, {why}"));
    match classify(ip) {
        Class::Metadata => refuse("a cloud metadata address, which is never allowed"),
        Class::Unspecified => refuse("an unspecified address, which is never allowed"),
        Class::LinkLocal => refuse("a link-local address, which is never allowed"),
        Class::Multicast => refuse("a multicast or broadcast address, which is never allowed"),
        Class::Loopback if !policy.allow_loopback => {
            refuse("a loopback address, which this server does not allow")
        }
        Class::Private if !policy.allow_private => {
            refuse("a private network address, which this server does not allow")
        }
        _ => Ok(()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Metadata,
    Unspecified,
    LinkLocal,
    Multicast,
    Loopback,
    Private,
    Public,
}

fn classify(ip: IpAddr) -> Class {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Class {
    const METADATA: [Ipv4Addr; 3] = [
        Ipv4Addr::new(169, 254, 169, 254),
        Ipv4Addr::new(100, 100, 100, 200),
        Ipv4Addr::new(168, 63, 129, 16),
    ];
    let [a, b, ..] = ip.octets();
    if METADATA.contains(&ip) {
        Class::Metadata
    } else if a == 0 {
        Class::Unspecified
    } else if ip.is_link_local() {
        Class::LinkLocal
    } else if ip.is_multicast() || ip.is_broadcast() {
        Class::Multicast
    } else if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Class::Private
    } else {
        Class::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> Class {
    let metadata: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    let first = ip.segments()[0];
    if ip == metadata {
        Class::Metadata
    } else if ip.is_unspecified() {
        Class::Unspecified
    } else if first & 0xffc0 == 0xfe80 {
        Class::LinkLocal
    } else if ip.is_multicast() {
        Class::Multicast
    } else if ip.is_loopback() {
        Class::Loopback
    } else if first & 0xfe00 == 0xfc00 {
        Class::Private
    } else {
        Class::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, policy: UrlPolicy) -> Result<(), String> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(check_base_url(url, &policy))
    }

    fn ok(url: &str) {
        assert_eq!(check(url, UrlPolicy::default()), Ok(()), "{url}");
    }

    fn refused(url: &str, policy: UrlPolicy, needle: &str) {
        let err = check(url, policy).expect_err(url);
        assert!(err.contains(needle), "{url}: {err}");
    }

    #[test]
    fn public_addresses_pass() {
        ok("https://8.8.8.8/v1");
        ok("http://[2001:4860:4860::8888]:8080/v1");
    }

    #[test]
    fn loopback_is_allowed_by_default() {
        ok("http://127.0.0.1:11434/v1");
        ok("http://[::1]:1234/v1");
        ok("http://localhost:11434/v1");
        let strict = UrlPolicy {
            allow_loopback: false,
            ..UrlPolicy::default()
        };
        refused("http://127.0.0.1:11434/v1", strict, "loopback");
        refused("http://localhost:11434/v1", strict, "loopback");
    }

    #[test]
    fn metadata_and_link_local_are_always_refused() {
        let lax = UrlPolicy {
            allow_private: true,
            allow_loopback: true,
        };
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/v1",
            "http://100.100.100.200/v1",
            "http://[::ffff:169.254.169.254]/v1",
        ] {
            refused(url, lax, "metadata");
        }
        refused("http://169.254.1.2/v1", lax, "link-local");
        refused("http://[fe80::1]/v1", lax, "link-local");
        refused("http://0.0.0.0:8080/v1", lax, "unspecified");
        refused("http://[::]:8080/v1", lax, "unspecified");
        refused("http://224.0.0.1/v1", lax, "multicast");
    }

    #[test]
    fn private_ranges_need_allow_private() {
        for url in [
            "http://10.0.0.5/v1",
            "http://172.16.3.4/v1",
            "http://172.31.255.255/v1",
            "http://192.168.1.10:11434/v1",
            "http://100.64.0.1/v1",
            "http://[fd12:3456::1]/v1",
            "http://[fc00::1]/v1",
        ] {
            refused(url, UrlPolicy::default(), "private");
            let lax = UrlPolicy {
                allow_private: true,
                ..UrlPolicy::default()
            };
            assert_eq!(check(url, lax), Ok(()), "{url}");
        }
        // Just outside the ranges.
        ok("http://172.32.0.1/v1");
        ok("http://100.128.0.1/v1");
    }

    #[test]
    fn scheme_and_shape() {
        refused(
            "ftp://example.com/v1",
            UrlPolicy::default(),
            "http or https",
        );
        refused("file:///etc/passwd", UrlPolicy::default(), "http or https");
        refused("not a url", UrlPolicy::default(), "not a valid URL");
        refused(
            "https://user:pw@8.8.8.8/v1",
            UrlPolicy::default(),
            "credentials",
        );
    }
}

//! The client address behind reverse proxies. By default it is the TCP peer and forwarding
//! headers are ignored (a client could otherwise name any address and dodge the failed-login
//! limit per address). With `trusted_proxies` configured (addresses or CIDR ranges of the
//! proxies in front of Querent), a request whose peer is one of them is attributed to the
//! address its `X-Forwarded-For` names: read from the right, the first address that is not
//! a trusted proxy (each proxy appends the address it received the request from, so only
//! the entries the trusted proxies wrote are believed).

use std::net::IpAddr;

/// Addresses and ranges of the reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses `10.0.0.1`, `10.0.0.0/8`, `::1` or `fd00::/8` entries; the error names the
    /// entry that is neither.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                let (addr, bits) = match e.split_once('/') {
                    Some((a, b)) => (a, Some(b)),
                    None => (e, None),
                };
                let addr: IpAddr = addr.parse().map_err(|_| {
                    format!("trusted_proxies: `{e}` is not an IP address or CIDR range")
                })?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let bits = match bits {
                    Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| {
                        format!("trusted_proxies: `{e}` has a prefix length outside 0–{max}")
                    })?,
                    None => max,
                };
                Ok((addr, bits))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| match (canonical(*net), ip) {
                (IpAddr::V4(n), IpAddr::V4(a)) => {
                    prefix(u32::from(n).into(), u32::from(a).into(), 32, *bits)
                }
                (IpAddr::V6(n), IpAddr::V6(a)) => prefix(u128::from(n), u128::from(a), 128, *bits),
                _ => false,
            })
    }

    /// The client address of a request from `peer` with this `X-Forwarded-For` value.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for entry in header.rsplit(',') {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                // Garbage in the chain: believe nothing further left.
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether the first `bits` of `a` and `b`, numbers of `width` bits, agree.
fn prefix(a: u128, b: u128, width: u32, bits: u8) -> bool {
    let bits = u32::from(bits);
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", "::1"]).unwrap();
        assert!(t.contains(ip("10.1.2.3")) && t.contains(ip("::ffff:10.9.9.9")));
        assert!(!t.contains(ip("11.0.0.1")) && !t.contains(ip("::2")));
        // From a proxy: the first untrusted address from the right.
        assert_eq!(
            t.client(ip("10.0.0.5"), Some("203.0.113.7, 198.51.100.2, 10.0.0.9")),
            ip("198.51.100.2")
        );
        // Not from a proxy: the header is ignored.
        assert_eq!(
            t.client(ip("198.51.100.9"), Some("203.0.113.7")),
            ip("198.51.100.9")
        );
        // No header, or garbage: the peer (or the last address believed).
        assert_eq!(t.client(ip("10.0.0.5"), None), ip("10.0.0.5"));
        assert_eq!(t.client(ip("10.0.0.5"), Some("nonsense")), ip("10.0.0.5"));
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.5"), Some("203.0.113.7")),
            ip("10.0.0.5")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local"]).is_err());
    }
}

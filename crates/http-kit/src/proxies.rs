//! The client address behind load balancers. Spin reports the TCP peer (`spin-client-addr`);
//! behind a balancer that is the balancer for every client, so per-client limits would lock
//! everybody together. `X-Forwarded-For` names the real client, but anyone can send it, so it
//! is believed only from peers the operator lists as trusted proxies (`trusted_proxies`:
//! addresses or CIDRs, comma-separated; empty trusts nobody).

use std::net::IpAddr;

/// One trusted address or network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
            None => (text, None),
        };
        let base: IpAddr = address.parse().ok()?;
        let bits = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(Self { base, prefix })
    }

    fn contains(self, ip: IpAddr) -> bool {
        let keep = |bits: u32, width: u32| -> u128 {
            if bits == 0 {
                0
            } else {
                u128::MAX << (width - bits)
            }
        };
        match (self.base, ip) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                let mask = keep(self.prefix.into(), 32);
                (u128::from(u32::from(base)) & mask) == (u128::from(u32::from(ip)) & mask)
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                let mask = keep(self.prefix.into(), 128);
                (u128::from(base) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

/// The operator's trusted proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8, 192.168.1.7, ::1`; an entry that is neither an address nor a CIDR
    /// is an error naming it (a typo must not silently trust nobody or everybody).
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                Network::parse(entry).ok_or_else(|| {
                    format!("trusted_proxies: {entry:?} is not an IP address or CIDR")
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: &str) -> bool {
        ip.parse::<IpAddr>()
            .is_ok_and(|ip| self.0.iter().any(|network| network.contains(ip)))
    }

    /// The client's address: `peer` itself unless it is a trusted proxy; then the right-most
    /// `X-Forwarded-For` entry that is not one (entries left of it were written by whoever
    /// sent the request and prove nothing), or `peer` when every entry is trusted.
    pub fn client_ip<'a>(&self, peer: &'a str, forwarded_for: Option<&'a str>) -> &'a str {
        if !self.trusts(peer) {
            return peer;
        }
        forwarded_for
            .into_iter()
            .flat_map(|header| header.rsplit(','))
            .map(str::trim)
            .find(|hop| !self.trusts(hop))
            .filter(|hop| hop.parse::<IpAddr>().is_ok())
            .unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(
            proxies("").client_ip("10.0.0.5", Some("203.0.113.7")),
            "10.0.0.5"
        );
    }

    #[test]
    fn a_trusted_peer_is_believed_for_the_right_most_untrusted_hop() {
        let trusted = proxies("10.0.0.0/8, 2001:db8::/32");
        assert_eq!(
            trusted.client_ip("10.0.0.5", Some("198.51.100.1, 203.0.113.7, 10.1.2.3")),
            "203.0.113.7",
            "the spoofable left part is ignored"
        );
        assert_eq!(
            trusted.client_ip("2001:db8::1", Some("2001:db9::9")),
            "2001:db9::9"
        );
        assert_eq!(trusted.client_ip("10.0.0.5", None), "10.0.0.5");
        assert_eq!(trusted.client_ip("10.0.0.5", Some("10.9.9.9")), "10.0.0.5");
    }

    #[test]
    fn an_untrusted_peer_is_the_client_even_when_it_forwards() {
        assert_eq!(
            proxies("10.0.0.0/8").client_ip("192.0.2.1", Some("203.0.113.7")),
            "192.0.2.1"
        );
    }

    #[test]
    fn a_garbage_hop_is_not_a_client_address() {
        assert_eq!(
            proxies("127.0.0.1").client_ip("127.0.0.1", Some("not-an-ip")),
            "127.0.0.1"
        );
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        let err = TrustedProxies::parse("10.0.0.1, proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert_eq!(
            TrustedProxies::parse(" , ").unwrap(),
            TrustedProxies::default()
        );
        assert!(proxies("0.0.0.0/0").trusts("8.8.8.8"));
    }
}

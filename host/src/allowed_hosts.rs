//! Spin-compatible `allowed_outbound_hosts` policy: parsing entries and checking outbound URLs.

use std::net::IpAddr;

use ipnet::IpNet;
use thiserror::Error;
use url::Host;

/// Hosts `<component-id>.spin.internal` address other components in-process.
pub const SERVICE_CHAINING_DOMAIN: &str = "spin.internal";
const SERVICE_CHAINING_SUFFIX: &str = ".spin.internal";

/// An `allowed_outbound_hosts` entry that cannot be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid allowed_outbound_hosts entry {entry:?}: {reason}")]
pub struct AllowedHostsError {
    pub entry: String,
    pub reason: String,
}

/// The parsed `allowed_outbound_hosts` of one component. Empty means no outbound
/// network access at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
}

/// One entry: `<scheme>://<host>[:<port>]`, each part possibly a wildcard.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    original: String,
    scheme: SchemeRule,
    host: HostRule,
    port: PortRule,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SchemeRule {
    Any,
    /// Compared verbatim with the URL's (already lowercase) scheme, as Spin does, so an
    /// upper-case entry scheme never matches.
    Exact(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostRule {
    Any,
    /// `*.example.com`, stored as `.example.com`; the bare domain itself is not covered.
    Subdomain(String),
    /// `self` or `self.alt`: only relative / self requests, never a real host.
    SelfOrigin,
    Literal(Host),
    Cidr(IpNet),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PortRule {
    Any,
    Single(u16),
    /// `start..end`, end excluded (Spin uses a Rust range).
    Range(u16, u16),
}

impl AllowedHosts {
    /// Parse a component's entries AFTER variable templates were resolved. Invalid
    /// entries are an error naming the entry and why.
    ///
    /// Every entry is treated as a literal, so an empty entry is an error. Spin skips a
    /// *templated* entry that resolves to nothing; callers resolving templates should
    /// drop those first with [`is_skipped_template_result`].
    ///
    /// `*.spin.internal` is kept as a subdomain wildcard here; use [`Self::parse_for_app`]
    /// to restrict it to the app's components like Spin does.
    pub fn parse(entries: &[String]) -> Result<AllowedHosts, AllowedHostsError> {
        // Spin refuses the legacy allow-all spelling only when it is the sole entry.
        if let [only] = entries
            && only == "insecure:allow-all"
        {
            return Err(AllowedHostsError {
                entry: only.clone(),
                reason: "'insecure:allow-all' is no longer supported; use '*://*:*' to allow all outbound traffic".to_string(),
            });
        }
        let entries = entries
            .iter()
            .map(|e| parse_entry(e))
            .collect::<Result<_, _>>()?;
        Ok(AllowedHosts { entries })
    }

    /// Like [`Self::parse`], then replaces each `*.spin.internal` entry with one
    /// `<id>.spin.internal` entry per app component, as Spin does. Chaining to a name
    /// that is not a component of the app is then denied by policy, not just unroutable.
    pub fn parse_for_app(
        entries: &[String],
        component_ids: &[String],
    ) -> Result<AllowedHosts, AllowedHostsError> {
        let parsed = Self::parse(entries)?;
        let mut expanded = Vec::with_capacity(parsed.entries.len());
        for entry in parsed.entries {
            match &entry.host {
                HostRule::Subdomain(suffix) if suffix == SERVICE_CHAINING_SUFFIX => {
                    expanded.extend(component_ids.iter().map(|id| Entry {
                        host: HostRule::Literal(Host::Domain(format!(
                            "{id}{SERVICE_CHAINING_SUFFIX}"
                        ))),
                        ..entry.clone()
                    }));
                }
                _ => expanded.push(entry),
            }
        }
        Ok(AllowedHosts { entries: expanded })
    }

    pub fn none() -> AllowedHosts {
        AllowedHosts::default()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Is an outbound request to this URL allowed? Used for http/https (scheme+host+port
    /// from the URL, default port from scheme) and redis/rediss addresses.
    pub fn allows(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        // Re-parse as a special-scheme host so that opaque hosts of non-special schemes
        // (redis://, postgres://) are compared lowercased and IP-aware, like Spin does.
        let Ok(host) = Host::parse(host) else {
            return false;
        };
        // `Url::port` is None for a scheme's own default port (http :80), so the
        // scheme's well-known port stands in; schemes without one only pass `:*`.
        let port = url.port().or_else(|| well_known_port(url.scheme()));
        self.entries
            .iter()
            .any(|e| e.scheme.allows(url.scheme()) && e.host.allows(&host) && e.port.allows(port))
    }

    /// Are relative / self.alt requests allowed ("http://self", "https://self", or
    /// "...://self.alt")? Like Spin, `*` as host also counts, any http/https-capable
    /// scheme qualifies, and the port is ignored.
    pub fn allows_self(&self) -> bool {
        self.entries.iter().any(|e| {
            (e.scheme.allows("http") || e.scheme.allows("https"))
                && matches!(e.host, HostRule::Any | HostRule::SelfOrigin)
        })
    }

    /// The entries as written, in order.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.original.as_str())
    }
}

/// The default port Spin assumes for a scheme when an entry or URL gives none.
/// Note that `rediss` has none.
pub fn well_known_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" => 80,
        "https" => 443,
        "redis" => 6379,
        "postgres" => 5432,
        "mysql" => 3306,
        "mqtt" => 1883,
        _ => return None,
    })
}

/// True when a templated entry resolved to something Spin silently ignores (an empty
/// variable making an endpoint optional): `""`, `"http://"` or `"https://"`.
pub fn is_skipped_template_result(resolved: &str) -> bool {
    matches!(resolved, "" | "http://" | "https://")
}

/// The component a service-chaining host (`<id>.spin.internal[:port]`) names, if it is
/// one. Nested names such as `a.b.spin.internal` are not chaining hosts.
pub fn service_chaining_target(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (first, rest) = host.split_once('.')?;
    (rest == SERVICE_CHAINING_DOMAIN).then_some(first)
}

/// The `user:password` part of an entry's authority, if it has one.
fn userinfo(entry: &str) -> Option<&str> {
    let (_, rest) = entry.split_once("://")?;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    authority.rfind('@').map(|at| &authority[..at])
}

/// An entry as it may appear in an error message: `redis://:secret@host` → `redis://***@host`.
/// Entries are often templates over secret variables; start-up errors end up in logs.
fn redact_credentials(entry: &str) -> String {
    match userinfo(entry) {
        Some(secret) => entry.replacen(secret, "***", 1),
        None => entry.to_owned(),
    }
}

fn parse_entry(original: &str) -> Result<Entry, AllowedHostsError> {
    let fail = |reason: String| AllowedHostsError {
        entry: redact_credentials(original),
        reason: match userinfo(original) {
            Some(secret) => reason.replace(secret, "***"),
            None => reason,
        },
    };
    let text = original.trim();
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(fail(match text {
            "" | "*" | ":" | "?" => "entries have the form <scheme>://<host>[:<port>], where any part may be '*' ('*://*:*' allows all outbound traffic)".to_string(),
            _ => format!("a scheme is required, e.g. \"https://{text}\" or \"*://{text}\""),
        }));
    };

    let (host, port) = split_host_port(rest).map_err(&fail)?;
    // Same order as Spin, so the same part is blamed when several are wrong.
    let port =
        PortRule::parse(port, scheme).map_err(|why| fail(format!("port {port:?}: {why}")))?;
    let scheme =
        SchemeRule::parse(scheme).map_err(|why| fail(format!("scheme {scheme:?}: {why}")))?;
    let host = HostRule::parse(host).map_err(|why| fail(format!("host {host:?}: {why}")))?;
    Ok(Entry {
        original: original.to_string(),
        scheme,
        host,
        port,
    })
}

/// Splits `host[:port][/]`. The last `:` separates the port unless everything is a
/// valid host on its own, which keeps IPv6 literals and CIDRs (`[::1]`, `ff00::/8`) whole.
fn split_host_port(rest: &str) -> Result<(&str, &str), String> {
    match rest.rsplit_once(':') {
        None => Ok((rest, "")),
        Some((host, "")) => Ok((host, "")),
        Some(_) if HostRule::parse(rest).is_ok() => Ok((rest, "")),
        Some((host, tail)) => match tail.split_once('/') {
            Some((_, path)) if !path.is_empty() => Err("a path is not allowed".to_string()),
            Some((port, _)) => Ok((host, port)),
            None => Ok((host, tail)),
        },
    }
}

impl SchemeRule {
    fn parse(scheme: &str) -> Result<Self, String> {
        if scheme == "*" {
            return Ok(Self::Any);
        }
        if scheme.starts_with('{') {
            return Err("scheme lists are not supported".to_string());
        }
        if !scheme.chars().all(char::is_alphabetic) {
            return Err("only letters are allowed".to_string());
        }
        Ok(Self::Exact(scheme.to_string()))
    }

    fn allows(&self, scheme: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(s) => s == scheme,
        }
    }
}

impl HostRule {
    fn parse(host: &str) -> Result<Self, String> {
        let host = host.trim();
        match host {
            "*" => return Ok(Self::Any),
            "self" | "self.alt" => return Ok(Self::SelfOrigin),
            _ => {}
        }
        if host.starts_with('{') {
            return Err("host lists are not supported".to_string());
        }
        if let Some(net) = parse_cidr(host) {
            return Ok(Self::Cidr(net));
        }
        // A single trailing slash is tolerated as an empty path; anything more is a path.
        let host = host.strip_suffix('/').unwrap_or(host);
        if host.contains('/') {
            return Err("a path is not allowed".to_string());
        }
        if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') {
                return Err("'*' is only allowed as the whole host or a leading '*.'".to_string());
            }
            return match Host::parse(domain) {
                Ok(Host::Domain(d)) => Ok(Self::Subdomain(format!(".{d}"))),
                Ok(_) => Err(
                    "a '*.' wildcard must be followed by a domain name, not an IP address"
                        .to_string(),
                ),
                Err(e) => Err(e.to_string()),
            };
        }
        if host.contains('*') {
            return Err("'*' is only allowed as the whole host or a leading '*.'".to_string());
        }
        Host::parse(host)
            .map(Self::Literal)
            .map_err(|e| e.to_string())
    }

    fn allows(&self, host: &Host) -> bool {
        match (self, host) {
            (Self::Any, _) => true,
            (Self::Subdomain(suffix), Host::Domain(d)) => d.ends_with(suffix.as_str()),
            (Self::Literal(l), h) => l == h,
            (Self::Cidr(net), Host::Ipv4(ip)) => net.contains(&IpAddr::V4(*ip)),
            (Self::Cidr(net), Host::Ipv6(ip)) => net.contains(&IpAddr::V6(*ip)),
            // Self requests are never real hosts; see `allows_self`.
            (Self::SelfOrigin, _) | (Self::Subdomain(_), _) | (Self::Cidr(_), Host::Domain(_)) => {
                false
            }
        }
    }
}

/// `addr/len` with a bare (unbracketed) IP address. Host bits are cleared, so
/// `127.0.0.1/24` means `127.0.0.0/24`. A bare address without `/len` is not a CIDR.
fn parse_cidr(text: &str) -> Option<IpNet> {
    let (addr, len) = text.split_once('/')?;
    if addr.is_empty() || len.is_empty() {
        return None;
    }
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    IpNet::new(addr, len).ok().map(|net| net.trunc())
}

impl PortRule {
    fn parse(port: &str, scheme: &str) -> Result<Self, String> {
        if port.is_empty() {
            return well_known_port(scheme).map(Self::Single).ok_or_else(|| {
                format!("no port given and scheme {scheme:?} has no default port; add one, e.g. \":{{port}}\" or \":*\"")
            });
        }
        if port == "*" {
            return Ok(Self::Any);
        }
        if port.starts_with('{') {
            return Err("port lists are not supported".to_string());
        }
        if let Some((start, end)) = port.split_once("..") {
            let bound = |s: &str| {
                s.parse::<u16>()
                    .map_err(|_| format!("port range bound {s:?} is not a port number"))
            };
            return Ok(Self::Range(bound(start)?, bound(end)?));
        }
        port.parse().map(Self::Single).map_err(|_| {
            if port.contains('-') {
                "not a port number; ranges are written start..end (end excluded)".to_string()
            } else {
                "not a port number".to_string()
            }
        })
    }

    fn allows(&self, port: Option<u16>) -> bool {
        match (self, port) {
            (Self::Any, _) => true,
            (_, None) => false,
            (Self::Single(p), Some(port)) => *p == port,
            (Self::Range(start, end), Some(port)) => (*start..*end).contains(&port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::parse(&entries).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(entry: &str) -> AllowedHostsError {
        match AllowedHosts::parse(&[entry.to_string()]) {
            Ok(parsed) => panic!("{entry:?} should be rejected, got {parsed:?}"),
            Err(e) => e,
        }
    }

    fn allows(h: &AllowedHosts, url: &str) -> bool {
        h.allows(&url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}")))
    }

    #[track_caller]
    fn check(h: &AllowedHosts, allowed: &[&str], denied: &[&str]) {
        for url in allowed {
            assert!(allows(h, url), "{url} should be allowed by {h:?}");
        }
        for url in denied {
            assert!(!allows(h, url), "{url} should be denied by {h:?}");
        }
    }

    #[test]
    fn no_entries_deny_everything() {
        let h = AllowedHosts::none();
        assert!(h.is_empty());
        check(&h, &[], &["http://example.com", "https://localhost:3000"]);
        assert!(!h.allows_self());
        assert_eq!(AllowedHosts::parse(&[]).unwrap(), h);
    }

    #[test]
    fn exact_host_needs_same_scheme_host_and_default_port() {
        let h = hosts(&["https://api.example.com"]);
        check(
            &h,
            &[
                "https://api.example.com",
                "https://api.example.com:443/v1?q=1",
                "https://API.Example.com/",
            ],
            &[
                "http://api.example.com",
                "https://api.example.com:8443",
                "https://other.example.com",
                "https://example.com",
                "https://sub.api.example.com",
            ],
        );
    }

    #[test]
    fn explicit_port_replaces_default_port() {
        let h = hosts(&["http://localhost:3000"]);
        check(
            &h,
            &["http://localhost:3000/x"],
            &["http://localhost", "http://localhost:3001"],
        );
    }

    #[test]
    fn trailing_slash_in_entry_is_allowed() {
        let h = hosts(&["https://my.api.com/", "http://[::1]:8080/"]);
        check(&h, &["https://my.api.com/", "http://[::1]:8080/"], &[]);
    }

    #[test]
    fn entry_without_scheme_is_rejected_with_a_hint() {
        let e = parse_err("api.example.com");
        assert_eq!(e.entry, "api.example.com");
        assert!(e.reason.contains("scheme"), "{e}");
        assert!(e.reason.contains("https://api.example.com"), "{e}");
        assert!(parse_err("example.com:8080").reason.contains("scheme"));
    }

    #[test]
    fn bare_wildcards_are_rejected_with_the_allow_all_form() {
        for bad in ["*", "", ":", "?"] {
            assert!(parse_err(bad).reason.contains("*://*:*"), "{bad:?}");
        }
    }

    #[test]
    fn insecure_allow_all_is_rejected() {
        assert!(parse_err("insecure:allow-all").reason.contains("*://*:*"));
    }

    #[test]
    fn any_scheme_with_fixed_host_and_port() {
        let h = hosts(&["*://db.internal:5432"]);
        check(
            &h,
            &[
                "postgres://db.internal:5432",
                "postgres://db.internal",
                "http://db.internal:5432/x",
            ],
            &["mysql://db.internal", "postgres://db.internal:5433"],
        );
    }

    #[test]
    fn subdomain_wildcard_covers_any_depth_but_not_the_domain() {
        let h = hosts(&["https://*.example.com"]);
        check(
            &h,
            &["https://a.example.com", "https://a.b.example.com/x"],
            &[
                "https://example.com",
                "https://myexample.com",
                "https://a.example.org",
                "http://a.example.com",
                "https://a.example.com:8443",
            ],
        );
    }

    #[test]
    fn subdomain_wildcard_is_case_insensitive() {
        let h = hosts(&["http://*.Example.COM"]);
        check(&h, &["http://foo.example.com"], &["http://example.com"]);
    }

    #[test]
    fn wildcards_only_as_whole_host_or_leading_label() {
        for bad in [
            "http://api.*.com",
            "http://*api.example.com",
            "http://*.*.example.com",
            "http://*.",
            "http://*.127.0.0.1",
            "http://*.[::1]",
        ] {
            parse_err(bad);
        }
    }

    #[test]
    fn everything_wildcard_allows_all_and_self() {
        let h = hosts(&["*://*:*"]);
        check(
            &h,
            &[
                "http://example.com",
                "https://1.2.3.4:9999",
                "redis://cache:6380",
                "mqtt://broker",
            ],
            &[],
        );
        assert!(h.allows_self());
    }

    #[test]
    fn any_host_any_port_with_fixed_scheme() {
        let h = hosts(&["https://*:*"]);
        check(
            &h,
            &["https://example.com", "https://10.1.2.3:8443"],
            &["http://example.com"],
        );
        assert!(h.allows_self());
    }

    #[test]
    fn any_host_without_port_uses_default_port() {
        let h = hosts(&["http://*"]);
        check(
            &h,
            &["http://anything.test"],
            &["http://anything.test:8080"],
        );
    }

    #[test]
    fn ipv4_cidr_matches_addresses_inside_only() {
        let h = hosts(&["http://10.0.0.0/8"]);
        check(
            &h,
            &["http://10.0.0.1", "http://10.255.255.255/x"],
            &[
                "http://11.0.0.1",
                "http://10.0.0.1:8080",
                "https://10.0.0.1",
                "http://ten.example",
            ],
        );
    }

    #[test]
    fn cidr_host_bits_are_ignored_and_port_follows() {
        let h = hosts(&["*://127.0.0.1/24:63551"]);
        check(
            &h,
            &["tcp://127.0.0.200:63551", "http://127.0.0.9:63551"],
            &["tcp://127.0.1.1:63551", "http://127.0.0.9"],
        );
    }

    #[test]
    fn ipv6_cidr_and_literals() {
        let h = hosts(&[
            "http://2001:db8::/32",
            "http://[::1]",
            "https://ff00::/8:443",
        ]);
        check(
            &h,
            &[
                "http://[2001:db8::1]",
                "http://[2001:db8:abcd::1]/x",
                "http://[::1]:80",
                "https://[ff02::1]",
            ],
            &["http://[2001:db9::1]", "http://[::2]", "http://[::1]:81"],
        );
    }

    #[test]
    fn ip_literal_is_exact() {
        let h = hosts(&["http://127.0.0.1:8080"]);
        check(
            &h,
            &["http://127.0.0.1:8080"],
            &["http://127.0.0.2:8080", "http://localhost:8080"],
        );
    }

    #[test]
    fn port_range_is_end_exclusive_and_uses_dots() {
        let h = hosts(&["http://localhost:8000..8010"]);
        check(
            &h,
            &["http://localhost:8000", "http://localhost:8009"],
            &[
                "http://localhost:7999",
                "http://localhost:8010",
                "http://localhost",
            ],
        );
    }

    #[test]
    fn dash_port_range_is_rejected_with_a_hint() {
        let e = parse_err("http://host:8000-8010");
        assert!(e.reason.contains(".."), "{e}");
    }

    #[test]
    fn bad_ports_are_rejected() {
        for bad in [
            "http://example.com:notaport",
            "http://example.com:99999",
            "http://example.com:8080..70000",
            "http://*.example.com:8080..",
            "http://example.com:{80,443}",
        ] {
            assert!(parse_err(bad).reason.starts_with("port"), "{bad}");
        }
    }

    #[test]
    fn default_ports_per_scheme() {
        for (scheme, port) in [
            ("http", 80),
            ("https", 443),
            ("redis", 6379),
            ("postgres", 5432),
            ("mysql", 3306),
            ("mqtt", 1883),
        ] {
            let h = hosts(&[&format!("{scheme}://db.test")]);
            check(
                &h,
                &[&format!("{scheme}://db.test:{port}")],
                &[&format!("{scheme}://db.test:{}", port + 1)],
            );
            // A URL without a port gets the same default.
            assert!(allows(&h, &format!("{scheme}://db.test")), "{scheme}");
        }
    }

    #[test]
    fn schemes_without_default_port_need_an_explicit_port() {
        assert!(
            parse_err("rediss://cache.test")
                .reason
                .contains("default port")
        );
        assert!(
            parse_err("tcp://cache.test")
                .reason
                .contains("default port")
        );
        let h = hosts(&["rediss://cache.test:6380"]);
        check(
            &h,
            &["rediss://cache.test:6380"],
            &["rediss://cache.test", "redis://cache.test:6380"],
        );
        // A port-less rediss URL can only pass an entry with `:*`.
        let any = hosts(&["rediss://cache.test:*"]);
        check(&any, &["rediss://cache.test"], &[]);
    }

    #[test]
    fn redis_hosts_compare_case_insensitively() {
        let h = hosts(&["redis://Cache.Test"]);
        check(
            &h,
            &["redis://cache.test", "redis://CACHE.test:6379/0"],
            &["redis://cache.test:6380"],
        );
    }

    #[test]
    fn paths_are_rejected() {
        for bad in [
            "http://example.com/api",
            "http://example.com:8080/p",
            "http://*.example.com/p",
            "http://127.0.0.0/24/p",
            "http://example.com//",
            "http://self//",
        ] {
            assert!(parse_err(bad).reason.contains("path"), "{bad}");
        }
    }

    #[test]
    fn malformed_hosts_are_rejected() {
        for bad in [
            "http://exa[mple.com",
            "http://example%GG.com",
            "http://[::1",
            "http://[::1]junk",
            "http://example.com:80:90",
            "http://{a,b}",
            "h2c://example.com:80",
        ] {
            parse_err(bad);
        }
    }

    #[test]
    fn scheme_must_match_exactly() {
        let h = hosts(&["HTTP://example.com:80"]);
        check(&h, &[], &["http://example.com"]);
        // Without a port it does not even parse: "HTTP" has no well-known port.
        parse_err("HTTP://example.com");
    }

    #[test]
    fn self_entries_enable_self_requests_only() {
        for entry in [
            "http://self",
            "https://self",
            "http://self.alt",
            "https://self.alt:8080",
            "*://self:*",
        ] {
            let h = hosts(&[entry]);
            assert!(h.allows_self(), "{entry}");
            // `self` is not a real host name.
            check(&h, &[], &["http://self", "http://self.alt", "https://self"]);
        }
    }

    #[test]
    fn any_scheme_needs_an_explicit_port() {
        assert!(parse_err("*://self").reason.contains("default port"));
        assert!(parse_err("*://example.com").reason.contains("default port"));
    }

    #[test]
    fn self_needs_an_http_capable_scheme() {
        assert!(!hosts(&["redis://self"]).allows_self());
        assert!(!hosts(&["redis://*"]).allows_self());
        assert!(!hosts(&["https://api.example.com"]).allows_self());
    }

    #[test]
    fn specific_chaining_host_allows_only_that_component() {
        let h = hosts(&["http://products.spin.internal"]);
        check(
            &h,
            &["http://products.spin.internal/api?x=1"],
            &[
                "http://orders.spin.internal",
                "https://products.spin.internal",
                "http://products.spin.internal:8080",
            ],
        );
        assert!(!h.allows_self());
    }

    #[test]
    fn wildcard_chaining_host_allows_any_component() {
        let h = hosts(&["http://*.spin.internal"]);
        check(
            &h,
            &[
                "http://products.spin.internal",
                "http://orders.spin.internal/x",
            ],
            &["https://products.spin.internal", "http://spin.internal"],
        );
    }

    #[test]
    fn wildcard_chaining_host_expands_to_app_components() {
        let entries = vec![
            "postgres://localhost:5656".to_string(),
            "http://*.spin.internal".to_string(),
        ];
        let ids = vec!["first".to_string(), "second".to_string()];
        let h = AllowedHosts::parse_for_app(&entries, &ids).unwrap();
        check(
            &h,
            &[
                "http://first.spin.internal",
                "http://second.spin.internal/x",
                "postgres://localhost:5656",
            ],
            &["http://third.spin.internal", "http://a.first.spin.internal"],
        );
        assert_eq!(h.entries().count(), 3);
    }

    #[test]
    fn any_entry_may_allow() {
        let h = hosts(&["https://a.test", "http://b.test:8080"]);
        check(
            &h,
            &["https://a.test", "http://b.test:8080"],
            &["http://a.test", "https://b.test:8080"],
        );
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let h = hosts(&["  https://a.test  "]);
        check(&h, &["https://a.test"], &[]);
        assert_eq!(h.entries().next(), Some("  https://a.test  "));
    }

    #[test]
    fn error_names_entry_and_part() {
        let e = parse_err("https://example.com:abc");
        assert_eq!(e.entry, "https://example.com:abc");
        let msg = e.to_string();
        assert!(msg.contains("\"https://example.com:abc\""), "{msg}");
        assert!(msg.contains("port \"abc\""), "{msg}");
    }

    #[test]
    fn urls_without_host_are_denied() {
        let h = hosts(&["*://*:*"]);
        assert!(!allows(&h, "unix:/run/sock"));
    }

    #[test]
    fn empty_template_results_are_recognised() {
        for skipped in ["", "http://", "https://"] {
            assert!(is_skipped_template_result(skipped));
        }
        assert!(!is_skipped_template_result("redis://"));
        assert!(!is_skipped_template_result("https://a"));
    }

    #[test]
    fn service_chaining_target_takes_one_label() {
        assert_eq!(
            service_chaining_target("products.spin.internal"),
            Some("products")
        );
        assert_eq!(
            service_chaining_target("products.spin.internal:80"),
            Some("products")
        );
        assert_eq!(service_chaining_target("a.b.spin.internal"), None);
        assert_eq!(service_chaining_target("spin.internal"), None);
        assert_eq!(service_chaining_target("example.com"), None);
    }

    #[test]
    fn errors_never_show_credentials_from_an_entry() {
        let err = AllowedHosts::parse(&["redis://:s3cret@bad host:6379".to_owned()]).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert_eq!(
            redact_credentials("redis://user:pw@h:1/x"),
            "redis://***@h:1/x"
        );
        assert_eq!(
            redact_credentials("https://api.example.com"),
            "https://api.example.com"
        );
    }
}

//! Working out a request's client IP address when the server may sit behind reverse proxies.
//!
//! # The rule
//!
//! The TCP peer is the only address nobody can forge. If the server is reached directly, the
//! peer *is* the client. If it is reached through a reverse proxy (a load balancer, a CDN,
//! nginx), the peer is the proxy. The proxy reports who sent it the request by adding an
//! address to the `Forwarded` header (RFC 7239) or the `X-Forwarded-For` header. Each proxy
//! adds the address it saw at the right-hand end, so the list reads from the claimed original
//! client on the left to the hop nearest to us on the right:
//!
//! ```text
//! X-Forwarded-For: <anything the client wrote>, <client, seen by proxy 1>, <proxy 1, seen by proxy 2>
//! ```
//!
//! Only the entries added by proxies we trust are true. Everything else came from the client
//! and may be made up. So:
//!
//! 1. If the peer is not a trusted proxy, the peer is the client and both headers are ignored.
//!    Anyone can send `X-Forwarded-For: 127.0.0.1`. If we believed that header from any peer,
//!    every client could choose its own address and get around per-IP rate limits and
//!    lockouts.
//! 2. If the peer is trusted, walk the list from the right (the nearest hop) to the left. The
//!    entry a trusted hop added is the address that hop received the request from. If that
//!    address is also a trusted proxy, step past it: its own entry is the next one to the
//!    left. The first address that is *not* a trusted proxy was written by a trusted proxy
//!    about a host we do not control: that is the client. Everything further left was sent by
//!    the client itself. This is why the client is the rightmost untrusted address and not the
//!    leftmost address, which many tutorials use. With the leftmost address, a client that
//!    sends `X-Forwarded-For: 1.2.3.4` would be believed.
//! 3. If every entry is trusted, the leftmost one is the client: the request came from inside
//!    our own network.
//! 4. If we reach an entry we cannot read (`for=unknown`, an obfuscated `for=_hidden`, a
//!    `Forwarded` element without `for=`, a malformed element, anything that is not an IP
//!    address), we stop. The result is the last trusted hop we passed: the hop that passed on
//!    the unreadable entry, or the peer if the unreadable entry is the rightmost one. Nothing
//!    left of an unreadable entry is vouched for.
//! 5. If there is no header, or it is empty, the client is the peer.
//!
//! If the `Forwarded` header has any list element, it is used; otherwise `X-Forwarded-For` is
//! used. If a header appears on several lines, the lines are read in order as one list.
//! IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, which is how a dual-stack socket reports an
//! IPv4 peer) are treated as their IPv4 address, and returned that way.
//!
//! # Deployment note
//!
//! Each trusted proxy must remove or overwrite any header it does not maintain itself.
//! `Forwarded` takes precedence. So if a proxy adds to `X-Forwarded-For` but passes a
//! client's own `Forwarded` header through unchanged, that client can choose its address.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// An IPv4 or IPv6 network, such as `10.0.0.0/8` or `fd00::/8`.
///
/// Parse one with [`str::parse`]:
/// - A bare address is a single-host network (`/32` or `/128`).
/// - Host bits are masked off, so `10.1.2.3/8` is `10.0.0.0/8`.
/// - An IPv4-mapped IPv6 network with a prefix of 96 or more (`::ffff:10.0.0.0/104`) is
///   stored as the IPv4 network it stands for (`10.0.0.0/8`).
///
/// An IPv6 network never contains IPv4 addresses, not even `::/0`. Use `0.0.0.0/0` for those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// The network address: host bits are zero, and it is never an IPv4-mapped IPv6 address.
    network: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// Builds a network from an address and a prefix length that is at most 32 for IPv4 or
    /// 128 for IPv6.
    fn masked(addr: IpAddr, prefix_len: u8) -> Self {
        match addr {
            IpAddr::V4(v4) => Self {
                network: IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask_v4(prefix_len))),
                prefix_len,
            },
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if prefix_len >= 96 => Self::masked(IpAddr::V4(v4), prefix_len - 96),
                _ => Self {
                    network: IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask_v6(prefix_len))),
                    prefix_len,
                },
            },
        }
    }

    /// The network address, with the host bits cleared.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length: 0 to 32 for IPv4, 0 to 128 for IPv6.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` is in this network. An IPv4-mapped IPv6 address is checked as its IPv4
    /// address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask_v4(self.prefix_len) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask_v6(self.prefix_len) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask_v4(prefix_len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix_len))
        .unwrap_or(0)
}

fn mask_v6(prefix_len: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix_len))
        .unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = InvalidCidr;

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`, for example `10.0.0.0/8`, `192.168.1.7`, `::1`
    /// or `fd00::/8`. Surrounding whitespace is not allowed.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason| InvalidCidr {
            input: s.to_owned(),
            reason,
        };
        if s.is_empty() {
            return Err(fail(Reason::Empty));
        }
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| fail(Reason::Address))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            None => max,
            Some(p) => {
                // Digits only: `u16::from_str` would also take a leading `+`.
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(fail(Reason::Prefix));
                }
                let n: u16 = p.parse().map_err(|_| fail(Reason::Prefix))?;
                match u8::try_from(n) {
                    Ok(n) if n <= max => n,
                    _ => return Err(fail(Reason::PrefixTooLong { max })),
                }
            }
        };
        Ok(Self::masked(addr, prefix_len))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

/// The error returned when a network such as `10.0.0.0/8` cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCidr {
    input: String,
    reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Empty,
    Address,
    Prefix,
    PrefixTooLong { max: u8 },
}

impl InvalidCidr {
    /// The text that could not be parsed.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for InvalidCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid network {:?}: ", self.input)?;
        match self.reason {
            Reason::Empty => f.write_str("empty; expected an IP address or ADDRESS/PREFIX"),
            Reason::Address => f.write_str(
                "expected an IP address or ADDRESS/PREFIX, such as 10.0.0.0/8 or fd00::/8",
            ),
            Reason::Prefix => f.write_str("the prefix length after '/' must be a number"),
            Reason::PrefixTooLong { max } => write!(
                f,
                "the prefix length must be at most {max} for an {} address",
                if max == 32 { "IPv4" } else { "IPv6" }
            ),
        }
    }
}

impl Error for InvalidCidr {}

/// Parses a comma-separated list of networks, such as the value of `--trusted-proxy`:
/// `"10.0.0.0/8, 192.168.1.7,::1"`. Whitespace around items is allowed, and empty items are
/// ignored, so an empty string gives an empty list.
///
/// # Errors
///
/// Returns the error for the first item that is not a valid network.
pub fn parse_list(text: &str) -> Result<Vec<Cidr>, InvalidCidr> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::parse)
        .collect()
}

/// The networks whose hosts are trusted reverse proxies. The default trusts nobody, so every
/// request's client is its TCP peer.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Trusts the hosts in `cidrs`.
    pub fn new(cidrs: Vec<Cidr>) -> Self {
        Self(cidrs)
    }

    /// Whether `ip` is a trusted proxy. An IPv4-mapped IPv6 address is checked as its IPv4
    /// address.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|cidr| cidr.contains(ip))
    }

    /// The client address of a request whose TCP peer is `peer`. See the
    /// [module documentation](self) for the rule. An IPv4-mapped IPv6 result is returned as
    /// its IPv4 address. This never panics, whatever the headers contain.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            return peer;
        }
        // `client` is always the last hop we have reason to believe.
        let mut client = peer;
        for hop in forwarded_chain(headers).into_iter().rev() {
            let Some(ip) = hop else {
                break;
            };
            client = ip.to_canonical();
            if !self.is_trusted(client) {
                break;
            }
        }
        client
    }
}

/// One entry of the chain of addresses: `None` if it cannot be read.
type Hop = Option<IpAddr>;

/// The chain of addresses added by proxies, leftmost (the claimed original client) first. Uses
/// `Forwarded` if it has any element, and `X-Forwarded-For` otherwise.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Hop> {
    let mut chain = Vec::new();
    for line in headers.get_all("forwarded") {
        forwarded_line(line.as_bytes(), &mut chain);
    }
    if chain.is_empty() {
        for line in headers.get_all("x-forwarded-for") {
            x_forwarded_for_line(line.as_bytes(), &mut chain);
        }
    }
    chain
}

/// Adds the elements of one `X-Forwarded-For` line to `chain`. Empty items are skipped.
fn x_forwarded_for_line(line: &[u8], chain: &mut Vec<Hop>) {
    for item in line.split(|&b| b == b',') {
        let item = trim_ows(item);
        if !item.is_empty() {
            chain.push(node_address(item));
        }
    }
}

/// Adds the elements of one `Forwarded` line to `chain`, one per element. Empty elements are
/// skipped.
fn forwarded_line(line: &[u8], chain: &mut Vec<Hop>) {
    // Commas inside quoted strings do not separate elements. If a quote is left open, the
    // client probably opened it, to make the elements that our proxies appended after it part of
    // a quoted string. In that case we split at every comma instead. Addresses never contain
    // commas, so the proxies' elements are still read correctly.
    let elements =
        split_unquoted(line, b',').unwrap_or_else(|| line.split(|&b| b == b',').collect());
    for element in elements {
        let element = trim_ows(element);
        if !element.is_empty() {
            chain.push(forwarded_element(element));
        }
    }
}

/// The address in the `for=` parameter of one `forwarded-element`, such as
/// `for=192.0.2.60;proto=http;by=203.0.113.43`. Returns `None` if the element is malformed,
/// has no `for=` parameter or more than one, or its value is not an IP address.
fn forwarded_element(element: &[u8]) -> Hop {
    let mut found: Option<Hop> = None;
    for pair in split_unquoted(element, b';')? {
        let pair = trim_ows(pair);
        if pair.is_empty() {
            continue;
        }
        let eq = pair.iter().position(|&b| b == b'=')?;
        let name = trim_ows(&pair[..eq]);
        let value = unquote(trim_ows(&pair[eq + 1..]))?;
        if name.is_empty() || !name.iter().copied().all(is_tchar) {
            return None;
        }
        if name.eq_ignore_ascii_case(b"for") {
            if found.is_some() {
                return None;
            }
            found = Some(node_address(&value));
        }
    }
    found.flatten()
}

/// Splits `s` at each `sep` that is outside a quoted string (where `\` escapes the next
/// byte). Returns `None` if a quoted string is not closed.
fn split_unquoted(s: &[u8], sep: u8) -> Option<Vec<&[u8]>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, &b) in s.iter().enumerate() {
        if quoted {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = false;
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == sep {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    if quoted {
        return None;
    }
    parts.push(&s[start..]);
    Some(parts)
}

/// The value of a parameter: the content of a quoted string, with escapes removed, or a bare
/// value taken as it is. Returns `None` for a malformed value.
fn unquote(value: &[u8]) -> Option<Cow<'_, [u8]>> {
    let Some(inner) = value.strip_prefix(b"\"") else {
        // A bare value. The RFC only allows token characters here, but we also accept
        // addresses that should have been quoted, such as `for=[::1]:80`.
        let bare = !value.iter().any(|&b| matches!(b, b'"' | b' ' | b'\t'));
        return bare.then_some(Cow::Borrowed(value));
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => out.push(*bytes.next()?),
            b'"' => return bytes.as_slice().is_empty().then_some(Cow::Owned(out)),
            _ => out.push(b),
        }
    }
    None
}

/// The IP address in a node: `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711`, or a bare `2001:db8::1` (as many proxies write it in
/// `X-Forwarded-For`). Ports can be obfuscated, as in `_abc` (RFC 7239). Returns `None` for
/// anything else, including `unknown` and obfuscated identifiers such as `_hidden`.
fn node_address(node: &[u8]) -> Option<IpAddr> {
    let node = std::str::from_utf8(node).ok()?;
    if let Some(rest) = node.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        if !after.is_empty() && !is_port(after.strip_prefix(':')?) {
            return None;
        }
        return addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    let (addr, port) = node.split_once(':')?;
    if !is_port(port) {
        return None;
    }
    addr.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// `node-port` from RFC 7239: up to five digits, or `_` followed by letters, digits, `.`, `_`
/// or `-`.
fn is_port(port: &str) -> bool {
    match port.strip_prefix('_') {
        Some(obfuscated) => {
            !obfuscated.is_empty()
                && obfuscated
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        }
        None => (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// A `tchar` from RFC 9110: a character allowed in a token, such as a parameter name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `s` without leading or trailing spaces and tabs (HTTP's optional whitespace).
fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::new(parse_list(list).unwrap())
    }

    /// Header lines in order; a name given twice becomes two lines.
    fn headers(lines: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in lines {
            map.append(name, value.parse().unwrap());
        }
        map
    }

    fn raw_headers(lines: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in lines {
            map.append(name, value.try_into().unwrap());
        }
        map
    }

    // The peer in most tests below is a load balancer at 10.0.0.1; 10.0.0.0/8 is trusted.
    const LB: &str = "10.0.0.1";

    fn client_behind_lb(lines: &[(&'static str, &str)]) -> IpAddr {
        proxies("10.0.0.0/8").client_ip(ip(LB), &headers(lines))
    }

    // ---- client_ip: trust decisions -------------------------------------------------------

    #[test]
    fn untrusted_peer_ignores_forged_headers() {
        let trusted = proxies("10.0.0.0/8");
        let peer = ip("203.0.113.50");
        let forged = headers(&[
            ("x-forwarded-for", "10.0.0.7, 1.2.3.4"),
            ("forwarded", "for=1.2.3.4"),
        ]);
        assert_eq!(trusted.client_ip(peer, &forged), peer);
        let forged = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(trusted.client_ip(peer, &forged), peer);
        let forged = headers(&[("forwarded", r#"for="[2001:db8::1]""#)]);
        assert_eq!(trusted.client_ip(peer, &forged), peer);
    }

    #[test]
    fn nothing_trusted_by_default() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=1.2.3.4")]);
        assert_eq!(none.client_ip(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        assert!(!none.is_trusted(ip("127.0.0.1")));
        assert!(!none.is_trusted(ip("::1")));
    }

    #[test]
    fn trusted_peer_without_headers_is_the_client() {
        assert_eq!(client_behind_lb(&[]), ip(LB));
        assert_eq!(client_behind_lb(&[("x-forwarded-for", "")]), ip(LB));
        assert_eq!(client_behind_lb(&[("x-forwarded-for", " , ,, ")]), ip(LB));
        assert_eq!(client_behind_lb(&[("forwarded", "")]), ip(LB));
        assert_eq!(client_behind_lb(&[("forwarded", " ,  , ")]), ip(LB));
        // Unrelated headers change nothing.
        assert_eq!(client_behind_lb(&[("x-real-ip", "1.2.3.4")]), ip(LB));
    }

    #[test]
    fn xff_skips_trusted_proxies_in_the_chain() {
        // client -> proxy2 (10.1.1.1, trusted) -> LB (peer, trusted)
        assert_eq!(
            client_behind_lb(&[("x-forwarded-for", "198.51.100.7, 10.1.1.1")]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn rightmost_untrusted_wins_over_spoofed_leftmost() {
        let only_peer = proxies("10.0.0.1");
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")]);
        assert_eq!(only_peer.client_ip(ip(LB), &h), ip("198.51.100.7"));
        // A spoofed "trusted" address on the left does not help either.
        let h = headers(&[("x-forwarded-for", "10.0.0.1, 198.51.100.7")]);
        assert_eq!(only_peer.client_ip(ip(LB), &h), ip("198.51.100.7"));
        let h = headers(&[("forwarded", "for=6.6.6.6, for=198.51.100.7")]);
        assert_eq!(only_peer.client_ip(ip(LB), &h), ip("198.51.100.7"));
    }

    #[test]
    fn all_trusted_gives_the_leftmost() {
        assert_eq!(
            client_behind_lb(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1, 10.2.2.2")]),
            ip("10.9.9.9")
        );
        assert_eq!(
            client_behind_lb(&[("forwarded", "for=10.9.9.9, for=10.1.1.1")]),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn forwarded_is_preferred_over_xff() {
        let h = &[
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"),
        ];
        assert_eq!(client_behind_lb(h), ip("192.0.2.60"));
        // Also when XFF comes first in the map.
        let h = &[
            ("forwarded", "for=192.0.2.60"),
            ("x-forwarded-for", "198.51.100.1"),
        ];
        assert_eq!(client_behind_lb(h), ip("192.0.2.60"));
    }

    #[test]
    fn empty_forwarded_falls_back_to_xff() {
        let h = &[("forwarded", ""), ("x-forwarded-for", "198.51.100.1")];
        assert_eq!(client_behind_lb(h), ip("198.51.100.1"));
        let h = &[("forwarded", " , "), ("x-forwarded-for", "198.51.100.1")];
        assert_eq!(client_behind_lb(h), ip("198.51.100.1"));
    }

    // ---- Forwarded syntax ------------------------------------------------------------------

    #[test]
    fn forwarded_rfc7239_examples() {
        assert_eq!(
            client_behind_lb(&[("forwarded", r#"For="[2001:db8:cafe::17]:4711""#)]),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client_behind_lb(&[("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43")]),
            ip("192.0.2.60")
        );
        assert_eq!(
            client_behind_lb(&[("forwarded", "for=192.0.2.43, for=198.51.100.17")]),
            ip("198.51.100.17")
        );
        // An obfuscated identifier is not an address: the client is the LB.
        assert_eq!(
            client_behind_lb(&[("forwarded", r#"for="_gazonk""#)]),
            ip(LB)
        );
    }

    #[test]
    fn forwarded_quoted_ipv6_and_ports() {
        let cases = [
            (r#"for="[2001:db8::1]:4711""#, "2001:db8::1"),
            (r#"for="[2001:db8::1]""#, "2001:db8::1"),
            (r#"for="192.0.2.1:8080""#, "192.0.2.1"),
            (r#"for="192.0.2.1""#, "192.0.2.1"),
            (r#"for="192.0.2.1:_abc-1.x""#, "192.0.2.1"),
            (r#"for="[2001:db8::1]:_port""#, "2001:db8::1"),
            // Escapes inside a quoted string are removed.
            (r#"for="192.0.2.\1""#, "192.0.2.1"),
            // Not quoted although the RFC says it must be: accepted all the same.
            ("for=[2001:db8::1]:4711", "2001:db8::1"),
            ("for=192.0.2.1:8080", "192.0.2.1"),
            ("for=2001:db8::1", "2001:db8::1"),
        ];
        for (value, want) in cases {
            assert_eq!(
                client_behind_lb(&[("forwarded", value)]),
                ip(want),
                "{value}"
            );
        }
    }

    #[test]
    fn forwarded_parameter_names_are_case_insensitive_and_others_ignored() {
        for value in [
            "FOR=192.0.2.9",
            "For=192.0.2.9",
            "proto=https;for=192.0.2.9;by=10.0.0.1",
            "by=\"[2001:db8::9]\";for=192.0.2.9;host=example.com",
            "for=192.0.2.9;ext=\"a,b;c\\\"d\"",
            " for=192.0.2.9 ; proto=https ;",
            ";;for=192.0.2.9;;",
        ] {
            assert_eq!(
                client_behind_lb(&[("forwarded", value)]),
                ip("192.0.2.9"),
                "{value}"
            );
        }
    }

    #[test]
    fn multiple_header_lines_form_one_list() {
        // Lines are read in order: the later line is nearer to us.
        let h = &[
            ("forwarded", "for=6.6.6.6"),
            ("forwarded", "for=198.51.100.2, for=10.1.1.1"),
        ];
        assert_eq!(client_behind_lb(h), ip("198.51.100.2"));
        let h = &[
            ("forwarded", "for=198.51.100.2"),
            ("forwarded", "for=10.1.1.1"),
        ];
        assert_eq!(client_behind_lb(h), ip("198.51.100.2"));

        let h = &[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.3"),
            ("x-forwarded-for", "10.1.1.1"),
            ("x-forwarded-for", "10.2.2.2"),
        ];
        assert_eq!(client_behind_lb(h), ip("198.51.100.3"));
    }

    #[test]
    fn unknown_rightmost_gives_the_peer() {
        assert_eq!(client_behind_lb(&[("forwarded", "for=unknown")]), ip(LB));
        assert_eq!(
            client_behind_lb(&[("forwarded", "for=198.51.100.1, for=unknown")]),
            ip(LB)
        );
        assert_eq!(
            client_behind_lb(&[("forwarded", "for=198.51.100.1, for=_hidden")]),
            ip(LB)
        );
        assert_eq!(
            client_behind_lb(&[("x-forwarded-for", "198.51.100.1, unknown")]),
            ip(LB)
        );
    }

    #[test]
    fn unknown_in_the_middle_gives_the_trusted_hop_right_of_it() {
        // 10.1.1.1 is trusted and says it got the request from "unknown": we stop at 10.1.1.1.
        assert_eq!(
            client_behind_lb(&[("forwarded", "for=198.51.100.1, for=unknown, for=10.1.1.1")]),
            ip("10.1.1.1")
        );
        assert_eq!(
            client_behind_lb(&[("x-forwarded-for", "198.51.100.1, garbage, 10.1.1.1")]),
            ip("10.1.1.1")
        );
        // Left of an untrusted address, an unknown entry is never reached.
        assert_eq!(
            client_behind_lb(&[("forwarded", "for=unknown, for=198.51.100.1")]),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn malformed_forwarded_elements_are_unreadable() {
        for value in [
            "proto=https",                       // no for=
            "for=198.51.100.1;for=198.51.100.2", // for= twice
            "for",                               // no '='
            "for=",                              // empty value
            "=198.51.100.1",                     // no name
            "f(r=198.51.100.1",                  // bad name
            "for=\"198.51.100.1",                // unterminated quote
            "for=\"198.51.100.1\"x",             // junk after the quoted string
            "for=198.51.100.1 198.51.100.2",     // two values
            "for=198.51.100.1;proto=\"https",    // another parameter malformed
            "for=\"[198.51.100.1]\"",            // IPv4 in brackets
            "for=\"[2001:db8::1\"",              // unclosed bracket
            "for=\"[2001:db8::1]x\"",            // junk after the bracket
            "for=\"198.51.100.1:\"",             // empty port
            "for=\"198.51.100.1:123456\"",       // port too long
            "for=\"198.51.100.1:_\"",            // empty obfuscated port
            "for=\"198.51.100.1:8a\"",           // bad port
            "for=\"fe80::1%eth0\"",              // zone ids are not supported
        ] {
            assert_eq!(client_behind_lb(&[("forwarded", value)]), ip(LB), "{value}");
            let behind = format!("for=10.1.1.1, {value}");
            assert_eq!(
                client_behind_lb(&[("forwarded", &behind)]),
                ip(LB),
                "{behind}"
            );
            // ... and as the client's part in front of a good hop, it is never reached.
            let front = format!("{value}, for=198.51.100.9");
            assert_eq!(
                client_behind_lb(&[("forwarded", &front)]),
                ip("198.51.100.9"),
                "{front}"
            );
        }
    }

    #[test]
    fn client_cannot_swallow_proxy_elements_with_an_open_quote() {
        // The client sends `Forwarded: for="x` and our proxy appends its element to the same
        // line. The proxy's element must still be read.
        for client_part in [r#"for="x"#, r#"for="x\""#, r#"for="x\"#, r#"""#, r#"a"b"#] {
            let line = format!("{client_part}, for=198.51.100.4");
            assert_eq!(
                client_behind_lb(&[("forwarded", &line)]),
                ip("198.51.100.4"),
                "{line}"
            );
            let line = format!("{client_part}, for=\"[2001:db8::4]:1\", for=10.1.1.1");
            assert_eq!(
                client_behind_lb(&[("forwarded", &line)]),
                ip("2001:db8::4"),
                "{line}"
            );
        }
    }

    // ---- X-Forwarded-For syntax ------------------------------------------------------------

    #[test]
    fn xff_forms() {
        let cases = [
            ("198.51.100.1", "198.51.100.1"),
            ("198.51.100.1:5678", "198.51.100.1"),
            ("[2001:db8::1]:80", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("  198.51.100.1  ,\t10.1.1.1\t", "198.51.100.1"),
            ("198.51.100.1,10.1.1.1", "198.51.100.1"),
            ("198.51.100.1,, ,10.1.1.1,", "198.51.100.1"),
            ("6.6.6.6,198.51.100.1:1,[::ffff:10.1.1.1]:2", "198.51.100.1"),
        ];
        for (value, want) in cases {
            assert_eq!(
                client_behind_lb(&[("x-forwarded-for", value)]),
                ip(want),
                "{value}"
            );
        }
    }

    #[test]
    fn xff_unreadable_entries() {
        for value in [
            "unknown",
            "198.51.100.1:http",
            "198.51.100.1:",
            "198.51.100.1 198.51.100.2",
            "\"198.51.100.1\"",
            "198.051.100.1",
            "[198.51.100.1]",
            "_hidden",
        ] {
            assert_eq!(
                client_behind_lb(&[("x-forwarded-for", value)]),
                ip(LB),
                "{value}"
            );
        }
    }

    // ---- IPv4-mapped IPv6 ------------------------------------------------------------------

    #[test]
    fn ipv4_mapped_peer() {
        let trusted = proxies("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "198.51.100.1")]);
        // A dual-stack listener reports the LB as ::ffff:10.0.0.1: still trusted.
        assert_eq!(
            trusted.client_ip(ip("::ffff:10.0.0.1"), &h),
            ip("198.51.100.1")
        );
        assert!(trusted.is_trusted(ip("::ffff:10.0.0.1")));
        // An untrusted mapped peer is returned as plain IPv4, headers ignored.
        assert_eq!(
            trusted.client_ip(ip("::ffff:203.0.113.5"), &h),
            ip("203.0.113.5")
        );
        // Trusting the mapped form trusts the IPv4 form too.
        let mapped = proxies("::ffff:10.0.0.0/104");
        assert_eq!(mapped.client_ip(ip(LB), &h), ip("198.51.100.1"));
        assert_eq!(
            mapped.client_ip(ip("::ffff:10.0.0.1"), &h),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn ipv4_mapped_entries_in_the_chain() {
        assert_eq!(
            client_behind_lb(&[("x-forwarded-for", "::ffff:198.51.100.1, ::ffff:10.1.1.1")]),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_behind_lb(&[("forwarded", r#"for="[::ffff:198.51.100.1]:9""#)]),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn ipv6_proxies() {
        let trusted = proxies("fd00::/8, ::1");
        let h = headers(&[("x-forwarded-for", "2001:db8::5, fd12::1")]);
        assert_eq!(trusted.client_ip(ip("::1"), &h), ip("2001:db8::5"));
        assert_eq!(trusted.client_ip(ip("fdff::1"), &h), ip("2001:db8::5"));
        assert_eq!(trusted.client_ip(ip("fe80::1"), &h), ip("fe80::1"));
    }

    // ---- robustness ------------------------------------------------------------------------

    #[test]
    fn non_utf8_header_values() {
        let h = raw_headers(&[("x-forwarded-for", b"\xff\xfe, 198.51.100.1")]);
        assert_eq!(
            proxies("10.0.0.0/8").client_ip(ip(LB), &h),
            ip("198.51.100.1")
        );
        let h = raw_headers(&[("x-forwarded-for", b"198.51.100.1, 10.1.1.1\xc3")]);
        assert_eq!(proxies("10.0.0.0/8").client_ip(ip(LB), &h), ip(LB));
        let h = raw_headers(&[("forwarded", b"for=\"caf\xc3\xa9\", for=198.51.100.1")]);
        assert_eq!(
            proxies("10.0.0.0/8").client_ip(ip(LB), &h),
            ip("198.51.100.1")
        );
        let h = raw_headers(&[("forwarded", b"for=198.51.100.1;\xff=1")]);
        assert_eq!(proxies("10.0.0.0/8").client_ip(ip(LB), &h), ip(LB));
    }

    #[test]
    fn huge_headers() {
        let trusted = proxies("10.0.0.0/8");
        let many = vec!["10.1.2.3"; 100_000].join(", ");
        let h = headers(&[("x-forwarded-for", &many)]);
        assert_eq!(trusted.client_ip(ip(LB), &h), ip("10.1.2.3"));
        let long = format!("{}, 198.51.100.1", "9".repeat(1_000_000));
        let h = headers(&[("x-forwarded-for", &long)]);
        assert_eq!(trusted.client_ip(ip(LB), &h), ip("198.51.100.1"));
        let quotes = format!("for=\"{}, for=198.51.100.1", "\\\"".repeat(100_000));
        let h = headers(&[("forwarded", &quotes)]);
        assert_eq!(trusted.client_ip(ip(LB), &h), ip("198.51.100.1"));
        let colons = ":".repeat(100_000);
        let h = headers(&[("forwarded", &format!("for=\"[{colons}]\""))]);
        assert_eq!(trusted.client_ip(ip(LB), &h), ip(LB));
    }

    #[test]
    fn random_bytes_never_panic() {
        const ALPHABET: &[u8] = b"\"\\,;=[]:._- \tforFOR0123456789abcdef%\x80\xff";
        let trusted = proxies("0.0.0.0/0, ::/0");
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..5_000 {
            let len = (next() % 40) as usize;
            let value: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            for name in ["forwarded", "x-forwarded-for"] {
                let h = raw_headers(&[(name, &value)]);
                let _ = trusted.client_ip(ip(LB), &h);
            }
        }
    }

    // ---- Cidr ------------------------------------------------------------------------------

    #[test]
    fn cidr_parses_valid_forms() {
        let cases = [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("192.168.1.7", "192.168.1.7/32"),
            ("::1", "::1/128"),
            ("fd00::/8", "fd00::/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("::/0", "::/0"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("255.255.255.255/7", "254.0.0.0/7"),
            ("2001:db8::1/32", "2001:db8::/32"),
            ("fdff:ffff::1/7", "fc00::/7"),
            ("::ffff:10.1.2.3", "10.1.2.3/32"),
            ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
            ("::ffff:0:0/96", "0.0.0.0/0"),
            ("::ffff:0:0/95", "::fffe:0:0/95"),
            ("1.2.3.4/32", "1.2.3.4/32"),
            ("1.2.3.4/032", "1.2.3.4/32"),
            ("::1/128", "::1/128"),
        ];
        for (input, want) in cases {
            assert_eq!(cidr(input).to_string(), want, "{input}");
        }
        let c = cidr("10.1.2.3/8");
        assert_eq!((c.network(), c.prefix_len()), (ip("10.0.0.0"), 8));
    }

    #[test]
    fn cidr_rejects_invalid_forms() {
        for input in [
            "",
            " ",
            "10.0.0.0/33",
            "1.2.3.4/999",
            "1.2.3.4/1000",
            "::/129",
            "::/255",
            "::/256",
            "10.0.0.0/",
            "/8",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/8/8",
            "10.0.0.0/8 ",
            " 10.0.0.0/8",
            "10.0.0.0/ 8",
            "10.0.0.0/x",
            "garbage",
            "10.0.0",
            "256.0.0.1",
            "010.0.0.1",
            "[::1]",
            "[::1]/128",
            "fe80::1%eth0",
            "10.0.0.0/8,",
            "localhost",
        ] {
            let err = input.parse::<Cidr>().expect_err(input);
            assert_eq!(err.input(), input);
        }
    }

    #[test]
    fn cidr_error_messages() {
        let err = "10.0.0.0/33".parse::<Cidr>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid network "10.0.0.0/33": the prefix length must be at most 32 for an IPv4 address"#
        );
        let err = "::/129".parse::<Cidr>().unwrap_err();
        assert!(err.to_string().contains("at most 128 for an IPv6"), "{err}");
        let err = "nonsense".parse::<Cidr>().unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"invalid network "nonsense": "#),
            "{err}"
        );
        let err = "1.2.3.4/x".parse::<Cidr>().unwrap_err();
        assert!(err.to_string().contains("must be a number"), "{err}");
        let err = "".parse::<Cidr>().unwrap_err();
        assert!(
            err.to_string().starts_with(r#"invalid network "": empty"#),
            "{err}"
        );
        // Usable as a boxed std error.
        let boxed: Box<dyn Error + Send + Sync> = Box::new(err);
        assert!(boxed.source().is_none());
    }

    #[test]
    fn contains_at_network_edges() {
        let c = cidr("0.0.0.0/0");
        assert!(c.contains(ip("0.0.0.0")));
        assert!(c.contains(ip("255.255.255.255")));
        assert!(c.contains(ip("::ffff:1.2.3.4")));
        assert!(!c.contains(ip("::")));
        assert!(!c.contains(ip("2001:db8::1")));

        let c = cidr("::/0");
        assert!(c.contains(ip("::")));
        assert!(c.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!c.contains(ip("1.2.3.4")));
        assert!(!c.contains(ip("::ffff:1.2.3.4")));

        let c = cidr("192.168.1.7/32");
        assert!(c.contains(ip("192.168.1.7")));
        assert!(c.contains(ip("::ffff:192.168.1.7")));
        assert!(!c.contains(ip("192.168.1.6")));
        assert!(!c.contains(ip("192.168.1.8")));

        let c = cidr("2001:db8::1/128");
        assert!(c.contains(ip("2001:db8::1")));
        assert!(!c.contains(ip("2001:db8::")));
        assert!(!c.contains(ip("2001:db8::2")));

        // 10.0.0.0/7 is 10.0.0.0 to 11.255.255.255.
        let c = cidr("10.0.0.0/7");
        assert!(c.contains(ip("10.0.0.0")));
        assert!(c.contains(ip("11.255.255.255")));
        assert!(!c.contains(ip("9.255.255.255")));
        assert!(!c.contains(ip("12.0.0.0")));

        // fc00::/7 is fc00:: to fdff:ffff:...
        let c = cidr("fc00::/7");
        assert!(c.contains(ip("fc00::")));
        assert!(c.contains(ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!c.contains(ip("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!c.contains(ip("fe00::")));

        let c = cidr("fd00::/8");
        assert!(c.contains(ip("fd00::")));
        assert!(c.contains(ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!c.contains(ip("fc00::")));
        assert!(!c.contains(ip("fe00::")));

        let c = cidr("10.0.0.0/31");
        assert!(c.contains(ip("10.0.0.0")));
        assert!(c.contains(ip("10.0.0.1")));
        assert!(!c.contains(ip("10.0.0.2")));

        let c = cidr("2001:db8::/127");
        assert!(c.contains(ip("2001:db8::")));
        assert!(c.contains(ip("2001:db8::1")));
        assert!(!c.contains(ip("2001:db8::2")));

        // IPv4 and IPv6 networks never mix, except through IPv4-mapped addresses.
        assert!(!cidr("::1").contains(ip("127.0.0.1")));
        assert!(!cidr("127.0.0.1").contains(ip("::1")));
        assert!(cidr("::ffff:127.0.0.0/104").contains(ip("127.0.0.1")));
        assert!(!cidr("::ffff:0:0/95").contains(ip("1.2.3.4")));
        assert!(!cidr("::ffff:0:0/95").contains(ip("::ffff:1.2.3.4")));
    }

    #[test]
    fn parse_list_for_the_command_line() {
        let list = parse_list(" 10.0.0.0/8, 192.168.1.7 ,, ::1,fd00::/8 ,").unwrap();
        let shown: Vec<String> = list.iter().map(Cidr::to_string).collect();
        assert_eq!(
            shown,
            ["10.0.0.0/8", "192.168.1.7/32", "::1/128", "fd00::/8"]
        );
        assert!(parse_list("").unwrap().is_empty());
        assert!(parse_list(" , ,").unwrap().is_empty());
        let err = parse_list("10.0.0.0/8, nope, 10.0.0.0/33").unwrap_err();
        assert_eq!(err.input(), "nope");
        let err = parse_list("10.0.0.0/8 10.0.0.1").unwrap_err();
        assert_eq!(err.input(), "10.0.0.0/8 10.0.0.1");
    }

    #[test]
    fn is_trusted_checks_every_network() {
        let trusted = proxies("10.0.0.0/8, 192.168.1.7, fd00::/8");
        for yes in ["10.255.0.1", "192.168.1.7", "fd01::1", "::ffff:10.0.0.1"] {
            assert!(trusted.is_trusted(ip(yes)), "{yes}");
        }
        for no in [
            "11.0.0.1",
            "192.168.1.8",
            "fe00::1",
            "::ffff:11.0.0.1",
            "::a00:1",
        ] {
            assert!(!trusted.is_trusted(ip(no)), "{no}");
        }
    }
}

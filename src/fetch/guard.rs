//! The private-network guard: affcheck fetches what pages, sitemaps, robots.txt files and
//! redirects point it to, so a hostile site could steer it at the machine it runs on, the office
//! network or a cloud metadata service (`169.254.169.254`). Like mature fetchers, the guard checks
//! every address *after* name resolution (a public-looking name may resolve to `10.0.0.1`) and
//! every IP-address URL, and refuses internal addresses, unless the user asked for them: a host
//! the user named (a start URL, a `--sitemap`) may be internal, and so may every address it
//! resolved to; `--allow-private` lifts the guard.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use url::{Host, Url};

/// Whether an address is internal: loopback, private (RFC 1918), shared (CGNAT), link-local
/// (cloud metadata included), unique-local, unspecified, multicast, broadcast or reserved. An
/// IPv4 address inside IPv6 (mapped, compatible or NAT64) is judged as the IPv4 address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_internal_v4(v4);
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique-local fc00::/7
                || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        }
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64.0.0/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved
}

/// The IPv4 address an IPv6 address carries: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let seg = v6.segments();
    let tail = Ipv4Addr::new(
        (seg[6] >> 8) as u8,
        seg[6] as u8,
        (seg[7] >> 8) as u8,
        seg[7] as u8,
    );
    if seg[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified() {
        return Some(tail);
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    None
}

/// What the guard allows, shared by the fetcher and its name resolver.
#[derive(Debug, Default)]
pub struct Guard {
    /// `--allow-private`: every address is allowed.
    allow_all: bool,
    /// Hosts the user named, lower-case (names, or IP addresses as URLs write them).
    trusted_hosts: HashSet<String>,
    /// Internal addresses the trusted hosts are on.
    trusted_ips: Mutex<HashSet<IpAddr>>,
}

/// How every refusal's message starts (see [`is_refusal`]).
const REFUSED: &str = "refused:";

/// Whether a fetch failure message is a refusal of the guard (final, and its own advice).
pub fn is_refusal(message: &str) -> bool {
    message.starts_with(REFUSED) || message.contains(": refused: ")
}

/// A request the guard refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{REFUSED} {} an internal address (loopback, private or link-local network); affcheck contacts internal addresses only for the hosts of the URLs you give, or for any host with --allow-private",
    if *host == ip.to_string() || host.trim_matches(['[', ']']) == ip.to_string() {
        format!("{host} is")
    } else {
        format!("{host} resolves to {ip},")
    }
)]
pub struct Refused {
    /// The host of the URL.
    pub host: String,
    /// The internal address it is on.
    pub ip: IpAddr,
}

impl Guard {
    /// A guard trusting `hosts` (the hosts of the URLs the user gave); `allow_all` turns it off.
    pub fn new<'a>(hosts: impl IntoIterator<Item = &'a str>, allow_all: bool) -> Self {
        let trusted_hosts: HashSet<String> = hosts
            .into_iter()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .collect();
        let trusted_ips = trusted_hosts
            .iter()
            .filter_map(|h| parse_ip_host(h))
            .collect();
        Guard {
            allow_all,
            trusted_hosts,
            trusted_ips: Mutex::new(trusted_ips),
        }
    }

    fn is_trusted_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.trusted_hosts.contains(&host)
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        self.allow_all
            || !is_internal(ip)
            || self
                .trusted_ips
                .lock()
                .expect("guard poisoned")
                .contains(&ip)
    }

    /// Checks a URL whose host is an IP address (names are checked when they resolve).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if self.allows_ip(ip) {
            Ok(())
        } else {
            Err(Refused {
                host: url.host_str().unwrap_or_default().to_string(),
                ip,
            })
        }
    }

    /// Filters the addresses `host` resolved to: a trusted host keeps them all (and makes them
    /// trusted); another host keeps the allowed ones, and is refused when none is left.
    pub fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        if self.allow_all {
            return Ok(addrs);
        }
        if self.is_trusted_host(host) {
            let mut trusted = self.trusted_ips.lock().expect("guard poisoned");
            trusted.extend(
                addrs
                    .iter()
                    .map(SocketAddr::ip)
                    .filter(|ip| is_internal(*ip)),
            );
            return Ok(addrs);
        }
        let first = addrs.first().map(SocketAddr::ip);
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| self.allows_ip(a.ip()))
            .collect();
        match first {
            Some(ip) if kept.is_empty() => Err(Refused {
                host: host.to_string(),
                ip,
            }),
            _ => Ok(kept),
        }
    }
}

/// An IP address as a URL host writes it (`127.0.0.1`, `[::1]`).
fn parse_ip_host(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// reqwest's name resolver with the guard applied to every answer.
pub(super) struct GuardedResolver(pub(super) Arc<Guard>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = Arc::clone(&self.0);
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept = guard.filter(&host, addrs)?;
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_ranges() {
        for s in [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_internal(ip(s)), "{s} is internal");
        }
        for s in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip(s)), "{s} is public");
        }
    }

    #[test]
    fn trusted_hosts_may_be_internal_and_lend_their_addresses() {
        let g = Guard::new(["localhost"], false);
        let loop4: SocketAddr = "127.0.0.1:0".parse().unwrap();
        assert_eq!(g.filter("localhost", vec![loop4]).unwrap(), [loop4]);
        // Another name on the same address is allowed, another internal address is not.
        assert!(g.filter("other.example", vec![loop4]).is_ok());
        let meta: SocketAddr = "169.254.169.254:0".parse().unwrap();
        let err = g.filter("evil.example", vec![meta]).unwrap_err();
        assert!(err.to_string().contains("--allow-private"), "{err}");
        assert!(
            g.check_url(&Url::parse("http://169.254.169.254/latest/meta-data/").unwrap())
                .is_err()
        );
        assert!(
            g.check_url(&Url::parse("http://127.0.0.1:8080/").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn an_ip_start_trusts_that_address_only() {
        let g = Guard::new(["127.0.0.1"], false);
        assert!(
            g.check_url(&Url::parse("http://127.0.0.1:9/").unwrap())
                .is_ok()
        );
        assert!(
            g.check_url(&Url::parse("http://127.0.0.2/").unwrap())
                .is_err()
        );
        assert!(g.check_url(&Url::parse("http://[::1]/").unwrap()).is_err());
        let public: SocketAddr = "93.184.216.34:0".parse().unwrap();
        let internal: SocketAddr = "10.0.0.1:0".parse().unwrap();
        // A name resolving to both keeps only the public address.
        assert_eq!(
            g.filter("mixed.example", vec![internal, public]).unwrap(),
            [public]
        );
    }

    #[test]
    fn allow_private_allows_everything() {
        let g = Guard::new([], true);
        assert!(
            g.check_url(&Url::parse("http://10.0.0.1/").unwrap())
                .is_ok()
        );
        let meta: SocketAddr = "169.254.169.254:0".parse().unwrap();
        assert!(g.filter("x.example", vec![meta]).is_ok());
    }
}

//! URL normalization and crawl scope: which URLs the crawler fetches, and under which key it
//! remembers them so that each is fetched at most once.

use regex::Regex;
use url::Url;

/// URLs longer than this are not crawled (a sign of a session-id or calendar trap).
pub const MAX_URL_LEN: usize = 2000;

/// Normalizes a URL for fetching and de-duplication: the fragment is dropped, scheme and host are
/// lower-cased and the default port removed (both done by the `url` crate when parsing),
/// percent-escapes of unreserved characters are decoded (`%7E` → `~`), other escapes written
/// with upper-case hex digits (`%2f` → `%2F`) and a `%` that starts no escape written as `%25`
/// (which a server reads as the same `%`). Only `http` and `https` URLs are accepted.
pub fn normalize(url: &Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let clean = |s: &str| !s.contains('%');
    if url.fragment().is_none()
        && clean(url.path())
        && url.query().is_none_or(|q| clean(q) && !q.is_empty())
    {
        return Some(url.clone());
    }
    let mut url = url.clone();
    url.set_fragment(None);
    let path = normalize_escapes(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    if let Some(query) = url.query() {
        let q = normalize_escapes(query);
        if q.is_empty() {
            url.set_query(None);
        } else if q != query {
            url.set_query(Some(&q));
        }
    }
    Some(url)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn normalize_escapes(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = &s[i + 1..i + 3];
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                if is_unreserved(v) {
                    out.push(v as char);
                } else {
                    out.push('%');
                    out.push_str(&hex.to_ascii_uppercase());
                }
                i += 3;
                continue;
            }
        }
        // A `%` that starts no escape is written as one: left bare, it could start a new escape
        // with what the next escape decodes to (`%%36%31` would become `%61`, then `a`).
        if bytes[i] == b'%' {
            out.push_str("%25");
            i += 1;
            continue;
        }
        // `i` is always at a character boundary: escapes are ASCII.
        let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Which hosts and URLs belong to the crawl.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Hosts of the start URLs and sitemaps, lower case, without `www.`.
    hosts: Vec<String>,
    /// Registrable domains of those hosts, when subdomains are in scope.
    domains: Vec<String>,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

/// The host without a leading `www.`.
fn bare(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

impl Scope {
    /// A scope around the hosts of `starts`: each host and its `www.` twin, or with `subdomains`
    /// every host below the same registrable domain (from the public-suffix list; an IP address
    /// stays just itself). `include` and
    /// `exclude` filter URLs by regular expression; an URL must match one `include` (when any are
    /// given) and no `exclude`.
    pub fn new(starts: &[Url], subdomains: bool, include: Vec<Regex>, exclude: Vec<Regex>) -> Self {
        let mut hosts: Vec<String> = starts
            .iter()
            .filter_map(|u| u.host_str())
            .map(|h| bare(&h.to_ascii_lowercase()).to_string())
            .collect();
        hosts.sort();
        hosts.dedup();
        let mut domains = Vec::new();
        if subdomains {
            // An IP address has no subdomains: `127.0.0.1` is not below a "domain" `0.1`.
            let names = starts
                .iter()
                .filter(|u| matches!(u.host(), Some(url::Host::Domain(_))))
                .filter_map(|u| u.host_str())
                .map(|h| bare(&h.to_ascii_lowercase()).to_string());
            for h in names {
                let d = psl::domain_str(&h).unwrap_or(&h).to_string();
                domains.push(d);
            }
            domains.sort();
            domains.dedup();
        }
        Scope {
            hosts,
            domains,
            include,
            exclude,
        }
    }

    /// Whether the host belongs to the site (links to it are same-site links).
    pub fn host_in_scope(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        let b = host
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("www."))
            .map_or(host, |_| &host[4..]);
        if self.hosts.iter().any(|h| h.eq_ignore_ascii_case(b)) {
            return true;
        }
        self.domains.iter().any(|d| {
            host.len() >= d.len()
                && host.is_char_boundary(host.len() - d.len())
                && host[host.len() - d.len()..].eq_ignore_ascii_case(d)
                && (host.len() == d.len() || host[..host.len() - d.len()].ends_with('.'))
        })
    }

    /// Whether the crawler may fetch this (normalized) URL as a page: in-scope host, not too long,
    /// and passing the include/exclude filters.
    pub fn admits(&self, url: &Url) -> Result<(), &'static str> {
        if !url.host_str().is_some_and(|h| self.host_in_scope(h)) {
            return Err("outside the crawl scope");
        }
        if url.as_str().len() > MAX_URL_LEN {
            return Err("URL longer than 2,000 characters");
        }
        let s = url.as_str();
        if !self.include.is_empty() && !self.include.iter().any(|r| r.is_match(s)) {
            return Err("not matched by --include");
        }
        if self.exclude.iter().any(|r| r.is_match(s)) {
            return Err("matched by --exclude");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(&Url::parse(s).unwrap()).unwrap().to_string()
    }

    #[test]
    fn normalization_drops_fragment_default_port_and_case() {
        assert_eq!(n("HTTP://Example.COM:80/a#top"), "http://example.com/a");
        assert_eq!(n("https://example.com:443/"), "https://example.com/");
        assert_eq!(
            n("https://example.com:8443/x"),
            "https://example.com:8443/x"
        );
    }

    #[test]
    fn normalization_decodes_unreserved_escapes_and_uppercases_others() {
        assert_eq!(
            n("https://e.com/%7Euser/a%2fb"),
            "https://e.com/~user/a%2Fb"
        );
        assert_eq!(n("https://e.com/p?q=%41%3d"), "https://e.com/p?q=A%3D");
        assert_eq!(n("https://e.com/caf%C3%A9"), "https://e.com/caf%C3%A9");
        assert_eq!(n("https://e.com/100%"), "https://e.com/100%25");
    }

    #[test]
    fn a_stray_percent_sign_cannot_splice_with_a_decoded_escape_into_a_new_one() {
        // `%` then the escapes of `6` and `1`: decoding them must not leave `%61` (an `a`).
        assert_eq!(n("https://e.com/%%36%31"), "https://e.com/%2561");
        assert_eq!(n("https://e.com/p?q=%%30%61"), "https://e.com/p?q=%250a");
        for s in [
            "https://e.com/%%36%31",
            "https://e.com/p?q=%%30%61",
            "https://e.com/%",
        ] {
            let once = normalize(&Url::parse(s).unwrap()).unwrap();
            assert_eq!(normalize(&once), Some(once.clone()), "{s}");
        }
    }

    #[test]
    fn only_http_urls_are_crawlable() {
        assert!(normalize(&Url::parse("mailto:a@b.c").unwrap()).is_none());
        assert!(normalize(&Url::parse("ftp://e.com/").unwrap()).is_none());
    }

    #[test]
    fn scope_is_the_start_host_and_its_www_twin() {
        let s = Scope::new(
            &[Url::parse("https://www.blog.example.com/").unwrap()],
            false,
            vec![],
            vec![],
        );
        assert!(s.host_in_scope("blog.example.com"));
        assert!(s.host_in_scope("www.blog.example.com"));
        assert!(!s.host_in_scope("shop.example.com"));
        assert!(!s.host_in_scope("example.com"));
    }

    #[test]
    fn subdomains_widen_scope_to_the_registrable_domain() {
        let s = Scope::new(
            &[Url::parse("https://blog.example.co.uk/").unwrap()],
            true,
            vec![],
            vec![],
        );
        assert!(s.host_in_scope("shop.example.co.uk"));
        assert!(s.host_in_scope("example.co.uk"));
        assert!(!s.host_in_scope("other.co.uk"));
        assert!(!s.host_in_scope("notexample.co.uk"));
    }

    #[test]
    fn include_exclude_and_length_filter_urls() {
        let s = Scope::new(
            &[Url::parse("https://e.com/").unwrap()],
            false,
            vec![Regex::new("/blog/").unwrap()],
            vec![Regex::new(r"\?replytocom=").unwrap()],
        );
        assert!(
            s.admits(&Url::parse("https://e.com/blog/a").unwrap())
                .is_ok()
        );
        assert!(
            s.admits(&Url::parse("https://e.com/shop/a").unwrap())
                .is_err()
        );
        assert!(
            s.admits(&Url::parse("https://e.com/blog/a?replytocom=3").unwrap())
                .is_err()
        );
        let long = format!("https://e.com/blog/{}", "x".repeat(2000));
        assert!(s.admits(&Url::parse(&long).unwrap()).is_err());
    }

    #[test]
    fn an_ip_address_start_has_no_subdomains() {
        let start = Url::parse("http://127.0.0.1:8080/").unwrap();
        let scope = Scope::new(&[start], true, Vec::new(), Vec::new());
        assert!(scope.host_in_scope("127.0.0.1"));
        for other in ["10.0.0.1", "192.168.0.1", "1.0.1", "0.1"] {
            assert!(!scope.host_in_scope(other), "{other} is not the site");
        }
        let named = Url::parse("https://www.blog.example.co.uk/").unwrap();
        let scope = Scope::new(&[named], true, Vec::new(), Vec::new());
        assert!(scope.host_in_scope("shop.example.co.uk"));
        assert!(!scope.host_in_scope("other.co.uk"));
    }
}

/// Properties of normalization and scope over generated URLs: the crawler keys its visited set,
/// its journal and its frontier by the normalized URL, so normalizing must be stable, must not
/// change what a server is asked for, and must not move a URL in or out of the crawl.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// What a server reads from a path or query: `%` and two hex digits is that byte, any other
    /// `%` is itself (the WHATWG percent-decode).
    fn decoded(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit()
            {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("two hex digits"));
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    /// Text rich in what normalization rewrites: escapes (of hex digits and unreserved characters
    /// too), stray `%` signs, hex digits, sub-delimiters and any character at all.
    fn escapy() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            3 => Just("%".to_string()),
            3 => "%[0-9a-fA-F]{2}",
            2 => "%(3[0-9]|[46][1-6])",
            3 => "[0-9a-fA-F]",
            2 => "[a-zA-Z0-9._~-]",
            1 => "[!$&'()*+,;=:@/?]",
            1 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
    }

    /// A host name of a few lower- or upper-case labels, possibly with `www.`.
    fn host_name() -> impl Strategy<Value = String> {
        "(www\\.)?[a-zA-Z0-9]{1,6}(\\.[a-zA-Z0-9-]{1,6}){0,2}\\.(com|co\\.uk|org)"
    }

    /// http and https URLs that `Url::parse` accepts, with escapy paths, queries and fragments.
    fn http_url() -> impl Strategy<Value = Url> {
        (
            prop_oneof![Just("http"), Just("https"), Just("HTTP")],
            prop_oneof![
                host_name(),
                (any::<u8>(), any::<u8>()).prop_map(|(a, b)| format!("127.{a}.{b}.1")),
            ],
            prop::option::of(prop_oneof![Just(80u16), Just(443), 1u16..]),
            escapy(),
            prop::option::of(escapy()),
            prop::option::of(escapy()),
        )
            .prop_filter_map("Url::parse accepts it", |(s, h, port, p, q, f)| {
                let port = port.map(|n| format!(":{n}")).unwrap_or_default();
                let q = q.map(|q| format!("?{q}")).unwrap_or_default();
                let f = f.map(|f| format!("#{f}")).unwrap_or_default();
                Url::parse(&format!("{s}://{h}{port}/{p}{q}{f}")).ok()
            })
    }

    /// The query as a server sees it: an empty one is none.
    fn query(u: &Url) -> Option<Vec<u8>> {
        u.query().filter(|q| !q.is_empty()).map(decoded)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn normalizing_a_normalized_url_changes_nothing(u in http_url()) {
            let n = normalize(&u).expect("an http(s) URL with a host is crawlable");
            prop_assert_eq!(normalize(&n), Some(n.clone()), "from {}", u);
            // The journal and the visited set hold it as text: read back, it is the same key.
            let reread = Url::parse(n.as_str()).expect("a normalized URL parses");
            prop_assert_eq!(normalize(&reread), Some(n));
        }

        #[test]
        fn normalizing_asks_the_server_for_the_same_resource(u in http_url()) {
            let n = normalize(&u).expect("crawlable");
            prop_assert_eq!(n.scheme(), u.scheme());
            prop_assert_eq!(n.host_str(), u.host_str());
            prop_assert_eq!(n.port_or_known_default(), u.port_or_known_default());
            prop_assert_eq!(n.fragment(), None);
            let segments = |u: &Url| -> Vec<Vec<u8>> {
                u.path_segments().expect("http URLs have a path").map(decoded).collect()
            };
            prop_assert_eq!(segments(&n), segments(&u), "{} became {}", u, n);
            prop_assert_eq!(query(&n), query(&u), "{} became {}", u, n);
        }

        #[test]
        fn normalize_never_panics_on_what_url_parse_accepts(
            s in prop_oneof![
                "[a-zA-Z][a-zA-Z0-9+.-]{0,6}:\\PC{0,40}",
                "(https?|HTTPS?)://\\PC{0,60}",
                escapy().prop_map(|s| format!("http://{s}")),
            ]
        ) {
            if let Ok(u) = Url::parse(&s)
                && let Some(n) = normalize(&u)
            {
                prop_assert_eq!(normalize(&n), Some(n.clone()), "from {:?}", s);
            }
        }

        #[test]
        fn escapes_come_out_well_formed_and_stable(s in escapy()) {
            let once = normalize_escapes(&s);
            let b = once.as_bytes();
            for (i, _) in once.match_indices('%') {
                prop_assert!(
                    i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit(),
                    "a bare % in {:?} (from {:?})", once, s
                );
            }
            prop_assert_eq!(decoded(&once), decoded(&s), "{:?} became {:?}", s, once);
            prop_assert_eq!(normalize_escapes(&once), once);
        }

        #[test]
        fn a_url_the_scope_admits_is_still_admitted_once_normalized(
            start in host_name(),
            subdomains in any::<bool>(),
            prefix in prop_oneof![Just(String::new()), Just("www.".to_string()), "[a-z]{1,5}\\."],
            other in host_name(),
            use_other in any::<bool>(),
            rest in escapy(),
        ) {
            let start = Url::parse(&format!("https://{start}/")).expect("a start URL");
            let scope = Scope::new(std::slice::from_ref(&start), subdomains, Vec::new(), Vec::new());
            let host = if use_other {
                other
            } else {
                format!("{prefix}{}", start.host_str().expect("a host"))
            };
            if let Ok(u) = Url::parse(&format!("http://{host}/{rest}")) {
                let n = normalize(&u).expect("crawlable");
                prop_assert_eq!(scope.admits(&n).is_ok(), scope.admits(&u).is_ok(), "{} became {}", u, n);
            }
        }

        // The other address keeps the start's last octets now and then: a scope that matched
        // host names by suffix would take `10.0.0.1` for a "subdomain" of `127.0.0.1`.
        #[test]
        fn an_ip_address_start_admits_no_other_address(
            start in any::<[u8; 4]>(),
            fresh in any::<[u8; 4]>(),
            kept in 0..4usize,
            port in prop::option::of(1u16..),
        ) {
            let mut other = fresh;
            other[4 - kept..].copy_from_slice(&start[4 - kept..]);
            let ip = std::net::Ipv4Addr::from(start);
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let url = Url::parse(&format!("http://{ip}{port}/")).expect("an IP URL");
            let scope = Scope::new(&[url], true, Vec::new(), Vec::new());
            prop_assert!(scope.host_in_scope(&ip.to_string()));
            let other = std::net::Ipv4Addr::from(other);
            prop_assume!(other != ip);
            prop_assert!(!scope.host_in_scope(&other.to_string()), "{} admits {}", ip, other);
        }

        #[test]
        fn loopback_start_127_0_0_1_admits_no_other_127_address(
            b in prop_oneof![Just(0u8), any::<u8>()],
            c in prop_oneof![Just(0u8), any::<u8>()],
        ) {
            let scope = Scope::new(
                &[Url::parse("http://127.0.0.1:8080/").expect("URL")],
                true,
                Vec::new(),
                Vec::new(),
            );
            prop_assume!((b, c) != (0, 0));
            let other = format!("127.{b}.{c}.1");
            prop_assert!(!scope.host_in_scope(&other), "{}", other);
        }

        // The `affc` prefix keeps `NAME.co.uk` off the public-suffix list (`ltd.co.uk` is on it).
        #[test]
        fn subdomains_are_below_the_registrable_domain_and_lookalikes_are_not(
            name in "affc[a-z0-9]{0,6}",
            sub in "[a-z0-9]{1,6}",
            other in "[a-z0-9]{1,6}",
        ) {
            let start = Url::parse(&format!("https://{sub}.{name}.co.uk/")).expect("URL");
            let scope = Scope::new(&[start], true, Vec::new(), Vec::new());
            let below = format!("{other}.{name}.co.uk");
            let inside = scope.host_in_scope(&below);
            prop_assert!(inside, "{}", below);
            let domain = format!("{name}.co.uk");
            prop_assert!(scope.host_in_scope(&domain), "{}", domain);
            let glued = format!("{other}{name}.co.uk");
            let lookalike = scope.host_in_scope(&glued);
            prop_assert!(!lookalike, "{}", glued);
            let suffixed = format!("{name}{other}.co.uk");
            let lookalike = scope.host_in_scope(&suffixed);
            prop_assert!(!lookalike, "{}", suffixed);
        }
    }
}

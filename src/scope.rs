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

//! The one HTTP fetch layer of affcheck (`check URL`, the crawl, robots.txt, sitemaps and
//! cloaked-link lookups). Polite HTTP fetching: per-host and global limits on requests in flight, a minimum gap between
//! requests to one host, bounded retries with exponential backoff honouring `Retry-After`, and
//! response bodies capped after decompression. Redirects are never followed here: the crawler
//! decides what to do with each `Location`.

pub mod guard;
pub mod redirects;
pub mod robots;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{
    ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER,
};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

/// The user agent sent when fetching pages.
pub const USER_AGENT: &str = concat!(
    "affcheck/",
    env!("CARGO_PKG_VERSION"),
    " (+",
    env!("CARGO_PKG_REPOSITORY"),
    ")"
);

/// How the fetcher behaves.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Requests in flight over all hosts.
    pub concurrency: usize,
    /// Requests in flight to one host.
    pub per_host: usize,
    /// Minimum gap between the starts of two requests to one host.
    pub delay: Duration,
    /// Time limit of one request, body included.
    pub timeout: Duration,
    /// Largest body read, after decompression.
    pub max_bytes: u64,
    /// Retries after the first attempt for 429, 5xx and connection errors.
    pub retries: u32,
    /// First backoff; doubled for each retry.
    pub backoff: Duration,
    /// Longest wait honoured from a `Retry-After` header or backoff (`--retry-after-max`).
    pub max_wait: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Extra headers (credentials, tokens), sent only to `header_origins`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The exact origins (`scheme://host:port`, as [`url::Origin::ascii_serialization`] writes
    /// them) that receive `headers`: another port of the same host does not, nor `http://` for an
    /// `https://` origin.
    pub header_origins: Vec<String>,
    /// Hosts the user named (start URLs, sitemaps): they may be on internal addresses, and so may
    /// any host on the addresses they resolve to. See [`guard`].
    pub trusted_hosts: Vec<String>,
    /// `--allow-private`: fetch internal addresses (loopback, private, link-local) for any host.
    pub allow_private: bool,
}

impl FetchConfig {
    /// The defaults with this time limit and body size cap: 16 requests in flight (8 per host),
    /// no delay, no retries, backoff from 500 ms, `Retry-After` honoured up to 60 s, affcheck's
    /// user agent, no extra headers, no trusted hosts (so no internal addresses).
    pub fn new(timeout: Duration, max_bytes: u64) -> Self {
        FetchConfig {
            concurrency: 16,
            per_host: 8,
            delay: Duration::ZERO,
            timeout,
            max_bytes,
            retries: 0,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            user_agent: USER_AGENT.to_string(),
            headers: Vec::new(),
            header_origins: Vec::new(),
            trusted_hosts: Vec::new(),
            allow_private: false,
        }
    }
}

impl FetchConfig {
    /// Whether a request to `url` carries `headers`: only when its origin is one of
    /// `header_origins` exactly (scheme, host and port).
    pub fn sends_headers_to(&self, url: &Url) -> bool {
        !self.headers.is_empty()
            && self
                .header_origins
                .contains(&url.origin().ascii_serialization())
    }
}

/// What to read of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The body when the response is a success and HTML (or has no content type).
    Page,
    /// The body of any successful response (robots.txt, sitemaps).
    Any,
    /// Status and headers only (resolving redirects).
    Head,
}

/// A response as the crawler needs it.
#[derive(Debug)]
pub struct Fetched {
    /// HTTP status.
    pub status: u16,
    /// The `Location` header, resolved against the request URL.
    pub location: Option<Url>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body, when it was wanted and read.
    pub body: Option<Vec<u8>>,
    /// Attempts it took.
    pub attempts: u32,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
    /// All response headers (for `--warc`; `Content-Encoding` describes the wire, not `body`).
    pub headers: HeaderMap,
}

/// A request that finally failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// The final HTTP status, when the server answered.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
    /// Attempts made.
    pub attempts: u32,
}

struct HostGate {
    permits: Semaphore,
    /// When the next request to the host may start.
    next_at: Mutex<Instant>,
    /// Gap between requests (the larger of `--delay-ms` and robots.txt `Crawl-delay`).
    delay: Mutex<Duration>,
}

impl HostGate {
    /// After a 429 (or a `Retry-After`): no request to the host starts for `wait`, and the gap
    /// between requests doubles (at least 250 ms, at most `cap`).
    fn slow_down(&self, wait: Duration, cap: Duration) {
        let until = Instant::now() + wait;
        {
            let mut next = self.next_at.lock().expect("gate poisoned");
            *next = (*next).max(until);
        }
        let mut delay = self.delay.lock().expect("delay poisoned");
        *delay = (*delay * 2)
            .max(Duration::from_millis(250))
            .min(cap.max(*delay));
    }
}

/// Fetches URLs politely. Shared by all crawl tasks.
pub struct Fetcher {
    client: reqwest::Client,
    guard: Arc<guard::Guard>,
    config: FetchConfig,
    global: Semaphore,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
}

impl Fetcher {
    /// Builds the HTTP client.
    pub fn new(config: FetchConfig) -> Result<Self, String> {
        let guard = Arc::new(guard::Guard::new(
            config.trusted_hosts.iter().map(String::as_str),
            config.allow_private,
        ));
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(guard::GuardedResolver(Arc::clone(&guard))))
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(config.per_host.max(1))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Fetcher {
            client,
            guard,
            global: Semaphore::new(config.concurrency.max(1)),
            config,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    fn gate(&self, url: &Url) -> Arc<HostGate> {
        let key = host_key(url);
        let mut hosts = self.hosts.lock().expect("host table poisoned");
        hosts
            .entry(key)
            .or_insert_with(|| {
                Arc::new(HostGate {
                    permits: Semaphore::new(self.config.per_host.max(1)),
                    next_at: Mutex::new(Instant::now()),
                    delay: Mutex::new(self.config.delay),
                })
            })
            .clone()
    }

    /// Raises the gap between requests to the host of `url` to at least `delay` (robots.txt
    /// `Crawl-delay`).
    pub fn set_min_delay(&self, url: &Url, delay: Duration) {
        let gate = self.gate(url);
        let mut d = gate.delay.lock().expect("delay poisoned");
        *d = (*d).max(delay);
    }

    /// Fetches `url`, retrying 429, 5xx and connection errors; other statuses are returned as they
    /// are (a 404 is an answer, not a failure).
    pub async fn get(&self, url: &Url, want: Want) -> Result<Fetched, Failure> {
        let attempts_max = self.config.retries + 1;
        let gate = self.gate(url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = {
                let _host = gate.permits.acquire().await.expect("semaphore closed");
                let _all = self.global.acquire().await.expect("semaphore closed");
                let slot = {
                    let delay = *gate.delay.lock().expect("delay poisoned");
                    let mut next = gate.next_at.lock().expect("gate poisoned");
                    let now = Instant::now();
                    let slot = (*next).max(now);
                    *next = slot + delay;
                    slot
                };
                tokio::time::sleep_until(slot).await;
                self.once(url, want).await
            };
            let last = attempt >= attempts_max;
            let wait = match result {
                Ok(mut f) => {
                    let retryable = f.status == 429 || (500..600).contains(&f.status);
                    if !retryable {
                        f.attempts = attempt;
                        return Ok(f);
                    }
                    let asked = self.retry_after(&f);
                    if f.status == 429 || asked.is_some() {
                        // The host asked for fewer requests: hold back all of them, not only this
                        // URL's retry, and keep a wider gap from now on.
                        gate.slow_down(
                            asked.unwrap_or_else(|| self.backoff(attempt)),
                            self.config.max_wait,
                        );
                    }
                    if last {
                        return Err(Failure {
                            status: Some(f.status),
                            message: format!("HTTP {}", f.status),
                            attempts: attempt,
                        });
                    }
                    asked.unwrap_or_else(|| self.backoff(attempt))
                }
                Err((message, retryable)) => {
                    if last || !retryable {
                        return Err(Failure {
                            status: None,
                            message,
                            attempts: attempt,
                        });
                    }
                    self.backoff(attempt)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << (attempt - 1).min(16);
        (self.config.backoff * factor).min(self.config.max_wait)
    }

    /// The wait a 429 or 503 asks for, in seconds or as an HTTP date, capped.
    fn retry_after(&self, f: &Fetched) -> Option<Duration> {
        let value = f.retry_after.as_deref()?;
        let wait = match value.trim().parse::<u64>() {
            Ok(secs) => Duration::from_secs(secs),
            Err(_) => {
                let when = httpdate::parse_http_date(value.trim()).ok()?;
                when.duration_since(std::time::SystemTime::now())
                    .unwrap_or_default()
            }
        };
        Some(wait.min(self.config.max_wait))
    }

    /// One attempt. Errors carry whether a retry may help.
    async fn once(&self, url: &Url, want: Want) -> Result<Fetched, (String, bool)> {
        self.guard
            .check_url(url)
            .map_err(|refused| (refused.to_string(), false))?;
        let mut request = self.client.get(url.clone()).header(
            ACCEPT,
            match want {
                Want::Page | Want::Head => "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                Want::Any => "*/*",
            },
        );
        if self.config.sends_headers_to(url) {
            let mut map = HeaderMap::new();
            for (k, v) in &self.config.headers {
                map.append(k.clone(), v.clone());
            }
            request = request.headers(map);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| describe(&e, self.config.timeout))?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.join(l.trim()).ok());
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let read = (200..300).contains(&status)
            && match want {
                Want::Head => false,
                Want::Any => true,
                Want::Page => content_type.as_deref().is_none_or(is_html_type),
            };
        let body = if read {
            let max = self.config.max_bytes;
            if response.content_length().is_some_and(|n| n > max) {
                return Err((
                    format!("response larger than {max} bytes; raise --max-page-bytes to read it"),
                    false,
                ));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| describe(&e, self.config.timeout))?
            {
                if body.len() as u64 + chunk.len() as u64 > max {
                    return Err((
                        format!(
                            "response larger than {max} bytes (after decompression); raise --max-page-bytes to read it"
                        ),
                        false,
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Some(body)
        } else {
            None
        };
        Ok(Fetched {
            status,
            location,
            content_type,
            body,
            attempts: 1,
            retry_after,
            // Moved out, not copied: the body has been read, nothing else needs them.
            headers: std::mem::take(response.headers_mut()),
        })
    }
}

/// Whether a `Content-Type` value names HTML.
pub fn is_html_type(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.is_empty() || mime == "text/html" || mime == "application/xhtml+xml"
}

fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or("").to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// A readable cause, and whether retrying may help (connection problems and timeouts).
fn describe(e: &reqwest::Error, timeout: Duration) -> (String, bool) {
    let mut message = if e.is_timeout() {
        format!(
            "timed out after {} s (the whole request: connect, headers and body); raise --timeout if the server is that slow",
            timeout.as_secs()
        )
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else if e.is_body() || e.is_decode() {
        "the response body broke off or could not be decompressed".to_string()
    } else {
        "no usable HTTP reply".to_string()
    };
    // With decompression on, a body that breaks off surfaces as a decode error whose cause is a
    // body error; that is a connection problem worth a retry, a corrupt gzip stream is not.
    let mut broke_off = e.is_body();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        // A refusal of the private-network guard is the whole story, and final.
        if let Some(refused) = s.downcast_ref::<guard::Refused>() {
            return (refused.to_string(), false);
        }
        broke_off |= s
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_body);
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    (
        message,
        e.is_timeout() || e.is_connect() || broke_off || e.is_request(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// A fetcher config whose `Authorization` header is scoped to the origins of `starts`, as the
    /// crawl scopes `--header` to its start URLs, and that may fetch loopback.
    fn scoped_to(starts: &[&str]) -> FetchConfig {
        let mut config = FetchConfig::new(Duration::from_secs(5), 1 << 20);
        config.headers = vec![(
            reqwest::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        )];
        config.header_origins = starts
            .iter()
            .map(|s| u(s).origin().ascii_serialization())
            .collect();
        config.trusted_hosts = vec!["127.0.0.1".into()];
        config
    }

    #[test]
    fn a_header_scoped_to_an_https_origin_goes_to_that_origin_only() {
        let config = scoped_to(&["https://host.example:443/"]);
        for same in [
            "https://host.example/",
            "https://host.example:443/a?b=1",
            "HTTPS://HOST.EXAMPLE/x#y",
        ] {
            assert!(config.sends_headers_to(&u(same)), "{same}");
        }
        for other in [
            "http://host.example/",
            "http://host.example:443/",
            "https://host.example:8443/",
            "https://www.host.example/",
            "https://host.example.evil.example/",
            "https://evil.example/host.example",
        ] {
            assert!(!config.sends_headers_to(&u(other)), "{other}");
        }
    }

    /// A one-reply HTTP server on 127.0.0.1 that keeps the head of every request it gets. It
    /// serves at most 8 connections and stops after 10 s.
    struct Recorder {
        port: u16,
        heads: Arc<Mutex<Vec<String>>>,
    }

    impl Recorder {
        fn start(reply: String) -> Recorder {
            use std::io::{Read, Write};
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let port = listener.local_addr().unwrap().port();
            let heads = Arc::new(Mutex::new(Vec::new()));
            let seen = Arc::clone(&heads);
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let mut served = 0;
                while served < 8 && started.elapsed() < Duration::from_secs(10) {
                    let Ok((mut stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    };
                    served += 1;
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(2)))
                        .unwrap();
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).to_ascii_lowercase());
                    let _ = stream.write_all(reply.as_bytes());
                }
            });
            Recorder { port, heads }
        }

        fn url(&self, path: &str) -> Url {
            u(&format!("http://127.0.0.1:{}{path}", self.port))
        }

        /// Whether each request so far carried an `Authorization` header.
        fn authorized(&self) -> Vec<bool> {
            self.heads
                .lock()
                .unwrap()
                .iter()
                .map(|h| h.contains("\r\nauthorization:"))
                .collect()
        }
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

    #[tokio::test]
    async fn a_header_scoped_to_https_is_not_sent_over_http_to_the_same_host_and_port() {
        let server = Recorder::start(OK.into());
        let http = server.url("/");
        let mut https = http.clone();
        https.set_scheme("https").unwrap();
        // Scoped to the plain-http origin, the header goes (the recorder sees it) …
        let fetcher = Fetcher::new(scoped_to(&[http.as_str()])).unwrap();
        assert_eq!(fetcher.get(&http, Want::Page).await.unwrap().status, 200);
        // … scoped to https on the same host and port, it is not sent over http.
        let fetcher = Fetcher::new(scoped_to(&[https.as_str()])).unwrap();
        assert_eq!(fetcher.get(&http, Want::Page).await.unwrap().status, 200);
        assert_eq!(server.authorized(), [true, false]);
    }

    #[tokio::test]
    async fn a_redirect_to_another_origin_is_not_followed_and_its_target_gets_no_header() {
        let target = Recorder::start(OK.into());
        let start = Recorder::start(format!(
            "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            target.url("/landing")
        ));
        let fetcher = Fetcher::new(scoped_to(&[start.url("/").as_str()])).unwrap();
        let redirect = fetcher.get(&start.url("/go"), Want::Page).await.unwrap();
        assert_eq!(redirect.status, 302);
        assert_eq!(start.authorized(), [true]);
        assert!(
            target.authorized().is_empty(),
            "the fetcher followed the redirect"
        );
        let location = redirect.location.expect("a Location");
        assert_eq!(
            fetcher.get(&location, Want::Page).await.unwrap().status,
            200
        );
        assert_eq!(
            target.authorized(),
            [false],
            "the header followed the redirect"
        );
    }

    #[test]
    fn html_types() {
        assert!(is_html_type("text/html; charset=utf-8"));
        assert!(is_html_type("application/xhtml+xml"));
        assert!(!is_html_type("application/pdf"));
        assert!(!is_html_type("image/png"));
    }
}

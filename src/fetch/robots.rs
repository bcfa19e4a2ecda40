//! robots.txt (RFC 9309) per origin, parsed with `texting_robots`, fetched once and shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use url::Url;

use super::{Failure, Fetcher, Want};

/// The rules of one origin.
#[derive(Debug)]
pub struct Robots {
    rules: Access,
    /// `Sitemap:` lines.
    pub sitemaps: Vec<Url>,
    /// `Crawl-delay` for our agent.
    pub crawl_delay: Option<Duration>,
    /// Why robots.txt could not be read, when it was unreachable (the origin is then off limits).
    pub failure: Option<Failure>,
}

#[derive(Debug)]
enum Access {
    All,
    None,
    Rules(texting_robots::Robot),
}

impl Robots {
    /// Whether our agent may fetch `url`.
    pub fn allowed(&self, url: &Url) -> bool {
        match &self.rules {
            Access::All => true,
            Access::None => false,
            Access::Rules(r) => r.allowed(url.as_str()),
        }
    }

    /// Rules parsed from a robots.txt body, for `agent` (the product token of the user agent).
    pub fn parse(agent: &str, body: &[u8], base: &Url) -> Robots {
        match texting_robots::Robot::new(agent, body) {
            Ok(robot) => Robots {
                sitemaps: robot
                    .sitemaps
                    .iter()
                    .filter_map(|s| base.join(s.trim()).ok())
                    .collect(),
                crawl_delay: robot
                    .delay
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| Duration::from_secs_f32(d.min(60.0))),
                rules: Access::Rules(robot),
                failure: None,
            },
            Err(_) => Robots::allow_all(),
        }
    }

    fn allow_all() -> Robots {
        Robots {
            rules: Access::All,
            sitemaps: Vec::new(),
            crawl_delay: None,
            failure: None,
        }
    }
}

/// The product token robots.txt groups are matched against: `affcheck` for `affcheck/0.1 (+…)`.
pub fn agent_token(user_agent: &str) -> &str {
    user_agent
        .split(['/', ' '])
        .next()
        .filter(|t| !t.is_empty())
        .unwrap_or("affcheck")
}

/// robots.txt of every origin seen, fetched at most once each.
#[derive(Default)]
pub struct RobotsCache {
    origins: Mutex<HashMap<String, Arc<OnceCell<Arc<Robots>>>>>,
}

impl RobotsCache {
    /// The rules for the origin of `url`, fetching robots.txt on first use. Following RFC 9309, a
    /// 4xx answer means no rules, and an unreachable robots.txt (5xx or network error after
    /// retries) means the whole origin is off limits.
    pub async fn get(&self, fetcher: &Fetcher, agent: &str, url: &Url) -> Arc<Robots> {
        let origin = url.origin().ascii_serialization();
        let cell = {
            let mut map = self.origins.lock().expect("robots cache poisoned");
            map.entry(origin.clone()).or_default().clone()
        };
        cell.get_or_init(|| async {
            let robots = Arc::new(fetch(fetcher, agent, &origin).await);
            if let (Some(delay), Ok(u)) = (robots.crawl_delay, Url::parse(&origin)) {
                fetcher.set_min_delay(&u, delay);
            }
            robots
        })
        .await
        .clone()
    }
}

async fn fetch(fetcher: &Fetcher, agent: &str, origin: &str) -> Robots {
    let Ok(mut url) = Url::parse(&format!("{origin}/robots.txt")) else {
        return Robots::allow_all();
    };
    // RFC 9309 §2.3.1.2: follow at least five redirects.
    for _ in 0..6 {
        match fetcher.get(&url, Want::Any).await {
            Ok(f) if (300..400).contains(&f.status) => match f.location {
                Some(next) => url = next,
                None => return Robots::allow_all(),
            },
            Ok(f) if (200..300).contains(&f.status) => {
                return Robots::parse(agent, &f.body.unwrap_or_default(), &url);
            }
            Ok(f) if (400..500).contains(&f.status) => return Robots::allow_all(),
            Ok(f) => {
                return unreachable(Some(f.status), &format!("HTTP {}", f.status), f.attempts);
            }
            Err(e) => return unreachable(e.status, &e.message, e.attempts),
        }
    }
    Robots::allow_all()
}

fn unreachable(status: Option<u16>, why: &str, attempts: u32) -> Robots {
    Robots {
        rules: Access::None,
        sitemaps: Vec::new(),
        crawl_delay: None,
        failure: Some(Failure {
            status,
            message: format!(
                "{why}; robots.txt is unreachable, so the site is treated as disallowed (RFC 9309); use --ignore-robots to crawl anyway"
            ),
            attempts,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_our_agent_apply() {
        let base = Url::parse("https://e.com/robots.txt").unwrap();
        let txt = b"User-agent: *\nDisallow: /private/\n\nUser-agent: affcheck\nDisallow: /drafts/\nCrawl-delay: 2\nSitemap: /sitemap.xml\n";
        let r = Robots::parse("affcheck", txt, &base);
        assert!(!r.allowed(&Url::parse("https://e.com/drafts/x").unwrap()));
        assert!(r.allowed(&Url::parse("https://e.com/private/x").unwrap()));
        assert_eq!(r.crawl_delay, Some(Duration::from_secs(2)));
        assert_eq!(r.sitemaps[0].as_str(), "https://e.com/sitemap.xml");
        let other = Robots::parse("otherbot", txt, &base);
        assert!(!other.allowed(&Url::parse("https://e.com/private/x").unwrap()));
    }

    #[test]
    fn agent_token_is_the_product_name() {
        assert_eq!(agent_token("affcheck/0.1.0 (+https://x)"), "affcheck");
        assert_eq!(agent_token("MyBot"), "MyBot");
        assert_eq!(agent_token(""), "affcheck");
    }
}

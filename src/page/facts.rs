//! Page-level facts, read as the walk meets the elements that state them: the `<base href>`, the
//! canonical and next links, `<html lang>`, the site's own names (meta tags, JSON-LD, `<title>`,
//! the host) and the monetization scripts the page loads.

use html5ever::local_name;

use super::dom::collapse;
use super::dom::resolve;
use super::tree::Elem;
use super::{Page, ScriptUse};
use crate::rules::{Ruleset, SiteNames};

/// What the walk has seen of the elements that count only once.
#[derive(Default)]
pub(super) struct Facts {
    base_seen: bool,
    title_seen: bool,
}

impl Facts {
    /// Records on `page` what `el` states about the page as a whole, if anything. `inline_text`
    /// gives the element's text; it is called only for scripts and the title.
    pub(super) fn element(
        &mut self,
        page: &mut Page,
        rules: &Ruleset,
        el: &Elem<'_>,
        line: u32,
        inline_text: impl FnOnce() -> String,
    ) {
        match el.name() {
            "script" => script(page, rules, el, line, inline_text),
            "base" if !self.base_seen => {
                self.base_seen = true;
                if let Some(href) = el.attr(&local_name!("href")) {
                    page.base = resolve(page.base.as_ref(), href).or(page.base.take());
                }
            }
            "link" => {
                let rel = el.attr(&local_name!("rel")).unwrap_or("");
                let has = |name: &str| {
                    rel.split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case(name))
                };
                if has("canonical") && page.canonical.is_none() {
                    page.canonical = el
                        .attr(&local_name!("href"))
                        .and_then(|h| resolve(page.base.as_ref(), h));
                }
                if has("next")
                    && let Some(url) = el
                        .attr(&local_name!("href"))
                        .and_then(|h| resolve(page.base.as_ref(), h))
                {
                    page.rel_next.push(url);
                }
            }
            "html" => page.lang = el.attr(&local_name!("lang")).map(str::to_string),
            "meta" => {
                let key = el
                    .attr(&local_name!("property"))
                    .or_else(|| el.attr(&local_name!("name")))
                    .unwrap_or("");
                if (key.eq_ignore_ascii_case("og:site_name")
                    || key.eq_ignore_ascii_case("application-name"))
                    && let Some(content) = el.attr(&local_name!("content"))
                {
                    page.site_names.add(content);
                }
            }
            "title" if !self.title_seen => {
                self.title_seen = true;
                let title = collapse(&inline_text());
                if let Some(name) = title_site_name(&title) {
                    page.site_names.add(name);
                }
            }
            _ => {}
        }
    }
}

/// Records a monetization script, or the site names of a JSON-LD block.
fn script(
    page: &mut Page,
    rules: &Ruleset,
    el: &Elem<'_>,
    line: u32,
    inline_text: impl FnOnce() -> String,
) {
    let kind = el
        .attr(&local_name!("type"))
        .map(|t| t.trim().to_ascii_lowercase());
    if kind.as_deref() == Some("application/ld+json") {
        json_ld_names(&inline_text(), &mut page.site_names);
        return;
    }
    let js = kind.as_deref().is_none_or(|t| {
        t.is_empty() || t == "module" || t.contains("javascript") || t.contains("ecmascript")
    });
    if !js {
        return;
    }
    let found = match el.attr(&local_name!("src")) {
        Some(src) => resolve(page.base.as_ref(), src).and_then(|url| {
            rules
                .script_by_src(&url)
                .map(|n| (n.to_string(), url.to_string()))
        }),
        None => rules
            .script_by_inline(&inline_text())
            .map(|n| (n.to_string(), String::new())),
    };
    if let Some((name, url)) = found {
        page.scripts.push(ScriptUse { name, url, line });
    }
}

/// Adds the name part of the page's host (`trustedreviews` for `www.trustedreviews.com`) to its
/// site names.
pub(super) fn add_host_name(page: &mut Page) {
    if let Some(host) = page.base.as_ref().and_then(|u| u.host_str())
        && let Some(name) = registrable_name(host)
    {
        page.site_names.add(name);
    }
}

/// The name part of a host's registrable domain: `trustedreviews` for `www.trustedreviews.com`,
/// nothing for IP addresses and hosts without a public suffix.
fn registrable_name(host: &str) -> Option<&str> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    let domain = psl::domain_str(host)?;
    let suffix = psl::suffix_str(host)?;
    domain
        .strip_suffix(suffix)
        .map(|d| d.trim_end_matches('.'))
        .filter(|d| !d.is_empty())
}

/// The site's name in a `<title>`: the last part after a separator ("Best tents | Acme Outdoors").
fn title_site_name(title: &str) -> Option<&str> {
    const SEPARATORS: [&str; 7] = [" | ", " - ", " – ", " — ", " · ", " :: ", " » "];
    let at = SEPARATORS
        .iter()
        .filter_map(|sep| title.rfind(sep).map(|i| i + sep.len()))
        .max()?;
    let name = title[at..].trim();
    // A long tail is a second headline, not a name.
    (!name.is_empty() && name.split_whitespace().count() <= 5).then_some(name)
}

/// Names in a JSON-LD block: `name` of a `WebSite` or `Organization`/`NewsMediaOrganization`
/// (top level or in `@graph`), and `publisher.name`.
fn json_ld_names(json: &str, names: &mut SiteNames) {
    fn visit(v: &serde_json::Value, names: &mut SiteNames, depth: usize) {
        if depth > 6 {
            return;
        }
        match v {
            serde_json::Value::Array(items) => {
                for item in items.iter().take(64) {
                    visit(item, names, depth + 1);
                }
            }
            serde_json::Value::Object(map) => {
                let kind = map.get("@type").map(|t| t.to_string()).unwrap_or_default();
                if ["WebSite", "Organization", "NewsMediaOrganization", "Blog"]
                    .iter()
                    .any(|k| kind.contains(k))
                    && let Some(serde_json::Value::String(name)) = map.get("name")
                {
                    names.add(name);
                }
                if let Some(publisher) = map.get("publisher")
                    && let Some(serde_json::Value::String(name)) = publisher.get("name")
                {
                    names.add(name);
                }
                if let Some(graph) = map.get("@graph") {
                    visit(graph, names, depth + 1);
                }
            }
            _ => {}
        }
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(json) {
        visit(&v, names, 0);
    }
}

#[cfg(test)]
mod tests {
    use crate::page::test_page as page;

    #[test]
    fn base_href_changes_resolution() {
        let p = page("<head><base href=\"https://other.example/dir/\"></head><a href=\"x\">x</a>");
        assert_eq!(
            p.links[0].url.as_ref().unwrap().as_str(),
            "https://other.example/dir/x"
        );
    }

    #[test]
    fn monetization_scripts_by_src_not_json() {
        let p = page(concat!(
            "<script async src=\"https://s.skimresources.com/js/1X2.skimlinks.js\"></script>",
            "<script type=\"application/ld+json\">{\"u\":\"https://s.skimresources.com/js/1X2.skimlinks.js\"}</script>",
        ));
        assert_eq!(p.scripts.len(), 1);
        assert_eq!(p.scripts[0].name, "Skimlinks");
    }
}

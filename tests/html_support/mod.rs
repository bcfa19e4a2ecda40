//! Readers for the HTML report in tests: its headline figures, its embedded JSON data, and the
//! check that it loads nothing from the network.
#![allow(dead_code)]

use serde_json::Value;

/// The value of the headline figure `key` (`pages`, `links`, `violations`, `compliant`).
pub fn figure(html: &str, key: &str) -> String {
    let start = format!("data-figure=\"{key}\"><div class=\"value\">");
    let at = html
        .find(&start)
        .unwrap_or_else(|| panic!("no figure {key} in the report"))
        + start.len();
    html[at..].split('<').next().unwrap().to_string()
}

/// The count in the severity breakdown of the violations figure (`error`, `warning`, `notice`).
pub fn severity_figure(html: &str, severity: &str) -> usize {
    let start = format!("data-severity=\"{severity}\">");
    let at = html
        .find(&start)
        .unwrap_or_else(|| panic!("no {severity} count in the report"))
        + start.len();
    html[at..]
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

/// The JSON inside `<script type="application/json" id="ID">`.
pub fn json_element(html: &str, id: &str) -> Value {
    let start = format!("<script type=\"application/json\" id=\"{id}\">");
    let at = html
        .find(&start)
        .unwrap_or_else(|| panic!("no data element {id}"))
        + start.len();
    let end = at + html[at..].find("</script>").expect("the data element ends");
    serde_json::from_str(&html[at..end]).unwrap_or_else(|e| panic!("data element {id}: {e}"))
}

/// `n` with thousands separators, as the report writes figures.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One finding of the report's data as `(page, rule, line, link_url)`.
pub fn data_findings(html: &str) -> Vec<(String, String, u64, String)> {
    let pages = json_element(html, "affcheck-pages");
    let meta = json_element(html, "affcheck-meta");
    let mut out = Vec::new();
    for p in pages.as_array().unwrap() {
        for f in p["f"].as_array().unwrap() {
            let rule = meta["rules"][f[0].as_u64().unwrap() as usize]["id"]
                .as_str()
                .unwrap()
                .to_string();
            let link = f[5].as_i64().unwrap();
            let url = if link >= 0 {
                p["l"][link as usize][0].as_str().unwrap()
            } else {
                f[6].as_str().unwrap()
            };
            out.push((
                p["u"].as_str().unwrap().to_string(),
                rule,
                f[2].as_u64().unwrap(),
                url.to_string(),
            ));
        }
    }
    out
}

/// Asserts that the report is one file: no tag that loads a resource (script, stylesheet, image,
/// frame, media, SVG `use`/`image`) names a URL or a file, and the styles import nothing.
pub fn assert_self_contained(html: &str) {
    let tag = regex::Regex::new(
        r"(?is)<(script|link|img|iframe|frame|source|embed|object|audio|video|track|use|image|input)\b[^>]*>",
    )
    .unwrap();
    let attr = regex::Regex::new(r#"(?is)\b(src|href|srcset|data|xlink:href|poster)\s*="#).unwrap();
    for m in tag.find_iter(html) {
        assert!(
            !attr.is_match(m.as_str()),
            "a tag loads an outside resource: {}",
            m.as_str()
        );
    }
    let external = regex::Regex::new(r#"(?i)(src|href)\s*=\s*["']?\s*(https?:)?//"#).unwrap();
    for m in external.find_iter(html) {
        let before = &html[..m.start()];
        let open = before.rfind('<').unwrap();
        assert!(
            before[open..].starts_with("<a "),
            "only <a> may point outside: {}",
            &html[open..m.end() + 40]
        );
    }
    let style_at = html.find("<style>").expect("inline styles") + "<style>".len();
    let style = &html[style_at..style_at + html[style_at..].find("</style>").unwrap()];
    for needle in ["@import", "url(", "@font-face"] {
        assert!(!style.contains(needle), "the styles load {needle}");
    }
    assert_eq!(html.matches("<style").count(), 1, "one style element");
}

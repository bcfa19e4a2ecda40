//! Small readers the parts of the page stage share: link targets and white space folding.

use url::Url;

/// Resolves `href` against `base`; a missing base resolves only absolute URLs.
pub(super) fn resolve(base: Option<&Url>, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    match base {
        Some(base) => base.join(href).ok(),
        None => Url::parse(href).ok(),
    }
}

/// Appends `text` to `out` with runs of white space folded to one space, never starting `out` with a
/// space nor putting one after a line break (from `<br>`).
pub(super) fn append_collapsed(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// White space folded and trimmed.
pub(super) fn collapse(text: &str) -> String {
    let mut out = String::new();
    append_collapsed(&mut out, text);
    out.trim().to_string()
}

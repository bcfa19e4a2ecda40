//! Source lines of links: the line a multi-line `<a …>` tag starts on, from the line html5ever
//! reports (where the tag ends).

use rustc_hash::FxHashMap;

use super::Page;

/// html5ever reports the line where a start tag *ends*; a tag spread over several lines
/// (`<a\n href=…\n rel=…>`) must be reported where it starts. When the reported line holds no
/// `<a` / `<area` tag opening, the nearest earlier line that does is the start.
pub(super) fn fix_tag_start_lines(text: &str, page: &mut Page) {
    fn opens_link(line: &str) -> bool {
        let bytes = line.as_bytes();
        let mut from = 0;
        while let Some(i) = line[from..].find('<') {
            let at = from + i + 1;
            let rest = &bytes[at..];
            let name_len = if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case(b"area") {
                4
            } else if !rest.is_empty() && rest[0].eq_ignore_ascii_case(&b'a') {
                1
            } else {
                0
            };
            if name_len > 0
                && rest
                    .get(name_len)
                    .is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/')
            {
                return true;
            }
            from = at;
        }
        false
    }
    if page.links.is_empty() {
        return;
    }
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_text = |n: u32| -> &str {
        let i = n as usize - 1;
        let end = starts.get(i + 1).map_or(text.len(), |e| e - 1);
        &text[starts[i]..end]
    };
    // Each line is scanned once however many links it holds: a page on one long line with
    // thousands of links would otherwise cost lines × links.
    let mut memo: FxHashMap<u32, bool> = FxHashMap::default();
    let mut opens = |n: u32| *memo.entry(n).or_insert_with(|| opens_link(line_text(n)));
    for link in &mut page.links {
        let n = link.line;
        if n == 0 || n as usize > starts.len() || opens(n) {
            continue;
        }
        // A tag rarely spans more than a few lines; look back a bounded distance.
        if let Some(start) = (n.saturating_sub(50).max(1)..n).rev().find(|&k| opens(k)) {
            link.line = start;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::page::test_page as page;

    #[test]
    fn a_tag_spread_over_lines_is_reported_where_it_starts() {
        let p = page(
            "<p>Intro</p>\n<p><a\n  href=\"/go/x\"\n  rel=\"sponsored\">X</a>\n<A HREF=\"/b\">B</A> <area\nhref=\"/c\"></p>",
        );
        let lines: Vec<u32> = p.links.iter().map(|l| l.line).collect();
        assert_eq!(lines, [2, 5, 5]);
    }
}

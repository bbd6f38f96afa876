//! Highlighted snippets: the stretch of the original text (with its diacritics)
//! where the folded query words are densest, HTML-escaped, matches in `<mark>`.

use crate::text;

/// Words either side of the densest stretch.
const WINDOW: usize = 24;

/// The snippet of `source` for the folded `terms` (and a `prefix` being typed), or
/// `None` when nothing in it matches.
pub fn snippet(source: &str, terms: &[String], prefix: Option<&str>) -> Option<String> {
    // Words with their byte ranges, and whether each matches.
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in source
        .char_indices()
        .chain(std::iter::once((source.len(), ' ')))
    {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let folded = text::fold(&source[s..i]);
                let hit = terms.contains(&folded) || prefix.is_some_and(|p| folded.starts_with(p));
                words.push((s, i, hit));
                start = None;
            }
            _ => {}
        }
    }
    let hits: Vec<usize> = (0..words.len()).filter(|&i| words[i].2).collect();
    if hits.is_empty() {
        return None;
    }
    // The window of WINDOW words holding the most matches (the earliest on a tie).
    let (mut best, mut best_count, mut j) = (hits[0], 0, 0);
    for (i, &first) in hits.iter().enumerate() {
        while j < hits.len() && hits[j] < first + WINDOW {
            j += 1;
        }
        if j - i > best_count {
            best_count = j - i;
            best = first;
        }
    }
    let from = best.saturating_sub(4);
    let to = (from + WINDOW).min(words.len());
    // Whole text at the ends; cut at word boundaries inside.
    let begin = if from == 0 { 0 } else { words[from].0 };
    let end = if to == words.len() {
        source.len()
    } else {
        words[to - 1].1
    };
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut at = begin;
    for &(s, e, hit) in &words[from..to] {
        if hit {
            escape(&source[at..s], &mut out);
            out.push_str("<mark>");
            escape(&source[s..e], &mut out);
            out.push_str("</mark>");
            at = e;
        }
    }
    escape(&source[at..end], &mut out);
    if to < words.len() {
        out.push('…');
    }
    Some(out)
}

/// The start of `source`, HTML-escaped, when nothing in it matched.
pub fn plain(source: &str) -> String {
    let mut out = String::new();
    let mut words = source.split_whitespace();
    let start: Vec<&str> = words.by_ref().take(WINDOW).collect();
    escape(&start.join(" "), &mut out);
    if words.next().is_some() {
        out.push('…');
    }
    out
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked_in_the_original_text() {
        let terms = vec!["thong".to_owned(), "tin".to_owned()];
        assert_eq!(
            snippet("Công tác thông tin <đối ngoại>", &terms, None).as_deref(),
            Some("Công tác <mark>thông</mark> <mark>tin</mark> &lt;đối ngoại&gt;")
        );
        assert_eq!(
            snippet("Đối ngoại", &terms, Some("doi")).as_deref(),
            Some("<mark>Đối</mark> ngoại")
        );
        assert_eq!(snippet("Kinh tế", &terms, None), None);
        let long = format!("{} thông tin {}", "chữ ".repeat(40), "chữ ".repeat(40));
        let cut = snippet(&long, &terms, None).unwrap_or_default();
        assert!(
            cut.starts_with('…') && cut.ends_with('…') && cut.contains("<mark>thông</mark>"),
            "{cut}"
        );
    }
}

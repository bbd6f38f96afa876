//! A search: the query text parsed into words and phrases, turned into one tantivy
//! query that ranks exact diacritics above folded matches, titles above summaries
//! above bodies, whole phrases above scattered words, and then newer above older.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::Bound;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, EnableScoring, Occur, PhraseQuery, Query, RangeQuery, RegexQuery,
    TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Term};

use super::{Fields, SearchError, SearchIndex};
use crate::text;

/// The kinds of record the index holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SearchKind {
    Article,
    Person,
    Organization,
    Event,
    Document,
}

impl SearchKind {
    const ALL: [Self; 5] = [
        Self::Article,
        Self::Person,
        Self::Organization,
        Self::Event,
        Self::Document,
    ];

    /// The name in the index.
    pub fn name(self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Person => "person",
            Self::Organization => "organization",
            Self::Event => "event",
            Self::Document => "document",
        }
    }

    /// The kind and a row id as one number.
    pub(crate) fn reference(self, id: i64) -> u64 {
        (self as u64) << 56 | (id as u64 & ((1 << 56) - 1))
    }

    fn from_reference(reference: u64) -> Option<(Self, i64)> {
        let kind = Self::ALL.get((reference >> 56) as usize)?;
        Some((*kind, (reference & ((1 << 56) - 1)) as i64))
    }
}

/// One result: what it is, how well it matched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub kind: SearchKind,
    pub id: i64,
    pub score: f32,
}

/// A word of the query: as typed (NFC, lowercase) and folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub exact: String,
    pub folded: String,
}

/// The query text, parsed: bare words, quoted phrases, and whether the last bare
/// word is still being typed (a prefix).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub words: Vec<Word>,
    pub phrases: Vec<Vec<Word>>,
    pub prefix: bool,
}

/// The most words a query may have; more are ignored.
const MAX_WORDS: usize = 16;
/// The shortest prefix that is expanded (a single letter matches as a word).
const MIN_PREFIX: usize = 2;
/// Hits beyond the page that are ranked too, so ties at the edge break the same way
/// whatever order the index holds the documents in.
const TIE_MARGIN: usize = 32;
/// The fewest candidates the pruned pass hands to the exact ranking.
const MIN_POOL: usize = 200;

fn words(text: &str) -> Vec<Word> {
    text::nfc(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= 64)
        .map(|w| {
            let exact = w.to_lowercase();
            let folded = text::fold(&exact);
            Word { exact, folded }
        })
        .collect()
}

impl Parsed {
    /// Reads a query: `"quoted phrases"` and bare words; the last bare word is a
    /// prefix unless the query ends with a space or a quote.
    pub fn new(query: &str) -> Self {
        let mut parsed = Parsed::default();
        for (i, part) in query.split('"').enumerate() {
            if i % 2 == 1 {
                let phrase = words(part);
                if !phrase.is_empty() {
                    parsed.phrases.push(phrase);
                }
            } else {
                parsed.words.extend(words(part));
            }
        }
        let quotes = query.matches('"').count();
        parsed.prefix = quotes.is_multiple_of(2)
            && query.ends_with(|c: char| c.is_alphanumeric())
            && !query.trim_end().ends_with('"')
            && parsed
                .words
                .last()
                .is_some_and(|w| w.folded.chars().count() >= MIN_PREFIX);
        parsed.words.truncate(MAX_WORDS);
        parsed.phrases.truncate(MAX_WORDS);
        parsed
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.phrases.is_empty()
    }

    /// The folded words to highlight, and the prefix being typed.
    pub fn highlights(&self) -> (Vec<String>, Option<String>) {
        let mut terms: Vec<String> = self
            .words
            .iter()
            .chain(self.phrases.iter().flatten())
            .map(|w| w.folded.clone())
            .collect();
        let prefix = if self.prefix { terms.pop() } else { None };
        if let Some(prefix) = &prefix {
            // The whole word counts too when it is already complete.
            terms.push(prefix.clone());
        }
        (terms, prefix)
    }
}

/// "TƯ" (Trung ương) in a document code is indexed as its usual abbreviation "TW".
fn code_form(folded: &str) -> &str {
    if folded == "tu" { "tw" } else { folded }
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn boost(query: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    if by == 1.0 {
        query
    } else {
        Box::new(BoostQuery::new(query, by))
    }
}

fn any(clauses: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        clauses.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

fn phrase(field: Field, words: &[&str]) -> Box<dyn Query> {
    match words {
        [one] => term(field, one),
        _ => Box::new(PhraseQuery::new(
            words
                .iter()
                .map(|w| Term::from_field_text(field, w))
                .collect(),
        )),
    }
}

/// Field weights: a title or name counts most, then a summary, then a body.
const TITLE: f32 = 4.0;
const SUMMARY: f32 = 2.0;
const BODY: f32 = 1.0;
/// The extra weight of the same word with its diacritics as typed.
const EXACT: f32 = 1.5;
/// The extra weight of all the words as one phrase.
const WHOLE_PHRASE: f32 = 3.0;
/// The weight of a title word that only starts with the word being typed: below
/// any whole-word match, so "lúa" finds "lúa" before "luận".
const PREFIX: f32 = 0.5;

/// A word that must appear in some field (or, for a prefix, start a word of the
/// title); its exact form scores extra.
fn word_clause(f: &Fields, word: &Word, prefix: bool) -> Vec<Box<dyn Query>> {
    let mut clauses = vec![
        boost(term(f.title, &word.folded), TITLE),
        boost(term(f.summary, &word.folded), SUMMARY),
        boost(term(f.body, &word.folded), BODY),
        boost(term(f.code, code_form(&word.folded)), TITLE),
    ];
    if word.exact != word.folded {
        clauses.push(boost(term(f.title_exact, &word.exact), TITLE * EXACT));
        clauses.push(boost(term(f.summary_exact, &word.exact), SUMMARY * EXACT));
    }
    if prefix
        && let Ok(regex) =
            RegexQuery::from_pattern(&format!("{}.*", regex_escape(&word.folded)), f.title)
    {
        clauses.push(boost(Box::new(regex), PREFIX));
    }
    clauses
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = !c.is_alphanumeric();
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

fn phrase_clause(f: &Fields, words: &[Word], weights: [f32; 3]) -> Vec<Box<dyn Query>> {
    let folded: Vec<&str> = words.iter().map(|w| w.folded.as_str()).collect();
    let code: Vec<&str> = folded.iter().map(|w| code_form(w)).collect();
    vec![
        boost(phrase(f.title, &folded), weights[0]),
        boost(phrase(f.summary, &folded), weights[1]),
        boost(phrase(f.body, &folded), weights[2]),
        boost(phrase(f.code, &code), weights[0]),
    ]
}

/// The ranking: groups of alternatives of which at least one must match (a word in
/// some field, a quoted phrase in some field), each matching alternative adding its
/// score, and alternatives that only add (the whole phrase).
struct Ranking {
    required: Vec<Vec<Box<dyn Query>>>,
    bonus: Vec<Box<dyn Query>>,
}

impl Ranking {
    /// The same as one boolean query (what counting and filtered searches run).
    fn into_clauses(self) -> Vec<(Occur, Box<dyn Query>)> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = self
            .required
            .into_iter()
            .map(|group| (Occur::Must, any(group)))
            .collect();
        if !self.bonus.is_empty() {
            clauses.push((Occur::Should, any(self.bonus)));
        }
        clauses
    }
}

/// The ranking, ready to score single documents: a boolean query's scorer walks
/// its unions a few thousand documents at a time, which is wasted on a few hundred
/// scattered candidates; term and phrase scorers seek straight to each.
struct Scoring {
    required: Vec<Vec<Box<dyn Weight>>>,
    bonus: Vec<Box<dyn Weight>>,
}

type Scorers = (
    Vec<Vec<Box<dyn tantivy::query::Scorer>>>,
    Vec<Box<dyn tantivy::query::Scorer>>,
);

impl Scoring {
    fn new(ranking: Ranking, searcher: &tantivy::Searcher) -> tantivy::Result<Self> {
        let enable = || EnableScoring::enabled_from_searcher(searcher);
        Ok(Self {
            required: ranking
                .required
                .iter()
                .map(|group| group.iter().map(|q| q.weight(enable())).collect())
                .collect::<tantivy::Result<_>>()?,
            bonus: ranking
                .bonus
                .iter()
                .map(|q| q.weight(enable()))
                .collect::<tantivy::Result<_>>()?,
        })
    }

    fn scorers(&self, reader: &tantivy::SegmentReader) -> tantivy::Result<Scorers> {
        Ok((
            self.required
                .iter()
                .map(|group| group.iter().map(|w| w.scorer(reader, 1.0)).collect())
                .collect::<tantivy::Result<_>>()?,
            self.bonus
                .iter()
                .map(|w| w.scorer(reader, 1.0))
                .collect::<tantivy::Result<_>>()?,
        ))
    }

    /// The score of `doc` (visited in increasing order), or `None` when a required
    /// group does not match it.
    fn score(scorers: &mut Scorers, doc: DocId) -> Option<Score> {
        let mut at = |scorer: &mut Box<dyn tantivy::query::Scorer>| {
            if scorer.doc() < doc {
                scorer.seek(doc);
            }
            (scorer.doc() == doc).then(|| scorer.score())
        };
        let mut total = 0.0;
        for group in &mut scorers.0 {
            let matched: Vec<Score> = group.iter_mut().filter_map(&mut at).collect();
            if matched.is_empty() {
                return None;
            }
            total += matched.iter().sum::<Score>();
        }
        Some(total + scorers.1.iter_mut().filter_map(&mut at).sum::<Score>())
    }
}

/// What to look for, for whom, and which page.
#[derive(Clone, Debug)]
pub struct Search {
    /// The query as typed.
    pub parsed: Parsed,
    /// The kinds wanted; all when empty.
    pub kinds: Vec<SearchKind>,
    /// A reader's "now" (microseconds): only what is public by then. `None`: an
    /// editor, who sees unpublished articles too.
    pub public_at: Option<i64>,
    /// Hits to skip.
    pub offset: usize,
    /// Hits wanted.
    pub limit: usize,
}

impl Search {
    /// The query that ranks: every word in some field, field weights, exact forms,
    /// the whole phrase, quoted phrases. Without the viewer's and types' filters.
    fn ranking(&self, f: &Fields) -> Ranking {
        let p = &self.parsed;
        let last = p.words.len().saturating_sub(1);
        let mut required: Vec<Vec<Box<dyn Query>>> = p
            .words
            .iter()
            .enumerate()
            .map(|(i, word)| word_clause(f, word, p.prefix && i == last))
            .collect();
        for words in &p.phrases {
            required.push(phrase_clause(f, words, [TITLE, SUMMARY, BODY]));
        }
        let bonus = if p.words.len() >= 2 {
            let weights = [
                TITLE * WHOLE_PHRASE,
                SUMMARY * WHOLE_PHRASE,
                BODY * WHOLE_PHRASE,
            ];
            phrase_clause(f, &p.words, weights)
        } else {
            Vec::new()
        };
        Ranking { required, bonus }
    }

    /// The viewer's and the types' filters.
    fn filters(&self, f: &Fields) -> Vec<(Occur, Box<dyn Query>)> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(now) = self.public_at {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Included(Term::from_field_i64(f.public_from, now)),
                )),
            ));
        }
        if self.narrowed() {
            let kinds = self.kinds.iter().map(|k| term(f.kind, k.name())).collect();
            clauses.push((Occur::Must, any(kinds)));
        }
        clauses
    }

    fn narrowed(&self) -> bool {
        !self.kinds.is_empty() && self.kinds.len() < SearchKind::ALL.len()
    }

    /// The queries that find candidates: all the words in the combined field, a pure
    /// term intersection that tantivy prunes to the top hits (block-max WAND) instead
    /// of scoring every match; a word being typed also as the prefix of a title
    /// word. Type filters: the ranking query itself (the kinds are few).
    fn candidate_queries(&self, f: &Fields) -> Vec<Box<dyn Query>> {
        let p = &self.parsed;
        if self.narrowed() {
            let mut clauses = self.ranking(f).into_clauses();
            clauses.extend(self.filters(f));
            return vec![Box::new(BooleanQuery::new(clauses))];
        }
        let all = |word: &Word| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f.all, &word.folded),
                IndexRecordOption::WithFreqs,
            ))
        };
        let intersection = |mut clauses: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            if clauses.len() == 1 {
                clauses.remove(0)
            } else {
                Box::new(BooleanQuery::new(
                    clauses.into_iter().map(|q| (Occur::Must, q)).collect(),
                ))
            }
        };
        // A quoted phrase's words are candidates' words too; the ranking keeps only
        // the candidates where they stand together.
        let words: Vec<&Word> = p.words.iter().chain(p.phrases.iter().flatten()).collect();
        let mut queries = vec![intersection(words.iter().map(|w| all(w)).collect())];
        if p.prefix
            && let Some((typing, done)) = p.words.split_last()
            && let Ok(regex) =
                RegexQuery::from_pattern(&format!("{}.*", regex_escape(&typing.folded)), f.title)
        {
            let mut clauses: Vec<Box<dyn Query>> = done
                .iter()
                .chain(p.phrases.iter().flatten())
                .map(all)
                .collect();
            clauses.push(Box::new(regex));
            queries.push(intersection(clauses));
        }
        queries
    }

    /// The page of hits, best first: candidates from the pruned queries, then the
    /// ranking query's exact score for each, the viewer's filter, and the order.
    pub(crate) fn run(&self, index: &SearchIndex) -> Result<Vec<Hit>, SearchError> {
        if self.parsed.is_empty() || self.limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = index.reader.searcher();
        let f = &index.fields;
        let scoring = Scoring::new(self.ranking(f), &searcher)?;
        let candidates = self.candidate_queries(f);
        let wanted = self.offset + self.limit + TIE_MARGIN;
        let mut pool = (wanted * 4).max(MIN_POOL);
        loop {
            let mut found: BTreeSet<DocAddress> = BTreeSet::new();
            let mut exhausted = true;
            for query in &candidates {
                let top: Vec<(Score, DocAddress)> =
                    searcher.search(query.as_ref(), &TopDocs::with_limit(pool).order_by_score())?;
                exhausted &= top.len() < pool;
                found.extend(top.into_iter().map(|(_, address)| address));
            }
            let ranked = self.rank(&searcher, &scoring, &found)?;
            if ranked.len() >= wanted || exhausted {
                return Ok(ranked
                    .into_iter()
                    .skip(self.offset)
                    .take(self.limit)
                    .collect());
            }
            // Too many candidates were hidden from this viewer: look further.
            pool *= 4;
        }
    }

    /// Scores the candidates with the ranking query, keeps those the viewer may see
    /// and the types asked for, and orders them: score, then newer, then the kind
    /// and id (so ties break the same way whatever the index's layout).
    fn rank(
        &self,
        searcher: &tantivy::Searcher,
        scoring: &Scoring,
        candidates: &BTreeSet<DocAddress>,
    ) -> Result<Vec<Hit>, SearchError> {
        let mut ranked = Vec::with_capacity(candidates.len());
        let mut segment = None;
        for address in candidates {
            if segment
                .as_ref()
                .is_none_or(|(ord, _, _)| *ord != address.segment_ord)
            {
                let reader = searcher.segment_reader(address.segment_ord);
                let fast = reader.fast_fields();
                let columns = (
                    fast.u64("ref")?,
                    fast.i64("recency")?,
                    fast.i64("public_from")?,
                );
                segment = Some((address.segment_ord, scoring.scorers(reader)?, columns));
            }
            let Some((_, scorer, (reference, recency, public_from))) = segment.as_mut() else {
                continue;
            };
            let doc = address.doc_id;
            let Some(score) = Scoring::score(scorer, doc) else {
                continue;
            };
            let visible = self
                .public_at
                .is_none_or(|now| public_from.first(doc).is_some_and(|from| from <= now));
            let Some((kind, id)) = reference.first(doc).and_then(SearchKind::from_reference) else {
                continue;
            };
            if !visible || (self.narrowed() && !self.kinds.contains(&kind)) {
                continue;
            }
            let order = (
                recency.first(doc).unwrap_or(0),
                reference.first(doc).unwrap_or(0),
            );
            ranked.push((Hit { kind, id, score }, order));
        }
        ranked.sort_by(|(a, (a_recency, a_ref)), (b, (b_recency, b_ref))| {
            b.score
                .partial_cmp(&a.score)
                .unwrap_or(Ordering::Equal)
                .then(b_recency.cmp(a_recency))
                .then(a_ref.cmp(b_ref))
        });
        Ok(ranked.into_iter().map(|(hit, _)| hit).collect())
    }

    /// How many records match in all.
    pub(crate) fn count(&self, index: &SearchIndex) -> Result<u64, SearchError> {
        if self.parsed.is_empty() {
            return Ok(0);
        }
        let searcher = index.reader.searcher();
        let mut clauses = self.ranking(&index.fields).into_clauses();
        clauses.extend(self.filters(&index.fields));
        Ok(searcher.search(&BooleanQuery::new(clauses), &Count)? as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(words: &[Word]) -> Vec<&str> {
        words.iter().map(|w| w.folded.as_str()).collect()
    }

    #[test]
    fn queries_parse_into_words_phrases_and_a_prefix() {
        let p = Parsed::new("Võ Văn Thưở");
        assert_eq!(folded(&p.words), ["vo", "van", "thuo"]);
        assert_eq!(p.words[0].exact, "võ");
        assert!(p.prefix);
        let p = Parsed::new("vo van ");
        assert!(!p.prefix);
        let p = Parsed::new(r#""thông tin đối ngoại" kinh"#);
        assert_eq!(folded(&p.phrases[0]), ["thong", "tin", "doi", "ngoai"]);
        assert_eq!(folded(&p.words), ["kinh"]);
        let p = Parsed::new(r#"kinh "doi ngoai""#);
        assert!(!p.prefix);
        // NFD input parses like NFC.
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Thưởng").collect();
        assert_eq!(Parsed::new(&nfd).words, Parsed::new("Thưởng").words);
        assert!(Parsed::new(" ,;- ").is_empty());
        assert_eq!(regex_escape("a.b"), "a\\.b");
    }

    #[test]
    fn references_round_trip() {
        for kind in SearchKind::ALL {
            assert_eq!(
                SearchKind::from_reference(kind.reference(123_456)),
                Some((kind, 123_456))
            );
        }
    }
}

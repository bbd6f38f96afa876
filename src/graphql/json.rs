//! The JSON text of a response, written into one buffer.
//!
//! async-graphql-axum writes a response into an empty `String`, which a front page
//! (some 30 KB) outgrows four times, each time copying what it holds. The body is
//! written here into a buffer made at the size the caller expects (the length of the
//! last response to the same document), so a response of about that size is
//! allocated once and never copied.
//!
//! The data is written here rather than by `serde_json`, whose check of each byte of
//! a string for what must be escaped (a table lookup and a branch per byte) was
//! most of the cost of writing a page: strings are checked eight bytes at a time
//! ([`plain`]), and only the eight bytes that hold such a byte are written byte by
//! byte. The text is the one `serde_json` writes, byte for byte (the tests compare
//! them); errors and extensions, rare and small, are still written by `serde_json`.

use async_graphql::{Response, Value};

/// The body of `response`, in a buffer made for `expected` bytes.
pub fn body(response: &Response, expected: usize) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(expected);
    // The fields of async-graphql's `Response`, in the order it serializes them.
    out.extend_from_slice(b"{\"data\":");
    value(&mut out, &response.data)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut out, &response.errors)?;
    }
    out.push(b'}');
    Ok(out)
}

/// Writes `value` as `serde_json` would.
fn value(out: &mut Vec<u8>, value: &Value) -> Result<(), serde_json::Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(text) => string(out, text),
        Value::Enum(name) => string(out, name),
        Value::List(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                self::value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (index, (name, field)) in fields.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                string(out, name);
                out.push(b':');
                self::value(out, field)?;
            }
            out.push(b'}');
        }
        // Numbers (few in content) and bytes (none) as serde_json writes them.
        Value::Number(_) | Value::Binary(_) => serde_json::to_writer(&mut *out, value)?,
    }
    Ok(())
}

/// `0x01` in every byte of a word.
const ONES: u64 = u64::from_ne_bytes([1; 8]);
/// `0x80` in every byte of a word.
const HIGH: u64 = ONES * 0x80;

/// Whether no byte of `word` is one JSON escapes: a control character (below
/// 0x20), `"` or `\`. Each test is the classic one for a byte below a bound
/// (`(x - bound) & !x & 0x80..`), exact as to whether there is one; for `"` and
/// `\`, of a zero byte after an exclusive or.
fn plain(word: u64) -> bool {
    let below = |x: u64, bound: u64| x.wrapping_sub(ONES * bound) & !x & HIGH;
    let control = below(word, 0x20);
    let quote = below(word ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(word ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash == 0
}

/// How JSON writes the byte `byte` in a string, if not as itself.
fn escape(byte: u8) -> Option<&'static [u8]> {
    const CONTROL: [&[u8]; 32] = [
        b"\\u0000", b"\\u0001", b"\\u0002", b"\\u0003", b"\\u0004", b"\\u0005", b"\\u0006",
        b"\\u0007", b"\\b", b"\\t", b"\\n", b"\\u000b", b"\\f", b"\\r", b"\\u000e", b"\\u000f",
        b"\\u0010", b"\\u0011", b"\\u0012", b"\\u0013", b"\\u0014", b"\\u0015", b"\\u0016",
        b"\\u0017", b"\\u0018", b"\\u0019", b"\\u001a", b"\\u001b", b"\\u001c", b"\\u001d",
        b"\\u001e", b"\\u001f",
    ];
    match byte {
        b'"' => Some(b"\\\""),
        b'\\' => Some(b"\\\\"),
        _ => CONTROL.get(usize::from(byte)).copied(),
    }
}

/// Writes `text` as a JSON string.
fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if needs_no_escape(bytes) {
        out.extend_from_slice(bytes);
    } else {
        escaped(out, bytes);
    }
    out.push(b'"');
}

/// Eight bytes as one word; a zero word (which needs escaping) for a slice of
/// another length, which none is.
fn word(eight: &[u8]) -> u64 {
    <[u8; 8]>::try_from(eight).map_or(0, u64::from_le_bytes)
}

/// Whether no byte of `bytes` needs escaping, checked eight at a time: the last
/// eight overlap the ones before, and a text shorter than eight is padded with
/// spaces (which need none).
fn needs_no_escape(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        let mut padded = [b' '; 8];
        padded[..bytes.len()].copy_from_slice(bytes);
        return plain(u64::from_le_bytes(padded));
    }
    let last = &bytes[bytes.len() - 8..];
    bytes.chunks_exact(8).all(|chunk| plain(word(chunk))) && plain(word(last))
}

/// Writes `bytes`, escaping what JSON escapes: eight bytes at a time while none
/// needs it (an article's paragraphs are long runs between line feeds), byte by
/// byte in the eight that hold one and in the last few.
fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    // The bytes before `done` are written.
    let mut done = 0;
    let mut escape_in = |checked: std::ops::Range<usize>| {
        for index in checked {
            if let Some(escaped) = bytes.get(index).copied().and_then(escape) {
                out.extend_from_slice(&bytes[done..index]);
                out.extend_from_slice(escaped);
                done = index + 1;
            }
        }
    };
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        if !plain(word(chunk)) {
            escape_in(at..at + 8);
        }
        at += 8;
    }
    escape_in(at..bytes.len());
    out.extend_from_slice(&bytes[done..]);
}

#[cfg(test)]
mod tests {
    use async_graphql::indexmap::IndexMap;
    use async_graphql::{Name, Number, ServerError, Value};

    use super::*;

    fn response() -> Response {
        let mut object = IndexMap::new();
        object.insert(
            Name::new("title"),
            Value::String("Hội nghị \"Ban Chấp hành\"\n".repeat(100)),
        );
        let mut error = ServerError::new("không tìm thấy", None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", "NOT_FOUND");
        let mut response = Response::from_errors(vec![error]);
        response.data = Value::Object(object);
        response
    }

    /// The body of `data` alone, as written here and as serde_json writes it.
    fn both(data: Value) -> anyhow::Result<(String, String)> {
        let response = Response::new(data);
        let ours = String::from_utf8(body(&response, 0)?)?;
        let theirs = serde_json::to_string(&response)?;
        Ok((ours, theirs))
    }

    #[test]
    fn the_body_is_the_response_as_json() -> anyhow::Result<()> {
        let response = response();
        assert_eq!(body(&response, 0)?, serde_json::to_vec(&response)?);
        let response = response.extension("cost", Value::from(12));
        assert_eq!(body(&response, 0)?, serde_json::to_vec(&response)?);
        Ok(())
    }

    /// Every character JSON escapes, and some it does not, at every place of the
    /// eight bytes checked together, in texts of every length up to 40 bytes.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() -> anyhow::Result<()> {
        let specials: Vec<char> = (0u8..0x20)
            .chain([b'"', b'\\', b'/', 0x7f, b'a'])
            .map(char::from)
            .chain(['ệ', 'Đ', '\u{2028}', '😀'])
            .collect();
        let base = "Ngày 15/8, Thủ tướng Phạm Minh Chính chủ trì";
        for &special in &specials {
            for length in 0..40 {
                for at in 0..=length.min(base.chars().count()) {
                    let mut text: String = base.chars().cycle().take(length).collect();
                    let byte = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
                    text.insert(byte, special);
                    let (ours, theirs) = both(Value::String(text.clone()))?;
                    assert_eq!(ours, theirs, "{text:?}");
                }
            }
        }
        // Several to escape, far apart and side by side: an article's paragraphs.
        let paragraphs = [base, "\"Trích dẫn\"", "", "\t\\ cuối\r"]
            .repeat(5)
            .join("\n");
        let (ours, theirs) = both(Value::String(paragraphs))?;
        assert_eq!(ours, theirs);
        Ok(())
    }

    #[test]
    fn every_kind_of_value_is_written_as_serde_json_writes_it() -> anyhow::Result<()> {
        let mut inner = IndexMap::new();
        inner.insert(Name::new("số"), Value::Number(Number::from(-42)));
        inner.insert(
            Name::new("float"),
            Value::Number(Number::from_f64(1.5).ok_or_else(|| anyhow::anyhow!("not finite"))?),
        );
        inner.insert(Name::new("big"), Value::Number(Number::from(u64::MAX)));
        inner.insert(Name::new("yes"), Value::Boolean(true));
        inner.insert(Name::new("no"), Value::Boolean(false));
        inner.insert(Name::new("none"), Value::Null);
        inner.insert(Name::new("kind"), Value::Enum(Name::new("PUBLISHED")));
        inner.insert(Name::new("bytes"), Value::Binary(vec![0, 7, 255].into()));
        inner.insert(Name::new("empty"), Value::List(Vec::new()));
        inner.insert(Name::new("nothing"), Value::Object(IndexMap::new()));
        inner.insert(Name::new("key \"quoted\"\n"), Value::String(String::new()));
        let list = Value::List(vec![
            Value::Object(inner.clone()),
            Value::List(vec![Value::Null, Value::String("Hà Nội".into())]),
        ]);
        let mut outer = IndexMap::new();
        outer.insert(Name::new("articles"), list);
        outer.insert(Name::new("one"), Value::Object(inner));
        let (ours, theirs) = both(Value::Object(outer))?;
        assert_eq!(ours, theirs);
        Ok(())
    }

    #[test]
    fn a_body_of_the_expected_size_is_allocated_once() -> anyhow::Result<()> {
        let response = response();
        let length = serde_json::to_vec(&response)?.len();
        let written = body(&response, length)?;
        assert_eq!((written.len(), written.capacity()), (length, length));
        Ok(())
    }
}

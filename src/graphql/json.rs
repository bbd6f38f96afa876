//! The JSON text of a response, written the way `serde_json` writes it, only faster.
//!
//! A front page is some 30 KB of JSON, most of it names and titles in Vietnamese;
//! `serde_json` looks at every byte of a string on its own before copying it, which
//! made writing the response an eighth of the server's work on a front page. Here a
//! string is scanned eight bytes at a time (a byte needs escaping only if it is a
//! control character, `"` or `\`, and none of them is part of a multi-byte
//! character), and the body is allocated once, at the size the caller expects. The
//! output is byte for byte what `serde_json::to_vec(&response)` gives (the tests
//! compare the two); errors and extensions, small and rare, are still written by
//! `serde_json`.

use async_graphql::{Response, Value};

/// The body of `response`, in a buffer made for `expected` bytes.
pub fn body(response: &Response, expected: usize) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(expected);
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

fn value(out: &mut Vec<u8>, value: &Value) -> Result<(), serde_json::Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(text) => string(out, text),
        Value::Enum(name) => string(out, name),
        Value::List(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                self::value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (n, (key, item)) in fields.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                string(out, key);
                out.push(b':');
                self::value(out, item)?;
            }
            out.push(b'}');
        }
        Value::Number(_) | Value::Binary(_) => serde_json::to_writer(out, value)?,
    }
    Ok(())
}

const LOW_BITS: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether any byte of `word` is below 0x20, `"` or `\` (the classic test for a zero
/// byte, applied to the word and to its differences from the two characters).
fn needs_escape(word: u64) -> bool {
    let zero_in = |w: u64| w.wrapping_sub(LOW_BITS) & !w & HIGH_BITS;
    let control = word.wrapping_sub(LOW_BITS * 0x20) & !word & HIGH_BITS;
    control
        | zero_in(word ^ (LOW_BITS * u64::from(b'"')))
        | zero_in(word ^ (LOW_BITS * u64::from(b'\\')))
        != 0
}

/// Writes `text` as a JSON string.
fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        let end = bytes.len().min(at + 8);
        // The next eight bytes; the last of a text padded with spaces (never escaped).
        let mut word = [b' '; 8];
        match bytes.get(at..at + 8) {
            Some(chunk) => word.copy_from_slice(chunk),
            None => {
                for (into, byte) in word.iter_mut().zip(bytes.iter().skip(at)) {
                    *into = *byte;
                }
            }
        }
        if needs_escape(u64::from_ne_bytes(word)) {
            for (n, &byte) in bytes.iter().enumerate().take(end).skip(at) {
                if let Some(escape) = escape(byte) {
                    out.extend_from_slice(bytes.get(start..n).unwrap_or_default());
                    out.extend_from_slice(escape.as_bytes());
                    if escape == "\\u00" {
                        out.push(HEX[usize::from(byte >> 4)]);
                        out.push(HEX[usize::from(byte & 0xF)]);
                    }
                    start = n + 1;
                }
            }
        }
        at = end;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// How `serde_json` escapes `byte`, the four-hex-digit form given by its prefix.
fn escape(byte: u8) -> Option<&'static str> {
    Some(match byte {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        0x08 => "\\b",
        0x0C => "\\f",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x00..=0x1F => "\\u00",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::indexmap::IndexMap;
    use async_graphql::{Name, Number, ServerError, Value};

    use super::*;

    fn same_as_serde(response: &Response) {
        let ours = body(response, 0).map(String::from_utf8);
        let theirs = serde_json::to_vec(response).map(String::from_utf8);
        match (ours, theirs) {
            (Ok(Ok(ours)), Ok(Ok(theirs))) => assert_eq!(ours, theirs),
            other => panic!("not both written: {other:?}"),
        }
    }

    fn texts() -> Vec<String> {
        let mut texts: Vec<String> = (0u8..=0x7F).map(|b| char::from(b).to_string()).collect();
        texts.extend(
            [
                "",
                "Hội nghị Ban Chấp hành Trung ương",
                "Nguyễn Văn A \"Ba\"\\ đã nói:\n\t«xin chào»\u{1F}\u{7F}",
                "12345678\"12345678\\1234567\u{0}",
                "ấấấấấấấấấấấấấấấấ\r\n",
                "quote at the end of eight\"",
            ]
            .map(str::to_owned),
        );
        // Every control character and quote at every place of a 17-byte text.
        for special in ['"', '\\', '\u{1}', '\u{1F}', '\n'] {
            for at in 0..17 {
                let mut text: Vec<char> = "abcdefghijklmnopq".chars().collect();
                text[at] = special;
                texts.push(text.into_iter().collect());
            }
        }
        texts
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in texts() {
            let mut ours = Vec::new();
            string(&mut ours, &text);
            let theirs = serde_json::to_vec(&text).unwrap_or_default();
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

    #[test]
    fn responses_are_written_as_serde_json_writes_them() {
        let mut object = IndexMap::new();
        for (n, text) in texts().into_iter().enumerate() {
            object.insert(Name::new(format!("k{n}{text}")), Value::String(text));
        }
        object.insert(Name::new("null"), Value::Null);
        object.insert(Name::new("yes"), Value::Boolean(true));
        object.insert(Name::new("no"), Value::Boolean(false));
        object.insert(Name::new("int"), Value::Number(Number::from(-42)));
        object.insert(
            Name::new("float"),
            Value::Number(Number::from_f64(0.1).unwrap_or_else(|| Number::from(0))),
        );
        object.insert(Name::new("enum"), Value::Enum(Name::new("DAY")));
        object.insert(Name::new("binary"), Value::Binary(vec![0, 1, 255].into()));
        object.insert(
            Name::new("list"),
            Value::List(vec![
                Value::Null,
                Value::List(vec![]),
                Value::Object(IndexMap::new()),
            ]),
        );
        let data = Value::Object(object);
        same_as_serde(&Response::new(data.clone()));
        same_as_serde(&Response::new(Value::Null));

        let mut error = ServerError::new("không tìm thấy \"bài\"", None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", "NOT_FOUND");
        let mut failed = Response::from_errors(vec![error]);
        failed.data = data;
        failed
            .extensions
            .insert("cost".to_owned(), Value::Number(Number::from(7)));
        same_as_serde(&failed);
    }

    #[test]
    fn the_body_is_allocated_once_at_the_expected_size() -> anyhow::Result<()> {
        let response = Response::new(Value::String("x".repeat(1000)));
        let written = body(&response, 4096)?;
        assert_eq!(written.capacity(), 4096);
        Ok(())
    }
}

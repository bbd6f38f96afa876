//! The JSON text of a response, written by `serde_json` into one buffer.
//!
//! async-graphql-axum writes a response into an empty `String`, which a front page
//! (some 30 KB) outgrows four times, each time copying what it holds. The body is
//! written here into a buffer made at the size the caller expects (the length of the
//! last response to the same document), so a response of about that size is
//! allocated once and never copied.

use async_graphql::Response;

/// The body of `response`, in a buffer made for `expected` bytes.
pub fn body(response: &Response, expected: usize) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(expected);
    serde_json::to_writer(&mut out, response)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use async_graphql::indexmap::IndexMap;
    use async_graphql::{Name, ServerError, Value};

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

    #[test]
    fn the_body_is_the_response_as_json() -> anyhow::Result<()> {
        let response = response();
        assert_eq!(body(&response, 0)?, serde_json::to_vec(&response)?);
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

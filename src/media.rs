//! The media type of a GraphQL response, chosen by the request's `Accept`.
//!
//! The GraphQL-over-HTTP spec has two: `application/graphql-response+json`, under
//! which a request that fails before it runs (a document that does not parse or
//! validate, variables that do not fit) is answered with a 4xx status, and
//! `application/json`, the one older clients know, under which such a request is
//! answered 200 with its errors in the body. A request with no `Accept` is taken
//! for `application/json`, as the spec asks, and so is `*/*`; where both types are
//! accepted the one with the higher weight wins, `application/graphql-response+json`
//! on a tie. A request that accepts neither is answered 406.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

/// A media type bantin answers GraphQL in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`.
    GraphqlResponse,
    /// `application/json`.
    Json,
}

/// The request accepts no media type bantin writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the request accepts none of application/graphql-response+json, application/json")]
pub struct NotAcceptable;

/// The most media ranges of an `Accept` header looked at (a browser sends a few;
/// the header's length is bounded by the server's header limit anyway).
const MAX_RANGES: usize = 32;

impl Media {
    /// The media type a request with these headers accepts best.
    pub fn negotiate(headers: &HeaderMap) -> Result<Self, NotAcceptable> {
        let mut ranges = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter(|range| !range.trim().is_empty())
            .take(MAX_RANGES)
            .peekable();
        if ranges.peek().is_none() {
            return Ok(Self::Json);
        }
        // The best weight of each type, as (weight, specificity) of its best range.
        let mut best: [Option<(u16, u8)>; 2] = [None, None];
        for range in ranges {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let weight = parts
                .filter_map(|parameter| parameter.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1000), |(_, value)| quality(value.trim()));
            let Some(weight) = weight else {
                continue;
            };
            for (slot, media) in [Self::GraphqlResponse, Self::Json].into_iter().enumerate() {
                let specificity = match essence.as_str() {
                    "*/*" => 0,
                    "application/*" => 1,
                    exact if exact == media.essence() => 2,
                    _ => continue,
                };
                // The most specific range that matches gives the weight (RFC 9110 12.5.1).
                if best[slot].is_none_or(|(_, known)| specificity > known) {
                    best[slot] = Some((weight, specificity));
                }
            }
        }
        let weight = |slot: usize| best[slot].map_or(0, |(weight, _)| weight);
        let (graphql, json) = (weight(0), weight(1));
        if graphql == 0 && json == 0 {
            return Err(NotAcceptable);
        }
        // `*/*` and `application/*` alone stand for the default, application/json.
        let graphql_named = best[0].is_some_and(|(_, specificity)| specificity == 2);
        if graphql > json || (graphql == json && graphql_named) {
            Ok(Self::GraphqlResponse)
        } else {
            Ok(Self::Json)
        }
    }

    /// The type without parameters.
    pub fn essence(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json",
            Self::Json => "application/json",
        }
    }

    /// The `Content-Type` of a body of this type (JSON is UTF-8: RFC 8259).
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }

    /// The status of a request error (a document that does not parse or validate,
    /// variables that do not fit, an operation that cannot be chosen): 400 under
    /// `application/graphql-response+json`, 200 under `application/json`.
    pub fn request_error_status(self) -> StatusCode {
        match self {
            Self::GraphqlResponse => StatusCode::BAD_REQUEST,
            Self::Json => StatusCode::OK,
        }
    }
}

/// A weight (`q=0.5`) in thousandths; `None` when it is not one.
fn quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiate(accept: &[&'static str]) -> Result<Media, NotAcceptable> {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(header::ACCEPT, HeaderValue::from_static(value));
        }
        Media::negotiate(&headers)
    }

    #[test]
    fn no_accept_and_any_type_get_json() {
        assert_eq!(negotiate(&[]), Ok(Media::Json));
        assert_eq!(negotiate(&["*/*"]), Ok(Media::Json));
        assert_eq!(negotiate(&["application/*"]), Ok(Media::Json));
        assert_eq!(negotiate(&["application/json"]), Ok(Media::Json));
        assert_eq!(
            negotiate(&["Application/JSON; charset=utf-8"]),
            Ok(Media::Json)
        );
    }

    #[test]
    fn graphql_response_json_when_asked_for() {
        assert_eq!(
            negotiate(&["application/graphql-response+json"]),
            Ok(Media::GraphqlResponse)
        );
        // What graphql-http's client and the spec recommend sending.
        assert_eq!(
            negotiate(&["application/graphql-response+json, application/json;q=0.9"]),
            Ok(Media::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&["application/json", "application/graphql-response+json"]),
            Ok(Media::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json;q=0.5, application/json"]),
            Ok(Media::Json)
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json, */*;q=0.1"]),
            Ok(Media::GraphqlResponse)
        );
    }

    #[test]
    fn weights_of_zero_and_other_types_are_refused() {
        assert_eq!(negotiate(&["text/html"]), Err(NotAcceptable));
        assert_eq!(negotiate(&["application/json;q=0"]), Err(NotAcceptable));
        assert_eq!(
            negotiate(&["*/*, application/json;q=0, application/graphql-response+json;q=0"]),
            Err(NotAcceptable)
        );
        // A weight that is not one drops its range.
        assert_eq!(
            negotiate(&["application/json;q=2, text/html"]),
            Err(NotAcceptable)
        );
        assert_eq!(quality("0.25"), Some(250));
        assert_eq!(quality("1.000"), Some(1000));
        assert_eq!(quality("1.5"), None);
        assert_eq!(quality("0.1234"), None);
    }
}

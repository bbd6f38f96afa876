//! The scalars of the contract: `Date` (ISO 8601) and `DateTime` (RFC 3339, UTC),
//! and small shared objects.

use std::collections::BTreeMap;

use async_graphql::{
    Enum, InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value,
};
use chrono::{NaiveDate, SecondsFormat, Utc};

/// A calendar day, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar day, ISO 8601 (`YYYY-MM-DD`).
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("`{text}` is not a date (YYYY-MM-DD)"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An instant, RFC 3339 in UTC (`2024-05-21T07:57:00Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant, RFC 3339, always given in UTC (`2024-05-21T07:57:00Z`).
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|at| DateTime(at.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!("`{text}` is not an RFC 3339 date-time"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// How precisely a date is known.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatePrecision {
    /// The day is known.
    Day,
    /// Only the month is known; the date is the first of it.
    Month,
    /// Only the year is known; the date is the first of January.
    Year,
}

impl DatePrecision {
    /// The stored form.
    pub fn stored(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// Reads the stored form (`day`, `month`, `year`); anything else is a day.
    pub fn from_stored(text: Option<&str>) -> Self {
        match text {
            Some("year") => Self::Year,
            Some("month") => Self::Month,
            _ => Self::Day,
        }
    }
}

/// A name or title in another language.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct LocalizedText {
    /// A BCP 47 language tag, such as `en`.
    pub language: String,
    /// The text in that language.
    pub value: String,
}

/// Reads the stored `{"en": "..."}` map of names in other languages.
pub fn localized(stored: Option<&str>) -> Vec<LocalizedText> {
    stored
        .and_then(|json| serde_json::from_str::<BTreeMap<String, String>>(json).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|(language, value)| LocalizedText { language, value })
        .collect()
}

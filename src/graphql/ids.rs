//! Opaque global IDs: `base64url("Type:123")`. Clients must not parse them; the
//! server rejects a malformed one with BAD_USER_INPUT.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};

/// The types that have global IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Article,
    Person,
    Organization,
    Position,
    Event,
    Document,
    Media,
    Tag,
    Award,
    Statement,
    Commemoration,
    Revision,
}

impl Kind {
    const ALL: [Kind; 12] = [
        Kind::Article,
        Kind::Person,
        Kind::Organization,
        Kind::Position,
        Kind::Event,
        Kind::Document,
        Kind::Media,
        Kind::Tag,
        Kind::Award,
        Kind::Statement,
        Kind::Commemoration,
        Kind::Revision,
    ];

    /// The GraphQL type name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Article => "Article",
            Kind::Person => "Person",
            Kind::Organization => "Organization",
            Kind::Position => "Position",
            Kind::Event => "Event",
            Kind::Document => "Document",
            Kind::Media => "Media",
            Kind::Tag => "Tag",
            Kind::Award => "Award",
            Kind::Statement => "Statement",
            Kind::Commemoration => "Commemoration",
            Kind::Revision => "Revision",
        }
    }
}

impl Kind {
    /// The kind with this GraphQL type name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// The global ID of a row.
pub fn encode(kind: Kind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
}

/// The kind and row id of a global ID.
pub fn decode(id: &str) -> AppResult<(Kind, i64)> {
    let invalid = || AppError::bad_input(format!("`{id}` is not a valid ID"));
    let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (name, number) = text.split_once(':').ok_or_else(invalid)?;
    let kind = Kind::from_name(name).ok_or_else(invalid)?;
    let number = number.parse::<i64>().map_err(|_| invalid())?;
    Ok((kind, number))
}

/// The row id of a global ID that must be of the given kind.
pub fn decode_as(id: &str, kind: Kind) -> AppResult<i64> {
    match decode(id)? {
        (found, number) if found == kind => Ok(number),
        (found, _) => Err(AppError::bad_input(format!(
            "`{id}` is the ID of a {}, not of a {}",
            found.name(),
            kind.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_opaque() {
        let id = encode(Kind::Person, 42);
        assert!(!id.contains("Person"));
        assert_eq!(decode(&id).ok(), Some((Kind::Person, 42)));
        assert_eq!(decode_as(&id, Kind::Person).ok(), Some(42));
    }

    #[test]
    fn malformed_or_mistyped_ids_are_bad_input() {
        for bad in ["", "!!!", "UGVyc29u", "Rm9vOjE", "UGVyc29uOng"] {
            assert_eq!(
                decode(bad).err().map(|e| e.code()),
                Some("BAD_USER_INPUT"),
                "{bad}"
            );
        }
        let person = encode(Kind::Person, 1);
        assert!(decode_as(&person, Kind::Article).is_err());
    }
}

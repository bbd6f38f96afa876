//! API tokens and who a request comes from.
//!
//! A token is 32 random bytes, shown once as `bt_` + base64url. Only its SHA-256
//! digest is stored: the secret has full entropy, so a fast digest is as strong as a
//! slow password hash, and a lookup is one indexed equality. A request without an
//! `Authorization` header is a reader; one with a wrong, revoked or malformed token is
//! refused, never quietly downgraded to a reader.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use entity::api_token;

use crate::domain::visibility::Viewer;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Role {
    /// Writes content, publishes, deletes and restores articles.
    Editor,
    /// All an editor does, plus deleting and restoring every other kind of content.
    Admin,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }

    fn parse(stored: &str) -> Option<Self> {
        match stored {
            "editor" => Some(Self::Editor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// The holder of a valid token: recorded on the revisions they cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The token's row id.
    pub token_id: i64,
    /// The token's name.
    pub name: String,
    /// The token's role.
    pub role: Role,
}

impl Actor {
    /// The viewer this actor reads as.
    pub fn viewer(&self) -> Viewer {
        match self.role {
            Role::Editor => Viewer::Editor,
            Role::Admin => Viewer::Admin,
        }
    }

    /// How revisions name the actor.
    pub fn label(&self) -> String {
        format!("{} (token {})", self.name, self.token_id)
    }
}

/// Why a request could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The header is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <token>`")]
    Malformed,
    /// No live token has this digest.
    #[error("the token is not valid or has been revoked")]
    Invalid,
    /// The lookup failed.
    #[error("could not check the token: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// A new secret token.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("bt_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored digest of a token: lowercase hex SHA-256.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Stores a new token and returns its row and the secret, which is not kept.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    role: Role,
    now: DateTime<Utc>,
) -> anyhow::Result<(api_token::Model, String)> {
    let name = crate::text::clean_line(name);
    anyhow::ensure!(!name.is_empty(), "a token needs a name");
    let secret = generate().map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    let row = api_token::ActiveModel {
        name: Set(name),
        role: Set(role.as_str().to_owned()),
        token_hash: Set(digest(&secret)),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row, secret))
}

/// Every token, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_token::Model>, sea_orm::DbErr> {
    api_token::Entity::find()
        .order_by_asc(api_token::Column::Id)
        .all(db)
        .await
}

/// Revokes the live tokens with this id or name; returns how many.
pub async fn revoke(
    db: &impl ConnectionTrait,
    id_or_name: &str,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let which = match id_or_name.parse::<i64>() {
        Ok(id) => api_token::Column::Id.eq(id),
        Err(_) => api_token::Column::Name.eq(crate::text::clean_line(id_or_name)),
    };
    let result = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(which)
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Who sent a request with this `Authorization` header (`None`: a reader).
pub async fn authenticate(
    db: &impl ConnectionTrait,
    header: Option<&str>,
) -> Result<Option<Actor>, AuthError> {
    let Some(header) = header else {
        return Ok(None);
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Malformed)?;
    let row = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(digest(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or(AuthError::Invalid)?;
    let role = Role::parse(&row.role).ok_or(AuthError::Invalid)?;
    Ok(Some(Actor {
        token_id: row.id,
        name: row.name,
        role,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_digests_stable() {
        let (a, b) = (generate(), generate());
        assert!(
            matches!((&a, &b), (Ok(a), Ok(b)) if a != b && a.starts_with("bt_") && a.len() == 46)
        );
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! Bot identity: `Authorization: Bearer <token>`.
//!
//! A request that carries an `Authorization` header is a bot's, and only
//! the token decides who it is: it never falls back to a cookie, so a bad
//! token is a 401, not a person. Tokens are 256 random bits from the
//! operating system, stored only as their SHA-256 (a database leak gives
//! nobody a token), found by that hash and compared in constant time.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AppError, AppState};
use crate::chat::{Member, RoomName};

/// What a bot's token starts with (so a leaked one is recognisable).
const TOKEN_PREFIX: &str = "natter_";

/// What a webhook secret starts with.
const SECRET_PREFIX: &str = "whsec_";

/// The sentence every refused token gets: which of unknown, revoked or
/// another room's it was is nobody's business.
pub const REFUSED: &str = "The bot token is unknown or revoked.";

/// A new random token or secret: `prefix` and 32 random bytes, base64url.
fn random(prefix: &str) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("no randomness: {error}")))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// A new bot's token and webhook secret.
pub fn new_credentials() -> Result<(String, String), AppError> {
    Ok((random(TOKEN_PREFIX)?, random(SECRET_PREFIX)?))
}

/// The stored form of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether the request carries an `Authorization` header at all (then it
/// is a bot's request, and cookies do not count).
pub fn presented(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
}

/// The bot of `room` the request's bearer token names: `Ok(None)` when the
/// request has no `Authorization` header, 401 for any token that is not
/// an unrevoked bot's of this room.
pub async fn bot_of(
    state: &AppState,
    headers: &HeaderMap,
    room: &RoomName,
) -> Result<Option<Member>, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| token.starts_with(TOKEN_PREFIX))
        .ok_or(AppError::Unauthorized(REFUSED))?;
    let hash = token_hash(token);
    let Some((member, stored)) = state.store.bot_by_token(&hash).await? else {
        return Err(AppError::Unauthorized(REFUSED));
    };
    let same: bool = stored.as_bytes().ct_eq(hash.as_bytes()).into();
    if !same || member.room != *room {
        return Err(AppError::Unauthorized(REFUSED));
    }
    Ok(Some(member))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_long_random_and_hashed() -> Result<(), Box<dyn std::error::Error>> {
        let (token, secret) = new_credentials()?;
        assert!(token.starts_with(TOKEN_PREFIX) && secret.starts_with(SECRET_PREFIX));
        // 32 bytes in base64url without padding are 43 characters.
        assert_eq!(token.len(), TOKEN_PREFIX.len() + 43);
        assert_ne!(new_credentials()?.0, token);
        assert_eq!(token_hash(&token).len(), 64);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        Ok(())
    }
}

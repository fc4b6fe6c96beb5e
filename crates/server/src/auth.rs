//! Who is asking: a bearer token, or on TAXII HTTP Basic with the token as password.

use crate::error::ApiError;
use crate::AppState;
use axum::http::{header, HeaderMap};
use base64::Engine as _;
use takedown_store::{Principal, Role};

/// The token in the request, if any. `basic` also reads HTTP Basic (any user name).
pub fn token(headers: &HeaderMap, basic: bool) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if basic && scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_user, password) = text.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

/// The principal behind the request's token (or session), or 401.
pub async fn principal(state: &AppState, headers: &HeaderMap, basic: bool) -> Result<Principal, ApiError> {
    let token = token(headers, basic);
    let Some(token) = token else { return Err(ApiError::Unauthorized) };
    state.with(move |store| store.authenticate(&token).map_err(ApiError::from)).await?.ok_or(ApiError::Unauthorized)
}

/// 403 unless the principal's role includes `needed`.
pub fn require(p: &Principal, needed: Role) -> Result<(), ApiError> {
    if p.role.allows(needed) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

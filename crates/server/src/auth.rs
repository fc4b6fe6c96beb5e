//! Who is asking: a bearer token, or on TAXII HTTP Basic with the token as password.
//!
//! The extractors here run before any body extractor of a handler, so a request
//! without valid credentials is answered 401 before a byte of its body is read, and a
//! write over its rate is answered 429 the same way.

use crate::error::ApiError;
use crate::limits::{client_key, retry_after, take_all};
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;
use takedown_store::{Principal, Role};
use tokio::sync::OwnedSemaphorePermit;

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

/// The principal behind the request's token, or 401.
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

/// The address the request came from, as rate limits count it. Without one (a router
/// called in-process) every request counts as one unknown client.
pub fn client(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| client_key(addr.ip()))
}

/// Takes one write from the token's and the address's buckets, or 429.
pub fn charge_write(state: &AppState, parts: &Parts, p: &Principal) -> Result<(), ApiError> {
    let addr = client(parts);
    let mut rates = state.rates();
    let rates = &mut *rates;
    take_all((&mut rates.write_by_address, &addr), Some((&mut rates.write_by_token, &p.token)), Instant::now()).map_err(
        |wait| ApiError::TooManyRequests {
            what: format!(
                "too many writes from this token or address (at most {} a burst)",
                state.limits.write_per_token.burst
            ),
            retry_after: retry_after(wait),
        },
    )
}

/// The caller of a REST route, by its bearer token.
#[derive(Debug)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        principal(state, &parts.headers, false).await.map(Caller)
    }
}

/// The caller of a TAXII route, by bearer token or HTTP Basic.
#[derive(Debug)]
pub struct TaxiiCaller(pub Principal);

impl FromRequestParts<AppState> for TaxiiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<TaxiiCaller, ApiError> {
        principal(state, &parts.headers, true).await.map(TaxiiCaller)
    }
}

/// The caller of a REST write, within its write rate.
#[derive(Debug)]
pub struct Writer(pub Principal);

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Writer, ApiError> {
        let p = principal(state, &parts.headers, false).await?;
        charge_write(state, parts, &p)?;
        Ok(Writer(p))
    }
}

/// The caller of a TAXII add: an analyst or above (a viewer's body is never read),
/// within its write rate, holding one of the server's
/// [`crate::limits::TAXII_ADDS_AT_ONCE`] places for an envelope until the add is done.
#[derive(Debug)]
pub struct TaxiiWriter(pub Principal, pub OwnedSemaphorePermit);

impl FromRequestParts<AppState> for TaxiiWriter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<TaxiiWriter, ApiError> {
        let p = principal(state, &parts.headers, true).await?;
        require(&p, Role::Analyst)?;
        charge_write(state, parts, &p)?;
        let place = state.taxii_adds.clone().try_acquire_owned().map_err(|_| ApiError::Unavailable {
            what: "the server is adding as many envelopes as it takes at once".into(),
            retry_after: 1,
        })?;
        Ok(TaxiiWriter(p, place))
    }
}

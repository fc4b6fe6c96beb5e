//! The server: TAXII 2.1 for partners, a REST API and a dashboard, with TLP 2.0 enforced on every
//! read path by the store's one visibility rule.
//!
//! [`app`] builds the router (tested with `tower::ServiceExt::oneshot`); [`serve`]
//! runs it on a listener until Ctrl-C or SIGTERM, finishing requests in flight.
//! A partner is not trusted to be well-behaved: [`Limits`] bounds the connections,
//! time, body sizes and request rates any one client can take.
#![forbid(unsafe_code)]

mod actions;
mod auth;
mod body;
mod dashboard;
mod error;
mod headers;
mod limits;
mod listener;
mod openapi;
mod rest;
mod taxii;

pub use actions::ActConfig;
pub use error::ApiError;
pub use limits::{
    Limits, Rate, BODY_TIMEOUT, HEADER_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS,
    REQUEST_TIMEOUT, SMALL_BODY, TAXII_ADDS_AT_ONCE,
};
pub use listener::{run, run_with, serve, serve_with, Tls, TlsError};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use limits::Buckets;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use takedown_store::Store;
use tokio::sync::Semaphore;

/// The largest TAXII envelope added in one request. TAXII 2.1 clients split what is
/// larger (the API root advertises this as `max_content_length`); 16 MiB holds some
/// ten thousand indicators, and with [`TAXII_ADDS_AT_ONCE`] bounds what adds hold.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Where discovery points when no public URL is set (the default listen address).
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8642";

/// The rate limiters of one server.
#[derive(Debug)]
struct Rates {
    login_by_address: Buckets<IpAddr>,
    login_by_token: Buckets<String>,
    write_by_address: Buckets<IpAddr>,
    write_by_token: Buckets<String>,
}

impl Rates {
    fn new(limits: &Limits) -> Rates {
        Rates {
            login_by_address: Buckets::new(limits.login_per_address),
            login_by_token: Buckets::new(limits.login_per_token),
            write_by_address: Buckets::new(limits.write_per_address),
            write_by_token: Buckets::new(limits.write_per_token),
        }
    }
}

/// What every handler shares: the store (SQLite serialises access anyway).
#[derive(Debug, Clone)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    /// Dashboard sessions by cookie value; they end when the server stops, if not before.
    sessions: Arc<Mutex<dashboard::Sessions>>,
    /// What runs of actions may write to.
    act: ActConfig,
    limits: Arc<Limits>,
    rates: Arc<Mutex<Rates>>,
    /// Places for TAXII envelopes being added.
    taxii_adds: Arc<Semaphore>,
    /// The URL clients reach this server by, without a trailing slash; never taken
    /// from a request.
    public_url: Option<Arc<str>>,
    /// Cookies only over HTTPS: the server is reached by an https URL.
    secure_cookies: bool,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        let limits = Limits::default();
        AppState {
            store: Arc::new(Mutex::new(store)),
            sessions: Arc::default(),
            act: ActConfig::default(),
            rates: Arc::new(Mutex::new(Rates::new(&limits))),
            limits: Arc::new(limits),
            taxii_adds: Arc::new(Semaphore::new(TAXII_ADDS_AT_ONCE)),
            public_url: None,
            secure_cookies: false,
        }
    }

    /// The same state, running actions with `act`'s connectors.
    pub fn with_act(mut self, act: ActConfig) -> AppState {
        self.act = act;
        self
    }

    /// The same state, with these limits (and fresh rate limiters).
    pub fn with_limits(mut self, limits: Limits) -> AppState {
        self.rates = Arc::new(Mutex::new(Rates::new(&limits)));
        self.limits = Arc::new(limits);
        self
    }

    /// The URL partners and browsers reach the server by (`https://taxii.example.org`):
    /// discovery names it, and an https URL makes cookies Secure.
    pub fn with_public_url(mut self, url: &str) -> AppState {
        let url = url.trim_end_matches('/');
        self.secure_cookies = url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        self.public_url = Some(url.into());
        self
    }

    pub(crate) fn public_url(&self) -> &str {
        self.public_url.as_deref().unwrap_or(DEFAULT_PUBLIC_URL)
    }

    fn rates(&self) -> std::sync::MutexGuard<'_, Rates> {
        self.rates.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the store off the async threads.
    pub(crate) async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves the connection usable: SQLite
            // rolls back an unfinished transaction when it is dropped.
            let mut guard = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
    }
}

/// The whole service: TAXII under `/taxii2/`, REST under `/api/v1/`, the dashboard
/// under `/ui/`. Bodies are small unless a route says otherwise, each request has
/// [`Limits::request_timeout`] from headers to answer and a body may not pause longer
/// than [`Limits::body_timeout`].
pub fn app(state: AppState) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .merge(taxii::routes())
        .merge(rest::routes())
        .merge(actions::routes())
        .merge(dashboard::routes())
        .fallback(|| async { ApiError::NotFound })
        .layer(DefaultBodyLimit::max(SMALL_BODY))
        .layer(Extension(body::BodyLimit(SMALL_BODY)))
        .layer(middleware::from_fn_with_state(state.clone(), deadline))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(middleware::map_response(headers::nosniff))
        .with_state(state)
}

/// The request timeout: past it the handler is dropped and the client told (503).
async fn deadline(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = ApiError::Unavailable {
                what: format!("the request was not done within {} s of its headers", limit.as_secs()),
                retry_after: 1,
            }
            .into_response();
            // Its body may be half read: the connection cannot carry another request.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

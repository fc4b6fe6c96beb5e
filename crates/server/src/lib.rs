//! The server: TAXII 2.1 for partners, a REST API and a dashboard, with TLP 2.0 enforced on every
//! read path by the store's one visibility rule.
//!
//! [`app`] builds the router (tested with `tower::ServiceExt::oneshot`); [`serve`]
//! runs it on a listener until Ctrl-C or SIGTERM, finishing requests in flight.
#![forbid(unsafe_code)]

mod actions;
mod auth;
mod dashboard;
mod error;
mod openapi;
mod pictures;
mod rest;
mod taxii;

pub use actions::ActConfig;
pub use error::ApiError;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use std::sync::{Arc, Mutex};
use takedown_store::Store;

/// The largest request body accepted (a TAXII envelope of objects to add).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// What every handler shares: the store (SQLite serialises access anyway).
#[derive(Debug, Clone)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    /// Dashboard sessions by cookie value; they end when the server stops, if not before.
    sessions: Arc<Mutex<dashboard::Sessions>>,
    /// What runs of actions may write to.
    act: ActConfig,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState { store: Arc::new(Mutex::new(store)), sessions: Arc::default(), act: ActConfig::default() }
    }

    /// The same state, running actions with `act`'s connectors.
    pub fn with_act(mut self, act: ActConfig) -> AppState {
        self.act = act;
        self
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

/// The whole service: TAXII under `/taxii2/`, REST under `/api/v1/`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(taxii::routes())
        .merge(rest::routes())
        .merge(actions::routes())
        .merge(dashboard::routes())
        .fallback(|| async { ApiError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM; requests in flight finish.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown_signal()).await
}

/// Binds `addr`, calls `ready` with the bound address, and serves until Ctrl-C or
/// SIGTERM, on a runtime of its own (for callers without one, such as the CLI).
pub fn run(
    addr: std::net::SocketAddr,
    state: AppState,
    ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        serve(listener, state).await
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

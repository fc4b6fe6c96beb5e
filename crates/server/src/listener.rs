//! The accept loop: connection caps (in total and per client address), the header and
//! idle timeouts, TLS when asked, and a graceful stop.
//!
//! A connection over a cap is closed at once, before a byte is read: answering it
//! would spend on the client that is already taking too much what the cap is there to
//! keep for others.

use crate::limits::{client_key, Limits};
use crate::{app, AppState};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::rustls;
use tower::ServiceExt as _;

/// A certificate and key to serve HTTPS with.
#[derive(Clone)]
pub struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

/// Why a certificate or key cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path}: {source}; give a PEM file with the certificate chain, the server's own first")]
    Certificate { path: PathBuf, source: rustls::pki_types::pem::Error },
    #[error("the TLS certificate file {path} holds no certificate; give a PEM file with `-----BEGIN CERTIFICATE-----` blocks")]
    NoCertificate { path: PathBuf },
    #[error(
        "cannot read the TLS private key {path}: {source}; give a PEM file with a PKCS#8, PKCS#1 or SEC1 private key"
    )]
    Key { path: PathBuf, source: rustls::pki_types::pem::Error },
    #[error("the certificate and key cannot be served: {0}; check that the key belongs to the certificate")]
    Rejected(#[from] rustls::Error),
}

impl Tls {
    /// The certificate chain and private key in PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|source| TlsError::Certificate { path: cert.to_path_buf(), source })?;
        if certs.is_empty() {
            return Err(TlsError::NoCertificate { path: cert.to_path_buf() });
        }
        let private =
            PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key { path: key.to_path_buf(), source })?;
        // The provider named, not the process default: another crate of the build may
        // enable a second one, and then there is no default.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, private)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)) })
    }
}

/// Connections held, in total and by client address.
#[derive(Debug, Default)]
struct Table {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One connection's place in the [`Table`], given back when dropped.
#[derive(Debug)]
struct Place {
    table: Arc<Mutex<Table>>,
    address: IpAddr,
}

fn lock(table: &Mutex<Table>) -> std::sync::MutexGuard<'_, Table> {
    table.lock().unwrap_or_else(|p| p.into_inner())
}

impl Place {
    /// A place for a connection from `ip`, unless a cap is reached.
    fn take(table: &Arc<Mutex<Table>>, ip: IpAddr, limits: &Limits) -> Option<Place> {
        let address = client_key(ip);
        let mut t = lock(table);
        let from_address = t.by_address.get(&address).copied().unwrap_or(0);
        if t.total >= limits.max_connections || from_address >= limits.max_connections_per_address {
            return None;
        }
        t.total += 1;
        t.by_address.insert(address, from_address + 1);
        Some(Place { table: table.clone(), address })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut t = lock(&self.table);
        t.total = t.total.saturating_sub(1);
        if let Some(n) = t.by_address.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                t.by_address.remove(&self.address);
            }
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are under way.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity { opened: Instant::now(), last_ms: AtomicU64::new(0), busy: AtomicUsize::new(0) }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// How long the connection has been idle: zero while a request is under way (the
    /// request timeout bounds that), else the time since the last byte either way.
    fn idle_for(&self, now: Instant) -> Duration {
        if self.busy.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        now.saturating_duration_since(last)
    }
}

/// A request under way on a connection, for as long as this lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: &Arc<Activity>) -> Busy {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Busy(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A stream that records when it last moved a byte.
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What every connection task shares.
#[derive(Clone)]
struct Shared {
    router: Router,
    limits: Arc<Limits>,
    tls: Option<Tls>,
    /// Turns true when the server stops.
    stop: watch::Receiver<bool>,
    /// Held by every connection task, so that the server knows when all are done.
    _alive: watch::Receiver<()>,
}

/// Serves `state` on `listener` (over TLS with `tls`) until `shutdown` completes; then
/// stops accepting, lets requests under way finish (for at most the request timeout)
/// and returns.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = state.limits.clone();
    let table = Arc::new(Mutex::new(Table::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (alive_tx, alive_rx) = watch::channel(());
    let shared = Shared { router: app(state), limits: limits.clone(), tls, stop: stop_rx, _alive: alive_rx };
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of file descriptors, most likely: give others time to close.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(place) = Place::take(&table, peer.ip(), &limits) else {
            tracing::debug!(%peer, "connection refused: over the connection cap");
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, peer, place, shared.clone()));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(shared);
    let grace = limits.request_timeout + Duration::from_secs(1);
    if tokio::time::timeout(grace, alive_tx.closed()).await.is_err() {
        tracing::warn!("requests still under way {} s after the stop; closing them", grace.as_secs());
    }
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

async fn connection(stream: TcpStream, peer: SocketAddr, place: Place, shared: Shared) {
    let _place = place;
    let activity = Arc::new(Activity::new());
    match shared.tls.clone() {
        Some(tls) => {
            // The handshake is part of what must come within the header timeout.
            let Ok(Ok(stream)) = tokio::time::timeout(shared.limits.header_timeout, tls.acceptor.accept(stream)).await
            else {
                return;
            };
            drive(Tracked { inner: stream, activity: activity.clone() }, peer, activity, shared).await;
        }
        None => drive(Tracked { inner: stream, activity: activity.clone() }, peer, activity, shared).await,
    }
}

/// Serves one connection's requests until it closes, times out or the server stops.
async fn drive<S>(io: Tracked<S>, peer: SocketAddr, activity: Arc<Activity>, mut shared: Shared)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let router = shared.router.clone();
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::new(&requests);
        let router = router.clone();
        async move {
            let _busy = busy;
            router.oneshot(request).await
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(shared.limits.header_timeout).keep_alive(true);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service));
    let idle = shared.limits.idle_timeout;
    let mut tick = tokio::time::interval((idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Once asked to close, a connection that is not done after another idle period
    // (a client that does not read its answer) is dropped.
    let mut closing: Option<Instant> = None;
    let mut stopping = *shared.stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
        closing = Some(Instant::now());
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended");
                }
                break;
            }
            changed = shared.stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_err() || *shared.stop.borrow() {
                    conn.as_mut().graceful_shutdown();
                    closing.get_or_insert_with(Instant::now);
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                match closing {
                    Some(since) if now.saturating_duration_since(since) >= idle && activity.idle_for(now) >= idle => break,
                    Some(_) => {}
                    None if activity.idle_for(now) >= idle => {
                        conn.as_mut().graceful_shutdown();
                        closing = Some(now);
                    }
                    None => {}
                }
            }
        }
    }
}

/// Serves `app(state)` on `listener` until Ctrl-C or SIGTERM; requests in flight finish.
pub async fn serve(listener: TcpListener, state: AppState) -> io::Result<()> {
    serve_with(listener, state, None, shutdown_signal()).await
}

/// Binds `addr`, calls `ready` with the bound address, and serves until Ctrl-C or
/// SIGTERM, on a runtime of its own (for callers without one, such as the CLI).
pub fn run(addr: SocketAddr, state: AppState, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    run_with(addr, state, None, ready)
}

/// [`run`], over HTTPS with `tls`. Without a public URL in `state`, discovery names
/// `http://` (or `https://`) and the bound address.
pub fn run_with(addr: SocketAddr, state: AppState, tls: Option<Tls>, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let mut state = state;
        if state.public_url.is_none() {
            let scheme = if tls.is_some() { "https" } else { "http" };
            state = state.with_public_url(&format!("{scheme}://{bound}"));
        }
        // Served over TLS, the cookies are for HTTPS only whatever URL is named.
        state.secure_cookies |= tls.is_some();
        ready(bound);
        serve_with(listener, state, tls, shutdown_signal()).await
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

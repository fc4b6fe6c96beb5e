//! `takedown serve`: TAXII 2.1, the REST API and the dashboard on the store.

use crate::output::Exit;
use crate::Context;
use anyhow::Context as _;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use takedown_server::{ActConfig, AppState, Limits, Tls};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Use 127.0.0.1 unless TLS (--tls-cert) or a reverse proxy
    /// with TLS is in front.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8642")]
    listen: SocketAddr,
    /// The URL partners and browsers reach this server by, such as
    /// https://taxii.example.org. TAXII discovery names it (never the request's Host
    /// header), and an https URL makes the dashboard's cookies Secure. Default: http://
    /// (https:// with --tls-cert) and the listen address.
    #[arg(long, value_name = "URL", value_parser = public_url)]
    public_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Connections held at once, from everyone; more are closed as they come.
    #[arg(long, value_name = "N", default_value_t = takedown_server::MAX_CONNECTIONS, value_parser = at_least_one)]
    max_connections: usize,
    /// Connections held at once from one address (an IPv6 client counts by its /64).
    /// Behind a reverse proxy every client has the proxy's address: raise it there.
    #[arg(long, value_name = "N", default_value_t = takedown_server::MAX_CONNECTIONS_PER_ADDRESS, value_parser = at_least_one)]
    max_connections_per_address: usize,
    /// How long a connection may take to send a request's headers, counted from when it
    /// is ready for one (e.g. 10s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    header_timeout: Duration,
    /// A connection with no request under way and nothing moving for this long is closed.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    idle_timeout: Duration,
    /// The longest pause while a request body is arriving (then 408).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    body_timeout: Duration,
    /// The longest a request may take from its headers to its answer (then 503).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    request_timeout: Duration,
    /// Let approvers run notices and account changes from the server: notices are
    /// written here as .eml files, account changes as dry-run requests. Without it
    /// the server answers 501 for those and `takedown run` does them.
    #[arg(long, value_name = "DIR")]
    outbox: Option<PathBuf>,
    /// The From address of notices the server writes.
    #[arg(long, value_name = "ADDRESS", default_value = "security@example.org")]
    from: String,
    /// Who the notices say they are from.
    #[arg(long, value_name = "NAME", default_value = "The security team")]
    organisation: String,
}

/// `10s`, `500ms`, `2m` or a bare number of seconds; more than zero.
fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration: write it as 10s, 500ms or 2m"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        other => return Err(format!("unit {other:?} in {text:?}: use ms, s or m")),
    };
    if !(seconds > 0.0 && seconds <= 24.0 * 3600.0) {
        return Err(format!("{text:?}: give more than zero and at most a day"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{text:?}: give a whole number of at least 1")),
    }
}

/// An http or https URL with a host and nothing after the path.
fn public_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| {
            url.get(..scheme.len()).filter(|s| s.eq_ignore_ascii_case(scheme)).map(|_| &url[scheme.len()..])
        })
        .ok_or_else(|| format!("{text:?}: give an http:// or https:// URL, such as https://taxii.example.org"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || url.contains(|c: char| c.is_whitespace() || c.is_control() || "?#\"<>\\".contains(c)) {
        return Err(format!("{text:?}: give a URL with a host and no query, fragment or spaces"));
    }
    Ok(url.to_string())
}

pub fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<Exit> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(Tls::from_pem_files(cert, key)?),
        _ => None,
    };
    let store = ctx.open_store()?;
    let act = ActConfig { outbox: args.outbox, from: args.from, organisation: args.organisation };
    let limits = Limits {
        max_connections: args.max_connections,
        max_connections_per_address: args.max_connections_per_address,
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        body_timeout: args.body_timeout,
        request_timeout: args.request_timeout,
        ..Limits::default()
    };
    let mut state = AppState::new(store).with_act(act).with_limits(limits);
    if let Some(url) = &args.public_url {
        state = state.with_public_url(url);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    takedown_server::run_with(args.listen, state, tls, |addr| {
        eprintln!(
            "serving on {scheme}://{addr} (dashboard at {scheme}://{addr}/ui/, TAXII discovery at /taxii2/, REST at \
             /api/v1/); Ctrl-C stops"
        );
    })
    .with_context(|| format!("cannot serve on {}", args.listen))?;
    Ok(Exit::Clean)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_and_refuse_zero() {
        assert_eq!(duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(duration("3").unwrap(), Duration::from_secs(3));
        for bad in ["0s", "", "ten", "5h", "-1s"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn public_urls_are_http_or_https_with_a_host() {
        assert_eq!(public_url("https://taxii.example.org/").unwrap(), "https://taxii.example.org");
        assert_eq!(public_url("HTTP://10.0.0.1:8642/td").unwrap(), "HTTP://10.0.0.1:8642/td");
        for bad in ["taxii.example.org", "ftp://x", "https://", "https://a b", "https://x/?q=1"] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }
}

//! Serving the router: plain HTTP, or HTTPS with the organization's certificate
//! or a self-signed one made on first start, plus an optional plain-HTTP port
//! that only redirects to HTTPS. Every listener stops gracefully on `shutdown`.
//!
//! Invariants: no connection waits on its client without a bound — a request's
//! head within [`HEADER_READ_TIMEOUT`], a TLS handshake within
//! [`TLS_HANDSHAKE_TIMEOUT`], and never [`IDLE_TIMEOUT`] without a byte either
//! way; a redirect never sends a browser to a host the request made up.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum_server::Handle;
use axum_server::accept::{Accept, DefaultAcceptor, LocalAddr, LocalAddrAcceptor};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use futures_util::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

/// The certificate and key HTTPS serves with (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "cannot listen on {address}: {source}; is another shofar serve running? Choose another \
         address with --listen or [http] listen"
    )]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "cannot use the TLS certificate {cert} with the key {key}: {source}; give PEM files \
         ([http] tls_cert, tls_key), or remove both to use a self-signed certificate"
    )]
    Certificate {
        cert: PathBuf,
        key: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make a self-signed certificate in {dir}: {detail}")]
    SelfSigned { dir: PathBuf, detail: String },
    #[error("the web server stopped: {0}")]
    Serve(std::io::Error),
}

/// The self-signed pair [`certificate`] keeps in `dir` (`DATA_DIR/tls`): what
/// clients such as `shofar live` trust the box by when none is configured.
pub fn self_signed(dir: &Path) -> TlsFiles {
    TlsFiles {
        cert: dir.join("self-signed.crt"),
        key: dir.join("self-signed.key"),
    }
}

/// The files to serve HTTPS with: the configured ones, else the self-signed pair
/// in `dir` (made now, for `names`, when missing). Returns whether it made one.
pub fn certificate(
    configured: Option<TlsFiles>,
    dir: &Path,
    names: &[String],
) -> Result<(TlsFiles, bool), ServeError> {
    if let Some(files) = configured {
        return Ok((files, false));
    }
    let files = self_signed(dir);
    if files.cert.is_file() && files.key.is_file() {
        return Ok((files, false));
    }
    let failed = |detail: String| ServeError::SelfSigned {
        dir: dir.to_owned(),
        detail,
    };
    let made = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|error| failed(error.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|error| failed(error.to_string()))?;
    write_private(&files.key, made.signing_key.serialize_pem().as_bytes())
        .map_err(|error| failed(error.to_string()))?;
    std::fs::write(&files.cert, made.cert.pem()).map_err(|error| failed(error.to_string()))?;
    Ok((files, true))
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

/// How long a client may take to send a request's head (its request line and
/// headers): from when the connection opened, or went idle after an answer. A
/// half-sent request holds a connection no longer than this, and an HTTP/1.1
/// connection kept alive for a next request that does not come is closed after
/// it too (the browser opens another when it needs one).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may move no byte either way before it is closed: an
/// HTTP/2 connection with nothing to do, a body or an answer that stopped
/// flowing, a handler silent that long. The live WebSocket sends at least every
/// [`crate::live::HEARTBEAT`], so it is never idle that long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a TLS handshake may take.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight may go on after `shutdown`.
const GRACE: Duration = Duration::from_secs(5);

// An open dashboard must never look idle.
const _: () = assert!(crate::live::HEARTBEAT.as_secs() * 2 < IDLE_TIMEOUT.as_secs());

/// How long the server waits on a client; [`Timeouts::default`] is what a box
/// uses (tests shorten them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read: Duration,
    /// See [`IDLE_TIMEOUT`].
    pub idle: Duration,
    /// See [`TLS_HANDSHAKE_TIMEOUT`].
    pub tls_handshake: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            header_read: HEADER_READ_TIMEOUT,
            idle: IDLE_TIMEOUT,
            tls_handshake: TLS_HANDSHAKE_TIMEOUT,
        }
    }
}

/// How to serve, besides where.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// HTTPS with these files; plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// With TLS: also listen here for plain HTTP, only to redirect to HTTPS.
    pub redirect: Option<SocketAddr>,
    /// The names the box is reached by (`shofar.local`, the organization's DNS
    /// name): a plain-HTTP request for one of them is redirected to HTTPS under
    /// that name; a request for any other is redirected to the address it
    /// arrived at, never to a name the client made up.
    pub host_names: Vec<String>,
    pub timeouts: Timeouts,
}

fn bind(address: SocketAddr) -> Result<std::net::TcpListener, ServeError> {
    let listener = std::net::TcpListener::bind(address)
        .map_err(|source| ServeError::Bind { address, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServeError::Bind { address, source })?;
    Ok(listener)
}

/// A bound, not yet serving, listener: binding first means a taken port is
/// reported before anything else starts.
pub struct Bound {
    listener: std::net::TcpListener,
    tls: Option<RustlsConfig>,
    redirect: Option<std::net::TcpListener>,
    host_names: Vec<String>,
    timeouts: Timeouts,
    pub address: SocketAddr,
    /// Where the plain-HTTP redirect listens, if it does.
    pub redirect_address: Option<SocketAddr>,
}

impl Bound {
    /// Binds `address` (and `options.redirect`, which only makes sense with
    /// TLS), and loads the certificate.
    pub async fn bind(address: SocketAddr, options: ServeOptions) -> Result<Bound, ServeError> {
        let listener = bind(address)?;
        let address = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { address, source })?;
        let tls = match options.tls {
            None => None,
            Some(files) => Some(
                RustlsConfig::from_pem_file(&files.cert, &files.key)
                    .await
                    .map_err(|source| ServeError::Certificate {
                        cert: files.cert.clone(),
                        key: files.key.clone(),
                        source,
                    })?,
            ),
        };
        let redirect = options.redirect.map(bind).transpose()?;
        let redirect_address = match (&redirect, options.redirect) {
            (Some(listener), Some(address)) => Some(
                listener
                    .local_addr()
                    .map_err(|source| ServeError::Bind { address, source })?,
            ),
            _ => None,
        };
        Ok(Bound {
            listener,
            tls,
            redirect,
            host_names: options.host_names,
            timeouts: options.timeouts,
            address,
            redirect_address,
        })
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves `router` until `shutdown`, then lets requests in flight finish (at
    /// most a few seconds). Under TLS every answer carries HSTS.
    pub async fn serve(
        self,
        router: Router,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        let timeouts = self.timeouts;
        let redirect = self.redirect.map(|listener| {
            let target = Arc::new(RedirectTarget {
                https_port: self.address.port(),
                host_names: self.host_names,
            });
            let app = Router::new().fallback(move |request: Request| {
                let target = target.clone();
                async move { target.answer(&request) }
            });
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let server = axum_server::from_tcp(listener)?
                    .acceptor(IdleAcceptor::new(LocalAddrAcceptor::new(), timeouts.idle));
                let (server, handle) = with_timeouts(server, timeouts);
                until(shutdown, handle, server.serve(app.into_make_service())).await
            })
        });
        let result = match self.tls {
            Some(config) => {
                let service =
                    over_https(router).into_make_service_with_connect_info::<SocketAddr>();
                let acceptor = RustlsAcceptor::new(config)
                    .handshake_timeout(timeouts.tls_handshake)
                    .acceptor(IdleAcceptor::new(DefaultAcceptor::new(), timeouts.idle));
                let server = axum_server::from_tcp(self.listener)
                    .map_err(ServeError::Serve)?
                    .acceptor(acceptor);
                let (server, handle) = with_timeouts(server, timeouts);
                until(shutdown, handle, server.serve(service)).await
            }
            None => {
                let service = router.into_make_service_with_connect_info::<SocketAddr>();
                let server = axum_server::from_tcp(self.listener)
                    .map_err(ServeError::Serve)?
                    .acceptor(IdleAcceptor::new(DefaultAcceptor::new(), timeouts.idle));
                let (server, handle) = with_timeouts(server, timeouts);
                until(shutdown, handle, server.serve(service)).await
            }
        };
        if let Some(redirect) = redirect {
            let _ = redirect.await;
        }
        result.map_err(ServeError::Serve)
    }
}

/// A server that closes a connection whose first request's head, or any later
/// one's, takes longer than `timeouts.header_read`; and its handle.
fn with_timeouts<A>(
    mut server: axum_server::Server<SocketAddr, A>,
    timeouts: Timeouts,
) -> (axum_server::Server<SocketAddr, A>, Handle<SocketAddr>) {
    // hyper starts this timer as soon as it waits for a head: on a new
    // connection and on one gone idle after an answer.
    server
        .http_builder()
        .http1()
        .header_read_timeout(timeouts.header_read);
    let handle = Handle::new();
    // Also before hyper knows HTTP/1 from HTTP/2, and for an HTTP/2 client's
    // first request.
    let server = server
        .first_request_timeout(timeouts.header_read)
        .handle(handle.clone());
    (server, handle)
}

/// Runs `serving` until it ends, or until `shutdown` and then at most [`GRACE`]
/// longer for the requests in flight.
async fn until(
    shutdown: CancellationToken,
    handle: Handle<SocketAddr>,
    serving: impl Future<Output = std::io::Result<()>>,
) -> std::io::Result<()> {
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return result,
        () = shutdown.cancelled() => handle.graceful_shutdown(Some(GRACE)),
    }
    serving.await
}

/// The router as HTTPS serves it: every answer says Strict-Transport-Security.
fn over_https(router: Router) -> Router {
    router.layer(middleware::map_response(strict_transport_security))
}

/// Browsers that reached the box over HTTPS without a certificate warning keep
/// to HTTPS for a year (they ignore it from an IP address). Not
/// `includeSubDomains`: the box's name may be one of many on the office's
/// domain, and those are not the box's to decide.
async fn strict_transport_security(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// Accepts connections as `inner` does, then closes any that moves no byte
/// either way for `idle` (see [`IdleStream`]).
#[derive(Debug, Clone, Copy)]
struct IdleAcceptor<A> {
    inner: A,
    idle: Duration,
}

impl<A> IdleAcceptor<A> {
    fn new(inner: A, idle: Duration) -> IdleAcceptor<A> {
        IdleAcceptor { inner, idle }
    }
}

impl<A, I, S> Accept<I, S> for IdleAcceptor<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = IdleStream<A::Stream>;
    type Service = A::Service;
    type Future = BoxFuture<'static, std::io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let accepted = self.inner.accept(stream, service);
        let idle = self.idle;
        Box::pin(async move {
            let (stream, service) = accepted.await?;
            Ok((IdleStream::new(stream, idle), service))
        })
    }
}

/// A connection that fails with `TimedOut` once no byte has moved either way
/// for `idle`, found when it waits to read or write. It is never idle while
/// bytes flow, however long the connection is open.
struct IdleStream<S> {
    inner: S,
    idle: Duration,
    last_moved: Instant,
    /// Wakes the waiting task when the connection may have been idle too long;
    /// pushed back lazily rather than at every byte.
    deadline: Pin<Box<Sleep>>,
}

impl<S> IdleStream<S> {
    fn new(inner: S, idle: Duration) -> IdleStream<S> {
        let now = Instant::now();
        IdleStream {
            inner,
            idle,
            last_moved: now,
            deadline: Box::pin(tokio::time::sleep_until(now + idle)),
        }
    }

    fn moved(&mut self) {
        self.last_moved = Instant::now();
    }

    /// While waiting: an error once idle too long, else `Pending` with the
    /// timer set to wake the task when it may be.
    fn wait<T>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        while self.deadline.as_mut().poll(cx).is_ready() {
            let due = self.last_moved + self.idle;
            if Instant::now() >= due {
                return Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no byte moved for {} s", self.idle.as_secs()),
                )));
            }
            self.deadline.as_mut().reset(due);
        }
        Poll::Pending
    }
}

impl<S> IdleStream<S> {
    /// A write's outcome: bytes written count as moving; a write that waits
    /// waits only as long as the connection may be idle.
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<std::io::Result<usize>>,
    ) -> Poll<std::io::Result<usize>> {
        match written {
            Poll::Pending => self.wait(cx),
            Poll::Ready(result) => {
                if matches!(result, Ok(written) if written > 0) {
                    self.moved();
                }
                Poll::Ready(result)
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending => this.wait(cx),
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.moved();
                }
                Poll::Ready(result)
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.wait(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Where plain HTTP is sent on HTTPS.
struct RedirectTarget {
    https_port: u16,
    /// See [`ServeOptions::host_names`].
    host_names: Vec<String>,
}

impl RedirectTarget {
    /// The same path on HTTPS, at the TLS port: under the name the request
    /// asked for if it is one of the box's, else at the address it arrived at.
    fn answer(&self, request: &Request) -> Response {
        let Some(LocalAddr(local)) = request.extensions().get::<LocalAddr>().copied() else {
            return (StatusCode::BAD_REQUEST, "use https://").into_response();
        };
        let asked = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(host_of);
        let host = asked
            .and_then(|asked| {
                self.host_names
                    .iter()
                    .find(|name| name.eq_ignore_ascii_case(asked))
                    .cloned()
            })
            .unwrap_or_else(|| local.ip().to_canonical().to_string());
        let authority = match (host.contains(':'), self.https_port) {
            (true, 443) => format!("[{host}]"),
            (true, port) => format!("[{host}]:{port}"),
            (false, 443) => host,
            (false, port) => format!("{host}:{port}"),
        };
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        Redirect::permanent(&format!("https://{authority}{path}")).into_response()
    }
}

/// A Host header's name or address, without its port or an IPv6 address's
/// brackets (and a fully qualified name's final dot).
fn host_of(header: &str) -> &str {
    let host = match header.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or(bracketed, |(ip, _)| ip),
        None => header.rsplit_once(':').map_or(header, |(name, _)| name),
    };
    host.strip_suffix('.').unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the redirect listener sends a request for `path` with `host` (or
    /// none) that arrived at `local`.
    fn redirect(host: Option<&str>, path: &str, local: &str, https_port: u16) -> String {
        let target = RedirectTarget {
            https_port,
            host_names: vec![
                "shofar.local".to_owned(),
                "Shofar.Office.Example".to_owned(),
            ],
        };
        let mut request = Request::builder().uri(path);
        if let Some(host) = host {
            request = request.header(header::HOST, host);
        }
        let mut request = request.body(axum::body::Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(LocalAddr(local.parse().unwrap()));
        let response = target.answer(&request);
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn plain_http_is_sent_to_the_same_place_on_https() {
        assert_eq!(
            redirect(
                Some("shofar.local"),
                "/campaigns?x=1",
                "192.168.1.20:80",
                443
            ),
            "https://shofar.local/campaigns?x=1"
        );
        assert_eq!(
            redirect(
                Some("shofar.office.example.:80"),
                "/",
                "192.168.1.20:80",
                8443
            ),
            "https://Shofar.Office.Example:8443/"
        );
        assert_eq!(
            redirect(Some("192.168.1.20:80"), "/", "192.168.1.20:80", 8443),
            "https://192.168.1.20:8443/"
        );
        assert_eq!(
            redirect(Some("[fe80::1]:80"), "/a", "[fe80::1]:80", 443),
            "https://[fe80::1]/a"
        );
        // An IPv4 client of a dual-stack listener.
        assert_eq!(
            redirect(Some("10.0.0.5"), "/", "[::ffff:10.0.0.5]:80", 443),
            "https://10.0.0.5/"
        );
    }

    /// Security probe: the redirect's Location echoed the request's Host, so a
    /// forged one sent the browser anywhere. A name the box does not answer to,
    /// an address it is not, or no Host at all gets the address the request
    /// arrived at.
    #[test]
    fn a_host_the_box_is_not_is_redirected_to_the_box_itself() {
        for host in [
            Some("evil.example"),
            Some("evil.example:80"),
            Some("shofar.local.evil.example"),
            Some("203.0.113.9"),
            Some("[2001:db8::1]:80"),
            Some("192.168.1.20@evil.example"),
            Some(""),
            None,
        ] {
            assert_eq!(
                redirect(host, "/login", "192.168.1.20:80", 8443),
                "https://192.168.1.20:8443/login",
                "{host:?}"
            );
        }
    }

    /// Security probe: HTTPS answers carried no HSTS header.
    #[tokio::test]
    async fn every_answer_over_https_says_strict_transport_security() {
        use tower::ServiceExt;
        let router = over_https(Router::new().route("/", axum::routing::get(|| async { "ok" })));
        for path in ["/", "/nowhere"] {
            let request = Request::builder()
                .uri(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            assert_eq!(
                response.headers()[header::STRICT_TRANSPORT_SECURITY],
                "max-age=31536000",
                "{path}"
            );
        }
    }

    #[test]
    fn a_self_signed_certificate_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let (files, made) = certificate(None, dir.path(), &names).unwrap();
        assert!(made);
        let pem = std::fs::read_to_string(&files.cert).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, made_again) = certificate(None, dir.path(), &names).unwrap();
        assert_eq!((again, made_again), (files, false));
    }
}

//! Serving the router: plain HTTP, or HTTPS with the organization's certificate
//! or a self-signed one made on first start, plus an optional plain-HTTP port
//! that only redirects to HTTPS. Every listener stops gracefully on `shutdown`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_server::tls_rustls::RustlsConfig;
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
    pub address: SocketAddr,
}

impl Bound {
    /// Binds `address` (and `redirect`, which only makes sense with TLS), and
    /// loads the certificate.
    pub async fn bind(
        address: SocketAddr,
        tls: Option<TlsFiles>,
        redirect: Option<SocketAddr>,
    ) -> Result<Bound, ServeError> {
        let listener = bind(address)?;
        let address = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { address, source })?;
        let tls = match tls {
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
        let redirect = redirect.map(bind).transpose()?;
        Ok(Bound {
            listener,
            tls,
            redirect,
            address,
        })
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves `router` until `shutdown`, then lets requests in flight finish (at
    /// most a few seconds).
    pub async fn serve(
        self,
        router: Router,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        let https_port = self.address.port();
        let redirect = self.redirect.map(|listener| {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let app = Router::new().fallback(move |request: Request| async move {
                    to_https(request.uri(), request.headers(), https_port)
                });
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move { shutdown.cancelled().await })
                    .await
            })
        });
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let result = match self.tls {
            Some(config) => {
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                let stop = shutdown.clone();
                tokio::spawn(async move {
                    stop.cancelled().await;
                    stopper.graceful_shutdown(Some(Duration::from_secs(5)));
                });
                axum_server::from_tcp_rustls(self.listener, config)
                    .map_err(ServeError::Serve)?
                    .handle(handle)
                    .serve(service)
                    .await
            }
            None => {
                let listener =
                    tokio::net::TcpListener::from_std(self.listener).map_err(ServeError::Serve)?;
                axum::serve(listener, service)
                    .with_graceful_shutdown(async move { shutdown.cancelled().await })
                    .await
            }
        };
        if let Some(redirect) = redirect {
            let _ = redirect.await;
        }
        result.map_err(ServeError::Serve)
    }
}

/// Where a plain-HTTP request goes on HTTPS: the same host and path, the TLS
/// port.
fn to_https(uri: &Uri, headers: &axum::http::HeaderMap, port: u16) -> Response {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| {
            h.rsplit_once(':')
                .map_or(h, |(name, _)| name)
                .trim_matches(['[', ']'])
        })
        .filter(|h| !h.is_empty())
    else {
        return (StatusCode::BAD_REQUEST, "use https://").into_response();
    };
    let authority = match (host.contains(':'), port) {
        (true, 443) => format!("[{host}]"),
        (true, _) => format!("[{host}]:{port}"),
        (false, 443) => host.to_owned(),
        (false, _) => format!("{host}:{port}"),
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Redirect::permanent(&format!("https://{authority}{path}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect(host: &str, path: &str, port: u16) -> String {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        let response = to_https(&path.parse().unwrap(), &headers, port);
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn plain_http_is_sent_to_the_same_place_on_https() {
        assert_eq!(
            redirect("shofar.local", "/campaigns?x=1", 443),
            "https://shofar.local/campaigns?x=1"
        );
        assert_eq!(
            redirect("192.168.1.20:80", "/", 8443),
            "https://192.168.1.20:8443/"
        );
        assert_eq!(redirect("[fe80::1]:80", "/a", 443), "https://[fe80::1]/a");
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

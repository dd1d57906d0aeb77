//! The web UI: the single-page app built from `webui/` (`make webui`, Vite) into
//! `webui/dist`, embedded into the binary at compile time, so the box needs no
//! Node.js and no files beside `shofar` to serve it.
//!
//! - Files Vite names by their content hash (`/assets/index-3f9a….js`) never
//!   change: they are cached for a year, `immutable`. Everything else
//!   (`index.html`, `favicon.svg`) is `no-cache`: revalidated on every load by its
//!   ETag (the SHA-256 the embedding computed), so an upgraded box is seen at once.
//! - Any other GET that is not the API's (`/api/`), `/metrics` or `/healthz` gets
//!   `index.html` (the app routes in the browser: `/campaigns/3`, `/setup?token=…`).
//!   A missing `/assets/` file is a 404, never the page, so a stale tab fails
//!   loudly instead of running HTML as a script.
//! - The pages carry a Content-Security-Policy that allows only the box itself:
//!   the app's own scripts, styles and fonts, the API and its WebSocket, and
//!   `blob:` for playing a recording before it is uploaded.
//!
//! When the binary was built without `webui/dist` (a plain `cargo build`), every
//! page is the "not built, run `make webui`" page the router passes in; the API is
//! unaffected. Invariant: this module decides nothing for `/api/`, `/metrics` or
//! `/healthz`, which always get the router's own JSON 404 when no route matched.

use std::borrow::Cow;
use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// `webui/dist` as it was when this crate was compiled (empty if it did not
/// exist: `allow_missing`). `build.rs` makes cargo rebuild when it changes.
#[derive(RustEmbed)]
#[folder = "../../webui/dist"]
#[allow_missing = true]
struct Dist;

/// What the app's pages may load: only the box itself.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; \
     connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// One file of the app.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Cow<'static, [u8]>,
    pub content_type: String,
    /// A strong ETag, quoted.
    pub etag: String,
}

/// The embedded file at `path` (relative, no leading `/`).
fn embedded(path: &str) -> Option<Asset> {
    let file = Dist::get(path)?;
    Some(Asset {
        content_type: file.metadata.mimetype().to_owned(),
        etag: format!("\"{}\"", hex(&file.metadata.sha256_hash())),
        bytes: file.data,
    })
}

/// Whether this binary carries the web UI.
pub fn is_built() -> bool {
    Dist::get("index.html").is_some()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Paths the API, metrics and health check own: never the app's.
fn is_server_path(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || path == "/metrics"
        || path.starts_with("/metrics/")
        || path == "/healthz"
        || path.starts_with("/healthz/")
}

/// The router's fallback: the app's files and pages for browser paths; for the
/// rest, `not_found` (the API's JSON 404); when the UI is not built, `not_built`.
pub async fn serve<B, BF, N, NF>(request: Request, not_built: B, not_found: N) -> Response
where
    B: FnOnce() -> BF,
    BF: Future,
    BF::Output: IntoResponse,
    N: FnOnce(Method, Uri) -> NF,
    NF: Future,
    NF::Output: IntoResponse,
{
    let (parts, _body) = request.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    if is_server_path(uri.path()) || (method != Method::GET && method != Method::HEAD) {
        return not_found(method, uri).await.into_response();
    }
    match respond(&method, uri.path(), &headers, embedded) {
        Some(response) => response,
        None => not_built().await.into_response(),
    }
}

/// The answer to a browser GET or HEAD of `path`, from the files `lookup` finds;
/// `None` when there is no app (no `index.html`).
pub fn respond(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    lookup: impl Fn(&str) -> Option<Asset>,
) -> Option<Response> {
    let index = lookup("index.html")?;
    let relative = path.trim_start_matches('/');
    if !relative.is_empty()
        && !relative.contains("..")
        && let Some(asset) = lookup(relative)
    {
        let cache = if relative.starts_with("assets/") {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        return Some(file_response(method, headers, asset, cache));
    }
    let last = relative.rsplit('/').next().unwrap_or_default();
    if relative.starts_with("assets/") || last.contains('.') {
        // A file that is not there (a stale tab asking for last version's
        // script, a typo): a plain 404, not the page.
        let mut response = (StatusCode::NOT_FOUND, "not found\n").into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
        return Some(response);
    }
    Some(file_response(method, headers, index, REVALIDATE))
}

fn file_response(
    method: &Method,
    headers: &HeaderMap,
    asset: Asset,
    cache: &'static str,
) -> Response {
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim() == asset.etag || tag.trim() == "*")
        });
    let content_type = if asset.content_type.starts_with("text/")
        || asset.content_type == "application/javascript"
        || asset.content_type == "image/svg+xml"
        || asset.content_type == "application/json"
    {
        format!("{}; charset=utf-8", asset.content_type)
    } else {
        asset.content_type.clone()
    };
    let length = asset.bytes.len();
    let body = if not_modified || *method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(asset.bytes)
    };
    let mut response = Response::new(body);
    *response.status_mut() = if not_modified {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        out.insert(header::ETAG, etag);
    }
    if !not_modified {
        if let Ok(value) = HeaderValue::from_str(&content_type) {
            out.insert(header::CONTENT_TYPE, value);
        }
        if *method == Method::HEAD {
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
    }
    if content_type.starts_with("text/html") {
        out.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(path: &str) -> Option<Asset> {
        let (bytes, content_type): (&'static [u8], &str) = match path {
            "index.html" => (b"<!doctype html><div id=root></div>", "text/html"),
            "favicon.svg" => (b"<svg/>", "image/svg+xml"),
            "assets/index-AbC123.js" => (b"console.log(1)", "text/javascript"),
            "assets/font-X1.woff2" => (b"wOF2", "font/woff2"),
            _ => return None,
        };
        Some(Asset {
            bytes: Cow::Borrowed(bytes),
            content_type: content_type.to_owned(),
            etag: format!("\"etag-{}\"", path.len()),
        })
    }

    fn get(path: &str) -> Response {
        respond(&Method::GET, path, &HeaderMap::new(), fake).expect("the app is built")
    }

    fn header_of(response: &Response, name: header::HeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[test]
    fn hashed_assets_are_immutable_with_their_type() {
        let response = get("/assets/index-AbC123.js");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_of(&response, header::CACHE_CONTROL), IMMUTABLE);
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        let font = get("/assets/font-X1.woff2");
        assert_eq!(header_of(&font, header::CONTENT_TYPE), "font/woff2");
    }

    #[test]
    fn the_page_is_revalidated_and_carries_the_policy() {
        for path in ["/", "/index.html", "/campaigns/3", "/setup", "/flows/new"] {
            let response = get(path);
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(
                header_of(&response, header::CACHE_CONTROL),
                "no-cache",
                "{path}"
            );
            assert_eq!(
                header_of(&response, header::CONTENT_TYPE),
                "text/html; charset=utf-8",
                "{path}"
            );
            assert_eq!(
                header_of(&response, header::CONTENT_SECURITY_POLICY),
                CONTENT_SECURITY_POLICY,
                "{path}"
            );
        }
        let icon = get("/favicon.svg");
        assert_eq!(header_of(&icon, header::CACHE_CONTROL), "no-cache");
        assert_eq!(header_of(&icon, header::CONTENT_SECURITY_POLICY), "");
    }

    #[test]
    fn missing_files_are_404_not_the_page() {
        for path in [
            "/assets/index-Old999.js",
            "/assets/",
            "/robots.txt",
            "/x/y.png",
        ] {
            let response = get(path);
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(get("/../index.html").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn etags_answer_304() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"other\", \"etag-10\""),
        );
        let response = respond(&Method::GET, "/campaigns", &headers, fake).expect("built");
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header_of(&response, header::ETAG), "\"etag-10\"");
    }

    #[test]
    fn head_has_the_length_and_no_body() {
        let response = respond(&Method::HEAD, "/", &HeaderMap::new(), fake).expect("built");
        assert_eq!(header_of(&response, header::CONTENT_LENGTH), "34");
    }

    #[test]
    fn without_index_there_is_no_app() {
        assert!(respond(&Method::GET, "/", &HeaderMap::new(), |_| None).is_none());
    }

    #[test]
    fn the_server_keeps_its_own_paths() {
        for path in ["/api", "/api/v1/nope", "/metrics", "/healthz"] {
            assert!(is_server_path(path), "{path}");
        }
        for path in ["/", "/apis", "/setup", "/campaigns/1", "/metrics-report"] {
            assert!(!is_server_path(path), "{path}");
        }
    }
}

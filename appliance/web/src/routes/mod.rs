//! The router table: every route, in one place, with the layers that apply to
//! them. Each handler's first argument says who may call it (`Caller<Analyst>`,
//! `Caller<Manager>`, `Caller<Admin>`, or none for the few public routes), and
//! its `#[utoipa::path]` documents it in the OpenAPI document served at
//! `/api/v1/openapi.json`.

pub mod audio;
pub mod backups;
pub mod blacklist;
pub mod calls;
pub mod campaigns;
pub mod contacts;
pub mod flows;
pub mod live;
pub mod reports;
pub mod session;
pub mod system;
pub mod updates;
pub mod users;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, ResponseBuilder};
use utoipa::{IntoParams, OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::AppState;

/// The largest JSON body accepted: room for a do-not-call addition of tens of
/// thousands of numbers or a large IVR flow; files go through the upload routes,
/// under their own limits.
const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Which page of a list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1 for the first page (default), at most 1,000,000.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

impl PageQuery {
    /// `(offset, limit)`, or a field error.
    pub fn window(&self) -> ApiResult<(u64, u64)> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(50);
        if page == 0 || page > 1_000_000 {
            return Err(ApiError::field("page", "1 or more"));
        }
        if !(1..=500).contains(&per_page) {
            return Err(ApiError::field("per_page", "1 to 500"));
        }
        Ok(((page - 1) * per_page, per_page))
    }

    pub fn of<T>(&self, items: Vec<T>, total: u64) -> Page<T> {
        let per_page = self.per_page.unwrap_or(50);
        Page {
            items,
            total,
            page: self.page.unwrap_or(1),
            per_page,
            pages: total.div_ceil(per_page.max(1)),
        }
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many match in all.
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub pages: u64,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Shofar",
        description = "The HTTP API of a Shofar box: campaigns, contacts, the do-not-call \
                       list, audio, IVR flows, call records, reports, live figures, users. \
                       Log in with POST /api/v1/session (a cookie; send the returned \
                       csrf_token as X-CSRF-Token on every change) or send an API token as \
                       Authorization: Bearer. Every error is {\"error\": {\"code\", \
                       \"message\", \"type\"}}. Roles: docs/api.md."
    ),
    components(schemas(ErrorBody, ErrorCode, shofar_vocab::OutcomeFilter)),
    tags(
        (name = "session", description = "Logging in and out, first-run setup"),
        (name = "users", description = "Users (admins)"),
        (name = "tokens", description = "API tokens for automation"),
        (name = "campaigns", description = "Campaigns and their calendar"),
        (name = "contacts", description = "Contacts and imports"),
        (name = "blacklist", description = "The do-not-call list"),
        (name = "audio", description = "Prompts"),
        (name = "flows", description = "IVR flows"),
        (name = "calls", description = "Call records"),
        (name = "reports", description = "Reports and exports"),
        (name = "live", description = "Live figures"),
        (name = "system", description = "The box"),
        (name = "backups", description = "Database backups and restores (admins)")
    )
)]
struct ApiDoc;

/// The API's routes and its OpenAPI document.
pub fn router(state: AppState) -> (Router, OpenApi) {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::healthz))
        .routes(routes!(
            session::login,
            session::current,
            session::logout,
            session::preferences
        ))
        .routes(routes!(session::change_password))
        .routes(routes!(session::setup_state, session::setup))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::show, users::update, users::delete))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::tokens, users::create_token))
        .routes(routes!(users::revoke_token))
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(campaigns::validate))
        .routes(routes!(
            campaigns::show,
            campaigns::update,
            campaigns::delete
        ))
        .routes(routes!(campaigns::start))
        .routes(routes!(campaigns::pause))
        .routes(routes!(campaigns::resume))
        .routes(routes!(campaigns::cancel))
        .routes(routes!(campaigns::calendar))
        .routes(routes!(campaigns::next))
        .routes(routes!(campaigns::preview))
        .routes(routes!(contacts::list))
        .routes(routes!(contacts::imports))
        .routes(routes!(contacts::rejected))
        .routes(routes!(contacts::jobs))
        .routes(routes!(contacts::job))
        .routes(routes!(blacklist::list, blacklist::add))
        .routes(routes!(blacklist::check, blacklist::remove))
        .routes(routes!(blacklist::history))
        .routes(routes!(blacklist::export))
        .routes(routes!(audio::list))
        .routes(routes!(audio::show, audio::delete))
        .routes(routes!(audio::playback))
        .routes(routes!(flows::list, flows::create))
        .routes(routes!(flows::validate))
        .routes(routes!(flows::show, flows::update, flows::delete))
        .routes(routes!(calls::list))
        .routes(routes!(calls::show))
        .routes(routes!(calls::test_call))
        .routes(routes!(reports::report))
        .routes(routes!(reports::export))
        .routes(routes!(reports::history))
        .routes(routes!(reports::timeline))
        .routes(routes!(reports::compare))
        .routes(routes!(live::status))
        .routes(routes!(live::live))
        .routes(routes!(system::pacing))
        .routes(routes!(system::settings, system::update_settings))
        .routes(routes!(system::audit))
        .routes(routes!(updates::status))
        .routes(routes!(updates::reboot))
        .routes(routes!(backups::list, backups::create))
        .routes(routes!(backups::download))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    // Uploads stream to disk under their own limits (upload::receive).
    let uploads = OpenApiRouter::new()
        .routes(routes!(contacts::import))
        .routes(routes!(blacklist::import))
        .routes(routes!(audio::upload))
        .routes(routes!(updates::install))
        .routes(routes!(backups::restore, backups::cancel_restore))
        .layer(DefaultBodyLimit::disable());
    let (router, mut openapi) = api.merge(uploads).split_for_parts();
    document(&mut openapi);
    let document = serde_json::to_value(&openapi).unwrap_or_default();
    let router = router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json(document) }
            }),
        )
        .fallback(|request: Request| crate::ui::serve(request, home, not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(headers_and_log))
        .with_state(state);
    (router, openapi)
}

/// What every operation shares: how to authenticate, and the error body of every
/// failure (the status per code is in docs/api.md and the error table).
fn document(openapi: &mut OpenApi) {
    openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
            crate::auth::SESSION_COOKIE,
        ))),
    );
    components.add_security_scheme(
        "token",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            "ErrorBody",
                        ))))
                        .build(),
                )
                .build(),
        )
    };
    let authenticated = vec![
        utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        utoipa::openapi::security::SecurityRequirement::new("token", Vec::<String>::new()),
    ];
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let responses = &mut operation.responses.responses;
            responses
                .entry("4XX".to_owned())
                .or_insert_with(|| error("The request was refused: see error.code"));
            responses
                .entry("5XX".to_owned())
                .or_insert_with(|| error("The box could not do it: see error.code"));
            // `security(())` marks a public route; the rest need a login or token.
            if operation.security.is_none() {
                operation.security = Some(authenticated.clone());
            }
        }
    }
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        ErrorCode::RouteNotFound,
        format!(
            "{method} {} is not part of this API (the routes are in /api/v1/openapi.json)",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} does not take {method}", uri.path()),
    )
}

/// Until the web UI is built into the binary, `/` says how to get it.
async fn home() -> Html<&'static str> {
    Html(include_str!("../not_built.html"))
}

/// Security headers on every response, and one log line per request.
async fn headers_and_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if path.starts_with("/api/") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(%method, %path, status, elapsed_ms, "request failed");
    } else {
        tracing::debug!(%method, %path, status, elapsed_ms, "request");
    }
    response.into_response()
}

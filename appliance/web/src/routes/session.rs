//! Logging in and out, the current user, password change, first-run setup.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shofar_store::accounts::{NewSession, NewUser, Role, User};
use utoipa::ToSchema;

use crate::auth::{
    Analyst, Caller, SESSION_COOKIE, dummy_hash, hash_password, hash_password_off_runtime,
    name_problems, password_problems, random_hex, secret_hash, verify_password,
};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::Json;
use crate::state::AppState;

/// A user as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub name: String,
    pub role: RoleName,
    /// `he` or `en`.
    pub locale: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub disabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub password_changed_at: Option<DateTime<Utc>>,
}

/// A role: `admin` (everything), `manager` (campaigns, contacts, the do-not-call
/// list, audio, flows) or `analyst` (read-only: dashboards, records, reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Admin,
    Manager,
    Analyst,
}

impl From<Role> for RoleName {
    fn from(role: Role) -> RoleName {
        match role {
            Role::Admin => RoleName::Admin,
            Role::Manager => RoleName::Manager,
            Role::Analyst => RoleName::Analyst,
        }
    }
}

impl From<RoleName> for Role {
    fn from(role: RoleName) -> Role {
        match role {
            RoleName::Admin => Role::Admin,
            RoleName::Manager => Role::Manager,
            RoleName::Analyst => Role::Analyst,
        }
    }
}

impl From<User> for UserOut {
    fn from(user: User) -> UserOut {
        UserOut {
            id: user.id,
            name: user.name,
            role: user.role.into(),
            locale: user.locale,
            created_at: user.created_at,
            created_by: user.created_by,
            disabled: user.disabled,
            last_login_at: user.last_login_at,
            password_changed_at: user.password_changed_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

/// The logged-in user and what the client needs to act for them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    pub user: UserOut,
    /// What this session may do (a token's role may be less than its user's).
    pub role: RoleName,
    /// Send it in the X-CSRF-Token header on every POST, PUT, PATCH and DELETE.
    /// Absent for API tokens, which need none.
    pub csrf_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The address the request came from, when the server knows it. The box is
/// reached directly on the LAN; a forwarded-for header is not trusted (anyone
/// could send one to dodge the throttle).
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// The session cookie (or, with an empty value and no lifetime, its removal).
fn session_cookie(state: &AppState, value: String, max_age: chrono::Duration) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        max_age.num_seconds().max(0),
        if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// Log in with a name and password: sets the session cookie (HttpOnly,
/// SameSite=Strict) and returns the CSRF token. Failed attempts are throttled
/// per user and per address (429 with Retry-After).
#[utoipa::path(
    post, path = "/api/v1/session", operation_id = "session_login", tag = "session",
    request_body = LoginRequest,
    responses((status = 200, description = "Logged in; the cookie is set", body = SessionOut)),
    security(())
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Response> {
    let name = request.name.trim().to_owned();
    if let Err(seconds) = state.throttle.check(&name, address, Instant::now()) {
        let mut error = ApiError::new(
            ErrorCode::TooManyAttempts,
            format!(
                "too many failed logins: try again in {} minutes, or ask an admin to reset the \
                 password",
                seconds.div_ceil(60)
            ),
        );
        error.retry_after = Some(seconds);
        return Err(error);
    }
    let password = request.password;
    let lookup_name = name.clone();
    let found = state
        .pool
        .run(move |store| Ok(store.user_credentials(&lookup_name)?))
        .await?;
    let verified = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) if !user.disabled => verify_password(&hash, &password).then_some(user),
        _ => {
            verify_password(dummy_hash(), &password);
            None
        }
    })
    .await
    .map_err(|error| ApiError::internal(format!("password check failed: {error}")))?;
    let Some(user) = verified else {
        state.throttle.failed(&name, address, Instant::now());
        tracing::warn!(user = %name, address = ?address, "failed login");
        return Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            "wrong user name or password (a disabled user cannot log in)",
        ));
    };
    state.throttle.succeeded(&name);
    let secret = random_hex(32);
    let csrf = random_hex(24);
    let now = Utc::now();
    let policy = state.config.sessions;
    let new = NewSession {
        token_hash: secret_hash(&secret),
        csrf_token: csrf.clone(),
        user_id: user.id,
        now,
        expires_at: now + policy.idle,
        address: address.map(|a| a.to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect()),
    };
    let user_id = user.id;
    state
        .pool
        .run(move |store| {
            store.session_create(&new)?;
            store.user_logged_in(user_id, now)?;
            Ok(())
        })
        .await?;
    tracing::info!(user = %user.name, "logged in");
    let cookie = session_cookie(&state, secret, policy.absolute);
    let body = SessionOut {
        role: user.role.into(),
        user: user.into(),
        csrf_token: Some(csrf),
        expires_at: Some(now + policy.idle),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// The logged-in user, their role and the session's CSRF token.
#[utoipa::path(
    get, path = "/api/v1/session", operation_id = "session_current", tag = "session",
    responses((status = 200, body = SessionOut))
)]
pub async fn current(caller: Caller<Analyst>) -> Json<SessionOut> {
    let session = caller.session().cloned();
    Json(SessionOut {
        role: caller.role.into(),
        csrf_token: session.as_ref().map(|s| s.csrf_token.clone()),
        expires_at: session.map(|s| s.expires_at),
        user: caller.user.into(),
    })
}

/// Log out: the session ends on the box (the cookie alone no longer works) and
/// the cookie is cleared.
#[utoipa::path(
    delete, path = "/api/v1/session", operation_id = "session_logout", tag = "session",
    responses((status = 204, description = "Logged out"))
)]
pub async fn logout(State(state): State<AppState>, caller: Caller<Analyst>) -> ApiResult<Response> {
    let Some(session) = caller.session() else {
        return Err(ApiError::bad_request(
            "an API token has no session to end; revoke it with DELETE /api/v1/tokens/{id}",
        ));
    };
    let id = session.id;
    state
        .pool
        .run(move |store| Ok(store.session_delete(id)?))
        .await?;
    let cookie = session_cookie(&state, String::new(), chrono::Duration::zero());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change your own password. Every other session of yours ends.
#[utoipa::path(
    put, path = "/api/v1/session/password", operation_id = "session_change_password", tag = "session",
    request_body = PasswordChange,
    responses((status = 204, description = "Changed"))
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller<Analyst>,
    Json(change): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let problems = password_problems(&caller.user.name, &change.new_password, "new_password");
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    let user_id = caller.user.id;
    let stored = state
        .pool
        .run(move |store| Ok(store.user_password_hash(user_id)?))
        .await?
        .unwrap_or_default();
    let current = change.current_password;
    let new = change.new_password;
    let hash = tokio::task::spawn_blocking(move || {
        if !verify_password(&stored, &current) {
            return Err(ApiError::field(
                "current_password",
                "this is not your current password",
            ));
        }
        hash_password(&new)
    })
    .await
    .map_err(|error| ApiError::internal(format!("password hashing failed: {error}")))??;
    let keep = caller.session().map(|s| s.id);
    let actor = caller.actor();
    state
        .pool
        .run(move |store| Ok(store.user_set_password(user_id, &hash, keep, &actor)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// `he` or `en`: the language the UI opens in for you.
    pub locale: String,
}

/// Change your own preferences (the UI's language).
#[utoipa::path(
    patch, path = "/api/v1/session", operation_id = "session_preferences", tag = "session",
    request_body = Preferences,
    responses((status = 200, body = UserOut))
)]
pub async fn preferences(
    State(state): State<AppState>,
    caller: Caller<Analyst>,
    Json(preferences): Json<Preferences>,
) -> ApiResult<Json<UserOut>> {
    let locale = check_locale(&preferences.locale)?;
    let (id, actor) = (caller.user.id, caller.actor());
    let user = state
        .pool
        .run(move |store| {
            let change = shofar_store::accounts::UserChange {
                locale: Some(locale),
                ..Default::default()
            };
            Ok(store.user_update(id, &change, &actor)?)
        })
        .await?;
    Ok(Json(user.into()))
}

pub fn check_locale(locale: &str) -> ApiResult<String> {
    match locale {
        "he" | "en" => Ok(locale.to_owned()),
        other => Err(ApiError::field(
            "locale",
            format!("{other:?} is not a language the UI has: use he or en"),
        )),
    }
}

/// Whether the box still needs its first admin.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupState {
    /// True until the first user exists.
    pub needed: bool,
}

/// Whether first-run setup is still open (no user exists yet).
#[utoipa::path(
    get, path = "/api/v1/setup", operation_id = "session_setup_state", tag = "session",
    responses((status = 200, body = SetupState)),
    security(())
)]
pub async fn setup_state(State(state): State<AppState>) -> ApiResult<Json<SetupState>> {
    let users = state.pool.run(|store| Ok(store.user_count()?)).await?;
    Ok(Json(SetupState { needed: users == 0 }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The one-time secret `shofar serve` printed in its log on first start.
    pub token: String,
    pub name: String,
    pub password: String,
    /// `he` (default) or `en`.
    pub locale: Option<String>,
}

/// Create the first admin with the one-time setup secret from the log. Works once,
/// and only while the box has no user.
#[utoipa::path(
    post, path = "/api/v1/setup", operation_id = "session_setup", tag = "session",
    request_body = SetupRequest,
    responses((status = 201, description = "The first admin", body = UserOut)),
    security(())
)]
pub async fn setup(
    State(state): State<AppState>,
    Json(request): Json<SetupRequest>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let mut problems = name_problems(&request.name);
    problems.extend(password_problems(
        &request.name,
        &request.password,
        "password",
    ));
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    let locale = check_locale(request.locale.as_deref().unwrap_or("he"))?;
    let hash = hash_password_off_runtime(request.password).await?;
    let token_hash = secret_hash(request.token.trim());
    let admin = NewUser {
        name: request.name,
        password_hash: hash,
        role: Role::Admin,
        locale,
    };
    let user = state
        .pool
        .run(move |store| Ok(store.setup_complete(&token_hash, Utc::now(), &admin)?))
        .await?;
    tracing::info!(user = %user.name, "first admin created through the setup link");
    Ok((StatusCode::CREATED, Json(user.into())))
}

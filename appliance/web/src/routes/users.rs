//! Users (admins only) and API tokens (everyone, for themselves).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shofar_store::accounts::{NewToken, NewUser, Role, Token, UserChange};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{
    Admin, Analyst, Caller, TOKEN_PREFIX, hash_password_off_runtime, name_problems,
    password_problems, random_hex, secret_hash,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::routes::session::{RoleName, UserOut, check_locale};
use crate::state::AppState;

/// Every user.
#[utoipa::path(
    get, path = "/api/v1/users", operation_id = "users_list", tag = "users",
    responses((status = 200, body = Vec<UserOut>))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Admin>,
) -> ApiResult<Json<Vec<UserOut>>> {
    let users = state.pool.run(|store| Ok(store.users()?)).await?;
    Ok(Json(users.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// What they log in with: letters, digits, `.`, `-`, `_`, `@`.
    pub name: String,
    /// At least 10 characters.
    pub password: String,
    pub role: RoleName,
    /// `he` (default) or `en`.
    pub locale: Option<String>,
}

/// Add a user.
#[utoipa::path(
    post, path = "/api/v1/users", operation_id = "users_create", tag = "users",
    request_body = NewUserRequest,
    responses((status = 201, body = UserOut))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Json(request): Json<NewUserRequest>,
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
    let new = NewUser {
        name: request.name,
        password_hash: hash,
        role: request.role.into(),
        locale,
    };
    let actor = caller.actor();
    let user = state
        .pool
        .run(move |store| Ok(store.user_insert(&new, &actor)?))
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// One user.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", operation_id = "users_show", tag = "users",
    params(("id" = i64, Path, description = "The user's id")),
    responses((status = 200, body = UserOut))
)]
pub async fn show(
    State(state): State<AppState>,
    _: Caller<Admin>,
    Path(id): Path<i64>,
) -> ApiResult<Json<UserOut>> {
    let user = state.pool.run(move |store| Ok(store.user(id)?)).await?;
    user.map(|u| Json(u.into()))
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<RoleName>,
    pub locale: Option<String>,
    /// A disabled user cannot log in; their sessions end and their API tokens
    /// are revoked: enabling them again brings neither back.
    pub disabled: Option<bool>,
}

/// Change a user's role, language, or whether they may log in. Disabling ends
/// their sessions and revokes their tokens. The last enabled admin can be neither
/// demoted nor disabled.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", operation_id = "users_update", tag = "users",
    params(("id" = i64, Path, description = "The user's id")),
    request_body = UserPatch,
    responses((status = 200, body = UserOut))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<i64>,
    Json(patch): Json<UserPatch>,
) -> ApiResult<Json<UserOut>> {
    let change = UserChange {
        role: patch.role.map(Into::into),
        locale: patch.locale.as_deref().map(check_locale).transpose()?,
        disabled: patch.disabled,
    };
    let actor = caller.actor();
    let user = state
        .pool
        .run(move |store| Ok(store.user_update(id, &change, &actor)?))
        .await?;
    Ok(Json(user.into()))
}

/// Remove a user (their audit entries stay). Not the last admin.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}", operation_id = "users_delete", tag = "users",
    params(("id" = i64, Path, description = "The user's id")),
    responses((status = 204, description = "Removed"))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    if id == caller.user.id {
        return Err(ApiError::conflict(
            "you cannot remove yourself; another admin can",
        ));
    }
    let actor = caller.actor();
    state
        .pool
        .run(move |store| Ok(store.user_delete(id, &actor)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    pub password: String,
}

/// Set another user's password (they forgot theirs). Their sessions end.
#[utoipa::path(
    put, path = "/api/v1/users/{id}/password", operation_id = "users_reset_password", tag = "users",
    params(("id" = i64, Path, description = "The user's id")),
    request_body = PasswordReset,
    responses((status = 204, description = "Set"))
)]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<i64>,
    Json(reset): Json<PasswordReset>,
) -> ApiResult<StatusCode> {
    let user = state
        .pool
        .run(move |store| Ok(store.user(id)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {id}")))?;
    let problems = password_problems(&user.name, &reset.password, "password");
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    let hash = hash_password_off_runtime(reset.password).await?;
    let actor = caller.actor();
    state
        .pool
        .run(move |store| Ok(store.user_set_password(id, &hash, None, &actor)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub name: String,
    /// The secret's first characters, to tell tokens apart.
    pub prefix: String,
    pub role: RoleName,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<Token> for TokenOut {
    fn from(token: Token) -> TokenOut {
        TokenOut {
            id: token.id,
            user_id: token.user_id,
            user_name: token.user_name,
            name: token.name,
            prefix: token.prefix,
            role: token.role.into(),
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
            revoked_at: token.revoked_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TokenListQuery {
    /// Admins only: every user's tokens, not just yours.
    pub all: Option<bool>,
}

/// Your API tokens (an admin may ask for everybody's with `all=true`).
#[utoipa::path(
    get, path = "/api/v1/tokens", operation_id = "users_tokens", tag = "tokens",
    params(TokenListQuery),
    responses((status = 200, body = Vec<TokenOut>))
)]
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller<Analyst>,
    Query(query): Query<TokenListQuery>,
) -> ApiResult<Json<Vec<TokenOut>>> {
    let all = query.all.unwrap_or(false);
    if all && !caller.role.allows(Role::Admin) {
        return Err(ApiError::forbidden(
            "only an admin may list everybody's tokens",
        ));
    }
    let user = (!all).then_some(caller.user.id);
    let tokens = state.pool.run(move |store| Ok(store.tokens(user)?)).await?;
    Ok(Json(tokens.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What it is for ("nightly export").
    pub name: String,
    /// At most your own role; default your own role.
    pub role: Option<RoleName>,
    /// Days until it stops working (1–3650); default: never.
    pub expires_in_days: Option<u32>,
}

/// A new token, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenOut,
    /// Send as `Authorization: Bearer <secret>`. The box keeps only its hash.
    pub secret: String,
}

/// Make an API token for automation, scoped to a role no higher than yours.
#[utoipa::path(
    post, path = "/api/v1/tokens", operation_id = "users_create_token", tag = "tokens",
    request_body = NewTokenRequest,
    responses((status = 201, body = CreatedToken))
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller<Analyst>,
    Json(request): Json<NewTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field("name", "1 to 100 characters"));
    }
    let role: Role = request.role.map(Into::into).unwrap_or(caller.role);
    if !caller.role.allows(role) {
        return Err(ApiError::forbidden(format!(
            "a token cannot do more than you: your role is {}",
            caller.role
        )));
    }
    let expires_at = match request.expires_in_days {
        None => None,
        Some(days @ 1..=3650) => Some(Utc::now() + chrono::Duration::days(i64::from(days))),
        Some(_) => {
            return Err(ApiError::field(
                "expires_in_days",
                "1 to 3650 days, or leave it out for no expiry",
            ));
        }
    };
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(20));
    let new = NewToken {
        user_id: caller.user.id,
        name,
        token_hash: secret_hash(&secret),
        prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
        role,
        expires_at,
    };
    let actor = caller.actor();
    let token = state
        .pool
        .run(move |store| Ok(store.token_insert(&new, &actor)?))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.into(),
            secret,
        }),
    ))
}

/// Revoke a token: it stops working at once. Yours, or anyone's for an admin.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", operation_id = "users_revoke_token", tag = "tokens",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller<Analyst>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let token = state
        .pool
        .run(move |store| Ok(store.token(id)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no API token with id {id}")))?;
    if token.user_id != caller.user.id && !caller.role.allows(Role::Admin) {
        // Not the caller's to see: as if it did not exist.
        return Err(ApiError::not_found(format!("no API token with id {id}")));
    }
    let actor = caller.actor();
    state
        .pool
        .run(move |store| Ok(store.token_revoke(id, &actor)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

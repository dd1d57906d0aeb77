//! IVR flows: saved as the engine's JSON, validated by the engine itself, so the
//! builder shows exactly the messages a call would fail with.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shofar_ivr::{Flow, FlowError};
use shofar_store::library::StoredFlow;
use utoipa::ToSchema;

use crate::auth::{Caller, Manager};
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// A saved flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowOut {
    pub id: i64,
    /// What campaigns name it by (`ivr_flow`).
    pub name: String,
    /// The engine's JSON (docs/ivr.md).
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StoredFlow> for FlowOut {
    fn from(flow: StoredFlow) -> FlowOut {
        FlowOut {
            id: flow.id,
            name: flow.name,
            definition: flow.definition,
            created_at: flow.created_at,
            updated_at: flow.updated_at,
        }
    }
}

/// One problem the engine found.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowProblem {
    /// The node concerned, if any: where the builder shows it.
    pub node: Option<String>,
    /// The field in the node (`keys.4`, `timeout.seconds`) or of the flow.
    pub field: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// What is wrong, for a UI to word: `keys_empty`, `target_unknown`, … (the
    /// engine's `shofar_ivr::CODES`).
    pub code: String,
    /// The values the sentence names (`key`, `target`, `value`, `max`, …).
    pub params: BTreeMap<String, String>,
    /// The whole sentence in English.
    pub message: String,
}

impl From<FlowError> for FlowProblem {
    fn from(error: FlowError) -> FlowProblem {
        FlowProblem {
            node: error.node,
            field: error.field,
            line: error.line,
            column: error.column,
            code: error.code.to_owned(),
            params: error
                .params
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            message: error.message,
        }
    }
}

/// What the engine says of a flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowCheck {
    pub valid: bool,
    /// Every problem, each naming its node and field.
    pub problems: Vec<FlowProblem>,
    /// The prompts the flow plays (valid flows only).
    pub prompts: Vec<String>,
    /// Of those, the ones the box has no recording for yet (a campaign's own
    /// prompts may still provide them).
    pub missing_prompts: Vec<String>,
}

fn check(
    state: &AppState,
    definition: &serde_json::Value,
) -> (Result<Flow, Vec<FlowError>>, FlowCheck) {
    match Flow::from_json(&definition.to_string()) {
        Ok(flow) => {
            let prompts = flow.prompts().to_vec();
            let missing = prompts
                .iter()
                .filter(|name| *name != "campaign" && !state.config.prompts.has("prompts", name))
                .cloned()
                .collect();
            let summary = FlowCheck {
                valid: true,
                problems: Vec::new(),
                prompts,
                missing_prompts: missing,
            };
            (Ok(flow), summary)
        }
        Err(errors) => {
            let summary = FlowCheck {
                valid: false,
                problems: errors.0.iter().cloned().map(Into::into).collect(),
                prompts: Vec::new(),
                missing_prompts: Vec::new(),
            };
            (Err(errors.0), summary)
        }
    }
}

/// The engine's problems as a 422 naming `definition.nodes.NODE.FIELD`.
fn invalid(errors: Vec<FlowError>) -> ApiError {
    ApiError::invalid(
        errors
            .into_iter()
            .map(|error| FieldProblem {
                field: match (&error.node, &error.field) {
                    (Some(node), Some(field)) => format!("definition.nodes.{node}.{field}"),
                    (Some(node), None) => format!("definition.nodes.{node}"),
                    (None, Some(field)) => format!("definition.{field}"),
                    (None, None) => "definition".to_owned(),
                },
                message: error.message,
            })
            .collect(),
    )
}

/// Check a flow without saving it: 200 with every problem the engine finds (each
/// naming its node and field), the prompts it plays and which have no recording.
#[utoipa::path(
    post, path = "/api/v1/flows/validate", operation_id = "flows_validate", tag = "flows",
    request_body(content = Object, description = "The flow's JSON (docs/ivr.md)"),
    responses((status = 200, body = FlowCheck))
)]
pub async fn validate(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Json(definition): Json<serde_json::Value>,
) -> Json<FlowCheck> {
    Json(check(&state, &definition).1)
}

/// Every saved flow.
#[utoipa::path(
    get, path = "/api/v1/flows", operation_id = "flows_list", tag = "flows",
    responses((status = 200, body = Vec<FlowOut>))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Manager>,
) -> ApiResult<Json<Vec<FlowOut>>> {
    let flows = state.pool.run(|store| Ok(store.flows()?)).await?;
    Ok(Json(flows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowInput {
    /// Unique; what campaigns name it by.
    pub name: String,
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 100
        || name.contains('/')
        || name.ends_with(".json")
    {
        return Err(ApiError::field(
            "name",
            "1 to 100 characters, without '/' and not ending in .json",
        ));
    }
    Ok(name.to_owned())
}

/// Save a new flow; refused (422, each problem on its node) unless the engine
/// accepts it.
#[utoipa::path(
    post, path = "/api/v1/flows", operation_id = "flows_create", tag = "flows",
    request_body = FlowInput,
    responses((status = 201, body = FlowOut))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Json(input): Json<FlowInput>,
) -> ApiResult<(StatusCode, Json<FlowOut>)> {
    let name = check_name(&input.name)?;
    let flow = check(&state, &input.definition).0.map_err(invalid)?;
    let definition = serde_json::to_value(&flow).unwrap_or(input.definition);
    let actor = caller.actor();
    let saved = state
        .pool
        .run(move |store| Ok(store.flow_insert(&name, &definition, &actor)?))
        .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// One flow.
#[utoipa::path(
    get, path = "/api/v1/flows/{id}", operation_id = "flows_show", tag = "flows",
    params(("id" = i64, Path, description = "The flow's id")),
    responses((status = 200, body = FlowOut))
)]
pub async fn show(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Path(id): Path<i64>,
) -> ApiResult<Json<FlowOut>> {
    let flow = state.pool.run(move |store| Ok(store.flow(id)?)).await?;
    flow.map(|f| Json(f.into()))
        .ok_or_else(|| ApiError::not_found(format!("no IVR flow {id}")))
}

/// Replace a flow (and rename it, unless campaigns use it). Campaigns that use it
/// play the new version from their next call.
#[utoipa::path(
    put, path = "/api/v1/flows/{id}", operation_id = "flows_update", tag = "flows",
    params(("id" = i64, Path, description = "The flow's id")),
    request_body = FlowInput,
    responses((status = 200, body = FlowOut))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Path(id): Path<i64>,
    Json(input): Json<FlowInput>,
) -> ApiResult<Json<FlowOut>> {
    let name = check_name(&input.name)?;
    let flow = check(&state, &input.definition).0.map_err(invalid)?;
    let definition = serde_json::to_value(&flow).unwrap_or(input.definition);
    let actor = caller.actor();
    let saved = state
        .pool
        .run(move |store| Ok(store.flow_update(id, &name, &definition, &actor)?))
        .await?;
    Ok(Json(saved.into()))
}

/// Delete a flow no campaign still to run uses.
#[utoipa::path(
    delete, path = "/api/v1/flows/{id}", operation_id = "flows_delete", tag = "flows",
    params(("id" = i64, Path, description = "The flow's id")),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let actor = caller.actor();
    state
        .pool
        .run(move |store| Ok(store.flow_delete(id, &actor)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

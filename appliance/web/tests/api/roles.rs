//! The role × route matrix: docs/api.md's table is the contract; every route is
//! called without a login (401), with each role below the one it needs (403), and
//! with the roles that may (neither).

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use shofar_store::accounts::Role;

use crate::support::TestApp;

/// `(method, path, least role; None for public)` from docs/api.md.
fn matrix() -> Vec<(Method, String, Option<Role>)> {
    let doc = include_str!("../../../../docs/api.md");
    let start = doc
        .find("<!-- role-matrix:start -->")
        .expect("the matrix start marker");
    let end = doc
        .find("<!-- role-matrix:end -->")
        .expect("the matrix end marker");
    doc[start..end]
        .lines()
        .filter(|line| {
            line.starts_with("| ") && !line.starts_with("| method") && !line.starts_with("| ---")
        })
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 3, "a matrix row has three cells: {line}");
            let method: Method = cells[0].parse().unwrap();
            let role = match cells[2] {
                "public" => None,
                role => Some(role.parse::<Role>().unwrap()),
            };
            (method, cells[1].to_owned(), role)
        })
        .collect()
}

/// A path with its parameters filled by values that name nothing that exists,
/// so an allowed call changes nothing.
fn concrete(path: &str) -> String {
    path.replace("{id}", "999999")
        .replace("{number}", "0525551234")
        .replace("{folder}", "prompts")
        .replace("{name}", "no-such-prompt")
        .replace("{call_id}", "no-such-call")
}

#[test]
fn the_matrix_lists_exactly_the_documented_operations() {
    let app = TestApp::new();
    let (_, openapi) = shofar_web::router(app.state.clone());
    let documented: BTreeSet<(String, String)> = openapi
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(method, _)| (method.to_owned(), path.clone()))
            .collect::<Vec<_>>()
        })
        .collect();
    let listed: BTreeSet<(String, String)> = matrix()
        .into_iter()
        .map(|(method, path, _)| (method.to_string(), path))
        .collect();
    let missing: Vec<_> = documented.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes not in docs/api.md's matrix: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "matrix rows with no such route: {extra:?}"
    );
}

#[tokio::test]
async fn every_route_refuses_the_anonymous_and_roles_below_its_own() {
    let app = TestApp::new();
    let clients = [
        (Role::Analyst, app.token_for("ana", Role::Analyst)),
        (Role::Manager, app.token_for("mia", Role::Manager)),
        (Role::Admin, app.token_for("adam", Role::Admin)),
    ];
    let anonymous = app.anonymous();
    let mut checked = 0;
    for (method, path, least) in matrix() {
        let uri = concrete(&path);
        let body = serde_json::json!({});
        let call = |client: &crate::support::Client| {
            let (method, uri, client) = (method.clone(), uri.clone(), client.clone());
            let body = body.clone();
            async move {
                if method == Method::GET || method == Method::DELETE {
                    client.send(method, &uri, None, Vec::new()).await
                } else {
                    client.json(method, &uri, body).await
                }
            }
        };
        let response = call(&anonymous).await;
        match least {
            None => assert_ne!(
                response.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} is public but asked for a login"
            ),
            Some(_) => {
                assert_eq!(
                    response.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} without a login: {}",
                    response.text()
                );
                assert_eq!(response.code(), "unauthenticated");
            }
        }
        for (role, client) in &clients {
            let response = call(client).await;
            let allowed = least.is_none_or(|least| role.allows(least));
            if allowed {
                assert!(
                    response.status != StatusCode::UNAUTHORIZED
                        && response.status != StatusCode::FORBIDDEN,
                    "{method} {path} as {role} should be allowed: {} {}",
                    response.status,
                    response.text()
                );
            } else {
                assert_eq!(
                    response.status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {role}: {}",
                    response.text()
                );
                assert_eq!(response.code(), "forbidden");
            }
            // Whatever happens, it is one of ours: JSON from the error table, or a
            // success; never a 5xx.
            assert!(
                !response.status.is_server_error(),
                "{method} {path} as {role}: {} {}",
                response.status,
                response.text()
            );
        }
        checked += 1;
    }
    assert!(checked >= 60, "only {checked} routes checked");
}

#[tokio::test]
async fn a_change_made_with_a_cookie_needs_the_csrf_token() {
    let app = TestApp::new();
    let manager = app.login_as("mia", Role::Manager).await;
    let body = serde_json::json!({"name": "חורף 2026"});
    let mut forged = manager.clone();
    forged.csrf = None;
    let refused = forged.post("/api/v1/campaigns", body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "csrf_failed");
    forged.csrf = Some("0".repeat(48));
    assert_eq!(
        forged.post("/api/v1/campaigns", body.clone()).await.code(),
        "csrf_failed"
    );
    // Reads need no token.
    assert_eq!(forged.get("/api/v1/campaigns").await.status, StatusCode::OK);
    let created = manager.post("/api/v1/campaigns", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    // Nothing was created by the refused attempts.
    let list = manager.get("/api/v1/campaigns").await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_token_never_does_more_than_its_role() {
    let app = TestApp::new();
    let analyst = app.token_for("ana", Role::Analyst);
    let refused = analyst
        .post("/api/v1/campaigns", serde_json::json!({"name": "x"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("manager")
    );
    // A token cannot be made with more than its maker's role.
    let escalate = analyst
        .post(
            "/api/v1/tokens",
            serde_json::json!({"name": "up", "role": "admin"}),
        )
        .await;
    assert_eq!(escalate.status, StatusCode::FORBIDDEN);
}

//! Validation: the shipped flows are valid, and each kind of mistake is reported
//! with the exact message a staff member will read.

mod support;

use proptest::prelude::*;
use shofar_ivr::{CODES, DEFAULT_FLOW_JSON, Flow, FlowError};

/// Parses `json` and compares every message, in order. An empty list means valid.
#[track_caller]
fn check(json: &str, expected: &[&str]) {
    let actual = match Flow::from_json(json) {
        Ok(_) => Vec::new(),
        Err(errors) => {
            for error in &errors.0 {
                assert!(CODES.contains(&error.code), "{error:?}: code not in CODES");
            }
            errors.messages()
        }
    };
    assert_eq!(actual, expected, "\nflow:\n{json}");
}

/// A flow around `nodes` (the inside of the `nodes` object), starting at `main`.
fn flow(nodes: &str) -> String {
    format!(r#"{{"version": 1, "name": "test", "start": "main", "nodes": {{{nodes}}}}}"#)
}

const WAITS: &str = r#""timeout": {"seconds": 10, "prompt": "no-input", "retries": 2, "then": "bye"},
    "invalid": {"prompt": "invalid", "retries": 2, "then": "bye"}"#;

const BYE: &str = r#""bye": {"type": "action", "action": {"kind": "end_call"}}"#;

fn menu(keys: &str) -> String {
    format!(
        r#""main": {{"type": "menu", "prompts": ["menu"], "keys": {{{keys}}}, {WAITS}}}, {BYE}"#
    )
}

#[test]
fn a_minimal_menu_is_valid() {
    check(&flow(&menu(r#""1": "bye""#)), &[]);
}

#[test]
fn json_mistakes_name_line_and_column() {
    check(
        "{\"version\": 1,\n \"name\": \"x\",\n",
        &["the flow is not valid JSON (line 3, column 0): EOF while parsing a value"],
    );
    check(
        "{\"version\": 1, \"name\": \"x\" \"start\": \"main\"}",
        &["the flow is not valid JSON (line 1, column 28): expected `,` or `}`"],
    );
    check(
        &flow(r#""main": {"type": "play", "prompts": ["x"], "nxet": "bye"}"#),
        &["node \"main\": unknown field `nxet`, expected `prompts` or `next` (line 1, column 116)"],
    );
    check(
        &flow(r#""main": {"type": "jump", "prompts": ["x"]}"#),
        &[
            "node \"main\": unknown variant `jump`, expected one of `play`, `menu`, `capture`, `action` (line 1, column 81)",
        ],
    );
    check(
        &flow(r#""main": {"type": "action", "action": {"kind": "blacklist", "source": "ivr"}}"#),
        &["node \"main\": unknown field `source`, there are no fields (line 1, column 135)"],
    );
    check(
        r#"{"version": 1, "name": "x", "start": "main", "nodes": {}, "extra": 1}"#,
        &[
            "the flow does not follow the format (line 1, column 65): unknown field `extra`, expected one of `version`, `name`, `start`, `nodes`",
        ],
    );
    check(
        &flow(r#""main": {"type": "menu", "prompts": ["m"], "keys": {"1": 5}}"#),
        &["node \"main\": invalid type: integer `5`, expected a string (line 1, column 119)"],
    );
}

#[test]
fn only_version_1_is_read() {
    check(
        r#"{"version": 2, "name": "x", "start": "a", "nodes": {}, "new_thing": true}"#,
        &["\"version\" is 2, but this engine reads only version 1"],
    );
    check(
        r#"{"version": "1", "name": "x", "start": "a", "nodes": {}}"#,
        &["\"version\" is \"1\", but this engine reads only version 1"],
    );
    check(
        r#"{"name": "x", "start": "a", "nodes": {}}"#,
        &["the flow has no \"version\"; this engine reads version 1"],
    );
}

#[test]
fn start_must_name_a_node() {
    check(
        &format!(r#"{{"version": 1, "name": "x", "nodes": {{{BYE}}}}}"#),
        &["the flow has no \"start\": name the node the call begins in"],
    );
    check(
        &format!(r#"{{"version": 1, "name": "x", "start": "mian", "nodes": {{{BYE}}}}}"#),
        &["\"start\" is \"mian\", which is not a node"],
    );
    check(
        r#"{"version": 1, "name": " ", "start": "main", "nodes": {}}"#,
        &[
            "the flow needs a \"name\"",
            "the flow has no nodes",
            "\"start\" is \"main\", which is not a node",
        ],
    );
}

#[test]
fn every_reference_must_name_a_node() {
    check(
        &flow(&menu(r#""1": "bye", "4": "nowhere""#)),
        &["node \"main\": key \"4\" leads to \"nowhere\", which is not a node"],
    );
    check(
        &flow(&format!(
            r#""main": {{"type": "play", "prompts": ["hi"], "next": "go"}},
            "go": {{"type": "action", "action": {{"kind": "goto", "target": "menu2"}}}}, {BYE}"#
        )),
        &[
            "node \"go\": \"action.target\" leads to \"menu2\", which is not a node",
            "node \"bye\" cannot be reached: no path from the start node \"main\" leads to it",
        ],
    );
    check(
        &flow(
            r#""main": {"type": "menu", "prompts": ["menu"], "keys": {"1": "main"},
            "timeout": {"seconds": 10, "prompt": "no-input", "retries": 2, "then": "gone"},
            "invalid": {"prompt": "invalid", "retries": 2, "then": "away"}}"#,
        ),
        &[
            "node \"main\": \"timeout.then\" leads to \"gone\", which is not a node",
            "node \"main\": \"invalid.then\" leads to \"away\", which is not a node",
        ],
    );
}

#[test]
fn keys_are_single_phone_keys() {
    check(
        &flow(&menu(
            r##""1": "bye", "12": "bye", "a": "bye", "": "bye", "*": "bye", "#": "bye""##,
        )),
        &[
            "node \"main\": key \"12\" is not a phone key: use one of 0-9, * or #",
            "node \"main\": key \"a\" is not a phone key: use one of 0-9, * or #",
            "node \"main\": key \"\" is not a phone key: use one of 0-9, * or #",
        ],
    );
    check(
        &flow(&menu(r#""1": "bye", "1": "main""#)),
        &["node \"main\": key \"1\" is listed more than once"],
    );
    check(
        &flow(&menu("")),
        &["node \"main\": a menu needs at least one key"],
    );
}

#[test]
fn every_node_must_be_reachable() {
    check(
        &flow(&format!(
            r#"{}, "orphan": {{"type": "play", "prompts": ["x"]}}"#,
            menu(r#""1": "bye""#)
        )),
        &["node \"orphan\" cannot be reached: no path from the start node \"main\" leads to it"],
    );
}

#[test]
fn menus_and_captures_need_timeout_and_invalid_handling() {
    check(
        &flow(&format!(
            r#""main": {{"type": "menu", "prompts": ["menu"], "keys": {{"1": "amount"}}}},
            "amount": {{"type": "capture", "prompts": ["enter"], "variable": "amount", "max_length": 4}}, {BYE}"#
        )),
        &[
            "node \"main\": a menu needs \"timeout\": what to do when the caller presses nothing",
            "node \"main\": a menu needs \"invalid\": what to do when the caller presses a key that is not listed",
            "node \"amount\": a capture needs \"timeout\": what to do when the caller presses nothing",
            "node \"amount\": a capture needs \"invalid\": what to do when the caller presses too few digits or a wrong key",
            "node \"amount\": a capture needs \"next\": where to go once the digits are in",
            "node \"bye\" cannot be reached: no path from the start node \"main\" leads to it",
            "node \"main\" is in a loop with no way out: no path from it ends the call",
            "node \"amount\" is in a loop with no way out: no path from it ends the call",
        ],
    );
    check(
        &flow(&format!(
            r#""main": {{"type": "menu", "prompts": ["menu"], "keys": {{"1": "bye"}},
            "timeout": {{"seconds": 0, "prompt": "", "retries": 11, "then": "bye"}},
            "invalid": {{"prompt": " ", "retries": 99, "then": "bye"}}}}, {BYE}"#
        )),
        &[
            "node \"main\": \"timeout.seconds\" must be between 1 and 60, not 0",
            "node \"main\": \"timeout.prompt\" is empty; give the name of a recording",
            "node \"main\": \"timeout.retries\" must be 10 or fewer, not 11",
            "node \"main\": \"invalid.prompt\" is empty; give the name of a recording",
            "node \"main\": \"invalid.retries\" must be 10 or fewer, not 99",
        ],
    );
    check(
        &flow(&format!(
            r#""main": {{"type": "menu", "prompts": ["menu"], "keys": {{"1": "bye"}},
            "timeout": {{"seconds": 61, "prompt": "t", "retries": 10, "then": "bye"}},
            "invalid": {{"prompt": "i", "retries": 0, "then": "bye"}}}}, {BYE}"#
        )),
        &["node \"main\": \"timeout.seconds\" must be between 1 and 60, not 61"],
    );
}

#[test]
fn prompts_must_not_be_empty() {
    check(
        &flow(&format!(
            r#""main": {{"type": "play", "prompts": [], "next": "m"}},
            "m": {{"type": "menu", "prompts": [], "keys": {{"1": "p"}}, {WAITS}}},
            "p": {{"type": "play", "prompts": ["ok", ""], "next": "bye"}}, {BYE}"#
        )),
        &[
            "node \"main\": \"prompts\" is empty; a play node needs at least one prompt",
            "node \"m\": \"prompts\" is empty; a menu node needs at least one prompt",
            "node \"p\": prompt 2 is empty; give the name of a recording",
        ],
    );
}

fn capture(fields: &str) -> String {
    flow(&format!(
        r#""main": {{"type": "capture", "prompts": ["enter"], "variable": "amount", {fields}, {WAITS}, "next": "bye"}}, {BYE}"#
    ))
}

#[test]
fn capture_lengths_and_terminator_are_checked() {
    check(&capture(r#""max_length": 6"#), &[]);
    check(
        &capture(r#""min_length": 7, "max_length": 6"#),
        &["node \"main\": \"min_length\" (7) is greater than \"max_length\" (6)"],
    );
    check(
        &capture(r#""max_length": 0"#),
        &[
            "node \"main\": \"max_length\" must be between 1 and 20, not 0",
            "node \"main\": \"min_length\" (1) is greater than \"max_length\" (0)",
        ],
    );
    check(
        &capture(r#""max_length": 21"#),
        &["node \"main\": \"max_length\" must be between 1 and 20, not 21"],
    );
    check(
        &capture(
            r#""min_length": 0, "max_length": 3, "terminator": "5", "inter_digit_seconds": 0"#,
        ),
        &[
            "node \"main\": \"min_length\" must be at least 1",
            "node \"main\": \"terminator\" must be \"#\" or \"*\", not \"5\"",
            "node \"main\": \"inter_digit_seconds\" must be between 1 and 60, not 0",
        ],
    );
    check(
        &flow(&format!(
            r#""main": {{"type": "capture", "prompts": ["enter"], "variable": " ", "max_length": 3, {WAITS}, "next": "bye"}}, {BYE}"#
        )),
        &["node \"main\": \"variable\" is empty; name the variable the digits are kept in"],
    );
}

#[test]
fn a_menu_key_equal_to_a_capture_terminator_is_fine() {
    check(
        &flow(&format!(
            r##""main": {{"type": "menu", "prompts": ["menu"], "keys": {{"#": "amount"}}, {WAITS}}},
            "amount": {{"type": "capture", "prompts": ["enter"], "variable": "amount", "max_length": 4,
              "terminator": "#", {WAITS}, "next": "donate"}},
            "donate": {{"type": "action", "action": {{"kind": "donate", "amount_variable": "amount"}}}}, {BYE}"##
        )),
        &[],
    );
}

#[test]
fn actions_are_checked() {
    check(
        &flow(
            r#""main": {"type": "action", "action": {"kind": "donate", "amount_variable": "sum"}, "next": "sms"},
            "sms": {"type": "action", "action": {"kind": "send_sms"}, "next": "go"},
            "go": {"type": "action", "action": {"kind": "goto", "target": "agent"}, "next": "agent"},
            "agent": {"type": "action", "action": {"kind": "transfer", "to": ""}, "next": "bye"},
            "bye": {"type": "action", "action": {"kind": "end_call"}, "next": "main"}"#,
        ),
        &[
            "node \"main\": \"action.amount_variable\" is \"sum\", which no capture node sets",
            "node \"go\": a goto already says where to go, so it cannot also have \"next\"",
            "node \"agent\": \"action.to\" is empty; give the number to transfer to",
            "node \"agent\": a transfer ends the IVR, so it cannot have \"next\"",
            "node \"bye\": end_call ends the call, so it cannot have \"next\"",
        ],
    );
}

#[test]
fn a_loop_without_a_way_out_names_each_node_in_it() {
    check(
        &flow(
            r#""main": {"type": "play", "prompts": ["a"], "next": "b"},
            "b": {"type": "play", "prompts": ["b"], "next": "main"}"#,
        ),
        &[
            "node \"main\" is in a loop with no way out: no path from it ends the call",
            "node \"b\" is in a loop with no way out: no path from it ends the call",
        ],
    );
    // A goto to itself never even plays anything.
    check(
        &flow(r#""main": {"type": "action", "action": {"kind": "goto", "target": "main"}}"#),
        &["node \"main\" is in a loop with no way out: no path from it ends the call"],
    );
    // A menu whose every key, timeout and invalid lead back into the loop.
    check(
        &flow(
            r#""main": {"type": "menu", "prompts": ["m"], "keys": {"1": "info"},
              "timeout": {"seconds": 5, "prompt": "t", "retries": 1, "then": "main"},
              "invalid": {"prompt": "i", "retries": 1, "then": "info"}},
            "info": {"type": "play", "prompts": ["info"], "next": "main"}"#,
        ),
        &[
            "node \"main\" is in a loop with no way out: no path from it ends the call",
            "node \"info\" is in a loop with no way out: no path from it ends the call",
        ],
    );
}

#[test]
fn a_menu_inside_a_cycle_is_fine_when_something_ends_the_call() {
    check(
        &flow(&format!(
            r#""main": {{"type": "menu", "prompts": ["m"], "keys": {{"1": "info", "2": "bye"}},
              "timeout": {{"seconds": 5, "prompt": "t", "retries": 1, "then": "main"}},
              "invalid": {{"prompt": "i", "retries": 1, "then": "info"}}}},
            "info": {{"type": "play", "prompts": ["info"], "next": "main"}}, {BYE}"#
        )),
        &[],
    );
}

#[test]
fn a_dangling_reference_is_not_also_reported_as_a_loop() {
    check(
        &flow(
            r#""main": {"type": "play", "prompts": ["a"], "next": "b"},
            "b": {"type": "play", "prompts": ["b"], "next": "c"}"#,
        ),
        &["node \"b\": \"next\" leads to \"c\", which is not a node"],
    );
}

#[test]
fn a_node_defined_twice_is_reported() {
    check(
        &flow(&format!(
            r#"{}, "bye": {{"type": "play", "prompts": ["x"]}}"#,
            menu(r#""1": "bye""#)
        )),
        &["node \"bye\" is defined more than once"],
    );
}

#[test]
fn errors_carry_node_and_field_for_the_web_ui() {
    let errors = Flow::from_json(&flow(&menu(r#""1": "bye", "4": "nowhere""#))).unwrap_err();
    assert_eq!(
        errors.0,
        vec![FlowError {
            node: Some("main".to_owned()),
            field: Some("keys.4".to_owned()),
            line: None,
            column: None,
            code: "target_unknown",
            params: [("key", "4".to_owned()), ("target", "nowhere".to_owned())]
                .into_iter()
                .collect(),
            message: "node \"main\": key \"4\" leads to \"nowhere\", which is not a node"
                .to_owned(),
        }]
    );
    assert_eq!(
        serde_json::to_string(&errors).unwrap(),
        r#"[{"node":"main","field":"keys.4","code":"target_unknown","params":{"key":"4","target":"nowhere"},"message":"node \"main\": key \"4\" leads to \"nowhere\", which is not a node"}]"#
    );
    assert_eq!(
        errors.to_string(),
        "the flow has 1 problem:\n- node \"main\": key \"4\" leads to \"nowhere\", which is not a node"
    );
    let syntax = Flow::from_json("{").unwrap_err();
    assert_eq!(
        serde_json::to_string(&syntax).unwrap(),
        r#"[{"node":null,"field":null,"line":1,"column":1,"code":"json_invalid","params":{"column":"1","detail":"EOF while parsing an object","line":"1"},"message":"the flow is not valid JSON (line 1, column 1): EOF while parsing an object"}]"#
    );
}

#[test]
fn the_default_flow_is_valid() {
    let flow = Flow::default_flow();
    assert_eq!(Flow::from_json(DEFAULT_FLOW_JSON), Ok(flow.clone()));
    assert_eq!(flow.start(), "main");
    assert_eq!(
        flow.prompts(),
        [
            "campaign",
            "menu",
            "no-input",
            "invalid",
            "thanks",
            "info",
            "optout-confirm",
            "goodbye"
        ]
    );
}

#[test]
fn the_documented_example_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ivr.example.json");
    let json = std::fs::read_to_string(path).expect("docs/ivr.example.json exists");
    let flow = Flow::from_json(&json).unwrap_or_else(|errors| panic!("{errors}"));
    assert!(
        flow.nodes()
            .any(|(_, node)| matches!(node, shofar_ivr::Node::Capture { .. })),
        "the example shows a capture"
    );
    let menus = flow
        .nodes()
        .filter(|(_, node)| matches!(node, shofar_ivr::Node::Menu { .. }))
        .count();
    assert!(menus >= 2, "the example shows a menu and a sub-menu");
}

#[test]
fn a_flow_round_trips_through_json_and_serde() {
    let default = Flow::default_flow();
    assert_eq!(Flow::from_json(&default.to_json()), Ok(default.clone()));
    let through_serde: Flow =
        serde_json::from_str(&serde_json::to_string(&default).unwrap()).unwrap();
    assert_eq!(through_serde, default);
    // Deserializing a Flow validates it.
    let invalid = flow(&menu(r#""1": "nowhere""#));
    let error = serde_json::from_str::<Flow>(&invalid).unwrap_err();
    assert!(
        error.to_string().contains("leads to \"nowhere\""),
        "{error}"
    );
}

proptest! {
    /// Generated flows validate, survive a JSON round trip, and list every prompt
    /// they can play.
    #[test]
    fn generated_flows_are_valid_and_round_trip(flow in support::valid_flow()) {
        let again = Flow::from_json(&flow.to_json());
        prop_assert_eq!(again, Ok(flow.clone()));
        for (_, node) in flow.nodes() {
            for prompt in node.prompts() {
                prop_assert!(flow.prompts().contains(prompt));
            }
        }
    }

    /// No text makes parsing panic.
    #[test]
    fn any_text_is_rejected_or_accepted_without_panicking(text in ".{0,200}") {
        let _ = Flow::from_json(&text);
    }

    /// Mangled versions of a valid flow are rejected or accepted without
    /// panicking, and a rejection always says something.
    #[test]
    fn mangled_flows_never_panic(cut in 0usize..2000, insert in "[\\{\\}\\[\\]\",:a-z0-9 ]{0,5}") {
        let mut json = DEFAULT_FLOW_JSON.to_owned();
        let mut cut = cut.min(json.len());
        while !json.is_char_boundary(cut) {
            cut -= 1;
        }
        json.insert_str(cut, &insert);
        if let Err(errors) = Flow::from_json(&json) {
            prop_assert!(!errors.0.is_empty());
            prop_assert!(errors.0.iter().all(|error| !error.message.is_empty()));
            prop_assert!(errors.0.iter().all(|error| CODES.contains(&error.code)));
        }
    }
}

/// docs/examples/flow.json, the flow the README's and docs/ivr.md's examples use.
#[test]
fn the_example_flow_the_docs_use_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/flow.json");
    let json = std::fs::read_to_string(path).expect("docs/examples/flow.json exists");
    let flow = Flow::from_json(&json).unwrap_or_else(|errors| panic!("{errors}"));
    assert!(
        flow.nodes()
            .any(|(_, node)| matches!(node, shofar_ivr::Node::Action { .. })),
        "the example opts out with 9"
    );
}

/// Node and prompt names are what staff type, Hebrew included: the engine keys
/// nodes by any non-empty text (the builder shows its own English names, `main`,
/// `optout`, by a label, so flows made before stay as they are).
#[test]
fn hebrew_node_and_prompt_names_are_valid() {
    check(
        r#"{"version": 1, "name": "תרומות חורף", "start": "תפריט ראשי", "nodes": {
            "תפריט ראשי": {"type": "menu", "prompts": ["הודעת הקמפיין"], "keys": {"1": "תודה", "9": "הסרה מהרשימה"},
              "timeout": {"seconds": 10, "prompt": "לא הוקש דבר", "retries": 2, "then": "סיום"},
              "invalid": {"prompt": "מקש שגוי", "retries": 2, "then": "סיום"}},
            "תודה": {"type": "play", "prompts": ["תודה רבה"], "next": "סיום"},
            "הסרה מהרשימה": {"type": "action", "action": {"kind": "blacklist"}, "next": "סיום"},
            "סיום": {"type": "action", "action": {"kind": "end_call"}}
        }}"#,
        &[],
    );
}

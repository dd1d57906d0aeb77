//! Validation: every problem of a flow at once, each worded for the staff member who
//! wrote the flow and tied to the node and field it is about, so that a web UI can
//! show it on that node.
//!
//! Problems are reported in a fixed order: the flow as a whole, then each node in
//! document order, then unreachable nodes, then nodes that cannot end the call.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde::Serialize;

use crate::flow::{ActionSpec, FLOW_VERSION, FlowDefinition, Invalid, Node, Timeout};

/// The keys of a phone keypad, the only keys a menu can map.
pub const PHONE_KEYS: &[char] = &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];

/// Limits, chosen so that a mistyped number is caught rather than obeyed: nobody
/// waits more than a minute in silence, nobody hears a menu eleven times, and
/// nothing a caller types into a phone is longer than twenty digits.
pub const MAX_WAIT_SECONDS: u32 = 60;
pub const MAX_RETRIES: u32 = 10;
pub const MAX_CAPTURE_LENGTH: u32 = 20;

/// One problem in a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowError {
    /// The node concerned, if the problem is in one.
    pub node: Option<String>,
    /// The field concerned, as a dotted path inside the node (`keys.4`,
    /// `timeout.seconds`) or at the top level (`start`, `version`).
    pub field: Option<String>,
    /// Where in the JSON text, for problems found while parsing it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong, stable for a UI to word in its own language
    /// (`keys_empty`, `target_unknown`, …; see [`CODES`]).
    pub code: &'static str,
    /// The values the sentence names (`key`, `target`, `value`, `max`, …),
    /// for a UI's own wording; empty when it names none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<&'static str, String>,
    /// The whole sentence in English, naming the node itself, ready to show as it is.
    pub message: String,
}

/// Every [`FlowError::code`], for a UI to check its wording covers them.
pub const CODES: &[&str] = &[
    "json_invalid",
    "format_invalid",
    "version_missing",
    "version_unsupported",
    "name_missing",
    "no_nodes",
    "start_missing",
    "start_unknown",
    "node_duplicate",
    "node_name_empty",
    "prompts_empty",
    "prompt_empty",
    "keys_empty",
    "key_not_phone_key",
    "key_duplicate",
    "variable_empty",
    "min_length_too_small",
    "max_length_out_of_range",
    "min_over_max",
    "terminator_invalid",
    "inter_digit_out_of_range",
    "next_missing",
    "transfer_to_empty",
    "next_not_allowed",
    "amount_variable_unknown",
    "target_unknown",
    "timeout_missing",
    "timeout_seconds_out_of_range",
    "timeout_prompt_empty",
    "timeout_retries_too_many",
    "invalid_missing",
    "invalid_prompt_empty",
    "invalid_retries_too_many",
    "unreachable",
    "no_way_out",
];

/// A problem's parameters from `(name, value)` pairs.
pub(crate) fn params<const N: usize>(
    pairs: [(&'static str, String); N],
) -> BTreeMap<&'static str, String> {
    pairs.into_iter().collect()
}

impl FlowError {
    pub(crate) fn flow(
        field: &str,
        code: &'static str,
        params: BTreeMap<&'static str, String>,
        message: String,
    ) -> FlowError {
        FlowError {
            node: None,
            field: Some(field.to_owned()),
            line: None,
            column: None,
            code,
            params,
            message,
        }
    }

    fn node(
        node: &str,
        field: Option<&str>,
        code: &'static str,
        params: BTreeMap<&'static str, String>,
        message: String,
    ) -> FlowError {
        FlowError {
            node: Some(node.to_owned()),
            field: field.map(str::to_owned),
            line: None,
            column: None,
            code,
            params,
            message,
        }
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for FlowError {}

/// Every problem found in a flow; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(transparent)]
pub struct FlowErrors(pub Vec<FlowError>);

impl FlowErrors {
    pub(crate) fn one(error: FlowError) -> FlowErrors {
        FlowErrors(vec![error])
    }

    /// The messages alone, in order.
    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(|error| error.message.clone()).collect()
    }
}

impl fmt::Display for FlowErrors {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            formatter,
            "the flow has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            write!(formatter, "\n- {error}")?;
        }
        Ok(())
    }
}

/// Every problem of `definition`; empty when it is a valid flow.
pub fn validate(definition: &FlowDefinition) -> Vec<FlowError> {
    let mut problems = Vec::new();
    check_flow(definition, &mut problems);

    // References resolve to the first definition of an id, as in the interpreter.
    let mut first_position: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reported_twice = BTreeSet::new();
    for (position, (id, _)) in definition.nodes.0.iter().enumerate() {
        if first_position.contains_key(id.as_str()) {
            if reported_twice.insert(id.as_str()) {
                problems.push(FlowError::node(
                    id,
                    None,
                    "node_duplicate",
                    BTreeMap::new(),
                    format!("node \"{id}\" is defined more than once"),
                ));
            }
        } else {
            first_position.insert(id, position);
        }
    }

    let captured: BTreeSet<&str> = definition
        .nodes
        .iter()
        .filter_map(|(_, node)| match node {
            Node::Capture { variable, .. } => Some(variable.as_str()),
            _ => None,
        })
        .collect();

    for (id, node) in definition.nodes.iter() {
        check_node(id, node, &first_position, &captured, &mut problems);
    }

    check_graph(definition, &first_position, &mut problems);
    problems
}

fn check_flow(definition: &FlowDefinition, problems: &mut Vec<FlowError>) {
    if definition.version != FLOW_VERSION {
        problems.push(FlowError::flow(
            "version",
            "version_unsupported",
            params([
                ("value", definition.version.to_string()),
                ("supported", FLOW_VERSION.to_string()),
            ]),
            format!(
                "\"version\" is {}, but this engine reads only version {FLOW_VERSION}",
                definition.version
            ),
        ));
    }
    if definition.name.trim().is_empty() {
        problems.push(FlowError::flow(
            "name",
            "name_missing",
            BTreeMap::new(),
            "the flow needs a \"name\"".to_owned(),
        ));
    }
    if definition.nodes.is_empty() {
        problems.push(FlowError::flow(
            "nodes",
            "no_nodes",
            BTreeMap::new(),
            "the flow has no nodes".to_owned(),
        ));
    }
    if definition.start.is_empty() {
        problems.push(FlowError::flow(
            "start",
            "start_missing",
            BTreeMap::new(),
            "the flow has no \"start\": name the node the call begins in".to_owned(),
        ));
    } else if definition.nodes.get(&definition.start).is_none() {
        problems.push(FlowError::flow(
            "start",
            "start_unknown",
            params([("target", definition.start.clone())]),
            format!("\"start\" is \"{}\", which is not a node", definition.start),
        ));
    }
}

fn check_node(
    id: &str,
    node: &Node,
    nodes: &BTreeMap<&str, usize>,
    captured: &BTreeSet<&str>,
    problems: &mut Vec<FlowError>,
) {
    let mut report = |field: Option<&str>,
                      code: &'static str,
                      params: BTreeMap<&'static str, String>,
                      message: String| {
        problems.push(FlowError::node(
            id,
            field,
            code,
            params,
            format!("node \"{id}\": {message}"),
        ));
    };

    if id.is_empty() {
        report(
            None,
            "node_name_empty",
            BTreeMap::new(),
            "a node needs a non-empty name".to_owned(),
        );
    }

    if !matches!(node, Node::Action { .. }) {
        let prompts = node.prompts();
        if prompts.is_empty() {
            report(
                Some("prompts"),
                "prompts_empty",
                params([("kind", node.type_name().to_owned())]),
                format!(
                    "\"prompts\" is empty; a {} node needs at least one prompt",
                    node.type_name()
                ),
            );
        }
        for (position, prompt) in prompts.iter().enumerate() {
            if prompt.trim().is_empty() {
                report(
                    Some("prompts"),
                    "prompt_empty",
                    params([("position", (position + 1).to_string())]),
                    format!(
                        "prompt {} is empty; give the name of a recording",
                        position + 1
                    ),
                );
            }
        }
    }

    match node {
        Node::Play { .. } => {}
        Node::Menu {
            keys,
            timeout,
            invalid,
            ..
        } => {
            if keys.is_empty() {
                report(
                    Some("keys"),
                    "keys_empty",
                    BTreeMap::new(),
                    "a menu needs at least one key".to_owned(),
                );
            }
            let mut seen = BTreeSet::new();
            for (key, _) in keys.iter() {
                let field = format!("keys.{key}");
                let mut chars = key.chars();
                match (chars.next(), chars.next()) {
                    (Some(only), None) if PHONE_KEYS.contains(&only) => {}
                    _ => report(
                        Some(&field),
                        "key_not_phone_key",
                        params([("key", key.to_string())]),
                        format!("key \"{key}\" is not a phone key: use one of 0-9, * or #"),
                    ),
                }
                if !seen.insert(key) {
                    report(
                        Some(&field),
                        "key_duplicate",
                        params([("key", key.to_string())]),
                        format!("key \"{key}\" is listed more than once"),
                    );
                }
            }
            check_waiting(node, timeout.as_ref(), invalid.as_ref(), &mut report);
        }
        Node::Capture {
            variable,
            min_length,
            max_length,
            terminator,
            inter_digit_seconds,
            timeout,
            invalid,
            next,
            ..
        } => {
            if variable.trim().is_empty() {
                report(
                    Some("variable"),
                    "variable_empty",
                    BTreeMap::new(),
                    "\"variable\" is empty; name the variable the digits are kept in".to_owned(),
                );
            }
            if *min_length < 1 {
                report(
                    Some("min_length"),
                    "min_length_too_small",
                    BTreeMap::new(),
                    "\"min_length\" must be at least 1".to_owned(),
                );
            }
            if !(1..=MAX_CAPTURE_LENGTH).contains(max_length) {
                report(
                    Some("max_length"),
                    "max_length_out_of_range",
                    params([
                        ("value", max_length.to_string()),
                        ("max", MAX_CAPTURE_LENGTH.to_string()),
                    ]),
                    format!(
                        "\"max_length\" must be between 1 and {MAX_CAPTURE_LENGTH}, not {max_length}"
                    ),
                );
            }
            if min_length > max_length {
                report(
                    Some("min_length"),
                    "min_over_max",
                    params([
                        ("min", min_length.to_string()),
                        ("max", max_length.to_string()),
                    ]),
                    format!(
                        "\"min_length\" ({min_length}) is greater than \"max_length\" ({max_length})"
                    ),
                );
            }
            if terminator != "#" && terminator != "*" {
                report(
                    Some("terminator"),
                    "terminator_invalid",
                    params([("value", terminator.clone())]),
                    format!("\"terminator\" must be \"#\" or \"*\", not \"{terminator}\""),
                );
            }
            if !(1..=MAX_WAIT_SECONDS).contains(inter_digit_seconds) {
                report(
                    Some("inter_digit_seconds"),
                    "inter_digit_out_of_range",
                    params([
                        ("value", inter_digit_seconds.to_string()),
                        ("max", MAX_WAIT_SECONDS.to_string()),
                    ]),
                    format!(
                        "\"inter_digit_seconds\" must be between 1 and {MAX_WAIT_SECONDS}, not {inter_digit_seconds}"
                    ),
                );
            }
            check_waiting(node, timeout.as_ref(), invalid.as_ref(), &mut report);
            if next.is_none() {
                report(
                    Some("next"),
                    "next_missing",
                    BTreeMap::new(),
                    "a capture needs \"next\": where to go once the digits are in".to_owned(),
                );
            }
        }
        Node::Action { action, next } => match action {
            ActionSpec::Transfer { to } => {
                if to.trim().is_empty() {
                    report(
                        Some("action.to"),
                        "transfer_to_empty",
                        BTreeMap::new(),
                        "\"action.to\" is empty; give the number to transfer to".to_owned(),
                    );
                }
                if next.is_some() {
                    report(
                        Some("next"),
                        "next_not_allowed",
                        params([("action", "transfer".to_owned())]),
                        "a transfer ends the IVR, so it cannot have \"next\"".to_owned(),
                    );
                }
            }
            ActionSpec::EndCall {} => {
                if next.is_some() {
                    report(
                        Some("next"),
                        "next_not_allowed",
                        params([("action", "end_call".to_owned())]),
                        "end_call ends the call, so it cannot have \"next\"".to_owned(),
                    );
                }
            }
            ActionSpec::Goto { .. } => {
                if next.is_some() {
                    report(
                        Some("next"),
                        "next_not_allowed",
                        params([("action", "goto".to_owned())]),
                        "a goto already says where to go, so it cannot also have \"next\""
                            .to_owned(),
                    );
                }
            }
            ActionSpec::Donate {
                amount_variable: Some(variable),
            } => {
                if !captured.contains(variable.as_str()) {
                    report(
                        Some("action.amount_variable"),
                        "amount_variable_unknown",
                        params([("variable", variable.clone())]),
                        format!(
                            "\"action.amount_variable\" is \"{variable}\", which no capture node sets"
                        ),
                    );
                }
            }
            ActionSpec::Donate {
                amount_variable: None,
            }
            | ActionSpec::SendSms { .. }
            | ActionSpec::Blacklist {} => {}
        },
    }

    for (field, target) in node.edges() {
        if !nodes.contains_key(target) {
            let what = match field.strip_prefix("keys.") {
                Some(key) => format!("key \"{key}\""),
                None => format!("\"{field}\""),
            };
            report(
                Some(&field),
                "target_unknown",
                params([
                    (
                        "key",
                        field.strip_prefix("keys.").unwrap_or_default().to_owned(),
                    ),
                    ("target", target.to_owned()),
                ]),
                format!("{what} leads to \"{target}\", which is not a node"),
            );
        }
    }
}

/// The timeout and invalid handling a menu or capture must have.
fn check_waiting(
    node: &Node,
    timeout: Option<&Timeout>,
    invalid: Option<&Invalid>,
    report: &mut impl FnMut(Option<&str>, &'static str, BTreeMap<&'static str, String>, String),
) {
    let kind = node.type_name();
    match timeout {
        None => report(
            Some("timeout"),
            "timeout_missing",
            params([("kind", kind.to_owned())]),
            format!("a {kind} needs \"timeout\": what to do when the caller presses nothing"),
        ),
        Some(timeout) => {
            if !(1..=MAX_WAIT_SECONDS).contains(&timeout.seconds) {
                report(
                    Some("timeout.seconds"),
                    "timeout_seconds_out_of_range",
                    params([
                        ("value", timeout.seconds.to_string()),
                        ("max", MAX_WAIT_SECONDS.to_string()),
                    ]),
                    format!(
                        "\"timeout.seconds\" must be between 1 and {MAX_WAIT_SECONDS}, not {}",
                        timeout.seconds
                    ),
                );
            }
            if timeout.prompt.trim().is_empty() {
                report(
                    Some("timeout.prompt"),
                    "timeout_prompt_empty",
                    BTreeMap::new(),
                    "\"timeout.prompt\" is empty; give the name of a recording".to_owned(),
                );
            }
            if timeout.retries > MAX_RETRIES {
                report(
                    Some("timeout.retries"),
                    "timeout_retries_too_many",
                    params([
                        ("value", timeout.retries.to_string()),
                        ("max", MAX_RETRIES.to_string()),
                    ]),
                    format!(
                        "\"timeout.retries\" must be {MAX_RETRIES} or fewer, not {}",
                        timeout.retries
                    ),
                );
            }
        }
    }
    match invalid {
        None => {
            let what = match node {
                Node::Capture { .. } => "too few digits or a wrong key",
                _ => "a key that is not listed",
            };
            report(
                Some("invalid"),
                "invalid_missing",
                params([("kind", kind.to_owned())]),
                format!("a {kind} needs \"invalid\": what to do when the caller presses {what}"),
            );
        }
        Some(invalid) => {
            if invalid.prompt.trim().is_empty() {
                report(
                    Some("invalid.prompt"),
                    "invalid_prompt_empty",
                    BTreeMap::new(),
                    "\"invalid.prompt\" is empty; give the name of a recording".to_owned(),
                );
            }
            if invalid.retries > MAX_RETRIES {
                report(
                    Some("invalid.retries"),
                    "invalid_retries_too_many",
                    params([
                        ("value", invalid.retries.to_string()),
                        ("max", MAX_RETRIES.to_string()),
                    ]),
                    format!(
                        "\"invalid.retries\" must be {MAX_RETRIES} or fewer, not {}",
                        invalid.retries
                    ),
                );
            }
        }
    }
}

/// Reachability from `start`, and from every node to the end of the call.
fn check_graph(
    definition: &FlowDefinition,
    nodes: &BTreeMap<&str, usize>,
    problems: &mut Vec<FlowError>,
) {
    let entries = &definition.nodes.0;
    // Only the first definition of a duplicated id takes part: it is the one
    // references resolve to.
    let is_primary = |position: usize| {
        entries
            .get(position)
            .and_then(|(id, _)| nodes.get(id.as_str()))
            == Some(&position)
    };
    let successors: Vec<Vec<usize>> = entries
        .iter()
        .map(|(_, node)| {
            node.edges()
                .into_iter()
                .filter_map(|(_, target)| nodes.get(target).copied())
                .collect()
        })
        .collect();

    if let Some(&start) = nodes.get(definition.start.as_str()) {
        let reached = search(start, entries.len(), |position| {
            successors.get(position).cloned().unwrap_or_default()
        });
        for (position, (id, _)) in entries.iter().enumerate() {
            if is_primary(position) && !reached.contains(&position) {
                problems.push(FlowError::node(
                    id,
                    None,
                    "unreachable",
                    params([("start", definition.start.clone())]),
                    format!(
                        "node \"{id}\" cannot be reached: no path from the start node \"{}\" leads to it",
                        definition.start
                    ),
                ));
            }
        }
    }

    // A node with a reference to nothing is already reported; counting it as a way
    // out keeps that one mistake from also being reported as a loop everywhere
    // upstream of it.
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    for (position, targets) in successors.iter().enumerate() {
        for &target in targets {
            if let Some(list) = predecessors.get_mut(target) {
                list.push(position);
            }
        }
    }
    let exits: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, (_, node))| {
            node.is_terminal()
                || node
                    .edges()
                    .iter()
                    .any(|(_, target)| !nodes.contains_key(target))
        })
        .map(|(position, _)| position)
        .collect();
    let mut can_end = BTreeSet::new();
    for exit in exits {
        can_end.extend(search(exit, entries.len(), |position| {
            predecessors.get(position).cloned().unwrap_or_default()
        }));
    }
    for (position, (id, _)) in entries.iter().enumerate() {
        if is_primary(position) && !can_end.contains(&position) {
            problems.push(FlowError::node(
                id,
                None,
                "no_way_out",
                BTreeMap::new(),
                format!(
                    "node \"{id}\" is in a loop with no way out: no path from it ends the call"
                ),
            ));
        }
    }
}

/// Breadth-first search from `from`; returns every position reached, `from` included.
fn search(from: usize, count: usize, neighbours: impl Fn(usize) -> Vec<usize>) -> BTreeSet<usize> {
    let mut reached = BTreeSet::new();
    let mut queue = VecDeque::from([from]);
    while let Some(position) = queue.pop_front() {
        if position >= count || !reached.insert(position) {
            continue;
        }
        queue.extend(neighbours(position));
    }
    reached
}

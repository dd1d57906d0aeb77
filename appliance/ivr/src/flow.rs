//! The flow format: what an operator writes in JSON, and [`Flow`], a definition that
//! passed validation.
//!
//! The serde types here mirror the JSON one to one and reject unknown fields, so a
//! misspelt field is an error rather than a silently ignored setting. Fields whose
//! absence deserves a better message than serde's "missing field" (`start`, a menu's
//! `timeout` and `invalid`, a capture's `next`) are optional in the types and reported
//! by [`validate`](crate::validate) instead, together with every other problem.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validate::{FlowError, FlowErrors, params, validate};

/// The only version of the format this crate reads.
pub const FLOW_VERSION: u32 = 1;

/// The built-in flow a campaign uses when it has none of its own
/// (`appliance/ivr/flows/default.json`).
pub const DEFAULT_FLOW_JSON: &str = include_str!("../flows/default.json");

/// A JSON object kept in document order, duplicates included.
///
/// Neither `BTreeMap` nor `HashMap` would do: both silently keep only the last of two
/// entries with the same name, and both lose the order the operator wrote the nodes
/// in, which is the order validation reports problems in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> OrderedMap<V> {
    /// The first entry named `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> FromIterator<(String, V)> for OrderedMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        OrderedMap(iter.into_iter().collect())
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = OrderedMap<V>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = access.next_entry::<String, V>()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

/// Like `OrderedMap`'s own deserialization, but a node that does not parse is
/// named in the error, so that the message can be shown on that node.
fn deserialize_nodes<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<OrderedMap<Node>, D::Error> {
    struct NodesVisitor;

    impl<'de> Visitor<'de> for NodesVisitor {
        type Value = OrderedMap<Node>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("an object of nodes")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some(id) = access.next_key::<String>()? {
                match access.next_value::<Node>() {
                    Ok(node) => entries.push((id, node)),
                    Err(error) => {
                        let text = error.to_string();
                        return Err(serde::de::Error::custom(format!(
                            "node \"{id}\": {}",
                            strip_position(&text)
                        )));
                    }
                }
            }
            Ok(OrderedMap(entries))
        }
    }

    deserializer.deserialize_map(NodesVisitor)
}

/// `text` without the " at line L column C" serde_json appends, so that the
/// position is not stated twice once the error is wrapped.
fn strip_position(text: &str) -> &str {
    let Some(at) = text.rfind(" at line ") else {
        return text;
    };
    let tail = &text[at + " at line ".len()..];
    let is_position = tail.split_once(" column ").is_some_and(|(line, column)| {
        !line.is_empty()
            && !column.is_empty()
            && line.bytes().all(|b| b.is_ascii_digit())
            && column.bytes().all(|b| b.is_ascii_digit())
    });
    if is_position { &text[..at] } else { text }
}

/// A flow exactly as written in JSON, not yet validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowDefinition {
    pub version: u32,
    pub name: String,
    /// The node the call starts in. Empty when the JSON has no `start`, which
    /// validation reports.
    #[serde(default)]
    pub start: String,
    #[serde(deserialize_with = "deserialize_nodes")]
    pub nodes: OrderedMap<Node>,
}

/// One step of a flow, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Node {
    /// Plays its prompts in order; digits are ignored. Without `next` the call ends.
    Play {
        prompts: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Plays its prompts (a digit interrupts them) and waits for one key.
    Menu {
        prompts: Vec<String>,
        keys: OrderedMap<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout: Option<Timeout>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid: Option<Invalid>,
    },
    /// Plays its prompts (a digit interrupts them) and collects several digits into
    /// `variable`.
    Capture {
        prompts: Vec<String>,
        variable: String,
        #[serde(default = "default_min_length")]
        min_length: u32,
        max_length: u32,
        #[serde(default = "default_terminator")]
        terminator: String,
        #[serde(default = "default_inter_digit_seconds")]
        inter_digit_seconds: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout: Option<Timeout>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid: Option<Invalid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Does one thing; then goes to `next`, or ends the call without it.
    Action {
        action: ActionSpec,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
}

fn default_min_length() -> u32 {
    1
}

fn default_terminator() -> String {
    "#".to_owned()
}

fn default_inter_digit_seconds() -> u32 {
    5
}

impl Node {
    /// The word used for the node's type in JSON and in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Play { .. } => "play",
            Node::Menu { .. } => "menu",
            Node::Capture { .. } => "capture",
            Node::Action { .. } => "action",
        }
    }

    /// The prompts the node itself plays (not its timeout or invalid prompts).
    pub fn prompts(&self) -> &[String] {
        match self {
            Node::Play { prompts, .. }
            | Node::Menu { prompts, .. }
            | Node::Capture { prompts, .. } => prompts,
            Node::Action { .. } => &[],
        }
    }

    /// Every node this one can lead to, with the field that names it (`next`,
    /// `keys.1`, `timeout.then`, `invalid.then`, `action.target`), in a fixed order.
    pub fn edges(&self) -> Vec<(String, &str)> {
        let mut edges = Vec::new();
        match self {
            Node::Play { next, .. } => {
                if let Some(next) = next {
                    edges.push(("next".to_owned(), next.as_str()));
                }
            }
            Node::Menu {
                keys,
                timeout,
                invalid,
                ..
            } => {
                for (key, target) in keys.iter() {
                    edges.push((format!("keys.{key}"), target.as_str()));
                }
                if let Some(timeout) = timeout {
                    edges.push(("timeout.then".to_owned(), timeout.then.as_str()));
                }
                if let Some(invalid) = invalid {
                    edges.push(("invalid.then".to_owned(), invalid.then.as_str()));
                }
            }
            Node::Capture {
                timeout,
                invalid,
                next,
                ..
            } => {
                if let Some(timeout) = timeout {
                    edges.push(("timeout.then".to_owned(), timeout.then.as_str()));
                }
                if let Some(invalid) = invalid {
                    edges.push(("invalid.then".to_owned(), invalid.then.as_str()));
                }
                if let Some(next) = next {
                    edges.push(("next".to_owned(), next.as_str()));
                }
            }
            Node::Action { action, next } => {
                if let ActionSpec::Goto { target } = action {
                    edges.push(("action.target".to_owned(), target.as_str()));
                }
                if let Some(next) = next {
                    edges.push(("next".to_owned(), next.as_str()));
                }
            }
        }
        edges
    }

    /// Whether reaching this node ends the IVR: `end_call`, `transfer`, or a play or
    /// action node with nowhere to go next.
    pub fn is_terminal(&self) -> bool {
        match self {
            Node::Play { next, .. } => next.is_none(),
            Node::Menu { .. } | Node::Capture { .. } => false,
            Node::Action { action, next } => match action {
                ActionSpec::EndCall {} | ActionSpec::Transfer { .. } => true,
                ActionSpec::Goto { .. } => false,
                ActionSpec::SendSms { .. }
                | ActionSpec::Blacklist {}
                | ActionSpec::Donate { .. } => next.is_none(),
            },
        }
    }
}

/// What a menu or capture does when the caller presses nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeout {
    /// How long to wait after the last prompt, 1 to 60.
    pub seconds: u32,
    /// Played each time the wait runs out.
    pub prompt: String,
    /// How many times the node's prompts are played again, 0 to 10.
    pub retries: u32,
    /// Where to go once the retries are used up.
    pub then: String,
}

/// What a menu or capture does with a key it does not expect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invalid {
    /// Played each time the caller presses a wrong key.
    pub prompt: String,
    /// How many times the node's prompts are played again, 0 to 10.
    pub retries: u32,
    /// Where to go once the retries are used up.
    pub then: String,
}

/// An action node's `action`, tagged by `kind`.
///
/// The variants without data are written as empty structs rather than unit
/// variants so that `deny_unknown_fields` also rejects `{"kind": "blacklist",
/// "typo": 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSpec {
    /// Asks the driver to send an SMS; `template` names which one.
    SendSms {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<String>,
    },
    /// Hands the call to `to`; the IVR is done, the call continues bridged.
    Transfer { to: String },
    /// The caller opts out; the driver adds the number to the blacklist.
    Blacklist {},
    /// The caller wants to donate; `amount_variable` names the capture holding the
    /// amount.
    Donate {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount_variable: Option<String>,
    },
    /// Hangs up.
    EndCall {},
    /// Continues at `target`.
    Goto { target: String },
}

impl ActionSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            ActionSpec::SendSms { .. } => "send_sms",
            ActionSpec::Transfer { .. } => "transfer",
            ActionSpec::Blacklist {} => "blacklist",
            ActionSpec::Donate { .. } => "donate",
            ActionSpec::EndCall {} => "end_call",
            ActionSpec::Goto { .. } => "goto",
        }
    }
}

/// A flow that passed validation: every reference resolves, every node is reachable
/// and every node can reach the end of the call. Only [`Flow::from_json`],
/// [`Flow::new`] and deserialization make one, so the interpreter may rely on it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "FlowDefinition")]
pub struct Flow {
    definition: FlowDefinition,
    /// Node id to its position in `definition.nodes`, so the interpreter's lookups
    /// do not scan.
    index: BTreeMap<String, usize>,
    prompts: Vec<String>,
}

impl Serialize for Flow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.definition.serialize(serializer)
    }
}

impl TryFrom<FlowDefinition> for Flow {
    type Error = FlowErrors;

    fn try_from(definition: FlowDefinition) -> Result<Self, Self::Error> {
        Flow::new(definition)
    }
}

/// Only for reading `version` before the rest, so that a flow from a newer format
/// is reported as such rather than as a list of unknown fields.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<serde_json::Value>,
}

impl Flow {
    /// Parses and validates a flow, reporting every problem found.
    pub fn from_json(json: &str) -> Result<Flow, FlowErrors> {
        let probe: VersionProbe = serde_json::from_str(json).map_err(json_error)?;
        match probe.version {
            None => {
                return Err(FlowErrors::one(FlowError::flow(
                    "version",
                    "version_missing",
                    params([("supported", FLOW_VERSION.to_string())]),
                    format!(
                        "the flow has no \"version\"; this engine reads version {FLOW_VERSION}"
                    ),
                )));
            }
            Some(serde_json::Value::Number(number))
                if number.as_u64() == Some(FLOW_VERSION.into()) => {}
            Some(other) => {
                return Err(FlowErrors::one(FlowError::flow(
                    "version",
                    "version_unsupported",
                    params([
                        ("value", other.to_string()),
                        ("supported", FLOW_VERSION.to_string()),
                    ]),
                    format!(
                        "\"version\" is {other}, but this engine reads only version {FLOW_VERSION}"
                    ),
                )));
            }
        }
        let definition: FlowDefinition = serde_json::from_str(json).map_err(json_error)?;
        Flow::new(definition)
    }

    /// Validates a definition built in code.
    pub fn new(definition: FlowDefinition) -> Result<Flow, FlowErrors> {
        let problems = validate(&definition);
        if !problems.is_empty() {
            return Err(FlowErrors(problems));
        }
        let mut index = BTreeMap::new();
        for (position, (id, _)) in definition.nodes.0.iter().enumerate() {
            index.entry(id.clone()).or_insert(position);
        }
        let mut prompts: Vec<String> = Vec::new();
        let mut remember = |prompt: &String| {
            if !prompts.contains(prompt) {
                prompts.push(prompt.clone());
            }
        };
        for (_, node) in definition.nodes.iter() {
            node.prompts().iter().for_each(&mut remember);
            if let Node::Menu {
                timeout, invalid, ..
            }
            | Node::Capture {
                timeout, invalid, ..
            } = node
            {
                timeout.iter().for_each(|timeout| remember(&timeout.prompt));
                invalid.iter().for_each(|invalid| remember(&invalid.prompt));
            }
        }
        Ok(Flow {
            definition,
            index,
            prompts,
        })
    }

    /// The built-in default flow ([`DEFAULT_FLOW_JSON`]).
    pub fn default_flow() -> Flow {
        // The file is compiled in and a test validates it, so this cannot fail for
        // any build that passed its tests.
        Flow::from_json(DEFAULT_FLOW_JSON).expect("flows/default.json is valid")
    }

    pub fn definition(&self) -> &FlowDefinition {
        &self.definition
    }

    pub fn name(&self) -> &str {
        &self.definition.name
    }

    pub fn start(&self) -> &str {
        &self.definition.start
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        let position = *self.index.get(id)?;
        self.definition.nodes.0.get(position).map(|(_, node)| node)
    }

    /// The nodes in document order.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.definition.nodes.iter()
    }

    /// Every prompt name the flow can play, each once, in the order they first
    /// appear. The driver resolves these to audio before the first call.
    pub fn prompts(&self) -> &[String] {
        &self.prompts
    }

    /// The flow as pretty-printed JSON, in the format [`Flow::from_json`] reads.
    pub fn to_json(&self) -> String {
        // Serializing plain structs, strings and integers into a String cannot fail.
        serde_json::to_string_pretty(&self.definition).unwrap_or_default()
    }
}

/// Turns a serde_json error into a message naming the line and column, worded for
/// someone who edits the JSON by hand.
fn json_error(error: serde_json::Error) -> FlowErrors {
    let text = error.to_string();
    let detail = strip_position(&text);
    let (line, column) = (error.line(), error.column());
    let mut node = None;
    let code = match error.classify() {
        serde_json::error::Category::Data => "format_invalid",
        _ => "json_invalid",
    };
    let message = match error.classify() {
        serde_json::error::Category::Data => {
            // `deserialize_nodes` put the node's id first; lift it into `node`.
            node = detail
                .strip_prefix("node \"")
                .and_then(|rest| rest.split_once("\": "))
                .map(|(id, _)| id.to_owned());
            match &node {
                Some(_) => format!("{detail} (line {line}, column {column})"),
                None => {
                    format!(
                        "the flow does not follow the format (line {line}, column {column}): {detail}"
                    )
                }
            }
        }
        _ => format!("the flow is not valid JSON (line {line}, column {column}): {detail}"),
    };
    FlowErrors::one(FlowError {
        node,
        field: None,
        line: Some(line),
        column: Some(column),
        code,
        params: params([
            ("line", line.to_string()),
            ("column", column.to_string()),
            ("detail", detail.to_owned()),
        ]),
        message,
    })
}

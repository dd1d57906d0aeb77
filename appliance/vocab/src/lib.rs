//! The call vocabulary, defined once: a call's status, its outcome, who ended it,
//! the channel, why it was made, and what the IVR did during it.
//!
//! Each word is an enum with the name the database keeps, the API sends and the
//! web UI keys its dictionaries by: [`as_str`](CallOutcome::as_str), `Display`,
//! `FromStr`, `ALL`, serde as that name, and an OpenAPI schema that is a string
//! enum listing exactly `ALL` (the web UI's types are generated from it).
//!
//! **Invariants:** no I/O. The names are spelled here and nowhere else: other
//! crates (the store, the dialer, reports, the web API) use these types, never
//! the strings. A name never changes meaning: rows written by an earlier version
//! read back as the same words, with no migration.
//!
//! Reading back: a name this version does not know (written by a later version,
//! or by hand) is not an error that would fail a listing or a report. Where the
//! schema does not constrain a column (`outcome`, `ended_by`), it reads as
//! [`Stored::Unknown`] with its text kept, shown and counted under its own
//! name; an unknown IVR action reads as [`CallAction::Other`]. `status` and
//! `kind` are constrained by CHECKs in the schema, so an unknown one there is a
//! damaged database and the store says so.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

/// A closed set of names: one of this crate's enums.
pub trait Word: Copy + Eq + Ord + fmt::Debug + 'static {
    /// What the word names, for messages: `call outcome`.
    const WHAT: &'static str;
    /// Every value.
    const WORDS: &'static [Self];
    /// The stored name.
    fn name(self) -> &'static str;

    /// The word with this stored name, if there is one.
    fn from_name(text: &str) -> Option<Self> {
        Self::WORDS.iter().copied().find(|word| word.name() == text)
    }
}

/// A name that is none of a word's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWord {
    /// What was expected: `call outcome`.
    pub what: &'static str,
    pub text: String,
    /// The names it could have been.
    pub expected: Vec<&'static str>,
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?} (one of {})",
            self.what,
            self.text,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownWord {}

fn parse_word<W: Word>(text: &str) -> Result<W, UnknownWord> {
    W::from_name(text).ok_or_else(|| UnknownWord {
        what: W::WHAT,
        text: text.to_owned(),
        expected: W::WORDS.iter().map(|word| word.name()).collect(),
    })
}

fn deserialize_word<'de, W: Word, D: Deserializer<'de>>(deserializer: D) -> Result<W, D::Error> {
    let text = Cow::<str>::deserialize(deserializer)?;
    parse_word(&text).map_err(serde::de::Error::custom)
}

/// A string schema listing `names`, described by the type's doc comment.
fn string_enum<'a>(doc: &[&str], names: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    let description = doc
        .iter()
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join("\n");
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .description((!description.is_empty()).then_some(description))
        .enum_values(Some(names.into_iter().map(str::to_owned)))
        .into()
}

/// `Display`, `FromStr`, `Serialize` and `Deserialize` of a [`Word`], by its name.
macro_rules! word_traits {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(Word::name(*self))
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;
            fn from_str(text: &str) -> Result<$name, UnknownWord> {
                parse_word(text)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(Word::name(*self))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                deserialize_word(deserializer)
            }
        }
    };
}

/// Defines a word: the enum, its names, and the traits every word has.
macro_rules! words {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident ($what:literal) {
            $( $(#[doc = $vdoc:literal])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in the order lists and reports show them.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The name stored, sent and keyed by.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl Word for $name {
            const WHAT: &'static str = $what;
            const WORDS: &'static [$name] = &$name::ALL;
            fn name(self) -> &'static str {
                self.as_str()
            }
        }

        word_traits!($name);

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum(&[$($doc),*], $name::ALL.iter().map(|word| word.as_str()))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

words! {
    /// Where a call record stands: `dialing → answered → ended` (`ringing` is
    /// allowed by the schema and read, not written today).
    pub enum CallStatus ("call status") {
        /// Placed, not answered yet.
        Dialing => "dialing",
        /// The far end said it rings.
        Ringing => "ringing",
        /// Up: someone (or a machine) answered.
        Answered => "answered",
        /// Over: the record has its outcome and is never changed again.
        Ended => "ended",
    }
}

impl CallStatus {
    /// Not ended yet.
    pub fn is_open(self) -> bool {
        self != CallStatus::Ended
    }
}

words! {
    /// How a call ended, as reports count it.
    pub enum CallOutcome ("call outcome") {
        /// A person answered (whatever they did next).
        Answered => "answered",
        /// An answering machine answered.
        Voicemail => "voicemail",
        /// The callee's line was busy (SIP 486, cause 17).
        Busy => "busy",
        /// It rang and nobody answered, or the callee was unavailable (480, cause 19).
        NoAnswer => "no_answer",
        /// The network had no room (SIP 503, cause 34).
        Congestion => "congestion",
        /// The callee or their network refused the call (SIP 603, cause 21).
        Rejected => "rejected",
        /// Anything else: a wrong number, an unreachable trunk, a lost call.
        Failed => "failed",
        /// Never dialed: the number was on the do-not-call list at the last check.
        Blacklisted => "blacklisted",
    }
}

impl CallOutcome {
    /// Whether the number was dialed (all but `blacklisted`).
    pub fn was_dialed(self) -> bool {
        self != CallOutcome::Blacklisted
    }
}

/// What an ended record without an outcome counts as in figures: its outcome is
/// not known.
pub const NO_OUTCOME: &str = "unknown";

words! {
    /// Who ended a call.
    pub enum EndedBy ("ended by") {
        /// The person called hung up.
        Callee => "callee",
        /// The IVR flow hung up (its end, a voicemail drop, a failed transfer).
        Flow => "flow",
        /// The network ended it before anyone answered.
        Network => "network",
        /// The box: a refused number, a call over its maximum length, a shutdown.
        Supervisor => "supervisor",
        /// Closed after a restart found it open.
        Reconcile => "reconcile",
    }
}

words! {
    /// What a message travels by: the resource a campaign draws on.
    pub enum Channel ("channel") {
        /// Phone calls (a hybrid campaign's calls too).
        Voice => "voice",
        /// Text messages.
        Sms => "sms",
    }
}

words! {
    /// Why a call was made.
    pub enum CallKind ("call kind") {
        /// A campaign called one of its contacts.
        Campaign => "campaign",
        /// A voice call that delivers an SMS the line cannot receive.
        TtsFallback => "tts_fallback",
        /// An operator's test call (`shofar call`, the web UI): it counts toward no contact.
        Test => "test",
    }
}

/// A call's outcome, or that it is still going: what a listing filters by and
/// outcome counts are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutcomeFilter {
    /// Ended with this outcome.
    Ended(CallOutcome),
    /// Not ended yet.
    InCall,
}

impl OutcomeFilter {
    /// Every value: the outcomes, then `in_call`.
    pub const ALL: [OutcomeFilter; CallOutcome::ALL.len() + 1] = {
        let mut all = [OutcomeFilter::InCall; CallOutcome::ALL.len() + 1];
        let mut i = 0;
        while i < CallOutcome::ALL.len() {
            all[i] = OutcomeFilter::Ended(CallOutcome::ALL[i]);
            i += 1;
        }
        all
    };

    pub const fn as_str(self) -> &'static str {
        match self {
            OutcomeFilter::Ended(outcome) => outcome.as_str(),
            OutcomeFilter::InCall => "in_call",
        }
    }
}

impl From<CallOutcome> for OutcomeFilter {
    fn from(outcome: CallOutcome) -> OutcomeFilter {
        OutcomeFilter::Ended(outcome)
    }
}

impl Word for OutcomeFilter {
    const WHAT: &'static str = "outcome";
    const WORDS: &'static [OutcomeFilter] = &OutcomeFilter::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

word_traits!(OutcomeFilter);

impl utoipa::PartialSchema for OutcomeFilter {
    fn schema() -> RefOr<Schema> {
        string_enum(
            &["A call outcome, or `in_call` for a call not ended yet."],
            OutcomeFilter::ALL.iter().map(|word| word.as_str()),
        )
    }
}

impl utoipa::ToSchema for OutcomeFilter {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OutcomeFilter")
    }
}

/// A word as read back from a column the schema does not constrain: one this
/// version knows, or a name it does not (written by a later version, or by
/// hand), kept as it was so it is shown and counted under its own name rather
/// than dropped or failing the read. Written and sent as its name; known words
/// sort first, in their order, then unknown names alphabetically.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stored<W> {
    Known(W),
    Unknown(String),
}

impl<W: Word> Stored<W> {
    /// The word named `text`, or `text` kept as unknown.
    pub fn parse(text: &str) -> Stored<W> {
        match W::from_name(text) {
            Some(word) => Stored::Known(word),
            None => Stored::Unknown(text.to_owned()),
        }
    }

    /// The word, if this version knows it.
    pub fn known(&self) -> Option<W> {
        match self {
            Stored::Known(word) => Some(*word),
            Stored::Unknown(_) => None,
        }
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        match self {
            Stored::Known(word) => word.name(),
            Stored::Unknown(text) => text,
        }
    }
}

impl<W: Word> From<W> for Stored<W> {
    fn from(word: W) -> Stored<W> {
        Stored::Known(word)
    }
}

impl<W: Word> PartialEq<W> for Stored<W> {
    fn eq(&self, word: &W) -> bool {
        self.known() == Some(*word)
    }
}

impl<W: Word> FromStr for Stored<W> {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Stored<W>, Self::Err> {
        Ok(Stored::parse(text))
    }
}

impl<W: Word> fmt::Display for Stored<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl<W: Word> Serialize for Stored<W> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de, W: Word> Deserialize<'de> for Stored<W> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Stored<W>, D::Error> {
        Ok(Stored::parse(&Cow::<str>::deserialize(deserializer)?))
    }
}

/// What the IVR did during a call, in the order it did it (`call_records.actions`,
/// a JSON list of these names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallAction {
    /// `blacklist`: the caller opted out and the number was listed.
    Blacklist,
    /// `donate`, or `donate:{amount}` with the digits the caller keyed.
    Donate { amount: Option<String> },
    /// `send_sms:pending`: an SMS to send (the SMS channel sends it later).
    SendSmsPending,
    /// `transfer:{to}`: a transfer to an agent at `to` was started.
    Transfer { to: String },
    /// `transfer_connected`: the agent answered and was bridged.
    TransferConnected,
    /// `transfer_failed`: the agent could not be reached.
    TransferFailed,
    /// `voicemail_drop`: the message was left on an answering machine.
    VoicemailDrop,
    /// `max_call_length`: the call outlived its maximum and the box hung up.
    MaxCallLength,
    /// A name this version does not know (a later version's), kept as it was.
    Other(String),
}

impl CallAction {
    const BLACKLIST: &'static str = "blacklist";
    const DONATE: &'static str = "donate";
    const SEND_SMS_PENDING: &'static str = "send_sms:pending";
    const TRANSFER: &'static str = "transfer";
    const TRANSFER_CONNECTED: &'static str = "transfer_connected";
    const TRANSFER_FAILED: &'static str = "transfer_failed";
    const VOICEMAIL_DROP: &'static str = "voicemail_drop";
    const MAX_CALL_LENGTH: &'static str = "max_call_length";

    /// The names and patterns an action is written as, for documentation.
    pub const FORMS: [&'static str; 9] = [
        CallAction::BLACKLIST,
        CallAction::DONATE,
        "donate:{amount}",
        CallAction::SEND_SMS_PENDING,
        "transfer:{to}",
        CallAction::TRANSFER_CONNECTED,
        CallAction::TRANSFER_FAILED,
        CallAction::VOICEMAIL_DROP,
        CallAction::MAX_CALL_LENGTH,
    ];

    /// A donation, with the amount keyed if any.
    pub fn donate(amount: Option<&str>) -> CallAction {
        CallAction::Donate {
            amount: amount.map(str::to_owned),
        }
    }

    /// A transfer to `to`.
    pub fn transfer(to: &str) -> CallAction {
        CallAction::Transfer { to: to.to_owned() }
    }
}

impl fmt::Display for CallAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallAction::Blacklist => f.write_str(CallAction::BLACKLIST),
            CallAction::Donate { amount: None } => f.write_str(CallAction::DONATE),
            CallAction::Donate {
                amount: Some(amount),
            } => write!(f, "{}:{amount}", CallAction::DONATE),
            CallAction::SendSmsPending => f.write_str(CallAction::SEND_SMS_PENDING),
            CallAction::Transfer { to } => write!(f, "{}:{to}", CallAction::TRANSFER),
            CallAction::TransferConnected => f.write_str(CallAction::TRANSFER_CONNECTED),
            CallAction::TransferFailed => f.write_str(CallAction::TRANSFER_FAILED),
            CallAction::VoicemailDrop => f.write_str(CallAction::VOICEMAIL_DROP),
            CallAction::MaxCallLength => f.write_str(CallAction::MAX_CALL_LENGTH),
            CallAction::Other(text) => f.write_str(text),
        }
    }
}

impl FromStr for CallAction {
    type Err = std::convert::Infallible;

    /// Never fails: a name this version does not know is [`CallAction::Other`].
    fn from_str(text: &str) -> Result<CallAction, Self::Err> {
        Ok(match text {
            CallAction::BLACKLIST => CallAction::Blacklist,
            CallAction::DONATE => CallAction::Donate { amount: None },
            CallAction::SEND_SMS_PENDING => CallAction::SendSmsPending,
            CallAction::TRANSFER_CONNECTED => CallAction::TransferConnected,
            CallAction::TRANSFER_FAILED => CallAction::TransferFailed,
            CallAction::VOICEMAIL_DROP => CallAction::VoicemailDrop,
            CallAction::MAX_CALL_LENGTH => CallAction::MaxCallLength,
            _ => match text.split_once(':') {
                Some((CallAction::DONATE, amount)) => CallAction::donate(Some(amount)),
                Some((CallAction::TRANSFER, to)) => CallAction::transfer(to),
                _ => CallAction::Other(text.to_owned()),
            },
        })
    }
}

impl Serialize for CallAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CallAction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CallAction, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        Ok(text.parse().unwrap_or_else(|never| match never {}))
    }
}

impl utoipa::PartialSchema for CallAction {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(format!(
                "What the IVR did during a call: {}.",
                CallAction::FORMS.map(|form| format!("`{form}`")).join(", ")
            )))
            .examples(CallAction::FORMS)
            .into()
    }
}

impl utoipa::ToSchema for CallAction {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CallAction")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    fn round_trips<
        W: Word + FromStr<Err = UnknownWord> + fmt::Display + Serialize + for<'de> Deserialize<'de>,
    >() {
        for &word in W::WORDS {
            assert_eq!(word.name().parse::<W>(), Ok(word));
            assert_eq!(word.to_string(), word.name());
            let json = serde_json::to_value(word).unwrap();
            assert_eq!(json, serde_json::json!(word.name()));
            assert_eq!(serde_json::from_value::<W>(json).unwrap(), word);
        }
        let error = "no_such_word".parse::<W>().unwrap_err();
        assert!(error.to_string().contains(W::WORDS[0].name()), "{error}");
        assert!(serde_json::from_value::<W>(serde_json::json!("no_such_word")).is_err());
    }

    #[test]
    fn every_word_round_trips_through_its_name_and_json() {
        round_trips::<CallStatus>();
        round_trips::<CallOutcome>();
        round_trips::<EndedBy>();
        round_trips::<Channel>();
        round_trips::<CallKind>();
        round_trips::<OutcomeFilter>();
    }

    /// The names as stored before this crate existed: they must never change.
    #[test]
    fn the_stored_names_are_the_ones_already_in_databases() {
        let names = |words: &[&str]| words.join(" ");
        assert_eq!(
            names(&CallStatus::ALL.map(CallStatus::as_str)),
            "dialing ringing answered ended"
        );
        assert_eq!(
            names(&CallOutcome::ALL.map(CallOutcome::as_str)),
            "answered voicemail busy no_answer congestion rejected failed blacklisted"
        );
        assert_eq!(
            names(&EndedBy::ALL.map(EndedBy::as_str)),
            "callee flow network supervisor reconcile"
        );
        assert_eq!(names(&Channel::ALL.map(Channel::as_str)), "voice sms");
        assert_eq!(
            names(&CallKind::ALL.map(CallKind::as_str)),
            "campaign tts_fallback test"
        );
        assert_eq!(
            OutcomeFilter::ALL.map(OutcomeFilter::as_str).last(),
            Some(&"in_call")
        );
    }

    #[test]
    fn the_schema_is_a_string_enum_of_exactly_the_values() {
        let schema = serde_json::to_value(CallOutcome::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(
            schema["enum"],
            serde_json::json!(CallOutcome::ALL.map(CallOutcome::as_str))
        );
        assert!(
            schema["description"]
                .as_str()
                .unwrap()
                .starts_with("How a call ended")
        );
        let filter = serde_json::to_value(OutcomeFilter::schema()).unwrap();
        assert_eq!(filter["enum"].as_array().unwrap().len(), 9);
    }

    #[test]
    fn actions_read_and_write_exactly_as_before() {
        for text in [
            "blacklist",
            "donate",
            "donate:180",
            "send_sms:pending",
            "transfer:03-6123456",
            "transfer_connected",
            "transfer_failed",
            "voicemail_drop",
            "max_call_length",
            "send_sms:sent",
            "a_later_action",
        ] {
            let action: CallAction = text.parse().unwrap();
            assert_eq!(action.to_string(), text);
        }
        assert_eq!(
            "donate:180".parse::<CallAction>(),
            Ok(CallAction::donate(Some("180")))
        );
        assert_eq!(
            "transfer:03-6123456".parse::<CallAction>(),
            Ok(CallAction::transfer("03-6123456"))
        );
        assert_eq!(
            "send_sms:sent".parse::<CallAction>(),
            Ok(CallAction::Other("send_sms:sent".to_owned()))
        );
        let json = serde_json::json!(["donate", "send_sms:pending"]);
        let actions: Vec<CallAction> = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(
            actions,
            [CallAction::donate(None), CallAction::SendSmsPending]
        );
        assert_eq!(serde_json::to_value(&actions).unwrap(), json);
    }

    #[test]
    fn an_unknown_stored_name_is_kept_and_sorts_after_the_known_ones() {
        let known: Stored<CallOutcome> = Stored::parse("busy");
        let unknown: Stored<CallOutcome> = Stored::parse("fax_tone");
        assert_eq!(known, CallOutcome::Busy);
        assert_eq!(unknown.as_str(), "fax_tone");
        assert_eq!(unknown.known(), None);
        let mut sorted = [
            unknown.clone(),
            Stored::from(CallOutcome::Blacklisted),
            known.clone(),
            Stored::from(CallOutcome::Answered),
        ];
        sorted.sort();
        let names: Vec<&str> = sorted.iter().map(Stored::as_str).collect();
        assert_eq!(names, ["answered", "busy", "blacklisted", "fax_tone"]);
        assert_eq!(serde_json::to_value(&unknown).unwrap(), "fax_tone");
        let back: Stored<CallOutcome> = serde_json::from_value("fax_tone".into()).unwrap();
        assert_eq!(back, unknown);
    }
}

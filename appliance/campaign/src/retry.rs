//! What a call's outcome does to its contact: another attempt later, or done.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use shofar_vocab::CallOutcome;

/// How a call ended, as far as the contact's next attempt is concerned: the
/// call's [`CallOutcome`] seen from its contact ([`Outcome::of_call`]), named as
/// the call outcome it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A person answered (whatever they pressed).
    Answered,
    /// An answering machine took it (the message was left, or not).
    Voicemail,
    Busy,
    NoAnswer,
    /// The network or trunk had no room (SIP 503, all circuits busy).
    Congestion,
    /// Any other failure: a wrong number, a rejected call, a dead trunk.
    Failed,
    /// The pre-dial check refused the number: it is on the do-not-call list.
    Blacklisted,
    /// The person asked never to be called again (pressed 9).
    OptedOut,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::Answered,
        Outcome::Voicemail,
        Outcome::Busy,
        Outcome::NoAnswer,
        Outcome::Congestion,
        Outcome::Failed,
        Outcome::Blacklisted,
        Outcome::OptedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => CallOutcome::Answered.as_str(),
            Outcome::Voicemail => CallOutcome::Voicemail.as_str(),
            Outcome::Busy => CallOutcome::Busy.as_str(),
            Outcome::NoAnswer => CallOutcome::NoAnswer.as_str(),
            Outcome::Congestion => CallOutcome::Congestion.as_str(),
            Outcome::Failed => CallOutcome::Failed.as_str(),
            Outcome::Blacklisted => CallOutcome::Blacklisted.as_str(),
            Outcome::OptedOut => "opted_out",
        }
    }

    /// What a call means for its contact: its outcome (`None`: none this version
    /// knows, counted as failed), unless the person opted out during it, which
    /// ends the contact whatever the call's outcome. A rejected call is a failed
    /// attempt. The one place a call's outcome becomes a contact's.
    pub fn of_call(outcome: Option<CallOutcome>, opted_out: bool) -> Outcome {
        if opted_out {
            return Outcome::OptedOut;
        }
        match outcome.unwrap_or(CallOutcome::Failed) {
            CallOutcome::Answered => Outcome::Answered,
            CallOutcome::Voicemail => Outcome::Voicemail,
            CallOutcome::Busy => Outcome::Busy,
            CallOutcome::NoAnswer => Outcome::NoAnswer,
            CallOutcome::Congestion => Outcome::Congestion,
            CallOutcome::Rejected | CallOutcome::Failed => Outcome::Failed,
            CallOutcome::Blacklisted => Outcome::Blacklisted,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;

    fn from_str(text: &str) -> Result<Outcome, String> {
        Outcome::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
                format!("unknown outcome {text:?} (one of {})", names.join(", "))
            })
    }
}

/// Whether and when to try again after one kind of outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Never,
    After(Duration),
}

/// The retry rule for each outcome that can be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub busy: Retry,
    pub no_answer: Retry,
    pub congestion: Retry,
    pub failed: Retry,
    pub voicemail: Retry,
}

impl Default for RetryPolicy {
    /// Busy lines again after 15 minutes, unanswered ones after 2 hours, network
    /// trouble after 30 minutes; a message left on voicemail counts as delivered.
    fn default() -> RetryPolicy {
        RetryPolicy {
            busy: Retry::After(Duration::minutes(15)),
            no_answer: Retry::After(Duration::hours(2)),
            congestion: Retry::After(Duration::minutes(30)),
            failed: Retry::After(Duration::minutes(30)),
            voicemail: Retry::Never,
        }
    }
}

/// The outcomes a policy has a rule for, as the settings name them.
pub const RETRY_KEYS: [&str; 5] = [
    CallOutcome::Busy.as_str(),
    CallOutcome::NoAnswer.as_str(),
    CallOutcome::Congestion.as_str(),
    CallOutcome::Failed.as_str(),
    CallOutcome::Voicemail.as_str(),
];

impl RetryPolicy {
    /// The rule for an outcome; `None` for outcomes that are never retried.
    pub fn rule(&self, outcome: Outcome) -> Option<Retry> {
        match outcome {
            Outcome::Busy => Some(self.busy),
            Outcome::NoAnswer => Some(self.no_answer),
            Outcome::Congestion => Some(self.congestion),
            Outcome::Failed => Some(self.failed),
            Outcome::Voicemail => Some(self.voicemail),
            Outcome::Answered | Outcome::Blacklisted | Outcome::OptedOut => None,
        }
    }

    /// The rule for an outcome named as in [`RETRY_KEYS`].
    pub fn rule_mut(&mut self, key: &str) -> Option<&mut Retry> {
        match key.parse::<CallOutcome>().ok()? {
            CallOutcome::Busy => Some(&mut self.busy),
            CallOutcome::NoAnswer => Some(&mut self.no_answer),
            CallOutcome::Congestion => Some(&mut self.congestion),
            CallOutcome::Failed => Some(&mut self.failed),
            CallOutcome::Voicemail => Some(&mut self.voicemail),
            CallOutcome::Answered | CallOutcome::Rejected | CallOutcome::Blacklisted => None,
        }
    }

    /// What becomes of a contact after its `attempts`-th call (counting this one)
    /// ended with `outcome` at `at`.
    pub fn after_call(
        &self,
        outcome: Outcome,
        attempts: u32,
        max_attempts: u32,
        at: DateTime<Utc>,
    ) -> NextStep {
        match outcome {
            Outcome::Blacklisted | Outcome::OptedOut => NextStep::Done(FinalStatus::Blacklisted),
            Outcome::Answered => NextStep::Done(FinalStatus::Completed),
            _ => match self.rule(outcome) {
                Some(Retry::After(delay)) if attempts < max_attempts => {
                    NextStep::RetryAt(at + delay)
                }
                _ if outcome == Outcome::Voicemail => NextStep::Done(FinalStatus::Completed),
                _ => NextStep::Done(FinalStatus::Failed),
            },
        }
    }
}

/// The contact's next step after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Eligible again from this instant (and inside a calling window).
    RetryAt(DateTime<Utc>),
    Done(FinalStatus),
}

/// Where a contact ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalStatus {
    /// Reached: answered, or a message left.
    Completed,
    /// Out of attempts, or an outcome the policy does not retry.
    Failed,
    /// On the do-not-call list.
    Blacklisted,
}

impl FinalStatus {
    /// The contact status the store keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            FinalStatus::Completed => "completed",
            FinalStatus::Failed => "failed",
            FinalStatus::Blacklisted => "blacklisted",
        }
    }
}

/// Reads a delay such as `15m`, `2h`, `1h30m`, `90s` or `1d`.
pub fn parse_delay(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a delay like \"15m\", \"2h\" or \"1h30m\"");
    let mut total = Duration::zero();
    let mut digits = String::new();
    let mut any = false;
    for ch in text.trim().chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let amount: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total += match ch {
            's' => Duration::seconds(amount),
            'm' => Duration::minutes(amount),
            'h' => Duration::hours(amount),
            'd' => Duration::days(amount),
            _ => return Err(bad()),
        };
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    Ok(total)
}

/// Writes a delay the way [`parse_delay`] reads it.
pub fn format_delay(delay: Duration) -> String {
    let mut seconds = delay.num_seconds();
    let mut out = String::new();
    for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        if seconds >= size {
            out.push_str(&format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn busy_is_retried_until_the_attempts_run_out() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.after_call(Outcome::Busy, 1, 3, at()),
            NextStep::RetryAt(at() + Duration::minutes(15))
        );
        assert_eq!(
            policy.after_call(Outcome::Busy, 3, 3, at()),
            NextStep::Done(FinalStatus::Failed)
        );
    }

    #[test]
    fn answered_and_opted_out_are_final() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.after_call(Outcome::Answered, 1, 3, at()),
            NextStep::Done(FinalStatus::Completed)
        );
        assert_eq!(
            policy.after_call(Outcome::OptedOut, 1, 3, at()),
            NextStep::Done(FinalStatus::Blacklisted)
        );
        assert_eq!(
            policy.after_call(Outcome::Voicemail, 1, 3, at()),
            NextStep::Done(FinalStatus::Completed)
        );
    }

    #[test]
    fn a_call_outcome_maps_to_its_contact_and_an_opt_out_wins() {
        assert_eq!(
            Outcome::of_call(Some(CallOutcome::Answered), true),
            Outcome::OptedOut
        );
        assert_eq!(
            Outcome::of_call(Some(CallOutcome::Rejected), false),
            Outcome::Failed
        );
        assert_eq!(Outcome::of_call(None, false), Outcome::Failed);
        for outcome in CallOutcome::ALL {
            let contact = Outcome::of_call(Some(outcome), false);
            if outcome != CallOutcome::Rejected {
                // Named as the call outcome it comes from.
                assert_eq!(contact.as_str(), outcome.as_str());
            }
        }
        for key in RETRY_KEYS {
            assert!(RetryPolicy::default().rule_mut(key).is_some(), "{key}");
        }
    }

    #[test]
    fn delays_read_and_write() {
        assert_eq!(parse_delay("15m"), Ok(Duration::minutes(15)));
        assert_eq!(parse_delay("1h30m"), Ok(Duration::minutes(90)));
        assert!(parse_delay("15").is_err());
        assert!(parse_delay("m").is_err());
        assert!(parse_delay("15 minutes").is_err());
        assert_eq!(format_delay(Duration::minutes(90)), "1h30m");
    }

    proptest! {
        /// No outcome ever schedules an attempt beyond the campaign's maximum, and a
        /// retry is never earlier than the call's end.
        #[test]
        fn never_more_than_max_attempts(
            outcome in proptest::sample::select(Outcome::ALL.to_vec()),
            max in 1u32..10,
            attempts in 1u32..12,
            delay_minutes in 0i64..10_000,
        ) {
            let retry = Retry::After(Duration::minutes(delay_minutes));
            let policy = RetryPolicy { busy: retry, no_answer: retry, congestion: retry, failed: retry, voicemail: retry };
            match policy.after_call(outcome, attempts, max, at()) {
                NextStep::RetryAt(when) => {
                    prop_assert!(attempts < max);
                    prop_assert!(when >= at());
                }
                NextStep::Done(_) => {}
            }
        }

        #[test]
        fn delays_round_trip(seconds in 1i64..10_000_000) {
            let delay = Duration::seconds(seconds);
            prop_assert_eq!(parse_delay(&format_delay(delay)), Ok(delay));
        }
    }
}

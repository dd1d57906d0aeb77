//! From what Asterisk reported about a call to the outcome reports count and the
//! retry policy acts on. Pure: the facts in, the outcome out.
//!
//! What Asterisk 22 reports (measured on the testbed, see TESTBED.md):
//! - answered: Dial `ANSWER`, a StasisStart; the end's cause is 16 (we hung up)
//!   or 0/16 (the callee did);
//! - SIP 486 → cause 17, Dial `BUSY`; 503 → 34, `CONGESTION`; 603 → 21, 404 → 1,
//!   480 → 19 (the last three Dial `NOANSWER`);
//! - ringing with no answer until the originate timeout → cause 19, no Dial status;
//! - an unreachable far end → cause 19 while never ringing (short timeout), or 18
//!   after SIP timer B.

use shofar_store::calls::CallOutcome;

/// What the session saw of a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFacts {
    pub answered: bool,
    /// `HUMAN`, `MACHINE`, `NOTSURE` or `HANGUP` when AMD ran.
    pub amd_result: Option<String>,
    /// The last Dial status other than `RINGING`/`PROGRESS`.
    pub dial_status: Option<String>,
    /// The far end said it was ringing.
    pub rang: bool,
    /// The Q.850 cause Asterisk gave when the channel was destroyed.
    pub cause: Option<i64>,
}

/// The outcome of a call.
pub fn classify(facts: &CallFacts) -> CallOutcome {
    if facts.answered {
        return match facts.amd_result.as_deref() {
            Some("MACHINE") => CallOutcome::Voicemail,
            _ => CallOutcome::Answered,
        };
    }
    match facts.dial_status.as_deref() {
        Some("BUSY") => return CallOutcome::Busy,
        Some("CONGESTION") => return CallOutcome::Congestion,
        Some("CHANUNAVAIL") => return CallOutcome::Failed,
        _ => {}
    }
    match facts.cause {
        Some(17) => CallOutcome::Busy,
        Some(34 | 38 | 41 | 42 | 44 | 47) => CallOutcome::Congestion,
        Some(21) => CallOutcome::Rejected,
        // No answer: it rang, or the callee's phone is off or out of reach (480).
        Some(19) if facts.rang || facts.dial_status.as_deref() == Some("NOANSWER") => {
            CallOutcome::NoAnswer
        }
        Some(18 | 20) => CallOutcome::NoAnswer,
        // Cause 19 without ever ringing: nothing answered the INVITE at all.
        _ => CallOutcome::Failed,
    }
}

/// A cause code's meaning, for records written without Asterisk's text.
pub fn cause_text(cause: i64) -> &'static str {
    match cause {
        0 => "not defined",
        1 => "unallocated number",
        3 => "no route to destination",
        16 => "normal clearing",
        17 => "user busy",
        18 => "no user responding",
        19 => "no answer",
        20 => "subscriber absent",
        21 => "call rejected",
        27 => "destination out of order",
        28 => "invalid number format",
        34 => "no circuit available",
        38 => "network out of order",
        41 => "temporary failure",
        42 => "switching equipment congestion",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(dial_status: Option<&str>, cause: i64, rang: bool) -> CallFacts {
        CallFacts {
            answered: false,
            amd_result: None,
            dial_status: dial_status.map(str::to_owned),
            rang,
            cause: Some(cause),
        }
    }

    #[test]
    fn what_the_testbed_measured_maps_to_the_right_outcome() {
        let table = [
            (facts(Some("BUSY"), 17, true), CallOutcome::Busy),
            (
                facts(Some("CONGESTION"), 34, false),
                CallOutcome::Congestion,
            ),
            (facts(Some("NOANSWER"), 21, true), CallOutcome::Rejected),
            (facts(Some("NOANSWER"), 1, false), CallOutcome::Failed),
            (facts(Some("NOANSWER"), 19, false), CallOutcome::NoAnswer),
            (facts(None, 19, true), CallOutcome::NoAnswer),
            (facts(None, 19, false), CallOutcome::Failed),
            (facts(None, 18, false), CallOutcome::NoAnswer),
            (facts(Some("CHANUNAVAIL"), 0, false), CallOutcome::Failed),
        ];
        for (facts, expected) in table {
            assert_eq!(classify(&facts), expected, "{facts:?}");
        }
    }

    #[test]
    fn an_answered_call_is_answered_or_voicemail_whatever_the_cause() {
        for cause in [0, 16, 19, 34] {
            let mut answered = facts(Some("ANSWER"), cause, true);
            answered.answered = true;
            assert_eq!(classify(&answered), CallOutcome::Answered);
            answered.amd_result = Some("MACHINE".into());
            assert_eq!(classify(&answered), CallOutcome::Voicemail);
            answered.amd_result = Some("NOTSURE".into());
            assert_eq!(classify(&answered), CallOutcome::Answered);
        }
    }
}

//! The campaign lifecycle: draft → scheduled → active ⇄ paused → completed or
//! cancelled, and nothing else.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being set up; nothing is dialed.
    Draft,
    /// Started, waiting for its start time.
    Scheduled,
    /// Dialing whenever its windows allow.
    Active,
    /// Stopped by staff; resumes where it was.
    Paused,
    /// Everyone reachable was reached, or its end passed.
    Completed,
    /// Stopped for good by staff.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Draft,
        Status::Scheduled,
        Status::Active,
        Status::Paused,
        Status::Completed,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
        }
    }

    /// Completed and cancelled campaigns never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Completed | Status::Cancelled)
    }

    /// Whether the scheduler looks after the campaign (promotes, dispatches, ends).
    pub fn is_running(self) -> bool {
        matches!(self, Status::Scheduled | Status::Active)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("unknown campaign status {text:?}"))
    }
}

/// What moves a campaign: a command from staff, or something the scheduler saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Start,
    Pause,
    Resume,
    Cancel,
    /// The scheduler: the start time has come.
    StartReached,
    /// The scheduler: no contact can ever be dialed again, or the end has passed.
    Finished,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::Start,
        Event::Pause,
        Event::Resume,
        Event::Cancel,
        Event::StartReached,
        Event::Finished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Pause => "pause",
            Event::Resume => "resume",
            Event::Cancel => "cancel",
            Event::StartReached => "start_reached",
            Event::Finished => "finished",
        }
    }
}

/// A move the lifecycle does not allow, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a campaign that is {from}: {hint}", event.as_str().replace('_', " "))]
pub struct IllegalTransition {
    pub from: Status,
    pub event: Event,
    pub hint: &'static str,
}

/// The state after `event`, given the campaign's start time and the time now.
pub fn transition(
    from: Status,
    event: Event,
    start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Status, IllegalTransition> {
    let started = start.is_none_or(|start| start <= now);
    let running = if started {
        Status::Active
    } else {
        Status::Scheduled
    };
    let illegal = |hint| Err(IllegalTransition { from, event, hint });
    match (from, event) {
        (_, _) if from.is_final() => illegal("it has ended; create a new campaign"),
        (Status::Draft, Event::Start) => Ok(running),
        (_, Event::Start) if from == Status::Paused => illegal("use resume"),
        (_, Event::Start) => illegal("it has already been started"),
        (Status::Scheduled | Status::Active, Event::Pause) => Ok(Status::Paused),
        (Status::Paused, Event::Pause) => illegal("it is already paused"),
        (_, Event::Pause) => illegal("only a started campaign can be paused"),
        (Status::Paused, Event::Resume) => Ok(running),
        (_, Event::Resume) => illegal("only a paused campaign can be resumed"),
        (_, Event::Cancel) => Ok(Status::Cancelled),
        (Status::Scheduled, Event::StartReached) if started => Ok(Status::Active),
        (_, Event::StartReached) => illegal("only a scheduled campaign whose start has come"),
        (Status::Draft, Event::Finished) => illegal("a draft has not started"),
        (_, Event::Finished) => Ok(Status::Completed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(hour: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-11-22T{hour:02}:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn start_waits_for_the_start_time() {
        assert_eq!(
            transition(Status::Draft, Event::Start, Some(at(10)), at(9)),
            Ok(Status::Scheduled)
        );
        assert_eq!(
            transition(Status::Draft, Event::Start, Some(at(10)), at(10)),
            Ok(Status::Active)
        );
        assert_eq!(
            transition(Status::Scheduled, Event::StartReached, Some(at(10)), at(11)),
            Ok(Status::Active)
        );
    }

    #[test]
    fn messages_say_what_to_do() {
        let error = transition(Status::Paused, Event::Start, None, at(9)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot start a campaign that is paused: use resume"
        );
    }

    /// The whole table, written out: every (state, event) pair that is legal.
    #[test]
    fn the_legal_moves_are_exactly_these() {
        use Event::*;
        use Status::*;
        let legal = [
            (Draft, Start),
            (Draft, Cancel),
            (Scheduled, Pause),
            (Scheduled, Cancel),
            (Scheduled, StartReached),
            (Scheduled, Finished),
            (Active, Pause),
            (Active, Cancel),
            (Active, Finished),
            (Paused, Resume),
            (Paused, Cancel),
            (Paused, Finished),
        ];
        for from in Status::ALL {
            for event in Event::ALL {
                let result = transition(from, event, Some(at(8)), at(9));
                assert_eq!(
                    result.is_ok(),
                    legal.contains(&(from, event)),
                    "{from} + {event:?}"
                );
            }
        }
    }

    proptest! {
        /// Any sequence of events keeps a campaign on the lifecycle's paths: final
        /// states stay final, and a campaign is never active before its start.
        #[test]
        fn sequences_stay_on_the_lifecycle(
            events in proptest::collection::vec(proptest::sample::select(Event::ALL.to_vec()), 0..20),
            start_hour in 0u32..24,
            hours in proptest::collection::vec(0u32..24, 20),
        ) {
            let start = at(start_hour);
            let mut status = Status::Draft;
            for (event, hour) in events.into_iter().zip(hours) {
                let now = at(hour);
                match transition(status, event, Some(start), now) {
                    Ok(next) => {
                        prop_assert!(!status.is_final());
                        if next == Status::Active {
                            prop_assert!(start <= now);
                        }
                        status = next;
                    }
                    Err(error) => prop_assert_eq!(error.from, status),
                }
            }
        }
    }
}

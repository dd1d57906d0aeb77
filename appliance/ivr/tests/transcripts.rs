//! Whole calls, step by step: each test is a script of what the caller and the
//! driver do and the transcript of what the engine says back (see
//! `support::check` for the notation).

mod support;

use shofar_ivr::Flow;
use support::check;

fn example() -> Flow {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ivr.example.json");
    let json = std::fs::read_to_string(path).expect("docs/ivr.example.json exists");
    Flow::from_json(&json).unwrap_or_else(|errors| panic!("{errors}"))
}

/// Property 12: the blacklist runs before the timer is cancelled and the confirmation plays.
#[test]
fn property_12_opting_out_while_the_menu_waits() {
    check(
        &Flow::default_flow(),
        "done done 9 done",
        r#"
        play#1 campaign
        > done
        play#2 menu
        > done
        timer#3 10s
        > 9
        run {"kind":"blacklist"}
        cancel#3
        play#4 optout-confirm
        > done
        hangup
        "#,
    );
}

/// Property 12 with barge-in: the blacklist runs before the prompt is stopped.
#[test]
fn property_12_opting_out_during_the_first_prompt() {
    check(
        &Flow::default_flow(),
        "9 done",
        r#"
        play#1 campaign
        > 9
        run {"kind":"blacklist"}
        stop#1
        play#2 optout-confirm
        > done
        hangup
        "#,
    );
}

/// The default flow's donation has no amount: the driver decides how to follow up.
#[test]
fn key_1_donates_without_an_amount() {
    check(
        &Flow::default_flow(),
        "done 1 done",
        r#"
        play#1 campaign
        > done
        play#2 menu
        > 1
        run {"kind":"donate","amount":null}
        stop#2
        play#3 thanks
        > done
        hangup
        "#,
    );
}

/// The 7 pressed during the info prompt does nothing; 0 enters the menu again.
#[test]
fn keys_during_a_play_node_are_ignored_and_0_repeats_the_menu() {
    check(
        &Flow::default_flow(),
        "done done 2 7 done 0 done",
        r#"
        play#1 campaign
        > done
        play#2 menu
        > done
        timer#3 10s
        > 2
        cancel#3
        play#4 info
        > 7
        > done
        play#5 campaign
        > 0
        stop#5
        play#6 campaign
        > done
        play#7 menu
        "#,
    );
}

/// Retries 2: the menu plays three times, then `timeout.then`.
#[test]
fn silence_plays_no_input_then_the_menu_twice_more_then_goodbye() {
    check(
        &Flow::default_flow(),
        "done done time done done done time done done done time done done",
        r#"
        play#1 campaign
        > done
        play#2 menu
        > done
        timer#3 10s
        > time
        play#4 no-input
        > done
        play#5 campaign
        > done
        play#6 menu
        > done
        timer#7 10s
        > time
        play#8 no-input
        > done
        play#9 campaign
        > done
        play#10 menu
        > done
        timer#11 10s
        > time
        play#12 no-input
        > done
        play#13 goodbye
        > done
        hangup
        "#,
    );
}

/// A key during the invalid prompt of a retry counts; the last invalid prompt is not interruptible.
#[test]
fn wrong_keys_interrupt_the_invalid_prompt_until_retries_run_out() {
    check(
        &Flow::default_flow(),
        "5 done done 6 # done done 5 done",
        r#"
        play#1 campaign
        > 5
        stop#1
        play#2 invalid
        > done
        play#3 campaign
        > done
        play#4 menu
        > 6
        stop#4
        play#5 invalid
        > #
        stop#5
        play#6 invalid
        > done
        play#7 goodbye
        > done
        hangup
        > 5
        > done
        "#,
    );
}

/// Two wrong keys, then 0 (the menu again): the count starts over, so a third wrong key is a retry, not the end.
#[test]
fn entering_the_menu_again_resets_its_retries() {
    check(
        &Flow::default_flow(),
        "5 done done 5 0 5 done done",
        r#"
        play#1 campaign
        > 5
        stop#1
        play#2 invalid
        > done
        play#3 campaign
        > done
        play#4 menu
        > 5
        stop#4
        play#5 invalid
        > 0
        stop#5
        play#6 campaign
        > 5
        stop#6
        play#7 invalid
        > done
        play#8 campaign
        > done
        play#9 menu
        "#,
    );
}

/// The finish of the stopped prompt arrives late and is ignored, before and after the end.
#[test]
fn stale_events_change_nothing() {
    check(
        &Flow::default_flow(),
        "9 stale done stale",
        r#"
        play#1 campaign
        > 9
        run {"kind":"blacklist"}
        stop#1
        play#2 optout-confirm
        > stale
        > done
        hangup
        > stale
        "#,
    );
}

#[test]
fn after_the_caller_hangs_up_nothing_is_said() {
    check(
        &Flow::default_flow(),
        "done hangup 1 done time",
        r#"
        play#1 campaign
        > done
        play#2 menu
        > hangup
        > 1
        > done
        > time
        "#,
    );
}

/// Each digit restarts the inter-digit timer; the actions run before the timer is cancelled.
#[test]
fn a_capture_ends_on_its_terminator() {
    check(
        &example(),
        "1 2 done 150#",
        r#"
        play#1 campaign
        > 1
        stop#1
        play#2 donate-menu
        > 2
        stop#2
        play#3 enter-amount
        > done
        timer#4 10s
        > 150#
        cancel#4
        timer#5 5s
        cancel#5
        timer#6 5s
        cancel#6
        timer#7 5s
        run {"kind":"donate","amount":"150"}
        run {"kind":"send_sms","template":"donation-link","variables":{"amount":"150"}}
        cancel#7
        play#8 thanks
        "#,
    );
}

/// Digits interrupt the prompt; the sixth digit completes the amount without waiting.
#[test]
fn a_capture_ends_at_max_length() {
    check(
        &example(),
        "12 123456 done",
        r#"
        play#1 campaign
        > 12
        stop#1
        play#2 donate-menu
        stop#2
        play#3 enter-amount
        > 123456
        stop#3
        timer#4 5s
        cancel#4
        timer#5 5s
        cancel#5
        timer#6 5s
        cancel#6
        timer#7 5s
        cancel#7
        timer#8 5s
        run {"kind":"donate","amount":"123456"}
        run {"kind":"send_sms","template":"donation-link","variables":{"amount":"123456"}}
        cancel#8
        play#9 thanks
        > done
        hangup
        "#,
    );
}

#[test]
fn a_capture_ends_when_the_caller_pauses() {
    check(
        &example(),
        "12 done 42 time",
        r#"
        play#1 campaign
        > 12
        stop#1
        play#2 donate-menu
        stop#2
        play#3 enter-amount
        > done
        timer#4 10s
        > 42
        cancel#4
        timer#5 5s
        cancel#5
        timer#6 5s
        > time
        run {"kind":"donate","amount":"42"}
        run {"kind":"send_sms","template":"donation-link","variables":{"amount":"42"}}
        play#7 thanks
        "#,
    );
}

/// The terminator with no digits and `*` are wrong input; silence is a timeout, counted apart; one digit then a pause is enough.
#[test]
fn a_capture_too_short_or_with_the_wrong_key_is_invalid() {
    check(
        &example(),
        "12 # * done done time done 7 time",
        r#"
        play#1 campaign
        > 12
        stop#1
        play#2 donate-menu
        stop#2
        play#3 enter-amount
        > #
        stop#3
        play#4 invalid-amount
        > *
        stop#4
        play#5 invalid-amount
        > done
        play#6 enter-amount
        > done
        timer#7 10s
        > time
        play#8 no-input
        > done
        play#9 enter-amount
        > 7
        stop#9
        timer#10 5s
        > time
        run {"kind":"donate","amount":"7"}
        run {"kind":"send_sms","template":"donation-link","variables":{"amount":"7"}}
        play#11 thanks
        "#,
    );
}

#[test]
fn a_transfer_ends_the_engine() {
    check(
        &example(),
        "done 3 done",
        r#"
        play#1 campaign
        > done
        play#2 main-menu
        > 3
        stop#2
        transfer 03-6123456
        > done
        "#,
    );
}

#[test]
fn a_sub_menu_leads_back_to_the_main_menu() {
    check(
        &example(),
        "1 0 done",
        r#"
        play#1 campaign
        > 1
        stop#1
        play#2 donate-menu
        > 0
        stop#2
        play#3 campaign
        > done
        play#4 main-menu
        "#,
    );
}

#[test]
fn the_trace_records_keys_path_actions_variables_and_the_end() {
    let flow = example();
    let (mut driver, _) = support::Driver::start(&flow);
    for key in "12".chars() {
        driver.press(key);
    }
    driver.finish();
    for key in "150#".chars() {
        driver.press(key);
    }
    driver.finish();
    let trace = driver.session.trace();
    assert_eq!(trace.keys, "12150#");
    assert_eq!(
        trace.path,
        [
            "main",
            "donate-menu",
            "amount",
            "donate-amount",
            "sms",
            "thanks"
        ]
    );
    assert_eq!(trace.last_node(), Some("thanks"));
    assert_eq!(
        trace.variables,
        [("amount".to_owned(), "150".to_owned())].into()
    );
    assert_eq!(
        trace.actions,
        [
            shofar_ivr::Action::Donate {
                amount: Some("150".to_owned())
            },
            shofar_ivr::Action::SendSms {
                template: Some("donation-link".to_owned()),
                variables: [("amount".to_owned(), "150".to_owned())].into(),
            },
        ]
    );
    assert_eq!(trace.ended, Some(shofar_ivr::Ended::HangupByFlow));
    assert_eq!(
        serde_json::to_value(trace).unwrap()["ended"],
        serde_json::json!({"how": "hangup_by_flow"})
    );
}

#[test]
fn a_session_handed_a_different_flow_hangs_up_instead_of_panicking() {
    let example = example();
    let (mut session, _) = shofar_ivr::Session::start(&example);
    session.handle(&example, shofar_ivr::Event::Digit('1'));
    assert_eq!(session.current_node(), "donate-menu");
    // The default flow has no "donate-menu": the session cannot go on.
    let commands = session.handle(&Flow::default_flow(), shofar_ivr::Event::Digit('1'));
    assert_eq!(
        commands,
        [
            shofar_ivr::Command::StopPlayback { id: 2 },
            shofar_ivr::Command::Hangup
        ]
    );
    assert_eq!(
        session.ended(),
        Some(&shofar_ivr::Ended::FlowMismatch {
            node: "donate-menu".to_owned()
        })
    );
}

/// Digits that barge into a capture's prompt all count (found on the testbed,
/// issue 4: a quick "180#" sent during the prompt).
#[test]
fn a_capture_takes_every_digit_that_barged_into_its_prompt() {
    let flow = Flow::from_json(
        r#"{"version": 1, "name": "Amount", "start": "amount", "nodes": {
          "amount": {"type": "capture", "prompts": ["menu"], "variable": "amount", "max_length": 5,
                     "timeout": {"seconds": 3, "prompt": "no-input", "retries": 1, "then": "bye"},
                     "invalid": {"prompt": "invalid", "retries": 1, "then": "bye"}, "next": "donate"},
          "donate": {"type": "action", "action": {"kind": "donate", "amount_variable": "amount"}, "next": "bye"},
          "bye": {"type": "action", "action": {"kind": "end_call"}}}}"#,
    )
    .unwrap();
    check(
        &flow,
        "180#",
        r#"
        play#1 menu
        > 180#
        stop#1
        timer#2 5s
        cancel#2
        timer#3 5s
        cancel#3
        timer#4 5s
        run {"kind":"donate","amount":"180"}
        cancel#4
        hangup
        "#,
    );
}

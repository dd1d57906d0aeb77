//! The scheduler against a real (in-memory) store: seed properties 6, 7, 8, 9, 27
//! and 33, retries and completion. Every instant is given; nothing reads the clock.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use shofar_campaign::windows::TimeRange;
use shofar_campaign::{
    BoxCalendar, Capacity, Event, Kind, Outcome, Purpose, Settings, Status, WeeklyWindows,
};
use shofar_phone::{E164, LineType};
use shofar_scheduler::{Round, Scheduler};
use shofar_store::Store;
use shofar_store::campaigns::{CampaignId, NewCampaign};
use shofar_store::contacts::{Consent, ImportCounts, NewContact};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// A Sunday morning in Jerusalem, far from any holiday: 2027-01-10 10:00 local.
fn sunday_morning() -> DateTime<Utc> {
    utc(2027, 1, 10, 8, 0)
}

fn settings() -> Settings {
    Settings {
        start: Some(utc(2027, 1, 1, 0, 0)),
        ..Settings::default()
    }
}

/// A campaign with `contacts` numbers, started (active from 2027-01-01).
fn campaign(
    store: &mut Store,
    name: &str,
    kind: Kind,
    settings: Settings,
    contacts: u64,
    first_number: u64,
) -> CampaignId {
    let id = store
        .insert_campaign(
            &NewCampaign {
                name: name.to_owned(),
                kind,
                purpose: Purpose::Informational,
                settings,
                consent_override: None,
            },
            "test",
        )
        .unwrap();
    add_contacts(store, name, contacts, first_number, false);
    store
        .campaign_event(id, Event::Start, utc(2027, 1, 1, 0, 0), "test", None)
        .unwrap();
    id
}

fn add_contacts(store: &mut Store, name: &str, count: u64, first: u64, consent: bool) {
    let mut import = store
        .begin_contact_import(name, false, "test.csv", "test")
        .unwrap();
    let source: std::sync::Arc<str> = "import:test.csv".into();
    for i in 0..count {
        import
            .insert(NewContact {
                e164: E164::from_u64(972_525_550_000 + first + i).unwrap(),
                line_type: LineType::Mobile,
                metadata: "{}".to_owned(),
                consent: consent.then(|| Consent {
                    given: true,
                    at: None,
                    source: source.clone(),
                }),
                blacklisted: false,
                source_row: i + 2,
            })
            .unwrap();
    }
    import
        .finish(
            ImportCounts::default(),
            &serde_json::json!({}),
            None,
            "test",
        )
        .unwrap();
}

fn round(now: DateTime<Utc>, voice: u32) -> Round {
    Round {
        now,
        capacity: Capacity { voice, sms: voice },
        in_flight: BTreeMap::new(),
    }
}

fn windows_strategy() -> impl Strategy<Value = WeeklyWindows> {
    proptest::collection::vec(proptest::option::of((0u16..1380, 30u16..600)), 7).prop_map(|days| {
        let mut ranges: [Vec<TimeRange>; 7] = Default::default();
        for (index, day) in days.into_iter().enumerate() {
            if let Some((start, length)) = day {
                ranges[index].push(TimeRange {
                    start,
                    end: (start + length).min(1440),
                });
            }
        }
        WeeklyWindows::new(ranges).unwrap()
    })
}

/// Any instant in 2027-2028, to the minute.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..2 * 365 * 24 * 60).prop_map(|minutes| utc(2027, 1, 1, 0, 0) + Duration::minutes(minutes))
}

const ZONES: [Option<&str>; 4] = [
    None,
    Some("America/New_York"),
    Some("Asia/Tokyo"),
    Some("Europe/London"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Property 6 (calling window enforcement): when the instant is outside the
    /// campaign's windows — or inside Shabbat, a Yom Tov, or outside its schedule —
    /// nothing is dispatched; inside them, contacts are.
    #[test]
    fn property_6_nothing_is_dispatched_outside_the_windows(windows in windows_strategy(), now in instant()) {
        prop_assume!(!windows.is_empty());
        let mut store = Store::open_in_memory().unwrap();
        let settings = Settings { windows, ..settings() };
        let id = campaign(&mut store, "c", Kind::Voice, settings, 5, 0);
        let mut scheduler = Scheduler::new(BoxCalendar::default());
        let policy = scheduler.policy(&store.campaign(id).unwrap());
        let plan = scheduler.plan(&mut store, &round(now, 100)).unwrap();
        let dispatched = plan.contacts_of(id).len();
        if policy.is_open(None, now) {
            prop_assert_eq!(dispatched, 5);
        } else {
            prop_assert_eq!(dispatched, 0);
        }
    }

    /// Property 7 (campaign termination completeness): once the end has passed, no
    /// contact is dispatched, the campaign is completed, and the plan names it so
    /// the calls still up are ended.
    #[test]
    fn property_7_the_end_stops_dispatch_and_terminates(end_offset in -600i64..600, capacity in 1u32..50) {
        let mut store = Store::open_in_memory().unwrap();
        let now = sunday_morning();
        let end = now + Duration::minutes(end_offset);
        let id = campaign(&mut store, "c", Kind::Voice, Settings { end: Some(end), ..settings() }, 10, 0);
        let mut scheduler = Scheduler::new(BoxCalendar::default());
        let plan = scheduler.plan(&mut store, &round(now, capacity)).unwrap();
        if now >= end {
            prop_assert!(plan.contacts_of(id).is_empty());
            prop_assert!(plan.terminate.contains(&id));
            prop_assert_eq!(store.campaign(id).unwrap().status, Status::Completed);
            // And it stays that way: a completed campaign is never dispatched again.
            let again = scheduler.plan(&mut store, &round(now + Duration::minutes(1), capacity)).unwrap();
            prop_assert!(again.contacts_of(id).is_empty());
        } else {
            prop_assert!(!plan.terminate.contains(&id));
            prop_assert_eq!(plan.contacts_of(id).len(), capacity.min(10) as usize);
        }
    }

    /// Property 8 (time-zone-aware windows): a contact with its own zone is
    /// dispatched only when the wall clock *there* is inside the windows, and every
    /// contact whose zone is open is dispatched when there is room.
    #[test]
    fn property_8_each_contact_in_its_own_zone(zones in proptest::collection::vec(0usize..4, 1..12), now in instant()) {
        let mut store = Store::open_in_memory().unwrap();
        let settings = Settings { windows: WeeklyWindows::israeli_default(), ..settings() };
        let id = campaign(&mut store, "c", Kind::Voice, settings, zones.len() as u64, 0);
        let ids = store.contact_ids(id).unwrap();
        for (contact, zone) in ids.iter().zip(&zones) {
            store.set_contact_hints(*contact, ZONES[*zone], 0.5, None).unwrap();
        }
        let mut scheduler = Scheduler::new(BoxCalendar::default());
        let policy = scheduler.policy(&store.campaign(id).unwrap());
        let plan = scheduler.plan(&mut store, &round(now, 100)).unwrap();
        let dispatched: Vec<i64> = plan.contacts_of(id).iter().map(|c| c.contact_id).collect();
        for (contact, zone) in ids.iter().zip(&zones) {
            let tz: Option<Tz> = ZONES[*zone].map(|name| name.parse().unwrap());
            let open = policy.is_open(tz, now);
            prop_assert_eq!(dispatched.contains(contact), open, "zone {:?}", ZONES[*zone]);
            if open {
                let local = now.with_timezone(&tz.unwrap_or(policy.zone)).naive_local();
                prop_assert!(policy.windows.contains_local(local));
            }
        }
    }

    /// Property 9 (concurrent campaign isolation): campaigns running together each
    /// get their weighted share of the box, a huge list does not crowd out a small
    /// one, and a paused campaign gets nothing while the others carry on.
    #[test]
    fn property_9_campaigns_share_fairly(
        channels in proptest::collection::vec(1u32..40, 2..5),
        sizes in proptest::collection::vec(0u64..60, 5),
        paused in 0usize..5,
        capacity in 1u32..80,
    ) {
        let mut store = Store::open_in_memory().unwrap();
        let mut ids = Vec::new();
        for (index, max_channels) in channels.iter().enumerate() {
            let mut s = settings();
            s.pacing.max_channels = *max_channels;
            let size = if index == 0 { 3_000 } else { sizes[index] };
            ids.push(campaign(&mut store, &format!("c{index}"), Kind::Voice, s, size, index as u64 * 10_000));
        }
        let paused = paused % ids.len();
        store.campaign_event(ids[paused], Event::Pause, sunday_morning(), "test", None).unwrap();
        let mut scheduler = Scheduler::new(BoxCalendar::default());
        let plan = scheduler.plan(&mut store, &round(sunday_morning(), capacity)).unwrap();
        prop_assert!(plan.contacts_of(ids[paused]).is_empty());
        let total: usize = ids.iter().map(|id| plan.contacts_of(*id).len()).sum();
        prop_assert!(total <= capacity as usize);
        // Everyone's want, and the exact fair shares over the running ones.
        let claims: Vec<shofar_campaign::Claim> = ids.iter().enumerate()
            .filter(|(index, _)| *index != paused)
            .map(|(index, id)| {
                let size = if index == 0 { 3_000 } else { sizes[index] } as u32;
                shofar_campaign::Claim { campaign: id.0, pool: shofar_campaign::Pool::Voice, weight: channels[index], limit: channels[index], demand: size.min(channels[index]) }
            })
            .collect();
        let ideal = shofar_campaign::share::water_fill(capacity, &claims);
        for (claim, share) in claims.iter().zip(ideal) {
            let got = plan.contacts_of(CampaignId(claim.campaign)).len() as f64;
            prop_assert!(got >= share.floor() && got <= share.ceil(), "campaign {} got {} of {}", claim.campaign, got, share);
        }
    }

    /// Property 27 (campaign type independence): an SMS campaign running beside
    /// voice campaigns changes nothing of what the voice campaigns are given.
    #[test]
    fn property_27_sms_beside_voice(sms_size in 0u64..200, voice_capacity in 1u32..60) {
        let run = |with_sms: bool| {
            let mut store = Store::open_in_memory().unwrap();
            let voice = campaign(&mut store, "voice", Kind::Voice, settings(), 100, 0);
            if with_sms {
                campaign(&mut store, "sms", Kind::Sms, settings(), sms_size, 50_000);
            }
            let mut scheduler = Scheduler::new(BoxCalendar::default());
            let plan = scheduler.plan(&mut store, &round(sunday_morning(), voice_capacity)).unwrap();
            plan.contacts_of(voice).iter().map(|c| c.contact_id).collect::<Vec<_>>()
        };
        prop_assert_eq!(run(true), run(false));
    }

    /// Property 33 (optimal time scheduling priority): contacts whose predicted
    /// best hours include the current hour come first, then the best score, then
    /// import order — exactly the order a full sort of all contacts gives.
    #[test]
    fn property_33_predicted_best_hours_first(
        hints in proptest::collection::vec((0u32..5, proptest::option::of(0u32..(1 << 24))), 1..40),
        take in 1usize..50,
        hour in 9u32..20,
    ) {
        let mut store = Store::open_in_memory().unwrap();
        let mut s = settings();
        s.pacing.max_channels = 100;
        let id = campaign(&mut store, "c", Kind::Voice, s, hints.len() as u64, 0);
        let ids = store.contact_ids(id).unwrap();
        for (contact, (score, mask)) in ids.iter().zip(&hints) {
            store.set_contact_hints(*contact, None, f64::from(*score) / 4.0, *mask).unwrap();
        }
        // A Sunday in Jerusalem (UTC+2 in January) at `hour`:00 local.
        let now = utc(2027, 1, 10, hour - 2, 0);
        let mut expected: Vec<(bool, u32, i64)> = ids.iter().zip(&hints)
            .map(|(contact, (score, mask))| (mask.is_some_and(|m| m & (1 << hour) != 0), *score, *contact))
            .collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let expected: Vec<i64> = expected.into_iter().take(take).map(|e| e.2).collect();
        let mut scheduler = Scheduler::new(BoxCalendar::default());
        let plan = scheduler.plan(&mut store, &round(now, take as u32)).unwrap();
        let got: Vec<i64> = plan.contacts_of(id).iter().map(|c| c.contact_id).collect();
        prop_assert_eq!(got, expected);
    }

    /// Retries by outcome and the maximum number of attempts: however calls end, no
    /// contact is ever given more attempts than the campaign allows, a retry never
    /// comes before its delay, and the campaign completes by itself when nobody is
    /// left to call.
    #[test]
    fn retries_respect_max_attempts_and_the_campaign_completes(
        outcomes in proptest::collection::vec(proptest::sample::select(Outcome::ALL.to_vec()), 1..200),
        max_attempts in 1u32..4,
    ) {
        let mut store = Store::open_in_memory().unwrap();
        let mut s = settings();
        s.max_attempts = max_attempts;
        s.windows = WeeklyWindows::new(std::array::from_fn(|_| vec![TimeRange { start: 0, end: 1440 }])).unwrap();
        s.quiet = shofar_campaign::QuietSettings { shabbat: false, holidays: false, erev_from: None, yom_hazikaron: false };
        let id = campaign(&mut store, "c", Kind::Voice, s, 8, 0);
        let mut scheduler = Scheduler::new(BoxCalendar::default());
        let mut now = sunday_morning();
        let mut outcomes = outcomes.into_iter().cycle();
        let mut last_call: BTreeMap<i64, DateTime<Utc>> = BTreeMap::new();
        for _ in 0..400 {
            let plan = scheduler.plan(&mut store, &round(now, 4)).unwrap();
            let campaign = store.campaign(id).unwrap();
            if campaign.status == Status::Completed {
                break;
            }
            for contact in plan.contacts_of(id) {
                if let Some(previous) = last_call.get(&contact.contact_id) {
                    // The shortest default retry delay is 15 minutes.
                    prop_assert!(now - *previous >= Duration::minutes(15));
                }
                let attempt = store.claim_contact(contact.contact_id, now).unwrap().unwrap();
                prop_assert!(attempt <= max_attempts);
                last_call.insert(contact.contact_id, now);
                let outcome = outcomes.next().unwrap();
                scheduler.call_ended(&mut store, &campaign, contact.contact_id, outcome, now).unwrap();
            }
            now += Duration::minutes(10);
        }
        prop_assert_eq!(store.campaign(id).unwrap().status, Status::Completed);
        for contact in store.contact_ids(id).unwrap() {
            let (attempts, status) = store.contact_attempts(contact).unwrap().unwrap();
            prop_assert!(attempts <= max_attempts);
            prop_assert!(status != "pending" && status != "in_progress", "{}", status);
        }
    }
}

/// An SMS or hybrid campaign already running (started before the start check
/// existed, then the box was upgraded) is never dialed: its people were meant to
/// get a text. The voice campaign beside it is dialed as before, and the start
/// check refuses such a campaign.
#[test]
fn running_sms_and_hybrid_campaigns_are_not_dialed() {
    let mut store = Store::open_in_memory().unwrap();
    let voice = campaign(&mut store, "voice", Kind::Voice, settings(), 5, 0);
    let sms = campaign(&mut store, "sms", Kind::Sms, settings(), 5, 1_000);
    let hybrid = campaign(&mut store, "hybrid", Kind::Hybrid, settings(), 5, 2_000);
    let mut scheduler = Scheduler::new(BoxCalendar::default());
    let plan = scheduler
        .plan(&mut store, &round(sunday_morning(), 30))
        .unwrap();
    assert_eq!(plan.contacts_of(voice).len(), 5);
    assert!(plan.contacts_of(sms).is_empty());
    assert!(plan.contacts_of(hybrid).is_empty());
    for id in [sms, hybrid] {
        let campaign = store.campaign(id).unwrap();
        assert_eq!(
            campaign.status,
            Status::Active,
            "not finished: still has work"
        );
        assert_eq!(
            store.start_blocker(&campaign, sunday_morning()).unwrap(),
            Some(shofar_store::campaigns::StartBlocker::KindUnavailable(
                campaign.kind
            ))
        );
    }
    let voice = store.campaign(voice).unwrap();
    assert_eq!(store.start_blocker(&voice, sunday_morning()).unwrap(), None);
}

#[test]
fn a_scheduled_campaign_becomes_active_at_its_start() {
    let mut store = Store::open_in_memory().unwrap();
    let start = sunday_morning() + Duration::hours(1);
    let id = store
        .insert_campaign(
            &NewCampaign {
                name: "later".to_owned(),
                kind: Kind::Voice,
                purpose: Purpose::Informational,
                settings: Settings {
                    start: Some(start),
                    ..Settings::default()
                },
                consent_override: None,
            },
            "test",
        )
        .unwrap();
    add_contacts(&mut store, "later", 3, 0, false);
    store
        .campaign_event(id, Event::Start, sunday_morning(), "test", None)
        .unwrap();
    assert_eq!(store.campaign(id).unwrap().status, Status::Scheduled);
    let mut scheduler = Scheduler::new(BoxCalendar::default());
    let plan = scheduler
        .plan(&mut store, &round(sunday_morning(), 10))
        .unwrap();
    assert!(plan.contacts_of(id).is_empty());
    let plan = scheduler.plan(&mut store, &round(start, 10)).unwrap();
    assert_eq!(plan.contacts_of(id).len(), 3);
    assert_eq!(store.campaign(id).unwrap().status, Status::Active);
    let audit = store.audit_log(1).unwrap();
    assert_eq!(audit[0].action, "campaign.start_reached");
    assert_eq!(audit[0].actor, "scheduler");
    assert_eq!(audit[0].details["from"], "scheduled");
    assert_eq!(audit[0].details["to"], "active");
}

#[test]
fn donation_campaigns_call_only_contacts_with_consent_unless_overridden() {
    for (override_reason, expected) in [(None, 2), (Some("board decision 2026-11"), 5)] {
        let mut store = Store::open_in_memory().unwrap();
        let id = store
            .insert_campaign(
                &NewCampaign {
                    name: "donors".to_owned(),
                    kind: Kind::Voice,
                    purpose: Purpose::Donation,
                    settings: settings(),
                    consent_override: override_reason.map(str::to_owned),
                },
                "test",
            )
            .unwrap();
        add_contacts(&mut store, "donors", 3, 0, false);
        add_contacts(&mut store, "donors", 2, 100, true);
        store
            .campaign_event(id, Event::Start, sunday_morning(), "test", None)
            .unwrap();
        let mut scheduler = Scheduler::new(BoxCalendar::default());
        let plan = scheduler
            .plan(&mut store, &round(sunday_morning(), 10))
            .unwrap();
        assert_eq!(plan.contacts_of(id).len(), expected);
        let campaign = store.campaign(id).unwrap();
        let counts = store
            .contact_counts(id, sunday_morning(), 3, campaign.consent_required())
            .unwrap();
        assert_eq!(counts.without_consent, 5 - expected as u64);
    }
}

#[test]
fn blacklisted_contacts_are_never_dispatched() {
    let mut store = Store::open_in_memory().unwrap();
    let id = campaign(&mut store, "c", Kind::Voice, settings(), 4, 0);
    let listed = E164::from_u64(972_525_550_001).unwrap();
    let (index, _) = store.load_dnc().unwrap();
    let dnc = shofar_dnc::SharedDnc::new(index);
    store
        .blacklist_add(
            &dnc,
            [shofar_store::blacklist::NewEntry {
                e164: listed,
                reason: "asked".to_owned(),
                source: shofar_store::blacklist::BlacklistSource::UserOptout,
                checked_on: None,
                campaign: None,
            }],
            "test",
            serde_json::json!({}),
        )
        .unwrap();
    let mut scheduler = Scheduler::new(BoxCalendar::default());
    let plan = scheduler
        .plan(&mut store, &round(sunday_morning(), 10))
        .unwrap();
    let numbers: Vec<E164> = plan.contacts_of(id).iter().map(|c| c.e164).collect();
    assert_eq!(numbers.len(), 3);
    assert!(!numbers.contains(&listed));
}

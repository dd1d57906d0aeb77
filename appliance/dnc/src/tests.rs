use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn number(digits: u64) -> E164 {
    E164::from_u64(digits).unwrap()
}

/// Numbers from a small pool, so that operations hit the same numbers often.
fn pooled_number() -> impl Strategy<Value = E164> {
    (0u64..64).prop_map(|i| number(972_525_550_000 + i * 7))
}

#[derive(Debug, Clone)]
enum Op {
    Insert(E164),
    Remove(E164),
    Fold,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => pooled_number().prop_map(Op::Insert),
        2 => pooled_number().prop_map(Op::Remove),
        1 => Just(Op::Fold),
    ]
}

#[test]
fn empty_and_tiny_indexes() {
    let empty = DncIndex::default();
    assert!(!empty.contains(number(972525551234)));
    assert_eq!(empty.len(), 0);
    let one = DncIndex::from_numbers([number(972525551234), number(972525551234)]);
    assert_eq!(one.len(), 1);
    assert!(one.contains(number(972525551234)));
    assert!(!one.contains(number(97236123456)));
}

#[test]
fn a_permit_carries_the_number_and_list_version() {
    let dnc = SharedDnc::default();
    let permit = dnc.predial_check(number(972525551234)).unwrap();
    assert_eq!(permit.number(), number(972525551234));
    assert_eq!(permit.list_version(), 0);
    assert!(permit.is_fresh(Instant::now()));
    assert!(!permit.is_fresh(Instant::now() + DialPermit::MAX_AGE + Duration::from_millis(1)));
    dnc.update(|index| index.insert(number(972525551234)));
    assert_eq!(
        dnc.predial_check(number(972525551234)),
        Err(DialRefusal::Blacklisted { list_version: 1 })
    );
}

/// Issue 15: a permit is spent by its own method, which refuses one too old or
/// for another number — not by an assertion somewhere in telephony.
#[test]
fn a_permit_is_spent_once_fresh_and_only_on_its_own_number() {
    let dnc = SharedDnc::default();
    let issued = Instant::now();
    let spent = dnc
        .predial_check(number(972525551234))
        .unwrap()
        .spend(number(972525551234), Instant::now())
        .unwrap();
    assert_eq!(spent.number(), number(972525551234));
    assert_eq!(spent.list_version(), 0);

    let late = issued + DialPermit::MAX_AGE + Duration::from_secs(1);
    let refused = dnc
        .predial_check(number(972525551234))
        .unwrap()
        .spend(number(972525551234), late);
    assert!(
        matches!(refused, Err(PermitRefused::Stale { .. })),
        "{refused:?}"
    );

    let other = dnc
        .predial_check(number(972525551234))
        .unwrap()
        .spend(number(97236123456), Instant::now());
    assert_eq!(
        other,
        Err(PermitRefused::OtherNumber {
            issued_for: number(972525551234),
            dialing: number(97236123456),
        })
    );
}

#[test]
fn replacing_the_index_moves_the_version_forward() {
    let dnc = SharedDnc::default();
    dnc.update(|index| index.insert(number(972525551234)));
    dnc.replace(DncIndex::from_numbers([number(97236123456)]));
    assert!(dnc.version() > 1);
    assert!(dnc.contains(number(97236123456)));
    assert!(!dnc.contains(number(972525551234)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The index behaves as a set under any sequence of changes and folds.
    #[test]
    fn index_matches_a_set_model(initial in prop::collection::vec(pooled_number(), 0..40), ops in prop::collection::vec(op(), 0..200)) {
        let mut index = DncIndex::from_numbers(initial.iter().copied());
        let mut model: BTreeSet<E164> = initial.into_iter().collect();
        for op in ops {
            match op {
                Op::Insert(n) => prop_assert_eq!(index.insert(n), model.insert(n)),
                Op::Remove(n) => prop_assert_eq!(index.remove(n), model.remove(&n)),
                Op::Fold => index.fold_changes(),
            }
            prop_assert_eq!(index.len(), model.len());
        }
        for i in 0..64 {
            let n = number(972_525_550_000 + i * 7);
            prop_assert_eq!(index.contains(n), model.contains(&n));
        }
    }

    /// Any numbers, large sets: every member found, non-members not.
    #[test]
    fn frozen_lookup_is_exact(members in prop::collection::hash_set(1_000_000u64..999_999_999_999_999, 0..3000), probes in prop::collection::vec(1_000_000u64..999_999_999_999_999, 0..200)) {
        let index = DncIndex::from_raw(members.iter().copied().collect());
        for &m in &members {
            prop_assert!(index.contains(number(m)));
        }
        for p in probes {
            prop_assert_eq!(index.contains(number(p)), members.contains(&p));
        }
    }

    /// Seed property 10 (blacklist pre-dial check): for any number on the list, the
    /// pre-dial check refuses, so no call can be placed; for any other it permits.
    #[test]
    fn property_10_listed_numbers_never_get_a_permit(listed in prop::collection::vec(pooled_number(), 0..40), probe in pooled_number()) {
        let dnc = SharedDnc::new(DncIndex::from_numbers(listed.iter().copied()));
        let verdict = dnc.predial_check(probe);
        if listed.contains(&probe) {
            let refused = matches!(verdict, Err(DialRefusal::Blacklisted { .. }));
            prop_assert!(refused);
        } else {
            prop_assert_eq!(verdict.map(|permit| permit.number()), Ok(probe));
        }
    }

    /// Seed property 13 (blacklist import immediate application): after a bulk
    /// addition to a shared index, every added number is refused by the very next
    /// check, whether or not the changes were folded yet.
    #[test]
    fn property_13_bulk_additions_apply_immediately(before in prop::collection::vec(pooled_number(), 0..20), imported in prop::collection::vec(pooled_number(), 1..60), fold in any::<bool>()) {
        let dnc = SharedDnc::new(DncIndex::from_numbers(before));
        let checker = dnc.clone();
        dnc.update(|index| {
            for &n in &imported {
                index.insert(n);
            }
            if fold {
                index.fold_changes();
            }
        });
        for n in imported {
            prop_assert!(checker.predial_check(n).is_err());
        }
    }
}

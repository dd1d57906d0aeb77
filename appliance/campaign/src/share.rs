//! Sharing the box between campaigns: weighted max-min fairness, per resource pool.
//!
//! Voice campaigns share the voice channels; SMS campaigns share the SMS sending
//! rate; a hybrid campaign dials from the voice pool. A pool's capacity is split in
//! proportion to the campaigns' weights (their own limits), no campaign gets more than
//! it can use, and what one cannot use goes to the others (properties 9 and 27).
//! Whole units that cannot be split evenly rotate through a credit kept between
//! rounds, so over many rounds every campaign gets its exact share.

use std::collections::BTreeMap;

/// The resource a campaign draws on: its channel's capacity (voice channels, or
/// the SMS sending rate).
pub type Pool = shofar_vocab::Channel;

/// One campaign's request in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub campaign: i64,
    pub pool: Pool,
    /// Its share relative to the others in the pool (its channel or rate limit).
    pub weight: u32,
    /// The most it may take now (its limit less what it already uses).
    pub limit: u32,
    /// How many contacts it has ready.
    pub demand: u32,
}

impl Claim {
    fn want(&self) -> u32 {
        self.limit.min(self.demand)
    }
}

/// What each pool can give this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capacity {
    pub voice: u32,
    pub sms: u32,
}

impl Capacity {
    fn of(&self, pool: Pool) -> u32 {
        match pool {
            Pool::Voice => self.voice,
            Pool::Sms => self.sms,
        }
    }
}

/// The allocator, with the credit each campaign carries between rounds.
#[derive(Debug, Clone, Default)]
pub struct FairShare {
    credit: BTreeMap<i64, f64>,
}

impl FairShare {
    pub fn new() -> FairShare {
        FairShare::default()
    }

    /// How many units each claim gets, in the claims' order. Pools are independent:
    /// nothing in one pool changes what another pool's claims get.
    pub fn allocate(&mut self, capacity: Capacity, claims: &[Claim]) -> Vec<u32> {
        let mut out = vec![0; claims.len()];
        for pool in [Pool::Voice, Pool::Sms] {
            let members: Vec<usize> = (0..claims.len())
                .filter(|&i| claims[i].pool == pool)
                .collect();
            let shares = self.allocate_pool(
                capacity.of(pool),
                &members.iter().map(|&i| claims[i]).collect::<Vec<_>>(),
            );
            for (index, share) in members.into_iter().zip(shares) {
                out[index] = share;
            }
        }
        // Campaigns that left (paused, ended) take no credit with them.
        self.credit
            .retain(|campaign, _| claims.iter().any(|claim| claim.campaign == *campaign));
        out
    }

    fn allocate_pool(&mut self, capacity: u32, claims: &[Claim]) -> Vec<u32> {
        let ideal = water_fill(capacity, claims);
        let mut given: Vec<u32> = ideal.iter().map(|share| share.floor() as u32).collect();
        let mut spare = capacity.saturating_sub(given.iter().sum());
        // The units left by rounding down go to whoever is owed most.
        let mut owed: Vec<(f64, i64, usize)> = (0..claims.len())
            .filter(|&i| given[i] < claims[i].want())
            .map(|i| {
                let credit = self.credit.get(&claims[i].campaign).copied().unwrap_or(0.0);
                (
                    ideal[i] - f64::from(given[i]) + credit,
                    claims[i].campaign,
                    i,
                )
            })
            .collect();
        owed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, _, i) in &owed {
            if spare == 0 {
                break;
            }
            if ideal[i] > f64::from(given[i]) {
                given[i] += 1;
                spare -= 1;
            }
        }
        for (i, claim) in claims.iter().enumerate() {
            let credit = self.credit.entry(claim.campaign).or_insert(0.0);
            if given[i] >= claim.want() {
                // Satisfied: nothing is owed to a campaign that got all it could use.
                *credit = 0.0;
            } else {
                *credit = (*credit + ideal[i] - f64::from(given[i])).clamp(-1.0, 1.0);
            }
        }
        given
    }
}

/// The exact (fractional) max-min fair shares: campaigns that want less than their
/// weighted share get what they want, and the rest is split again among the others.
pub fn water_fill(capacity: u32, claims: &[Claim]) -> Vec<f64> {
    let mut share = vec![0.0; claims.len()];
    let mut open: Vec<usize> = (0..claims.len())
        .filter(|&i| claims[i].want() > 0)
        .collect();
    let mut remaining = f64::from(capacity);
    while !open.is_empty() && remaining > 0.0 {
        let total: f64 = open.iter().map(|&i| weight(&claims[i])).sum();
        let level = remaining / total;
        let (full, rest): (Vec<usize>, Vec<usize>) = open
            .iter()
            .partition(|&&i| f64::from(claims[i].want()) <= level * weight(&claims[i]));
        if full.is_empty() {
            for &i in &rest {
                share[i] = level * weight(&claims[i]);
            }
            break;
        }
        for &i in &full {
            share[i] = f64::from(claims[i].want());
            remaining -= share[i];
        }
        open = rest;
    }
    share
}

fn weight(claim: &Claim) -> f64 {
    f64::from(claim.weight.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn claim(campaign: i64, pool: Pool, weight: u32, limit: u32, demand: u32) -> Claim {
        Claim {
            campaign,
            pool,
            weight,
            limit,
            demand,
        }
    }

    #[test]
    fn a_huge_list_takes_only_its_share() {
        let mut fair = FairShare::new();
        let claims = [
            claim(1, Pool::Voice, 30, 30, 1_000_000),
            claim(2, Pool::Voice, 30, 30, 50),
        ];
        assert_eq!(
            fair.allocate(Capacity { voice: 40, sms: 0 }, &claims),
            vec![20, 20]
        );
    }

    #[test]
    fn what_one_cannot_use_goes_to_the_others() {
        let mut fair = FairShare::new();
        let claims = [
            claim(1, Pool::Voice, 10, 10, 3),
            claim(2, Pool::Voice, 10, 30, 100),
        ];
        assert_eq!(
            fair.allocate(Capacity { voice: 20, sms: 0 }, &claims),
            vec![3, 17]
        );
    }

    #[test]
    fn odd_units_rotate_over_rounds() {
        let mut fair = FairShare::new();
        let claims = [
            claim(1, Pool::Voice, 1, 10, 100),
            claim(2, Pool::Voice, 1, 10, 100),
        ];
        let mut totals = [0u32; 2];
        for _ in 0..100 {
            let shares = fair.allocate(Capacity { voice: 1, sms: 0 }, &claims);
            totals[0] += shares[0];
            totals[1] += shares[1];
        }
        assert_eq!(totals, [50, 50]);
    }

    fn claims_strategy() -> impl Strategy<Value = Vec<Claim>> {
        proptest::collection::vec(
            (proptest::bool::ANY, 1u32..50, 0u32..60, 0u32..2_000_000),
            0..12,
        )
        .prop_map(|specs| {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (sms, weight, limit, demand))| {
                    let pool = if sms { Pool::Sms } else { Pool::Voice };
                    claim(i as i64 + 1, pool, weight, limit, demand)
                })
                .collect()
        })
    }

    proptest! {
        /// Property 9 (concurrent campaign isolation): within its pool no campaign
        /// gets more than it can use, the pool is never over-given, capacity is not
        /// left idle while someone could use it, and a campaign with unmet demand
        /// gets at least its weighted share rounded down — however large another
        /// campaign's list is.
        #[test]
        fn property_9_fair_and_isolated(claims in claims_strategy(), voice in 0u32..200, sms in 0u32..200) {
            let capacity = Capacity { voice, sms };
            let shares = FairShare::new().allocate(capacity, &claims);
            for pool in [Pool::Voice, Pool::Sms] {
                let members: Vec<usize> = (0..claims.len()).filter(|&i| claims[i].pool == pool).collect();
                let given: u32 = members.iter().map(|&i| shares[i]).sum();
                prop_assert!(given <= capacity.of(pool));
                let wants: u32 = members.iter().map(|&i| claims[i].want()).sum();
                prop_assert_eq!(given, wants.min(capacity.of(pool)), "work-conserving");
                let ideal = water_fill(capacity.of(pool), &members.iter().map(|&i| claims[i]).collect::<Vec<_>>());
                for (k, &i) in members.iter().enumerate() {
                    prop_assert!(shares[i] <= claims[i].want());
                    prop_assert!(f64::from(shares[i]) >= ideal[k].floor());
                    prop_assert!(f64::from(shares[i]) <= ideal[k].ceil());
                }
            }
        }

        /// Property 9: pausing a campaign (taking its claim away) never lowers what
        /// any other campaign gets.
        #[test]
        fn property_9_a_pause_never_starves_another(claims in claims_strategy(), voice in 0u32..200, gone in 0usize..12) {
            prop_assume!(gone < claims.len());
            let capacity = Capacity { voice, sms: voice };
            let before = water_fill_pools(capacity, &claims);
            let mut fewer = claims.clone();
            fewer.remove(gone);
            let after = water_fill_pools(capacity, &fewer);
            let mut j = 0;
            for (i, share) in before.iter().enumerate() {
                if i == gone { continue; }
                prop_assert!(after[j] + 1e-9 >= *share);
                j += 1;
            }
        }

        /// Property 27 (campaign type independence): SMS campaigns, however many and
        /// however large, do not change what voice campaigns get, and the reverse.
        #[test]
        fn property_27_sms_and_voice_are_independent(claims in claims_strategy(), voice in 0u32..200, sms in 0u32..200) {
            let capacity = Capacity { voice, sms };
            let all = FairShare::new().allocate(capacity, &claims);
            for pool in [Pool::Voice, Pool::Sms] {
                let only: Vec<Claim> = claims.iter().copied().filter(|c| c.pool == pool).collect();
                let alone = FairShare::new().allocate(capacity, &only);
                let together: Vec<u32> = (0..claims.len()).filter(|&i| claims[i].pool == pool).map(|i| all[i]).collect();
                prop_assert_eq!(alone, together);
            }
        }
    }

    fn water_fill_pools(capacity: Capacity, claims: &[Claim]) -> Vec<f64> {
        let mut out = vec![0.0; claims.len()];
        for pool in [Pool::Voice, Pool::Sms] {
            let members: Vec<usize> = (0..claims.len())
                .filter(|&i| claims[i].pool == pool)
                .collect();
            let shares = water_fill(
                capacity.of(pool),
                &members.iter().map(|&i| claims[i]).collect::<Vec<_>>(),
            );
            for (i, share) in members.into_iter().zip(shares) {
                out[i] = share;
            }
        }
        out
    }
}

//! Campaigns side by side.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CampaignInfo, Report};
use crate::totals::{Rates, Ratio, Totals};

/// One campaign's column: its report's figures, nothing recomputed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub campaign: CampaignInfo,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub totals: Totals,
    pub rates: Rates,
}

/// Which columns lead on each rate (indexes into `columns`; several on a tie,
/// none when no column has the rate). Higher answer and conversion rates lead;
/// the lower opt-out rate leads. Ties are exact: rates compare as fractions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Best {
    pub answer_rate: Vec<usize>,
    pub conversion_rate: Vec<usize>,
    pub opt_out_rate: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// One column per report, in the order given.
    pub columns: Vec<Column>,
    pub best: Best,
}

/// The reports side by side, in the order given.
pub fn compare(reports: &[Report]) -> Comparison {
    let columns = reports
        .iter()
        .map(|report| Column {
            campaign: report.campaign.clone(),
            from: report.from,
            to: report.to,
            totals: report.totals.clone(),
            rates: report.totals.rates(),
        })
        .collect();
    let best = Best {
        answer_rate: leaders(reports, Totals::answer_ratio, Leader::Highest),
        conversion_rate: leaders(reports, Totals::conversion_ratio, Leader::Highest),
        opt_out_rate: leaders(reports, Totals::opt_out_ratio, Leader::Lowest),
    };
    Comparison { columns, best }
}

enum Leader {
    Highest,
    Lowest,
}

fn leaders(reports: &[Report], ratio: fn(&Totals) -> Option<Ratio>, leader: Leader) -> Vec<usize> {
    let ratios: Vec<Option<Ratio>> = reports.iter().map(|report| ratio(&report.totals)).collect();
    let best = match leader {
        Leader::Highest => ratios.iter().flatten().max(),
        Leader::Lowest => ratios.iter().flatten().min(),
    };
    let Some(best) = best else { return Vec::new() };
    ratios
        .iter()
        .enumerate()
        .filter(|(_, ratio)| ratio.as_ref().is_some_and(|ratio| ratio == best))
        .map(|(index, _)| index)
        .collect()
}

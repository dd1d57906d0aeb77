// The figures the dashboard and the campaign page show, taken from the box's live
// snapshot as it computed them (answer, conversion and opt-out rates, a
// campaign's effective pace): the pages label them and lay them out, they do not
// compute them again. Every rate is in calls per second, as the settings are.
import type { CampaignLive, LiveSnapshot } from '../api/types';

export interface OutcomeShare {
  key: string;
  count: number;
  /** Of `total`: every call, in progress and blocked included. */
  share: number;
}

/**
 * Calls by outcome (`in_call` for calls up) as shares of them all, in the order of
 * `keys`, those with none left out. `total` is what each share is of, for the
 * caption that says so.
 */
export function outcomeShares(counts: Record<string, number | undefined>, keys: readonly string[]): { rows: OutcomeShare[]; total: number } {
  const total = keys.reduce((sum, key) => sum + (counts[key] ?? 0), 0);
  const rows = keys
    .map((key) => ({ key, count: counts[key] ?? 0, share: total > 0 ? (counts[key] ?? 0) / total : 0 }))
    .filter((row) => row.count > 0);
  return { rows, total };
}

/** A campaign's or the box's calls by outcome, calls up now as `in_call`. */
export function outcomeCounts(figures: Pick<LiveSnapshot['totals'], 'by_outcome' | 'in_call'>): Record<string, number> {
  return { ...figures.by_outcome, in_call: figures.in_call };
}

/** The box's dialing rate: calls started over the last minute, per second. */
export function dialingRate(snapshot: Pick<LiveSnapshot, 'calls_last_minute'>): { cps: number; lastMinute: number } {
  return { cps: snapshot.calls_last_minute / 60, lastMinute: snapshot.calls_last_minute };
}

export type PaceLimit = 'stopped' | 'box' | 'answers' | null;

/**
 * A campaign's pace as shown: what it may start now (the box's figure, within
 * the box's pace), what it is set to, and what holds it below that.
 */
export function campaignPace(
  campaign: Pick<CampaignLive, 'running' | 'pace_cps' | 'ceiling_cps' | 'effective_cps'>,
  boxPaceCps: number,
): { now: number; set: number; limit: PaceLimit } {
  const limit: PaceLimit = !campaign.running
    ? 'stopped'
    : boxPaceCps + 1e-9 < campaign.pace_cps
      ? 'box'
      : campaign.pace_cps + 1e-9 < campaign.ceiling_cps
        ? 'answers'
        : null;
  return { now: campaign.effective_cps, set: campaign.ceiling_cps, limit };
}

/**
 * Calls the dialer has taken up that have not dialed yet: they wait for their turn
 * at the pace's gate (the dialer counts a call from then, the call records from
 * when it dials). What "active calls" holds beyond the calls up.
 */
export function waitingToDial(snapshot: Pick<LiveSnapshot, 'active_calls' | 'totals'>): number {
  return Math.max(0, snapshot.active_calls - snapshot.totals.in_call);
}

// The live figures: one WebSocket to /api/v1/live for the whole app, reconnected
// with backoff. The box pushes a LiveSnapshot at once and on every change (at least
// every 5 s). The last hour of samples is kept in the browser (sessionStorage), so
// the dashboard's live chart survives moving between pages.
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { LiveSnapshot } from '../api/types';
import { dialingRate } from '../lib/figures';

export type LiveStatus = 'connecting' | 'open' | 'closed';

export interface LiveSample {
  /** Milliseconds since the epoch. */
  t: number;
  active: number;
  rate: number;
  queue: number;
  calls: number;
  answered: number;
}

export interface LiveState {
  snapshot: LiveSnapshot | null;
  status: LiveStatus;
  samples: LiveSample[];
  /** When the last snapshot arrived (browser clock). */
  receivedAt: number | null;
}

const HOUR_MS = 60 * 60 * 1000;
const SAMPLE_EVERY_MS = 5000;
const STORAGE_KEY = 'shofar.live.samples';

export const LiveContext = createContext<LiveState>({ snapshot: null, status: 'closed', samples: [], receivedAt: null });

export function liveUrl(location: Location = window.location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/v1/live`;
}

/** Adds a sample unless the last is younger than the sampling interval; drops what is older than an hour. */
export function addSample(samples: LiveSample[], sample: LiveSample, every = SAMPLE_EVERY_MS): LiveSample[] {
  const last = samples[samples.length - 1];
  let next = samples;
  if (last && sample.t - last.t < every) {
    // Keep the freshest figures in the current slot.
    next = [...samples.slice(0, -1), { ...sample, t: last.t }];
  } else {
    next = [...samples, sample];
  }
  const cutoff = sample.t - HOUR_MS;
  const firstKept = next.findIndex((s) => s.t >= cutoff);
  return firstKept > 0 ? next.slice(firstKept) : next;
}

export function sampleOf(snapshot: LiveSnapshot, now: number): LiveSample {
  return {
    t: now,
    active: snapshot.active_calls,
    // The dialing rate as the dashboard's card shows it (calls per second over the last minute).
    rate: dialingRate(snapshot).cps,
    queue: snapshot.queue_depth,
    calls: snapshot.totals.calls,
    answered: snapshot.totals.answered,
  };
}

function loadSamples(): LiveSample[] {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    const parsed = raw ? (JSON.parse(raw) as LiveSample[]) : [];
    const cutoff = Date.now() - HOUR_MS;
    return Array.isArray(parsed) ? parsed.filter((s) => s.t >= cutoff) : [];
  } catch {
    return [];
  }
}

export function LiveProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const [state, setState] = useState<LiveState>(() => ({
    snapshot: null,
    status: 'closed',
    samples: loadSamples(),
    receivedAt: null,
  }));
  const retry = useRef(0);

  useEffect(() => {
    if (!enabled || typeof WebSocket === 'undefined') return;
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const connect = () => {
      setState((s) => ({ ...s, status: 'connecting' }));
      socket = new WebSocket(liveUrl());
      socket.onopen = () => {
        retry.current = 0;
        setState((s) => ({ ...s, status: 'open' }));
      };
      socket.onmessage = (event) => {
        let snapshot: LiveSnapshot;
        try {
          snapshot = JSON.parse(String(event.data)) as LiveSnapshot;
        } catch {
          return;
        }
        const now = Date.now();
        setState((s) => {
          const samples = addSample(s.samples, sampleOf(snapshot, now));
          try {
            sessionStorage.setItem(STORAGE_KEY, JSON.stringify(samples));
          } catch {
            // Only a cache of the chart.
          }
          return { ...s, snapshot, samples, receivedAt: now, status: 'open' };
        });
      };
      socket.onclose = () => {
        if (stopped) return;
        setState((s) => ({ ...s, status: 'closed' }));
        const delay = Math.min(10000, 500 * 2 ** retry.current);
        retry.current += 1;
        timer = setTimeout(connect, delay);
      };
      socket.onerror = () => socket?.close();
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    };
  }, [enabled]);

  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveState {
  return useContext(LiveContext);
}

// Rendering a page as the app does (language, session, toasts, router, queries),
// against a fake box: `fetch` answers from a table of routes.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { vi } from 'vitest';
import { SessionProvider } from '../src/auth/session';
import { ToastProvider } from '../src/components/Toast';
import { I18nProvider, type Lang } from '../src/i18n';
import { LiveContext, type LiveState } from '../src/live/live';
import type { LiveSnapshot, Role } from '../src/api/types';

export type Handler = (request: { method: string; url: URL; body: unknown }) => { status?: number; body?: unknown } | undefined;

export interface FakeBox {
  calls: { method: string; path: string; body: unknown; headers: Headers }[];
}

export function session(role: Role, name = 'dana') {
  return {
    user: { id: 1, name, role, locale: 'he', created_at: '2026-11-01T08:00:00Z', disabled: false },
    role,
    csrf_token: 'csrf-123',
    expires_at: '2026-12-31T00:00:00Z',
  };
}

/** Replaces fetch with a fake box: `routes` maps "METHOD /path" to an answer. */
export function fakeBox(routes: Record<string, unknown | Handler>): FakeBox {
  const box: FakeBox = { calls: [] };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(new URL(String(input), 'http://localhost:3000'), init);
      const url = new URL(request.url);
      const method = request.method.toUpperCase();
      let body: unknown = undefined;
      const text = await request.clone().text();
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      box.calls.push({ method, path: url.pathname + url.search, body, headers: request.headers });
      const route = routes[`${method} ${url.pathname}`];
      let answer: { status?: number; body?: unknown } | undefined;
      if (typeof route === 'function') answer = (route as Handler)({ method, url, body });
      else if (route !== undefined) answer = { body: route };
      if (!answer) answer = { status: 404, body: { error: { code: 'route_not_found', message: `${method} ${url.pathname}`, type: 'invalid_request' } } };
      const status = answer.status ?? 200;
      return new Response(status === 204 ? null : JSON.stringify(answer.body ?? {}), { status, headers: { 'Content-Type': 'application/json' } });
    }),
  );
  return box;
}

export const emptyFigures = {
  calls: 0,
  in_call: 0,
  by_outcome: {},
  dialed: 0,
  answered: 0,
  converted: 0,
  opted_out: 0,
  answer_rate: null,
  conversion_rate: null,
  opt_out_rate: null,
};

export function snapshot(partial: Partial<LiveSnapshot> = {}): LiveSnapshot {
  return {
    seq: 1,
    at: '2026-12-02T10:00:00Z',
    backend: 'simulator',
    telephony_up: true,
    active_calls: 0,
    queue_depth: 0,
    dialing_rate: 0,
    calls_last_minute: 0,
    pace_cps: 10,
    ceiling_cps: 10,
    max_channels: 30,
    health: { cpu_percent: 12, memory_percent: 30, load_per_core: 0.2, asterisk_channels: 0 },
    alerts: [],
    campaigns: [],
    totals: emptyFigures,
    jobs: [],
    ...partial,
  } as LiveSnapshot;
}

export function renderPage(
  element: ReactNode,
  { path = '/', route = '*', lang = 'he', live }: { path?: string; route?: string; lang?: Lang; live?: Partial<LiveState> } = {},
) {
  localStorage.setItem('shofar.lang', lang);
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const liveState: LiveState = { snapshot: null, status: 'open', samples: [], receivedAt: null, ...live };
  return render(
    <QueryClientProvider client={client}>
      <I18nProvider lang={lang}>
        <ToastProvider>
          <SessionProvider>
            <LiveContext.Provider value={liveState}>
              <MemoryRouter initialEntries={[path]}>
                <Routes>
                  <Route path={route} element={element} />
                  <Route path="*" element={<div data-testid="elsewhere" />} />
                </Routes>
              </MemoryRouter>
            </LiveContext.Provider>
          </SessionProvider>
        </ToastProvider>
      </I18nProvider>
    </QueryClientProvider>,
  );
}

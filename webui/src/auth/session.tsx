// Who is logged in, with what role. The session lives in an HttpOnly cookie the
// box sets; the page only keeps the CSRF token it must echo on every change.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, ok, setCsrfToken, UNAUTHENTICATED_EVENT } from '../api/client';
import type { Role, Session } from '../api/types';
import { hasStoredLang, useI18n, type Lang } from '../i18n';

export type SessionState =
  | { status: 'loading' }
  | { status: 'anonymous'; expired?: boolean }
  | { status: 'authenticated'; session: Session };

const RANK: Record<Role, number> = { analyst: 1, manager: 2, admin: 3 };

/** Whether `role` may do what `least` may (docs/api.md, "Roles"). */
export function roleAtLeast(role: Role | undefined, least: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[least];
}

interface SessionApi {
  state: SessionState;
  session: Session | null;
  role: Role | undefined;
  can: (least: Role) => boolean;
  login: (name: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  refresh: () => Promise<void>;
  savePreferredLang: (lang: Lang) => Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const { lang, setLang } = useI18n();

  const adopt = useCallback((session: Session) => {
    setCsrfToken(session.csrf_token);
    setState({ status: 'authenticated', session });
  }, []);

  const refresh = useCallback(async () => {
    try {
      const session = await ok(api.GET('/api/v1/session'));
      adopt(session);
      if (!hasStoredLang() && (session.user.locale === 'he' || session.user.locale === 'en')) setLang(session.user.locale);
    } catch (error) {
      setCsrfToken(null);
      if (error instanceof ApiError && error.code === 'network') {
        // Keep trying: the box may be restarting.
        setState({ status: 'anonymous' });
        return;
      }
      setState({ status: 'anonymous' });
    }
  }, [adopt, setLang]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(() => {
    const ended = () => {
      setCsrfToken(null);
      setState({ status: 'anonymous', expired: true });
    };
    window.addEventListener(UNAUTHENTICATED_EVENT, ended);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, ended);
  }, []);

  const savePreferredLang = useCallback(
    async (next: Lang) => {
      setLang(next);
      if (state.status === 'authenticated') {
        await ok(api.PATCH('/api/v1/session', { body: { locale: next } }));
      }
    },
    [setLang, state.status],
  );

  const login = useCallback(
    async (name: string, password: string) => {
      const session = await ok(api.POST('/api/v1/session', { body: { name, password } }));
      adopt(session);
      const userLang = session.user.locale === 'en' ? 'en' : 'he';
      if (!hasStoredLang()) {
        setLang(userLang);
      } else if (userLang !== lang) {
        // The language chosen on this page wins, and follows the user from now on.
        try {
          await ok(api.PATCH('/api/v1/session', { body: { locale: lang } }));
        } catch {
          // Only a preference: the page is already in the chosen language.
        }
      }
    },
    [adopt, lang, setLang],
  );

  const logout = useCallback(async () => {
    try {
      await ok(api.DELETE('/api/v1/session'));
    } finally {
      setCsrfToken(null);
      setState({ status: 'anonymous' });
    }
  }, []);

  const value = useMemo<SessionApi>(() => {
    const session = state.status === 'authenticated' ? state.session : null;
    const role = session?.role;
    return {
      state,
      session,
      role,
      can: (least) => roleAtLeast(role, least),
      login,
      logout,
      refresh,
      savePreferredLang,
    };
  }, [state, login, logout, refresh, savePreferredLang]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** Renders its children only for a role at least `least`: what a role may not do is not offered. */
export function IfRole({ least, children }: { least: Role; children: ReactNode }) {
  const { can } = useSession();
  return can(least) ? <>{children}</> : null;
}

// The frame around every page once logged in: the navigation (only what the role
// may use), the live connection's state, the language switch and the user's menu.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { NavLink, useLocation, useNavigate } from 'react-router';
import { useSession } from '../auth/session';
import { useI18n, type MessageKey } from '../i18n';
import { useLive } from '../live/live';
import type { Role } from '../api/types';
import { useToast } from './Toast';
import {
  IconAudio,
  IconBlock,
  IconCalls,
  IconCampaign,
  IconDashboard,
  IconFlow,
  IconLogout,
  IconMenu,
  IconReport,
  IconSettings,
  IconUser,
  IconUsers,
} from './Icons';

const NAV: { to: string; label: MessageKey; icon: ReactNode; least: Role; end?: boolean }[] = [
  { to: '/', label: 'nav.dashboard', icon: <IconDashboard />, least: 'analyst', end: true },
  { to: '/campaigns', label: 'nav.campaigns', icon: <IconCampaign />, least: 'analyst' },
  { to: '/calls', label: 'nav.calls', icon: <IconCalls />, least: 'analyst' },
  { to: '/flows', label: 'nav.flows', icon: <IconFlow />, least: 'manager' },
  { to: '/audio', label: 'nav.audio', icon: <IconAudio />, least: 'manager' },
  { to: '/blacklist', label: 'nav.blacklist', icon: <IconBlock />, least: 'manager' },
  { to: '/reports', label: 'nav.reports', icon: <IconReport />, least: 'analyst' },
  { to: '/users', label: 'nav.users', icon: <IconUsers />, least: 'admin' },
  { to: '/settings', label: 'nav.settings', icon: <IconSettings />, least: 'analyst' },
];

export function LanguageSwitch() {
  const { lang, t } = useI18n();
  const { savePreferredLang } = useSession();
  const toast = useToast();
  const other = lang === 'he' ? 'en' : 'he';
  return (
    <button
      type="button"
      className="btn btn-ghost lang-switch"
      lang={other}
      onClick={() => savePreferredLang(other).catch((error) => toast.error(error))}
      title={t('lang.switchTo')}
    >
      {t('lang.other')}
    </button>
  );
}

function LiveIndicator() {
  const { status } = useLive();
  const { t } = useI18n();
  const label = status === 'open' ? t('live.connected') : status === 'connecting' ? t('live.connecting') : t('live.disconnected');
  return (
    <span className={`live-indicator live-${status}`} role="status" title={label}>
      <span className="live-dot" aria-hidden="true" />
      {label}
    </span>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { session, can, logout } = useSession();
  const navigate = useNavigate();
  const toast = useToast();
  const [menuOpen, setMenuOpen] = useState(false);
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    // A new page: focus moves to it (not on the first load, where the browser starts at the top).
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [pathname]);
  return (
    <div className={menuOpen ? 'shell nav-open' : 'shell'}>
      <a href="#main" className="skip-link">
        {t('nav.skip')}
      </a>
      <header className="topbar">
        <button type="button" className="icon-button nav-toggle" aria-expanded={menuOpen} aria-controls="main-nav" aria-label={t('nav.menu')} onClick={() => setMenuOpen(!menuOpen)}>
          <IconMenu />
        </button>
        <div className="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>{t('app.name')}</span>
          <span className="brand-sub">{t('app.tagline')}</span>
        </div>
        <div className="topbar-end">
          <LiveIndicator />
          <LanguageSwitch />
          <NavLink to="/account" className="btn btn-ghost" title={t('nav.account')}>
            <IconUser />
            <span className="topbar-label">
              <bdi>{session?.user.name}</bdi> · {t(`role.${session?.role ?? 'analyst'}` as MessageKey)}
            </span>
          </NavLink>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={async () => {
              try {
                await logout();
                navigate('/login');
                toast.success(t('auth.loggedOut'));
              } catch (error) {
                toast.error(error);
              }
            }}
          >
            <IconLogout />
            <span className="topbar-label">{t('auth.logout')}</span>
          </button>
        </div>
      </header>
      <nav id="main-nav" className="sidebar" aria-label={t('nav.main')}>
        <ul>
          {NAV.filter((item) => can(item.least)).map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} end={item.end} onClick={() => setMenuOpen(false)}>
                {item.icon}
                <span>{t(item.label)}</span>
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

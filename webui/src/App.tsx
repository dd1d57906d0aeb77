import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { ApiError } from './api/client';
import type { Role } from './api/types';
import { SessionProvider, useSession } from './auth/session';
import { Layout } from './components/Layout';
import { ToastProvider } from './components/Toast';
import { EmptyState, Loading } from './components/ui';
import { I18nProvider, useI18n } from './i18n';
import { LiveProvider } from './live/live';
import { AccountPage } from './pages/Account';
import { AudioPage } from './pages/Audio';
import { BlacklistPage } from './pages/Blacklist';
import { CallsPage } from './pages/Calls';
import { CampaignDetailPage } from './pages/CampaignDetail';
import { CampaignsPage } from './pages/Campaigns';
import { CampaignWizardPage } from './pages/CampaignWizard';
import { DashboardPage } from './pages/Dashboard';
import { FlowBuilderPage } from './pages/FlowBuilder';
import { FlowsPage } from './pages/Flows';
import { LoginPage } from './pages/Login';
import { ReportsPage } from './pages/Reports';
import { SettingsPage } from './pages/Settings';
import { SetupPage } from './pages/Setup';
import { UsersPage } from './pages/Users';
import { IconBlock } from './components/Icons';

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, error) => {
          if (error instanceof ApiError && [401, 403, 404, 422].includes(error.status)) return false;
          return count < 2;
        },
        staleTime: 2000,
      },
    },
  });
}

function RequireRole({ least, children }: { least: Role; children: ReactNode }) {
  const { can } = useSession();
  const { t } = useI18n();
  if (!can(least)) {
    return (
      <EmptyState icon={<IconBlock size={32} />} title={t('auth.notAllowedTitle')}>
        {t('auth.notAllowed')}
      </EmptyState>
    );
  }
  return <>{children}</>;
}

function NotFound() {
  const { t } = useI18n();
  return <EmptyState title={t('notFound.title')}>{t('notFound.body')}</EmptyState>;
}

function Authenticated() {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'anonymous') {
    const next = location.pathname + location.search;
    return <Navigate to={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} replace />;
  }
  return (
    <LiveProvider enabled>
      <Layout>
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/campaigns" element={<CampaignsPage />} />
          <Route
            path="/campaigns/new"
            element={
              <RequireRole least="manager">
                <CampaignWizardPage />
              </RequireRole>
            }
          />
          <Route
            path="/campaigns/:id/setup"
            element={
              <RequireRole least="manager">
                <CampaignWizardPage />
              </RequireRole>
            }
          />
          <Route path="/campaigns/:id" element={<CampaignDetailPage />} />
          <Route path="/calls" element={<CallsPage />} />
          <Route
            path="/flows"
            element={
              <RequireRole least="manager">
                <FlowsPage />
              </RequireRole>
            }
          />
          <Route
            path="/flows/:id"
            element={
              <RequireRole least="manager">
                <FlowBuilderPage />
              </RequireRole>
            }
          />
          <Route
            path="/audio"
            element={
              <RequireRole least="manager">
                <AudioPage />
              </RequireRole>
            }
          />
          <Route
            path="/blacklist"
            element={
              <RequireRole least="manager">
                <BlacklistPage />
              </RequireRole>
            }
          />
          <Route path="/reports" element={<ReportsPage />} />
          <Route
            path="/users"
            element={
              <RequireRole least="admin">
                <UsersPage />
              </RequireRole>
            }
          />
          <Route path="/settings" element={<SettingsPage />} />
          <Route path="/account" element={<AccountPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Layout>
    </LiveProvider>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/setup" element={<SetupPage />} />
      <Route path="/login" element={<LoginPage />} />
      <Route path="*" element={<Authenticated />} />
    </Routes>
  );
}

export function App({ queryClient = makeQueryClient() }: { queryClient?: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <ToastProvider>
          <SessionProvider>
            <BrowserRouter>
              <AppRoutes />
            </BrowserRouter>
          </SessionProvider>
        </ToastProvider>
      </I18nProvider>
    </QueryClientProvider>
  );
}

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError, ok } from '../api/client';
import { useSession } from '../auth/session';
import { LanguageSwitch } from '../components/Layout';
import { Button, ErrorBox, Notice, TextField } from '../components/ui';
import { useI18n } from '../i18n';

/** Where to go after logging in: only a path inside the app. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) return '/';
  return next;
}

export function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="auth-page">
      <main className="auth-card" id="main">
        <div className="auth-head">
          <div className="brand">
            <img src="/favicon.svg" alt="" width={36} height={36} />
            <span>{t('app.name')}</span>
          </div>
          <LanguageSwitch />
        </div>
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}

export function LoginPage() {
  const { t } = useI18n();
  const { state, login } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const setup = useQuery({ queryKey: ['setup'], queryFn: () => ok(api.GET('/api/v1/setup')), retry: false });

  if (state.status === 'authenticated' && !busy) return <Navigate to={safeNext(params.get('next'))} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      queryClient.clear();
      await login(name.trim(), password);
      navigate(safeNext(params.get('next')), { replace: true });
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };

  const throttled = error instanceof ApiError && error.code === 'too_many_attempts';
  return (
    <AuthFrame title={t('auth.loginTitle')}>
      {state.status === 'anonymous' && state.expired && <Notice kind="warning">{t('auth.sessionEnded')}</Notice>}
      {setup.data?.needed && <Notice kind="info">{t('auth.setupNeeded')}</Notice>}
      <form onSubmit={submit} className="form">
        <TextField label={t('auth.name')} autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required ltr autoFocus />
        <TextField label={t('auth.password')} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required ltr />
        {error instanceof ApiError && error.code === 'invalid_credentials' ? (
          <Notice kind="error">{t('error.invalid_credentials')}</Notice>
        ) : throttled ? (
          <Notice kind="error">{t('auth.throttled', { seconds: (error as ApiError).retryAfter ?? 60 })}</Notice>
        ) : (
          <ErrorBox error={error} />
        )}
        <Button type="submit" variant="primary" busy={busy} className="btn-block">
          {t('auth.login')}
        </Button>
      </form>
      <p className="hint">{t('auth.forgot')}</p>
    </AuthFrame>
  );
}

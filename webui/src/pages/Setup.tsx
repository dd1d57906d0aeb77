import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError, ok } from '../api/client';
import { useSession } from '../auth/session';
import { Button, ErrorBox, Loading, Notice, TextField } from '../components/ui';
import { useToast } from '../components/Toast';
import { useI18n } from '../i18n';
import { AuthFrame } from './Login';

export const MIN_PASSWORD = 10;

/** The first admin, created with the one-time link `shofar serve` printed. */
export function SetupPage() {
  const { t, lang } = useI18n();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const toast = useToast();
  const { login } = useSession();
  const [token, setToken] = useState(params.get('token') ?? '');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const setup = useQuery({ queryKey: ['setup'], queryFn: () => ok(api.GET('/api/v1/setup')), retry: false });

  if (setup.isLoading) return <Loading />;
  if (setup.data && !setup.data.needed) {
    return (
      <AuthFrame title={t('setup.title')}>
        <Notice kind="info">{t('setup.done')}</Notice>
        <Link to="/login" className="btn btn-primary btn-block">
          {t('auth.login')}
        </Link>
      </AuthFrame>
    );
  }
  const short = password.length > 0 && password.length < MIN_PASSWORD;
  const mismatch = repeat.length > 0 && repeat !== password;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (short || mismatch || !password) return;
    setBusy(true);
    setError(null);
    try {
      await ok(api.POST('/api/v1/setup', { body: { token: token.trim(), name: name.trim(), password, locale: lang } }));
      await login(name.trim(), password);
      toast.success(t('setup.created'));
      navigate('/', { replace: true });
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  const tokenProblem = error instanceof ApiError && error.code === 'setup_token_invalid';
  return (
    <AuthFrame title={t('setup.title')}>
      <p>{t('setup.intro')}</p>
      <form onSubmit={submit} className="form">
        {!params.get('token') || tokenProblem ? (
          <TextField label={t('setup.token')} hint={t('setup.tokenHint')} value={token} onChange={(e) => setToken(e.target.value)} required ltr error={tokenProblem ? t('error.setup_token_invalid') : null} />
        ) : null}
        <TextField label={t('auth.name')} hint={t('users.nameHint')} autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required ltr error={error instanceof ApiError ? error.field('name') : null} />
        <TextField
          label={t('auth.newPassword')}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          ltr
          hint={t('auth.passwordRule', { count: MIN_PASSWORD })}
          error={short ? t('auth.passwordShort', { count: MIN_PASSWORD }) : error instanceof ApiError ? error.field('password') : null}
        />
        <TextField label={t('auth.repeatPassword')} type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required ltr error={mismatch ? t('auth.passwordMismatch') : null} />
        {!tokenProblem && <ErrorBox error={error} />}
        <Button type="submit" variant="primary" busy={busy} className="btn-block">
          {t('setup.create')}
        </Button>
      </form>
    </AuthFrame>
  );
}

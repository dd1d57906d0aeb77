import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, ok } from '../api/client';
import type { Role, Token } from '../api/types';
import { roleAtLeast, useSession } from '../auth/session';
import { ConfirmDialog } from '../components/Dialog';
import { useToast } from '../components/Toast';
import { Badge, Button, Card, EmptyState, ErrorBox, Loading, Notice, PageHeader, SelectField, TextField, When } from '../components/ui';
import { useI18n, type MessageKey } from '../i18n';
import { MIN_PASSWORD } from './Setup';

function PasswordCard() {
  const { t } = useI18n();
  const toast = useToast();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const short = next.length > 0 && next.length < MIN_PASSWORD;
  const mismatch = repeat.length > 0 && repeat !== next;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (short || mismatch || !next) return;
    setBusy(true);
    setError(null);
    try {
      await ok(api.PUT('/api/v1/session/password', { body: { current_password: current, new_password: next } }));
      toast.success(t('account.passwordChanged'));
      setCurrent('');
      setNext('');
      setRepeat('');
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  const wrongCurrent = error instanceof ApiError && (error.code === 'invalid_credentials' || Boolean(error.field('current_password')));
  return (
    <Card title={t('account.password')}>
      <form onSubmit={submit} className="form">
        <TextField label={t('account.currentPassword')} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required ltr error={wrongCurrent ? t('account.wrongCurrent') : null} />
        <TextField label={t('auth.newPassword')} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required ltr hint={t('auth.passwordRule', { count: MIN_PASSWORD })} error={short ? t('auth.passwordShort', { count: MIN_PASSWORD }) : error instanceof ApiError ? error.field('new_password') : null} />
        <TextField label={t('auth.repeatPassword')} type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required ltr error={mismatch ? t('auth.passwordMismatch') : null} />
        {!wrongCurrent && <ErrorBox error={error} />}
        <p className="hint">{t('account.otherSessionsEnd')}</p>
        <Button type="submit" variant="primary" busy={busy}>
          {t('account.changePassword')}
        </Button>
      </form>
    </Card>
  );
}

function LanguageCard() {
  const { t, lang } = useI18n();
  const { savePreferredLang } = useSession();
  const toast = useToast();
  return (
    <Card title={t('account.language')}>
      <SelectField
        label={t('account.languageLabel')}
        hint={t('account.languageHint')}
        value={lang}
        onChange={async (e) => {
          try {
            await savePreferredLang(e.target.value as 'he' | 'en');
            toast.success(t('account.languageSaved'));
          } catch (error) {
            toast.error(error);
          }
        }}
        options={[
          { value: 'he', label: t('lang.he') },
          { value: 'en', label: t('lang.en') },
        ]}
      />
    </Card>
  );
}

function TokensCard() {
  const { t } = useI18n();
  const { role } = useSession();
  const toast = useToast();
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => ok(api.GET('/api/v1/tokens')) });
  const [name, setName] = useState('');
  const [tokenRole, setTokenRole] = useState<Role>('analyst');
  const [days, setDays] = useState('365');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const roles = (['analyst', 'manager', 'admin'] as Role[]).filter((r) => role && roleAtLeast(role, r));
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await ok(api.POST('/api/v1/tokens', { body: { name: name.trim(), role: tokenRole, expires_in_days: days ? Number(days) : null } }));
      setSecret(created.secret);
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['tokens'] });
      toast.success(t('account.tokenCreated'));
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('account.tokens')}>
      <p className="hint">{t('account.tokensHint')}</p>
      {secret && (
        <Notice kind="success">
          {t('account.tokenOnce')}
          <div className="secret">
            <code dir="ltr">{secret}</code>
            <Button
              onClick={() => {
                void navigator.clipboard?.writeText(secret).then(() => toast.success(t('common.copied')));
              }}
            >
              {t('common.copy')}
            </Button>
          </div>
        </Notice>
      )}
      <form onSubmit={create} className="form-row">
        <TextField label={t('account.tokenName')} value={name} onChange={(e) => setName(e.target.value)} required placeholder={t('account.tokenNamePlaceholder')} />
        <SelectField label={t('users.role')} value={tokenRole} onChange={(e) => setTokenRole(e.target.value as Role)} options={roles.map((r) => ({ value: r, label: t(`role.${r}` as MessageKey) }))} />
        <TextField label={t('account.tokenDays')} type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} ltr />
        <div className="field">
          <span className="field-spacer" />
          <Button type="submit" variant="primary" busy={busy}>
            {t('account.createToken')}
          </Button>
        </div>
      </form>
      <ErrorBox error={error} />
      {tokens.isLoading ? (
        <Loading />
      ) : !tokens.data?.length ? (
        <EmptyState title={t('account.noTokens')} />
      ) : (
        <div className="table-wrap">
          <table className="table table-compact">
            <caption className="sr-only">{t('account.tokens')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('account.tokenName')}</th>
                <th scope="col">{t('account.prefix')}</th>
                <th scope="col">{t('users.role')}</th>
                <th scope="col">{t('account.lastUsed')}</th>
                <th scope="col">{t('account.expires')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((token) => (
                <tr key={token.id}>
                  <th scope="row"><bdi>{token.name}</bdi></th>
                  <td><code dir="ltr">{token.prefix}…</code></td>
                  <td>{t(`role.${token.role}` as MessageKey)}</td>
                  <td><When value={token.last_used_at} /></td>
                  <td><When value={token.expires_at} /></td>
                  <td>
                    {token.revoked_at ? (
                      <Badge kind="cancelled">{t('account.revoked')}</Badge>
                    ) : (
                      <Button variant="ghost" onClick={() => setRevoking(token)}>
                        {t('account.revoke')}
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title={t('account.revokeTitle')}
        message={t('account.revokeBody', { name: revoking?.name ?? '' })}
        confirmLabel={t('account.revoke')}
        danger
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          await ok(api.DELETE('/api/v1/tokens/{id}', { params: { path: { id: revoking.id } } }));
          await queryClient.invalidateQueries({ queryKey: ['tokens'] });
          toast.success(t('account.revokedToast'));
        }}
      />
    </Card>
  );
}

export function AccountPage() {
  const { t } = useI18n();
  const { session } = useSession();
  return (
    <>
      <PageHeader
        title={t('account.title')}
        subtitle={
          <>
            <bdi>{session?.user.name}</bdi> · {t(`role.${session?.role ?? 'analyst'}` as MessageKey)} · {t('account.since')} <When value={session?.user.created_at} />
          </>
        }
      />
      <div className="grid-2">
        <PasswordCard />
        <LanguageCard />
      </div>
      <TokensCard />
    </>
  );
}

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, ok } from '../api/client';
import type { Role, User } from '../api/types';
import { useSession } from '../auth/session';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { IconKey, IconPlus, IconTrash } from '../components/Icons';
import { useToast } from '../components/Toast';
import { Badge, Button, ErrorBox, Loading, PageHeader, SelectField, TextField, When } from '../components/ui';
import { useI18n, type MessageKey } from '../i18n';
import { MIN_PASSWORD } from './Setup';

const ROLES: Role[] = ['admin', 'manager', 'analyst'];

function AddUserDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t, lang } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('manager');
  const [locale, setLocale] = useState<string>(lang);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < MIN_PASSWORD) return;
    setBusy(true);
    setError(null);
    try {
      await ok(api.POST('/api/v1/users', { body: { name: name.trim(), password, role, locale } }));
      await queryClient.invalidateQueries({ queryKey: ['users'] });
      toast.success(t('users.added', { name: name.trim() }));
      setName('');
      setPassword('');
      onClose();
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  const field = (f: string) => (error instanceof ApiError ? error.field(f) : null);
  return (
    <Dialog open={open} title={t('users.addTitle')} onClose={onClose}>
      <form onSubmit={submit} className="form">
        <TextField data-testid="user-name" label={t('auth.name')} value={name} onChange={(e) => setName(e.target.value)} required ltr hint={t('users.nameHint')} error={field('name') ?? (error instanceof ApiError && error.code === 'already_exists' ? t('users.nameTaken') : null)} autoComplete="off" />
        <TextField
          data-testid="user-password"
          label={t('auth.password')}
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          ltr
          autoComplete="new-password"
          hint={t('users.passwordHint', { count: MIN_PASSWORD })}
          error={password && password.length < MIN_PASSWORD ? t('auth.passwordShort', { count: MIN_PASSWORD }) : field('password')}
        />
        <SelectField data-testid="user-role" label={t('users.role')} value={role} onChange={(e) => setRole(e.target.value as Role)} options={ROLES.map((r) => ({ value: r, label: t(`role.${r}` as MessageKey) }))} hint={t(`role.${role}.hint` as MessageKey)} />
        <SelectField
          label={t('users.language')}
          value={locale}
          onChange={(e) => setLocale(e.target.value)}
          options={[
            { value: 'he', label: t('lang.he') },
            { value: 'en', label: t('lang.en') },
          ]}
        />
        {!(error instanceof ApiError && error.code === 'already_exists') && <ErrorBox error={error} />}
        <div className="dialog-footer">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" busy={busy} data-testid="user-submit">
            {t('users.add')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function ResetPasswordDialog({ user, onClose }: { user: User | null; onClose: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!user) return null;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < MIN_PASSWORD) return;
    setBusy(true);
    setError(null);
    try {
      await ok(api.PUT('/api/v1/users/{id}/password', { params: { path: { id: user.id } }, body: { password } }));
      toast.success(t('users.passwordSet', { name: user.name }));
      setPassword('');
      onClose();
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open title={t('users.resetTitle', { name: user.name })} onClose={onClose}>
      <form onSubmit={submit} className="form">
        <p>{t('users.resetBody')}</p>
        <TextField label={t('auth.newPassword')} type="password" value={password} onChange={(e) => setPassword(e.target.value)} required ltr autoComplete="new-password" error={password && password.length < MIN_PASSWORD ? t('auth.passwordShort', { count: MIN_PASSWORD }) : null} />
        <ErrorBox error={error} />
        <div className="dialog-footer">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {t('users.setPassword')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function UsersPage() {
  const { t } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const { session } = useSession();
  const users = useQuery({ queryKey: ['users'], queryFn: () => ok(api.GET('/api/v1/users')) });
  const [adding, setAdding] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const [removing, setRemoving] = useState<User | null>(null);
  const patch = async (user: User, body: { role?: Role; disabled?: boolean }, message: string) => {
    try {
      await ok(api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body }));
      await queryClient.invalidateQueries({ queryKey: ['users'] });
      toast.success(message);
    } catch (error) {
      toast.error(error);
    }
  };
  return (
    <>
      <PageHeader
        title={t('users.title')}
        subtitle={t('users.subtitle')}
        actions={
          <Button variant="primary" icon={<IconPlus />} onClick={() => setAdding(true)} data-testid="user-add">
            {t('users.add')}
          </Button>
        }
      />
      {users.isLoading ? (
        <Loading />
      ) : users.isError ? (
        <ErrorBox error={users.error} />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">{t('users.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('auth.name')}</th>
                <th scope="col">{t('users.role')}</th>
                <th scope="col">{t('users.language')}</th>
                <th scope="col">{t('users.state')}</th>
                <th scope="col">{t('users.lastLogin')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {users.data?.map((user) => (
                <tr key={user.id}>
                  <th scope="row">
                    <bdi>{user.name}</bdi>
                    {user.id === session?.user.id && <span className="muted small"> ({t('users.you')})</span>}
                  </th>
                  <td>
                    <select aria-label={t('users.roleOf', { name: user.name })} value={user.role} onChange={(e) => patch(user, { role: e.target.value as Role }, t('users.roleChanged', { name: user.name }))}>
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {t(`role.${r}` as MessageKey)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{user.locale === 'en' ? t('lang.en') : t('lang.he')}</td>
                  <td>{user.disabled ? <Badge kind="cancelled">{t('users.disabled')}</Badge> : <Badge kind="active">{t('users.enabled')}</Badge>}</td>
                  <td>
                    <When value={user.last_login_at} />
                  </td>
                  <td className="row-actions">
                    <Button variant="ghost" onClick={() => patch(user, { disabled: !user.disabled }, user.disabled ? t('users.enabledToast', { name: user.name }) : t('users.disabledToast', { name: user.name }))}>
                      {user.disabled ? t('users.enable') : t('users.disable')}
                    </Button>
                    <Button variant="ghost" icon={<IconKey />} onClick={() => setResetting(user)}>
                      {t('users.setPassword')}
                    </Button>
                    {user.id !== session?.user.id && <Button variant="ghost" icon={<IconTrash />} onClick={() => setRemoving(user)} aria-label={t('users.removeNamed', { name: user.name })} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <AddUserDialog open={adding} onClose={() => setAdding(false)} />
      <ResetPasswordDialog user={resetting} onClose={() => setResetting(null)} />
      <ConfirmDialog
        open={removing !== null}
        title={t('users.removeTitle')}
        message={t('users.removeBody', { name: removing?.name ?? '' })}
        confirmLabel={t('common.delete')}
        danger
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await ok(api.DELETE('/api/v1/users/{id}', { params: { path: { id: removing.id } } }));
          await queryClient.invalidateQueries({ queryKey: ['users'] });
          toast.success(t('users.removed', { name: removing.name }));
        }}
      />
    </>
  );
}

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { api, ok, request } from '../api/client';
import type { TelephonyState } from '../api/types';
import { useSession } from '../auth/session';
import { BackupsCard } from '../components/Backups';
import { FleetSyncCard } from '../components/FleetSync';
import { useToast } from '../components/Toast';
import { UpdatesCard } from '../components/Updates';
import { Actor, Technical } from '../components/Words';
import { Badge, Button, Card, EmptyState, ErrorBox, Loading, Notice, Num, PageHeader, SelectField, TextField, When } from '../components/ui';
import { useI18n, type MessageKey } from '../i18n';
import { auditActionWords, auditLines } from '../lib/words';

type Json = Record<string, unknown>;

function lookup(tree: Json | undefined, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Json)[key] : undefined), tree);
}

/** Where an editable key's value in effect is found in the effective configuration. */
const EFFECTIVE_PATH: Record<string, string> = {
  'dialer.max_cps': 'dialer.cps',
  'dialer.max_channels': 'dialer.max_channels',
  'calendar.location': 'calendar.location',
  'ui.language': 'ui.language',
};

/** The pacing controller's reasons the UI words itself; values come as data in `reason_detail`. */
const PACING_REASONS = ['cpu_high', 'memory_high', 'load_high', 'channels_high', 'answer_rate_low', 'recovered', 'ceiling_changed'] as const;

/** Why the pace changed, in the UI's language; the box's English sentence when it gives no known kind (older entries). */
export function PacingReason({ change }: { change: { reason: string; reason_detail?: unknown } }) {
  const { t } = useI18n();
  const detail = (change.reason_detail ?? {}) as Record<string, unknown>;
  const kind = PACING_REASONS.find((known) => known === detail.kind);
  if (!kind) {
    return (
      <bdi lang="en" dir="ltr">
        {change.reason}
      </bdi>
    );
  }
  const vars: Record<string, number> = {};
  for (const [key, value] of Object.entries(detail)) {
    if (typeof value === 'number') vars[key] = kind === 'answer_rate_low' ? value * 100 : value;
  }
  return <span>{t(`pacing.${kind}` as MessageKey, vars)}</span>;
}

function TelephonyCard({ telephony }: { telephony: TelephonyState }) {
  const { t, code } = useI18n();
  const extra = Object.entries(telephony).filter(([key]) => !['engine', 'reachable', 'note'].includes(key));
  return (
    <Card title={t('settings.telephony')}>
      <dl className="facts">
        <div className="fact">
          <dt>{t('settings.engine')}</dt>
          <dd>{code('backend', String(telephony.engine ?? ''))}</dd>
        </div>
        <div className="fact">
          <dt>{t('settings.reachable')}</dt>
          <dd>{telephony.reachable ? <Badge kind="active">{t('settings.reachableYes')}</Badge> : <Badge kind="cancelled">{t('settings.reachableNo')}</Badge>}</dd>
        </div>
        {telephony.note && (
          <div className="fact">
            <dt>{t('settings.note')}</dt>
            <dd>{telephony.engine === 'simulator' ? t('settings.simulatorNote') : <bdi lang="en" dir="ltr">{telephony.note}</bdi>}</dd>
          </div>
        )}
        {extra.map(([key, value]) => (
          <div className="fact" key={key}>
            <dt>
              <bdi dir="ltr">{key}</bdi>
            </dt>
            <dd>
              <bdi dir="ltr">{typeof value === 'object' ? JSON.stringify(value) : String(value)}</bdi>
            </dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

function EditableSettings({ effective, stored, editable, canEdit }: { effective: Json; stored: Json; editable: { key: string; choices: string[]; minimum?: number | null; maximum?: number | null }[]; canEdit: boolean }) {
  const { t, code } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const current = (key: string) => (key in stored ? stored[key] : lookup(effective, EFFECTIVE_PATH[key] ?? key));
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setValues(Object.fromEntries(editable.map((e) => [e.key, current(e.key) === undefined || current(e.key) === null ? '' : String(current(e.key))])));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(stored), JSON.stringify(effective)]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const changes: Record<string, unknown> = {};
    for (const setting of editable) {
      const before = current(setting.key);
      const after = values[setting.key];
      if (String(before ?? '') === after) continue;
      changes[setting.key] = after === '' ? null : setting.choices.length ? after : Number(after);
    }
    if (Object.keys(changes).length === 0) {
      toast.info(t('settings.nothingChanged'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await request('/api/v1/settings', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(changes) });
      await queryClient.invalidateQueries({ queryKey: ['settings'] });
      toast.success(t('settings.saved'));
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  const valueLabel = (key: string, value: string) => (key === 'calendar.location' ? code('city', value) : key === 'ui.language' ? t(`lang.${value}` as MessageKey) : value);
  return (
    <Card title={t('settings.box')}>
      <Notice kind="info">{t('settings.appliedOnRestart')}</Notice>
      <form onSubmit={submit} className="form">
        {editable.map((setting) => {
          const label = t(`setting.${setting.key}` as MessageKey);
          const hint = setting.key in stored ? t('settings.changedHere') : t('settings.fromFile');
          return setting.choices.length ? (
            <SelectField
              key={setting.key}
              label={label}
              hint={hint}
              disabled={!canEdit}
              value={values[setting.key] ?? ''}
              onChange={(e) => setValues({ ...values, [setting.key]: e.target.value })}
              options={setting.choices.map((choice) => ({ value: choice, label: valueLabel(setting.key, choice) }))}
            />
          ) : (
            <TextField
              key={setting.key}
              label={label}
              hint={
                <>
                  {hint} · {t('settings.range')} <Num value={setting.minimum} digits={1} />–<Num value={setting.maximum} digits={1} />
                </>
              }
              type="number"
              ltr
              disabled={!canEdit}
              min={setting.minimum ?? undefined}
              max={setting.maximum ?? undefined}
              step="any"
              value={values[setting.key] ?? ''}
              onChange={(e) => setValues({ ...values, [setting.key]: e.target.value })}
            />
          );
        })}
        <ErrorBox error={error} />
        {canEdit ? (
          <Button type="submit" variant="primary" busy={busy}>
            {t('common.save')}
          </Button>
        ) : (
          <p className="hint">{t('settings.adminOnly')}</p>
        )}
      </form>
    </Card>
  );
}

function PacingLog() {
  const { t } = useI18n();
  const log = useQuery({ queryKey: ['pacing'], queryFn: () => ok(api.GET('/api/v1/pacing', { params: { query: { limit: 20 } } })), refetchInterval: 10000 });
  return (
    <Card title={t('settings.pacingLog')}>
      {log.isLoading ? (
        <Loading />
      ) : log.isError ? (
        <ErrorBox error={log.error} />
      ) : !log.data?.length ? (
        <EmptyState title={t('settings.pacingEmpty')} />
      ) : (
        <div className="table-wrap">
          <table className="table table-compact">
            <caption className="sr-only">{t('settings.pacingLog')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('blacklist.when')}</th>
                <th scope="col">{t('settings.scope')}</th>
                <th scope="col">{t('settings.cpsChange')}</th>
                <th scope="col">{t('settings.why')}</th>
              </tr>
            </thead>
            <tbody>
              {log.data.map((change, i) => (
                <tr key={i}>
                  <td><When value={change.at} seconds /></td>
                  <td>{change.campaign_id ? t('audio.campaignScope', { id: change.campaign_id }) : t('settings.wholeBox')}</td>
                  <td>
                    <bdi dir="ltr" className="num">
                      <Num value={change.old_cps} digits={2} /> → <Num value={change.new_cps} digits={2} />
                    </bdi>
                  </td>
                  <td>
                    <PacingReason change={change} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

/** An audit entry's details as "label: value" lines in the chosen language; the raw record behind "technical details". */
function AuditDetails({ action, details, subject }: { action: string; details: unknown; subject: string | null }) {
  const { t, num } = useI18n();
  const lines = auditLines(t, details, (value) => num(value));
  return (
    <>
      {lines.length > 0 && (
        <dl className="audit-lines">
          {lines.map((line, i) => (
            <div key={i}>
              <dt>{line.raw ? <bdi dir="ltr">{line.label}</bdi> : line.label}</dt>
              <dd>
                <bdi>{line.value}</bdi>
              </dd>
            </div>
          ))}
        </dl>
      )}
      <Technical>
        <code dir="ltr" className="audit-raw">
          {[action, subject, JSON.stringify(details)].filter(Boolean).join(' · ')}
        </code>
      </Technical>
    </>
  );
}

function AuditLog() {
  const { t } = useI18n();
  const audit = useQuery({ queryKey: ['audit'], queryFn: () => ok(api.GET('/api/v1/audit', { params: { query: { limit: 25 } } })) });
  return (
    <Card title={t('settings.audit')}>
      {audit.isLoading ? (
        <Loading />
      ) : audit.isError ? (
        <ErrorBox error={audit.error} />
      ) : !audit.data?.length ? (
        <EmptyState title={t('settings.auditEmpty')} />
      ) : (
        <div className="table-wrap">
          <table className="table table-compact">
            <caption className="sr-only">{t('settings.audit')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('blacklist.when')}</th>
                <th scope="col">{t('settings.actor')}</th>
                <th scope="col">{t('settings.auditAction')}</th>
                <th scope="col">{t('settings.details')}</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.map((entry, i) => (
                <tr key={i}>
                  <td><When value={entry.at} seconds /></td>
                  <td><Actor actor={entry.actor} /></td>
                  <td>
                    {auditActionWords(t, entry.action)} {entry.subject_id && <bdi>{entry.subject_id}</bdi>}
                  </td>
                  <td className="audit-details">
                    <AuditDetails action={entry.action} details={entry.details} subject={entry.subject_kind ? `${entry.subject_kind} ${entry.subject_id ?? ''}` : null} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

export function SettingsPage() {
  const { t, code } = useI18n();
  const { can } = useSession();
  const settings = useQuery({ queryKey: ['settings'], queryFn: () => ok(api.GET('/api/v1/settings')) });
  if (settings.isLoading) return <Loading />;
  if (settings.isError || !settings.data) return <ErrorBox error={settings.error} />;
  const effective = settings.data.effective as Json;
  const dialer = (effective.dialer ?? {}) as Json;
  const calendar = (effective.calendar ?? {}) as Json;
  return (
    <>
      <PageHeader title={t('settings.title')} subtitle={t('settings.subtitle')} />
      <div className="grid-2">
        <TelephonyCard telephony={settings.data.telephony as TelephonyState} />
        <Card title={t('settings.limits')}>
          <dl className="facts">
            <div className="fact">
              <dt>{t('setting.dialer.max_cps')}</dt>
              <dd><Num value={Number(dialer.cps)} digits={1} /></dd>
            </div>
            <div className="fact">
              <dt>{t('setting.dialer.max_channels')}</dt>
              <dd><Num value={Number(dialer.max_channels)} /></dd>
            </div>
            <div className="fact">
              <dt>{t('settings.cpuLimit')}</dt>
              <dd><Num value={Number(dialer.cpu_high_percent)} /></dd>
            </div>
            <div className="fact">
              <dt>{t('settings.answerRateLow')}</dt>
              <dd><Num value={Number(dialer.answer_rate_low)} digits={2} /></dd>
            </div>
            <div className="fact">
              <dt>{t('setting.calendar.location')}</dt>
              <dd>{code('city', String(calendar.location ?? ''))}</dd>
            </div>
          </dl>
        </Card>
      </div>
      <EditableSettings effective={effective} stored={settings.data.stored as Json} editable={settings.data.editable} canEdit={can('admin')} />
      <PacingLog />
      <FleetSyncCard />
      {can('admin') && <BackupsCard />}
      {can('admin') && <UpdatesCard />}
      {can('admin') && <AuditLog />}
    </>
  );
}

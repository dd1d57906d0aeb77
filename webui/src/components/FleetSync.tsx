// Settings → Fleet sync: the sync agent (shofar-sync, a process of its own) as the
// box's live snapshot shows it — connected or not and since when, what waits to be
// sent, the central do-not-call list and the model it last brought, its last
// errors and alerts — or, when the box has no agent, how one is set up.
import type { Alert, LiveSnapshot } from '../api/types';
import { useI18n } from '../i18n';
import { formatBytes, formatDuration } from '../lib/format';
import { useLive } from '../live/live';
import { alertText } from '../pages/Dashboard';
import { Badge, Card, Loading, Notice, Num, When } from './ui';

type SyncLive = NonNullable<LiveSnapshot['sync']>;
type SyncLink = SyncLive['mqtt'];

/** Names the same in every language. */
const SYNC_SECTION = '[sync]';
const CONFIG_FILE = 'shofar.toml';
const GUIDE = 'docs/sync.md';
const LINK_NAMES = { mqtt: 'MQTT', s3: 'S3' } as const;

const STATE_BADGE: Record<SyncLive['state'], string> = {
  online: 'active',
  offline: 'paused',
  not_running: 'cancelled',
  not_configured: 'neutral',
};

export function FleetSyncCard() {
  const { t } = useI18n();
  const { snapshot } = useLive();
  return (
    <Card title={t('sync.title')} id="fleet-sync" className="sync">
      {snapshot === null ? <Loading /> : snapshot.sync ? <SyncBody sync={snapshot.sync} at={snapshot.at} /> : <NotConfigured />}
    </Card>
  );
}

function NotConfigured() {
  const { t } = useI18n();
  return (
    <div data-testid="sync-not-configured" className="sync-body">
      <Badge kind={STATE_BADGE.not_configured}>{t('sync.state.not_configured')}</Badge>
      <p>{t('sync.intro')}</p>
      <p>
        {t('sync.notConfigured')} <code dir="ltr">{SYNC_SECTION}</code> <code dir="ltr">{CONFIG_FILE}</code>
      </p>
      <p className="hint">
        {t('sync.notConfiguredGuide')} <code dir="ltr">{GUIDE}</code>
      </p>
    </div>
  );
}

function LinkFact({ label, name, link }: { label: string; name: string; link: SyncLink }) {
  const { t } = useI18n();
  return (
    <div className="fact">
      <dt>
        {label} <bdi dir="ltr">({name})</bdi>
      </dt>
      <dd>
        {link.connected ? <Badge kind="active">{t('sync.connected')}</Badge> : <Badge kind="cancelled">{t('sync.disconnected')}</Badge>}
        {link.since && (
          <span>
            {t('sync.since')} <When value={link.since} />
          </span>
        )}
        {!link.connected && link.last_error && (
          <span className="sync-error">
            {t('sync.lastError')}{' '}
            <bdi lang="en" dir="ltr">
              {link.last_error}
            </bdi>
          </span>
        )}
      </dd>
    </div>
  );
}

function SyncAlerts({ alerts }: { alerts: Alert[] }) {
  const i18n = useI18n();
  if (alerts.length === 0) return null;
  return (
    <section aria-label={i18n.t('dashboard.alerts')} className="alerts">
      {alerts.map((alert, index) => (
        <Notice key={`${alert.code}-${index}`} kind={alert.severity === 'critical' ? 'error' : 'warning'}>
          {alertText(i18n, alert, [])}
        </Notice>
      ))}
    </section>
  );
}

function SyncBody({ sync, at }: { sync: SyncLive; at: string }) {
  const { t, code, lang } = useI18n();
  const waitedMs = sync.oldest_waiting_at ? Math.max(0, Date.parse(at) - Date.parse(sync.oldest_waiting_at)) : null;
  return (
    <div className="sync-body">
      <p>
        <span data-testid="sync-state" data-state={sync.state}>
          <Badge kind={STATE_BADGE[sync.state] ?? 'neutral'}>{code('sync.state', sync.state)}</Badge>
        </span>{' '}
        {sync.state === 'offline' && sync.offline_since && (
          <span>
            {t('sync.since')} <When value={sync.offline_since} />
          </span>
        )}
      </p>
      <SyncAlerts alerts={sync.alerts} />
      <dl className="facts">
        <div className="fact">
          <dt>{t('sync.box')}</dt>
          <dd>
            <bdi dir="ltr">
              {sync.org} / {sync.box_id}
            </bdi>
          </dd>
        </div>
        <LinkFact label={t('sync.messages')} name={LINK_NAMES.mqtt} link={sync.mqtt} />
        <LinkFact label={t('sync.storage')} name={LINK_NAMES.s3} link={sync.s3} />
        <div className="fact">
          <dt>{t('sync.waitingRecords')}</dt>
          <dd>
            <Num value={sync.waiting_records} />
          </dd>
        </div>
        <div className="fact">
          <dt>{t('sync.oldestWaiting')}</dt>
          <dd>
            {waitedMs === null ? (
              '—'
            ) : (
              <>
                <bdi dir="ltr" className="num" data-testid="sync-oldest-age">
                  {formatDuration(waitedMs)}
                </bdi>
                <span>
                  ({t('sync.since')} <When value={sync.oldest_waiting_at} />)
                </span>
              </>
            )}
          </dd>
        </div>
        <div className="fact">
          <dt>{t('sync.waitingOptouts')}</dt>
          <dd>
            <Num value={sync.waiting_optouts} />
          </dd>
        </div>
        {sync.disk_limit_bytes > 0 && (
          <div className="fact">
            <dt>{t('sync.disk')}</dt>
            <dd>
              <bdi dir="ltr" className="num">
                {formatBytes(lang, sync.disk_bytes)}
              </bdi>
              {t('sync.of')}
              <bdi dir="ltr" className="num">
                {formatBytes(lang, sync.disk_limit_bytes)}
              </bdi>
            </dd>
          </div>
        )}
        <div className="fact">
          <dt>{t('sync.dnc')}</dt>
          <dd>
            {sync.dnc.applied_at ? (
              <>
                <span>
                  {t('sync.version')} <Num value={sync.dnc.version} />
                </span>
                <span>
                  {t('sync.applied')} <When value={sync.dnc.applied_at} />
                </span>
                <span>{t('sync.listed', { count: sync.dnc.listed })}</span>
              </>
            ) : (
              t('sync.dncNever')
            )}
          </dd>
        </div>
        <div className="fact">
          <dt>{t('sync.model')}</dt>
          <dd>
            {sync.model ? (
              <>
                <bdi dir="ltr">
                  {sync.model.name} {sync.model.version}
                </bdi>
                <span>
                  {t('sync.installed')} <When value={sync.model.installed_at} />
                </span>
              </>
            ) : (
              t('sync.modelNone')
            )}
          </dd>
        </div>
        <div className="fact">
          <dt>{t('sync.agent')}</dt>
          <dd>
            <bdi dir="ltr">{sync.agent_version}</bdi>
            <span>
              {t('sync.lastReport')} <When value={sync.updated_at} seconds />
            </span>
          </dd>
        </div>
      </dl>
      <h3>{t('sync.errors')}</h3>
      {sync.errors.length === 0 ? (
        <p className="hint">{t('sync.noErrors')}</p>
      ) : (
        <ul className="plain sync-errors" data-testid="sync-errors">
          {sync.errors
            .slice(-5)
            .reverse()
            .map((error, index) => (
              <li key={index}>
                <When value={error.at} seconds />
                <bdi lang="en" dir="ltr">
                  {error.what}
                </bdi>
              </li>
            ))}
        </ul>
      )}
    </div>
  );
}

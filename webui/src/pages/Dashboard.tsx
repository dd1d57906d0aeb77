import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import type { Alert, CampaignLive, LiveSnapshot } from '../api/types';
import { OUTCOME_FILTER } from '../api/enums';
import { useSession } from '../auth/session';
import { CampaignProblem } from '../components/CampaignProblem';
import { BarChart, BreakdownBars, LineChart, OUTCOME_COLORS } from '../components/Charts';
import { IconAlert, IconCampaign, IconPlus } from '../components/Icons';
import { ButtonLink, Card, EmptyState, Loading, Notice, Num, PageHeader, Pct, ProgressBar, Stat, UserText } from '../components/ui';
import { useI18n, type I18n, type MessageKey } from '../i18n';
import { useLive } from '../live/live';

const BUCKET_MS = 5 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** Calls started and answered per five minutes over the last hour, counted by the box in one request. */
function useLastHour() {
  const now = Date.now();
  const end = Math.ceil(now / BUCKET_MS) * BUCKET_MS;
  return useQuery({
    queryKey: ['last-hour', end],
    refetchInterval: 60_000,
    queryFn: async () => {
      const timeline = await ok(
        api.GET('/api/v1/reports/timeline', {
          params: { query: { from: new Date(end - HOUR_MS).toISOString(), to: new Date(end).toISOString(), step_seconds: BUCKET_MS / 1000 } },
        }),
      );
      return timeline.slices.map((slice) => ({ from: Date.parse(slice.start), started: slice.figures.calls, answered: slice.figures.answered }));
    },
  });
}

export function alertText(i18n: I18n, alert: Alert, campaigns: CampaignLive[]): string {
  const key = `alert.${alert.code}` as MessageKey;
  const campaign = campaigns.find((c) => c.id === alert.campaign_id)?.name ?? (alert.campaign_id ? `#${alert.campaign_id}` : '');
  const vars = {
    value: alert.value === null || alert.value === undefined ? '—' : i18n.num(alert.value, 1),
    limit: alert.limit === null || alert.limit === undefined ? '—' : i18n.num(alert.limit, 1),
    campaign,
  };
  const text = i18n.t(key, vars);
  return text === key ? alert.message : text;
}

function Alerts({ snapshot }: { snapshot: LiveSnapshot }) {
  const i18n = useI18n();
  if (snapshot.alerts.length === 0) return null;
  return (
    <section aria-label={i18n.t('dashboard.alerts')} className="alerts">
      {snapshot.alerts.map((alert, index) => (
        <Notice key={`${alert.code}-${alert.campaign_id ?? ''}-${index}`} kind={alert.severity === 'critical' ? 'error' : alert.severity === 'warning' ? 'warning' : 'info'}>
          {alertText(i18n, alert, snapshot.campaigns)}
        </Notice>
      ))}
    </section>
  );
}

function CampaignsAtAGlance({ campaigns }: { campaigns: CampaignLive[] }) {
  const { t } = useI18n();
  const { can } = useSession();
  if (campaigns.length === 0) {
    return (
      <EmptyState icon={<IconCampaign size={32} />} title={t('dashboard.noCampaignsTitle')} action={can('manager') ? <ButtonLink to="/campaigns/new" variant="primary" icon={<IconPlus />}>{t('campaigns.new')}</ButtonLink> : undefined}>
        {can('manager') ? t('dashboard.noCampaignsManager') : t('dashboard.noCampaignsAnalyst')}
      </EmptyState>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{t('dashboard.campaigns')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('campaigns.name')}</th>
            <th scope="col">{t('dashboard.state')}</th>
            <th scope="col">{t('dashboard.activeCalls')}</th>
            <th scope="col">{t('dashboard.queue')}</th>
            <th scope="col">{t('dashboard.pace')}</th>
            <th scope="col">{t('figures.calls')}</th>
            <th scope="col">{t('figures.answerRate')}</th>
            <th scope="col">{t('figures.conversionRate')}</th>
            <th scope="col">{t('figures.optOutRate')}</th>
          </tr>
        </thead>
        <tbody>
          {campaigns.map((c) => (
            <tr key={c.id}>
              <th scope="row">
                <Link to={`/campaigns/${c.id}`}>
                  <UserText>{c.name}</UserText>
                </Link>
                {c.problem && (
                  <div className="cell-problem">
                    <IconAlert size={14} /> {t('dashboard.cannotCall')} <CampaignProblem live={c} />
                  </div>
                )}
              </th>
              <td>{c.running ? <span className="badge badge-active">{t('dashboard.running')}</span> : <span className="badge badge-paused">{t('dashboard.notRunning')}</span>}</td>
              <td><Num value={c.active} /></td>
              <td><Num value={c.queued} /></td>
              <td>
                <Num value={c.pace_cps} digits={1} /> / <Num value={c.ceiling_cps} digits={1} />
              </td>
              <td><Num value={c.figures.calls} /></td>
              <td><Pct value={c.figures.answer_rate} /></td>
              <td><Pct value={c.figures.conversion_rate} /></td>
              <td><Pct value={c.figures.opt_out_rate} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DashboardPage() {
  const i18n = useI18n();
  const { t, num, time, code } = i18n;
  const { snapshot, samples, status } = useLive();
  const lastHour = useLastHour();
  const now = Date.now();

  if (!snapshot) {
    return (
      <>
        <PageHeader title={t('dashboard.title')} />
        {status === 'closed' ? <Notice kind="warning">{t('live.disconnectedLong')}</Notice> : <Loading />}
      </>
    );
  }
  const totals = snapshot.totals;
  const outcomeRows = OUTCOME_FILTER
    .map((key) => ({
      key,
      label: code('outcome', key),
      count: key === 'in_call' ? totals.in_call : (totals.by_outcome[key] ?? 0),
      color: OUTCOME_COLORS[key],
      share: 0,
    }))
    .filter((row) => row.count > 0);
  const outcomeTotal = outcomeRows.reduce((sum, row) => sum + row.count, 0);
  for (const row of outcomeRows) row.share = outcomeTotal > 0 ? row.count / outcomeTotal : 0;
  const health = snapshot.health;
  const telephonyDown = snapshot.telephony_up === false;
  return (
    <>
      <PageHeader
        title={t('dashboard.title')}
        subtitle={
          <>
            {t('dashboard.updated')} <bdi dir="ltr" className="num">{time(snapshot.at, true)}</bdi>
            {snapshot.backend && <> · {code('backend', snapshot.backend)}</>}
          </>
        }
      />
      {status !== 'open' && <Notice kind="warning">{t('live.stale')}</Notice>}
      <Alerts snapshot={snapshot} />
      <div className="stats" data-testid="live-stats">
        <Stat label={t('dashboard.activeCalls')} value={<Num value={snapshot.active_calls} />} hint={<>{t('dashboard.ofChannels')} <Num value={snapshot.max_channels} /></>} />
        <Stat label={t('dashboard.dialingRate')} value={<Num value={snapshot.dialing_rate} digits={1} />} hint={<>{t('dashboard.paceOf')} <Num value={snapshot.pace_cps} digits={1} /> / <Num value={snapshot.ceiling_cps} digits={1} /></>} tone={snapshot.pace_cps < snapshot.ceiling_cps ? 'warn' : undefined} />
        <Stat label={t('dashboard.queue')} value={<Num value={snapshot.queue_depth} />} hint={t('dashboard.queueHint')} />
        <Stat label={t('figures.calls')} value={<span data-testid="total-calls"><Num value={totals.calls} /></span>} hint={<>{t('figures.answered')} <Num value={totals.answered} /></>} />
        <Stat label={t('figures.answerRate')} value={<Pct value={totals.answer_rate} />} />
        <Stat label={t('figures.conversionRate')} value={<Pct value={totals.conversion_rate} />} hint={<>{t('figures.converted')} <Num value={totals.converted} /></>} />
        <Stat label={t('figures.optOutRate')} value={<Pct value={totals.opt_out_rate} />} hint={<>{t('figures.optedOut')} <Num value={totals.opted_out} /></>} />
      </div>

      <div className="grid-2">
        <Card title={t('dashboard.liveChart')}>
          <LineChart
            label={t('dashboard.liveChart')}
            from={now - HOUR_MS}
            to={now}
            formatX={(x) => time(new Date(x))}
            series={[
              { label: t('dashboard.activeCalls'), color: '#1d4ed8', points: samples.map((s) => ({ x: s.t, y: s.active })) },
              { label: t('dashboard.dialingRate'), color: '#b45309', points: samples.map((s) => ({ x: s.t, y: s.rate })) },
            ]}
            summary={t('dashboard.liveChartSummary', { count: samples.length })}
          />
          <p className="hint">{t('dashboard.liveChartHint')}</p>
        </Card>
        <Card title={t('dashboard.lastHour')}>
          {lastHour.data ? (
            <BarChart
              label={t('dashboard.lastHour')}
              stacked={false}
              keys={[
                { key: 'started', label: t('dashboard.started'), color: '#1d4ed8' },
                { key: 'answered', label: t('figures.answered'), color: '#15803d' },
              ]}
              groups={lastHour.data.map((b) => ({ label: time(new Date(b.from)), values: { started: b.started, answered: b.answered } }))}
              summary={lastHour.data.map((b) => `${time(new Date(b.from))}: ${num(b.started)} / ${num(b.answered)}`).join('; ')}
            />
          ) : lastHour.isError ? (
            <Notice kind="warning">{t('dashboard.lastHourError')}</Notice>
          ) : (
            <Loading />
          )}
        </Card>
      </div>

      <Card title={t('dashboard.campaigns')}>
        <CampaignsAtAGlance campaigns={snapshot.campaigns} />
      </Card>

      <div className="grid-2">
        <Card title={t('dashboard.outcomes')}>
          {outcomeRows.length > 0 ? <BreakdownBars rows={outcomeRows} label={t('dashboard.outcomes')} /> : <p className="muted">{t('dashboard.noCalls')}</p>}
        </Card>
        <Card title={t('dashboard.health')}>
          <dl className="facts">
            <dt>{t('dashboard.telephony')}</dt>
            <dd>
              {telephonyDown ? <span className="badge badge-cancelled">{t('dashboard.telephonyDown')}</span> : <span className="badge badge-active">{t('dashboard.telephonyUp')}</span>}
            </dd>
            {health && (
              <>
                <dt>{t('dashboard.cpu')}</dt>
                <dd><ProgressBar value={health.cpu_percent} label={t('dashboard.cpu')} /> <Pct value={health.cpu_percent / 100} digits={0} /></dd>
                <dt>{t('dashboard.memory')}</dt>
                <dd><ProgressBar value={health.memory_percent} label={t('dashboard.memory')} /> <Pct value={health.memory_percent / 100} digits={0} /></dd>
                <dt>{t('dashboard.load')}</dt>
                <dd><Num value={health.load_per_core} digits={2} /></dd>
                <dt>{t('dashboard.channels')}</dt>
                <dd><Num value={health.asterisk_channels} /></dd>
              </>
            )}
          </dl>
        </Card>
      </div>

      {snapshot.jobs.length > 0 && (
        <Card title={t('dashboard.imports')}>
          {snapshot.jobs.map((job) => (
            <div key={job.id} className="job-row">
              <bdi>{job.file_name}</bdi>
              <ProgressBar value={job.percent ?? 0} indeterminate={job.percent === null || job.percent === undefined} label={t('import.progress')} />
              {job.percent !== null && job.percent !== undefined && <Pct value={job.percent / 100} digits={0} />}
            </div>
          ))}
        </Card>
      )}
    </>
  );
}

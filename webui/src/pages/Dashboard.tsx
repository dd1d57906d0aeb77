import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, type ReactNode } from 'react';
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
import { campaignPace, dialingRate, outcomeCounts, outcomeShares, waitingToDial } from '../lib/figures';
import { useLive } from '../live/live';

const BUCKET_MS = 5 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** At most one refetch of the last hour this often, however often the box pushes. */
const LAST_HOUR_EVERY_MS = 5000;

/**
 * Calls started and answered per five minutes over the last hour, counted by the
 * box in one request; fetched again when the live figures say calls started or
 * ended (`version` changes), at most every five seconds, and every minute anyway.
 */
function useLastHour(version: string) {
  const queryClient = useQueryClient();
  const lastFetch = useRef(0);
  const seen = useRef('');
  useEffect(() => {
    // The first figures come with the page, as does the first fetch.
    const first = seen.current === '';
    seen.current = version;
    if (!version || first) return;
    const wait = Math.max(0, lastFetch.current + LAST_HOUR_EVERY_MS - Date.now());
    const timer = setTimeout(() => {
      lastFetch.current = Date.now();
      void queryClient.invalidateQueries({ queryKey: ['last-hour'] });
    }, wait);
    return () => clearTimeout(timer);
  }, [version, queryClient]);
  return useQuery({
    queryKey: ['last-hour'],
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
    queryFn: async () => {
      lastFetch.current = Date.now();
      const end = Math.ceil(Date.now() / BUCKET_MS) * BUCKET_MS;
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

/** A figure for the e2e to compare with the API: `value` as the box sent it. */
export function Figure({ name, value, children }: { name: string; value: number | null | undefined; children: ReactNode }) {
  return (
    <span data-figure={name} data-value={value ?? ''}>
      {children}
    </span>
  );
}

/** What holds a campaign's pace below what it is set to, after what it is set to. */
export function PaceCaption({ campaign, boxPaceCps }: { campaign: CampaignLive; boxPaceCps: number }) {
  const { t, num } = useI18n();
  const pace = campaignPace(campaign, boxPaceCps);
  const why =
    pace.limit === 'stopped' ? t('figures.paceStopped') : pace.limit === 'box' ? t('figures.paceByBox', { pace: num(boxPaceCps, 2) }) : pace.limit === 'answers' ? t('figures.paceByAnswers') : null;
  return (
    <span className="figure-caption">
      {t('figures.paceSet', { set: num(pace.set, 2) })}
      {why && <> · {why}</>}
    </span>
  );
}

/** A campaign's pace in calls per second: what it may start now (the box's figure), and with `caption` what holds it back. */
export function PaceText({ campaign, boxPaceCps, caption = true }: { campaign: CampaignLive; boxPaceCps: number; caption?: boolean }) {
  const pace = campaignPace(campaign, boxPaceCps);
  return (
    <>
      <Figure name="pace" value={pace.now}>
        <Num value={pace.now} digits={2} />
      </Figure>
      {caption && <PaceCaption campaign={campaign} boxPaceCps={boxPaceCps} />}
    </>
  );
}

/** Calls by outcome as shares of all calls, with a caption that says so. */
export function OutcomeShares({ counts, label, empty }: { counts: Record<string, number | undefined>; label: string; empty: string }) {
  const { t, code } = useI18n();
  const { rows, total } = outcomeShares(counts, OUTCOME_FILTER);
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <>
      <BreakdownBars rows={rows.map((row) => ({ ...row, label: code('outcome', row.key), color: OUTCOME_COLORS[row.key as keyof typeof OUTCOME_COLORS] }))} label={label} />
      <p className="hint" data-figure="outcomes-total" data-value={total}>
        {t('figures.sharesOf', { count: total })}
      </p>
    </>
  );
}

function CampaignsAtAGlance({ campaigns, boxPaceCps }: { campaigns: CampaignLive[]; boxPaceCps: number }) {
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
            <th scope="col">{t('figures.pace')}</th>
            <th scope="col">{t('figures.calls')}</th>
            <th scope="col">{t('figures.answerRate')}</th>
            <th scope="col">{t('figures.conversionRate')}</th>
            <th scope="col">{t('figures.optOutRate')}</th>
          </tr>
        </thead>
        <tbody>
          {campaigns.map((c) => (
            <tr key={c.id} data-campaign={c.id}>
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
              <td className="figure-cell">
                <PaceText campaign={c} boxPaceCps={boxPaceCps} />
              </td>
              <td><Num value={c.figures.calls} /></td>
              <td><Figure name="answer-rate" value={c.figures.answer_rate}><Pct value={c.figures.answer_rate} /></Figure></td>
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
  const lastHour = useLastHour(snapshot ? `${snapshot.totals.calls}-${snapshot.totals.answered}-${snapshot.totals.in_call}` : '');
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
  const rate = dialingRate(snapshot);
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
        <Stat
          label={t('dashboard.activeCalls')}
          value={<Num value={snapshot.active_calls} />}
          hint={
            <>
              {t('dashboard.ofChannels')} <Num value={snapshot.max_channels} />
              {/* The dialer counts a call from when it is taken up, the records from when it dials: the difference waits at the pace's gate. */}
              {waitingToDial(snapshot) > 0 && (
                <>
                  <br />
                  {t('figures.waitingToDial', { count: waitingToDial(snapshot) })}
                </>
              )}
            </>
          }
        />
        <Stat
          label={t('figures.dialingRate')}
          value={<Figure name="dialing-rate" value={rate.cps}><Num value={rate.cps} digits={2} /></Figure>}
          hint={
            <>
              {t('figures.dialingRateHint', { count: rate.lastMinute })}
              <br />
              <Figure name="box-pace" value={snapshot.pace_cps}>{t('figures.boxPace', { pace: num(snapshot.pace_cps, 2), ceiling: num(snapshot.ceiling_cps, 2) })}</Figure>
            </>
          }
          tone={snapshot.pace_cps < snapshot.ceiling_cps ? 'warn' : undefined}
        />
        <Stat label={t('dashboard.queue')} value={<Num value={snapshot.queue_depth} />} hint={t('dashboard.queueHint')} />
        <Stat
          label={t('figures.calls')}
          value={<span data-testid="total-calls"><Figure name="calls" value={totals.calls}><Num value={totals.calls} /></Figure></span>}
          hint={t('figures.callsBreakdown', { answered: num(totals.answered), inCall: num(totals.in_call) })}
        />
        <Stat
          label={t('figures.answerRate')}
          value={<Figure name="answer-rate" value={totals.answer_rate}><Pct value={totals.answer_rate} /></Figure>}
          hint={<Figure name="dialed" value={totals.dialed}>{t('figures.answeredOfFinished', { answered: num(totals.answered), dialed: num(totals.dialed) })}</Figure>}
        />
        <Stat
          label={t('figures.conversionRate')}
          value={<Figure name="conversion-rate" value={totals.conversion_rate}><Pct value={totals.conversion_rate} /></Figure>}
          hint={t('figures.ofAnswered', { count: num(totals.converted), answered: num(totals.answered) })}
        />
        <Stat
          label={t('figures.optOutRate')}
          value={<Figure name="opt-out-rate" value={totals.opt_out_rate}><Pct value={totals.opt_out_rate} /></Figure>}
          hint={t('figures.ofAnswered', { count: num(totals.opted_out), answered: num(totals.answered) })}
        />
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
              testId="last-hour-chart"
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
        <CampaignsAtAGlance campaigns={snapshot.campaigns} boxPaceCps={snapshot.pace_cps} />
      </Card>

      <div className="grid-2">
        <Card title={t('dashboard.outcomes')}>
          <OutcomeShares counts={outcomeCounts(totals)} label={t('dashboard.outcomes')} empty={t('dashboard.noCalls')} />
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

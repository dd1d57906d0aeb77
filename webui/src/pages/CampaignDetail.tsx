import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ok } from '../api/client';
import { WEEKDAYS, type CampaignSettings } from '../api/types';
import { useSession } from '../auth/session';
import { CampaignProblem } from '../components/CampaignProblem';
import { CallsTable } from '../components/CallsTable';
import { ConfirmDialog } from '../components/Dialog';
import { IconCalls, IconEdit, IconPause, IconPlay, IconReport, IconStop, IconTrash } from '../components/Icons';
import { CalendarView } from '../components/Schedule';
import { TestCallDialog } from '../components/TestCall';
import { useToast } from '../components/Toast';
import { Actor } from '../components/Words';
import { Badge, Button, ButtonLink, Card, EmptyState, ErrorBox, Loading, Notice, Num, PageHeader, Pagination, Pct, Phone, ProgressBar, Stat, StatusBadge, Tabs, TextField, UserText, When } from '../components/ui';
import { useI18n, type MessageKey } from '../i18n';
import { israelDay } from '../lib/format';
import { outcomeCounts } from '../lib/figures';
import { Figure, OutcomeShares, PaceCaption, PaceText } from './Dashboard';
import { normalizeWindows } from '../lib/schedule';
import { useLive } from '../live/live';
import { GateText, retryLabel } from './CampaignWizard';
import { SummaryPdfLink } from './Reports';

type Action = 'start' | 'pause' | 'resume' | 'cancel' | 'delete';

export function allowedActions(status: string): Action[] {
  switch (status) {
    case 'draft':
      return ['start', 'cancel', 'delete'];
    case 'scheduled':
      return ['pause', 'cancel'];
    case 'active':
      return ['pause', 'cancel'];
    case 'paused':
      return ['resume', 'cancel'];
    default:
      return [];
  }
}

function ContactsTab({ campaignId }: { campaignId: number }) {
  const { t, code } = useI18n();
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [page, setPage] = useState(1);
  const contacts = useQuery({
    queryKey: ['contacts', campaignId, applied, page],
    queryFn: () => ok(api.GET('/api/v1/campaigns/{id}/contacts', { params: { path: { id: campaignId }, query: { search: applied || undefined, page, per_page: 25 } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <div>
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(search.trim());
          setPage(1);
        }}
      >
        <TextField label={t('contacts.search')} value={search} onChange={(e) => setSearch(e.target.value)} hint={t('contacts.searchHint')} />
        <button type="submit" className="btn btn-secondary filters-submit">
          {t('common.search')}
        </button>
      </form>
      {contacts.isLoading ? (
        <Loading />
      ) : contacts.isError ? (
        <ErrorBox error={contacts.error} />
      ) : !contacts.data?.items.length ? (
        <EmptyState title={applied ? t('contacts.noneMatch') : t('contacts.empty')} />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">{t('contacts.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('contacts.row')}</th>
                  <th scope="col">{t('contacts.number')}</th>
                  <th scope="col">{t('contacts.lineType')}</th>
                  <th scope="col">{t('contacts.status')}</th>
                  <th scope="col">{t('contacts.attempts')}</th>
                  <th scope="col">{t('contacts.consent')}</th>
                  <th scope="col">{t('contacts.more')}</th>
                </tr>
              </thead>
              <tbody>
                {contacts.data.items.map((c) => (
                  <tr key={c.id}>
                    <td><Num value={c.source_row} /></td>
                    <td><Phone number={c.number} /></td>
                    <td>{code('lineType', c.line_type)}</td>
                    <td>
                      <Badge kind={`contact-${c.status}`}>{code('contactStatus', c.status)}</Badge>
                    </td>
                    <td><Num value={c.attempts} /></td>
                    <td>{c.consent ? code('consent', c.consent) : '—'}</td>
                    <td className="metadata">
                      {Object.entries(c.metadata as Record<string, unknown>)
                        .slice(0, 3)
                        .map(([key, value]) => (
                          <span key={key}>
                            <bdi>{key}</bdi>: <bdi>{String(value)}</bdi>
                          </span>
                        ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination page={contacts.data.page} pages={contacts.data.pages} total={contacts.data.total} onPage={setPage} />
        </>
      )}
    </div>
  );
}

function CalendarTab({ campaignId }: { campaignId: number }) {
  const { t } = useI18n();
  const from = israelDay(new Date());
  const calendar = useQuery({
    queryKey: ['campaign-calendar', campaignId, from],
    queryFn: () => ok(api.GET('/api/v1/campaigns/{id}/calendar', { params: { path: { id: campaignId }, query: { from, days: 14 } } })),
  });
  if (calendar.isLoading) return <Loading />;
  if (calendar.isError) return <ErrorBox error={calendar.error} />;
  return (
    <>
      <p className="hint">{t('schedule.previewHint', { count: 14 })}</p>
      {calendar.data && <CalendarView calendar={calendar.data} from={from} days={14} />}
    </>
  );
}

function SettingsTab({ settings }: { settings: CampaignSettings }) {
  const { t, code } = useI18n();
  const windows = normalizeWindows(settings.windows);
  return (
    <dl className="facts">
      <div className="fact">
        <dt>{t('wizard.callerId')}</dt>
        <dd>{settings.caller_id ? <Phone number={settings.caller_id} /> : t('wizard.callerIdNone')}</dd>
      </div>
      <div className="fact">
        <dt>{t('wizard.flow')}</dt>
        <dd>{settings.ivr_flow ? <UserText>{settings.ivr_flow}</UserText> : t('wizard.flowMode.default')}</dd>
      </div>
      <div className="fact">
        <dt>{t('wizard.amd')}</dt>
        <dd>{code('amd', settings.amd ?? 'off')}</dd>
      </div>
      <div className="fact">
        <dt>{t('wizard.startAt')}</dt>
        <dd>{settings.start ? <When value={settings.start} /> : t('wizard.startWhenStarted')}</dd>
      </div>
      <div className="fact">
        <dt>{t('wizard.end')}</dt>
        <dd>{settings.end ? <When value={settings.end} /> : t('wizard.noEnd')}</dd>
      </div>
      <div className="fact">
        <dt>{t('schedule.windows')}</dt>
        <dd>
          {WEEKDAYS.map((d) => (
            <div key={d}>
              {t(`weekday.${d}` as MessageKey)}: {windows[d].length ? <bdi dir="ltr">{windows[d].join(', ')}</bdi> : t('schedule.closed')}
            </div>
          ))}
        </dd>
      </div>
      <div className="fact">
        <dt>{t('wizard.quiet')}</dt>
        <dd>
          {[settings.quiet?.shabbat !== false && t('wizard.quietShabbat'), settings.quiet?.holidays !== false && t('wizard.quietHolidays'), settings.quiet?.yom_hazikaron && t('wizard.quietMemorial')].filter(Boolean).join(' · ') || t('wizard.noQuiet')}
        </dd>
      </div>
      <div className="fact">
        <dt>{t('wizard.step.pacing')}</dt>
        <dd>
          {t('wizard.cps')} <Num value={settings.pacing?.cps} digits={1} /> · {t('wizard.maxChannels')} <Num value={settings.pacing?.max_channels} /> · {t('wizard.maxAttempts')} <Num value={settings.max_attempts} />
        </dd>
      </div>
      <div className="fact">
        <dt>{t('wizard.retry')}</dt>
        <dd>
          {Object.entries(settings.retry ?? {}).map(([outcome, value]) => (
            <div key={outcome}>
              {code('outcome', outcome)}: {value === false ? t('wizard.noRetry') : t('wizard.retryAfter', { delay: retryLabel(t, String(value)) })}
            </div>
          ))}
        </dd>
      </div>
    </dl>
  );
}

export function CampaignDetailPage() {
  const { t, code, num } = useI18n();
  const params = useParams();
  const id = Number(params.id);
  const { can } = useSession();
  const toast = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { snapshot } = useLive();
  const [tab, setTab] = useState<'calls' | 'contacts' | 'calendar' | 'settings'>('calls');
  const [action, setAction] = useState<Action | null>(null);
  const [testing, setTesting] = useState(false);
  const detail = useQuery({
    queryKey: ['campaign', id],
    queryFn: () => ok(api.GET('/api/v1/campaigns/{id}', { params: { path: { id } } })),
    refetchInterval: 3000,
  });
  if (detail.isLoading) return <Loading />;
  if (detail.isError || !detail.data) return <ErrorBox error={detail.error} />;
  const { campaign, contacts, gate } = detail.data;
  const live = snapshot?.campaigns.find((c) => c.id === id);
  const figures = live?.figures;
  const byOutcome: Record<string, number> = figures ? outcomeCounts(figures) : detail.data.calls;
  const done = contacts.completed + contacts.failed + contacts.blacklisted;
  const actions = can('manager') ? allowedActions(campaign.status) : [];
  const settings = campaign.settings as unknown as CampaignSettings;

  const run = async (which: Action, reason: string) => {
    if (which === 'delete') {
      await ok(api.DELETE('/api/v1/campaigns/{id}', { params: { path: { id } } }));
      await queryClient.invalidateQueries({ queryKey: ['campaigns'] });
      toast.success(t('campaign.deletedToast', { name: campaign.name }));
      navigate('/campaigns');
      return;
    }
    const body = { reason: reason || null };
    const path = { params: { path: { id } }, body };
    const result =
      which === 'start'
        ? await ok(api.POST('/api/v1/campaigns/{id}/start', path))
        : which === 'pause'
          ? await ok(api.POST('/api/v1/campaigns/{id}/pause', path))
          : which === 'resume'
            ? await ok(api.POST('/api/v1/campaigns/{id}/resume', path))
            : await ok(api.POST('/api/v1/campaigns/{id}/cancel', path));
    await queryClient.invalidateQueries({ queryKey: ['campaign', id] });
    await queryClient.invalidateQueries({ queryKey: ['campaigns'] });
    toast.success(t('campaign.movedToast', { name: campaign.name, status: code('status', result.to) }));
  };

  const actionButton = (which: Action) => {
    const icons = { start: <IconPlay />, pause: <IconPause />, resume: <IconPlay />, cancel: <IconStop />, delete: <IconTrash /> };
    const variants = { start: 'success', pause: 'secondary', resume: 'success', cancel: 'danger', delete: 'danger' } as const;
    return (
      <Button key={which} variant={variants[which]} icon={icons[which]} onClick={() => setAction(which)} data-testid={`action-${which}`}>
        {t(`campaign.${which}` as MessageKey)}
      </Button>
    );
  };

  return (
    <>
      <PageHeader
        title={<UserText>{campaign.name}</UserText>}
        subtitle={
          <>
            <StatusBadge status={campaign.status} /> {code('type', campaign.type)} · {code('purpose', campaign.purpose)} · {t('campaign.createdBy')} <Actor actor={campaign.created_by} /> <When value={campaign.created_at} />
          </>
        }
        back={{ to: '/campaigns', label: t('campaigns.title') }}
        actions={
          <>
            {campaign.status === 'draft' && can('manager') && (
              <ButtonLink to={`/campaigns/${id}/setup`} icon={<IconEdit />}>
                {t('campaigns.continueSetup')}
              </ButtonLink>
            )}
            <ButtonLink to={`/reports?campaign=${id}`} icon={<IconReport />}>
              {t('campaign.report')}
            </ButtonLink>
            <SummaryPdfLink campaignId={id} />
            {can('manager') && (
              <Button icon={<IconCalls />} onClick={() => setTesting(true)} data-testid="test-call">
                {t('testCall.open')}
              </Button>
            )}
            {actions.map(actionButton)}
          </>
        }
      />
      {live?.problem && (
        <Notice kind="error">
          {t('dashboard.cannotCall')} <CampaignProblem live={live} />
        </Notice>
      )}
      {campaign.consent_required && !campaign.consent_override && contacts.without_consent > 0 && <Notice kind="info">{t('campaign.consentSkipped', { count: contacts.without_consent })}</Notice>}
      <div className="stats" data-testid="campaign-stats">
        <Stat label={t('campaign.progress')} value={<Pct value={contacts.total ? done / contacts.total : 0} digits={0} />} hint={<>{t('campaign.doneOf', { done: done, total: contacts.total })}</>} />
        <Stat label={t('dashboard.activeCalls')} value={<Num value={live?.active ?? detail.data.calls.in_call ?? 0} />} hint={live ? <>{t('dashboard.queue')} <Num value={live.queued} /></> : undefined} />
        <Stat label={t('figures.pace')} value={live && snapshot ? <PaceText campaign={live} boxPaceCps={snapshot.pace_cps} caption={false} /> : '—'} hint={live && snapshot ? <PaceCaption campaign={live} boxPaceCps={snapshot.pace_cps} /> : undefined} />
        <Stat
          label={t('figures.answerRate')}
          value={<Figure name="answer-rate" value={figures?.answer_rate}><Pct value={figures?.answer_rate} /></Figure>}
          hint={figures ? <Figure name="dialed" value={figures.dialed}>{t('figures.answeredOfFinished', { answered: num(figures.answered), dialed: num(figures.dialed) })}</Figure> : undefined}
        />
        <Stat
          label={t('figures.conversionRate')}
          value={<Figure name="conversion-rate" value={figures?.conversion_rate}><Pct value={figures?.conversion_rate} /></Figure>}
          hint={figures ? t('figures.ofAnswered', { count: num(figures.converted), answered: num(figures.answered) }) : undefined}
        />
        <Stat
          label={t('figures.optOutRate')}
          value={<Figure name="opt-out-rate" value={figures?.opt_out_rate}><Pct value={figures?.opt_out_rate} /></Figure>}
          hint={figures ? t('figures.ofAnswered', { count: num(figures.opted_out), answered: num(figures.answered) }) : undefined}
        />
      </div>
      <div className="grid-2">
        <Card title={t('campaign.contacts')}>
          <ProgressBar value={done} max={Math.max(1, contacts.total)} label={t('campaign.progress')} />
          <dl className="summary-grid">
            {(['total', 'due', 'waiting_retry', 'in_progress', 'completed', 'failed', 'blacklisted', 'without_consent'] as const).map((key) => (
              <div key={key}>
                <dt>{t(`contactCounts.${key}` as MessageKey)}</dt>
                <dd><Num value={contacts[key]} /></dd>
              </div>
            ))}
          </dl>
          <p>
            <strong>{t('campaign.gate')}:</strong> <GateText gate={gate} />
          </p>
        </Card>
        <Card title={t('campaign.outcomes')}>
          <OutcomeShares counts={byOutcome} label={t('campaign.outcomes')} empty={t('campaign.noCallsYet')} />
        </Card>
      </div>
      <Tabs
        label={t('campaign.sections')}
        value={tab}
        onChange={setTab}
        tabs={[
          { id: 'calls', label: t('campaign.tab.calls') },
          ...(can('manager') ? [{ id: 'contacts' as const, label: t('campaign.tab.contacts') }] : []),
          { id: 'calendar', label: t('campaign.tab.calendar') },
          { id: 'settings', label: t('campaign.tab.settings') },
        ]}
      />
      <div role="tabpanel" aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === 'calls' && <CallsTable campaignId={id} />}
        {tab === 'contacts' && <ContactsTab campaignId={id} />}
        {tab === 'calendar' && <CalendarTab campaignId={id} />}
        {tab === 'settings' && <SettingsTab settings={settings} />}
      </div>
      <ConfirmDialog
        open={action !== null}
        title={action ? t(`campaign.confirm.${action}.title` as MessageKey) : ''}
        message={action ? t(`campaign.confirm.${action}.body` as MessageKey, { name: campaign.name }) : ''}
        confirmLabel={action ? t(`campaign.${action}` as MessageKey) : ''}
        danger={action === 'cancel' || action === 'delete'}
        reason={action && action !== 'delete' ? { label: t('campaign.reason'), required: action === 'cancel', hint: t('campaign.reasonHint') } : undefined}
        onClose={() => setAction(null)}
        onConfirm={(reason) => run(action as Action, reason)}
      />
      <p className="hint">
        <Link to={`/calls?campaign=${id}`}>{t('campaign.allCalls')}</Link>
      </p>
      <TestCallDialog open={testing} campaignId={id} onClose={() => setTesting(false)} />
    </>
  );
}

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, ok } from '../api/client';
import { OUTCOME_FILTER } from '../api/enums';
import type { CampaignListItem } from '../api/types';
import { BarChart, BreakdownBars, OUTCOME_COLORS } from '../components/Charts';
import { IconDownload, IconReport } from '../components/Icons';
import { Card, DownloadLink, EmptyState, ErrorBox, Loading, Notice, Num, PageHeader, Pct, SelectField, Stat, Tabs, TextField, UserText, When } from '../components/ui';
import { useI18n } from '../i18n';
import { addDays, formatDuration, israelDay } from '../lib/format';
import { nodeLabel } from '../lib/flow';

function useCampaignList() {
  return useQuery({ queryKey: ['campaigns', 'all'], queryFn: () => ok(api.GET('/api/v1/campaigns', { params: { query: { sort: '-id' } } })) });
}

function CampaignPicker({ campaigns, chosen, onChange, label }: { campaigns: CampaignListItem[]; chosen: number[]; onChange: (ids: number[]) => void; label: string }) {
  return (
    <fieldset className="campaign-picker">
      <legend>{label}</legend>
      <ul className="plain picker-list">
        {campaigns.map((c) => (
          <li key={c.id}>
            <label>
              <input type="checkbox" checked={chosen.includes(c.id)} onChange={(e) => onChange(e.target.checked ? [...chosen, c.id] : chosen.filter((id) => id !== c.id))} />
              <UserText>{c.name}</UserText>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

function HistoryTab({ campaigns }: { campaigns: CampaignListItem[] }) {
  const { t, code, date, num } = useI18n();
  const today = israelDay(new Date());
  const [from, setFrom] = useState(addDays(today, -29));
  const [to, setTo] = useState(today);
  const [chosen, setChosen] = useState<number[]>([]);
  const history = useQuery({
    queryKey: ['history', from, to, chosen.join(',')],
    queryFn: () => ok(api.GET('/api/v1/reports/history', { params: { query: { from, to, campaigns: chosen.length ? chosen.join(',') : undefined } } })),
    enabled: Boolean(from && to),
  });
  const preset = (days: number) => {
    setFrom(addDays(today, -(days - 1)));
    setTo(today);
  };
  // Every day of the range, the quiet ones too, so the chart reads as time.
  const byDay = new Map<string, Record<string, number>>();
  if (history.data) {
    for (let day = from, guard = 0; day <= to && guard < 400; day = addDays(day, 1), guard++) byDay.set(day, {});
  }
  for (const day of history.data?.days ?? []) {
    const values = byDay.get(day.date) ?? {};
    for (const [outcome, count] of Object.entries(day.figures.by_outcome)) values[outcome] = (values[outcome] ?? 0) + count;
    values.in_call = (values.in_call ?? 0) + day.figures.in_call;
    byDay.set(day.date, values);
  }
  const totals = history.data?.totals;
  const names = new Map(campaigns.map((c) => [c.id, c.name]));
  return (
    <>
      <div className="filters">
        <TextField label={t('common.from')} type="date" value={from} onChange={(e) => setFrom(e.target.value)} ltr />
        <TextField label={t('reports.toInclusive')} type="date" value={to} onChange={(e) => setTo(e.target.value)} ltr />
        <div className="preset-row">
          <button type="button" className="btn btn-ghost" onClick={() => preset(7)}>
            {t('reports.last7')}
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => preset(30)}>
            {t('reports.last30')}
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => preset(90)}>
            {t('reports.last90')}
          </button>
        </div>
      </div>
      {campaigns.length > 0 && <CampaignPicker campaigns={campaigns} chosen={chosen} onChange={setChosen} label={t('reports.onlyCampaigns')} />}
      {history.isLoading ? (
        <Loading />
      ) : history.isError ? (
        <ErrorBox error={history.error} />
      ) : !history.data?.days.length ? (
        <EmptyState icon={<IconReport size={28} />} title={t('reports.noCallsInRange')}>
          {t('reports.noCallsInRangeBody')}
        </EmptyState>
      ) : (
        <>
          {totals && (
            <div className="stats">
              <Stat label={t('figures.calls')} value={<Num value={totals.calls} />} />
              <Stat label={t('figures.answered')} value={<Num value={totals.answered} />} />
              <Stat label={t('figures.answerRate')} value={<Pct value={totals.answer_rate} />} hint={t('figures.answeredOfFinished', { answered: num(totals.answered), dialed: num(totals.dialed) })} />
              <Stat label={t('figures.conversionRate')} value={<Pct value={totals.conversion_rate} />} hint={t('figures.ofAnswered', { count: num(totals.converted), answered: num(totals.answered) })} />
              <Stat label={t('figures.optOutRate')} value={<Pct value={totals.opt_out_rate} />} hint={t('figures.ofAnswered', { count: num(totals.opted_out), answered: num(totals.answered) })} />
            </div>
          )}
          <Card title={t('reports.perDay')}>
            <BarChart
              label={t('reports.perDay')}
              keys={OUTCOME_FILTER.map((o) => ({ key: o, label: code('outcome', o), color: OUTCOME_COLORS[o] }))}
              groups={[...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, values]) => ({ label: date(day).slice(0, 5), values }))}
              summary={[...byDay.entries()]
                .filter(([, values]) => Object.keys(values).length > 0)
                .map(([day, values]) => `${date(day)}: ${num(Object.values(values).reduce((s, n) => s + n, 0))}`)
                .join('; ')}
            />
          </Card>
          <div className="table-wrap">
            <table className="table">
              <caption>{t('reports.perDayTable')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('reports.day')}</th>
                  <th scope="col">{t('reports.campaign')}</th>
                  <th scope="col">{t('figures.calls')}</th>
                  <th scope="col">{t('figures.answered')}</th>
                  <th scope="col">{t('figures.answerRate')}</th>
                  <th scope="col">{t('figures.converted')}</th>
                  <th scope="col">{t('figures.optedOut')}</th>
                </tr>
              </thead>
              <tbody>
                {history.data.days.map((day) => (
                  <tr key={`${day.date}-${day.campaign_id}`}>
                    <td><bdi dir="ltr" className="num">{date(day.date)}</bdi></td>
                    <td><UserText>{names.get(day.campaign_id ?? -1) ?? `#${day.campaign_id}`}</UserText></td>
                    <td><Num value={day.figures.calls} /></td>
                    <td><Num value={day.figures.answered} /></td>
                    <td><Pct value={day.figures.answer_rate} /></td>
                    <td><Num value={day.figures.converted} /></td>
                    <td><Num value={day.figures.opted_out} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

function CompareTab({ campaigns }: { campaigns: CampaignListItem[] }) {
  const { t, pct } = useI18n();
  const [chosen, setChosen] = useState<number[]>(campaigns.slice(0, 2).map((c) => c.id));
  const enough = chosen.length >= 2 && chosen.length <= 10;
  const compare = useQuery({
    queryKey: ['compare', chosen.join(',')],
    queryFn: () => ok(api.GET('/api/v1/reports/compare', { params: { query: { campaigns: chosen.join(',') } } })),
    enabled: enough,
  });
  if (campaigns.length < 2) return <EmptyState title={t('reports.compareNeedsTwo')}>{t('reports.compareNeedsTwoBody')}</EmptyState>;
  const data = compare.data;
  const rates = ['answer_rate', 'conversion_rate', 'opt_out_rate'] as const;
  const colors = ['#1d4ed8', '#15803d', '#b45309', '#7e22ce', '#0e7490', '#b91c1c', '#4b5563', '#c2410c', '#111827', '#65a30d'];
  return (
    <>
      <CampaignPicker campaigns={campaigns} chosen={chosen} onChange={setChosen} label={t('reports.compareChoose')} />
      {!enough ? (
        <Notice kind="info">{t('reports.compareHowMany')}</Notice>
      ) : compare.isLoading ? (
        <Loading />
      ) : compare.isError ? (
        <ErrorBox error={compare.error} />
      ) : data ? (
        <>
          <Card title={t('reports.rates')}>
            <BarChart
              label={t('reports.rates')}
              stacked={false}
              formatY={(y) => pct(y, 0)}
              keys={data.columns.map((col, i) => ({ key: String(col.campaign.id), label: col.campaign.name, color: colors[i % colors.length] }))}
              groups={rates.map((rate) => ({ label: t(`reports.rate.${rate}`), values: Object.fromEntries(data.columns.map((col) => [String(col.campaign.id), col.figures[rate] ?? 0])) }))}
              summary={data.columns.map((col) => (
                <span key={col.campaign.id}>
                  <bdi>{col.campaign.name}</bdi>: {rates.map((r) => pct(col.figures[r])).join(', ')};{' '}
                </span>
              ))}
            />
          </Card>
          <div className="table-wrap">
            <table className="table compare-table">
              <caption>{t('reports.sideBySide')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('reports.measure')}</th>
                  {data.columns.map((col) => (
                    <th scope="col" key={col.campaign.id}>
                      <UserText>{col.campaign.name}</UserText>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {(['calls', 'dialed', 'answered', 'converted', 'opted_out'] as const).map((key) => (
                  <tr key={key}>
                    <th scope="row">{t(`figures.${key === 'opted_out' ? 'optedOut' : key}`)}</th>
                    {data.columns.map((col) => (
                      <td key={col.campaign.id}>
                        <Num value={col.figures[key]} />
                      </td>
                    ))}
                  </tr>
                ))}
                {rates.map((rate) => (
                  <tr key={rate}>
                    <th scope="row">{t(`reports.rate.${rate}`)}</th>
                    {data.columns.map((col, index) => {
                      const leads = data.leaders[rate].includes(index);
                      return (
                        <td key={col.campaign.id} className={leads ? 'leader' : undefined}>
                          <Pct value={col.figures[rate]} /> {leads && <span className="badge badge-active">{t('reports.leads')}</span>}
                        </td>
                      );
                    })}
                  </tr>
                ))}
                <tr>
                  <th scope="row">{t('reports.talkTime')}</th>
                  {data.columns.map((col) => (
                    <td key={col.campaign.id}>
                      <bdi dir="ltr" className="num">{formatDuration(col.talk_ms)}</bdi>
                    </td>
                  ))}
                </tr>
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </>
  );
}

/** The campaign's summary PDF for a manager, in the UI's language (the campaign page links it too). */
export function SummaryPdfLink({ campaignId }: { campaignId: number }) {
  const { t, lang } = useI18n();
  return (
    <DownloadLink href={`/api/v1/campaigns/${campaignId}/report/export?format=summary&lang=${lang}`} icon={<IconDownload />}>
      {t('exports.summaryPdf')}
    </DownloadLink>
  );
}

type MenuKeys = { menu: string; reached: number; keys: { key: string; leads_to: string; count: number }[]; invalid: number; no_key: number };

/** Keys pressed in each menu of the campaign's flow: counts and shares of the times callers were in the menu. */
export function MenuKeysCard({ menus }: { menus: MenuKeys[] }) {
  const { t } = useI18n();
  return (
    <Card title={t('exports.keysTitle')}>
      {!menus.length ? (
        <p className="muted">{t('exports.noMenus')}</p>
      ) : (
        menus.map((menu) => (
          <div className="table-wrap" key={menu.menu}>
            <table className="table menu-keys" data-menu={menu.menu}>
              <caption>
                <bdi>{nodeLabel(t, menu.menu)}</bdi> · {t('exports.reached')} <Num value={menu.reached} />
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t('exports.key')}</th>
                  <th scope="col">{t('exports.count')}</th>
                  <th scope="col">{t('exports.shareOfReached')}</th>
                </tr>
              </thead>
              <tbody>
                {[
                  ...menu.keys.map((k) => ({ id: `key-${k.key}`, label: t('exports.pressed', { key: k.key, to: nodeLabel(t, k.leads_to) }), count: k.count })),
                  { id: 'invalid', label: t('exports.invalid'), count: menu.invalid },
                  { id: 'none', label: t('exports.noKey'), count: menu.no_key },
                ].map((row) => (
                  <tr key={row.id} data-row={row.id}>
                    <th scope="row">{row.label}</th>
                    <td><Num value={row.count} /></td>
                    <td><Pct value={menu.reached ? row.count / menu.reached : null} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))
      )}
    </Card>
  );
}

function CampaignTab({ campaigns, initial }: { campaigns: CampaignListItem[]; initial: number | null }) {
  const { t, code, lang, num } = useI18n();
  const [id, setId] = useState<number | null>(initial ?? campaigns[0]?.id ?? null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const report = useQuery({
    queryKey: ['report', id, from, to],
    queryFn: () => ok(api.GET('/api/v1/campaigns/{id}/report', { params: { path: { id: id as number }, query: { from: from || undefined, to: to || undefined } } })),
    enabled: id !== null,
  });
  if (!campaigns.length) return <EmptyState title={t('reports.noCampaigns')}>{t('reports.noCampaignsBody')}</EmptyState>;
  const query = new URLSearchParams({ lang });
  if (from) query.set('from', from);
  if (to) query.set('to', to);
  const exportUrl = (format: string) => `/api/v1/campaigns/${id}/report/export?format=${format}&${query.toString()}`;
  const data = report.data;
  return (
    <>
      <div className="filters">
        <SelectField label={t('reports.campaign')} value={String(id ?? '')} onChange={(e) => setId(Number(e.target.value))} options={campaigns.map((c) => ({ value: String(c.id), label: c.name }))} />
        <TextField label={t('common.from')} type="date" value={from} onChange={(e) => setFrom(e.target.value)} ltr />
        <TextField label={t('reports.toInclusive')} type="date" value={to} onChange={(e) => setTo(e.target.value)} ltr hint={t('exports.untilHint')} />
      </div>
      <div className="export-row" role="group" aria-label={t('reports.export')}>
        <span>{t('reports.export')}:</span>
        <DownloadLink href={exportUrl('summary')} icon={<IconDownload />}>
          {t('exports.summaryPdf')}
        </DownloadLink>
        <DownloadLink href={exportUrl('pdf')} icon={<IconDownload />}>
          {t('reports.exportPdf')}
        </DownloadLink>
        <DownloadLink href={exportUrl('xlsx')} icon={<IconDownload />}>
          {t('reports.exportXlsx')}
        </DownloadLink>
        <DownloadLink href={exportUrl('csv')} icon={<IconDownload />}>
          {t('reports.exportCsv')}
        </DownloadLink>
      </div>
      <p className="hint">{t('reports.exportHint')}</p>
      {report.isLoading ? (
        <Loading />
      ) : report.isError ? (
        <ErrorBox error={report.error} />
      ) : data ? (
        <>
          <div className="stats">
            <Stat label={t('figures.calls')} value={<Num value={data.figures.calls} />} />
            <Stat label={t('figures.answered')} value={<Num value={data.figures.answered} />} />
            <Stat label={t('figures.answerRate')} value={<Pct value={data.figures.answer_rate} />} hint={t('figures.answeredOfFinished', { answered: num(data.figures.answered), dialed: num(data.figures.dialed) })} />
            <Stat label={t('figures.conversionRate')} value={<Pct value={data.figures.conversion_rate} />} hint={t('figures.ofAnswered', { count: num(data.figures.converted), answered: num(data.figures.answered) })} />
            <Stat label={t('figures.optOutRate')} value={<Pct value={data.figures.opt_out_rate} />} hint={t('figures.ofAnswered', { count: num(data.figures.opted_out), answered: num(data.figures.answered) })} />
            <Stat label={t('reports.talkTime')} value={<bdi dir="ltr" className="num">{formatDuration(data.talk_ms)}</bdi>} />
          </div>
          <Card title={t('campaign.outcomes')}>
            {data.outcomes.length ? (
              <>
                <BreakdownBars label={t('campaign.outcomes')} rows={data.outcomes.map((o) => ({ key: o.outcome, label: code('outcome', o.outcome), count: o.count, share: o.share, color: OUTCOME_COLORS[o.outcome] ?? '#6b7280' }))} />
                <p className="hint" data-figure="outcomes-total" data-value={data.figures.calls}>
                  {t('figures.sharesOf', { count: data.figures.calls })}
                </p>
              </>
            ) : (
              <p className="muted">{t('campaign.noCallsYet')}</p>
            )}
            <p className="hint">
              {t('reports.firstCall')} <When value={data.first_call} /> · {t('reports.lastCall')} <When value={data.last_call} /> · {t('reports.generated')} <When value={data.generated_at} />
            </p>
          </Card>
          <MenuKeysCard menus={data.menus} />
        </>
      ) : null}
    </>
  );
}

export function ReportsPage() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const initial = params.get('campaign') ? Number(params.get('campaign')) : null;
  const [tab, setTab] = useState<'campaign' | 'history' | 'compare'>(initial ? 'campaign' : 'campaign');
  const campaigns = useCampaignList();
  return (
    <>
      <PageHeader title={t('reports.title')} subtitle={t('reports.subtitle')} />
      <Tabs
        label={t('reports.sections')}
        value={tab}
        onChange={setTab}
        tabs={[
          { id: 'campaign', label: t('reports.tab.campaign') },
          { id: 'history', label: t('reports.tab.history') },
          { id: 'compare', label: t('reports.tab.compare') },
        ]}
      />
      <div role="tabpanel" aria-labelledby={`tab-${tab}`} className="tab-panel">
        {campaigns.isLoading ? (
          <Loading />
        ) : campaigns.isError ? (
          <ErrorBox error={campaigns.error} />
        ) : (
          <>
            {tab === 'campaign' && <CampaignTab campaigns={campaigns.data ?? []} initial={initial} />}
            {tab === 'history' && <HistoryTab campaigns={campaigns.data ?? []} />}
            {tab === 'compare' && <CompareTab campaigns={campaigns.data ?? []} />}
          </>
        )}
      </div>
    </>
  );
}

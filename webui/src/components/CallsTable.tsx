// Call records: filter (outcome, number, dates), sort, paginate. Used by the
// campaign page and the calls page.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import { OUTCOME_FILTER } from '../api/enums';
import type { CallRecord, OutcomeFilter } from '../api/types';
import { useI18n } from '../i18n';
import { formatDuration } from '../lib/format';
import { amdWords, causeWords } from '../lib/words';
import { Dialog } from './Dialog';
import { IconCalls } from './Icons';
import { Technical } from './Words';
import { Badge, Button, EmptyState, ErrorBox, Loading, Num, Pagination, Phone, SelectField, SortHeader, TextField, When } from './ui';

function CallDetails({ call, onClose }: { call: CallRecord | null; onClose: () => void }) {
  const { t, code } = useI18n();
  if (!call) return null;
  const rows: [string, React.ReactNode][] = [
    [t('calls.id'), <bdi dir="ltr" key="id">{call.call_id}</bdi>],
    [t('calls.number'), <Phone number={call.number} key="n" />],
    [t('calls.attempt'), <Num value={call.attempt} key="a" />],
    [t('calls.kind'), code('callKind', call.kind)],
    [t('calls.outcome'), call.outcome ? code('outcome', call.outcome) : code('callStatus', call.status)],
    [t('calls.started'), <When value={call.started_at} seconds key="s" />],
    [t('calls.answered'), <When value={call.answered_at} seconds key="an" />],
    [t('calls.ended'), <When value={call.ended_at} seconds key="e" />],
    [t('calls.ring'), <bdi dir="ltr" key="r">{formatDuration(call.ring_ms)}</bdi>],
    [t('calls.talk'), <bdi dir="ltr" key="tk">{formatDuration(call.talk_ms)}</bdi>],
    [t('calls.keys'), <bdi dir="ltr" key="k">{call.dtmf || '—'}</bdi>],
    [t('calls.actions'), <bdi dir="ltr" key="ac">{call.actions.join(', ') || '—'}</bdi>],
    [t('calls.endedBy'), call.ended_by ? code('endedBy', call.ended_by) : '—'],
    [t('calls.hangup'), <span key="h" data-testid="call-cause">{causeWords(t, call.hangup_code) ?? '—'}</span>],
    [t('calls.amd'), <span key="amd" data-testid="call-amd">{amdWords(t, call.amd_result) ?? '—'}</span>],
  ];
  // The codes themselves, second, for whoever asks (a technician, the operator).
  const technical = [call.hangup_code, call.hangup_cause, call.dial_status, call.amd_result].filter((v) => v !== null && v !== undefined && v !== '');
  return (
    <Dialog open title={t('calls.detailsTitle')} onClose={onClose} footer={<Button onClick={onClose}>{t('common.close')}</Button>}>
      <dl className="facts">
        {rows.map(([label, value]) => (
          <div key={label} className="fact">
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {technical.length > 0 && (
        <Technical>
          <bdi dir="ltr" data-testid="call-technical">{technical.join(' · ')}</bdi>
        </Technical>
      )}
    </Dialog>
  );
}

export function OutcomeBadge({ call }: { call: CallRecord }) {
  const { code } = useI18n();
  if (!call.outcome) return <Badge kind="in_call">{code('callStatus', call.status)}</Badge>;
  return <Badge kind={`outcome-${call.outcome}`}>{code('outcome', call.outcome)}</Badge>;
}

export function CallsTable({ campaignId, showCampaign = false, initialNumber = '' }: { campaignId?: number; showCampaign?: boolean; initialNumber?: string }) {
  const { t, code } = useI18n();
  const [outcome, setOutcome] = useState<OutcomeFilter | ''>('');
  const [numberDraft, setNumberDraft] = useState(initialNumber);
  const [number, setNumber] = useState(initialNumber);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [sort, setSort] = useState('-started_at');
  const [page, setPage] = useState(1);
  const [shown, setShown] = useState<CallRecord | null>(null);
  const campaigns = useQuery({ queryKey: ['campaigns', 'names'], queryFn: () => ok(api.GET('/api/v1/campaigns')), enabled: showCampaign, staleTime: 30_000 });
  const campaignName = (id: number) => campaigns.data?.find((c) => c.id === id)?.name;
  const calls = useQuery({
    queryKey: ['calls', campaignId, outcome, number, from, to, sort, page],
    queryFn: () =>
      ok(
        api.GET('/api/v1/calls', {
          params: { query: { campaign: campaignId, outcome: outcome || undefined, number: number || undefined, from: from || undefined, to: to || undefined, sort, page, per_page: 25 } },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 4000,
  });
  const filtered = Boolean(outcome || number || from || to);
  return (
    <div className="calls-table">
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setNumber(numberDraft.trim());
          setPage(1);
        }}
      >
        <TextField label={t('calls.number')} value={numberDraft} onChange={(e) => setNumberDraft(e.target.value)} onBlur={() => setNumber(numberDraft.trim())} ltr inputMode="tel" placeholder="052-5551234" />
        <SelectField
          label={t('calls.outcome')}
          value={outcome}
          onChange={(e) => {
            setOutcome(e.target.value as OutcomeFilter | '');
            setPage(1);
          }}
          options={[{ value: '', label: t('common.all') }, ...OUTCOME_FILTER.map((o) => ({ value: o, label: code('outcome', o) }))]}
        />
        <TextField label={t('common.from')} type="date" value={from} onChange={(e) => setFrom(e.target.value)} ltr />
        <TextField label={t('common.to')} type="date" value={to} onChange={(e) => setTo(e.target.value)} ltr hint={t('exports.untilHint')} />
        <button type="submit" className="btn btn-secondary filters-submit">
          {t('common.search')}
        </button>
      </form>
      {calls.isLoading ? (
        <Loading />
      ) : calls.isError ? (
        <ErrorBox error={calls.error} />
      ) : !calls.data || calls.data.items.length === 0 ? (
        <EmptyState icon={<IconCalls size={28} />} title={filtered ? t('calls.noneMatch') : t('calls.emptyTitle')} data-testid="calls-empty">
          {filtered ? t('calls.noneMatchBody') : t('calls.emptyBody')}
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="calls-table">
              <caption className="sr-only">{t('calls.title')}</caption>
              <thead>
                <tr>
                  <SortHeader column="started_at" sort={sort} onSort={setSort}>
                    {t('calls.started')}
                  </SortHeader>
                  <SortHeader column="number" sort={sort} onSort={setSort}>
                    {t('calls.number')}
                  </SortHeader>
                  {showCampaign && <th scope="col">{t('calls.campaign')}</th>}
                  <th scope="col">{t('calls.attempt')}</th>
                  <th scope="col">{t('calls.outcome')}</th>
                  <SortHeader column="talk_ms" sort={sort} onSort={setSort}>
                    {t('calls.talk')}
                  </SortHeader>
                  <th scope="col">{t('calls.keys')}</th>
                  <th scope="col">{t('calls.actions')}</th>
                  <th scope="col">
                    <span className="sr-only">{t('calls.details')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {calls.data.items.map((call) => (
                  <tr key={call.call_id}>
                    <td>
                      <When value={call.started_at} seconds />
                    </td>
                    <td>
                      <Phone number={call.number} />
                    </td>
                    {showCampaign && (
                      <td>
                        {call.campaign_id ? (
                          <Link to={`/campaigns/${call.campaign_id}`}>
                            <bdi>{campaignName(call.campaign_id) ?? `#${call.campaign_id}`}</bdi>
                          </Link>
                        ) : (
                          '—'
                        )}
                      </td>
                    )}
                    <td>
                      <Num value={call.attempt} />
                    </td>
                    <td>
                      <OutcomeBadge call={call} />
                    </td>
                    <td>
                      <bdi dir="ltr" className="num">{formatDuration(call.talk_ms)}</bdi>
                    </td>
                    <td>
                      <bdi dir="ltr">{call.dtmf || '—'}</bdi>
                    </td>
                    <td>
                      {call.converted && <Badge kind="outcome-answered">{t('calls.converted')}</Badge>} {call.opted_out && <Badge kind="outcome-blacklisted">{t('calls.optedOut')}</Badge>}
                    </td>
                    <td>
                      <button type="button" className="link-button" onClick={() => setShown(call)}>
                        {t('calls.details')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination page={calls.data.page} pages={calls.data.pages} total={calls.data.total} onPage={setPage} />
        </>
      )}
      <CallDetails call={shown} onClose={() => setShown(null)} />
    </div>
  );
}

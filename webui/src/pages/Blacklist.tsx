import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, ok } from '../api/client';
import { BLACKLIST_SOURCES, type BlacklistEntry } from '../api/types';
import { ConfirmDialog } from '../components/Dialog';
import { IconBlock, IconDownload, IconTrash } from '../components/Icons';
import { ImportPanel } from '../components/ImportPanel';
import { useToast } from '../components/Toast';
import { Actor } from '../components/Words';
import { Badge, Button, Card, DownloadLink, EmptyState, ErrorBox, Loading, Notice, Pagination, PageHeader, Phone, SelectField, Tabs, TextAreaField, TextField, UserText, When } from '../components/ui';
import { useI18n } from '../i18n';
import { phoneDigits } from '../lib/format';

function AddForm() {
  const { t, code } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [numbers, setNumbers] = useState('');
  const [reason, setReason] = useState('');
  const [source, setSource] = useState('user_optout');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const list = numbers
      .split(/[\n,;]+/)
      .map((n) => n.trim())
      .filter(Boolean);
    if (list.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      const result = await ok(api.POST('/api/v1/blacklist', { body: { numbers: list, reason: reason.trim(), source } }));
      toast.success(t('blacklist.addedToast', { added: result.added, already: result.already_listed, marked: result.contacts_marked }));
      setNumbers('');
      setReason('');
      await queryClient.invalidateQueries({ queryKey: ['blacklist'] });
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="form">
      <TextAreaField data-testid="bl-numbers" label={t('blacklist.numbers')} value={numbers} onChange={(e) => setNumbers(e.target.value)} required rows={3} ltr hint={t('blacklist.numbersHint')} placeholder="052-5551234" error={error instanceof ApiError ? error.field('numbers') : null} />
      <TextField data-testid="bl-reason" label={t('blacklist.reason')} value={reason} onChange={(e) => setReason(e.target.value)} required hint={t('blacklist.reasonHint')} error={error instanceof ApiError ? error.field('reason') : null} />
      <SelectField label={t('blacklist.source')} value={source} onChange={(e) => setSource(e.target.value)} options={BLACKLIST_SOURCES.map((s) => ({ value: s, label: code('source', s) }))} />
      <ErrorBox error={error} />
      <Button type="submit" variant="primary" busy={busy} icon={<IconBlock />} data-testid="bl-add">
        {t('blacklist.add')}
      </Button>
    </form>
  );
}

function ListTab() {
  const { t, code } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [source, setSource] = useState('');
  const [page, setPage] = useState(1);
  const [removing, setRemoving] = useState<BlacklistEntry | null>(null);
  const list = useQuery({
    queryKey: ['blacklist', applied, source, page],
    queryFn: () => ok(api.GET('/api/v1/blacklist', { params: { query: { search: applied || undefined, source: source || undefined, page, per_page: 25 } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(phoneDigits(search));
          setPage(1);
        }}
      >
        <TextField label={t('blacklist.search')} value={search} onChange={(e) => setSearch(e.target.value)} ltr inputMode="tel" hint={t('blacklist.searchHint')} />
        <SelectField
          label={t('blacklist.source')}
          value={source}
          onChange={(e) => {
            setSource(e.target.value);
            setPage(1);
          }}
          options={[{ value: '', label: t('common.all') }, ...BLACKLIST_SOURCES.map((s) => ({ value: s, label: code('source', s) }))]}
        />
        <button type="submit" className="btn btn-secondary filters-submit">
          {t('common.search')}
        </button>
      </form>
      {list.isLoading ? (
        <Loading />
      ) : list.isError ? (
        <ErrorBox error={list.error} />
      ) : !list.data?.items.length ? (
        <EmptyState icon={<IconBlock size={28} />} title={applied || source ? t('blacklist.noneMatch') : t('blacklist.emptyTitle')}>
          {applied || source ? t('blacklist.noneMatchBody') : t('blacklist.emptyBody')}
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="blacklist-table">
              <caption className="sr-only">{t('blacklist.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('blacklist.number')}</th>
                  <th scope="col">{t('blacklist.reason')}</th>
                  <th scope="col">{t('blacklist.source')}</th>
                  <th scope="col">{t('blacklist.addedAt')}</th>
                  <th scope="col">{t('blacklist.addedBy')}</th>
                  <th scope="col">
                    <span className="sr-only">{t('common.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((entry) => (
                  <tr key={entry.number}>
                    <th scope="row">
                      <Phone number={entry.number} />
                    </th>
                    <td>
                      <UserText>{entry.reason}</UserText>
                    </td>
                    <td>
                      <Badge kind="neutral">{code('source', entry.source)}</Badge>
                    </td>
                    <td>
                      <When value={entry.added_at} />
                    </td>
                    <td>
                      <bdi>{entry.added_by ?? '—'}</bdi>
                    </td>
                    <td>
                      <Button variant="ghost" icon={<IconTrash />} onClick={() => setRemoving(entry)}>
                        {t('blacklist.remove')}
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination page={list.data.page} pages={list.data.pages} total={list.data.total} onPage={setPage} />
        </>
      )}
      <ConfirmDialog
        open={removing !== null}
        title={t('blacklist.removeTitle')}
        message={
          <>
            {t('blacklist.removeBody')} <Phone number={removing?.number} />
          </>
        }
        confirmLabel={t('blacklist.remove')}
        danger
        reason={{ label: t('blacklist.removeReason'), required: true, hint: t('blacklist.removeReasonHint') }}
        onClose={() => setRemoving(null)}
        onConfirm={async (reason) => {
          if (!removing) return;
          const result = await ok(api.DELETE('/api/v1/blacklist/{number}', { params: { path: { number: removing.number }, query: { reason } } }));
          await queryClient.invalidateQueries({ queryKey: ['blacklist'] });
          toast.success(t('blacklist.removedToast', { count: result.contacts_unmarked }));
        }}
      />
    </>
  );
}

function HistoryTab() {
  const { t, code } = useI18n();
  const [number, setNumber] = useState('');
  const [applied, setApplied] = useState('');
  const [action, setAction] = useState('');
  const [page, setPage] = useState(1);
  const history = useQuery({
    queryKey: ['blacklist-history', applied, action, page],
    queryFn: () => ok(api.GET('/api/v1/blacklist/history', { params: { query: { number: applied || undefined, action: action || undefined, page, per_page: 25 } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(number.trim());
          setPage(1);
        }}
      >
        <TextField label={t('blacklist.number')} value={number} onChange={(e) => setNumber(e.target.value)} ltr inputMode="tel" />
        <SelectField
          label={t('blacklist.action')}
          value={action}
          onChange={(e) => setAction(e.target.value)}
          options={[
            { value: '', label: t('common.all') },
            { value: 'add', label: t('blacklist.actionAdd') },
            { value: 'remove', label: t('blacklist.actionRemove') },
          ]}
        />
        <button type="submit" className="btn btn-secondary filters-submit">
          {t('common.search')}
        </button>
      </form>
      {history.isLoading ? (
        <Loading />
      ) : history.isError ? (
        <ErrorBox error={history.error} />
      ) : !history.data?.items.length ? (
        <EmptyState title={t('blacklist.historyEmpty')} />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">{t('blacklist.history')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('blacklist.when')}</th>
                  <th scope="col">{t('blacklist.number')}</th>
                  <th scope="col">{t('blacklist.action')}</th>
                  <th scope="col">{t('blacklist.reason')}</th>
                  <th scope="col">{t('blacklist.source')}</th>
                  <th scope="col">{t('blacklist.by')}</th>
                </tr>
              </thead>
              <tbody>
                {history.data.items.map((item) => (
                  <tr key={item.id}>
                    <td><When value={item.at} /></td>
                    <td><Phone number={item.number} /></td>
                    <td>
                      <Badge kind={item.action === 'add' ? 'cancelled' : 'active'}>{item.action === 'add' ? t('blacklist.actionAdd') : t('blacklist.actionRemove')}</Badge>
                    </td>
                    <td><UserText>{item.reason}</UserText></td>
                    <td>{item.source ? code('source', item.source) : '—'}</td>
                    <td><Actor actor={item.actor} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pagination page={history.data.page} pages={history.data.pages} total={history.data.total} onPage={setPage} />
        </>
      )}
    </>
  );
}

function ImportTab() {
  const { t, code } = useI18n();
  const queryClient = useQueryClient();
  const [source, setSource] = useState('admin_import');
  const [reason, setReason] = useState('');
  const [checkedOn, setCheckedOn] = useState('');
  return (
    <>
      <Notice kind="info">{t('blacklist.importIntro')}</Notice>
      <div className="form-row">
        <SelectField label={t('blacklist.source')} value={source} onChange={(e) => setSource(e.target.value)} options={BLACKLIST_SOURCES.map((s) => ({ value: s, label: code('source', s) }))} />
        <TextField label={t('blacklist.reason')} value={reason} onChange={(e) => setReason(e.target.value)} hint={t('blacklist.importReasonHint')} />
        {source === 'compliance' && <TextField label={t('blacklist.checkedOn')} type="date" value={checkedOn} onChange={(e) => setCheckedOn(e.target.value)} ltr />}
      </div>
      <ImportPanel endpoint="/api/v1/blacklist/imports" kind="blacklist" extraFields={{ source, reason, checked_on: checkedOn }} onDone={() => void queryClient.invalidateQueries({ queryKey: ['blacklist'] })} />
    </>
  );
}

export function BlacklistPage() {
  const { t } = useI18n();
  const [tab, setTab] = useState<'list' | 'add' | 'import' | 'history'>('list');
  return (
    <>
      <PageHeader
        title={t('blacklist.title')}
        subtitle={t('blacklist.subtitle')}
        actions={
          <DownloadLink href="/api/v1/blacklist/export" icon={<IconDownload />}>
            {t('blacklist.export')}
          </DownloadLink>
        }
      />
      <Tabs
        label={t('blacklist.sections')}
        value={tab}
        onChange={setTab}
        tabs={[
          { id: 'list', label: t('blacklist.tab.list') },
          { id: 'add', label: t('blacklist.tab.add') },
          { id: 'import', label: t('blacklist.tab.import') },
          { id: 'history', label: t('blacklist.tab.history') },
        ]}
      />
      <div role="tabpanel" aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === 'list' && <ListTab />}
        {tab === 'add' && (
          <Card>
            <AddForm />
          </Card>
        )}
        {tab === 'import' && <ImportTab />}
        {tab === 'history' && <HistoryTab />}
      </div>
    </>
  );
}

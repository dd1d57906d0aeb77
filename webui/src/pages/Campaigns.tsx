import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, ok } from '../api/client';
import { CAMPAIGN_TYPES, STATUSES } from '../api/types';
import { IfRole, useSession } from '../auth/session';
import { IconCampaign, IconPlus, IconSearch } from '../components/Icons';
import { ButtonLink, EmptyState, ErrorBox, Loading, Num, PageHeader, SelectField, SortHeader, StatusBadge, TextField, UserText, When } from '../components/ui';
import { useI18n } from '../i18n';

export function CampaignsPage() {
  const { t, code } = useI18n();
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const type = params.get('type') ?? '';
  const sort = params.get('sort') ?? '-id';
  const [search, setSearch] = useState(params.get('search') ?? '');
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const query = useQuery({
    queryKey: ['campaigns', status, type, params.get('search') ?? '', sort],
    queryFn: () =>
      ok(
        api.GET('/api/v1/campaigns', {
          params: { query: { status: status || undefined, type: type || undefined, search: params.get('search') || undefined, sort } },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const filtered = Boolean(status || type || params.get('search'));
  return (
    <>
      <PageHeader
        title={t('campaigns.title')}
        actions={
          <IfRole least="manager">
            <ButtonLink to="/campaigns/new" variant="primary" icon={<IconPlus />}>
              {t('campaigns.new')}
            </ButtonLink>
          </IfRole>
        }
      />
      <form
        className="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          set('search', search.trim());
        }}
      >
        <TextField label={t('campaigns.search')} value={search} onChange={(e) => setSearch(e.target.value)} onBlur={() => set('search', search.trim())} type="search" />
        <SelectField
          label={t('campaigns.status')}
          value={status}
          onChange={(e) => set('status', e.target.value)}
          options={[{ value: '', label: t('common.all') }, ...STATUSES.map((s) => ({ value: s, label: code('status', s) }))]}
        />
        <SelectField
          label={t('campaigns.type')}
          value={type}
          onChange={(e) => set('type', e.target.value)}
          options={[{ value: '', label: t('common.all') }, ...CAMPAIGN_TYPES.map((s) => ({ value: s, label: code('type', s) }))]}
        />
        <button type="submit" className="btn btn-secondary filters-submit">
          <IconSearch />
          <span>{t('common.search')}</span>
        </button>
      </form>
      {query.isLoading ? (
        <Loading />
      ) : query.isError ? (
        <ErrorBox error={query.error} />
      ) : query.data && query.data.length === 0 ? (
        filtered ? (
          <EmptyState title={t('campaigns.noneMatch')}>{t('campaigns.noneMatchBody')}</EmptyState>
        ) : (
          <EmptyState
            icon={<IconCampaign size={32} />}
            title={t('campaigns.emptyTitle')}
            action={can('manager') ? <ButtonLink to="/campaigns/new" variant="primary" icon={<IconPlus />}>{t('campaigns.new')}</ButtonLink> : undefined}
          >
            {can('manager') ? t('campaigns.emptyManager') : t('campaigns.emptyAnalyst')}
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">{t('campaigns.title')}</caption>
            <thead>
              <tr>
                <SortHeader column="name" sort={sort} onSort={(s) => set('sort', s)}>
                  {t('campaigns.name')}
                </SortHeader>
                <th scope="col">{t('campaigns.type')}</th>
                <th scope="col">{t('campaigns.purpose')}</th>
                <SortHeader column="status" sort={sort} onSort={(s) => set('sort', s)}>
                  {t('campaigns.status')}
                </SortHeader>
                <SortHeader column="contacts" sort={sort} onSort={(s) => set('sort', s)}>
                  {t('campaigns.contacts')}
                </SortHeader>
                <th scope="col">{t('campaigns.blacklistedContacts')}</th>
                <SortHeader column="created_at" sort={sort} onSort={(s) => set('sort', s)}>
                  {t('campaigns.created')}
                </SortHeader>
              </tr>
            </thead>
            <tbody>
              {query.data?.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    <Link to={c.status === 'draft' && can('manager') ? `/campaigns/${c.id}/setup` : `/campaigns/${c.id}`}>
                      <UserText>{c.name}</UserText>
                    </Link>
                    {c.status === 'draft' && can('manager') && <span className="muted small"> · {t('campaigns.continueSetup')}</span>}
                  </th>
                  <td>{code('type', c.type)}</td>
                  <td>{code('purpose', c.purpose)}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>
                    <Num value={c.contacts} />
                  </td>
                  <td>
                    <Num value={c.blacklisted_contacts} />
                  </td>
                  <td>
                    <When value={c.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

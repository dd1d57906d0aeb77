import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import type { FlowDefinition } from '../api/types';
import { IconFlow, IconPlus } from '../components/Icons';
import { ButtonLink, EmptyState, ErrorBox, Loading, Num, PageHeader, UserText, When } from '../components/ui';
import { useI18n } from '../i18n';

export function FlowsPage() {
  const { t } = useI18n();
  const flows = useQuery({ queryKey: ['flows'], queryFn: () => ok(api.GET('/api/v1/flows')) });
  return (
    <>
      <PageHeader
        title={t('flows.title')}
        subtitle={t('flows.subtitle')}
        actions={
          <ButtonLink to="/flows/new" variant="primary" icon={<IconPlus />}>
            {t('flows.new')}
          </ButtonLink>
        }
      />
      {flows.isLoading ? (
        <Loading />
      ) : flows.isError ? (
        <ErrorBox error={flows.error} />
      ) : !flows.data?.length ? (
        <EmptyState icon={<IconFlow size={32} />} title={t('flows.emptyTitle')} action={<ButtonLink to="/flows/new" variant="primary" icon={<IconPlus />}>{t('flows.new')}</ButtonLink>}>
          {t('flows.emptyBody')}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">{t('flows.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('flows.name')}</th>
                <th scope="col">{t('flows.nodes')}</th>
                <th scope="col">{t('flows.updated')}</th>
              </tr>
            </thead>
            <tbody>
              {flows.data.map((flow) => (
                <tr key={flow.id}>
                  <th scope="row">
                    <Link to={`/flows/${flow.id}`}>
                      <UserText>{flow.name}</UserText>
                    </Link>
                  </th>
                  <td>
                    <Num value={Object.keys((flow.definition as unknown as FlowDefinition).nodes ?? {}).length} />
                  </td>
                  <td>
                    <When value={flow.updated_at} />
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

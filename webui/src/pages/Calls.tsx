import { useSearchParams } from 'react-router';
import { CallsTable } from '../components/CallsTable';
import { PageHeader } from '../components/ui';
import { useI18n } from '../i18n';

export function CallsPage() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const campaign = params.get('campaign');
  return (
    <>
      <PageHeader title={t('calls.title')} subtitle={campaign ? t('calls.ofCampaign', { id: campaign }) : t('calls.subtitle')} />
      <CallsTable campaignId={campaign ? Number(campaign) : undefined} showCampaign={!campaign} initialNumber={params.get('number') ?? ''} />
    </>
  );
}

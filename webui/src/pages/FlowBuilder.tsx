import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, ApiError, ok } from '../api/client';
import type { Flow, FlowDefinition } from '../api/types';
import { ConfirmDialog } from '../components/Dialog';
import { FlowEditor } from '../components/FlowEditor';
import { IconDownload, IconTrash } from '../components/Icons';
import { useToast } from '../components/Toast';
import { Button, ErrorBox, Loading, PageHeader, TextField } from '../components/ui';
import { useI18n } from '../i18n';
import { cleanFlow, starterFlow } from '../lib/flow';

/** Saves a flow (new or existing); the box refuses it, with every problem, unless the engine accepts it. */
export async function saveFlow(id: number | null, flow: FlowDefinition): Promise<Flow> {
  const definition = cleanFlow(flow) as unknown as Record<string, never>;
  if (id === null) return ok(api.POST('/api/v1/flows', { body: { name: flow.name, definition } }));
  return ok(api.PUT('/api/v1/flows/{id}', { params: { path: { id } }, body: { name: flow.name, definition } }));
}

export function FlowBuilderPage() {
  const { t } = useI18n();
  const { id } = useParams();
  const isNew = id === 'new';
  const numericId = isNew ? null : Number(id);
  const navigate = useNavigate();
  const toast = useToast();
  const queryClient = useQueryClient();
  const existing = useQuery({
    queryKey: ['flow', numericId],
    queryFn: () => ok(api.GET('/api/v1/flows/{id}', { params: { path: { id: numericId as number } } })),
    enabled: numericId !== null,
  });
  const [flow, setFlow] = useState<FlowDefinition | null>(isNew ? starterFlow(t('flows.defaultName')) : null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => {
    if (existing.data && !flow) setFlow({ ...(existing.data.definition as unknown as FlowDefinition), name: existing.data.name });
  }, [existing.data, flow]);

  if (existing.isLoading || !flow) return existing.isError ? <ErrorBox error={existing.error} /> : <Loading />;

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      const saved = await saveFlow(numericId, flow);
      await queryClient.invalidateQueries({ queryKey: ['flows'] });
      toast.success(t('flows.saved', { name: saved.name }));
      if (isNew) navigate(`/flows/${saved.id}`, { replace: true });
    } catch (cause) {
      setError(cause);
    } finally {
      setSaving(false);
    }
  };
  const download = () => {
    const blob = new Blob([JSON.stringify(cleanFlow(flow), null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${flow.name || 'flow'}.json`;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <>
      <PageHeader
        title={isNew ? t('flows.newTitle') : t('flows.editTitle')}
        back={{ to: '/flows', label: t('flows.title') }}
        actions={
          <>
            <Button icon={<IconDownload />} onClick={download}>
              {t('flows.downloadJson')}
            </Button>
            {!isNew && (
              <Button variant="danger" icon={<IconTrash />} onClick={() => setConfirmDelete(true)}>
                {t('common.delete')}
              </Button>
            )}
            <Button variant="primary" onClick={save} busy={saving}>
              {t('flows.save')}
            </Button>
          </>
        }
      />
      <TextField data-testid="flow-name" label={t('flows.name')} value={flow.name} onChange={(e) => setFlow({ ...flow, name: e.target.value })} required hint={t('flows.nameHint')} error={error instanceof ApiError ? error.field('name') : null} />
      <ErrorBox error={error} title={t('flows.saveFailed')} />
      <FlowEditor flow={flow} onChange={setFlow} />
      <ConfirmDialog
        open={confirmDelete}
        title={t('flows.deleteTitle')}
        message={t('flows.deleteBody', { name: flow.name })}
        confirmLabel={t('common.delete')}
        danger
        onClose={() => setConfirmDelete(false)}
        onConfirm={async () => {
          await ok(api.DELETE('/api/v1/flows/{id}', { params: { path: { id: numericId as number } } }));
          await queryClient.invalidateQueries({ queryKey: ['flows'] });
          toast.success(t('flows.deleted'));
          navigate('/flows');
        }}
      />
    </>
  );
}

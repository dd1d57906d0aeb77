import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ok } from '../api/client';
import type { AudioPrompt } from '../api/types';
import { AudioPanel } from '../components/AudioPanel';
import { ConfirmDialog } from '../components/Dialog';
import { IconAudio, IconTrash } from '../components/Icons';
import { useToast } from '../components/Toast';
import { Button, Card, EmptyState, ErrorBox, Loading, PageHeader, TextField, When } from '../components/ui';
import { useI18n } from '../i18n';
import { Actor } from '../components/Words';
import { promptLabel, validPromptName } from '../lib/flow';
import { formatDuration } from '../lib/format';

export function AudioPage() {
  const { t } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const audio = useQuery({ queryKey: ['audio'], queryFn: () => ok(api.GET('/api/v1/audio')) });
  const [name, setName] = useState('');
  const [removing, setRemoving] = useState<AudioPrompt | null>(null);
  const trimmed = name.trim();
  const nameOk = validPromptName(trimmed);
  return (
    <>
      <PageHeader title={t('audio.title')} subtitle={t('audio.subtitle')} />
      <Card title={t('audio.addTitle')}>
        <TextField label={t('audio.name')} value={name} onChange={(e) => setName(e.target.value)} dir="auto" data-testid="audio-name" hint={t('audio.nameHint')} error={trimmed && !nameOk ? t('audio.nameInvalid') : null} />
        {nameOk && <AudioPanel key={trimmed} name={trimmed} onSaved={() => void queryClient.invalidateQueries({ queryKey: ['audio'] })} />}
      </Card>
      <Card title={t('audio.library')}>
        {audio.isLoading ? (
          <Loading />
        ) : audio.isError ? (
          <ErrorBox error={audio.error} />
        ) : !audio.data?.length ? (
          <EmptyState icon={<IconAudio size={28} />} title={t('audio.emptyTitle')}>
            {t('audio.emptyBody')}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">{t('audio.library')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('audio.name')}</th>
                  <th scope="col">{t('audio.scope')}</th>
                  <th scope="col">{t('audio.duration')}</th>
                  <th scope="col">{t('audio.listen')}</th>
                  <th scope="col">{t('audio.uploaded')}</th>
                  <th scope="col">
                    <span className="sr-only">{t('common.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {audio.data.map((prompt) => (
                  <tr key={`${prompt.folder}/${prompt.name}`}>
                    <th scope="row">
                      <bdi title={prompt.name}>{promptLabel(t, prompt.name)}</bdi>
                    </th>
                    <td>{prompt.campaign_id ? t('audio.campaignScope', { id: prompt.campaign_id }) : t('audio.boxScope')}</td>
                    <td>
                      <bdi dir="ltr" className="num">{formatDuration(prompt.duration_ms)}</bdi>
                    </td>
                    <td>
                      <audio controls preload="none" src={prompt.playback_url} aria-label={t('audio.listenConverted', { name: promptLabel(t, prompt.name) })} />
                    </td>
                    <td>
                      <When value={prompt.created_at} /> <Actor actor={prompt.created_by} />
                    </td>
                    <td>
                      <Button variant="ghost" icon={<IconTrash />} onClick={() => setRemoving(prompt)} aria-label={t('audio.remove', { name: promptLabel(t, prompt.name) })} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <ConfirmDialog
        open={removing !== null}
        title={t('audio.removeTitle')}
        message={t('audio.removeBody', { name: removing ? promptLabel(t, removing.name) : '' })}
        confirmLabel={t('common.delete')}
        danger
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await ok(api.DELETE('/api/v1/audio/{folder}/{name}', { params: { path: { folder: removing.folder, name: removing.name } } }));
          await queryClient.invalidateQueries({ queryKey: ['audio'] });
          toast.success(t('audio.removed', { name: promptLabel(t, removing.name) }));
        }}
      />
    </>
  );
}

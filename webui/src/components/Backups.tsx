// Settings → Backups, for admins: the box's backups (download, back up now), a
// backup uploaded to restore — checked at once, applied by the server at its next
// start, the current database kept aside — the restore waiting, and what became
// of the last one.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ok, request, upload, type UploadProgress } from '../api/client';
import type { BackupsOut, PendingRestore } from '../api/types';
import { useI18n } from '../i18n';
import { formatBytes } from '../lib/format';
import { ConfirmDialog } from './Dialog';
import { IconDownload } from './Icons';
import { FileDrop } from './ImportPanel';
import { useToast } from './Toast';
import { Button, Card, EmptyState, ErrorBox, Loading, Notice, UploadProgressNote, When } from './ui';

const BACKUPS_KEY = ['backups'];
/** Commands, the same in every language. */
const BACKUP_COMMAND = 'shofar db backup';
const RESTART_COMMAND = 'systemctl restart shofar';

export function BackupsCard() {
  const { t } = useI18n();
  const backups = useQuery({ queryKey: BACKUPS_KEY, queryFn: () => ok(api.GET('/api/v1/backups')) });
  return (
    <Card title={t('backups.title')} id="backups">
      {backups.isLoading ? <Loading /> : backups.isError || !backups.data ? <ErrorBox error={backups.error} /> : <BackupsBody data={backups.data} />}
    </Card>
  );
}

function BackupsBody({ data }: { data: BackupsOut }) {
  const { t } = useI18n();
  return (
    <div className="backups">
      <LastRestore data={data} />
      {data.pending_restore && <Pending pending={data.pending_restore} />}
      <p className="hint">{t('backups.intro', { keep: data.keep })}</p>
      <BackupList data={data} />
      <RestoreUpload />
    </div>
  );
}

function BackupList({ data }: { data: BackupsOut }) {
  const { t, lang, dateTime } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const backUp = async () => {
    setBusy(true);
    setError(null);
    try {
      await ok(api.POST('/api/v1/backups'));
      await queryClient.invalidateQueries({ queryKey: BACKUPS_KEY });
      toast.success(t('backups.made'));
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <div className="row-actions">
        <Button variant="primary" busy={busy} onClick={backUp} data-testid="back-up-now">
          {t('backups.backUpNow')}
        </Button>
      </div>
      <ErrorBox error={error} />
      {data.backups.length === 0 ? (
        <EmptyState title={t('backups.empty')} />
      ) : (
        <div className="table-wrap">
          <table className="table table-compact" data-testid="backup-list">
            <caption className="sr-only">{t('backups.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('backups.when')}</th>
                <th scope="col">{t('backups.size')}</th>
                <th scope="col">
                  <span className="sr-only">{t('backups.download')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.backups.map((backup) => (
                <tr key={backup.name}>
                  <td>
                    <When value={backup.modified_at} />
                  </td>
                  <td>
                    <bdi dir="ltr" className="num">
                      {formatBytes(lang, backup.bytes)}
                    </bdi>
                  </td>
                  <td>
                    <a className="btn btn-ghost" href={backup.download_url} download={backup.name} aria-label={t('backups.downloadNamed', { when: dateTime(backup.modified_at) })}>
                      <IconDownload />
                      <span>{t('backups.download')}</span>
                    </a>
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

function Pending({ pending }: { pending: PendingRestore }) {
  const { t, dateTime } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await request('/api/v1/backups/restore', { method: 'DELETE' });
      await queryClient.invalidateQueries({ queryKey: BACKUPS_KEY });
      toast.info(t('backups.cancelled'));
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Notice kind="warning">
      <strong>{t('backups.pendingTitle')}</strong>
      <p data-testid="pending-restore">
        {t('backups.pending', {
          name: pending.file_name,
          when: dateTime(pending.staged_at),
          campaigns: pending.contents.campaigns,
          contacts: pending.contents.contacts,
        })}
      </p>
      <p>
        {t('backups.pendingApply')} <code dir="ltr">{RESTART_COMMAND}</code>
      </p>
      <ErrorBox error={error} />
      <Button busy={busy} onClick={cancel}>
        {t('backups.cancelRestore')}
      </Button>
    </Notice>
  );
}

function LastRestore({ data }: { data: BackupsOut }) {
  const { t, dateTime } = useI18n();
  const last = data.last_restore;
  if (!last) return null;
  const vars = { name: last.file_name, when: dateTime(last.at) };
  return last.restored ? (
    <Notice kind="success">
      <p data-testid="last-restore">{t('backups.lastRestored', vars)}</p>
      {last.kept && (
        <p>
          {t('backups.lastKept')}{' '}
          <bdi dir="ltr" className="path">
            {last.kept}
          </bdi>
        </p>
      )}
    </Notice>
  ) : (
    <Notice kind="error">
      <p data-testid="last-restore">{t('backups.lastRefused', vars)}</p>
      {last.problem && (
        <p className="detail">
          <bdi lang="en" dir="ltr">
            {last.problem}
          </bdi>
        </p>
      )}
    </Notice>
  );
}

function RestoreUpload() {
  const { t } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const send = async () => {
    if (!file) return;
    const form = new FormData();
    form.append('file', file, file.name);
    setProgress({ loaded: 0, total: file.size });
    try {
      await upload<PendingRestore>('/api/v1/backups/restore', form, setProgress);
      await queryClient.invalidateQueries({ queryKey: BACKUPS_KEY });
      toast.success(t('backups.staged'));
    } finally {
      setProgress(null);
    }
  };
  return (
    <section className="backups-restore" aria-labelledby="backups-restore-title">
      <h3 id="backups-restore-title">{t('backups.restoreTitle')}</h3>
      <FileDrop accept=".db,.sqlite,.sqlite3,application/vnd.sqlite3" label={t('backups.chooseFile')} onFile={setFile} disabled={progress !== null} testId="restore-file" />
      <p className="hint">
        {t('backups.restoreHint')} <code dir="ltr">{BACKUP_COMMAND}</code>
      </p>
      <ConfirmDialog
        open={file !== null}
        title={t('backups.confirmTitle')}
        message={
          <>
            <p>{t('backups.confirmFile', { name: file?.name ?? '' })}</p>
            <p>{t('backups.confirmWhat')}</p>
            <p>{t('backups.confirmKept')}</p>
            {progress && <UploadProgressNote progress={progress} label={t('backups.uploading')} />}
          </>
        }
        confirmLabel={t('backups.confirmOk')}
        danger
        onConfirm={send}
        onClose={() => setFile(null)}
      />
    </section>
  );
}

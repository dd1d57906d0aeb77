// Settings → System update, for admins: the version and root slot that run; on
// the appliance image, a signed bundle (.raucb) handed to the installer, followed
// while it is checked and written into the other slot, then — when the admin
// confirms — a reboot into it, waited out until the box answers again. Anywhere
// else (the Debian package, `make run`) it only says how that installation is
// updated. The box decides everything; the page only shows what it says.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { api, ok, request, upload, type UploadProgress } from '../api/client';
import type { UpdateState, UpdateStatus } from '../api/types';
import { useI18n } from '../i18n';
import { ConfirmDialog } from './Dialog';
import { FileDrop } from './ImportPanel';
import { useToast } from './Toast';
import { Button, Card, ErrorBox, Loading, Notice, ProgressBar, UploadProgressNote, When } from './ui';

const UPDATE_KEY = ['system-update'];
/** How often the installer's progress, and then the rebooting box, are asked after. */
const POLL_MS = 2500;
/** After this long restarting, the page says so (a reboot takes a few minutes). */
const SLOW_REBOOT_MS = 10 * 60 * 1000;
/** A command and a file name's ending, the same in every language. */
const BUNDLE_EXTENSION = '.raucb';
const DEB_COMMAND = 'apt install ./shofar_VERSION_amd64.deb';

/** The installer's states (UPDATE_STATES) while it still works on a bundle: GET is asked again. */
const WORKING = new Set<string>(['waiting', 'checking', 'installing'] satisfies UpdateState[]);

function working(status: UpdateStatus | undefined): boolean {
  return !!status?.last && WORKING.has(status.last.state);
}

/** `pollMs`: tests make it short. */
export function UpdatesCard({ pollMs = POLL_MS }: { pollMs?: number }) {
  const { t } = useI18n();
  const status = useQuery({
    queryKey: UPDATE_KEY,
    queryFn: () => ok(api.GET('/api/v1/system/update')),
    refetchInterval: (query) => (working(query.state.data) ? pollMs : false),
  });
  return (
    <Card title={t('updates.title')} id="updates">
      {status.isLoading ? <Loading /> : status.isError || !status.data ? <ErrorBox error={status.error} /> : <UpdatesBody status={status.data} pollMs={pollMs} />}
    </Card>
  );
}

function UpdatesBody({ status, pollMs }: { status: UpdateStatus; pollMs: number }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [restarting, setRestarting] = useState(false);
  const [back, setBack] = useState(false);
  const cameBack = async () => {
    await queryClient.invalidateQueries();
    setRestarting(false);
    setBack(true);
  };
  return (
    <div className="updates">
      <Running status={status} />
      {!status.available ? (
        <Notice kind="info">
          <p data-testid="updates-not-available">{t('updates.notAvailable')}</p>
          <p>{t('updates.debianHow')}</p>
          <p>
            <code dir="ltr">{DEB_COMMAND}</code>
          </p>
        </Notice>
      ) : restarting ? (
        <Restarting pollMs={pollMs} onBack={cameBack} />
      ) : (
        <>
          {back && (
            <Notice kind="success">
              <p data-testid="updates-back">{t('updates.back')}</p>
            </Notice>
          )}
          <LastUpdate
            status={status}
            onRebooting={() => {
              setBack(false);
              setRestarting(true);
            }}
          />
          <BundleUpload disabled={working(status)} />
        </>
      )}
    </div>
  );
}

function Running({ status }: { status: UpdateStatus }) {
  const { t } = useI18n();
  return (
    <dl className="facts">
      <div className="fact">
        <dt>{t('updates.version')}</dt>
        <dd data-testid="updates-version">{status.version ? <bdi dir="ltr">{status.version}</bdi> : t('updates.unknown')}</dd>
      </div>
      {status.slot && (
        <div className="fact">
          <dt>{t('updates.slot')}</dt>
          <dd>
            <bdi dir="ltr">{status.slot}</bdi>
          </dd>
        </div>
      )}
    </dl>
  );
}

/** The installer's own sentence: English, after the words of the UI's language. */
function FromInstaller({ message }: { message: string }) {
  if (!message) return null;
  return (
    <p className="detail">
      <bdi lang="en" dir="ltr">
        {message}
      </bdi>
    </p>
  );
}

function LastUpdate({ status, onRebooting }: { status: UpdateStatus; onRebooting: () => void }) {
  const { t, code } = useI18n();
  const last = status.last;
  if (!last) return null;
  const version = last.version ?? '';
  const stateWords = code('updates.state', last.state);
  if (WORKING.has(last.state)) {
    return (
      <Notice kind="info">
        <p data-testid="update-state">
          <strong>{stateWords}</strong> {version && t('updates.ofVersion', { version })}
        </p>
        <ProgressBar value={0} indeterminate label={stateWords} />
        <FromInstaller message={last.message} />
        <p className="hint">{t('updates.keepsRunning')}</p>
      </Notice>
    );
  }
  if (last.state === 'installed') {
    // After the reboot the installer's last word is still "installed": the new
    // version is then the one running, with nothing left to reboot into.
    if (version && version === status.version) {
      return (
        <Notice kind="success">
          <p data-testid="update-state">{t('updates.runningNow', { version })}</p>
        </Notice>
      );
    }
    return <Installed version={version} at={last.at ?? null} message={last.message} onRebooting={onRebooting} />;
  }
  return (
    <Notice kind="error">
      <p data-testid="update-state">
        <strong>{stateWords}</strong> {version && t('updates.ofVersion', { version })}
      </p>
      <p>{last.state === 'refused' ? t('updates.refusedWhy') : t('updates.failedWhy')}</p>
      <FromInstaller message={last.message} />
      {last.at && (
        <p className="hint">
          <When value={last.at} />
        </p>
      )}
    </Notice>
  );
}

function Installed({ version, at, message, onRebooting }: { version: string; at: string | null; message: string; onRebooting: () => void }) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  const reboot = async () => {
    await request('/api/v1/system/reboot', { method: 'POST' });
    onRebooting();
  };
  return (
    <Notice kind="success">
      <p data-testid="update-state">
        <strong>{t('updates.state.installed')}</strong> {version && t('updates.ofVersion', { version })}
      </p>
      <p>{t('updates.installedWhat')}</p>
      <FromInstaller message={message} />
      {at && (
        <p className="hint">
          <When value={at} />
        </p>
      )}
      <div className="row-actions">
        <Button variant="danger" onClick={() => setAsking(true)} data-testid="reboot-now">
          {t('updates.rebootNow')}
        </Button>
      </div>
      <ConfirmDialog
        open={asking}
        title={t('updates.rebootTitle')}
        message={
          <>
            <p>{t('updates.rebootWhat')}</p>
            <p>{t('updates.rebootCalls')}</p>
            <p>{t('updates.rebootAway')}</p>
            <p>{t('updates.rollback')}</p>
          </>
        }
        confirmLabel={t('updates.rebootOk')}
        danger
        onConfirm={reboot}
        onClose={() => setAsking(false)}
      />
    </Notice>
  );
}

/**
 * Asks `/healthz` until the box has gone away and answered again (asking only
 * for an answer would catch the box before it went down).
 */
function Restarting({ pollMs, onBack }: { pollMs: number; onBack: () => Promise<void> }) {
  const { t } = useI18n();
  const [wentDown, setWentDown] = useState(false);
  const [slow, setSlow] = useState(false);
  const onBackRef = useRef(onBack);
  onBackRef.current = onBack;
  useEffect(() => {
    let stopped = false;
    let down = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    const ask = async () => {
      let answered = false;
      try {
        await request('/healthz', { cache: 'no-store' });
        answered = true;
      } catch {
        answered = false;
      }
      if (stopped) return;
      if (answered && down) {
        void onBackRef.current();
        return;
      }
      if (!answered && !down) {
        down = true;
        setWentDown(true);
      }
      if (Date.now() - started > SLOW_REBOOT_MS) setSlow(true);
      timer = setTimeout(ask, pollMs);
    };
    timer = setTimeout(ask, pollMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [pollMs]);
  return (
    <Notice kind="warning">
      <p data-testid="updates-restarting">
        <strong>{t('updates.restarting')}</strong>
      </p>
      <p>{wentDown ? t('updates.restartingDown') : t('updates.restartingSoon')}</p>
      <ProgressBar value={0} indeterminate label={t('updates.restarting')} />
      {slow && <p>{t('updates.restartingSlow')}</p>}
    </Notice>
  );
}

function BundleUpload({ disabled }: { disabled: boolean }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const send = async () => {
    if (!file) return;
    const form = new FormData();
    form.append('file', file, file.name);
    setProgress({ loaded: 0, total: file.size });
    try {
      const status = await upload<UpdateStatus>('/api/v1/system/update', form, setProgress);
      // The answer already says "waiting": the query polls from it on.
      queryClient.setQueryData(UPDATE_KEY, status);
      toast.info(t('updates.uploaded'));
    } finally {
      setProgress(null);
    }
  };
  return (
    <section className="updates-install" aria-labelledby="updates-install-title">
      <h3 id="updates-install-title">{t('updates.installTitle')}</h3>
      <FileDrop accept={BUNDLE_EXTENSION} label={t('updates.chooseFile')} onFile={setFile} disabled={disabled || progress !== null} testId="update-file" />
      <p className="hint">
        {t('updates.installHint')} <code dir="ltr">{BUNDLE_EXTENSION}</code>
      </p>
      <ConfirmDialog
        open={file !== null}
        title={t('updates.confirmTitle')}
        message={
          <>
            <p>{t('updates.confirmFile', { name: file?.name ?? '' })}</p>
            <p>{t('updates.confirmWhat')}</p>
            <p>{t('updates.rollback')}</p>
            {progress && <UploadProgressNote progress={progress} label={t('updates.uploading')} />}
          </>
        }
        confirmLabel={t('updates.confirmOk')}
        onConfirm={send}
        onClose={() => setFile(null)}
      />
    </section>
  );
}

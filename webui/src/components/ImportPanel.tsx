// A spreadsheet upload that becomes an import job on the box: the bytes' upload
// progress, then the rows' progress (the job), then the exact summary, the invalid
// rows with their reasons, and the rejected-rows file. All or nothing: a failed
// import changed nothing, and says why.
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { api, ok, upload, type UploadProgress } from '../api/client';
import type { ImportSummary, Job } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';
import { formatBytes } from '../lib/format';
import { IconDownload, IconUpload } from './Icons';
import { useToast } from './Toast';
import { ErrorBox, messageLang, Notice, Num, Pct, ProgressBar, SelectField, TextField } from './ui';

const SPREADSHEETS = '.xlsx,.xls,.ods,.csv';

/**
 * What the box read of a number with a letter typed onto its digits
 * (`052 555 1234x` → `052 555 1234`), as the box's normalizer reads it: from the
 * first digit or `+` to the digit the letter touches.
 */
export function readBeforeLetter(value: string): string | null {
  const start = value.search(/[\d+]/);
  if (start < 0) return null;
  const match = /^(.*?\d)(?=\p{L})/u.exec(value.slice(start));
  return match ? match[1] : null;
}

export function FileDrop({ accept, onFile, label, hint, disabled, testId }: { accept: string; onFile: (file: File) => void; label: string; hint?: string; disabled?: boolean; testId?: string }) {
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer.files?.[0];
    if (file && !disabled) onFile(file);
  };
  return (
    <div
      className={over ? 'file-drop file-drop-over' : 'file-drop'}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <IconUpload size={28} />
      <label className="btn btn-secondary">
        <span>{label}</span>
        <input
          ref={input}
          type="file"
          accept={accept}
          className="sr-only"
          disabled={disabled}
          data-testid={testId}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) onFile(file);
            e.target.value = '';
          }}
        />
      </label>
      {hint && <p className="hint">{hint}</p>}
    </div>
  );
}

export function ImportSummaryView({ summary, rejectedUrl, kind }: { summary: ImportSummary; rejectedUrl?: string | null; kind: 'contacts' | 'blacklist' }) {
  const { t, code } = useI18n();
  const lineTypes = Object.entries(summary.line_types ?? {}).filter(([, n]) => n > 0);
  return (
    <div className="import-summary" data-testid="import-summary">
      <dl className="summary-grid">
        <div>
          <dt>{t('import.rows')}</dt>
          <dd><Num value={summary.total_rows} /></dd>
        </div>
        <div className="good">
          <dt>{kind === 'blacklist' ? t('import.added') : t('import.imported')}</dt>
          <dd><Num value={kind === 'blacklist' ? (summary.added ?? summary.imported) : summary.imported} /></dd>
        </div>
        {kind === 'blacklist' && summary.already_listed !== undefined && (
          <div>
            <dt>{t('import.alreadyListed')}</dt>
            <dd><Num value={summary.already_listed} /></dd>
          </div>
        )}
        <div>
          <dt>{t('import.duplicates')}</dt>
          <dd><Num value={summary.duplicates} /></dd>
        </div>
        <div className={summary.invalid > 0 ? 'bad' : undefined}>
          <dt>{t('import.invalid')}</dt>
          <dd><Num value={summary.invalid} /></dd>
        </div>
        {kind === 'contacts' && (
          <div>
            <dt>{t('import.blacklisted')}</dt>
            <dd><Num value={summary.blacklisted} /></dd>
          </div>
        )}
      </dl>
      {lineTypes.length > 0 && (
        <p>
          {t('import.lineTypes')}{' '}
          {lineTypes.map(([type, n], i) => (
            <span key={type}>
              {i > 0 && ' · '}
              {code('lineType', type)} <Num value={n} />
            </span>
          ))}
        </p>
      )}
      {summary.consent && (summary.consent.given || summary.consent.refused) ? (
        <p>
          {t('import.consent')} {t('import.consentGiven')} <Num value={summary.consent.given ?? 0} /> · {t('import.consentRefused')} <Num value={summary.consent.refused ?? 0} /> · {t('import.consentNone')}{' '}
          <Num value={summary.consent.unknown ?? 0} />
        </p>
      ) : null}
      {kind === 'contacts' && summary.sms_capable !== undefined && summary.imported > summary.sms_capable && (
        <p className="hint">{t('import.notSms', { count: summary.imported - summary.sms_capable })}</p>
      )}
      {kind === 'contacts' && summary.blacklisted > 0 && <p className="hint">{t('import.blacklistedHint')}</p>}
      {summary.invalid_rows && summary.invalid_rows.length > 0 && (
        <details className="invalid-rows">
          <summary>{t('import.showInvalid', { count: summary.invalid_rows.length })}</summary>
          <div className="table-wrap">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">{t('import.row')}</th>
                  <th scope="col">{t('import.value')}</th>
                  <th scope="col">{t('import.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {summary.invalid_rows.map((row) => (
                  <tr key={`${row.row}-${row.value}`}>
                    <td><Num value={row.row} /></td>
                    <td><bdi dir="ltr">{row.value || '—'}</bdi></td>
                    <td>
                      {row.code && code('reject', row.code) !== row.code ? code('reject', row.code) : <bdi lang={messageLang(row.reason ?? '')} dir="auto">{row.reason}</bdi>}
                      {row.code === 'letter_in_number' && row.value && readBeforeLetter(row.value) && (
                        <>
                          {' '}
                          {t('import.readAs')} <bdi dir="ltr">{readBeforeLetter(row.value)}</bdi>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {summary.invalid_rows_truncated && <p className="hint">{t('import.truncated')}</p>}
        </details>
      )}
      {rejectedUrl && (
        <a className="btn btn-secondary" href={rejectedUrl} download>
          <IconDownload />
          <span>{t('import.downloadRejected')}</span>
        </a>
      )}
    </div>
  );
}

/** Follows a job until it ends. */
export function useJob(jobId: number | null, onDone?: (job: Job) => void) {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);
  const done = useRef(onDone);
  done.current = onDone;
  useEffect(() => {
    if (jobId === null) {
      setJob(null);
      return;
    }
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const next = await ok(api.GET('/api/v1/jobs/{id}', { params: { path: { id: jobId } } }));
        if (stopped) return;
        setJob(next);
        if (next.status === 'running') timer = setTimeout(poll, 400);
        else done.current?.(next);
      } catch (cause) {
        if (!stopped) setError(cause);
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [jobId]);
  return { job, error };
}

export function JobProgress({ job }: { job: Job }) {
  const { t } = useI18n();
  const known = job.percent !== null && job.percent !== undefined;
  return (
    <div className="job-progress">
      <p>
        {job.finishing ? t('import.finishing') : t('import.reading')} <bdi>{job.file_name}</bdi>{' '}
        {known && <Pct value={(job.percent ?? 0) / 100} digits={0} />}
      </p>
      <ProgressBar value={job.percent ?? 0} indeterminate={!known || job.finishing} label={t('import.progress')} />
    </div>
  );
}

export function ImportPanel({
  endpoint,
  kind,
  onDone,
  extraFields,
  extra,
}: {
  endpoint: string;
  kind: 'contacts' | 'blacklist';
  onDone?: (job: Job) => void;
  extraFields?: Record<string, string>;
  extra?: React.ReactNode;
}) {
  const { t, lang } = useI18n();
  const toast = useToast();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const [sheet, setSheet] = useState('');
  const [phoneColumn, setPhoneColumn] = useState('');
  const [duplicates, setDuplicates] = useState('');
  const { job, error: jobError } = useJob(jobId, (finished) => {
    if (finished.status === 'completed') toast.success(t(kind === 'contacts' ? 'import.doneContacts' : 'import.doneBlacklist'));
    onDone?.(finished);
  });

  const start = async (chosen: File) => {
    setFile(chosen);
    setError(null);
    setJobId(null);
    const form = new FormData();
    if (sheet.trim()) form.append('sheet', sheet.trim());
    if (phoneColumn.trim()) form.append('phone_column', phoneColumn.trim());
    if (duplicates && kind === 'contacts') form.append('duplicates', duplicates);
    for (const [key, value] of Object.entries(extraFields ?? {})) if (value) form.append(key, value);
    form.append('file', chosen, chosen.name);
    setProgress({ loaded: 0, total: chosen.size });
    try {
      const started = await upload<Job>(endpoint, form, setProgress);
      setJobId(started.id);
    } catch (cause) {
      setError(cause);
    } finally {
      setProgress(null);
    }
  };

  const running = progress !== null || job?.status === 'running';
  const summary = job?.status === 'completed' ? (job.summary as unknown as ImportSummary | null) : null;
  return (
    <div className="import-panel">
      <FileDrop accept={SPREADSHEETS} onFile={start} label={t('import.choose')} hint={t(kind === 'contacts' ? 'import.hintContacts' : 'import.hintBlacklist')} disabled={running} testId={`import-file-${kind}`} />
      <details className="advanced">
        <summary>{t('import.options')}</summary>
        <div className="form-row">
          <TextField label={t('import.sheet')} hint={t('import.sheetHint')} value={sheet} onChange={(e) => setSheet(e.target.value)} />
          <TextField label={t('import.phoneColumn')} hint={t('import.phoneColumnHint')} value={phoneColumn} onChange={(e) => setPhoneColumn(e.target.value)} />
          {kind === 'contacts' && (
            <SelectField
              label={t('import.duplicatesMode')}
              value={duplicates}
              onChange={(e) => setDuplicates(e.target.value)}
              options={[
                { value: '', label: t('import.duplicatesDefault') },
                { value: 'keep_first', label: t('import.duplicatesKeepFirst') },
                { value: 'merge', label: t('import.duplicatesMerge') },
              ]}
            />
          )}
        </div>
        {extra}
      </details>
      {progress && file && (
        <div className="job-progress">
          <p>
            {t('import.uploading')} <bdi>{file.name}</bdi> (<bdi dir="ltr">{formatBytes(lang, progress.loaded)}</bdi> / <bdi dir="ltr">{formatBytes(lang, progress.total)}</bdi>)
          </p>
          <ProgressBar value={progress.loaded} max={progress.total || 1} label={t('import.uploadProgress')} />
        </div>
      )}
      {job?.status === 'running' && <JobProgress job={job} />}
      {job?.status === 'failed' && (
        <Notice kind="error">
          {/* A do-not-call import that stopped half way keeps what it listed (its error says how many). */}
          <strong>{t('import.failedTitle')}</strong> {job.error_code !== 'blacklist_partly_added' && t('import.failedBody')}
          {job.error && (
            <div className="detail">
              <JobErrorText job={job} />
            </div>
          )}
        </Notice>
      )}
      {summary && <ImportSummaryView summary={summary} rejectedUrl={job?.rejected_rows_url} kind={kind} />}
      <ErrorBox error={error ?? jobError} />
    </div>
  );
}

/** A failed job's reason in the UI's language when its code is known (the file named as uploaded); else the box's English sentence. */
export function JobErrorText({ job }: { job: Pick<Job, 'error' | 'error_code' | 'error_params' | 'file_name'> }) {
  const { t } = useI18n();
  const key = `import.error.${job.error_code ?? ''}` as MessageKey;
  const text = t(key, { ...(job.error_params ?? {}), file: job.file_name });
  if (job.error_code && text !== key) return <span title={job.error ?? undefined}>{text}</span>;
  return (
    <bdi lang={messageLang(job.error ?? '')} dir="auto">
      {job.error}
    </bdi>
  );
}

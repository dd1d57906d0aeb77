// One prompt: upload a WAV/MP3 or record it in the browser, listen before saving,
// then save (the box converts it once for the trunk) and listen to what the trunk
// will play.
import { createContext, useContext, useEffect, useId, useRef, useState } from 'react';
import { ApiError, upload, type UploadProgress } from '../api/client';
import type { AudioPrompt, UploadedAudio } from '../api/types';
import { useI18n } from '../i18n';
import { savedRecordingMessage } from '../lib/words';
import { formatDuration } from '../lib/format';
import type { PendingWork } from '../lib/pending';
import { recordingToWav } from '../lib/wav';
import { IconRecord, IconStop, IconUpload } from './Icons';
import { useToast } from './Toast';
import { Button, ErrorBox, Notice, Num, ProgressBar } from './ui';

const MAX_SECONDS = 600;
const ACCEPT = '.wav,.mp3,audio/wav,audio/x-wav,audio/mpeg';

/**
 * Where an audio panel registers a chosen or recorded sound it has not saved yet,
 * so that the page's main button (the wizard's "next") saves it or says why not.
 */
export const PendingWorkContext = createContext<PendingWork | null>(null);

type Candidate = { blob: Blob; fileName: string; url: string; source: 'file' | 'recording'; seconds?: number };

export function AudioPanel({
  name,
  campaignId,
  current,
  onSaved,
  compact = false,
}: {
  name: string;
  campaignId?: number;
  current?: AudioPrompt | null;
  onSaved?: (saved: UploadedAudio) => void;
  compact?: boolean;
}) {
  const { t } = useI18n();
  const toast = useToast();
  const [candidate, setCandidate] = useState<Candidate | null>(null);
  const [recording, setRecording] = useState(false);
  const [preparing, setPreparing] = useState(false);
  const [elapsed, setElapsed] = useState(0);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<UploadedAudio | null>(null);
  const recorder = useRef<MediaRecorder | null>(null);
  const timer = useRef<ReturnType<typeof setInterval> | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const pending = useContext(PendingWorkContext);
  const pendingKey = useId();

  useEffect(
    () => () => {
      if (timer.current) clearInterval(timer.current);
      recorder.current?.stream.getTracks().forEach((track) => track.stop());
    },
    [],
  );
  useEffect(() => () => (candidate ? URL.revokeObjectURL(candidate.url) : undefined), [candidate]);

  const choose = (blob: Blob, fileName: string, source: Candidate['source'], seconds?: number) => {
    setSaved(null);
    setError(null);
    setProblem(null);
    setCandidate({ blob, fileName, url: URL.createObjectURL(blob), source, seconds });
  };

  const onFile = (file: File | undefined) => {
    if (!file) return;
    const lower = file.name.toLowerCase();
    if (!lower.endsWith('.wav') && !lower.endsWith('.mp3')) {
      setProblem(t('audio.wrongType'));
      return;
    }
    choose(file, file.name, 'file');
  };

  const startRecording = async () => {
    setProblem(null);
    setError(null);
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      setProblem(t('audio.noRecorder'));
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      setProblem(t('audio.micDenied'));
      return;
    }
    const chunks: Blob[] = [];
    const media = new MediaRecorder(stream);
    recorder.current = media;
    media.ondataavailable = (event) => {
      if (event.data.size > 0) chunks.push(event.data);
    };
    media.onstop = async () => {
      stream.getTracks().forEach((track) => track.stop());
      if (timer.current) clearInterval(timer.current);
      setRecording(false);
      setPreparing(true);
      try {
        const { wav, seconds } = await recordingToWav(new Blob(chunks, { type: media.mimeType }));
        choose(wav, `${name}.wav`, 'recording', seconds);
      } catch {
        setProblem(t('audio.convertFailed'));
      } finally {
        setPreparing(false);
      }
    };
    media.start(250);
    const started = Date.now();
    setElapsed(0);
    setRecording(true);
    timer.current = setInterval(() => {
      const seconds = (Date.now() - started) / 1000;
      setElapsed(seconds);
      if (seconds >= MAX_SECONDS) media.stop();
    }, 200);
  };

  const save = async (): Promise<boolean> => {
    if (!candidate) return true;
    const form = new FormData();
    form.append('name', name);
    if (campaignId !== undefined) form.append('campaign_id', String(campaignId));
    form.append('file', candidate.blob, candidate.fileName);
    setError(null);
    setProgress({ loaded: 0, total: candidate.blob.size });
    try {
      const result = await upload<UploadedAudio>('/api/v1/audio', form, setProgress);
      setSaved(result);
      setCandidate(null);
      toast.success(savedRecordingMessage(t, name));
      onSaved?.(result);
      return true;
    } catch (cause) {
      setError(cause);
      return false;
    } finally {
      setProgress(null);
    }
  };
  const saveRef = useRef(save);
  saveRef.current = save;

  // Nothing chosen may be dropped silently: a sound chosen or recorded but not
  // saved, or a recording still running, is unsaved work the page knows of.
  useEffect(() => {
    if (!pending) return;
    if (recording || preparing) pending.set(pendingKey, { label: name, blocked: t('audio.pendingRecording') });
    else if (candidate) pending.set(pendingKey, { label: name, save: () => saveRef.current() });
    else pending.set(pendingKey, null);
  }, [pending, pendingKey, recording, preparing, candidate, name, t]);
  useEffect(() => () => pending?.set(pendingKey, null), [pending, pendingKey]);

  const shown = saved?.audio ?? current ?? null;
  return (
    <div className={compact ? 'audio-panel compact' : 'audio-panel'}>
      {shown && !candidate && (
        <div className="audio-current" data-testid="audio-current">
          <div>
            <strong>{t('audio.current')}</strong>{' '}
            {shown.duration_ms !== null && shown.duration_ms !== undefined && <bdi dir="ltr" className="num">{formatDuration(shown.duration_ms)}</bdi>}
          </div>
          <audio controls preload="none" src={shown.playback_url} aria-label={t('audio.listenConverted', { name })} />
          {saved && (
            <p className="hint">
              {t('audio.convertedFrom', { format: saved.source_format.toUpperCase(), rate: saved.source_sample_rate })} · {t('audio.peak')}{' '}
              <Num value={saved.peak_dbfs} digits={1} /> dBFS
            </p>
          )}
          {saved?.silent && <Notice kind="warning">{t('audio.silent')}</Notice>}
        </div>
      )}
      <div className="audio-actions">
        <input ref={fileInput} type="file" accept={ACCEPT} className="sr-only" id={`audio-file-${name}`} onChange={(e) => onFile(e.target.files?.[0])} data-testid={`audio-file-${name}`} />
        <label htmlFor={`audio-file-${name}`} className="btn btn-secondary">
          <IconUpload />
          <span>{shown ? t('audio.replaceFile') : t('audio.chooseFile')}</span>
        </label>
        {recording ? (
          <Button variant="danger" icon={<IconStop />} onClick={() => recorder.current?.stop()} data-testid="audio-stop">
            {t('audio.stop')} <bdi dir="ltr" className="num">{formatDuration(elapsed * 1000)}</bdi>
          </Button>
        ) : (
          <Button icon={<IconRecord />} onClick={startRecording} busy={preparing} data-testid="audio-record">
            {preparing ? t('audio.preparing') : t('audio.record')}
          </Button>
        )}
      </div>
      {recording && (
        <p className="recording-live" role="status">
          <span className="rec-dot" aria-hidden="true" /> {t('audio.recordingNow')}
        </p>
      )}
      {problem && <Notice kind="error">{problem}</Notice>}
      {candidate && (
        <div className="audio-candidate">
          <p>
            {candidate.source === 'recording' ? t('audio.previewRecording') : t('audio.previewFile')} <bdi>{candidate.fileName}</bdi>
          </p>
          <audio controls src={candidate.url} aria-label={t('audio.preview')} />
          {pending && <p className="hint">{t('audio.unsavedHint')}</p>}
          <div className="audio-actions">
            <Button variant="primary" onClick={() => void save()} busy={progress !== null} data-testid="audio-save">
              {t('audio.save')}
            </Button>
            <Button variant="ghost" onClick={() => setCandidate(null)} disabled={progress !== null}>
              {t('audio.discard')}
            </Button>
          </div>
          {progress && <ProgressBar value={progress.loaded} max={progress.total || 1} label={t('audio.uploading')} />}
        </div>
      )}
      {error instanceof ApiError && error.code === 'unprocessable_file' ? <Notice kind="error">{t('audio.unprocessable')}</Notice> : <ErrorBox error={error} />}
    </div>
  );
}

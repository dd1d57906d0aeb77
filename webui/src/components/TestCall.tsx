// A test call to one's own phone, with the campaign's flow, message and caller ID,
// before calling thousands (POST /api/v1/calls/test): followed live until it ends.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, ok } from '../api/client';
import type { CallRecord } from '../api/types';
import { useI18n } from '../i18n';
import { formatDuration } from '../lib/format';
import { OutcomeBadge } from './CallsTable';
import { Dialog } from './Dialog';
import { Button, ErrorBox, Notice, TextField } from './ui';

export function TestCallDialog({ open, campaignId, onClose }: { open: boolean; campaignId?: number; onClose: () => void }) {
  const { t } = useI18n();
  const [number, setNumber] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [callId, setCallId] = useState<string | null>(null);
  const [record, setRecord] = useState<CallRecord | null>(null);

  useEffect(() => {
    if (!open) {
      setCallId(null);
      setRecord(null);
      setError(null);
    }
  }, [open]);

  useEffect(() => {
    if (!callId) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const next = await ok(api.GET('/api/v1/calls/{call_id}', { params: { path: { call_id: callId } } }));
        if (stopped) return;
        setRecord(next);
        if (next.status !== 'ended') timer = setTimeout(poll, 1000);
      } catch (cause) {
        // The record appears a moment after the call is placed.
        if (!stopped && cause instanceof ApiError && cause.code === 'not_found') timer = setTimeout(poll, 1000);
        else if (!stopped) setError(cause);
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [callId]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setRecord(null);
    try {
      const placed = await ok(api.POST('/api/v1/calls/test', { body: { number: number.trim(), campaign_id: campaignId ?? null } }));
      setCallId(placed.call_id);
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} title={t('testCall.title')} onClose={onClose}>
      <form onSubmit={submit} className="form" noValidate>
        <p>{t(campaignId ? 'testCall.introCampaign' : 'testCall.intro')}</p>
        <TextField label={t('testCall.number')} value={number} onChange={(e) => setNumber(e.target.value)} required ltr inputMode="tel" placeholder="052-5551234" error={error instanceof ApiError ? error.field('number') : null} />
        {record && (
          <Notice kind={record.status === 'ended' ? (record.outcome === 'answered' ? 'success' : 'warning') : 'info'}>
            <div className="test-call-state" role="status">
              <OutcomeBadge call={record} />{' '}
              {record.status === 'ended' ? t('testCall.ended') : t('testCall.inProgress')}
              {record.talk_ms ? (
                <>
                  {' · '}
                  {t('calls.talk')} <bdi dir="ltr" className="num">{formatDuration(record.talk_ms)}</bdi>
                </>
              ) : null}
              {record.dtmf && (
                <>
                  {' · '}
                  {t('calls.keys')} <bdi dir="ltr">{record.dtmf}</bdi>
                </>
              )}
              {record.actions.length > 0 && (
                <>
                  {' · '}
                  {t('calls.actions')} <bdi dir="ltr">{record.actions.join(', ')}</bdi>
                </>
              )}
            </div>
          </Notice>
        )}
        {!(error instanceof ApiError && error.field('number')) && <ErrorBox error={error} />}
        <div className="dialog-footer">
          <Button onClick={onClose}>{t('common.close')}</Button>
          <Button type="submit" variant="primary" busy={busy || (record !== null && record.status !== 'ended') || (callId !== null && record === null && !error)}>
            {t('testCall.call')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

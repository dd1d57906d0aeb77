// The campaign wizard: type, contacts, audio, IVR flow, schedule, pacing, review.
// The campaign is saved as a draft from the first step on (contacts and the
// message belong to a campaign), so leaving half-way keeps the work: the list
// offers "continue setup" for drafts.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, ApiError, ok } from '../api/client';
import {
  AMD_MODES,
  CAMPAIGN_TYPES,
  PURPOSES,
  RETRY_OUTCOMES,
  WEEKDAYS,
  type Campaign,
  type CampaignDraft,
  type CampaignSettings,
  type FlowDefinition,
} from '../api/types';
import { AudioPanel, PendingWorkContext } from '../components/AudioPanel';
import { ConfirmDialog } from '../components/Dialog';
import { FlowEditor } from '../components/FlowEditor';
import { IconBack, IconCheck, IconNext, IconPlay } from '../components/Icons';
import { ImportPanel } from '../components/ImportPanel';
import { CalendarPreview, HoursWarnings, WindowsEditor } from '../components/Schedule';
import { useToast } from '../components/Toast';
import { Button, Card, CheckboxField, ErrorBox, Loading, Notice, Num, PageHeader, SelectField, TextField, UserText, When } from '../components/ui';
import { useI18n, type MessageKey } from '../i18n';
import { BOX_ZONE, israelDay } from '../lib/format';
import { starterFlow } from '../lib/flow';
import { PendingWork } from '../lib/pending';
import { hoursWarnings, normalizeWindows, rangeProblems, RETRY_CHOICES, retryValue, STANDARD_WINDOWS, type Windows } from '../lib/schedule';
import { saveFlow } from './FlowBuilder';

export const STEPS = ['basics', 'contacts', 'audio', 'flow', 'schedule', 'pacing', 'review'] as const;
type Step = (typeof STEPS)[number];

/** Steps where Enter in a field means "next" (the flow builder and the import have fields of their own). */
export const ENTER_STEPS: ReadonlySet<Step> = new Set<Step>(['basics', 'schedule', 'pacing']);

/** Campaign types this box can run: SMS sending is not built yet (the server refuses to start the others). */
export const RUNNABLE_TYPES: ReadonlySet<string> = new Set(['voice']);

/** Imports to list as earlier ones: not the one just done (its summary is shown) nor one still running. */
export function pastImports<T extends { id: number; status: string }>(imports: T[], justDone: number | null): T[] {
  return imports.filter((imp) => imp.id !== justDone && imp.status !== 'running');
}

export interface WizardDraft {
  name: string;
  type: string;
  purpose: string;
  consent_override: string;
  caller_id: string;
  amd: string;
  time_zone: string;
  start: string;
  end: string;
  max_attempts: number;
  ivr_flow: string;
  windows: Windows;
  quiet: { shabbat: boolean; holidays: boolean; yom_hazikaron: boolean; erev_from: string };
  retry: Record<(typeof RETRY_OUTCOMES)[number], string>;
  pacing: { cps: number; max_channels: number };
}

export function emptyDraft(): WizardDraft {
  return {
    name: '',
    type: 'voice',
    purpose: 'informational',
    consent_override: '',
    caller_id: '',
    amd: 'off',
    time_zone: BOX_ZONE,
    start: '',
    end: '',
    max_attempts: 3,
    ivr_flow: '',
    windows: structuredClone(STANDARD_WINDOWS),
    quiet: { shabbat: true, holidays: true, yom_hazikaron: false, erev_from: '' },
    retry: { busy: '15m', no_answer: '2h', congestion: '30m', failed: '30m', voicemail: 'off' },
    pacing: { cps: 5, max_channels: 30 },
  };
}

/** An instant or local time as a datetime-local value, in Israel's time. */
export function toLocalInput(value: string | null | undefined): string {
  if (!value) return '';
  const local = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})/.exec(value);
  if (local && !/[Zz]|[+-]\d{2}:?\d{2}$/.test(value)) return `${local[1]}T${local[2]}`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00`;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: BOX_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`;
}

export function draftFrom(campaign: Campaign): WizardDraft {
  const settings = campaign.settings as unknown as CampaignSettings;
  const base = emptyDraft();
  const retry = { ...base.retry };
  for (const outcome of RETRY_OUTCOMES) {
    const value = settings.retry?.[outcome];
    if (value !== undefined) retry[outcome] = retryValue(value);
  }
  return {
    ...base,
    name: campaign.name,
    type: campaign.type,
    purpose: campaign.purpose,
    consent_override: campaign.consent_override ?? '',
    caller_id: settings.caller_id ?? '',
    amd: settings.amd ?? 'off',
    time_zone: settings.time_zone ?? BOX_ZONE,
    start: toLocalInput(settings.start),
    end: toLocalInput(settings.end),
    max_attempts: settings.max_attempts ?? 3,
    ivr_flow: settings.ivr_flow ?? '',
    windows: normalizeWindows(settings.windows),
    quiet: {
      shabbat: settings.quiet?.shabbat ?? true,
      holidays: settings.quiet?.holidays ?? true,
      yom_hazikaron: settings.quiet?.yom_hazikaron ?? false,
      erev_from: settings.quiet?.erev_from ?? '',
    },
    retry,
    pacing: { cps: settings.pacing?.cps ?? 5, max_channels: settings.pacing?.max_channels ?? 30 },
  };
}

/** The request body (the campaign file's keys): empty fields are left to the box's defaults. */
export function bodyOf(draft: WizardDraft): CampaignDraft {
  const windows: Record<string, string[] | string> = {};
  for (const day of WEEKDAYS) windows[day] = draft.windows[day].length > 0 ? draft.windows[day] : 'closed';
  const retry: Record<string, string | false> = {};
  for (const outcome of RETRY_OUTCOMES) retry[outcome] = draft.retry[outcome] === 'off' ? false : draft.retry[outcome];
  const local = (value: string) => (value ? value.replace('T', ' ') : null);
  return {
    name: draft.name.trim(),
    type: draft.type,
    purpose: draft.purpose,
    consent_override: draft.consent_override.trim() || null,
    caller_id: draft.caller_id.trim() || null,
    amd: draft.amd,
    time_zone: draft.time_zone,
    start: local(draft.start),
    end: local(draft.end),
    max_attempts: draft.max_attempts,
    ivr_flow: draft.ivr_flow || null,
    windows: windows as CampaignSettings['windows'],
    quiet: { shabbat: draft.quiet.shabbat, holidays: draft.quiet.holidays, yom_hazikaron: draft.quiet.yom_hazikaron, erev_from: draft.quiet.erev_from || null },
    retry: retry as CampaignSettings['retry'],
    pacing: { cps: draft.pacing.cps, max_channels: draft.pacing.max_channels },
  };
}

function useFieldLabels(): Record<string, string> {
  const { t } = useI18n();
  const labels: Record<string, string> = {
    name: t('wizard.name'),
    type: t('wizard.type'),
    purpose: t('wizard.purpose'),
    consent_override: t('wizard.consentOverride'),
    caller_id: t('wizard.callerId'),
    amd: t('wizard.amd'),
    start: t('wizard.startAt'),
    end: t('wizard.end'),
    time_zone: t('wizard.timeZone'),
    max_attempts: t('wizard.maxAttempts'),
    ivr_flow: t('wizard.flow'),
    'pacing.cps': t('wizard.cps'),
    'pacing.max_channels': t('wizard.maxChannels'),
    'quiet.erev_from': t('wizard.erevFrom'),
  };
  for (const day of WEEKDAYS) labels[`windows.${day}`] = `${t('schedule.windows')}: ${t(`weekday.${day}` as MessageKey)}`;
  for (const outcome of RETRY_OUTCOMES) labels[`retry.${outcome}`] = `${t('wizard.retry')}: ${t(`outcome.${outcome}` as MessageKey)}`;
  return labels;
}

function StepList({ step, onStep, canJump }: { step: Step; onStep: (step: Step) => void; canJump: boolean }) {
  const { t } = useI18n();
  const index = STEPS.indexOf(step);
  return (
    <ol className="steps" aria-label={t('wizard.steps')}>
      {STEPS.map((s, i) => (
        <li key={s} className={i === index ? 'step step-current' : i < index ? 'step step-done' : 'step'} aria-current={i === index ? 'step' : undefined}>
          <button type="button" onClick={() => onStep(s)} disabled={!canJump || i === index}>
            <span className="step-number" aria-hidden="true">
              {i < index ? <IconCheck size={14} /> : <bdi dir="ltr">{i + 1}</bdi>}
            </span>
            <span>{t(`wizard.step.${s}` as MessageKey)}</span>
          </button>
        </li>
      ))}
    </ol>
  );
}

function BasicsStep({ draft, set, error }: { draft: WizardDraft; set: (d: Partial<WizardDraft>) => void; error: unknown }) {
  const { t, code } = useI18n();
  const field = (name: string) => (error instanceof ApiError ? error.field(name) : undefined);
  const needsConsent = draft.purpose === 'donation' || draft.purpose === 'advertising';
  return (
    <div className="form">
      <TextField data-testid="campaign-name" label={t('wizard.name')} value={draft.name} onChange={(e) => set({ name: e.target.value })} required error={field('name')} hint={t('wizard.nameHint')} />
      <fieldset className="choice-cards">
        <legend>{t('wizard.type')}</legend>
        {CAMPAIGN_TYPES.map((type) => {
          const unavailable = !RUNNABLE_TYPES.has(type);
          return (
            <label key={type} className={['choice-card', draft.type === type ? 'selected' : '', unavailable ? 'choice-card-disabled' : ''].filter(Boolean).join(' ')}>
              <input type="radio" name="campaign-type" value={type} data-testid={`campaign-type-${type}`} checked={draft.type === type} onChange={() => set({ type })} disabled={unavailable && draft.type !== type} />
              <strong>{code('type', type)}</strong>
              <span className="hint">{t(`wizard.typeHint.${type}` as MessageKey)}</span>
              {unavailable && <span className="hint choice-card-reason">{t('wizard.typeUnavailable')}</span>}
            </label>
          );
        })}
      </fieldset>
      {!RUNNABLE_TYPES.has(draft.type) && <Notice kind="error">{t('wizard.smsUnavailable')}</Notice>}
      <SelectField label={t('wizard.purpose')} value={draft.purpose} onChange={(e) => set({ purpose: e.target.value })} options={PURPOSES.map((p) => ({ value: p, label: code('purpose', p) }))} error={field('purpose')} hint={t('wizard.purposeHint')} />
      {needsConsent && (
        <>
          <Notice kind="info">{t('wizard.consentNotice')}</Notice>
          <TextField label={t('wizard.consentOverride')} value={draft.consent_override} onChange={(e) => set({ consent_override: e.target.value })} hint={t('wizard.consentOverrideHint')} error={field('consent_override')} />
        </>
      )}
      <div className="form-row">
        <TextField data-testid="caller-id" label={t('wizard.callerId')} value={draft.caller_id} onChange={(e) => set({ caller_id: e.target.value })} ltr inputMode="tel" placeholder="03-6123456" hint={t('wizard.callerIdHint')} error={field('caller_id')} />
        <SelectField label={t('wizard.amd')} value={draft.amd} onChange={(e) => set({ amd: e.target.value })} options={AMD_MODES.map((m) => ({ value: m, label: code('amd', m) }))} hint={t('wizard.amdHint')} error={field('amd')} />
      </div>
    </div>
  );
}

function ContactsStep({ campaignId }: { campaignId: number }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const detail = useQuery({ queryKey: ['campaign', campaignId], queryFn: () => ok(api.GET('/api/v1/campaigns/{id}', { params: { path: { id: campaignId } } })) });
  const imports = useQuery({ queryKey: ['imports', campaignId], queryFn: () => ok(api.GET('/api/v1/imports', { params: { query: { campaign: campaignId } } })) });
  const contacts = detail.data?.contacts;
  const [justDone, setJustDone] = useState<number | null>(null);
  const earlier = pastImports(imports.data ?? [], justDone);
  return (
    <div>
      <p>{t('wizard.contactsIntro')}</p>
      {contacts && contacts.total > 0 && (
        <Notice kind="success">
          {t('wizard.contactsReady', { count: contacts.total })}
          {contacts.blacklisted > 0 && <> · {t('wizard.contactsBlacklisted', { count: contacts.blacklisted })}</>}
        </Notice>
      )}
      <ImportPanel
        endpoint={`/api/v1/campaigns/${campaignId}/imports`}
        kind="contacts"
        onDone={(job) => {
          setJustDone(job.import_id ?? null);
          void queryClient.invalidateQueries({ queryKey: ['campaign', campaignId] });
          void queryClient.invalidateQueries({ queryKey: ['imports', campaignId] });
        }}
      />
      {earlier.length > 0 && (
        <details className="past-imports" data-testid="past-imports">
          <summary>{t('wizard.pastImports', { count: earlier.length })}</summary>
          <ul className="plain">
            {earlier.map((imp) => (
              <li key={imp.id}>
                <bdi>{imp.file_name}</bdi> · <When value={imp.started_at} /> · {t('import.imported')} <Num value={imp.imported} /> · {t('import.invalid')} <Num value={imp.invalid} />
                {imp.rejected_rows_url && (
                  <>
                    {' · '}
                    <a href={imp.rejected_rows_url} download>
                      {t('import.downloadRejected')}
                    </a>
                  </>
                )}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function AudioStep({ campaignId }: { campaignId: number }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const audio = useQuery({ queryKey: ['audio'], queryFn: () => ok(api.GET('/api/v1/audio')) });
  const current = audio.data?.find((a) => a.name === 'campaign' && a.campaign_id === campaignId) ?? null;
  return (
    <div>
      <p>{t('wizard.audioIntro')}</p>
      <AudioPanel name="campaign" campaignId={campaignId} current={current} onSaved={() => void queryClient.invalidateQueries({ queryKey: ['audio'] })} />
    </div>
  );
}

type FlowMode = 'default' | 'saved' | 'new';

/**
 * The voice menu a campaign starts with until staff choose one: the built-in
 * standard menu opens with "1 — donation", so only a donation campaign starts
 * with it; every other purpose starts on a menu of its own (the message, and 9 to
 * be removed from the list), from the ready menus for its purpose.
 */
export function initialFlowMode(purpose: string, ivrFlow: string): FlowMode {
  if (ivrFlow) return 'saved';
  return purpose === 'donation' ? 'default' : 'new';
}

function FlowStep({
  draft,
  set,
  mode,
  setMode,
  newFlow,
  setNewFlow,
  campaignId,
  flowError,
  error,
}: {
  draft: WizardDraft;
  set: (d: Partial<WizardDraft>) => void;
  mode: FlowMode;
  setMode: (m: FlowMode) => void;
  newFlow: FlowDefinition;
  setNewFlow: (f: FlowDefinition) => void;
  campaignId: number;
  flowError: unknown;
  error: unknown;
}) {
  const { t } = useI18n();
  const flows = useQuery({ queryKey: ['flows'], queryFn: () => ok(api.GET('/api/v1/flows')) });
  return (
    <div>
      <fieldset className="choice-cards">
        <legend>{t('wizard.flowChoice')}</legend>
        {(['default', 'saved', 'new'] as const).map((m) => (
          <label key={m} className={mode === m ? 'choice-card selected' : 'choice-card'}>
            <input type="radio" name="flow-mode" data-testid={`flow-mode-${m}`} value={m} checked={mode === m} onChange={() => setMode(m)} disabled={m === 'saved' && !flows.data?.length} />
            <strong>{t(`wizard.flowMode.${m}` as MessageKey)}</strong>
            <span className="hint">{t(`wizard.flowModeHint.${m}` as MessageKey)}</span>
          </label>
        ))}
      </fieldset>
      {mode === 'default' && <Notice kind="info">{t('wizard.defaultFlow')}</Notice>}
      {mode === 'default' && draft.purpose !== 'donation' && (
        <div data-testid="default-flow-purpose">
          <Notice kind="warning">{t('wizard.defaultFlowNotForPurpose')}</Notice>
        </div>
      )}
      {mode === 'saved' && (
        <SelectField
          label={t('wizard.flow')}
          value={draft.ivr_flow}
          onChange={(e) => set({ ivr_flow: e.target.value })}
          error={error instanceof ApiError ? error.field('ivr_flow') : undefined}
          options={[{ value: '', label: t('wizard.chooseFlow') }, ...(flows.data ?? []).map((f) => ({ value: f.name, label: f.name }))]}
        />
      )}
      {mode === 'new' && (
        <>
          <TextField data-testid="flow-name" label={t('flows.name')} value={newFlow.name} onChange={(e) => setNewFlow({ ...newFlow, name: e.target.value })} required hint={t('wizard.newFlowHint')} />
          <ErrorBox error={flowError} title={t('flows.saveFailed')} />
          <FlowEditor flow={newFlow} onChange={setNewFlow} campaignId={campaignId} purpose={draft.purpose} />
        </>
      )}
    </div>
  );
}

function ScheduleStep({ draft, set, error }: { draft: WizardDraft; set: (d: Partial<WizardDraft>) => void; error: unknown }) {
  const { t } = useI18n();
  const field = (name: string) => (error instanceof ApiError ? error.field(name) : undefined);
  const today = israelDay(new Date());
  const from = draft.start ? draft.start.slice(0, 10) : today;
  return (
    <div className="schedule-step">
      <div className="form-row">
        <TextField label={t('wizard.startAt')} type="datetime-local" value={draft.start} onChange={(e) => set({ start: e.target.value })} hint={t('wizard.startHint')} error={field('start')} ltr />
        <TextField label={t('wizard.end')} type="datetime-local" value={draft.end} onChange={(e) => set({ end: e.target.value })} hint={t('wizard.endHint')} error={field('end')} ltr />
      </div>
      <WindowsEditor windows={draft.windows} onChange={(windows) => set({ windows })} />
      <HoursWarnings warnings={hoursWarnings(draft.windows, draft.quiet)} purpose={draft.purpose} testId="schedule-warnings" />
      <fieldset>
        <legend>{t('wizard.quiet')}</legend>
        <CheckboxField testId="quiet-shabbat" label={t('wizard.quietShabbat')} checked={draft.quiet.shabbat} onChange={(shabbat) => set({ quiet: { ...draft.quiet, shabbat } })} hint={t('wizard.quietShabbatHint')} />
        <CheckboxField testId="quiet-holidays" label={t('wizard.quietHolidays')} checked={draft.quiet.holidays} onChange={(holidays) => set({ quiet: { ...draft.quiet, holidays } })} hint={t('wizard.quietHolidaysHint')} />
        <CheckboxField label={t('wizard.quietMemorial')} checked={draft.quiet.yom_hazikaron} onChange={(yom_hazikaron) => set({ quiet: { ...draft.quiet, yom_hazikaron } })} />
        <TextField label={t('wizard.erevFrom')} value={draft.quiet.erev_from} onChange={(e) => set({ quiet: { ...draft.quiet, erev_from: e.target.value } })} placeholder="13:00" ltr hint={t('wizard.erevFromHint')} error={field('quiet.erev_from')} />
      </fieldset>
      <CalendarPreview body={bodyOf(draft)} from={from < today ? today : from} days={14} />
    </div>
  );
}

function PacingStep({ draft, set, error }: { draft: WizardDraft; set: (d: Partial<WizardDraft>) => void; error: unknown }) {
  const { t, code } = useI18n();
  const field = (name: string) => (error instanceof ApiError ? error.field(name) : undefined);
  return (
    <div className="form">
      <div className="form-row">
        <TextField label={t('wizard.cps')} type="number" min={0.1} max={500} step={0.1} value={draft.pacing.cps} onChange={(e) => set({ pacing: { ...draft.pacing, cps: Number(e.target.value) } })} ltr hint={t('wizard.cpsHint')} error={field('pacing.cps')} />
        <TextField label={t('wizard.maxChannels')} type="number" min={1} max={10000} value={draft.pacing.max_channels} onChange={(e) => set({ pacing: { ...draft.pacing, max_channels: Number(e.target.value) } })} ltr hint={t('wizard.maxChannelsHint')} error={field('pacing.max_channels')} />
        <TextField label={t('wizard.maxAttempts')} type="number" min={1} max={20} value={draft.max_attempts} onChange={(e) => set({ max_attempts: Number(e.target.value) })} ltr hint={t('wizard.maxAttemptsHint')} error={field('max_attempts')} />
      </div>
      <fieldset>
        <legend>{t('wizard.retry')}</legend>
        <p className="hint">{t('wizard.retryHint')}</p>
        <div className="form-row">
          {RETRY_OUTCOMES.map((outcome) => (
            <SelectField
              key={outcome}
              label={code('outcome', outcome)}
              value={draft.retry[outcome]}
              onChange={(e) => set({ retry: { ...draft.retry, [outcome]: e.target.value } })}
              options={[...new Set([...RETRY_CHOICES, draft.retry[outcome]])].map((choice) => ({ value: choice, label: choice === 'off' ? t('wizard.noRetry') : t('wizard.retryAfter', { delay: retryLabel(t, choice) }) }))}
              error={field(`retry.${outcome}`)}
            />
          ))}
        </div>
      </fieldset>
    </div>
  );
}

export function retryLabel(t: (key: MessageKey, vars?: Record<string, string | number>) => string, value: string): string {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(value);
  if (!match) return value;
  const [, d, h, m] = match;
  const parts: string[] = [];
  if (d) parts.push(t('duration.days', { count: Number(d) }));
  if (h) parts.push(t('duration.hours', { count: Number(h) }));
  if (m) parts.push(t('duration.minutes', { count: Number(m) }));
  return parts.join(' ');
}

function ReviewRow({ label, children, onEdit }: { label: string; children: ReactNode; onEdit?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="review-row">
      <dt>{label}</dt>
      <dd>
        {children}
        {onEdit && (
          <button type="button" className="link-button" onClick={onEdit}>
            {t('common.edit')}
          </button>
        )}
      </dd>
    </div>
  );
}

function ReviewStep({ draft, campaignId, goTo, fieldLabels }: { draft: WizardDraft; campaignId: number; goTo: (s: Step) => void; fieldLabels: Record<string, string> }) {
  const { t, code } = useI18n();
  const detail = useQuery({ queryKey: ['campaign', campaignId], queryFn: () => ok(api.GET('/api/v1/campaigns/{id}', { params: { path: { id: campaignId } } })) });
  const audio = useQuery({ queryKey: ['audio'], queryFn: () => ok(api.GET('/api/v1/audio')) });
  const check = useQuery({ queryKey: ['campaign-validate', JSON.stringify(bodyOf(draft))], queryFn: () => ok(api.POST('/api/v1/campaigns/validate', { body: bodyOf(draft) as never })), retry: false });
  const hasAudio = audio.data?.some((a) => a.name === 'campaign' && a.campaign_id === campaignId);
  const contacts = detail.data?.contacts.total ?? 0;
  const openDays = WEEKDAYS.filter((d) => draft.windows[d].length > 0);
  const warnings = hoursWarnings(draft.windows, draft.quiet);
  return (
    <div>
      {!RUNNABLE_TYPES.has(draft.type) && (
        <div data-testid="review-blocked">
          <Notice kind="error">{t('wizard.smsUnavailableBlocking')}</Notice>
        </div>
      )}
      {check.isError && <ErrorBox error={check.error} title={t('wizard.notValid')} fieldLabels={fieldLabels} />}
      <HoursWarnings warnings={warnings} purpose={draft.purpose} testId="review-warnings" />
      {contacts === 0 && detail.data && <Notice kind="warning">{t('wizard.noContactsWarning')}</Notice>}
      {audio.data && !hasAudio && draft.type !== 'sms' && <Notice kind="warning">{t('wizard.noAudioWarning')}</Notice>}
      <dl className="review">
        <ReviewRow label={t('wizard.name')} onEdit={() => goTo('basics')}>
          <UserText>{draft.name}</UserText> · {code('type', draft.type)} · {code('purpose', draft.purpose)}
        </ReviewRow>
        <ReviewRow label={t('wizard.callerId')} onEdit={() => goTo('basics')}>
          {draft.caller_id ? <bdi dir="ltr">{draft.caller_id}</bdi> : t('wizard.callerIdNone')} · {t('wizard.amd')}: {code('amd', draft.amd)}
        </ReviewRow>
        <ReviewRow label={t('wizard.step.contacts')} onEdit={() => goTo('contacts')}>
          {t('wizard.contactsReady', { count: contacts })}
        </ReviewRow>
        <ReviewRow label={t('wizard.step.audio')} onEdit={() => goTo('audio')}>
          {hasAudio ? t('wizard.audioReady') : t('wizard.audioMissing')}
        </ReviewRow>
        <ReviewRow label={t('wizard.flow')} onEdit={() => goTo('flow')}>
          {draft.ivr_flow ? <UserText>{draft.ivr_flow}</UserText> : t('wizard.flowMode.default')}
          {!draft.ivr_flow && draft.purpose !== 'donation' && (
            <div data-testid="review-default-flow-purpose">
              <Notice kind="warning">{t('wizard.defaultFlowNotForPurpose')}</Notice>
            </div>
          )}
        </ReviewRow>
        <ReviewRow label={t('wizard.step.schedule')} onEdit={() => goTo('schedule')}>
          {draft.start ? <bdi dir="ltr">{draft.start.replace('T', ' ')}</bdi> : t('wizard.startWhenStarted')} – {draft.end ? <bdi dir="ltr">{draft.end.replace('T', ' ')}</bdi> : t('wizard.noEnd')}
          <br />
          {openDays.length === 0
            ? t('wizard.noWindows')
            : openDays.map((d, i) => (
                <span key={d}>
                  {i > 0 && ' · '}
                  <span className="nowrap">
                    {t(`weekday.${d}` as MessageKey)} <bdi dir="ltr">{draft.windows[d].join(', ')}</bdi>
                  </span>
                </span>
              ))}
          <br />
          {[draft.quiet.shabbat && t('wizard.quietShabbat'), draft.quiet.holidays && t('wizard.quietHolidays'), draft.quiet.yom_hazikaron && t('wizard.quietMemorial')].filter(Boolean).join(' · ') || t('wizard.noQuiet')}
        </ReviewRow>
        <ReviewRow label={t('wizard.step.pacing')} onEdit={() => goTo('pacing')}>
          {t('wizard.cps')} <Num value={draft.pacing.cps} digits={1} /> · {t('wizard.maxChannels')} <Num value={draft.pacing.max_channels} /> · {t('wizard.maxAttempts')} <Num value={draft.max_attempts} />
        </ReviewRow>
        {detail.data && (
          <ReviewRow label={t('campaign.gate')}>
            <GateText gate={detail.data.gate} />
          </ReviewRow>
        )}
      </dl>
      {check.data?.valid && RUNNABLE_TYPES.has(draft.type) && (
        <div data-testid="wizard-valid">
          {warnings.length > 0 ? <Notice kind="info">{t('wizard.validWithWarnings')}</Notice> : <Notice kind="success">{t('wizard.valid')}</Notice>}
        </div>
      )}
    </div>
  );
}

export function GateText({ gate }: { gate: { state: string; until?: string | null; reason?: string | null; reopens?: string | null } }) {
  const { t, code } = useI18n();
  if (gate.state === 'open') {
    return (
      <span>
        {t('campaign.gateOpen')}
        {gate.until && (
          <>
            {' '}
            {t('campaign.until')} <When value={gate.until} />
          </>
        )}
      </span>
    );
  }
  if (gate.state === 'ended') return <span>{t('campaign.gateEnded')}</span>;
  return (
    <span>
      {t('campaign.gateClosed')} ({code('blocked', gate.reason ?? 'outside_window')})
      {gate.reopens && (
        <>
          {' · '}
          {t('campaign.reopens')} <When value={gate.reopens} />
        </>
      )}
    </span>
  );
}

/**
 * The name a menu built in the wizard is saved under. A name staff typed is kept
 * as typed; the placeholder name becomes the campaign's own (made unique among the
 * box's menus), so two campaigns' menus never share, and so never overwrite, one
 * name. `ownFlow` is the menu this campaign already uses: its name is its own.
 */
export function newFlowName(typed: string, placeholder: string, campaignName: string, flows: { name: string }[], ownFlow: string): string {
  if (typed.trim() !== placeholder) return typed;
  if (ownFlow && ownFlow.trim()) return ownFlow;
  const base = (campaignName.replace(/\//g, '-').trim() || placeholder).slice(0, 90);
  const taken = new Set(flows.map((f) => f.name));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) {
    const candidate = `${base} (${n})`;
    if (!taken.has(candidate)) return candidate;
  }
}

export function CampaignWizardPage() {
  const { t } = useI18n();
  const params = useParams();
  const navigate = useNavigate();
  const toast = useToast();
  const queryClient = useQueryClient();
  const fieldLabels = useFieldLabels();
  const [campaignId, setCampaignId] = useState<number | null>(params.id ? Number(params.id) : null);
  const [draft, setDraftState] = useState<WizardDraft>(emptyDraft);
  const [loaded, setLoaded] = useState(!params.id);
  const [step, setStep] = useState<Step>('basics');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // null until staff choose: then the purpose decides (initialFlowMode).
  const [chosenFlowMode, setFlowMode] = useState<FlowMode | null>(null);
  const flowMode = chosenFlowMode ?? initialFlowMode(draft.purpose, draft.ivr_flow);
  const [newFlow, setNewFlow] = useState<FlowDefinition>(() => starterFlow(t('flows.defaultName')));
  const [flowError, setFlowError] = useState<unknown>(null);
  const [confirmStart, setConfirmStart] = useState(false);
  // Sounds chosen or recorded in this step but not saved yet (the audio step, the
  // flow's missing prompts): "next" saves them first, or stops and says why.
  const [pending] = useState(() => new PendingWork());
  const [problem, setProblem] = useState<string | null>(null);
  const card = useRef<HTMLFormElement>(null);
  // A refused step: the first field marked invalid gets the focus, so the message
  // "fix the marked fields" points somewhere.
  useEffect(() => {
    if (!error) return;
    const invalid = card.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    invalid?.focus();
  }, [error]);

  const existing = useQuery({
    queryKey: ['campaign', campaignId],
    queryFn: () => ok(api.GET('/api/v1/campaigns/{id}', { params: { path: { id: campaignId as number } } })),
    enabled: Boolean(params.id) && !loaded,
  });
  useEffect(() => {
    if (existing.data && !loaded) {
      const d = draftFrom(existing.data.campaign);
      setDraftState(d);
      setLoaded(true);
      setStep(existing.data.contacts.total > 0 ? 'audio' : 'contacts');
    }
  }, [existing.data, loaded]);

  if (params.id && !loaded) return existing.isError ? <ErrorBox error={existing.error} /> : <Loading />;
  if (existing.data && existing.data.campaign.status !== 'draft') {
    return (
      <Notice kind="info">
        {t('wizard.notDraft')}{' '}
        <a href={`/campaigns/${existing.data.campaign.id}`} onClick={(e) => (e.preventDefault(), navigate(`/campaigns/${existing.data?.campaign.id}`))}>
          {t('wizard.openCampaign')}
        </a>
      </Notice>
    );
  }

  const set = (partial: Partial<WizardDraft>) => setDraftState((d) => ({ ...d, ...partial }));
  const index = STEPS.indexOf(step);

  const save = async (current: WizardDraft): Promise<number> => {
    const body = bodyOf(current) as never;
    if (campaignId === null) {
      const created = await ok(api.POST('/api/v1/campaigns', { body }));
      setCampaignId(created.id);
      window.history.replaceState(null, '', `/campaigns/${created.id}/setup`);
      return created.id;
    }
    await ok(api.PUT('/api/v1/campaigns/{id}', { params: { path: { id: campaignId } }, body }));
    return campaignId;
  };

  const localProblems = (): ApiError | null => {
    const invalid = (message: string, field?: string) => new ApiError('validation_failed', message, 422, field ? [{ field, message }] : []);
    if (step === 'basics' && !draft.name.trim()) return invalid(t('wizard.nameRequired'), 'name');
    if (step === 'schedule' && WEEKDAYS.some((d) => rangeProblems(draft.windows[d]).length > 0)) return invalid(t('wizard.fixWindows'));
    if (step === 'flow' && flowMode === 'saved' && !draft.ivr_flow) return invalid(t('wizard.chooseFlow'), 'ivr_flow');
    return null;
  };

  /** Saves what this step holds unsaved (a chosen sound): true to go on, false with the reason shown. */
  const flushPending = async (): Promise<boolean> => {
    setProblem(null);
    if (pending.size === 0) return true;
    const result = await pending.flush();
    if (result.ok) {
      if (result.saved > 0) await queryClient.invalidateQueries({ queryKey: ['audio'] });
      return true;
    }
    setProblem(result.reason === 'blocked' ? result.message : t('audio.pendingFailed', { name: result.label }));
    return false;
  };

  /** Another step (back, or a step in the list): nothing unsaved is left behind. */
  const goTo = async (target: Step) => {
    setSaving(true);
    try {
      if (!(await flushPending())) return;
      setError(null);
      setStep(target);
    } finally {
      setSaving(false);
    }
  };

  const next = async () => {
    const refused = localProblems();
    if (refused) {
      setError(refused);
      return;
    }
    setSaving(true);
    setError(null);
    try {
      if (!(await flushPending())) return;
      let current = draft;
      if (step === 'flow') {
        if (flowMode === 'new') {
          setFlowError(null);
          try {
            const flows = await ok(api.GET('/api/v1/flows'));
            const named = { ...newFlow, name: newFlowName(newFlow.name, t('flows.defaultName'), draft.name, flows, current.ivr_flow) };
            // Only the menu this campaign saved before is replaced; a name another
            // campaign's menu has is refused by the box (the name field says so).
            const own = flows.find((f) => f.name === named.name && f.name === current.ivr_flow);
            const saved = await saveFlow(own ? own.id : null, named);
            setNewFlow(named);
            await queryClient.invalidateQueries({ queryKey: ['flows'] });
            toast.success(t('flows.saved', { name: saved.name }));
            current = { ...current, ivr_flow: saved.name };
          } catch (cause) {
            setFlowError(cause);
            return;
          }
        } else if (flowMode === 'default') {
          current = { ...current, ivr_flow: '' };
        }
        setDraftState(current);
      }
      const id = await save(current);
      await queryClient.invalidateQueries({ queryKey: ['campaign', id] });
      await queryClient.invalidateQueries({ queryKey: ['campaigns'] });
      if (step === 'basics' && campaignId === null) toast.success(t('wizard.draftCreated'));
      setStep(STEPS[Math.min(index + 1, STEPS.length - 1)]);
      window.scrollTo?.(0, 0);
    } catch (cause) {
      setError(cause);
    } finally {
      setSaving(false);
    }
  };

  const finishLater = async () => {
    setSaving(true);
    try {
      if (!(await flushPending())) return;
      const id = await save(draft);
      toast.success(t('wizard.savedDraft'));
      navigate(`/campaigns/${id}`);
    } catch (cause) {
      setError(cause);
    } finally {
      setSaving(false);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (step !== 'review' && !saving) void next();
  };
  // Enter in a field is "next" where the step is a plain form; elsewhere (the flow
  // builder's and the import's own fields) it does nothing.
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && event.target instanceof HTMLInputElement && !ENTER_STEPS.has(step)) event.preventDefault();
  };

  return (
    <>
      <PageHeader title={campaignId ? t('wizard.titleEdit') : t('wizard.title')} subtitle={draft.name ? <UserText>{draft.name}</UserText> : t('wizard.subtitle')} back={{ to: '/campaigns', label: t('campaigns.title') }} />
      <StepList step={step} onStep={(target) => void goTo(target)} canJump={campaignId !== null} />
      <Card title={t(`wizard.step.${step}` as MessageKey)} className="wizard-card">
        <PendingWorkContext.Provider value={pending}>
        <form ref={card} noValidate onSubmit={onSubmit} onKeyDown={onKeyDown}>
        {step === 'basics' && <BasicsStep draft={draft} set={set} error={error} />}
        {step === 'contacts' && campaignId !== null && <ContactsStep campaignId={campaignId} />}
        {step === 'audio' && campaignId !== null && <AudioStep campaignId={campaignId} />}
        {step === 'flow' && campaignId !== null && (
          <FlowStep draft={draft} set={set} mode={flowMode} setMode={setFlowMode} newFlow={newFlow} setNewFlow={setNewFlow} campaignId={campaignId} flowError={flowError} error={error} />
        )}
        {step === 'schedule' && <ScheduleStep draft={draft} set={set} error={error} />}
        {step === 'pacing' && <PacingStep draft={draft} set={set} error={error} />}
        {step === 'review' && campaignId !== null && <ReviewStep draft={draft} campaignId={campaignId} goTo={(target) => void goTo(target)} fieldLabels={fieldLabels} />}
        <ErrorBox error={error} fieldLabels={fieldLabels} title={error instanceof ApiError && error.code === 'validation_failed' ? t('wizard.fixFields') : undefined} />
        {problem && (
          <div data-testid="wizard-problem">
            <Notice kind="error">{problem}</Notice>
          </div>
        )}
        <div className="wizard-nav">
          <Button icon={<IconBack />} onClick={() => void goTo(STEPS[Math.max(0, index - 1)])} disabled={index === 0 || saving}>
            {t('wizard.back')}
          </Button>
          <div className="wizard-nav-end">
            {campaignId !== null && (
              <Button variant="ghost" onClick={finishLater} disabled={saving}>
                {t('wizard.finishLater')}
              </Button>
            )}
            {step !== 'review' ? (
              <Button type="submit" variant="primary" busy={saving} data-testid="wizard-next">
                {index === 0 && campaignId === null ? t('wizard.createAndContinue') : t('wizard.next')}
                <IconNext />
              </Button>
            ) : (
              <Button variant="success" icon={<IconPlay />} onClick={() => setConfirmStart(true)} disabled={saving || !RUNNABLE_TYPES.has(draft.type)} data-testid="wizard-start">
                {t('wizard.start')}
              </Button>
            )}
          </div>
        </div>
        </form>
        </PendingWorkContext.Provider>
      </Card>
      <ConfirmDialog
        open={confirmStart}
        title={t('campaign.confirmStartTitle')}
        message={t('campaign.confirmStart', { name: draft.name })}
        confirmLabel={t('campaign.start')}
        reason={{ label: t('campaign.reason'), required: false, hint: t('campaign.reasonHint') }}
        onClose={() => setConfirmStart(false)}
        onConfirm={async (reason) => {
          const id = await save(draft);
          const result = await ok(api.POST('/api/v1/campaigns/{id}/start', { params: { path: { id } }, body: { reason: reason || null } }));
          await queryClient.invalidateQueries({ queryKey: ['campaigns'] });
          toast.success(t(result.to === 'scheduled' ? 'campaign.scheduledToast' : 'campaign.startedToast', { name: draft.name }));
          navigate(`/campaigns/${id}`);
        }}
      />
    </>
  );
}

// The weekly calling windows editor and the calendar preview of when calls will
// actually happen (windows, the schedule, Shabbat and holidays), as the box
// computes it. The preview's bars run in reading direction: in Hebrew, midnight is
// on the right.
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { request } from '../api/client';
import type { CalendarOut } from '../api/types';
import { WEEKDAYS, type Weekday } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';
import { addDays } from '../lib/format';
import { ALL_DAY_WINDOWS, type HoursWarning, rangeProblems, segmentsByDay, splitRange, STANDARD_WINDOWS, weeklyHours, type Windows } from '../lib/schedule';
import { IconPlus, IconTrash } from './Icons';
import { Button, ErrorBox, Loading, Notice, Num } from './ui';

/**
 * Calling windows that reach into hours people rest (night, Friday afternoon,
 * Shabbat), and why that matters: a warning, not a refusal.
 */
export function HoursWarnings({ warnings, purpose, testId }: { warnings: HoursWarning[]; purpose: string; testId?: string }) {
  const { t } = useI18n();
  if (warnings.length === 0) return null;
  const advertising = purpose === 'donation' || purpose === 'advertising';
  return (
    <div className="hours-warnings" data-testid={testId}>
      <Notice kind="warning">
        <strong>{t('wizard.hours.title')}</strong>
        <ul>
          {warnings.map((warning) => (
            <li key={warning.kind} data-warning={warning.kind}>
              {t(`wizard.hours.${warning.kind}` as MessageKey, { days: warning.days.map((d) => t(`weekday.${d}` as MessageKey)).join(', ') })}
            </li>
          ))}
        </ul>
        <p>{t('wizard.hours.why')}</p>
        {advertising && <p>{t('wizard.hours.whyLaw')}</p>}
      </Notice>
    </div>
  );
}

export function WindowsEditor({ windows, onChange }: { windows: Windows; onChange: (windows: Windows) => void }) {
  const { t } = useI18n();
  const setDay = (day: Weekday, ranges: string[]) => onChange({ ...windows, [day]: ranges });
  return (
    <fieldset className="windows-editor">
      <legend>{t('schedule.windows')}</legend>
      <p className="hint">{t('schedule.windowsHint')}</p>
      <div className="preset-row">
        <Button onClick={() => onChange(structuredClone(STANDARD_WINDOWS))}>{t('schedule.presetStandard')}</Button>
        <Button data-testid="preset-allday" onClick={() => onChange(structuredClone(ALL_DAY_WINDOWS))}>
          {t('schedule.presetAllDay')}
        </Button>
      </div>
      <table className="table table-compact windows-table">
        <thead>
          <tr>
            <th scope="col">{t('schedule.day')}</th>
            <th scope="col">{t('schedule.open')}</th>
            <th scope="col">{t('schedule.ranges')}</th>
          </tr>
        </thead>
        <tbody>
          {WEEKDAYS.map((day) => {
            const ranges = windows[day];
            const problems = rangeProblems(ranges);
            const dayLabel = t(`weekday.${day}` as MessageKey);
            return (
              <tr key={day}>
                <th scope="row">{dayLabel}</th>
                <td>
                  <input
                    type="checkbox"
                    aria-label={t('schedule.openOn', { day: dayLabel })}
                    checked={ranges.length > 0}
                    onChange={(e) => setDay(day, e.target.checked ? (day === 'friday' ? ['09:00-13:00'] : ['09:00-20:00']) : [])}
                  />
                </td>
                <td>
                  {ranges.length === 0 && <span className="muted">{t('schedule.closed')}</span>}
                  {ranges.map((range, index) => {
                    const [from, to] = splitRange(range);
                    const problem = problems.find((p) => p.index === index);
                    return (
                      <div className="range-row" key={index}>
                        <input
                          className="time-input"
                          dir="ltr"
                          inputMode="numeric"
                          aria-label={t('schedule.fromOn', { day: dayLabel })}
                          value={from}
                          placeholder="09:00"
                          onChange={(e) => setDay(day, ranges.map((r, i) => (i === index ? `${e.target.value}-${to}` : r)))}
                          aria-invalid={problem ? true : undefined}
                        />
                        <span aria-hidden="true">–</span>
                        <input
                          className="time-input"
                          dir="ltr"
                          inputMode="numeric"
                          aria-label={t('schedule.toOn', { day: dayLabel })}
                          value={to}
                          placeholder="20:00"
                          onChange={(e) => setDay(day, ranges.map((r, i) => (i === index ? `${from}-${e.target.value}` : r)))}
                          aria-invalid={problem ? true : undefined}
                        />
                        <Button variant="ghost" icon={<IconTrash />} aria-label={t('schedule.removeRange')} onClick={() => setDay(day, ranges.filter((_, i) => i !== index))} />
                        {problem && <span className="field-error">{t(`schedule.problem.${problem.problem}` as MessageKey)}</span>}
                      </div>
                    );
                  })}
                  {ranges.length > 0 && ranges.length < 4 && (
                    <Button variant="ghost" icon={<IconPlus />} onClick={() => setDay(day, [...ranges, '16:00-20:00'])}>
                      {t('schedule.addRange')}
                    </Button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="hint">
        {t('schedule.weeklyHours')} <Num value={weeklyHours(windows)} digits={1} />
      </p>
    </fieldset>
  );
}

const BLOCK_COLORS: Record<string, string> = {
  shabbat: 'reason-shabbat',
  erev_shabbat: 'reason-erev',
  erev_chag: 'reason-erev',
  outside_window: 'reason-window',
  before_start: 'reason-schedule',
  after_end: 'reason-schedule',
  yom_hazikaron: 'reason-memorial',
};

export function CalendarView({ calendar, from, days }: { calendar: CalendarOut; from: string; days: number }) {
  const { t, code, weekday, date, dateTime } = useI18n();
  const allowed = useMemo(() => segmentsByDay(calendar.allowed, 'allowed'), [calendar]);
  const blocked = useMemo(() => segmentsByDay(calendar.blocked, 'blocked'), [calendar]);
  const dayList = Array.from({ length: days }, (_, i) => addDays(from, i));
  const notable = calendar.blocked.filter((b) => b.reason && b.reason !== 'outside_window');
  const reasons = [...new Set(calendar.blocked.map((b) => b.reason ?? 'outside_window'))];
  return (
    <div className="calendar-view">
      <div className="calendar-hours" aria-hidden="true">
        <span />
        <div className="calendar-hour-scale">
          {[0, 6, 12, 18].map((h) => (
            <span key={h} style={{ insetInlineStart: `${(h / 24) * 100}%` }}>
              {String(h).padStart(2, '0')}:00
            </span>
          ))}
        </div>
      </div>
      <ul className="calendar-days" aria-label={t('schedule.preview')}>
        {dayList.map((day) => {
          const segments = [...(blocked.get(day) ?? []), ...(allowed.get(day) ?? [])];
          const openMinutes = (allowed.get(day) ?? []).reduce((sum, s) => sum + (s.to - s.from), 0);
          return (
            <li key={day} className="calendar-day">
              <span className="calendar-day-label">
                {weekday(day)} <bdi dir="ltr" className="num">{date(day)}</bdi>
              </span>
              <div className="calendar-bar" role="img" aria-label={openMinutes > 0 ? t('schedule.openHoursOn', { hours: Math.round((openMinutes / 60) * 10) / 10 }) : t('schedule.closedAllDay')}>
                {segments.map((segment, index) => (
                  <span
                    key={index}
                    className={segment.kind === 'allowed' ? 'segment segment-allowed' : `segment segment-blocked ${BLOCK_COLORS[segment.reason ?? ''] ?? 'reason-holiday'}`}
                    style={{ insetInlineStart: `${(segment.from / 1440) * 100}%`, inlineSize: `${((segment.to - segment.from) / 1440) * 100}%` }}
                    title={segment.kind === 'allowed' ? t('schedule.allowed') : code('blocked', segment.reason ?? 'outside_window')}
                  />
                ))}
              </div>
            </li>
          );
        })}
      </ul>
      <ul className="legend">
        <li>
          <span className="swatch segment-allowed" aria-hidden="true" />
          {t('schedule.allowed')}
        </li>
        {reasons.map((reason) => (
          <li key={reason}>
            <span className={`swatch ${BLOCK_COLORS[reason] ?? 'reason-holiday'}`} aria-hidden="true" />
            {code('blocked', reason)}
          </li>
        ))}
      </ul>
      {notable.length > 0 && (
        <ul className="quiet-list">
          {notable.map((b, i) => (
            <li key={i}>
              <strong>{code('blocked', b.reason ?? '')}</strong>: <bdi dir="ltr" className="num">{dateTime(b.start)}</bdi> – <bdi dir="ltr" className="num">{dateTime(b.end)}</bdi>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The preview for settings not saved yet (POST /api/v1/calendar/preview). */
export function CalendarPreview({ body, from, days = 14 }: { body: unknown; from: string; days?: number }) {
  const { t } = useI18n();
  const json = JSON.stringify(body);
  const preview = useQuery({
    queryKey: ['calendar-preview', json, from, days],
    queryFn: async () => {
      const response = await request(`/api/v1/calendar/preview?from=${from}&days=${days}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: json });
      return (await response.json()) as CalendarOut;
    },
    placeholderData: (previous) => previous,
  });
  return (
    <section className="calendar-preview" aria-label={t('schedule.preview')}>
      <h3>{t('schedule.preview')}</h3>
      <p className="hint">{t('schedule.previewHint', { count: days })}</p>
      {preview.data ? <CalendarView calendar={preview.data} from={from} days={days} /> : preview.isError ? <ErrorBox error={preview.error} title={t('schedule.previewFailed')} /> : <Loading />}
      {preview.isError && preview.data && <ErrorBox error={preview.error} title={t('schedule.previewFailed')} />}
    </section>
  );
}

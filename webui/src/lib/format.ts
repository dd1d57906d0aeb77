// Formatting that does not depend on React: phone numbers the Israeli way, numbers,
// Israeli dates (always in the box's zone, Asia/Jerusalem, whatever the browser's),
// durations. The i18n module binds these to the chosen language.

export type Lang = 'he' | 'en';

/** The zone every time on the box is shown in. */
export const BOX_ZONE = 'Asia/Jerusalem';

/** `he-IL` or `en-IL`: English with Israeli dates (day/month/year, 24 hours). */
export function intlLocale(lang: Lang): string {
  return lang === 'he' ? 'he-IL' : 'en-IL';
}

/**
 * An E.164 number as people in Israel write it: `+972525551234` → `052-5551234`,
 * `+97236123456` → `03-6123456`, `+972722222222` → `072-2222222`,
 * `+9721800123456` → `1-800-123-456`. Other countries stay in E.164.
 */
export function formatPhone(e164: string | null | undefined): string {
  if (!e164) return '';
  const digits = e164.replace(/[^\d+]/g, '');
  if (!digits.startsWith('+972')) return e164;
  const national = digits.slice(4);
  if (/^1[5-9]00\d{6}$/.test(national)) {
    return `1-${national.slice(1, 4)}-${national.slice(4, 7)}-${national.slice(7)}`;
  }
  if (/^[57]\d{8}$/.test(national)) return `0${national.slice(0, 2)}-${national.slice(2)}`;
  if (/^[2-489]\d{7}$/.test(national)) return `0${national.slice(0, 1)}-${national.slice(1)}`;
  return `0${national}`;
}

/** Digits only, for searching and comparing numbers as typed. */
export function phoneDigits(typed: string): string {
  return typed.replace(/\D/g, '');
}

export function formatNumber(lang: Lang, value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return new Intl.NumberFormat(intlLocale(lang), {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  }).format(value);
}

/** A share of 0 to 1 as a percentage: 0.4567 → `45.7%`. */
export function formatPercent(lang: Lang, share: number | null | undefined, digits = 1): string {
  if (share === null || share === undefined || Number.isNaN(share)) return '—';
  return new Intl.NumberFormat(intlLocale(lang), {
    style: 'percent',
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  }).format(share);
}

function parse(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

/** `02.12.2026 23:24` (Hebrew) or `02/12/2026 23:24` (English), in Israel's time. */
export function formatDateTime(lang: Lang, value: string | Date | null | undefined, seconds = false): string {
  if (!value) return '—';
  const date = parse(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const parts = new Intl.DateTimeFormat(intlLocale(lang), {
    timeZone: BOX_ZONE,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: seconds ? '2-digit' : undefined,
    hourCycle: 'h23',
  }).format(date);
  return parts.replace(',', '');
}

export function formatDate(lang: Lang, value: string | Date | null | undefined): string {
  if (!value) return '—';
  // A bare date (`2026-12-02`) is a day in Israel, not an instant: read it at noon.
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00Z`) : parse(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(intlLocale(lang), {
    timeZone: BOX_ZONE,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(date);
}

export function formatTime(lang: Lang, value: string | Date | null | undefined, seconds = false): string {
  if (!value) return '—';
  const date = parse(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(intlLocale(lang), {
    timeZone: BOX_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    second: seconds ? '2-digit' : undefined,
    hourCycle: 'h23',
  }).format(date);
}

export function formatWeekday(lang: Lang, value: string | Date): string {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00Z`) : parse(value);
  return new Intl.DateTimeFormat(intlLocale(lang), { timeZone: BOX_ZONE, weekday: 'long' }).format(date);
}

/** A duration in milliseconds as `1:02:03` or `2:03`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mm = hours > 0 ? String(minutes).padStart(2, '0') : String(minutes);
  return `${hours > 0 ? `${hours}:` : ''}${mm}:${String(seconds).padStart(2, '0')}`;
}

export function formatBytes(lang: Lang, bytes: number): string {
  if (bytes < 1024) return `${formatNumber(lang, bytes)} B`;
  if (bytes < 1024 * 1024) return `${formatNumber(lang, bytes / 1024, 1)} KB`;
  return `${formatNumber(lang, bytes / 1024 / 1024, 1)} MB`;
}

/** The calendar day in Israel of an instant, as `YYYY-MM-DD`. */
export function israelDay(value: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: BOX_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(value);
  return parts;
}

/** `YYYY-MM-DD` plus some days. */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Minutes since local midnight in Israel of an instant (for calendar bars). */
export function israelMinutes(value: string | Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: BOX_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(parse(value));
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

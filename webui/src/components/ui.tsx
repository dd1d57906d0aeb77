// The app's small building blocks. Layout uses CSS logical properties only
// (inline-start/end), so the same markup is right in Hebrew (RTL) and English (LTR).
// Numbers, phone numbers and anything a person typed are isolated (<bdi>) so
// they keep their own direction inside the sentence around them.
import {
  useId,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';
import { Link } from 'react-router';
import { ApiError, type UploadProgress } from '../api/client';
import { useI18n, type MessageKey } from '../i18n';
import { formatBytes, formatPhone } from '../lib/format';
import { IconAlert, IconBack, IconInfo } from './Icons';

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost' | 'success';

export function Button({
  variant = 'secondary',
  busy = false,
  icon,
  children,
  className,
  disabled,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; busy?: boolean; icon?: ReactNode }) {
  return (
    <button
      type={type}
      className={['btn', `btn-${variant}`, className].filter(Boolean).join(' ')}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy ? <Spinner small /> : icon}
      {children !== undefined && <span>{children}</span>}
    </button>
  );
}

export function ButtonLink({ to, variant = 'secondary', icon, children }: { to: string; variant?: Variant; icon?: ReactNode; children: ReactNode }) {
  return (
    <Link to={to} className={`btn btn-${variant}`}>
      {icon}
      <span>{children}</span>
    </Link>
  );
}

export function Spinner({ small = false, label }: { small?: boolean; label?: string }) {
  const { t } = useI18n();
  return <span className={small ? 'spinner spinner-small' : 'spinner'} role="status" aria-label={label ?? t('common.loading')} />;
}

export function Loading() {
  const { t } = useI18n();
  return (
    <div className="loading">
      <Spinner />
      <span>{t('common.loading')}</span>
    </div>
  );
}

interface FieldProps {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  required?: boolean;
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean; required?: boolean }) => ReactNode;
  className?: string;
}

/** A label, its control, a hint and the error, tied together for screen readers. */
export function Field({ label, hint, error, required, children, className }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  const { t } = useI18n();
  return (
    <div className={['field', error ? 'field-invalid' : '', className].filter(Boolean).join(' ')}>
      <label htmlFor={id}>
        {label}
        {required && <span className="required"> ({t('common.required')})</span>}
      </label>
      {children({ id, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined, required })}
      {hint && (
        <div className="hint" id={hintId}>
          {hint}
        </div>
      )}
      {error && (
        <div className="field-error" id={errorId} role="alert">
          <IconAlert size={14} /> <span>{error}</span>
        </div>
      )}
    </div>
  );
}

export function TextField({
  label,
  hint,
  error,
  ltr,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode; error?: string | null; ltr?: boolean }) {
  return (
    <Field label={label} hint={hint} error={error} required={input.required}>
      {(props) => <input {...props} {...input} dir={ltr ? 'ltr' : input.dir} className={ltr ? 'ltr-input' : undefined} />}
    </Field>
  );
}

export function TextAreaField({
  label,
  hint,
  error,
  ltr,
  ...input
}: TextareaHTMLAttributes<HTMLTextAreaElement> & { label: string; hint?: ReactNode; error?: string | null; ltr?: boolean }) {
  return (
    <Field label={label} hint={hint} error={error} required={input.required}>
      {(props) => <textarea {...props} {...input} dir={ltr ? 'ltr' : input.dir} className={ltr ? 'ltr-input' : undefined} />}
    </Field>
  );
}

export function SelectField({
  label,
  hint,
  error,
  options,
  ...select
}: SelectHTMLAttributes<HTMLSelectElement> & {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  options: { value: string; label: string }[];
}) {
  return (
    <Field label={label} hint={hint} error={error} required={select.required}>
      {(props) => (
        <select {...props} {...select}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function CheckboxField({
  label,
  hint,
  checked,
  onChange,
  disabled,
  testId,
}: {
  testId?: string;
  label: string;
  hint?: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className="checkbox-field">
      <input id={id} type="checkbox" data-testid={testId} checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-describedby={hint ? `${id}-hint` : undefined} />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <div className="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
    </div>
  );
}

export function Card({ title, actions, children, className, id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; id?: string }) {
  const headingId = useId();
  return (
    <section className={['card', className].filter(Boolean).join(' ')} aria-labelledby={title ? headingId : undefined} id={id}>
      {(title || actions) && (
        <div className="card-head">
          {title && <h2 id={headingId}>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

export function PageHeader({ title, subtitle, actions, back }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; back?: { to: string; label: string } }) {
  return (
    <header className="page-header">
      <div>
        {back && (
          <Link to={back.to} className="back-link">
            <IconBack size={16} /> {back.label}
          </Link>
        )}
        <h1>{title}</h1>
        {subtitle && <p className="subtitle">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

export function EmptyState({ title, children, action, icon }: { title: string; children?: ReactNode; action?: ReactNode; icon?: ReactNode }) {
  return (
    <div className="empty-state">
      {icon && <div className="empty-icon">{icon}</div>}
      <h3>{title}</h3>
      {children && <p>{children}</p>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

/** What went wrong, in the UI's language, and what to do; the box's own words as detail. */
export function errorText(t: (key: MessageKey) => string, error: unknown): string {
  if (error instanceof ApiError) {
    const key = `error.${error.code}` as MessageKey;
    return t(key) === key ? t('error.unknown') : t(key);
  }
  return t('error.unknown');
}

/** A message's language as its letters show: the box writes English, the page and some answers Hebrew. */
export function messageLang(text: string): 'he' | 'en' {
  return /[\u0590-\u05FF]/.test(text) ? 'he' : 'en';
}

export function ErrorBox({ error, title, fieldLabels }: { error: unknown; title?: string; fieldLabels?: Record<string, string> }) {
  const { t, lang } = useI18n();
  if (!error) return null;
  const apiError = error instanceof ApiError ? error : null;
  return (
    <div className="notice notice-error" role="alert">
      <IconAlert />
      <div>
        <strong>{title ?? errorText(t, error)}</strong>
        {title && <p>{errorText(t, error)}</p>}
        {apiError && apiError.fields.length > 0 && (
          <ul className="field-problems">
            {apiError.fields.map((f) => (
              <li key={f.field}>
                <span>{fieldLabels?.[f.field] ?? fieldLabels?.[f.field.replace(/^settings\./, '')] ?? <bdi dir="ltr">{f.field}</bdi>}</span>
                {': '}
                <bdi lang={messageLang(f.message)} dir="auto">
                  {f.message}
                </bdi>
              </li>
            ))}
          </ul>
        )}
        {apiError && apiError.fields.length === 0 && apiError.message && (
          <p className="detail">
            {lang === 'he' && messageLang(apiError.message) === 'en' && <span>{t('error.detailFromBox')} </span>}
            <bdi lang={messageLang(apiError.message)} dir="auto">
              {apiError.message}
            </bdi>
          </p>
        )}
      </div>
    </div>
  );
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'warning' | 'success' | 'error'; children: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' || kind === 'warning' ? 'alert' : 'status'}>
      {kind === 'info' || kind === 'success' ? <IconInfo /> : <IconAlert />}
      <div>{children}</div>
    </div>
  );
}

export function ProgressBar({ value, max = 100, label, indeterminate = false }: { value: number; max?: number; label: string; indeterminate?: boolean }) {
  const percent = max > 0 ? Math.min(100, Math.max(0, (value / max) * 100)) : 0;
  return (
    <div
      className={indeterminate ? 'progress progress-indeterminate' : 'progress'}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={indeterminate ? undefined : max}
      aria-valuenow={indeterminate ? undefined : value}
    >
      <div className="progress-fill" style={{ inlineSize: indeterminate ? '30%' : `${percent}%` }} />
    </div>
  );
}

/** An upload under way: "label (sent / total)" and its bar. */
export function UploadProgressNote({ progress, label }: { progress: UploadProgress; label: string }) {
  const { lang } = useI18n();
  return (
    <>
      <p className="hint">
        {label} (<bdi dir="ltr">{formatBytes(lang, progress.loaded)}</bdi> / <bdi dir="ltr">{formatBytes(lang, progress.total)}</bdi>)
      </p>
      <ProgressBar value={progress.loaded} max={progress.total || 1} label={label} />
    </>
  );
}

/** A number kept left-to-right inside right-to-left text. */
export function Num({ value, digits, className }: { value: number | null | undefined; digits?: number; className?: string }) {
  const { num } = useI18n();
  return (
    <bdi dir="ltr" className={['num', className].filter(Boolean).join(' ')}>
      {num(value, digits)}
    </bdi>
  );
}

export function Pct({ value, digits }: { value: number | null | undefined; digits?: number }) {
  const { pct } = useI18n();
  return (
    <bdi dir="ltr" className="num">
      {pct(value, digits)}
    </bdi>
  );
}

export function Phone({ number }: { number: string | null | undefined }) {
  return (
    <bdi dir="ltr" className="phone">
      {formatPhone(number)}
    </bdi>
  );
}

export function When({ value, seconds }: { value: string | null | undefined; seconds?: boolean }) {
  const { dateTime } = useI18n();
  return (
    <bdi dir="ltr" className="num">
      <time dateTime={value ?? undefined}>{dateTime(value, seconds)}</time>
    </bdi>
  );
}

export function Day({ value }: { value: string | null | undefined }) {
  const { date } = useI18n();
  return (
    <bdi dir="ltr" className="num">
      {date(value)}
    </bdi>
  );
}

/** Text a person typed (a campaign's name, a reason): isolated so its direction is its own. */
export function UserText({ children }: { children: ReactNode }) {
  return <bdi className="user-text">{children}</bdi>;
}

export function Badge({ kind, children }: { kind: string; children: ReactNode }) {
  return <span className={`badge badge-${kind}`}>{children}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  const { code } = useI18n();
  return (
    <span data-status={status}>
      <Badge kind={status}>{code('status', status)}</Badge>
    </span>
  );
}

export function Stat({ label, value, hint, tone }: { label: string; value: ReactNode; hint?: ReactNode; tone?: 'good' | 'warn' | 'bad' }) {
  return (
    <div className={['stat', tone ? `stat-${tone}` : ''].filter(Boolean).join(' ')}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

export function Tabs<T extends string>({ tabs, value, onChange, label }: { tabs: { id: T; label: string }[]; value: T; onChange: (id: T) => void; label: string }) {
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map((tab) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          id={`tab-${tab.id}`}
          aria-selected={tab.id === value}
          tabIndex={tab.id === value ? 0 : -1}
          className={tab.id === value ? 'tab tab-active' : 'tab'}
          onClick={() => onChange(tab.id)}
          onKeyDown={(event) => {
            const index = tabs.findIndex((t) => t.id === value);
            const rtl = document.documentElement.dir === 'rtl';
            const forward = rtl ? 'ArrowLeft' : 'ArrowRight';
            const backward = rtl ? 'ArrowRight' : 'ArrowLeft';
            let next = -1;
            if (event.key === forward) next = (index + 1) % tabs.length;
            if (event.key === backward) next = (index - 1 + tabs.length) % tabs.length;
            if (next >= 0) {
              event.preventDefault();
              onChange(tabs[next].id);
              document.getElementById(`tab-${tabs[next].id}`)?.focus();
            }
          }}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

export function Pagination({ page, pages, total, onPage }: { page: number; pages: number; total: number; onPage: (page: number) => void }) {
  const { t } = useI18n();
  if (pages <= 1) return <div className="pagination-info">{t('common.rows', { count: total })}</div>;
  return (
    <nav className="pagination" aria-label={t('common.pagination')}>
      <Button variant="ghost" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t('common.previous')}
      </Button>
      <span>{t('common.pageOf', { page, pages })}</span>
      <Button variant="ghost" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        {t('common.next')}
      </Button>
      <span className="pagination-info">{t('common.rows', { count: total })}</span>
    </nav>
  );
}

/** A column header that sorts: `sort` is the API's (`name`, `-name`). */
export function SortHeader({ column, sort, onSort, children }: { column: string; sort: string; onSort: (sort: string) => void; children: ReactNode }) {
  const { t } = useI18n();
  const active = sort === column || sort === `-${column}`;
  const descending = sort === `-${column}`;
  return (
    <th scope="col" aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort-button" onClick={() => onSort(active && !descending ? `-${column}` : column)} title={t('common.sortBy')}>
        {children}
        <span aria-hidden="true" className="sort-mark">
          {active ? (descending ? '▼' : '▲') : '↕'}
        </span>
      </button>
    </th>
  );
}

export function DownloadLink({ href, children, icon }: { href: string; children: ReactNode; icon?: ReactNode }) {
  return (
    <a className="btn btn-secondary" href={href} download>
      {icon}
      <span>{children}</span>
    </a>
  );
}

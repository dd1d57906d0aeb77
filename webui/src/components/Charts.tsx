// Small SVG charts, drawn here rather than with a chart library: a few hundred
// lines cover what the dashboard and reports need, right-to-left included (in
// Hebrew, time runs from right to left and the value axis sits on the right, as
// the rest of the page is mirrored). Every chart has a text alternative.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { OutcomeFilter } from '../api/types';
import { useI18n } from '../i18n';

/** A color for every outcome and `in_call` (the type makes a new outcome need one). */
export const OUTCOME_COLORS: Record<OutcomeFilter, string> = {
  answered: '#15803d',
  voicemail: '#0e7490',
  busy: '#b45309',
  no_answer: '#6b7280',
  congestion: '#c2410c',
  rejected: '#7e22ce',
  failed: '#b91c1c',
  blacklisted: '#111827',
  in_call: '#1d4ed8',
};

export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
}

const H = 220;

/** The drawing's width in CSS pixels, so text is never stretched (falls back to 640). */
function useWidth() {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(640);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      const next = Math.round(entry.contentRect.width);
      if (next > 100) setWidth(next);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}
const PAD = { top: 12, bottom: 28, side: 44, far: 24 };

/** A top for the value axis that splits into four round steps (counts: whole steps). */
function niceMax(value: number, integers = false): number {
  const raw = Math.max(value, integers ? 4 : 0.0001) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const steps = integers ? [1, 2, 3, 4, 5, 6, 8, 10] : [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
  const step = (steps.find((s) => s * power >= raw - 1e-9) ?? 10) * power;
  return Math.max(integers ? Math.ceil(step) : step, integers ? 1 : 0) * 4;
}

function Legend({ items }: { items: { label: string; color: string }[] }) {
  return (
    <ul className="legend">
      {items.map((item) => (
        <li key={item.label}>
          <span className="swatch" style={{ background: item.color }} aria-hidden="true" />
          <bdi>{item.label}</bdi>
        </li>
      ))}
    </ul>
  );
}

/** Lines over time (x in epoch milliseconds). */
export function LineChart({
  series,
  from,
  to,
  label,
  summary,
  formatX,
  formatY,
}: {
  series: Series[];
  from: number;
  to: number;
  label: string;
  summary: ReactNode;
  formatX: (x: number) => string;
  formatY?: (y: number) => string;
}) {
  const { dir, num } = useI18n();
  const descId = useId();
  const [ref, W] = useWidth();
  const rtl = dir === 'rtl';
  const values = series.flatMap((s) => s.points.map((p) => p.y));
  const max = niceMax(Math.max(1, ...values), values.every(Number.isInteger));
  const innerW = W - PAD.side - PAD.far;
  const innerH = H - PAD.top - PAD.bottom;
  const x0 = rtl ? PAD.far : PAD.side;
  const xOf = (x: number) => {
    const share = to > from ? (x - from) / (to - from) : 0;
    return rtl ? x0 + innerW * (1 - share) : x0 + innerW * share;
  };
  const yOf = (y: number) => PAD.top + innerH * (1 - y / max);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const xTicks: number[] = [];
  const step = (to - from) / 6;
  for (let i = 0; i <= 6; i++) xTicks.push(from + i * step);
  const axisX = rtl ? W - PAD.side + 6 : PAD.side - 6;
  return (
    <figure className="chart" ref={ref}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} aria-describedby={descId}>
        {yTicks.map((tick) => (
          <g key={tick}>
            <line x1={x0} x2={x0 + innerW} y1={yOf(tick)} y2={yOf(tick)} className="grid" />
            <text x={axisX} y={yOf(tick) + 4} textAnchor={rtl ? 'start' : 'end'} className="tick">
              {formatY ? formatY(tick) : num(tick, 1)}
            </text>
          </g>
        ))}
        {xTicks.map((tick) => (
          <text key={tick} x={xOf(tick)} y={H - 8} textAnchor="middle" className="tick">
            {formatX(tick)}
          </text>
        ))}
        {series.map((s) =>
          s.points.length > 0 ? (
            <polyline
              key={s.label}
              fill="none"
              stroke={s.color}
              strokeWidth={2}
              points={s.points.map((p) => `${xOf(p.x).toFixed(1)},${yOf(p.y).toFixed(1)}`).join(' ')}
            />
          ) : null,
        )}
      </svg>
      <Legend items={series} />
      <figcaption id={descId} className="sr-only">
        {summary}
      </figcaption>
    </figure>
  );
}

export interface BarGroup {
  label: string;
  values: Record<string, number>;
}

/** Bars per category, stacked or side by side. */
export function BarChart({
  groups,
  keys,
  label,
  summary,
  stacked = true,
  formatY,
}: {
  groups: BarGroup[];
  keys: { key: string; label: string; color: string }[];
  label: string;
  summary: ReactNode;
  stacked?: boolean;
  formatY?: (y: number) => string;
}) {
  const { dir, num } = useI18n();
  const descId = useId();
  const [ref, W] = useWidth();
  const rtl = dir === 'rtl';
  const totals = groups.map((g) => (stacked ? keys.reduce((sum, k) => sum + (g.values[k.key] ?? 0), 0) : Math.max(0, ...keys.map((k) => g.values[k.key] ?? 0))));
  const integers = groups.every((g) => Object.values(g.values).every(Number.isInteger));
  const max = niceMax(Math.max(1, ...totals), integers);
  const innerW = W - PAD.side - PAD.far;
  const innerH = H - PAD.top - PAD.bottom;
  const x0 = rtl ? PAD.far : PAD.side;
  const slot = groups.length > 0 ? innerW / groups.length : innerW;
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const yOf = (y: number) => PAD.top + innerH * (1 - y / max);
  const slotStart = (index: number) => (rtl ? x0 + innerW - (index + 1) * slot : x0 + index * slot);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const axisX = rtl ? W - PAD.side + 6 : PAD.side - 6;
  const labelEvery = Math.max(1, Math.ceil(groups.length / 10));
  return (
    <figure className="chart" ref={ref}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} aria-describedby={descId}>
        {yTicks.map((tick) => (
          <g key={tick}>
            <line x1={x0} x2={x0 + innerW} y1={yOf(tick)} y2={yOf(tick)} className="grid" />
            <text x={axisX} y={yOf(tick) + 4} textAnchor={rtl ? 'start' : 'end'} className="tick">
              {formatY ? formatY(tick) : num(tick, 1)}
            </text>
          </g>
        ))}
        {groups.map((group, index) => {
          const start = slotStart(index) + (slot - barW) / 2;
          let base = 0;
          const width = stacked ? barW : barW / keys.length;
          return (
            <g key={`${group.label}-${index}`}>
              {keys.map((k, ki) => {
                const value = group.values[k.key] ?? 0;
                if (value <= 0) return null;
                const x = stacked ? start : rtl ? start + barW - (ki + 1) * width : start + ki * width;
                const top = stacked ? yOf(base + value) : yOf(value);
                const bottom = stacked ? yOf(base) : yOf(0);
                if (stacked) base += value;
                return (
                  <rect key={k.key} x={x} y={top} width={Math.max(1, width - (stacked ? 0 : 1))} height={Math.max(0, bottom - top)} fill={k.color}>
                    <title>{`${group.label} · ${k.label}: ${num(value, 2)}`}</title>
                  </rect>
                );
              })}
              {index % labelEvery === 0 && (
                <text x={slotStart(index) + slot / 2} y={H - 8} textAnchor="middle" className="tick">
                  {group.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <Legend items={keys} />
      <figcaption id={descId} className="sr-only">
        {summary}
      </figcaption>
    </figure>
  );
}

/** Horizontal bars as plain HTML: a breakdown with labels, counts and shares. */
export function BreakdownBars({ rows, label }: { rows: { key: string; label: string; count: number; share: number; color: string }[]; label: string }) {
  const { num, pct } = useI18n();
  return (
    <ul className="breakdown" aria-label={label}>
      {rows.map((row) => (
        <li key={row.key}>
          <span className="breakdown-label">
            <span className="swatch" style={{ background: row.color }} aria-hidden="true" />
            {row.label}
          </span>
          <span className="breakdown-bar" aria-hidden="true">
            <span style={{ inlineSize: `${Math.max(row.share > 0 ? 1 : 0, row.share * 100)}%`, background: row.color }} />
          </span>
          <bdi dir="ltr" className="num breakdown-count">
            {num(row.count)}
          </bdi>
          <bdi dir="ltr" className="num breakdown-share">
            {pct(row.share)}
          </bdi>
        </li>
      ))}
    </ul>
  );
}

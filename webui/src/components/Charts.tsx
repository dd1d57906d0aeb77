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

/**
 * A top for the value axis that splits into four round steps (counts: whole
 * steps), never below `value`: the tallest bar or point always fits under it.
 */
export function niceMax(value: number, integers = false): number {
  const top = Math.max(value, integers ? 4 : 0.0001);
  const raw = top / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const steps = integers ? [1, 2, 3, 4, 5, 6, 8, 10, 20] : [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 20];
  for (const s of steps) {
    const step = integers ? Math.max(1, Math.ceil(s * power)) : s * power;
    if (step * 4 >= top) return step * 4;
  }
  return top;
}

export interface BarBox {
  group: number;
  key: string;
  value: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where a bar chart's bars and value axis go in a drawing `width` × H: the bars
 * inside the plot (between the axis and the far side, below the top padding),
 * the axis labels beside it, outside the plot, so a label never covers a bar.
 * In right to left the first group is on the right and the axis on the right.
 */
export function barLayout({
  groups,
  keys,
  stacked,
  width,
  rtl,
}: {
  groups: BarGroup[];
  keys: { key: string }[];
  stacked: boolean;
  width: number;
  rtl: boolean;
}) {
  const totals = groups.map((g) => (stacked ? keys.reduce((sum, k) => sum + Math.max(0, g.values[k.key] ?? 0), 0) : Math.max(0, ...keys.map((k) => g.values[k.key] ?? 0))));
  const integers = groups.every((g) => Object.values(g.values).every(Number.isInteger));
  const max = niceMax(Math.max(1, ...totals), integers);
  const innerW = width - PAD.side - PAD.far;
  const innerH = H - PAD.top - PAD.bottom;
  const x0 = rtl ? PAD.far : PAD.side;
  const plot = { left: x0, right: x0 + innerW, top: PAD.top, bottom: PAD.top + innerH };
  const slot = groups.length > 0 ? innerW / groups.length : innerW;
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const yOf = (y: number) => PAD.top + innerH * (1 - Math.min(y, max) / max);
  const slotStart = (index: number) => (rtl ? x0 + innerW - (index + 1) * slot : x0 + index * slot);
  const bars: BarBox[] = [];
  groups.forEach((group, index) => {
    const start = slotStart(index) + (slot - barW) / 2;
    const each = stacked ? barW : barW / Math.max(1, keys.length);
    let base = 0;
    keys.forEach((k, ki) => {
      const value = group.values[k.key] ?? 0;
      if (value <= 0) return;
      const x = stacked ? start : rtl ? start + barW - (ki + 1) * each : start + ki * each;
      const top = stacked ? yOf(base + value) : yOf(value);
      const bottom = stacked ? yOf(base) : yOf(0);
      if (stacked) base += value;
      bars.push({ group: index, key: k.key, value, x, y: top, width: Math.max(1, each - (stacked ? 0 : 1)), height: Math.max(0, bottom - top) });
    });
  });
  // The value axis: its labels start 6 px off the plot, on the outside.
  const axis = { x: rtl ? plot.right + 6 : plot.left - 6, anchor: rtl ? ('start' as const) : ('end' as const) };
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ value: f * max, y: yOf(f * max) }));
  const centers = groups.map((_, index) => slotStart(index) + slot / 2);
  return { max, plot, bars, axis, ticks, centers };
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
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} aria-describedby={descId} direction="ltr">
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

/** Bars per category, stacked or side by side. Each bar carries its group, key and value (`data-*`). */
export function BarChart({
  groups,
  keys,
  label,
  summary,
  stacked = true,
  formatY,
  testId,
}: {
  groups: BarGroup[];
  keys: { key: string; label: string; color: string }[];
  label: string;
  summary: ReactNode;
  stacked?: boolean;
  formatY?: (y: number) => string;
  testId?: string;
}) {
  const { dir, num } = useI18n();
  const descId = useId();
  const [ref, W] = useWidth();
  const rtl = dir === 'rtl';
  const layout = barLayout({ groups, keys, stacked, width: W, rtl });
  const labelEvery = Math.max(1, Math.ceil(groups.length / 10));
  const color = Object.fromEntries(keys.map((k) => [k.key, k]));
  return (
    <figure className="chart" ref={ref} data-testid={testId}>
      {/* Numbers and times read left to right; the anchors below place them right to left. */}
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} aria-describedby={descId} direction="ltr">
        {layout.ticks.map((tick) => (
          <g key={tick.value}>
            <line x1={layout.plot.left} x2={layout.plot.right} y1={tick.y} y2={tick.y} className="grid" />
            <text x={layout.axis.x} y={tick.y + 4} textAnchor={layout.axis.anchor} className="tick">
              {formatY ? formatY(tick.value) : num(tick.value, 1)}
            </text>
          </g>
        ))}
        {layout.bars.map((bar) => (
          <rect
            key={`${bar.group}-${bar.key}`}
            x={bar.x}
            y={bar.y}
            width={bar.width}
            height={bar.height}
            fill={color[bar.key]?.color}
            data-group={groups[bar.group]?.label}
            data-key={bar.key}
            data-value={bar.value}
          >
            <title>{`${groups[bar.group]?.label} · ${color[bar.key]?.label}: ${num(bar.value, 2)}`}</title>
          </rect>
        ))}
        {groups.map((group, index) =>
          index % labelEvery === 0 ? (
            <text key={`${group.label}-${index}`} x={layout.centers[index]} y={H - 8} textAnchor="middle" className="tick">
              {group.label}
            </text>
          ) : null,
        )}
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

// The visual IVR flow builder: nodes (play, menu, capture, action) as cards, the
// arrows between them with the phone key on each, an inspector for the chosen
// node, and the engine's own problems shown on the node they concern. The box
// checks the flow as it is edited (POST /api/v1/flows/validate).
import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { api, ok, request } from '../api/client';
import type { FlowCheck, FlowDefinition, FlowNode, FlowProblem, NodeType, Retry } from '../api/types';
import { useI18n, type MessageKey } from '../i18n';
import {
  ACTION_KINDS,
  actionOf,
  cleanFlow,
  deleteNode,
  edgesOf,
  layoutColumns,
  newNode,
  nodeLabel,
  PHONE_KEYS,
  placeNodes,
  promptLabel,
  renameNode,
  setNode,
  templateFlow,
  templatesFor,
  TERMINAL_ACTIONS,
  uniqueName,
  variablesOf,
  type Edge,
  type FlowTemplate,
} from '../lib/flow';
import { AudioPanel } from './AudioPanel';
import { IconAlert, IconPlus, IconTrash } from './Icons';
import { Button, Notice, SelectField, Spinner, TextField } from './ui';

const NODE_W = 190;
/** A card's height, fixed: cards are laid out on this grid and never grow into one another. */
const NODE_H = 112;
const COL_GAP = 84;
const ROW_GAP = 36;
const PAD = 28;
const NODE_TYPES: NodeType[] = ['menu', 'play', 'capture', 'action'];

type Updater = (update: (flow: FlowDefinition) => FlowDefinition) => void;

/** Checks a flow on the box as it changes (debounced). */
export function useFlowCheck(flow: FlowDefinition) {
  const [check, setCheck] = useState<FlowCheck | null>(null);
  const [checking, setChecking] = useState(false);
  const [nonce, setNonce] = useState(0);
  const body = useMemo(() => JSON.stringify(cleanFlow(flow)), [flow]);
  useEffect(() => {
    let stopped = false;
    setChecking(true);
    const timer = setTimeout(async () => {
      try {
        const response = await request('/api/v1/flows/validate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        const result = (await response.json()) as FlowCheck;
        if (!stopped) setCheck(result);
      } catch {
        // The next edit checks again; the save will say what is wrong.
      } finally {
        if (!stopped) setChecking(false);
      }
    }, 500);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [body, nonce]);
  return { check, checking, recheck: () => setNonce((n) => n + 1) };
}

function problemField(t: (key: MessageKey) => string, field: string | null | undefined): string | null {
  if (!field) return null;
  const [head, rest] = field.split('.', 2);
  if (head === 'keys' && rest) return `${t('flow.key')} ${rest}`;
  const key = `flow.field.${field}` as MessageKey;
  const text = t(key);
  return text === key ? field : text;
}

/** The engine's problem in the UI's language when its code is known (the node types and actions it names translated, names as typed); else its English sentence. */
export function problemText(t: (key: MessageKey, vars?: Record<string, string | number>) => string, problem: Pick<FlowProblem, 'code' | 'params'>): string | null {
  const params: Record<string, string> = { ...(problem.params ?? {}) };
  // A key or arrow not pointed anywhere yet: say so, rather than name an empty node.
  const code = problem.code === 'target_unknown' && !params.target ? 'target_empty' : problem.code;
  const key = `flow.problem.${code}` as MessageKey;
  if (params.kind) params.kind = t(`flow.type.${params.kind}` as MessageKey);
  if (params.target) params.target = nodeLabel(t, params.target);
  if (params.start) params.start = nodeLabel(t, params.start);
  if (params.action) params.action = t(`flow.kind.${params.action}` as MessageKey);
  const text = t(key, params);
  return text === key ? null : text;
}

export function ProblemText({ problem }: { problem: FlowProblem }) {
  const { t } = useI18n();
  const field = problemField(t, problem.field);
  const text = problemText(t, problem);
  return (
    <>
      {field && <strong>{field}: </strong>}
      {text !== null ? (
        <span>{text}</span>
      ) : (
        <bdi lang="en" dir="ltr">
          {problem.message}
        </bdi>
      )}
    </>
  );
}

function PromptList({ prompts, onChange, known, label }: { prompts: string[]; onChange: (prompts: string[]) => void; known: string[]; label: string }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState('');
  const listId = useMemo(() => `prompts-${Math.random().toString(36).slice(2)}`, []);
  const add = () => {
    const name = draft.trim();
    if (!name) return;
    onChange([...prompts, name]);
    setDraft('');
  };
  return (
    <fieldset className="prompt-list">
      <legend>{label}</legend>
      <ol className="chips">
        {prompts.map((prompt, index) => (
          <li key={`${prompt}-${index}`} className="chip" data-prompt-chip={prompt}>
            <bdi title={prompt}>{promptLabel(t, prompt)}</bdi>
            <button type="button" className="chip-remove" aria-label={t('flow.removePrompt', { name: promptLabel(t, prompt) })} onClick={() => onChange(prompts.filter((_, i) => i !== index))}>
              ×
            </button>
          </li>
        ))}
      </ol>
      <div className="inline-add">
        <input
          list={listId}
          value={draft}
          dir="auto"
          aria-label={t('flow.addPromptName')}
          data-testid="prompt-input"
          placeholder={t('flow.promptPlaceholder')}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
        />
        <datalist id={listId}>
          {known.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        {known.length > 0 && (
          <select
            className="prompt-pick"
            data-testid="prompt-pick"
            aria-label={t('flow.pickRecording')}
            value=""
            onChange={(e) => {
              if (e.target.value) onChange([...prompts, e.target.value]);
            }}
          >
            <option value="">{t('flow.pickRecording')}</option>
            {known.map((name) => (
              <option key={name} value={name}>
                {promptLabel(t, name)}
              </option>
            ))}
          </select>
        )}
        <Button onClick={add} icon={<IconPlus />} data-testid="prompt-add">
          {t('flow.addPrompt')}
        </Button>
      </div>
    </fieldset>
  );
}

/**
 * One recording, by its words: the box's recordings and the one set now, or a
 * name typed for a recording still to be made ("another name…").
 */
function PromptSelect({ label, value, known, onChange, testId }: { label: string; value: string; known: string[]; onChange: (value: string) => void; testId?: string }) {
  const { t } = useI18n();
  const names = [...new Set([value, ...known].filter(Boolean))];
  const [typing, setTyping] = useState(false);
  if (typing) {
    return <TextField label={label} dir="auto" value={value} autoFocus onChange={(e) => onChange(e.target.value)} onBlur={() => setTyping(false)} data-testid={testId} />;
  }
  return (
    <SelectField
      label={label}
      value={value}
      data-testid={testId}
      onChange={(e) => (e.target.value === '\u0000other' ? setTyping(true) : onChange(e.target.value))}
      options={[...(value ? [] : [{ value: '', label: t('flow.pickRecording') }]), ...names.map((name) => ({ value: name, label: promptLabel(t, name) })), { value: '\u0000other', label: t('flow.otherRecording') }]}
    />
  );
}

/** Where an arrow goes: an existing node, or a new one made on the spot. */
function TargetSelect({
  label,
  value,
  flow,
  onPick,
  allowNone,
  noneLabel,
  hint,
  testId,
}: {
  testId?: string;
  label: string;
  value: string | undefined;
  flow: FlowDefinition;
  onPick: (value: string) => void;
  allowNone?: boolean;
  noneLabel?: string;
  hint?: string;
}) {
  const { t } = useI18n();
  const missing = value && !(value in flow.nodes);
  const options = [
    ...(allowNone || !value ? [{ value: '', label: allowNone ? (noneLabel ?? t('flow.none')) : t('flow.chooseTarget') }] : []),
    ...(missing ? [{ value: value as string, label: `${nodeLabel(t, value as string)} (${t('flow.missingNode')})` }] : []),
    ...Object.keys(flow.nodes).map((name) => ({ value: name, label: nodeLabel(t, name) })),
    ...NODE_TYPES.map((type) => ({ value: `new:${type}`, label: t('flow.newNodeOf', { type: t(`flow.type.${type}` as MessageKey) }) })),
  ];
  return <SelectField label={label} hint={hint} value={value ?? ''} onChange={(e) => onPick(e.target.value)} options={options} data-testid={testId} />;
}

function Inspector({
  name,
  flow,
  update,
  problems,
  known,
  onSelect,
}: {
  name: string;
  flow: FlowDefinition;
  update: Updater;
  problems: FlowProblem[];
  known: string[];
  onSelect: (name: string | null) => void;
}) {
  const { t } = useI18n();
  const node = flow.nodes[name];
  const shown = nodeLabel(t, name);
  const [rename, setRename] = useState(shown);
  useEffect(() => setRename(shown), [shown]);
  if (!node) return null;
  const set = (next: FlowNode) => update((f) => setNode(f, name, next));
  /** Points a reference at `value`, making the node first when it is `new:TYPE`. */
  const pick = (value: string, apply: (flow: FlowDefinition, target: string) => FlowDefinition) => {
    update((f) => {
      if (value.startsWith('new:')) {
        const type = value.slice(4) as NodeType;
        const target = uniqueName(f, t(`flow.defaultName.${type}` as MessageKey));
        const withNode = setNode(f, target, newNode(f, type));
        return apply(withNode, target);
      }
      return apply(f, value);
    });
  };
  const withNode = (f: FlowDefinition, change: (n: FlowNode) => FlowNode) => setNode(f, name, change(structuredClone(f.nodes[name])));
  const variables = variablesOf(flow);
  const action = node.action;
  const terminal = action ? TERMINAL_ACTIONS.includes(action.kind) : false;
  const usedKeys = Object.keys(node.keys ?? {});
  const freeKey = PHONE_KEYS.find((k) => !usedKeys.includes(k));
  return (
    <div className="inspector" aria-label={t('flow.inspector')}>
      <div className="inspector-head">
        <h3>
          {t(`flow.type.${node.type}` as MessageKey)}: <bdi title={name}>{shown}</bdi>
        </h3>
        {name !== flow.start && (
          <Button
            variant="ghost"
            icon={<IconTrash />}
            onClick={() => {
              update((f) => deleteNode(f, name));
              onSelect(null);
            }}
          >
            {t('flow.deleteNode')}
          </Button>
        )}
      </div>
      {problems.length > 0 && (
        <Notice kind="error">
          <ul className="plain">
            {problems.map((p, i) => (
              <li key={i}>
                <ProblemText problem={p} />
              </li>
            ))}
          </ul>
        </Notice>
      )}
      <div className="form-row">
        <TextField
          label={t('flow.nodeName')}
          data-testid="node-name"
          dir="auto"
          value={rename}
          onChange={(e) => setRename(e.target.value)}
          onBlur={() => {
            const next = rename.trim();
            // The label a known name is shown by is that name, not a new one.
            if (next && next !== shown && next !== name && !(next in flow.nodes)) {
              update((f) => renameNode(f, name, next));
              onSelect(next);
            } else setRename(shown);
          }}
          hint={name === flow.start ? t('flow.isStart') : undefined}
        />
        {name !== flow.start && (
          <div className="field">
            <span className="field-spacer" />
            <Button onClick={() => update((f) => ({ ...f, start: name }))}>{t('flow.makeStart')}</Button>
          </div>
        )}
      </div>
      {node.type !== 'action' && <PromptList label={t('flow.prompts')} prompts={node.prompts ?? []} known={known} onChange={(prompts) => set({ ...node, prompts })} />}

      {node.type === 'menu' && (
        <fieldset className="keys">
          <legend>{t('flow.keys')}</legend>
          {usedKeys.length === 0 && <p className="hint">{t('flow.noKeys')}</p>}
          {usedKeys.map((key) => (
            <div className="key-row" key={key}>
              <SelectField
                label={t('flow.key')}
                value={key}
                onChange={(e) =>
                  update((f) =>
                    withNode(f, (n) => {
                      const keys: Record<string, string> = {};
                      for (const [k, v] of Object.entries(n.keys ?? {})) keys[k === key ? e.target.value : k] = v;
                      return { ...n, keys };
                    }),
                  )
                }
                options={PHONE_KEYS.filter((k) => k === key || !usedKeys.includes(k)).map((k) => ({ value: k, label: k }))}
              />
              <TargetSelect testId={`target-${key}`} label={t('flow.goesTo')} value={node.keys?.[key]} flow={flow} onPick={(v) => pick(v, (f, target) => withNode(f, (n) => ({ ...n, keys: { ...n.keys, [key]: target } })))} />
              <Button
                variant="ghost"
                icon={<IconTrash />}
                aria-label={t('flow.removeKey', { key })}
                onClick={() =>
                  update((f) =>
                    withNode(f, (n) => {
                      const keys = { ...n.keys };
                      delete keys[key];
                      return { ...n, keys };
                    }),
                  )
                }
              />
            </div>
          ))}
          {freeKey && (
            <Button icon={<IconPlus />} data-testid="add-key" onClick={() => update((f) => withNode(f, (n) => ({ ...n, keys: { ...n.keys, [freeKey]: '' } })))}>
              {t('flow.addKey')}
            </Button>
          )}
        </fieldset>
      )}

      {node.type === 'capture' && (
        <fieldset>
          <legend>{t('flow.captureSettings')}</legend>
          <div className="form-row">
            <TextField label={t('flow.variable')} ltr value={node.variable ?? ''} onChange={(e) => set({ ...node, variable: e.target.value })} />
            <TextField label={t('flow.minLength')} type="number" min={1} max={20} ltr value={node.min_length ?? 1} onChange={(e) => set({ ...node, min_length: Number(e.target.value) })} />
            <TextField label={t('flow.maxLength')} type="number" min={1} max={20} ltr value={node.max_length ?? ''} onChange={(e) => set({ ...node, max_length: Number(e.target.value) })} />
            <SelectField label={t('flow.terminator')} value={node.terminator ?? '#'} onChange={(e) => set({ ...node, terminator: e.target.value })} options={['#', '*'].map((k) => ({ value: k, label: k }))} />
            <TextField label={t('flow.interDigit')} type="number" min={1} max={60} ltr value={node.inter_digit_seconds ?? 5} onChange={(e) => set({ ...node, inter_digit_seconds: Number(e.target.value) })} />
          </div>
        </fieldset>
      )}

      {(node.type === 'menu' || node.type === 'capture') &&
        (['timeout', 'invalid'] as const).map((which) => {
          const value = node[which] as Partial<Retry> | undefined;
          return (
            <fieldset className="retry-fields" key={which}>
              <legend>{t(which === 'timeout' ? 'flow.timeout' : 'flow.invalid')}</legend>
              <p className="hint">{t(which === 'timeout' ? 'flow.timeoutHint' : 'flow.invalidHint')}</p>
              <div className="form-row">
                {which === 'timeout' && (
                  <TextField label={t('flow.seconds')} type="number" min={1} max={60} ltr value={value?.seconds ?? ''} onChange={(e) => set({ ...node, timeout: { ...(value as Retry), seconds: Number(e.target.value) } })} />
                )}
                <PromptSelect label={t('flow.errorPrompt')} value={value?.prompt ?? ''} known={known} testId={`${which}-prompt`} onChange={(prompt) => set({ ...node, [which]: { ...(value as Retry), prompt } })} />
                <TextField label={t('flow.retries')} type="number" min={0} max={10} ltr value={value?.retries ?? ''} onChange={(e) => set({ ...node, [which]: { ...(value as Retry), retries: Number(e.target.value) } })} />
              </div>
              <TargetSelect label={t('flow.then')} value={value?.then} flow={flow} onPick={(v) => pick(v, (f, target) => withNode(f, (n) => ({ ...n, [which]: { ...(n[which] as Retry), then: target } })))} />
            </fieldset>
          );
        })}

      {node.type === 'action' && action && (
        <fieldset>
          <legend>{t('flow.action')}</legend>
          <SelectField
            label={t('flow.actionKind')}
            data-testid="action-kind"
            value={action.kind}
            onChange={(e) => set({ ...node, action: actionOf(e.target.value as typeof action.kind) })}
            options={ACTION_KINDS.map((kind) => ({ value: kind, label: t(`flow.kind.${kind}` as MessageKey) }))}
            hint={t(`flow.kindHint.${action.kind}` as MessageKey)}
          />
          {action.kind === 'donate' && (
            <SelectField
              label={t('flow.amountVariable')}
              value={action.amount_variable ?? ''}
              onChange={(e) => set({ ...node, action: { ...action, amount_variable: e.target.value || undefined } })}
              options={[{ value: '', label: t('flow.noAmount') }, ...variables.map((v) => ({ value: v, label: v }))]}
            />
          )}
          {action.kind === 'send_sms' && <TextField label={t('flow.template')} ltr value={action.template ?? ''} onChange={(e) => set({ ...node, action: { ...action, template: e.target.value || undefined } })} />}
          {action.kind === 'transfer' && <TextField label={t('flow.transferTo')} ltr inputMode="tel" value={action.to ?? ''} onChange={(e) => set({ ...node, action: { ...action, to: e.target.value } })} hint={t('flow.transferHint')} />}
          {action.kind === 'goto' && <TargetSelect label={t('flow.gotoTarget')} value={action.target} flow={flow} onPick={(v) => pick(v, (f, target) => withNode(f, (n) => ({ ...n, action: { ...n.action!, target } })))} />}
        </fieldset>
      )}

      {(node.type === 'play' || node.type === 'capture' || (node.type === 'action' && !terminal)) && (
        <TargetSelect
          testId="next-target"
          label={t('flow.next')}
          value={node.next}
          flow={flow}
          allowNone={node.type !== 'capture'}
          noneLabel={t('flow.nextNone')}
          onPick={(v) => (v === '' ? set({ ...node, next: undefined }) : pick(v, (f, target) => withNode(f, (n) => ({ ...n, next: target }))))}
        />
      )}
    </div>
  );
}

interface Point {
  x: number;
  y: number;
}

function bezierMid(p0: Point, p1: Point, p2: Point, p3: Point): Point {
  return { x: (p0.x + 3 * p1.x + 3 * p2.x + p3.x) / 8, y: (p0.y + 3 * p1.y + 3 * p2.y + p3.y) / 8 };
}

function Canvas({
  flow,
  selected,
  onSelect,
  problemsByNode,
  missing,
}: {
  flow: FlowDefinition;
  selected: string | null;
  onSelect: (name: string) => void;
  problemsByNode: Map<string, FlowProblem[]>;
  missing: Set<string>;
}) {
  const { t, dir } = useI18n();
  const rtl = dir === 'rtl';
  const [moved, setMoved] = useState<Record<string, Point>>({});
  const drag = useRef<{ name: string; startX: number; startY: number; origin: Point; active: boolean } | null>(null);
  const columns = layoutColumns(flow);
  const auto: Record<string, Point> = {};
  columns.forEach((column, ci) =>
    column.forEach((name, ri) => {
      auto[name] = { x: PAD + ci * (NODE_W + COL_GAP), y: PAD + ri * (NODE_H + ROW_GAP) };
    }),
  );
  const placed = placeNodes(columns.flat(), auto, moved, { width: NODE_W, height: NODE_H, colGap: COL_GAP, rowGap: ROW_GAP, pad: PAD });
  const pos = (name: string): Point | undefined => placed[name];
  const all = Object.keys(flow.nodes).map((n) => pos(n)).filter(Boolean) as Point[];
  const width = Math.max(600, ...all.map((p) => p.x + NODE_W + PAD));
  const height = Math.max(240, ...all.map((p) => p.y + NODE_H + PAD + 40));
  const X = (x: number) => (rtl ? width - x : x);
  const edges = edgesOf(flow).filter((e) => e.to in flow.nodes);
  const bySource = new Map<string, Edge[]>();
  const incomingOf = new Map<string, Edge[]>();
  for (const edge of edges) {
    bySource.set(edge.from, [...(bySource.get(edge.from) ?? []), edge]);
    incomingOf.set(edge.to, [...(incomingOf.get(edge.to) ?? []), edge]);
  }

  const onPointerDown = (name: string, event: ReactPointerEvent) => {
    const origin = pos(name);
    if (!origin || event.button !== 0) return;
    drag.current = { name, startX: event.clientX, startY: event.clientY, origin, active: false };
  };
  const onPointerMove = (event: ReactPointerEvent) => {
    const current = drag.current;
    if (!current) return;
    const dx = event.clientX - current.startX;
    const dy = event.clientY - current.startY;
    if (!current.active && Math.hypot(dx, dy) < 5) return;
    current.active = true;
    setMoved((m) => ({ ...m, [current.name]: { x: Math.max(0, current.origin.x + (rtl ? -dx : dx)), y: Math.max(0, current.origin.y + dy) } }));
  };
  const onPointerUp = () => {
    const current = drag.current;
    drag.current = null;
    if (current && !current.active) onSelect(current.name);
  };

  return (
    <div className="flow-canvas-scroll">
      <div className="flow-canvas" style={{ width, height }} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerLeave={() => (drag.current = null)}>
        <svg width={width} height={height} className="flow-edges" aria-hidden="true">
          <defs>
            {['key', 'next', 'timeout', 'invalid', 'goto'].map((kind) => (
              <marker key={kind} id={`arrow-${kind}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" className={`arrowhead edge-${kind}`} />
              </marker>
            ))}
          </defs>
          {[...bySource.entries()].flatMap(([from, list]) =>
            list.map((edge, index) => {
              const a = pos(from);
              const b = pos(edge.to);
              if (!a || !b) return null;
              let start = { x: a.x + NODE_W, y: a.y + ((index + 1) * NODE_H) / (list.length + 1) };
              let p1: Point;
              let p2: Point;
              let end: Point;
              const incoming = incomingOf.get(edge.to) ?? [];
              const slot = incoming.indexOf(edge);
              if (edge.to === from) {
                end = { x: a.x + NODE_W * 0.75, y: a.y };
                p1 = { x: start.x + 60, y: start.y - 10 };
                p2 = { x: end.x + 20, y: end.y - 60 };
              } else if (Math.abs(b.x - a.x) < NODE_W / 2) {
                // Same column: straight down (or up) between the two cards.
                const below = b.y > a.y;
                const offset = (slot - (incoming.length - 1) / 2) * 18;
                start = { x: a.x + NODE_W / 2 + offset, y: below ? a.y + NODE_H : a.y };
                end = { x: b.x + NODE_W / 2 + offset, y: below ? b.y : b.y + NODE_H };
                p1 = { x: start.x + 30, y: (start.y + end.y) / 2 };
                p2 = { x: end.x + 30, y: (start.y + end.y) / 2 };
              } else if (b.x > a.x) {
                end = { x: b.x, y: b.y + ((slot + 1) * NODE_H) / (incoming.length + 1) };
                const dx = Math.max(40, (end.x - start.x) / 2);
                p1 = { x: start.x + dx, y: start.y };
                p2 = { x: end.x - dx, y: end.y };
              } else {
                // Back to an earlier column: around, below the nodes.
                end = { x: b.x + NODE_W / 2, y: b.y + NODE_H };
                p1 = { x: start.x + 70, y: Math.max(start.y, end.y) + 90 };
                p2 = { x: end.x, y: Math.max(start.y, end.y) + 90 };
              }
              const d = `M ${X(start.x)} ${start.y} C ${X(p1.x)} ${p1.y}, ${X(p2.x)} ${p2.y}, ${X(end.x)} ${end.y}`;
              const mid = bezierMid(start, p1, p2, end);
              const label = edge.kind === 'key' ? edge.key : edge.kind === 'timeout' ? t('flow.edge.timeout') : edge.kind === 'invalid' ? t('flow.edge.invalid') : edge.kind === 'goto' ? t('flow.edge.goto') : null;
              return (
                <g key={`${from}-${edge.kind}-${edge.key ?? ''}-${index}`} className={`edge edge-${edge.kind}`}>
                  <path d={d} markerEnd={`url(#arrow-${edge.kind})`} />
                  {label && (
                    <g transform={`translate(${X(mid.x)} ${mid.y})`}>
                      {edge.kind === 'key' ? <circle r={11} /> : <rect x={-label.length * 3.6 - 6} y={-9} width={label.length * 7.2 + 12} height={18} rx={9} />}
                      <text textAnchor="middle" dy="4">
                        {label}
                      </text>
                    </g>
                  )}
                </g>
              );
            }),
          )}
        </svg>
        {Object.entries(flow.nodes).map(([name, node]) => {
          const p = pos(name);
          if (!p) return null;
          const problems = problemsByNode.get(name) ?? [];
          const lacking = (node.prompts ?? []).filter((prompt) => missing.has(prompt));
          const left = rtl ? width - p.x - NODE_W : p.x;
          return (
            <button
              type="button"
              key={name}
              className={['flow-node', `flow-node-${node.type}`, selected === name ? 'selected' : '', problems.length > 0 ? 'has-problems' : '', name === flow.start ? 'is-start' : ''].filter(Boolean).join(' ')}
              style={{ left, top: p.y, width: NODE_W, height: NODE_H }}
              onPointerDown={(e) => onPointerDown(name, e)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect(name);
                }
              }}
              aria-pressed={selected === name}
              data-node={name}
            >
              <span className="flow-node-type">
                {t(`flow.type.${node.type}` as MessageKey)}
                {name === flow.start && <span className="start-tag"> · {t('flow.start')}</span>}
              </span>
              <bdi className="flow-node-name" title={name}>
                {nodeLabel(t, name)}
              </bdi>
              <span className="flow-node-detail">
                {node.type === 'action' && node.action ? (
                  t(`flow.kind.${node.action.kind}` as MessageKey)
                ) : (
                  <bdi>{(node.prompts ?? []).map((prompt) => promptLabel(t, prompt)).join(', ') || '—'}</bdi>
                )}
              </span>
              {lacking.length > 0 && <span className="flow-node-missing">{t('flow.lacksRecording', { count: lacking.length })}</span>}
              {problems.length > 0 && (
                <span className="flow-node-problems" role="note">
                  <IconAlert size={13} /> {t('flow.problemsOnNode', { count: problems.length })}: <ProblemText problem={problems[0]} />
                </span>
              )}
            </button>
          );
        })}
      </div>
    </div>
  );
}

export function FlowEditor({ flow, onChange, campaignId, purpose }: { flow: FlowDefinition; onChange: (flow: FlowDefinition) => void; campaignId?: number; purpose?: string }) {
  const { t } = useI18n();
  const templates = templatesFor(purpose);
  const [template, setTemplate] = useState<FlowTemplate>(templates[0]);
  const [selected, setSelected] = useState<string | null>(flow.start);
  const [addType, setAddType] = useState<NodeType>('menu');
  const { check, checking, recheck } = useFlowCheck(flow);
  const latest = useRef(flow);
  latest.current = flow;
  const update: Updater = (change) => onChange(change(latest.current));
  const audio = useQuery({ queryKey: ['audio'], queryFn: () => ok(api.GET('/api/v1/audio')) });
  const known = useMemo(() => [...new Set(['campaign', ...(audio.data ?? []).map((a) => a.name)])].sort(), [audio.data]);
  const problemsByNode = useMemo(() => {
    const map = new Map<string, FlowProblem[]>();
    for (const problem of check?.problems ?? []) {
      if (problem.node && problem.node in flow.nodes) map.set(problem.node, [...(map.get(problem.node) ?? []), problem]);
    }
    return map;
  }, [check, flow.nodes]);
  const general = (check?.problems ?? []).filter((p) => !p.node || !(p.node in flow.nodes));
  const missing = new Set(check?.missing_prompts ?? []);

  return (
    <div className="flow-editor">
      <div className="flow-templates">
        <SelectField
          label={t('flow.template.choose')}
          data-testid="flow-template"
          value={template}
          onChange={(e) => setTemplate(e.target.value as FlowTemplate)}
          options={templates.map((id, index) => ({ value: id, label: index === 0 && purpose ? t('flow.template.recommended', { name: t(`flow.template.${id}` as MessageKey) }) : t(`flow.template.${id}` as MessageKey) }))}
          hint={t(`flow.templateHint.${template}` as MessageKey)}
        />
        <div className="field">
          <span className="field-spacer" />
          <Button
            data-testid="flow-template-use"
            onClick={() => {
              const next = templateFlow(template, flow.name, { thanks: t('flow.promptName.thanks') });
              onChange(next);
              setSelected(next.start);
            }}
          >
            {t('flow.template.use')}
          </Button>
        </div>
      </div>
      <div className="flow-toolbar">
        <SelectField label={t('flow.addNodeType')} value={addType} onChange={(e) => setAddType(e.target.value as NodeType)} options={NODE_TYPES.map((type) => ({ value: type, label: t(`flow.type.${type}` as MessageKey) }))} />
        <Button
          icon={<IconPlus />}
          onClick={() => {
            const name = uniqueName(flow, t(`flow.defaultName.${addType}` as MessageKey));
            update((f) => setNode(f, name, newNode(f, addType)));
            setSelected(name);
          }}
        >
          {t('flow.addNode')}
        </Button>
        <div className="flow-status" role="status" aria-live="polite">
          {checking ? (
            <>
              <Spinner small /> {t('flow.checking')}
            </>
          ) : check?.valid ? (
            <span className="badge badge-active" data-testid="flow-valid">
              {t('flow.valid')}
            </span>
          ) : check ? (
            <span className="badge badge-cancelled" data-testid="flow-invalid">
              {t('flow.problems', { count: check.problems.length })}
            </span>
          ) : null}
        </div>
      </div>
      {general.length > 0 && (
        <Notice kind="error">
          <ul className="plain">
            {general.map((p, i) => (
              <li key={i}>
                {p.node && <bdi>{nodeLabel(t, p.node)}: </bdi>}
                <ProblemText problem={p} />
              </li>
            ))}
          </ul>
        </Notice>
      )}
      <div className="flow-workspace">
        <Canvas flow={flow} selected={selected} onSelect={setSelected} problemsByNode={problemsByNode} missing={missing} />
        {selected && flow.nodes[selected] ? (
          <Inspector name={selected} flow={flow} update={update} problems={problemsByNode.get(selected) ?? []} known={known} onSelect={setSelected} />
        ) : (
          <div className="inspector inspector-empty">
            <p>{t('flow.selectNode')}</p>
          </div>
        )}
      </div>
      {check && check.missing_prompts.length > 0 && (
        <section className="missing-prompts" aria-label={t('flow.missingPrompts')}>
          <h3>{t('flow.missingPrompts')}</h3>
          <p className="hint">{t('flow.missingPromptsHint')}</p>
          {check.missing_prompts.map((prompt) => (
            <div key={prompt} className="missing-prompt" data-prompt={prompt}>
              <h4>
                <bdi title={prompt}>{promptLabel(t, prompt)}</bdi>
              </h4>
              <AudioPanel name={prompt} compact onSaved={recheck} campaignId={prompt === 'campaign' ? campaignId : undefined} />
            </div>
          ))}
        </section>
      )}
    </div>
  );
}

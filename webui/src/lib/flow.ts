// The IVR flow as a graph, for the builder: which arrows leave each node, where
// nodes sit, and edits that keep references whole (renaming a node renames every
// arrow to it). The document itself stays exactly the engine's JSON (docs/ivr.md):
// the engine refuses unknown fields, so nothing of the builder's is stored in it.
import type { FlowAction, FlowDefinition, FlowNode, NodeType } from '../api/types';
import type { MessageKey } from '../i18n';

export const PHONE_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'] as const;
export const ACTION_KINDS: FlowAction['kind'][] = ['blacklist', 'donate', 'send_sms', 'transfer', 'end_call', 'goto'];
/** Actions after which the call does not go on in the flow. */
export const TERMINAL_ACTIONS: FlowAction['kind'][] = ['transfer', 'end_call', 'goto'];

export type EdgeKind = 'key' | 'next' | 'timeout' | 'invalid' | 'goto';

export interface Edge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** The phone key, for `key` arrows. */
  key?: string;
}

export function edgesOf(flow: FlowDefinition): Edge[] {
  const edges: Edge[] = [];
  for (const [name, node] of Object.entries(flow.nodes)) {
    for (const [key, to] of Object.entries(node.keys ?? {})) edges.push({ from: name, to, kind: 'key', key });
    if (node.next) edges.push({ from: name, to: node.next, kind: 'next' });
    if (node.timeout?.then) edges.push({ from: name, to: node.timeout.then, kind: 'timeout' });
    if (node.invalid?.then) edges.push({ from: name, to: node.invalid.then, kind: 'invalid' });
    if (node.action?.kind === 'goto' && node.action.target) edges.push({ from: name, to: node.action.target, kind: 'goto' });
  }
  return edges;
}

/**
 * The builder's columns, left to right in reading order: the start node, then each
 * node one column after the furthest node leading to it (loops back ignored); nodes
 * no path reaches go in a last column.
 */
export function layoutColumns(flow: FlowDefinition): string[][] {
  const names = Object.keys(flow.nodes);
  const depth = new Map<string, number>();
  // Breadth first from the start: the order nodes are met in.
  const order: string[] = [];
  const outgoing = new Map<string, string[]>();
  for (const edge of edgesOf(flow)) {
    if (!(edge.to in flow.nodes)) continue;
    const list = outgoing.get(edge.from) ?? [];
    list.push(edge.to);
    outgoing.set(edge.from, list);
  }
  if (flow.start in flow.nodes) {
    depth.set(flow.start, 0);
    const queue = [flow.start];
    while (queue.length > 0) {
      const current = queue.shift() as string;
      order.push(current);
      for (const next of outgoing.get(current) ?? []) {
        if (!depth.has(next)) {
          depth.set(next, (depth.get(current) ?? 0) + 1);
          queue.push(next);
        }
      }
    }
  }
  // Arrows that go forward in that order (no loops back) decide the column: the
  // longest way from the start, so a node comes after every node that leads to it
  // (the end of the call lands right of the opt-out that goes there too).
  const rank = new Map(order.map((name, index) => [name, index]));
  const column = new Map<string, number>(order.map((name) => [name, 0]));
  for (const name of order) {
    for (const next of outgoing.get(name) ?? []) {
      if ((rank.get(next) ?? -1) > (rank.get(name) ?? 0)) column.set(next, Math.max(column.get(next) ?? 0, (column.get(name) ?? 0) + 1));
    }
  }
  const columns: string[][] = [];
  for (const name of order) (columns[column.get(name) ?? 0] ??= []).push(name);
  const unreachable = names.filter((name) => !depth.has(name));
  if (unreachable.length > 0) columns.push(unreachable);
  return columns;
}

/** A node name not yet used: `menu`, `menu-2`, … */
export function uniqueName(flow: FlowDefinition, base: string): string {
  const clean = base.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, '') || 'node';
  if (!(clean in flow.nodes)) return clean;
  for (let i = 2; ; i++) {
    const candidate = `${clean}-${i}`;
    if (!(candidate in flow.nodes)) return candidate;
  }
}

function endNode(flow: FlowDefinition): string | undefined {
  return Object.entries(flow.nodes).find(([, node]) => node.type === 'action' && node.action?.kind === 'end_call')?.[0];
}

/** A new node with the fields its type needs, wired to the flow's end where it needs a target. */
export function newNode(flow: FlowDefinition, type: NodeType, kind: FlowAction['kind'] = 'end_call'): FlowNode {
  const end = endNode(flow) ?? '';
  switch (type) {
    case 'play':
      return { type: 'play', prompts: [] };
    case 'menu':
      return {
        type: 'menu',
        prompts: [],
        keys: {},
        timeout: { seconds: 10, prompt: 'no-input', retries: 2, then: end },
        invalid: { prompt: 'invalid', retries: 2, then: end },
      };
    case 'capture':
      return {
        type: 'capture',
        prompts: [],
        variable: 'amount',
        min_length: 1,
        max_length: 6,
        terminator: '#',
        inter_digit_seconds: 5,
        timeout: { seconds: 10, prompt: 'no-input', retries: 2, then: end },
        invalid: { prompt: 'invalid', retries: 2, then: end },
        next: end,
      };
    case 'action':
      return { type: 'action', action: actionOf(kind) };
  }
}

export function actionOf(kind: FlowAction['kind']): FlowAction {
  switch (kind) {
    case 'transfer':
      return { kind, to: '' };
    case 'goto':
      return { kind, target: '' };
    default:
      return { kind };
  }
}

/** A new flow: a menu where 9 opts out, and the end of the call. */
export function starterFlow(name: string): FlowDefinition {
  return {
    version: 1,
    name,
    start: 'main',
    nodes: {
      main: {
        type: 'menu',
        prompts: ['campaign'],
        keys: { '9': 'optout' },
        timeout: { seconds: 10, prompt: 'no-input', retries: 2, then: 'bye' },
        invalid: { prompt: 'invalid', retries: 2, then: 'bye' },
      },
      optout: { type: 'action', action: { kind: 'blacklist' }, next: 'bye' },
      bye: { type: 'action', action: { kind: 'end_call' } },
    },
  };
}

function retarget(node: FlowNode, from: string, to: string | undefined): FlowNode {
  const copy: FlowNode = structuredClone(node);
  if (copy.keys) {
    for (const [key, target] of Object.entries(copy.keys)) {
      if (target === from) {
        if (to === undefined) delete copy.keys[key];
        else copy.keys[key] = to;
      }
    }
  }
  if (copy.next === from) {
    if (to === undefined) delete copy.next;
    else copy.next = to;
  }
  if (copy.timeout?.then === from) copy.timeout.then = to ?? '';
  if (copy.invalid?.then === from) copy.invalid.then = to ?? '';
  if (copy.action?.kind === 'goto' && copy.action.target === from) copy.action.target = to ?? '';
  return copy;
}

/** Renames a node and every reference to it; refuses a name in use. */
export function renameNode(flow: FlowDefinition, from: string, to: string): FlowDefinition {
  if (from === to || !(from in flow.nodes) || to in flow.nodes || !to) return flow;
  const nodes: Record<string, FlowNode> = {};
  for (const [name, node] of Object.entries(flow.nodes)) nodes[name === from ? to : name] = retarget(node, from, to);
  return { ...flow, start: flow.start === from ? to : flow.start, nodes };
}

/** Deletes a node; keys that led to it go, other references are left empty for the checker to name. */
export function deleteNode(flow: FlowDefinition, name: string): FlowDefinition {
  if (!(name in flow.nodes) || name === flow.start) return flow;
  const nodes: Record<string, FlowNode> = {};
  for (const [other, node] of Object.entries(flow.nodes)) if (other !== name) nodes[other] = retarget(node, name, undefined);
  return { ...flow, nodes };
}

export function setNode(flow: FlowDefinition, name: string, node: FlowNode): FlowDefinition {
  return { ...flow, nodes: { ...flow.nodes, [name]: node } };
}

/** Every prompt the flow plays, in order of first use. */
export function promptsOf(flow: FlowDefinition): string[] {
  const seen = new Set<string>();
  for (const node of Object.values(flow.nodes)) {
    for (const prompt of node.prompts ?? []) seen.add(prompt);
    if (node.timeout?.prompt) seen.add(node.timeout.prompt);
    if (node.invalid?.prompt) seen.add(node.invalid.prompt);
  }
  return [...seen];
}

/** Variables set by capture nodes (what a donate action may use). */
export function variablesOf(flow: FlowDefinition): string[] {
  return Object.values(flow.nodes)
    .filter((node) => node.type === 'capture' && node.variable)
    .map((node) => node.variable as string);
}

/**
 * The document as the engine wants it: fields that do not belong to a node's type
 * are dropped (the engine refuses unknown fields), empty optional targets removed.
 */
export function cleanFlow(flow: FlowDefinition): FlowDefinition {
  const allowed: Record<NodeType, (keyof FlowNode)[]> = {
    play: ['type', 'prompts', 'next'],
    menu: ['type', 'prompts', 'keys', 'timeout', 'invalid'],
    capture: ['type', 'prompts', 'variable', 'min_length', 'max_length', 'terminator', 'inter_digit_seconds', 'timeout', 'invalid', 'next'],
    action: ['type', 'action', 'next'],
  };
  const nodes: Record<string, FlowNode> = {};
  for (const [name, node] of Object.entries(flow.nodes)) {
    const clean: Record<string, unknown> = {};
    for (const key of allowed[node.type] ?? []) {
      const value = node[key];
      if (value === undefined || value === null) continue;
      if (key === 'next' && value === '') continue;
      clean[key] = structuredClone(value);
    }
    if (node.type === 'action' && node.action) {
      const action: Record<string, unknown> = { kind: node.action.kind };
      if (node.action.kind === 'donate' && node.action.amount_variable) action.amount_variable = node.action.amount_variable;
      if (node.action.kind === 'send_sms' && node.action.template) action.template = node.action.template;
      if (node.action.kind === 'transfer') action.to = node.action.to ?? '';
      if (node.action.kind === 'goto') action.target = node.action.target ?? '';
      clean.action = action;
      if (TERMINAL_ACTIONS.includes(node.action.kind)) delete clean.next;
    }
    nodes[name] = clean as unknown as FlowNode;
  }
  return { version: 1, name: flow.name, start: flow.start, nodes };
}

type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/**
 * A node as staff see it. Node names are the engine's keys and may be any text
 * (Hebrew included); the names the box's own flows and the builder's starters
 * use (`main`, `optout`, `bye`, …) are shown by a label in the chosen language.
 */
export function nodeLabel(t: Translate, name: string): string {
  const key = `flow.node.${name}` as MessageKey;
  const text = t(key);
  return text === key ? name : text;
}

/** A recording as staff see it: `campaign` is "the campaign's message", `no-input` "nothing pressed", … others as named. */
export function promptLabel(t: Translate, name: string): string {
  const key = `flow.promptLabel.${name}` as MessageKey;
  const text = t(key);
  return text === key ? name : text;
}

/** The names staff may give a recording (the box's rule, shofar_telephony::prompts::valid_name): letters of any script, digits, spaces inside, `.`, `-`, `_`; 1 to 64; not starting with `.`. */
export function validPromptName(name: string): boolean {
  const chars = [...name];
  return (
    chars.length >= 1 &&
    chars.length <= 64 &&
    !name.startsWith('.') &&
    name.trim() === name &&
    /^[\p{L}\p{N}._\- ]+$/u.test(name) &&
    !/^u-[0-9a-f]{16}$/.test(name)
  );
}

export interface Point {
  x: number;
  y: number;
}

export interface Grid {
  width: number;
  height: number;
  colGap: number;
  rowGap: number;
  pad: number;
}

function overlaps(a: Point, b: Point, grid: Grid): boolean {
  // A little air between cards counts as touching: arrows need room.
  const airX = grid.colGap / 2;
  const airY = grid.rowGap / 2;
  return Math.abs(a.x - b.x) < grid.width + airX && Math.abs(a.y - b.y) < grid.height + airY;
}

/**
 * Where a card that wants `want` goes without covering any of `taken`: `want`
 * itself when it is free, else the first free slot below it in its column, then
 * in the columns after it (reading order), on the builder's grid.
 */
export function freePosition(taken: Point[], want: Point, grid: Grid): Point {
  if (!taken.some((p) => overlaps(p, want, grid))) return want;
  const stepX = grid.width + grid.colGap;
  const stepY = grid.height + grid.rowGap;
  const column0 = Math.max(0, Math.round((want.x - grid.pad) / stepX));
  const row0 = Math.max(0, Math.round((want.y - grid.pad) / stepY));
  const rows = Math.max(row0 + 1, ...taken.map((p) => Math.ceil((p.y - grid.pad) / stepY) + 2));
  for (let column = column0; ; column++) {
    for (let row = column === column0 ? row0 : 0; row <= rows; row++) {
      const slot = { x: grid.pad + column * stepX, y: grid.pad + row * stepY };
      if (!taken.some((p) => overlaps(p, slot, grid))) return slot;
    }
  }
}

/**
 * Every card's place: the ones staff dragged stay where they were put; the others
 * take their place in the automatic layout, or the nearest free one when a dragged
 * card (or one placed before) is there. No two cards overlap.
 */
export function placeNodes(order: string[], auto: Record<string, Point>, moved: Record<string, Point>, grid: Grid): Record<string, Point> {
  const placed: Record<string, Point> = {};
  for (const name of order) if (moved[name]) placed[name] = moved[name];
  for (const name of order) {
    if (placed[name] || !auto[name]) continue;
    placed[name] = freePosition(Object.values(placed), auto[name], grid);
  }
  return placed;
}

/** Ready menus, by what a campaign is for. */
export const FLOW_TEMPLATES = ['info', 'info-optout', 'donation', 'survey'] as const;
export type FlowTemplate = (typeof FLOW_TEMPLATES)[number];

/**
 * The ready menus offered for a campaign's purpose, the one that fits best first.
 * Only a donation campaign is offered the donation menu; advertising and political
 * calls always let the callee remove themselves from the list.
 */
export function templatesFor(purpose: string | undefined): FlowTemplate[] {
  switch (purpose) {
    case 'donation':
      return ['donation', 'info-optout', 'survey'];
    case 'advertising':
    case 'political':
      return ['info-optout', 'survey'];
    case 'emergency':
      return ['info', 'info-optout'];
    case 'informational':
      return ['info', 'info-optout', 'survey'];
    default:
      return ['info-optout', 'info', 'survey', 'donation'];
  }
}

const RETRY_TO_END = (end: string) => ({
  timeout: { seconds: 10, prompt: 'no-input', retries: 2, then: end },
  invalid: { prompt: 'invalid', retries: 2, then: end },
});

/**
 * A ready menu. `thanks` is the name of the thank-you recording in the chosen
 * language (a recording staff name themselves may be Hebrew); `campaign` is the
 * campaign's own message.
 */
export function templateFlow(template: FlowTemplate, name: string, prompts: { thanks: string }): FlowDefinition {
  switch (template) {
    case 'info':
      return {
        version: 1,
        name,
        start: 'message',
        nodes: {
          message: { type: 'play', prompts: ['campaign'], next: 'bye' },
          bye: { type: 'action', action: { kind: 'end_call' } },
        },
      };
    case 'info-optout':
      return starterFlow(name);
    case 'donation':
      return {
        version: 1,
        name,
        start: 'main',
        nodes: {
          main: { type: 'menu', prompts: ['campaign'], keys: { '1': 'donate', '9': 'optout' }, ...RETRY_TO_END('bye') },
          donate: { type: 'action', action: { kind: 'donate' }, next: 'thanks' },
          thanks: { type: 'play', prompts: [prompts.thanks], next: 'bye' },
          optout: { type: 'action', action: { kind: 'blacklist' }, next: 'bye' },
          bye: { type: 'action', action: { kind: 'end_call' } },
        },
      };
    case 'survey':
      return {
        version: 1,
        name,
        start: 'main',
        nodes: {
          main: { type: 'menu', prompts: ['campaign'], keys: Object.fromEntries(['1', '2', '3', '4', '5'].map((key) => [key, 'thanks'])), ...RETRY_TO_END('bye') },
          thanks: { type: 'play', prompts: [prompts.thanks], next: 'bye' },
          bye: { type: 'action', action: { kind: 'end_call' } },
        },
      };
  }
}

// The IVR flow as a graph, for the builder: which arrows leave each node, where
// nodes sit, and edits that keep references whole (renaming a node renames every
// arrow to it). The document itself stays exactly the engine's JSON (docs/ivr.md):
// the engine refuses unknown fields, so nothing of the builder's is stored in it.
import type { FlowAction, FlowDefinition, FlowNode, NodeType } from '../api/types';

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

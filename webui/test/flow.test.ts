import { describe, expect, it } from 'vitest';
import type { FlowDefinition } from '../src/api/types';
import { cleanFlow, deleteNode, edgesOf, layoutColumns, newNode, promptsOf, renameNode, setNode, starterFlow, uniqueName, variablesOf } from '../src/lib/flow';

const twoLevel = (): FlowDefinition => {
  const flow = starterFlow('Donations');
  flow.nodes.main.keys = { '1': 'donate-menu', '9': 'optout' };
  flow.nodes['donate-menu'] = {
    type: 'menu',
    prompts: ['donate-menu'],
    keys: { '1': 'donate', '0': 'main' },
    timeout: { seconds: 10, prompt: 'no-input', retries: 1, then: 'bye' },
    invalid: { prompt: 'invalid', retries: 1, then: 'main' },
  };
  flow.nodes.donate = { type: 'action', action: { kind: 'donate' }, next: 'thanks' };
  flow.nodes.thanks = { type: 'play', prompts: ['thanks'] };
  return flow;
};

describe('the flow as a graph', () => {
  it('has an arrow per key, next, timeout and invalid', () => {
    const edges = edgesOf(twoLevel());
    expect(edges).toContainEqual({ from: 'main', to: 'donate-menu', kind: 'key', key: '1' });
    expect(edges).toContainEqual({ from: 'donate-menu', to: 'main', kind: 'key', key: '0' });
    expect(edges).toContainEqual({ from: 'donate-menu', to: 'main', kind: 'invalid' });
    expect(edges).toContainEqual({ from: 'donate', to: 'thanks', kind: 'next' });
  });

  it('lays nodes out by the longest way from the start, unreachable ones last', () => {
    const flow = twoLevel();
    flow.nodes.orphan = { type: 'play', prompts: ['x'] };
    const columns = layoutColumns(flow);
    expect(columns[0]).toEqual(['main']);
    expect(columns[1]).toEqual(['donate-menu', 'optout']);
    // bye comes after optout and donate-menu, which lead to it.
    expect(columns[2]).toEqual(['bye', 'donate']);
    expect(columns[3]).toEqual(['thanks']);
    expect(columns[4]).toEqual(['orphan']);
  });

  it('renames a node and every reference to it', () => {
    const flow = renameNode(twoLevel(), 'main', 'welcome');
    expect(flow.start).toBe('welcome');
    expect(flow.nodes['donate-menu'].keys?.['0']).toBe('welcome');
    expect(flow.nodes['donate-menu'].invalid?.then).toBe('welcome');
    expect(flow.nodes.main).toBeUndefined();
    // A name in use is refused.
    expect(renameNode(twoLevel(), 'donate', 'thanks').nodes.donate).toBeDefined();
  });

  it('deletes a node: keys to it go, other references are left for the checker', () => {
    const flow = deleteNode(twoLevel(), 'donate-menu');
    expect(flow.nodes.main.keys).toEqual({ '9': 'optout' });
    expect(deleteNode(twoLevel(), 'main').nodes.main).toBeDefined();
    const noThanks = deleteNode(twoLevel(), 'thanks');
    expect(noThanks.nodes.donate.next).toBeUndefined();
  });

  it('saves exactly the engine JSON: no field a node type does not have', () => {
    let flow = twoLevel();
    flow = setNode(flow, 'agent', { type: 'action', action: { kind: 'transfer', to: '03-6123456' }, next: 'bye', prompts: ['x'] });
    flow.nodes.thanks.next = '';
    const clean = cleanFlow(flow);
    expect(clean.nodes.agent).toEqual({ type: 'action', action: { kind: 'transfer', to: '03-6123456' } });
    expect(clean.nodes.thanks).toEqual({ type: 'play', prompts: ['thanks'] });
    expect(clean).toMatchObject({ version: 1, name: 'Donations', start: 'main' });
  });

  it('makes new nodes with what their type needs, wired to the end', () => {
    const flow = twoLevel();
    const menu = newNode(flow, 'menu');
    expect(menu.timeout?.then).toBe('bye');
    expect(menu.keys).toEqual({});
    expect(newNode(flow, 'capture').max_length).toBe(6);
    expect(uniqueName(flow, 'main')).toBe('main-2');
    expect(uniqueName(flow, 'new node!')).toBe('new-node');
  });

  it('lists prompts and capture variables', () => {
    const flow = twoLevel();
    expect(promptsOf(flow)).toEqual(['campaign', 'no-input', 'invalid', 'donate-menu', 'thanks']);
    flow.nodes.amount = newNode(flow, 'capture');
    expect(variablesOf(flow)).toEqual(['amount']);
  });
});

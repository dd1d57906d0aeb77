import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { FlowDefinition } from '../src/api/types';
import { FlowEditor } from '../src/components/FlowEditor';
import { starterFlow } from '../src/lib/flow';
import { fakeBox, renderPage, session } from './helpers';

function Harness({ onFlow, purpose }: { onFlow: (flow: FlowDefinition) => void; purpose?: string }) {
  const [flow, setFlow] = useState(starterFlow('Donations'));
  onFlow(flow);
  return <FlowEditor flow={flow} onChange={setFlow} purpose={purpose} />;
}

describe('the flow builder', () => {
  it('draws the nodes, shows the engine problems on their node, and edits keys', async () => {
    let latest: FlowDefinition | null = null;
    const box = fakeBox({
      'GET /api/v1/session': session('manager'),
      'GET /api/v1/audio': [],
      'POST /api/v1/flows/validate': ({ body }: { body: unknown }) => {
        const flow = body as FlowDefinition;
        const keys = flow.nodes.main.keys ?? {};
        const dangling = Object.entries(keys).filter(([, to]) => !(to in flow.nodes));
        return {
          body: dangling.length
            ? { valid: false, problems: dangling.map(([key, to]) => ({ node: 'main', field: `keys.${key}`, code: 'target_unknown', params: { key, target: to }, message: `node "main": key "${key}" leads to "${to}", which is not a node` })), prompts: [], missing_prompts: [] }
            : { valid: true, problems: [], prompts: ['campaign', 'no-input', 'invalid'], missing_prompts: ['no-input', 'invalid'] },
        };
      },
    });
    renderPage(<Harness onFlow={(flow) => (latest = flow)} />);
    // Nodes by words in the chosen language, not their keys (main, optout).
    const main = await screen.findByRole('button', { name: /תפריט ראשי/, pressed: true });
    expect(main).toHaveTextContent('תפריט');
    expect(main).not.toHaveTextContent('main');
    expect(main).toHaveTextContent('הודעת הקמפיין');
    expect(screen.getByRole('button', { name: /הסרה מהרשימה/ })).toBeInTheDocument();
    // The recordings for "nothing pressed" and "wrong key" by words too.
    expect(screen.getByTestId('timeout-prompt')).toHaveDisplayValue('לא הוקש דבר');
    expect(screen.getByTestId('invalid-prompt')).toHaveDisplayValue('הוקש מקש שגוי');
    expect(await screen.findByTestId('flow-valid')).toBeInTheDocument();
    // The prompts with no recording yet are offered for upload or recording.
    expect(screen.getByRole('region', { name: 'הקלטות חסרות' })).toHaveTextContent('לא הוקש דבר');
    expect(screen.getByRole('region', { name: 'הקלטות חסרות' })).not.toHaveTextContent('no-input');

    // A key with no target yet: the engine's problem appears on the node.
    await userEvent.click(screen.getByTestId('add-key'));
    expect(latest!.nodes.main.keys).toEqual({ '9': 'optout', '1': '' });
    await waitFor(() => expect(screen.getByTestId('flow-invalid')).toBeInTheDocument(), { timeout: 3000 });
    const card = screen.getByRole('button', { name: /תפריט ראשי/, pressed: true });
    expect(within(card).getByRole('note')).toHaveTextContent('מקש 1');
    // Worded in Hebrew from the problem's code, not the engine's English sentence.
    await userEvent.click(card);
    const worded = await screen.findAllByText((_, element) => element?.tagName === 'SPAN' && (element.textContent ?? '').replace(/[\u2068\u2069]/g, '') === 'לא נבחר יעד: בחרו לאן ממשיכים.');
    expect(worded.length).toBeGreaterThan(0);
    expect(screen.queryByText(/which is not a node/)).toBeNull();

    // Pointing it at a new menu makes the node, named in Hebrew, and the arrow.
    await userEvent.selectOptions(screen.getByTestId('target-1'), 'new:menu');
    expect(latest!.nodes.main.keys?.['1']).toBe('תפריט');
    expect(latest!.nodes['תפריט'].type).toBe('menu');
    expect(await screen.findByRole('button', { name: /^תפריט תפריט/ })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('flow-valid')).toBeInTheDocument(), { timeout: 3000 });
    const sent = box.calls.filter((c) => c.path === '/api/v1/flows/validate').at(-1)?.body as FlowDefinition;
    expect(Object.keys(sent.nodes).sort()).toEqual(['bye', 'main', 'optout', 'תפריט']);
  });

  it('offers ready menus by the campaign purpose and a recording already on the box for a node', async () => {
    let latest: FlowDefinition | null = null;
    fakeBox({
      'GET /api/v1/session': session('manager'),
      'GET /api/v1/audio': [{ folder: 'prompts', name: 'תודה רבה', campaign_id: null, duration_ms: 1000, sha256: 'x', created_at: '2026-12-01T10:00:00Z', created_by: 'web:noa', playback_url: '/x' }],
      'POST /api/v1/flows/validate': { body: { valid: true, problems: [], prompts: [], missing_prompts: [] } },
    });
    renderPage(<Harness purpose="informational" onFlow={(flow) => (latest = flow)} />);
    const templates = await screen.findByTestId('flow-template');
    const offered = within(templates).getAllByRole('option').map((o) => (o as HTMLOptionElement).value);
    // An informational campaign does not start with "1 — donation".
    expect(offered).toEqual(['info', 'info-optout', 'survey']);
    expect(within(templates).getAllByRole('option')[0].textContent?.replace(/[\u2068\u2069]/g, '')).toBe('מידע בלבד (מומלץ למטרת הקמפיין)');
    await userEvent.click(screen.getByTestId('flow-template-use'));
    expect(latest!.start).toBe('message');
    expect(Object.keys(latest!.nodes)).toEqual(['message', 'bye']);
    expect(latest!.name).toBe('Donations');

    // The play node: pick the recording the box already has.
    await userEvent.click(await screen.findByRole('button', { name: /השמעת ההודעה/ }));
    const pick = await screen.findByTestId('prompt-pick');
    expect(within(pick).getByRole('option', { name: 'תודה רבה' })).toBeInTheDocument();
    await userEvent.selectOptions(pick, 'תודה רבה');
    expect(latest!.nodes.message.prompts).toEqual(['campaign', 'תודה רבה']);
  });
});

// The voice-menu builder for a clerk: nodes and recordings by human names, ready
// menus by the campaign's purpose, and new cards that never land on others.
import { describe, expect, it } from 'vitest';
import type { FlowDefinition } from '../src/api/types';
import { translate, type MessageKey } from '../src/i18n';
import {
  edgesOf,
  FLOW_TEMPLATES,
  freePosition,
  nodeLabel,
  placeNodes,
  promptLabel,
  starterFlow,
  templateFlow,
  templatesFor,
  validPromptName,
  type Grid,
  type Point,
} from '../src/lib/flow';

const th = (key: MessageKey, vars?: Record<string, string | number>) => translate('he', key, vars);
const te = (key: MessageKey, vars?: Record<string, string | number>) => translate('en', key, vars);
const GRID: Grid = { width: 190, height: 92, colGap: 84, rowGap: 36, pad: 28 };

function overlap(a: Point, b: Point): boolean {
  return Math.abs(a.x - b.x) < GRID.width && Math.abs(a.y - b.y) < GRID.height;
}

function noOverlaps(points: Point[]) {
  for (let i = 0; i < points.length; i++) for (let j = i + 1; j < points.length; j++) expect(overlap(points[i], points[j]), `${JSON.stringify(points[i])} and ${JSON.stringify(points[j])}`).toBe(false);
}

describe('names a clerk reads', () => {
  it('shows the starter nodes and the box prompts by words in the chosen language', () => {
    const flow = starterFlow('x');
    expect(Object.keys(flow.nodes).map((name) => nodeLabel(th, name))).toEqual(['תפריט ראשי', 'הסרה מהרשימה', 'סיום השיחה']);
    expect(Object.keys(flow.nodes).map((name) => nodeLabel(te, name))).toEqual(['Main menu', 'Remove from list', 'End of call']);
    expect(promptLabel(th, 'campaign')).toBe('הודעת הקמפיין');
    expect(promptLabel(th, 'no-input')).toBe('לא הוקש דבר');
    // A name staff typed is shown as typed.
    expect(nodeLabel(th, 'תפריט תרומה')).toBe('תפריט תרומה');
    expect(promptLabel(th, 'תודה רבה')).toBe('תודה רבה');
  });

  it('lets staff name a new node in the chosen language', () => {
    expect(th('flow.defaultName.menu')).toBe('תפריט');
    for (const type of ['menu', 'play', 'capture', 'action']) expect(th(`flow.defaultName.${type}` as MessageKey)).not.toMatch(/[A-Za-z]/);
  });

  it('accepts a recording name in Hebrew, as the box does, and refuses paths and hidden names', () => {
    for (const name of ['תודה', 'תפריט תרומה', 'הודעה-2', 'thanks', 'donate-menu-he']) expect(validPromptName(name), name).toBe(true);
    for (const name of ['', '../etc', 'a/b', '.hidden', ' תודה', 'תודה ', 'x\u202ey', 'u-0123456789abcdef', 'א'.repeat(65)]) expect(validPromptName(name), name).toBe(false);
  });
});

describe('ready menus by purpose', () => {
  it('never offers an informational, emergency, advertising or political campaign the donation menu, and offers a donation campaign it first', () => {
    for (const purpose of ['informational', 'emergency', 'advertising', 'political']) expect(templatesFor(purpose)).not.toContain('donation');
    expect(templatesFor('informational')[0]).toBe('info');
    expect(templatesFor('donation')[0]).toBe('donation');
    // Advertising must let people remove themselves: no menu without it.
    expect(templatesFor('advertising')).not.toContain('info');
    expect(templatesFor('advertising')[0]).toBe('info-optout');
  });

  it('builds each menu whole: the start and every arrow lead to nodes that exist, every recording named', () => {
    for (const template of FLOW_TEMPLATES) {
      const flow: FlowDefinition = templateFlow(template, 'x', { thanks: 'תודה' });
      expect(flow.nodes, template).toHaveProperty([flow.start]);
      for (const edge of edgesOf(flow)) expect(flow.nodes, `${template}: ${edge.from} → ${edge.to}`).toHaveProperty([edge.to]);
      for (const node of Object.values(flow.nodes)) for (const prompt of node.prompts ?? []) expect(prompt).not.toBe('');
    }
    const survey = templateFlow('survey', 'x', { thanks: 'תודה' });
    expect(Object.keys(survey.nodes[survey.start].keys ?? {})).toEqual(['1', '2', '3', '4', '5']);
    expect(templateFlow('donation', 'x', { thanks: 'תודה' }).nodes.thanks.prompts).toEqual(['תודה']);
    expect(JSON.stringify(templateFlow('info', 'x', { thanks: 'תודה' }))).not.toContain('donate');
  });
});

describe('new cards never overlap', () => {
  it('keeps a free place, and moves a taken one to the next free slot', () => {
    const want = { x: 28, y: 28 };
    expect(freePosition([], want, GRID)).toEqual(want);
    const taken = [{ x: 28, y: 28 }, { x: 28, y: 156 }];
    const placed = freePosition(taken, want, GRID);
    expect(placed).toEqual({ x: 28, y: 284 });
    noOverlaps([...taken, placed]);
    // Half on a card is still on it.
    noOverlaps([{ x: 100, y: 60 }, freePosition([{ x: 100, y: 60 }], want, GRID)]);
  });

  it('places every card of a flow off the ones staff dragged, and leaves dragged cards where they were put', () => {
    const order = ['main', 'optout', 'bye', 'menu', 'action'];
    const auto: Record<string, Point> = {
      main: { x: 28, y: 28 },
      optout: { x: 302, y: 28 },
      bye: { x: 576, y: 28 },
      menu: { x: 302, y: 156 },
      action: { x: 576, y: 156 },
    };
    // Staff dragged "bye" onto where the new "menu" card is laid out, and "main" half onto "optout".
    const moved = { bye: { x: 310, y: 150 }, main: { x: 250, y: 40 } };
    const placed = placeNodes(order, auto, moved, GRID);
    expect(placed.bye).toEqual(moved.bye);
    expect(placed.main).toEqual(moved.main);
    expect(Object.keys(placed).sort()).toEqual([...order].sort());
    noOverlaps(Object.values(placed));
  });
});

// Every word the UI shows goes through the dictionaries: no text written straight
// into JSX, and no literal aria-label, title, placeholder or alt. (The end-to-end
// run checks the rendered pages in both languages too.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', 'src');
/** Text that is the same in every language. */
const ALLOWED = new Set(['dBFS', 'B', 'KB', 'MB']);
const LABEL_ATTRIBUTES = new Set(['aria-label', 'title', 'placeholder', 'alt']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return path.endsWith('.tsx') ? [path] : [];
  });
}

function literalText(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isJsxText(node)) {
      const text = node.getText().trim();
      if (/\p{L}/u.test(text) && !ALLOWED.has(text)) found.push(`${path}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${text}`);
    }
    if (ts.isJsxAttribute(node) && LABEL_ATTRIBUTES.has(node.name.getText()) && node.initializer && ts.isStringLiteral(node.initializer)) {
      const text = node.initializer.text;
      if (/\p{L}/u.test(text) && !/^\d/.test(text)) found.push(`${path}: ${node.name.getText()}="${text}"`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the UI text', () => {
  it('comes from the dictionaries, never written into the components', () => {
    expect(files(ROOT).flatMap(literalText)).toEqual([]);
  });
});

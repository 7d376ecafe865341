/**
 * The options tables of docs/library.md, docs/cli.md and docs/api.md are the
 * ones src/option-schema.ts renders (options-doc.ts). After changing an
 * option, `npm run docs:options` writes them again (this test, updating its
 * file snapshots).
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { packageRoot } from '../../src/package-root.js';
import { optionDocs, optionMarks, renderOptionsTable } from './options-doc.js';

describe('the options tables of the docs', () => {
  it.each(optionDocs)('$file holds the $face table the schema renders', async ({ file, face }) => {
    const path = join(packageRoot(), file);
    const text = await readFile(path, 'utf8');
    const begin = text.indexOf(optionMarks.begin);
    const end = text.indexOf(optionMarks.end);
    expect(begin, `${file} has the mark ${optionMarks.begin}`).toBeGreaterThanOrEqual(0);
    expect(end, `${file} has the mark ${optionMarks.end} after the first`).toBeGreaterThan(begin);
    const rendered = `${text.slice(0, begin + optionMarks.begin.length)}\n${renderOptionsTable(face)}${text.slice(end)}`;
    await expect(rendered).toMatchFileSnapshot(path);
  });
});

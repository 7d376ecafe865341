/**
 * docs/configuration.md says what the code reads: its tables are rendered
 * from the settings table and the defaults in the code
 * (configuration-doc.ts), and every environment variable the code is seen
 * reading is in them. After changing a setting, `npm run docs:config`
 * writes the tables again (this test, updating its file snapshot).
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { packageRoot } from '../../src/package-root.js';
import {
  configDocFile,
  configMarks,
  documentedVariables,
  internalVariables,
  renderConfigTables,
  variablesReadByCode,
  variablesVsnapReads,
} from './configuration-doc.js';

describe('docs/configuration.md', () => {
  it('holds the tables the code renders (npm run docs:config writes them)', async () => {
    const file = join(packageRoot(), configDocFile);
    const text = await readFile(file, 'utf8');
    const begin = text.indexOf(configMarks.begin);
    const end = text.indexOf(configMarks.end);
    expect(begin, `${configDocFile} has the mark ${configMarks.begin}`).toBeGreaterThanOrEqual(0);
    expect(end, `${configDocFile} has the mark ${configMarks.end} after the first`).toBeGreaterThan(begin);
    const rendered = `${text.slice(0, begin + configMarks.begin.length)}\n${renderConfigTables()}${text.slice(end)}`;
    await expect(rendered).toMatchFileSnapshot(file);
  });

  it('names every environment variable the code reads', async () => {
    const documented = documentedVariables();
    const undocumented = [...(await variablesReadByCode())]
      .filter(([name]) => !documented.has(name) && !internalVariables.includes(name))
      .map(([name, file]) => `${name} (read in ${file})`);
    expect(undocumented).toEqual([]);
  });

  it('names no variable the code has stopped reading', async () => {
    const read = await variablesReadByCode();
    expect(variablesVsnapReads().filter((name) => !read.has(name))).toEqual([]);
  });
});

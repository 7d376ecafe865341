/**
 * The tables of the snapshot options in docs/library.md, docs/cli.md and
 * docs/api.md, rendered from their one definition (src/option-schema.ts):
 * each face's name, what it takes (the words its errors use), its default
 * and its description. options.test.ts holds the docs to them; after
 * changing an option, `npm run docs:options` writes them again.
 */

import {
  defaultOf,
  expectsOf,
  sampleOptions,
  schemaOf,
  type OptionEntry,
  type OptionFace,
  type SampleOptionName,
} from '../../src/option-schema.js';

export const optionDocs: readonly { file: string; face: OptionFace }[] = [
  { file: 'docs/library.md', face: 'library' },
  { file: 'docs/cli.md', face: 'cli' },
  { file: 'docs/api.md', face: 'api' },
];

export const optionMarks = {
  begin: '<!-- options:begin (generated from src/option-schema.ts by npm run docs:options) -->',
  end: '<!-- options:end -->',
};

/** The seed API's interval default is the library's; both are 1 where no count or times place the targets. */
const intervalDefault = '`1` (without `count` or `times`)';

export function renderOptionsTable(face: OptionFace): string {
  const rows = (Object.entries(sampleOptions) as [SampleOptionName, OptionEntry][])
    .filter(([, entry]) => face === 'library' || entry[face] !== undefined)
    .map(([name, entry]) => {
      const schema = schemaOf(name, face) as { description?: string };
      const fallback = name === 'interval' ? intervalDefault : defaultOf(name) === undefined ? '' : `\`${String(defaultOf(name))}\``;
      return `| ${cell(spelling(name, entry, face))} | ${cell(schema.description ?? '')} | ${cell(expectsOf(name, face))} | ${fallback} |`;
    });
  return ['| option | meaning | values | default |', '|---|---|---|---|', ...rows, ''].join('\n');
}

function spelling(name: SampleOptionName, entry: OptionEntry, face: OptionFace): string {
  if (face === 'cli') return `\`--${entry.cli!.flag} ${entry.cli!.placeholder}\``;
  if (face === 'api') return `\`parameters.${entry.api!.field}\``;
  return `\`${name}\``;
}

/** Table cells may not hold a bare `|`. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

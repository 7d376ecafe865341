/**
 * Every relative link of README.md, CHANGELOG.md and docs/ leads somewhere:
 * to a file or directory that exists and, where it names an anchor in a
 * Markdown file, to a heading of that file, slugged as GitHub slugs them
 * (github-slugger: lower case, spaces to '-', punctuation dropped, a repeated
 * heading suffixed -1, -2, ...). Code blocks and code spans hold no links.
 * Links to other sites are not followed.
 */

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import GithubSlugger from 'github-slugger';
import { describe, expect, it } from 'vitest';

import { packageRoot } from '../../src/package-root.js';

interface Link {
  target: string;
  line: number;
}

const root = packageRoot();

async function documents(): Promise<string[]> {
  const docs = await readdir(join(root, 'docs'), { recursive: true, withFileTypes: true });
  return [
    join(root, 'README.md'),
    join(root, 'CHANGELOG.md'),
    ...docs.filter((entry) => entry.isFile() && entry.name.endsWith('.md')).map((entry) => join(entry.parentPath, entry.name)),
  ].sort();
}

/** The text's lines with those of fenced code blocks blanked out. */
function unfencedLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) {
      fence = marker;
      return '';
    }
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    return line;
  });
}

/** The text without code blocks and code spans, line breaks kept, so offsets still give lines. */
function withoutCode(text: string): string {
  // A code span may wrap onto the next line, but does not cross a blank one.
  return unfencedLines(text)
    .join('\n')
    .replace(/`(?:[^`\n]|\n(?![ \t]*\n))*`/g, (code) => code.replace(/[^\n]/g, ' '));
}

function links(text: string): Link[] {
  const prose = withoutCode(text);
  const lineOf = (offset: number): number => prose.slice(0, offset).split('\n').length;
  const found: Link[] = [];
  for (const match of prose.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    found.push({ target: match[1] ?? '', line: lineOf(match.index) });
  }
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$/gm)) {
    found.push({ target: match[1] ?? '', line: lineOf(match.index) });
  }
  return found.filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target) && !link.target.startsWith('//'));
}

/** The anchors of a Markdown file's headings, as GitHub makes them from the rendered heading text. */
function anchors(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const found = new Set<string>();
  for (const line of unfencedLines(text)) {
    const heading = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const rendered = heading
      .replace(/`([^`]*)`/g, '$1')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/\*/g, '');
    found.add(slugger.slug(rendered));
  }
  return found;
}

async function brokenLinks(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const broken: string[] = [];
  for (const { target, line } of links(text)) {
    const hash = target.indexOf('#');
    const path = hash < 0 ? target : target.slice(0, hash);
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    const where = `${relative(root, file)}:${line}: ${target}`;
    if (!existsSync(destination)) {
      broken.push(`${where} (no such file)`);
    } else if (anchor !== undefined && destination.endsWith('.md') && !anchors(await readFile(destination, 'utf8')).has(anchor)) {
      broken.push(`${where} (no such heading in ${relative(root, destination)})`);
    }
  }
  return broken;
}

describe('links in the docs', () => {
  it('reads the links and headings GitHub renders', () => {
    const text = [
      '# The `vsnap` API',
      'See [the API](#the-vsnap-api), [a\nwrapped link](other.md#a-b) and ![a chart](bench/chart.svg "title").',
      '`[not a link](code.md)` and [a site](https://example.com).',
      '```sh',
      'echo "[nor this](fence.md)"',
      '```',
      '## Notes: *one*',
      '## Notes: one',
      '[ref]: ../CHANGELOG.md',
    ].join('\n');
    expect(links(text)).toEqual([
      { target: '#the-vsnap-api', line: 2 },
      { target: 'other.md#a-b', line: 2 },
      { target: 'bench/chart.svg', line: 3 },
      { target: '../CHANGELOG.md', line: 10 },
    ]);
    expect([...anchors(text)]).toEqual(['the-vsnap-api', 'notes-one', 'notes-one-1']);
  });

  it('has every relative link lead to a file and heading that exist', async () => {
    const files = await documents();
    expect(files.map((file) => relative(root, file))).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/library.md']));
    const broken = (await Promise.all(files.map(brokenLinks))).flat();
    expect(broken).toEqual([]);
  });
});

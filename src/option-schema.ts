/**
 * The snapshot options, defined once. Each entry is a JSON Schema (TypeBox)
 * of the option's value with its default and description, and how the faces
 * spell it: the library's key (the entry's name), the CLI's flag and the
 * API's `parameters.` field. Everything else derives from this table:
 *
 *   the library's types and validation   options.ts (checkOption below)
 *   the CLI's flags, help and parsing    cli/extract.ts (cliFlags)
 *   the API's parameters and validation  http/snapshot-request.ts (apiParameters)
 *   the OpenAPI document                 http/openapi-schemas.ts (parametersSchema)
 *
 * Where a face differs, the entry says so: the API keeps the seed's integer
 * interval (`api.schema`); `raw` frames exist in the library only; `signal`,
 * `backend`, `limits` and `encoder` are the library's (the CLI has
 * --backend). Rules that join options (count excludes interval, a window's
 * end after its start, a sprite's size) are in options.ts, spelled per face
 * by the same namer.
 */

import type { Static, TLiteral, TSchema } from '@sinclair/typebox';

import { invalidOption } from './errors.js';
import { Type, Value } from './typebox.js';

/** Intervals vsnap plans: frame times are kept to the millisecond; past ~2^31 s FFmpeg's rational of one degenerates. */
export const intervalRange = { min: 0.001, max: 1e9 } as const;
/** Targets of one `count` or `times` list; maxTargets limits every plan as well (limits.ts). */
export const maxListedTargets = 100_000;
/** A side of a scaled image: 8192, the side of the default pixel limit's square. */
export const maxSide = 8192;
export const maxSpriteCells = 100;
export const defaultCellWidth = 160;

const seconds = (options: { minimum?: number; exclusiveMinimum?: number; maximum?: number; description: string }) =>
  Type.Number({ ...options });

export const imageFormats = ['jpg', 'png', 'webp', 'raw'] as const;
export const samplingModes = ['exact', 'keyframe'] as const;
export const fitChoices = ['cover', 'contain', 'fill', 'inside', 'outside'] as const;
export const tonemapChoices = ['auto', 'off'] as const;

export type ImageFormat = (typeof imageFormats)[number];
export type SamplingMode = (typeof samplingModes)[number];
export type Fit = (typeof fitChoices)[number];
export type Tonemap = (typeof tonemapChoices)[number];

const choice = <T extends string>(choices: readonly T[], description: string, defaultValue: T) =>
  Type.Union(
    choices.map((c) => Type.Literal(c)) as TLiteral<T>[],
    { description, default: defaultValue },
  );

/** The three faces of the options: the library's object, the CLI's flags, the API's `parameters`. */
export type OptionFace = 'library' | 'cli' | 'api';

/** How one face spells an option, and what it may differ in. */
export interface OptionFaces {
  /** The CLI's flag (without --), its value's placeholder, how its text becomes a value, and its schema where it differs. */
  cli?: { flag: string; placeholder: string; parse: 'number' | 'text' | 'list' | 'grid'; schema?: TSchema; expects?: string };
  /** The API's `parameters.` field, and its schema (and words for it) where it differs from the library's. */
  api?: { field: string; schema?: TSchema; expects?: string };
}

export interface OptionEntry extends OptionFaces {
  schema: TSchema;
  /** What the value must be, in words, for "Expected <expects> for <name>". */
  expects: string;
}

const spriteSchema = Type.Object(
  {
    columns: Type.Integer({ minimum: 1, maximum: maxSpriteCells, description: 'cells across a sheet' }),
    rows: Type.Integer({ minimum: 1, maximum: maxSpriteCells, description: 'cells down a sheet' }),
  },
  {
    additionalProperties: false,
    description:
      'lay the images, in order, into sheets of columns x rows cells (sprite_J.EXT), with thumbnails.vtt pointing at each cell; ' +
      `cells are width x height, by default ${defaultCellWidth} wide`,
  },
);

/** The formats written to files (the CLI and the API): all but raw. */
const fileFormat = choice(['jpg', 'png', 'webp'] as const, 'image format: jpg, png or webp', 'jpg');

/** The snapshot options vsnap's faces share, in the order help lists them. */
export const sampleOptions = {
  interval: {
    schema: seconds({ minimum: intervalRange.min, maximum: intervalRange.max, description: 'seconds between targets t_k = start + k * interval (1 when neither count nor times is given)' }),
    expects: `a number of seconds from ${intervalRange.min} to ${intervalRange.max}`,
    cli: { flag: 'interval', placeholder: 'S', parse: 'number' },
    api: {
      field: 'interval',
      schema: Type.Integer({ minimum: 1, maximum: 3600, description: 'seconds between targets (the seed API: an integer)' }),
      expects: 'an integer number of seconds from 1 to 3600',
    },
  },
  start: {
    schema: seconds({ minimum: 0, maximum: intervalRange.max, description: 'seconds where the window starts, on the timeline (default 0)' }),
    expects: `a number of seconds from 0 to ${intervalRange.max}`,
    cli: { flag: 'start', placeholder: 'S', parse: 'number' },
    api: { field: 'start' },
  },
  end: {
    schema: seconds({ exclusiveMinimum: 0, maximum: intervalRange.max, description: "seconds where the window ends (default: the video's end)" }),
    expects: `a number of seconds above 0, up to ${intervalRange.max}`,
    cli: { flag: 'end', placeholder: 'S', parse: 'number' },
    api: { field: 'end' },
  },
  count: {
    schema: Type.Integer({ minimum: 1, maximum: maxListedTargets, description: 'targets at the centres of count equal parts of the window' }),
    expects: `an integer between 1 and ${maxListedTargets}`,
    cli: { flag: 'count', placeholder: 'N', parse: 'number' },
    api: { field: 'count' },
  },
  times: {
    schema: Type.Array(Type.Number({ minimum: 0, maximum: intervalRange.max }), {
      minItems: 1,
      maxItems: maxListedTargets,
      description: 'seconds on the timeline, one image for each, in the order given',
    }),
    expects: `a list of 1 to ${maxListedTargets} numbers of seconds from 0 to ${intervalRange.max}`,
    cli: {
      flag: 'times',
      placeholder: 'T1,T2,...',
      parse: 'list',
      expects: `a comma-separated list of 1 to ${maxListedTargets} numbers of seconds from 0 to ${intervalRange.max}`,
    },
    api: { field: 'times' },
  },
  mode: {
    schema: choice(samplingModes, "exact: the frame shown at each target; keyframe: the nearest keyframe", 'exact'),
    expects: `one of ${samplingModes.join(', ')}`,
    cli: { flag: 'mode', placeholder: samplingModes.join('|'), parse: 'text' },
    api: { field: 'mode' },
  },
  format: {
    schema: choice(imageFormats, 'jpg, png, webp, or raw (packed RGB24 bytes, the library only)', 'jpg'),
    expects: `one of ${imageFormats.join(', ')}`,
    cli: { flag: 'format', placeholder: 'jpg|png|webp', parse: 'text', schema: fileFormat },
    api: { field: 'format', schema: fileFormat },
  },
  quality: {
    schema: Type.Integer({ minimum: 1, maximum: 100, default: 80, description: 'JPEG and WebP quality' }),
    expects: 'an integer between 1 and 100',
    cli: { flag: 'quality', placeholder: 'Q', parse: 'number' },
  },
  compression: {
    schema: Type.Integer({ minimum: 0, maximum: 9, default: 3, description: 'PNG zlib compression level' }),
    expects: 'an integer between 0 and 9',
    cli: { flag: 'compression', placeholder: 'C', parse: 'number' },
  },
  width: {
    schema: Type.Integer({ minimum: 1, maximum: maxSide, description: 'width of each image (of the upright picture), in pixels' }),
    expects: `an integer between 1 and ${maxSide}`,
    cli: { flag: 'width', placeholder: 'W', parse: 'number' },
    api: { field: 'width' },
  },
  height: {
    schema: Type.Integer({ minimum: 1, maximum: maxSide, description: 'height of each image, in pixels' }),
    expects: `an integer between 1 and ${maxSide}`,
    cli: { flag: 'height', placeholder: 'H', parse: 'number' },
    api: { field: 'height' },
  },
  fit: {
    schema: choice(fitChoices, 'how width and height together fit the picture, as sharp says it', 'cover'),
    expects: `one of ${fitChoices.join(', ')}`,
    cli: { flag: 'fit', placeholder: fitChoices.join('|'), parse: 'text' },
    api: { field: 'fit' },
  },
  tonemap: {
    schema: choice(
      tonemapChoices,
      'auto: HDR video (PQ or HLG) as an SDR screen shows it, tone-mapped to BT.709, and SDR video as it is; off: no tone mapping',
      'auto',
    ),
    expects: `one of ${tonemapChoices.join(', ')}`,
    cli: { flag: 'tonemap', placeholder: tonemapChoices.join('|'), parse: 'text' },
    api: { field: 'tonemap' },
  },
  sprite: {
    schema: spriteSchema,
    expects: `{ columns, rows }, integers between 1 and ${maxSpriteCells}`,
    cli: { flag: 'sprite', placeholder: 'CxR', parse: 'grid', expects: `COLUMNSxROWS, such as 10x10, each between 1 and ${maxSpriteCells}` },
    api: { field: 'sprite' },
  },
} satisfies Record<string, OptionEntry>;

export type SampleOptionName = keyof typeof sampleOptions;

/** The values of the shared options, as the library takes them. */
export type SampleOptionValues = { [K in SampleOptionName]?: Static<(typeof sampleOptions)[K]['schema']> };

/** The options the API takes beyond the seed's interval, format and mode: vsnap's extensions. */
export const apiExtensionNames = (Object.keys(sampleOptions) as SampleOptionName[]).filter(
  (name) => (sampleOptions[name] as OptionEntry).api !== undefined && !['interval', 'format', 'mode'].includes(name),
);

/** How the API spells an option in errors: `parameters.<field>`. */
export function apiParameterName(key: string): string {
  const entry = (sampleOptions as Record<string, OptionEntry | undefined>)[key];
  return `parameters.${entry?.api?.field ?? key}`;
}

/** The default of an option, where it has one. */
export function defaultOf(name: SampleOptionName): unknown {
  return (sampleOptions[name].schema as { default?: unknown }).default;
}

/**
 * `value` checked against the option's schema on `face` (its own where it
 * has one); undefined stays undefined. Throws VSNAP_INVALID_OPTION naming
 * the option as `optionName` spells it.
 */
export function checkOption<K extends SampleOptionName>(
  name: K,
  value: unknown,
  optionName: string,
  face: OptionFace = 'library',
): SampleOptionValues[K] {
  if (value === undefined) return undefined;
  if (Value.Check(schemaOf(name, face), value)) return value as SampleOptionValues[K];
  throw invalidOption(optionName, expectsOf(name, face), value);
}

/** The schema of an option on a face. */
export function schemaOf(name: SampleOptionName, face: OptionFace = 'library'): TSchema {
  const entry: OptionEntry = sampleOptions[name];
  return (face === 'library' ? undefined : entry[face]?.schema) ?? entry.schema;
}

/**
 * The words of "Expected <what>" for an option on a face. The API names a
 * choice's values as JSON spells them ("jpg"), the library and the CLI as
 * they are typed.
 */
export function expectsOf(name: SampleOptionName, face: OptionFace = 'library'): string {
  const entry: OptionEntry = sampleOptions[name];
  const own = face === 'library' ? undefined : entry[face]?.expects;
  if (own !== undefined) return own;
  const literals = choicesOf(schemaOf(name, face));
  if (literals === undefined) return entry.expects;
  return `one of ${literals.map((c) => (face === 'api' ? JSON.stringify(c) : c)).join(', ')}`;
}

/** The values of a choice (a union of string literals); undefined for another schema. */
export function choicesOf(schema: TSchema): string[] | undefined {
  const members = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (members === undefined || !members.every((m) => typeof m.const === 'string')) return undefined;
  return members.map((m) => m.const as string);
}

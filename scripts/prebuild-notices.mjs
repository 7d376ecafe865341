// THIRD-PARTY-NOTICES.md and licenses/ of the prebuilt addon's package
// (scripts/prebuild.mjs): what is linked into vsnap.node, at which version,
// under which licence, from which source, with each one's licence texts,
// from what scripts/native-deps.sh and scripts/ffmpeg-static.sh recorded in
// build/native-deps/licenses and build/ffmpeg-static/licenses, and from the
// system's packages for OpenSSL (where Debian's libssl-dev is linked) and
// the GCC runtime.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dpkg = (format, pkg) => execFileSync('dpkg-query', ['-W', `-f=${format}`, pkg], { encoding: 'utf8' }).trim();

/** Debian's archive of every version of a source package. */
const snapshot = (source, version) => `https://snapshot.debian.org/package/${source}/${encodeURIComponent(version)}/`;

/** What a recorded licences directory says: the version and the files to copy. */
function recorded(dir, files) {
  return { version: readFileSync(join(dir, 'version'), 'utf8').trim(), files: files.map((f) => join(dir, f)) };
}

function components(build) {
  const deps = join(build, 'native-deps', 'licenses');
  const ffmpeg = join(build, 'ffmpeg-static', 'licenses');
  const builtOpenssl = join(deps, 'openssl');
  const gccPackage = execFileSync('dpkg', ['-S', execFileSync('g++', ['-print-file-name=libstdc++.a'], { encoding: 'utf8' }).trim()], {
    encoding: 'utf8',
  }).split(':')[0];
  return [
    {
      name: 'FFmpeg',
      part: 'libavformat, libavcodec, libswscale, libswresample, libavutil: demuxing and decoding',
      licence: 'LGPL-2.1-or-later',
      source: 'ffmpeg',
      ...recorded(ffmpeg, ['COPYING.LGPLv2.1', 'LICENSE.md', 'debian-copyright']),
    },
    { name: 'dav1d', part: 'AV1 decoding', licence: 'BSD-2-Clause', source: 'dav1d', ...recorded(join(deps, 'dav1d'), ['COPYING', 'debian-copyright']) },
    {
      name: 'libjpeg-turbo',
      part: 'JPEG encoding',
      licence: 'IJG AND BSD-3-Clause AND Zlib',
      source: 'libjpeg-turbo',
      ...recorded(join(deps, 'libjpeg-turbo'), ['LICENSE.md', 'README.ijg', 'debian-copyright']),
    },
    { name: 'zlib', part: "FFmpeg's zlib-compressed streams", licence: 'Zlib', source: 'zlib', ...recorded(join(deps, 'zlib'), ['README', 'debian-copyright']) },
    { name: 'bzip2', part: "FFmpeg's bzip2-compressed Matroska tracks", licence: 'bzip2-1.0.6', source: 'bzip2', ...recorded(join(deps, 'bzip2'), ['LICENSE', 'debian-copyright']) },
    existsSync(builtOpenssl)
      ? { name: 'OpenSSL', part: 'TLS for https inputs', licence: 'Apache-2.0', source: 'openssl', ...recorded(builtOpenssl, ['LICENSE.txt', 'debian-copyright']) }
      : {
          name: 'OpenSSL',
          part: 'TLS for https inputs',
          licence: 'Apache-2.0',
          source: 'openssl',
          version: dpkg('${source:Version}', 'libssl-dev'),
          files: ['/usr/share/common-licenses/Apache-2.0', '/usr/share/doc/libssl-dev/copyright'],
        },
    {
      name: 'GCC runtime',
      part: 'libstdc++ and libgcc',
      licence: 'GPL-3.0-or-later WITH GCC-exception-3.1',
      source: dpkg('${source:Package}', gccPackage),
      version: dpkg('${source:Version}', gccPackage),
      files: ['/usr/share/doc/libstdc++6/copyright'],
    },
  ];
}

export function writeNotices({ build, staged, glibc, versions }) {
  const list = components(build);
  const licences = join(staged, 'licenses');
  for (const component of list) {
    const dir = join(licences, component.name.toLowerCase().replaceAll(' ', '-'));
    mkdirSync(dir, { recursive: true });
    for (const file of component.files) cpSync(file, join(dir, file.split('/').at(-1) === 'copyright' ? 'debian-copyright' : file.split('/').at(-1)));
  }
  const configuration = readFileSync(join(build, 'ffmpeg-static', 'licenses', 'configuration'), 'utf8').trim();
  const ffmpeg = list[0];
  const text = `# Third-party software in vsnap.node

\`vsnap.node\` is vsnap's native addon (MIT, \`LICENSE\`), built for Linux
x64 with glibc ${glibc} or later. These libraries are linked into it
statically; each one's licence texts are in \`licenses/<name>/\` (with
Debian's copyright file for its source). Every source is Debian's source
package of that version, Debian's patches applied.

| component | what for | version | licence | source |
|---|---|---|---|---|
${list.map((c) => `| ${c.name} | ${c.part} | ${c.version} | ${c.licence} | ${snapshot(c.source, c.version)} |`).join('\n')}

The addon reports FFmpeg's library versions as \`versions()\`: ${Object.entries(versions)
    .filter(([key]) => key !== 'binding')
    .map(([key, value]) => `${key} ${value}`)
    .join(', ')}.

## FFmpeg

FFmpeg ${ffmpeg.version} is built without \`--enable-gpl\`, \`--enable-version3\`
and \`--enable-nonfree\`: its licence is the LGPL, version 2.1 or later
(\`licenses/ffmpeg/COPYING.LGPLv2.1\`), and only what vsnap reads is in it.
It was configured with:

\`\`\`
${configuration}
\`\`\`

The LGPL lets you replace FFmpeg in this addon with a version of your own.
Its source is at the address above; vsnap's repository builds it with
\`scripts/ffmpeg-static.sh\` into \`build/ffmpeg-static\`, where
\`npm run build:native\` links the addon again from vsnap's source (the
vsnap package carries it in \`native/\` and \`CMakeLists.txt\`). Point
\`VSNAP_NATIVE_PATH\` at the result, or replace this package's
\`vsnap.node\` with it.
`;
  writeFileSync(join(staged, 'THIRD-PARTY-NOTICES.md'), text);
  writeFileSync(
    join(staged, 'README.md'),
    `# @vsnap/linux-x64\n\nvsnap's native addon, prebuilt for Linux x64 with glibc ${glibc} or later: an optional dependency of\n[vsnap](https://www.npmjs.com/package/vsnap), which loads it. What is linked into it, and under which licences:\n\`THIRD-PARTY-NOTICES.md\`.\n`,
  );
}

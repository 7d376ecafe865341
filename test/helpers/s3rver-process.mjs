/**
 * s3rver as its own process, for test/helpers/s3rver.ts. Arguments: the
 * data directory, then the buckets to create. Listens on 127.0.0.1 and a
 * free port, then prints `listening on PORT`. It exits when its stdin ends:
 * the test process holds the other end, so however that process ends (a
 * crash or kill -9 included), this server does not outlive it.
 */

import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
const { port } = await server.run();
process.stdout.write(`listening on ${port}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

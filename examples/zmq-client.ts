/**
 * Talk to `anchorseg serve` from another Node.js program: set a goal, push camera frames, read masks.
 *
 *   npx anchorseg serve                                        # terminal 1
 *   npm run build && node dist/examples/zmq-client.js "the red cup" a.jpg b.jpg
 *
 *   npx anchorseg serve --source seq00 --loop                  # or: frames from a bundled sequence
 *   node dist/examples/zmq-client.js                           # just listen to 10 results
 *
 * In your own project the import is `from 'anchorseg/zmq'` (and `loadImage` from 'anchorseg').
 */
import path from 'node:path';
import { loadImage } from '../sdk/index.js';
import { AnchorSegClient, type ZmqResult } from '../zmq/index.js';

const [goal, ...images] = process.argv.slice(2);

await using client = AnchorSegClient.connect(); // tcp://127.0.0.1:5555 / 5556 / 5557; closed when this scope ends
const status = await client.status();
console.log(`server: ${status.model.name} ${status.model.version} on ${status.backend}, ${status.state}, goal ${JSON.stringify(status.goal)}`);
if (goal) {
  const set = await client.setGoal(goal); // an unreadable goal rejects with the server's ERR_GOAL_* code
  console.log(`goal set: ${JSON.stringify(set.goal)}${set.unknownWords.length ? ` (unknown words: ${set.unknownWords.join(', ')})` : ''}`);
}

const results = client.results(); // raw masks; { mode: 'rle' } receives headers only and decodes the RLE here
await results.ready(); // the server has our subscription: nothing published from now on is missed
const incoming = results[Symbol.asyncIterator]();
const show = (r: ZmqResult) =>
  console.log(
    `${r.frameId ?? r.seq}: ${r.found ? 'found' : 'not found'} (score ${r.score.toFixed(3)}), ${r.area} px` +
      `${r.bbox ? ` in bbox [${r.bbox.join(', ')}]` : ''}, anchor (${r.anchor.x.toFixed(0)}, ${r.anchor.y.toFixed(0)}), ${r.latencyMs.toFixed(1)} ms in the server`,
  );

if (images.length > 0) {
  // One frame at a time: the server keeps only the newest frame when it is busy (latest wins).
  for (const file of images) {
    const frame = { ...(await loadImage(file)), frameId: path.basename(file) };
    if (!(await client.sendFrame(frame))) console.log(`${frame.frameId}: dropped (server busy)`);
    let r: ZmqResult;
    do r = (await incoming.next()).value as ZmqResult;
    while (r.frameId !== frame.frameId);
    show(r);
  }
} else {
  for (let i = 0; i < 10; i++) show((await incoming.next()).value as ZmqResult);
}
await incoming.return?.();
console.log(`received ${results.stats().received}, missed ${results.stats().missed} (dropped at a high-water mark)`);

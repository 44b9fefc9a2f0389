import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AnchorSegError, describe } from '../../sdk/base/errors.js';
import type { DropMode } from '../../sdk/stream/intake.js';
import type { ServerOptions } from '../../zmq/index.js';
import { localSource } from '../local-source.js';
import { addViewFlags, openViewer, viewAddress, type ViewFlags } from '../viewer/flags.js';
import { addReasonFlags, reasonFromFlags } from '../param-flags.js';
import { aborted, action, addEngineFlags, interruptSignal, oneOf, openSegmenter, positiveInt, positiveNumber, type EngineFlags } from '../run.js';

interface Flags extends EngineFlags, ViewFlags {
  goal?: string;
  controlEndpoint: string;
  resultsEndpoint: string;
  framesEndpoint: string;
  source?: string;
  fps?: number;
  pace: boolean;
  loop?: boolean;
  drop?: DropMode;
  paused?: boolean;
  hwm: number;
  curveKeys?: string;
  curveClients?: string;
  curveKeygen?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  addViewFlags(
    addReasonFlags(
      addEngineFlags(
        program
          .command('serve')
          .description('ZeroMQ server (docs/zmq-protocol.md): results on PUB, commands (set_goal, status, pause, resume) on REP, frames on PULL or from a local source')
          .option('-g, --goal <text>', 'goal to start with (default: none until set_goal; a sequence source brings its own)')
          .option('--control-endpoint <endpoint>', 'REP endpoint for commands', 'tcp://127.0.0.1:5555')
          .option('--results-endpoint <endpoint>', 'PUB endpoint for results (topics result.mask, result.rle, error)', 'tcp://127.0.0.1:5556')
          .option('--frames-endpoint <endpoint>', 'PULL endpoint producers push frames to', 'tcp://127.0.0.1:5557')
          .option('--source <path>', 'frames from here instead: an image folder, a sequence folder, or a bundled sequence name (seq00..)')
          .option('--fps <n>', 'play the local source at this rate, latest frame wins (default: the sequence rate, else 15)', positiveNumber)
          .option('--no-pace', 'segment every local frame as fast as the model goes instead')
          .option('--loop', 'repeat the local source until stopped')
          .option('--drop <mode>', 'socket frames: latest (default, camera) or none (every frame, producers block at their high-water mark)', oneOf<DropMode>(['latest', 'none']))
          .option('--paused', 'start paused (resume command starts segmenting)')
          .option('--hwm <n>', 'result messages queued per subscriber before its copies are dropped', positiveInt, 8)
          .option('--curve-keys <file>', 'JSON {"publicKey","secretKey"} (Z85): CURVE on every socket; needed to bind beyond loopback')
          .option('--curve-clients <file>', 'with --curve-keys: client public keys allowed in, one per line (default: any client that knows the server key)')
          .option('--curve-keygen', 'print a new CURVE key pair as JSON and exit')
          .option('--json', 'JSON lines on stdout: {"event":"listening",...} when ready (with "view": the viewer\'s URL under --view), {"event":"closed",...} at exit'),
      ),
    ),
  ).action(action(run));
}

async function run(flags: Flags): Promise<void> {
  // SIGINT and SIGTERM both stop the server cleanly (a supervisor sends TERM, a terminal INT).
  const signal = interruptSignal();
  // Loaded here, not at the top: libzmq starts only for this command, not for every CLI run.
  const { curveKeyPair } = await import('zeromq');
  const { AnchorSegServer, checkServerOptions } = await import('../../zmq/index.js');
  if (flags.curveKeygen) {
    process.stdout.write(`${JSON.stringify(curveKeyPair())}\n`);
    return;
  }
  const local = flags.source ? await localSource({ ...flags, source: flags.source }) : undefined;
  const options: ServerOptions = {
    control: flags.controlEndpoint,
    results: flags.resultsEndpoint,
    frames: local ? null : flags.framesEndpoint,
    highWaterMark: flags.hwm,
    paused: flags.paused ?? false,
    drop: local ? local.drop : (flags.drop ?? 'latest'),
    ...(local && { source: local.frames }),
    ...((flags.goal ?? local?.goal) !== undefined && { goal: flags.goal ?? local?.goal }),
    reason: reasonFromFlags(flags as unknown as Record<string, unknown>),
    ...(flags.curveKeys && { curve: await curveOptions(flags.curveKeys, flags.curveClients) }),
  };
  checkServerOptions(options); // a refused endpoint or key fails before the model loads
  viewAddress(flags);
  const seg = await openSegmenter(flags, signal);
  try {
    const server = await AnchorSegServer.open(seg, options);
    const viewer = await openViewer(server.tap(), flags).catch(async (err: unknown) => {
      await server.close();
      throw err;
    });
    const s = server.status();
    if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'listening', endpoints: s.endpoints, goal: s.goal, state: s.state, ...(viewer && { view: viewer.url }) })}\n`);
    const e = s.endpoints;
    process.stderr.write(
      `anchorseg serve: ${s.model.name} ${s.model.version} on ${s.backend}; control ${e.control}, results ${e.results}, frames ${e.frames ?? `local ${flags.source}`}` +
        `${options.curve ? ', CURVE' : ''}; goal ${s.goal === null ? '(none: send set_goal)' : JSON.stringify(s.goal)}. Ctrl-C stops.\n`,
    );
    await aborted(signal);
    await viewer?.close();
    await server.close();
    const end = server.status();
    const c = end.counters;
    if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'closed', signal: (signal.reason as Error).message, counters: c })}\n`);
    process.stderr.write(
      `anchorseg serve: stopped (${(signal.reason as Error).message}); ${c.results} results from ${c.received} frames (${c.dropped} dropped, ${c.invalid} invalid, ${c.failures} failures)\n`,
    );
  } finally {
    await seg.close();
  }
}

async function curveOptions(keysFile: string, clientsFile: string | undefined): Promise<NonNullable<ServerOptions['curve']>> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new AnchorSegError('ERR_INVALID_ARG', `Expected a readable ${what} file at ${file} but ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const expected = `JSON {"publicKey","secretKey"} in ${keysFile} (anchorseg serve --curve-keygen writes one)`;
  let keys: unknown;
  try {
    keys = JSON.parse(await read(keysFile, '--curve-keys'));
  } catch (err) {
    if (err instanceof AnchorSegError) throw err;
    throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${expected} but ${(err as Error).message}`);
  }
  if (typeof keys !== 'object' || keys === null) throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${expected} but received ${describe(keys)}`);
  // Both keys, and the public one made by the secret one: the file is what clients get the server key from.
  const { checkKeyPair } = await import('../../zmq/index.js');
  const { secretKey } = checkKeyPair(keys as Record<string, unknown>, keysFile, (key) => `${key} in ${keysFile}`);
  const clients =
    clientsFile === undefined
      ? undefined
      : (await read(clientsFile, '--curve-clients'))
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#'));
  return { secretKey, ...(clients && { clients }) };
}

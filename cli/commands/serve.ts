import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { AnchorSegError } from '../../sdk/base/errors.js';
import type { Frame } from '../../sdk/base/frame.js';
import { defaultSequencesDir, imageFolder, paced, playSequences, readSequence } from '../../sdk/stream/sources.js';
import type { DropMode } from '../../sdk/stream/intake.js';
import type { ServerOptions } from '../../zmq/index.js';
import { addReasonFlags, reasonFromFlags } from '../param-flags.js';
import { aborted, action, addEngineFlags, interruptSignal, oneOf, openSegmenter, positiveInt, positiveNumber, type EngineFlags } from '../run.js';

interface Flags extends EngineFlags {
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
        .option('--json', 'JSON lines on stdout: {"event":"listening",...} when ready, {"event":"closed",...} at exit'),
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
  const local = flags.source ? await localSource(flags) : undefined;
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
  const seg = await openSegmenter(flags, signal);
  try {
    const server = await AnchorSegServer.open(seg, options);
    const s = server.status();
    if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'listening', endpoints: s.endpoints, goal: s.goal, state: s.state })}\n`);
    const e = s.endpoints;
    process.stderr.write(
      `anchorseg serve: ${s.model.name} ${s.model.version} on ${s.backend}; control ${e.control}, results ${e.results}, frames ${e.frames ?? `local ${flags.source}`}` +
        `${options.curve ? ', CURVE' : ''}; goal ${s.goal === null ? '(none: send set_goal)' : JSON.stringify(s.goal)}. Ctrl-C stops.\n`,
    );
    await aborted(signal);
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

/** `--source`: a sequence (folder with sequence.json, or a bundled one by name) or an image folder, paced like a camera unless --no-pace. */
async function localSource(flags: Flags): Promise<{ frames: AsyncIterable<Frame>; goal: string | undefined; drop: DropMode }> {
  const given = flags.source!;
  const bundled = path.join(defaultSequencesDir(), given);
  const dir = existsSync(path.join(given, 'sequence.json')) || !existsSync(bundled) ? given : bundled;
  const loops = flags.loop ? Infinity : 1;
  let frames: AsyncIterable<Frame>;
  let goal: string | undefined;
  let fps = flags.fps ?? 15;
  if (existsSync(path.join(dir, 'sequence.json'))) {
    const seq = await readSequence(dir);
    goal = seq.goal;
    fps = flags.fps ?? seq.fps;
    frames = playSequences([seq], { loops });
  } else {
    frames = (async function* () {
      for (let i = 0; i < loops; i++) yield* imageFolder(dir);
    })();
  }
  return flags.pace ? { frames: paced(frames, fps), goal, drop: 'latest' } : { frames, goal, drop: 'none' };
}

async function curveOptions(keysFile: string, clientsFile: string | undefined): Promise<NonNullable<ServerOptions['curve']>> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new AnchorSegError('ERR_INVALID_ARG', `Expected a readable ${what} file at ${file} but ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  let keys: { secretKey?: unknown };
  try {
    keys = JSON.parse(await read(keysFile, '--curve-keys')) as { secretKey?: unknown };
  } catch (err) {
    if (err instanceof AnchorSegError) throw err;
    throw new AnchorSegError('ERR_INVALID_ARG', `Expected JSON {"publicKey","secretKey"} in ${keysFile} (anchorseg serve --curve-keygen writes one) but ${(err as Error).message}`);
  }
  const clients =
    clientsFile === undefined
      ? undefined
      : (await read(clientsFile, '--curve-clients'))
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#'));
  // AnchorSegServer.open() checks the keys themselves (40 Z85 characters) and names the bad one.
  return { secretKey: keys.secretKey as string, ...(clients && { clients }) };
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AnchorSegError } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import type { DropMode } from '../sdk/stream/intake.js';
import { defaultSequencesDir, imageFolder, paced, playSequences, readSequence, type Sequence } from '../sdk/stream/sources.js';

export interface LocalSourceFlags {
  /** An image folder, a sequence folder, or a bundled sequence name (seq00..). */
  source: string;
  /** Play at this rate (default: the sequence's, else 15). */
  fps?: number;
  /** Like a camera (latest frame wins) rather than every frame as fast as the model goes. */
  pace: boolean;
  /** Repeat until stopped. */
  loop?: boolean;
}

export interface LocalSource {
  frames: AsyncIterable<Frame>;
  /** A sequence's goal (undefined for an image folder). */
  goal: string | undefined;
  sequence: Sequence | undefined;
  drop: DropMode;
  /** Image-folder files skipped so far as undecodable (each reported on stderr). */
  unreadable: () => number;
}

/** Frames from this process for `serve --source` and the `[source]` of `stream` and `view`: a sequence (a folder with sequence.json, or a bundled one by name) or an image folder, paced like a camera unless `pace` is false. */
export async function localSource(flags: LocalSourceFlags): Promise<LocalSource> {
  const given = flags.source;
  const bundled = path.join(defaultSequencesDir(), given);
  const dir = existsSync(path.join(given, 'sequence.json')) || !existsSync(bundled) ? given : bundled;
  const loops = flags.loop ? Infinity : 1;
  let frames: AsyncIterable<Frame>;
  let sequence: Sequence | undefined;
  let fps = flags.fps ?? 15;
  let unreadable = 0;
  // A bad file in a folder is skipped, as a bad frame from a camera is: reported, counted, the stream goes on.
  const onUnreadable = (err: AnchorSegError) => {
    unreadable++;
    process.stderr.write(`anchorseg: skipped: ${err.message.split('\n')[0]} [${err.code}]\n`);
  };
  if (existsSync(path.join(dir, 'sequence.json'))) {
    sequence = await readSequence(dir);
    fps = flags.fps ?? sequence.fps;
    frames = playSequences([sequence], { loops });
  } else {
    frames = (async function* () {
      for (let i = 0; i < loops; i++) yield* imageFolder(dir, { onUnreadable });
    })();
  }
  const local = { goal: sequence?.goal, sequence, unreadable: () => unreadable };
  return flags.pace ? { ...local, frames: paced(frames, fps), drop: 'latest' } : { ...local, frames, drop: 'none' };
}

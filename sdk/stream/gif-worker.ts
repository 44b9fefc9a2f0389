// Encodes the GIF preview on its own thread (sdk/stream/gif.ts): quantising a frame takes tens of
// milliseconds of JavaScript, which must not stall the event loop the stream runs on.
import { parentPort } from 'node:worker_threads';
import gifenc from 'gifenc';
import type { FromGifWorker, ToGifWorker } from './gif.js';

const FORMAT = 'rgb444';
/** A palette serves this many frames: consecutive camera frames share their colours, quantising is the costly step. */
const PALETTE_FRAMES = 15;

const port = parentPort!;
const encoder = gifenc.GIFEncoder();
let palette: number[][] | undefined;
let frames = 0;

port.on('message', (msg: ToGifWorker) => {
  if (msg.type === 'frame') {
    const { rgb, width, height, delay } = msg;
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgba[j] = rgb[i];
      rgba[j + 1] = rgb[i + 1];
      rgba[j + 2] = rgb[i + 2];
      rgba[j + 3] = 255;
    }
    if (!palette || frames % PALETTE_FRAMES === 0) palette = gifenc.quantize(rgba, 256, { format: FORMAT });
    encoder.writeFrame(gifenc.applyPalette(rgba, palette, FORMAT), width, height, { palette, delay });
    frames++;
  } else {
    encoder.finish();
    const bytes = encoder.bytes();
    port.postMessage({ type: 'done', bytes } satisfies FromGifWorker, [bytes.buffer as ArrayBuffer]);
  }
});

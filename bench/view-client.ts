// A viewer page's traffic for `npm run bench -- view`, in a process of its own as a browser's is:
// sent `{ url }`, it keeps that viewer's /events open (parsing every event) and fetches /frame.jpg
// as soon as it has the last one, at most the status event's maxFps times a second, as
// cli/viewer/viewer.html does; sent 'stop', it disconnects and answers with its counts. One process
// serves every run, so its start-up is not measured.

export interface ViewClientCounts {
  events: number;
  frames: number;
  jpegBytes: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function page(url: string, stop: AbortSignal, ready: () => void): Promise<ViewClientCounts> {
  const counts: ViewClientCounts = { events: 0, frames: 0, jpegBytes: 0 };
  let frameMs: number | undefined;
  const events = async () => {
    const res = await fetch(new URL('/events', url), { signal: stop });
    let text = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString();
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const data = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { maxFps?: number };
        if (block.startsWith('event: status')) {
          frameMs = 1000 / data.maxFps!;
          ready();
        } else counts.events++;
      }
    }
  };
  const frames = async () => {
    while (frameMs === undefined) await sleep(1);
    for (let next = 0; !stop.aborted; ) {
      await sleep(next - performance.now());
      next = performance.now() + frameMs;
      const res = await fetch(new URL('/frame.jpg', url), { signal: stop });
      const bytes = await res.arrayBuffer();
      if (res.ok) {
        counts.frames++;
        counts.jpegBytes += bytes.byteLength;
      }
    }
  };
  await Promise.allSettled([events(), frames()]);
  return counts;
}

let current: { stop: AbortController; done: Promise<ViewClientCounts> } | undefined;
process.on('message', (msg: { url: string } | 'stop' | 'exit') => {
  if (msg === 'exit') process.disconnect();
  else if (msg === 'stop') {
    current?.stop.abort();
    void current?.done.then((counts) => process.send!(counts));
    current = undefined;
  } else {
    const stop = new AbortController();
    current = { stop, done: page(msg.url, stop.signal, () => process.send!('ready')) };
  }
});

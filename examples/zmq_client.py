"""Talk to `anchorseg serve` from Python with pyzmq: set a goal, push camera frames, read masks.

    npx anchorseg serve                                   # terminal 1: frames from this script
    python examples/zmq_client.py --goal "the red cup" a.jpg b.jpg

    npx anchorseg serve --source seq00 --loop             # terminal 1: frames from a bundled sequence
    python examples/zmq_client.py --count 20              # just listen

Needs pyzmq, numpy and Pillow (pycocotools too with --rle). Wire format: docs/zmq-protocol.md.
"""

import argparse
import json
import uuid
from pathlib import Path

import numpy as np
import zmq
from PIL import Image

PROTOCOL = 2


class AnchorSeg:
    """The three sockets of one server: commands (REQ), results (SUB), frames (PUSH)."""

    def __init__(self, control, results, frames, rle=False, timeout_ms=5000):
        self.ctx = zmq.Context.instance()
        self.timeout_ms = timeout_ms
        self.control_endpoint = control
        self.control = self._req()
        self.topic = b"result.rle" if rle else b"result.mask"
        self.results = self.ctx.socket(zmq.SUB)
        self.results.setsockopt(zmq.RCVHWM, 8)  # a slow reader drops results instead of queueing them
        hello = f"hello.{uuid.uuid4()}".encode()
        self.results.setsockopt(zmq.SUBSCRIBE, self.topic)
        self.results.setsockopt(zmq.SUBSCRIBE, hello)
        self.results.connect(results)
        # The server answers the hello subscription: from then on, results reach us.
        while True:
            if not self.results.poll(timeout_ms):
                raise TimeoutError(f"no answer from {results}: is anchorseg serve running?")
            if self.results.recv_multipart() == [hello]:
                break
        self.frames = self.ctx.socket(zmq.PUSH)
        self.frames.setsockopt(zmq.SNDHWM, 2)
        self.frames.connect(frames)

    def _req(self):
        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.control_endpoint)
        return sock

    def command(self, cmd, **args):
        """One command; raises RuntimeError with the server's code and message on an error reply."""
        self.control.send_json({"v": PROTOCOL, "cmd": cmd, **args})
        if not self.control.poll(self.timeout_ms):
            self.control.close()  # a REQ socket that lost its reply must be replaced ("lazy pirate")
            self.control = self._req()
            raise TimeoutError(f"no reply to {cmd} from {self.control_endpoint}")
        reply = self.control.recv_json()
        if not reply["ok"]:
            raise RuntimeError(f"{reply['error']['code']}: {reply['error']['message']}")
        return reply

    def send_frame(self, rgb, frame_id, stamp=None):
        """Pushes an HxWx3 uint8 RGB image; False if it was dropped because the server is busy."""
        height, width, _ = rgb.shape
        header = {"v": PROTOCOL, "width": width, "height": height, "encoding": "rgb8", "step": width * 3, "frameId": frame_id}
        if stamp is not None:
            header["stamp"] = {"sec": int(stamp), "nanosec": int((stamp % 1) * 1e9)}
        try:
            self.frames.send_multipart([json.dumps(header).encode(), np.ascontiguousarray(rgb).tobytes()], flags=zmq.NOBLOCK)
            return True
        except zmq.Again:
            return False

    def next_result(self, timeout_ms=None):
        """(header, mask as an HxW uint8 array of 0/255), or None on timeout."""
        if not self.results.poll(timeout_ms or self.timeout_ms):
            return None
        parts = self.results.recv_multipart()
        header = json.loads(parts[1])
        height, width = header["height"], header["width"]
        if parts[0] == b"result.mask":
            mask = np.frombuffer(parts[2], dtype=np.uint8).reshape(height, width)
        else:
            from pycocotools import mask as mask_utils  # COCO RLE, as pycocotools writes it

            rle = {"size": header["rle"]["size"], "counts": header["rle"]["counts"].encode()}
            mask = mask_utils.decode(rle) * np.uint8(255)
        return header, mask

    def close(self):
        for sock in (self.control, self.results, self.frames):
            sock.close(linger=0)


def describe(header):
    where = f"bbox {header['bbox']}" if header["bbox"] else "empty mask"
    return (
        f"{header['frameId'] or '-'}: seq {header['seq']}, {'found' if header['found'] else 'not found'} "
        f"(score {header['score']:.3f}), {header['area']} px, {where}, anchor ({header['anchor']['x']:.0f}, {header['anchor']['y']:.0f}), "
        f"{header['latencyMs']:.1f} ms in the server"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="*", help="PNG/JPEG files to push as frames (none: just listen)")
    p.add_argument("--goal", help="set this goal first")
    p.add_argument("--count", type=int, default=10, help="when listening: stop after this many results")
    p.add_argument("--rle", action="store_true", help="receive only headers (mask as RLE), not raw masks")
    p.add_argument("--save", type=Path, help="write each mask as <frameId>.png here")
    p.add_argument("--control", default="tcp://127.0.0.1:5555")
    p.add_argument("--results", default="tcp://127.0.0.1:5556")
    p.add_argument("--frames", default="tcp://127.0.0.1:5557")
    args = p.parse_args()

    server = AnchorSeg(args.control, args.results, args.frames, rle=args.rle)
    try:
        status = server.command("status")["status"]
        print(f"server: {status['model']['name']} {status['model']['version']} on {status['backend']}, {status['state']}, goal {status['goal']!r}")
        if args.goal:
            reply = server.command("set_goal", goal=args.goal)
            unknown = f" (unknown words: {', '.join(reply['unknownWords'])})" if reply["unknownWords"] else ""
            print(f"goal set: {reply['goal']!r}{unknown}")
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)

        def show(result):
            header, mask = result
            print(describe(header))
            if args.save:
                Image.fromarray(mask).save(args.save / f"{header['frameId'] or header['seq']}.png")

        if args.images:
            # One frame at a time: push, then wait for its result (the server keeps only the latest frame).
            for path in args.images:
                frame_id = Path(path).stem
                server.send_frame(np.asarray(Image.open(path).convert("RGB")), frame_id)
                while (result := server.next_result()) is not None and result[0]["frameId"] != frame_id:
                    pass
                if result is None:
                    raise TimeoutError(f"no result for {path}")
                show(result)
        else:
            for _ in range(args.count):
                result = server.next_result()
                if result is None:
                    raise TimeoutError("no results: is a goal set and are frames coming in?")
                show(result)
    finally:
        server.close()


if __name__ == "__main__":
    main()

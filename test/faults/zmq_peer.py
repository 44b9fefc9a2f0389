"""pyzmq peers that the fault suite kills and restarts (test/faults/peers.test.ts), speaking the
wire format of docs/zmq-protocol.md; each reports JSON lines on stdout ({"event": ...}).

  subscribe  subscribes to result.mask (acknowledged by the server), reports "ready", then one
             "result" per message until killed
  push       pushes --count 64x48 rgb8 frames with frameIds <prefix>0, <prefix>1, ... every
             --interval-ms, reporting each "sent"; exits once they are out
"""

import argparse
import json
import sys
import time
from pathlib import Path

import zmq

# The acknowledged subscription and the JSON reports of the ZeroMQ suite's peer.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "zmq"))
from peer import V, emit, subscribe

WIDTH, HEIGHT = 64, 48


def subscriber(args, ctx):
    sub = subscribe(ctx, args.results, "result.mask")
    emit("ready")
    while True:
        parts = sub.recv_multipart()
        if parts[0] == b"result.mask":
            header = json.loads(parts[1])
            emit("result", frameId=header["frameId"], maskBytes=len(parts[2]))


def push(args, ctx):
    sock = ctx.socket(zmq.PUSH)
    sock.connect(args.frames)
    pixels = bytes((i * 7) % 256 for i in range(WIDTH * HEIGHT * 3))
    for i in range(args.count):
        header = {"v": V, "width": WIDTH, "height": HEIGHT, "encoding": "rgb8", "step": WIDTH * 3, "frameId": f"{args.prefix}{i}"}
        sock.send_multipart([json.dumps(header).encode(), pixels])
        emit("sent", frameId=header["frameId"])
        time.sleep(args.interval_ms / 1000)
    sock.close(linger=-1)
    ctx.term()  # returns once every frame is delivered


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["subscribe", "push"])
    p.add_argument("--results")
    p.add_argument("--frames")
    p.add_argument("--prefix", default="f")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--interval-ms", type=float, default=20)
    args = p.parse_args()
    ctx = zmq.Context()
    {"subscribe": subscriber, "push": push}[args.mode](args, ctx)


if __name__ == "__main__":
    main()

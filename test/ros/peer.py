"""A ROS 2 peer written with rclpy, for the tests: a client nobody on this project wrote.

Run with the ROS venv's python (ANCHORSEG_ROS_PYTHON). Each subcommand reports what it does as
JSON lines on stdout ({"event": ...}) and stops after its work, on SIGTERM/SIGINT, or at --timeout.

  camera     publishes sensor_msgs/Image frames (a pattern, or a ReasonSeg-Synth sequence)
  listen     subscribes to a topic and reports every message (images: header, shape, digest)
"""
import argparse
import hashlib
import json
import signal
import sys
import time

import rclpy
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from sensor_msgs.msg import Image


def emit(event, **fields):
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def qos(name, depth):
    reliability = {"best_effort": ReliabilityPolicy.BEST_EFFORT, "reliable": ReliabilityPolicy.RELIABLE}[name.split("+")[0]]
    durability = DurabilityPolicy.TRANSIENT_LOCAL if name.endswith("+transient_local") else DurabilityPolicy.VOLATILE
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=reliability, durability=durability)


CHANNELS = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}


def pattern(index, width, height, encoding):
    """Bytes that differ per frame and per position, so a receiver can check every byte."""
    n = width * height * CHANNELS[encoding]
    base = bytes((i * 7 + index * 13) % 251 for i in range(251))
    return (base * (n // 251 + 1))[:n]


def digest(data):
    return hashlib.sha256(bytes(data)).hexdigest()[:16]


def stamp_of(msg):
    return {"sec": msg.header.stamp.sec, "nanosec": msg.header.stamp.nanosec}


class Stopper:
    """SIGTERM/SIGINT end the loop instead of killing the process mid-report."""

    def __init__(self):
        self.stopped = False
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def stop(self, *_):
        self.stopped = True


def wait_for_subscribers(node, publisher, count, timeout, stopper):
    end = time.monotonic() + timeout
    while publisher.get_subscription_count() < count and time.monotonic() < end and not stopper.stopped:
        rclpy.spin_once(node, timeout_sec=0.05)
    emit("matched", subscribers=publisher.get_subscription_count())
    return publisher.get_subscription_count() >= count


def camera(args, node, stopper):
    pub = node.create_publisher(Image, args.topic, qos(args.qos, args.depth))
    if not wait_for_subscribers(node, pub, args.wait_subscribers, args.timeout, stopper):
        emit("error", reason=f"no subscriber on {args.topic} within {args.timeout} s")
        return 1
    period = 1.0 / args.rate
    next_at = time.monotonic()
    for i in range(args.count):
        if stopper.stopped:
            break
        msg = Image()
        msg.header.frame_id = args.frame_id
        msg.header.stamp.sec = args.first_sec + i
        msg.header.stamp.nanosec = 1000 * i
        msg.height, msg.width, msg.encoding = args.height, args.width, args.encoding
        msg.step = args.width * CHANNELS[args.encoding]
        data = pattern(i, args.width, args.height, args.encoding)
        msg.data = data
        pub.publish(msg)
        emit("sent", index=i, stamp=stamp_of(msg), digest=digest(data))
        next_at += period
        while not stopper.stopped and time.monotonic() < next_at:
            rclpy.spin_once(node, timeout_sec=max(0.0, next_at - time.monotonic()))
    emit("done")
    return 0


def listen(args, node, stopper):
    received = 0

    def on_image(msg):
        nonlocal received
        received += 1
        emit("image", stamp=stamp_of(msg), frame_id=msg.header.frame_id, width=msg.width, height=msg.height,
             encoding=msg.encoding, step=msg.step, bytes=len(msg.data), digest=digest(msg.data))

    node.create_subscription(Image, args.topic, on_image, qos(args.qos, args.depth))
    emit("ready")
    end = time.monotonic() + args.timeout
    while not stopper.stopped and time.monotonic() < end and (args.count == 0 or received < args.count):
        rclpy.spin_once(node, timeout_sec=0.05)
    emit("done", received=received)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    cam = sub.add_parser("camera")
    cam.add_argument("--topic", default="image")
    cam.add_argument("--width", type=int, default=640)
    cam.add_argument("--height", type=int, default=480)
    cam.add_argument("--encoding", default="rgb8", choices=sorted(CHANNELS))
    cam.add_argument("--count", type=int, default=30)
    cam.add_argument("--rate", type=float, default=30.0)
    cam.add_argument("--frame-id", default="camera_optical_frame")
    cam.add_argument("--first-sec", type=int, default=1000)
    cam.add_argument("--wait-subscribers", type=int, default=1)

    lis = sub.add_parser("listen")
    lis.add_argument("--topic", default="image")
    lis.add_argument("--count", type=int, default=0, help="stop after this many messages (0: at --timeout)")

    for p in (cam, lis):
        p.add_argument("--qos", default="best_effort",
                       choices=["best_effort", "reliable", "reliable+transient_local"])
        p.add_argument("--depth", type=int, default=5)
        p.add_argument("--timeout", type=float, default=30.0)

    args = parser.parse_args()
    stopper = Stopper()
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    node = Node(f"anchorseg_test_{args.command}")
    try:
        return {"camera": camera, "listen": listen}[args.command](args, node, stopper)
    finally:
        node.destroy_node()
        rclpy.shutdown()


if __name__ == "__main__":
    sys.exit(main())

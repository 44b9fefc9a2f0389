"""A ROS 2 peer written with rclpy, for the tests: a client nobody on this project wrote.

Run with the ROS venv's python (ANCHORSEG_ROS_PYTHON). Each subcommand reports what it does as
JSON lines on stdout ({"event": ...}) and stops after its work, on SIGTERM/SIGINT, or at --timeout.

  camera     publishes sensor_msgs/Image frames: a byte pattern, or raw frames from a file
  listen     subscribes to a topic and reports every message (images: header, shape, digest)
  goal       publishes one goal (std_msgs/String, reliable + transient local) and stays up
  set-param  sets a parameter of a node through its set_parameters service
  get-param  reads a parameter through get_parameters
  lifecycle  asks a lifecycle node for a transition (change_state) and reports the new state
  bad        publishes malformed images (wrong step, unknown encoding, truncated or over-long data)
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import String


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


def read_frames(path, width, height, encoding):
    """Raw frames written back to back (the test decodes a sequence's JPEGs with the SDK)."""
    size = width * height * CHANNELS[encoding]
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) == 0 or len(blob) % size:
        raise SystemExit(f"{path}: {len(blob)} bytes is not a whole number of {width}x{height} {encoding} frames")
    return [blob[k : k + size] for k in range(0, len(blob), size)]


def camera(args, node, stopper):
    frames = read_frames(args.frames_file, args.width, args.height, args.encoding) if args.frames_file else None
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
        if args.stamp == "now":
            now = time.time_ns()
            msg.header.stamp.sec, msg.header.stamp.nanosec = now // 1_000_000_000, now % 1_000_000_000
        else:
            msg.header.stamp.sec = args.first_sec + i
            msg.header.stamp.nanosec = 1000 * i
        msg.height, msg.width, msg.encoding = args.height, args.width, args.encoding
        msg.step = args.width * CHANNELS[args.encoding]
        data = frames[i % len(frames)] if frames else pattern(i, args.width, args.height, args.encoding)
        msg.data = data
        pub.publish(msg)
        emit("sent", index=i, stamp=stamp_of(msg), digest=digest(data) if args.digest else None)
        next_at += period
        while not stopper.stopped and time.monotonic() < next_at:
            rclpy.spin_once(node, timeout_sec=max(0.0, next_at - time.monotonic()))
    emit("done")
    # A writer that quits right after publishing may leave its last sample unread by a busy
    # subscriber; a real camera keeps running, and so does this one until stopped or --linger ends.
    end = time.monotonic() + args.linger
    while not stopper.stopped and time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
    return 0


def to_plain(value):
    """A message as JSON-able data (rosidl_runtime_py is not among the wheels)."""
    if hasattr(value, "get_fields_and_field_types"):
        return {k: to_plain(getattr(value, k)) for k in value.get_fields_and_field_types()}
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("array", "ndarray"):
        return [to_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def listen(args, node, stopper):
    received = 0
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)

    def on_image(msg):
        # With a camera stamping wall-clock time (--stamp now), this is camera-to-here latency.
        latency_ms = (time.time_ns() - (msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec)) / 1e6
        report = {
            "stamp": stamp_of(msg),
            "frame_id": msg.header.frame_id,
            "width": msg.width,
            "height": msg.height,
            "encoding": msg.encoding,
            "step": msg.step,
            "bytes": len(msg.data),
            "latency_ms": latency_ms,
            "digest": digest(msg.data) if args.digest else None,
        }
        if args.dump:
            path = os.path.join(args.dump, f"{msg.header.stamp.sec}_{msg.header.stamp.nanosec}.raw")
            with open(path, "wb") as f:
                f.write(bytes(msg.data))
            report["file"] = path
        return report

    def on_segmentation(msg):
        return {"message": to_plain(msg)}

    def on_diagnostics(msg):
        return {
            "status": [
                {
                    "level": int.from_bytes(s.level, "little") if isinstance(s.level, bytes) else int(s.level),
                    "name": s.name,
                    "message": s.message,
                    "values": {kv.key: kv.value for kv in s.values},
                }
                for s in msg.status
            ]
        }

    def on_string(msg):
        return {"data": msg.data}

    kinds = {"image": (Image, on_image), "diagnostics": (DiagnosticArray, on_diagnostics), "string": (String, on_string)}
    if args.type == "segmentation":
        from anchorseg_msgs.msg import Segmentation

        kinds["segmentation"] = (Segmentation, on_segmentation)
    msg_type, report = kinds[args.type]

    def on_message(msg):
        nonlocal received
        received += 1
        emit(args.type, **report(msg))

    node.create_subscription(msg_type, args.topic, on_message, qos(args.qos, args.depth))
    end = time.monotonic() + args.timeout
    # Messages published before discovery matches a volatile subscription are never delivered:
    # with --wait-publishers, "ready" means the publisher has been seen, not just that we listen.
    while node.count_publishers(args.topic) < args.wait_publishers and time.monotonic() < end and not stopper.stopped:
        rclpy.spin_once(node, timeout_sec=0.05)
    emit("ready")
    while not stopper.stopped and time.monotonic() < end and (args.count == 0 or received < args.count):
        rclpy.spin_once(node, timeout_sec=0.05)
    emit("done", received=received)
    return 0


def goal(args, node, stopper):
    pub = node.create_publisher(String, args.topic, qos("reliable+transient_local", 1))
    pub.publish(String(data=args.data))
    emit("sent", data=args.data)
    if args.wait_subscribers and not wait_for_subscribers(node, pub, args.wait_subscribers, args.timeout, stopper):
        emit("error", reason=f"no subscriber on {args.topic} within {args.timeout} s")
        return 1
    end = time.monotonic() + args.timeout
    while not stopper.stopped and time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
    return 0


def call(node, srv_type, name, request, timeout, stopper):
    client = node.create_client(srv_type, name)
    end = time.monotonic() + timeout
    while not client.wait_for_service(timeout_sec=0.1):
        if stopper.stopped or time.monotonic() > end:
            emit("error", reason=f"service {name} not available within {timeout} s")
            return None
    future = client.call_async(request)
    while not future.done() and not stopper.stopped and time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
    if not future.done():
        emit("error", reason=f"no answer from {name} within {timeout} s")
        return None
    return future.result()


PARAM_TYPES = {
    "string": (ParameterType.PARAMETER_STRING, "string_value", str),
    "double": (ParameterType.PARAMETER_DOUBLE, "double_value", float),
    "integer": (ParameterType.PARAMETER_INTEGER, "integer_value", int),
    "bool": (ParameterType.PARAMETER_BOOL, "bool_value", lambda v: v == "true"),
}


def set_param(args, node, stopper):
    ptype, field, convert = PARAM_TYPES[args.type]
    value = ParameterValue(type=ptype)
    setattr(value, field, convert(args.value))
    response = call(
        node, SetParameters, f"{args.node}/set_parameters", SetParameters.Request(parameters=[Parameter(name=args.name, value=value)]), args.timeout, stopper
    )
    if response is None:
        return 1
    r = response.results[0]
    emit("result", successful=r.successful, reason=r.reason)
    return 0


def get_param(args, node, stopper):
    response = call(node, GetParameters, f"{args.node}/get_parameters", GetParameters.Request(names=[args.name]), args.timeout, stopper)
    if response is None:
        return 1
    emit("value", value=to_plain(response.values[0]))
    return 0


TRANSITIONS = {
    "configure": Transition.TRANSITION_CONFIGURE,
    "activate": Transition.TRANSITION_ACTIVATE,
    "deactivate": Transition.TRANSITION_DEACTIVATE,
    "cleanup": Transition.TRANSITION_CLEANUP,
}


def lifecycle(args, node, stopper):
    if args.transition != "get":
        request = ChangeState.Request()
        request.transition.id = TRANSITIONS[args.transition]
        response = call(node, ChangeState, f"{args.node}/change_state", request, args.timeout, stopper)
        if response is None:
            return 1
        emit("result", success=response.success)
    state = call(node, GetState, f"{args.node}/get_state", GetState.Request(), args.timeout, stopper)
    if state is None:
        return 1
    emit("state", label=state.current_state.label, id=state.current_state.id)
    return 0


def bad(args, node, stopper):
    """Images a broken driver could send; each kind is checked by the node before inference."""
    pub = node.create_publisher(Image, args.topic, qos("reliable", 10))
    if not wait_for_subscribers(node, pub, 1, args.timeout, stopper):
        emit("error", reason=f"no subscriber on {args.topic} within {args.timeout} s")
        return 1
    for kind in args.kinds.split(",") * args.repeat:
        msg = Image()
        msg.header.frame_id = f"bad_{kind}"
        msg.height, msg.width, msg.encoding, msg.step = 48, 64, "rgb8", 64 * 3
        data = bytes(64 * 48 * 3)
        if kind == "wrong_step":
            msg.step = 64 * 2  # less than width x 3 bytes
        elif kind == "unknown_encoding":
            msg.encoding = "bayer_rggb8"
        elif kind == "truncated":
            data = data[: len(data) // 2]
        elif kind == "overlong":
            data = data + data  # twice step x height
        elif kind == "zero_size":
            msg.width, msg.height, msg.step, data = 0, 0, 0, b""
        else:
            raise SystemExit(f"unknown kind {kind}")
        msg.data = data
        pub.publish(msg)
        emit("sent", kind=kind)
        rclpy.spin_once(node, timeout_sec=args.gap)
    # Reliable delivery needs the publisher alive until the subscriber acknowledged.
    end = time.monotonic() + 1.0
    while not stopper.stopped and time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
    emit("done")
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
    cam.add_argument("--linger", type=float, default=0.0, help="seconds to stay up after the last frame (until stopped)")
    cam.add_argument("--frames-file", help="raw frames back to back (width x height x channels each)")
    cam.add_argument(
        "--stamp", default="index", choices=["index", "now"], help="index: sec = first-sec + i, nanosec = 1000 i; now: wall-clock time at publication"
    )

    lis = sub.add_parser("listen")
    lis.add_argument("--topic", default="image")
    lis.add_argument("--count", type=int, default=0, help="stop after this many messages (0: at --timeout)")
    lis.add_argument("--wait-publishers", type=int, default=0, help="report ready only once this many publishers are seen")
    lis.add_argument("--type", default="image", choices=["image", "segmentation", "diagnostics", "string"])
    lis.add_argument("--dump", help="write each image's bytes to DIR/<sec>_<nanosec>.raw")

    gl = sub.add_parser("goal")
    gl.add_argument("--topic", default="goal")
    gl.add_argument("--data", required=True)
    gl.add_argument("--wait-subscribers", type=int, default=0)

    sp = sub.add_parser("set-param")
    sp.add_argument("--node", required=True)
    sp.add_argument("--name", required=True)
    sp.add_argument("--value", required=True)
    sp.add_argument("--type", default="string", choices=sorted(PARAM_TYPES))

    gp = sub.add_parser("get-param")
    gp.add_argument("--node", required=True)
    gp.add_argument("--name", required=True)

    lc = sub.add_parser("lifecycle")
    lc.add_argument("--node", required=True)
    lc.add_argument("--transition", required=True, choices=sorted(TRANSITIONS) + ["get"])

    bd = sub.add_parser("bad")
    bd.add_argument("--topic", default="image")
    bd.add_argument("--kinds", default="wrong_step,unknown_encoding,truncated,zero_size")
    bd.add_argument("--repeat", type=int, default=1, help="send the kinds this many times over")
    bd.add_argument("--gap", type=float, default=0.05, help="seconds spun between images")

    for p in (cam, lis):
        p.add_argument("--qos", default="best_effort", choices=["best_effort", "reliable", "reliable+transient_local"])
        p.add_argument("--depth", type=int, default=5)
        p.add_argument("--no-digest", dest="digest", action="store_false", help="skip hashing images (benchmarks)")
    for p in (cam, lis, gl, sp, gp, lc, bd):
        p.add_argument("--timeout", type=float, default=30.0)

    args = parser.parse_args()
    stopper = Stopper()
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    node = Node(f"anchorseg_test_{args.command.replace('-', '_')}_{os.getpid()}")
    try:
        commands = {"camera": camera, "listen": listen, "goal": goal, "set-param": set_param, "get-param": get_param, "lifecycle": lifecycle, "bad": bad}
        return commands[args.command](args, node, stopper)
    finally:
        node.destroy_node()
        rclpy.shutdown()


if __name__ == "__main__":
    sys.exit(main())

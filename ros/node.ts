/**
 * The anchorseg ROS 2 node on rclnodejs: camera images in, goal masks out, header passed through.
 *
 *   image (sensor_msgs/Image)     -> StreamHost.push  (latest frame wins, restarts, counters;
 *   goal  (std_msgs/String)       -> StreamHost.setGoal reasoner on goal change + policy)
 *   -> mask (mono8), overlay (rgb8, lazy), segmentation (anchorseg_msgs/Segmentation or the JSON result record), /diagnostics
 *
 * docs/ros2.md lists topics and parameters. Bad images are logged and skipped, bad parameter values
 * and lifecycle requests refused with a reason; the node keeps going (docs/robustness.md).
 */
import { performance } from 'node:perf_hooks';
import { AnchorSegError } from '../sdk/base/errors.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';
import { StreamHost, resultRecord, type StreamTap } from '../sdk/stream/host.js';
import type { StreamResult } from '../sdk/stream/stream.js';
import { decodeImage } from './cdr.js';
import { blankResult, imageToFrame, maskCdr, overlayCdr, segmentationMessage } from './convert.js';
import { DiagnosticsWindow, type Counters } from './diagnostics.js';
import { guardChangeState, guardParameterTypes } from './guards.js';
import { DEFAULT_PARAMS, PARAMS, ROS_PARAMETER_TYPES, checkParam, reasonOptions, type NodeParams, type ParamName } from './params.js';
import { loadRclnodejs } from './rclnodejs.js';
import type { RosDiagnosticArray, RosImage, RosLifecycleNode, RosNode, RosParameter, RosPublisher, RosString, RosSubscription, Rclnodejs, SetParametersResult } from './types.js';

export interface SegmentationNodeOptions {
  /** ROS node name (default `anchorseg`). */
  name?: string;
  namespace?: string;
  /** Starting parameter values; `--ros-args -p name:=value` in `rosArgs` wins, as in any ROS node. */
  parameters?: Partial<NodeParams>;
  /** ROS arguments for rcl (remappings, parameter overrides, log level), from `--ros-args` on. */
  rosArgs?: string[];
  /**
   * A lifecycle node: it starts unconfigured; configure loads the model and creates the
   * publishers, activate subscribes. Otherwise the node is active once `start()` resolves.
   */
  lifecycle?: boolean;
}

export const TOPICS = { image: 'image', goal: 'goal', mask: 'mask', overlay: 'overlay', segmentation: 'segmentation', diagnostics: '/diagnostics' } as const;

/** After the stream fails (not a bad frame: those are skipped), it is restarted after this pause. */
const RESTART_MS = 1000;
/** At most this many "bad image" log lines per second (then a count of those not logged): a broken driver must not flood the log. */
const BAD_LOGS_PER_SECOND = 5;

let initializing: Promise<void> | undefined;
let initialized = false;

/**
 * rcl is initialised once per process (again after shutdownRos()); the first node's ROS
 * arguments are the ones used. A caller that initialised rclnodejs itself keeps its context.
 */
function initRcl(rcl: Rclnodejs, rosArgs: string[]): Promise<void> {
  if (initializing && !(initialized && rcl.isShutdown())) return initializing;
  initialized = false;
  initializing = (rcl.isShutdown() ? rcl.init(undefined, rosArgs.length ? rosArgs : undefined) : Promise.resolve()).then(() => {
    initialized = true;
  });
  return initializing;
}

interface Publishers {
  mask: RosPublisher<RosImage>;
  overlay: RosPublisher<RosImage>;
  segmentation: RosPublisher<unknown>;
  diagnostics: RosPublisher<RosDiagnosticArray>;
}

export class SegmentationNode {
  readonly #rcl: Rclnodejs;
  readonly #node: RosNode;
  readonly #params: NodeParams;
  #seg: Segmenter | undefined;
  #loading: Promise<Segmenter> | undefined;
  #pubs: Publishers | undefined;
  #subs: RosSubscription[] = [];
  /** Goal, frame intake, restarts, counters and the result record: the node only carries what it takes and gives. */
  readonly #host: StreamHost;
  #run: Promise<void> | undefined;
  /** The last deactivation's stop of the host, while it winds down. */
  #stopping: Promise<void> | undefined;
  #diagTimer: NodeJS.Timeout | undefined;
  #window = new DiagnosticsWindow(performance.now());
  /** What only the node knows: overlays published, latency sum and maximum for /diagnostics. */
  readonly #published = { overlays: 0, latencySum: 0, latencyMax: 0 };
  #error: string | undefined;
  /** The error code of the last image refused, for /diagnostics. */
  #lastInvalid: string | undefined;
  #badWindowAt = 0;
  #badLogged = 0;
  #badUnlogged = 0;
  /** Logs the count of bad images not logged once their second is over, even if no bad image follows. */
  #badFlush: NodeJS.Timeout | undefined;
  /** Set while the node writes the goal parameter itself (after a goal topic message). */
  #echoingGoal = false;
  #closing: Promise<void> | undefined;

  private constructor(rcl: Rclnodejs, node: RosNode, params: NodeParams) {
    this.#rcl = rcl;
    this.#node = node;
    this.#params = params;
    // The goal parameter reaches the host once the model has read it (#load).
    this.#host = new StreamHost({ reason: reasonOptions(params), restartMs: RESTART_MS });
  }

  /**
   * Creates the node (rclnodejs loaded and rcl initialised on first use) and, unless it is a
   * lifecycle node, loads the model and starts segmenting. Throws ERR_NATIVE_UNAVAILABLE
   * without ROS 2, ERR_INVALID_ARG for a bad parameter, ERR_BUNDLE_* / ERR_BACKEND_UNAVAILABLE
   * when the model cannot be loaded.
   */
  static async start(options: SegmentationNodeOptions = {}): Promise<SegmentationNode> {
    const rcl = await loadRclnodejs();
    await initRcl(rcl, options.rosArgs ?? []);
    const name = options.name ?? 'anchorseg';
    const lifecycle = options.lifecycle ?? false;
    const node = lifecycle ? new rcl.lifecycle.LifecycleNode(name, options.namespace ?? '') : new rcl.Node(name, options.namespace ?? '');
    let self: SegmentationNode | undefined;
    try {
      guardParameterTypes(node);
      if (lifecycle) guardChangeState(node as RosLifecycleNode, (message) => node.getLogger().warn(message));
      const params = declareParams(rcl, node, { ...DEFAULT_PARAMS, ...options.parameters });
      const created = (self = new SegmentationNode(rcl, node, params));
      node.addOnSetParametersCallback((changes) => created.#onSetParameters(changes));
      node.spin();
      if (lifecycle) self.#registerTransitions(node as RosLifecycleNode);
      else {
        self.#createPublishers();
        await self.#load();
        self.#activate();
      }
    } catch (err) {
      if (self) await self.close();
      else node.destroy();
      throw err;
    }
    return self;
  }

  /** Current parameter values. */
  get params(): Readonly<NodeParams> {
    return { ...this.#params };
  }

  /** Totals since start: the stream host's counters (images received, invalid, dropped, masks published, failures, reasoner runs), overlays, latency. */
  get counters(): Readonly<Counters> {
    return { ...this.#host.counters, ...this.#published };
  }

  /** The node's results, counters and goal for a viewer (`anchorseg ros --view`); a goal set there acts like a goal message (the parameter follows). */
  tap(): StreamTap {
    return this.#host.tap((text) => this.#setGoalAndParameter(text));
  }

  /** The rclnodejs node (for callers that add their own topics or services). */
  get rosNode(): RosNode {
    return this.#node;
  }

  /**
   * Sets the goal, as the goal topic does. Throws ERR_GOAL_* for an unusable goal and keeps the
   * old one. A model still loading (lifecycle configure) gets the goal once it is loaded.
   */
  setGoal(text: string): void {
    if (this.#seg) {
      this.#seg.tokenize(text);
      this.#host.setGoal(text);
    }
    this.#params.goal = text;
    this.#log('info', `goal: ${JSON.stringify(text)}`);
  }

  /** Stops subscriptions and the stream, waits for inference in progress, closes the model and the node. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#deactivate();
      this.#flushBadCount();
      this.#destroyPublishers();
      const seg = this.#seg ?? (await this.#loading?.catch(() => undefined));
      await seg?.close();
      await this.#host.close();
      this.#node.destroy();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  #registerTransitions(node: RosLifecycleNode): void {
    const { SUCCESS } = this.#rcl.lifecycle.CallbackReturnCode;
    // rclnodejs runs transition callbacks synchronously: configure starts loading the model and
    // returns; if loading fails, the node logs why, reports ERROR on /diagnostics and goes back
    // to unconfigured. Activation before the model is loaded subscribes at once and segments
    // from the moment the model is ready.
    node.registerOnConfigure(() => {
      this.#error = undefined;
      this.#createPublishers();
      this.#load().catch((err: Error) => {
        this.#error = `model failed to load: ${err.message}`;
        this.#log('error', this.#error);
        void this.#deactivate().then(() => this.#unconfigure(node));
      });
      return SUCCESS;
    });
    node.registerOnActivate(() => {
      this.#activate();
      return SUCCESS;
    });
    node.registerOnDeactivate(() => {
      void this.#deactivate();
      return SUCCESS;
    });
    node.registerOnCleanup(() => {
      void this.#unload();
      return SUCCESS;
    });
    node.registerOnShutdown(() => {
      void this.#deactivate().then(() => this.#unload());
      return SUCCESS;
    });
  }

  /** After a failed load: back to unconfigured, as a failed configure would have left it. */
  #unconfigure(node: RosLifecycleNode): void {
    try {
      if (node.currentState.label === 'active') node.deactivate();
      node.cleanup();
    } catch (err) {
      this.#log('error', `could not return to unconfigured: ${(err as Error).message}`);
    }
  }

  async #unload(): Promise<void> {
    this.#destroyPublishers();
    const seg = this.#seg ?? (await this.#loading?.catch(() => undefined));
    this.#seg = undefined;
    this.#loading = undefined;
    await seg?.close();
  }

  // ---- model, publishers, subscriptions --------------------------------------------------------

  #load(): Promise<Segmenter> {
    const p = this.#params;
    const options: OpenOptions = {};
    if (p.backend) options.backend = p.backend;
    if (p.threads > 0) options.threads = p.threads;
    this.#loading = Segmenter.open(p.bundle || undefined, options).then((seg) => {
      this.#seg = seg;
      this.#log('info', `model ${seg.manifest.model.name} ${seg.manifest.model.version} on ${seg.backend} (${seg.bundleDir})`);
      if (p.goal) this.#checkGoal(p.goal);
      if (this.#subs.length > 0) this.#startHost();
      return seg;
    });
    return this.#loading;
  }

  /** A goal given before the model was loaded (parameter override): refuse it now if unusable. */
  #checkGoal(goal: string): void {
    try {
      const g = this.#seg!.tokenize(goal);
      if (g.unknown.length) this.#log('warn', `goal words not in the model's vocabulary (read as unknown): ${g.unknown.join(', ')}`);
      this.#host.setGoal(goal);
    } catch (err) {
      this.#log('error', `ignoring goal parameter: ${(err as Error).message}`);
      this.#params.goal = '';
    }
  }

  #createPublishers(): void {
    const rcl = this.#rcl;
    // Outputs are reliable: a reliable publisher serves best-effort and reliable subscribers
    // alike, so no subscriber meets a QoS mismatch. Depth 5: a slow reader loses old masks, not the node's time.
    const { KEEP_LAST, RELIABLE, VOLATILE } = qosConstants(rcl);
    const reliable = new rcl.QoS(KEEP_LAST, 5, RELIABLE, VOLATILE);
    const json = this.#params.metadata_format === 'json';
    this.#pubs = {
      mask: this.#node.createPublisher<RosImage>('sensor_msgs/msg/Image', TOPICS.mask, { qos: reliable }),
      overlay: this.#node.createPublisher<RosImage>('sensor_msgs/msg/Image', TOPICS.overlay, { qos: reliable }),
      segmentation: this.#node.createPublisher(json ? 'std_msgs/msg/String' : 'anchorseg_msgs/msg/Segmentation', TOPICS.segmentation, { qos: reliable }),
      diagnostics: this.#node.createPublisher<RosDiagnosticArray>('diagnostic_msgs/msg/DiagnosticArray', TOPICS.diagnostics, { qos: reliable }),
    };
    if (this.#params.diagnostics_period > 0) {
      this.#window = new DiagnosticsWindow(performance.now());
      this.#diagTimer = setInterval(() => this.#publishDiagnostics(), this.#params.diagnostics_period * 1000);
    }
  }

  #destroyPublishers(): void {
    clearInterval(this.#diagTimer);
    this.#diagTimer = undefined;
    if (!this.#pubs) return;
    for (const pub of Object.values(this.#pubs)) this.#node.destroyPublisher(pub as RosPublisher<unknown>);
    this.#pubs = undefined;
  }

  #activate(): void {
    const rcl = this.#rcl;
    const { KEEP_LAST, BEST_EFFORT, RELIABLE, VOLATILE } = qosConstants(rcl);
    // sensor_data is rmw's sensor-data profile with our depth: a queue that outlasts a busy spell
    // of the event loop, so frames are dropped (and counted) by the host rather than silently by DDS.
    const depth = this.#params.image_depth;
    const qos = {
      sensor_data: new rcl.QoS(KEEP_LAST, depth, BEST_EFFORT, VOLATILE),
      reliable: new rcl.QoS(KEEP_LAST, depth, RELIABLE, VOLATILE),
      system_default: rcl.QoS.profileDefault,
    }[this.#params.image_qos];
    // Goals are rare and must not be missed: reliable, and transient local so a goal published
    // before the node started (by a latched publisher) still arrives.
    const goalQos = new rcl.QoS(KEEP_LAST, 1, RELIABLE, qosConstants(rcl).TRANSIENT_LOCAL);
    this.#subs = [
      // Raw CDR: the frame's data is a view of the received buffer (ros/cdr.ts).
      this.#node.createSubscription<Buffer>('sensor_msgs/msg/Image', TOPICS.image, { qos, isRaw: true }, (buf) => this.#onImage(buf)),
      this.#node.createSubscription<RosString>('std_msgs/msg/String', TOPICS.goal, { qos: goalQos }, (msg) => this.#onGoal(msg)),
    ];
    if (this.#seg) this.#startHost();
  }

  async #deactivate(): Promise<void> {
    for (const sub of this.#subs) this.#node.destroySubscription(sub);
    this.#subs = [];
    this.#stopping = this.#host.stop().then(() => this.#run);
    await this.#stopping;
  }

  // ---- the stream ------------------------------------------------------------------------------

  #startHost(): void {
    if (this.#host.running) {
      // rclnodejs does not wait for a deactivation: an activate right after it starts once it is done.
      void this.#stopping?.then(() => {
        if (this.#subs.length > 0 && this.#seg && !this.#host.running) this.#startHost();
      });
      return;
    }
    try {
      const run = this.#host.run(this.#seg!, {
        onResult: (r) => this.#publish(r),
        onFailure: (err) => {
          this.#error = `inference failed: ${(err as Error).message}`;
          this.#log('error', `${this.#error}; restarting the stream in ${RESTART_MS} ms`);
        },
      });
      this.#run = run.catch((err: Error) => this.#log('error', `stream stopped: ${err.message}`));
    } catch (err) {
      this.#error = `cannot start segmenting: ${(err as Error).message}`;
      this.#log('error', this.#error);
    }
  }

  #onImage(buf: Buffer): void {
    const refused = this.#host.push(() => imageToFrame(decodeImage(buf)));
    if (refused) {
      this.#lastInvalid = refused instanceof AnchorSegError ? refused.code : refused.name;
      this.#logBadImage(refused);
    }
  }

  #onGoal(msg: RosString): void {
    const text = msg.data;
    if (text === this.#params.goal && this.#host.goal === text) return; // a latched repeat
    try {
      this.#setGoalAndParameter(text);
    } catch (err) {
      this.#log('warn', `ignoring goal message: ${(err as Error).message}`);
    }
  }

  /** As a goal message does: sets the goal (ERR_GOAL_* keeps the old one) and the goal parameter. */
  #setGoalAndParameter(text: string): void {
    this.setGoal(text);
    // Keep the parameter in step, so `ros2 param get` tells the goal in force.
    this.#echoingGoal = true;
    try {
      this.#node.setParameter(new this.#rcl.Parameter('goal', this.#rcl.ParameterType.PARAMETER_STRING, text));
    } finally {
      this.#echoingGoal = false;
    }
  }

  #publish(r: StreamResult): void {
    const pubs = this.#pubs;
    if (!pubs) return;
    this.#error = undefined;
    // Under score_threshold the result goes out as an empty mask (found false), in every output.
    const shown = r.score < this.#params.score_threshold ? blankResult(r) : r;
    pubs.mask.publish(maskCdr(shown));
    if (this.#params.publish_segmentation) {
      const record = resultRecord(shown);
      pubs.segmentation.publish(this.#params.metadata_format === 'json' ? { data: JSON.stringify(record) } : segmentationMessage(record));
    }
    const p = this.#published;
    if (this.#params.publish_overlay && this.#node.countSubscribers(TOPICS.overlay) > 0) {
      pubs.overlay.publish(overlayCdr(shown));
      p.overlays++;
    }
    p.latencySum += r.latencyMs;
    p.latencyMax = Math.max(p.latencyMax, r.latencyMs);
  }

  #publishDiagnostics(): void {
    const status = this.#window.status(performance.now(), this.counters, {
      name: this.#node.name(),
      goal: this.#params.goal,
      backend: this.#seg?.backend ?? (this.#params.backend || 'loading'),
      bundle: this.#seg?.bundleDir ?? this.#params.bundle,
      error: this.#error,
      lastInvalid: this.#lastInvalid,
    });
    this.#published.latencyMax = 0; // a maximum per period
    this.#pubs?.diagnostics.publish({ header: { stamp: nowStamp(), frame_id: '' }, status: [status] });
  }

  // ---- parameters and logs ---------------------------------------------------------------------

  #onSetParameters(changes: RosParameter[]): SetParametersResult {
    const updates: Partial<NodeParams> = {};
    try {
      for (const p of changes) {
        if (!Object.hasOwn(PARAMS, p.name)) continue; // rclnodejs' own parameters (use_sim_time)
        const name = p.name as ParamName;
        const value = checkParam(name, p.value);
        if (PARAMS[name].readOnly && value !== this.#params[name]) {
          throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${name} to stay ${JSON.stringify(this.#params[name])} (read-only once the node runs) but received ${JSON.stringify(value)}`);
        }
        (updates as Record<string, unknown>)[name] = value;
      }
      if (updates.goal !== undefined && !this.#echoingGoal && updates.goal !== this.#params.goal) this.setGoal(updates.goal);
    } catch (err) {
      return { successful: false, reason: (err as Error).message };
    }
    Object.assign(this.#params, updates);
    return { successful: true, reason: '' };
  }

  #logBadImage(err: Error): void {
    const now = performance.now();
    if (now - this.#badWindowAt >= 1000) {
      this.#flushBadCount();
      this.#badWindowAt = now;
      this.#badLogged = 0;
    }
    if (this.#badLogged++ < BAD_LOGS_PER_SECOND) this.#log('warn', `skipping image: ${err.message}`);
    else if (this.#badUnlogged++ === 0) {
      // unref: a pending count never keeps the process alive; close() logs it.
      this.#badFlush = setTimeout(() => this.#flushBadCount(), this.#badWindowAt + 1000 - now).unref();
    }
  }

  /** Logs how many bad images went without a line since the last count. */
  #flushBadCount(): void {
    clearTimeout(this.#badFlush);
    this.#badFlush = undefined;
    if (this.#badUnlogged) this.#log('warn', `${this.#badUnlogged} more bad images were skipped without a log line`);
    this.#badUnlogged = 0;
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.#node.getLogger()[level](message);
  }
}

/** Declares every parameter (typed, described, read-only where it is) with `--ros-args -p` overrides applied. */
function declareParams(rcl: Rclnodejs, node: RosNode, initial: NodeParams): NodeParams {
  const values = {} as Record<ParamName, unknown>;
  for (const name of Object.keys(PARAMS) as ParamName[]) {
    const spec = PARAMS[name];
    const start = checkParam(name, initial[name]);
    let declared: RosParameter;
    try {
      const type = ROS_PARAMETER_TYPES[spec.kind];
      declared = node.declareParameter(new rcl.Parameter(name, type, start), new rcl.ParameterDescriptor(name, type, spec.description, spec.readOnly));
    } catch (err) {
      // The reason names the parameter, what was expected and what was received (guardParameterTypes).
      throw new AnchorSegError('ERR_INVALID_ARG', `Refused a --ros-args override: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    values[name] = checkParam(name, declared.value);
  }
  return values as NodeParams;
}

function qosConstants(rcl: Rclnodejs) {
  const { HistoryPolicy: H, ReliabilityPolicy: R, DurabilityPolicy: D } = rcl.QoS;
  return {
    KEEP_LAST: H.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
    RELIABLE: R.RMW_QOS_POLICY_RELIABILITY_RELIABLE,
    BEST_EFFORT: R.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT,
    VOLATILE: D.RMW_QOS_POLICY_DURABILITY_VOLATILE,
    TRANSIENT_LOCAL: D.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL,
  };
}

function nowStamp(): { sec: number; nanosec: number } {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1e6 };
}

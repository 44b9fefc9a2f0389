// ZeroMQ transport: `anchorseg serve` and its client (docs/zmq-protocol.md).
export { AnchorSegServer, checkServerOptions, type ServerEndpoints, type ServerOptions, type ServerState, type ServerStatus } from './server.js';
export { AnchorSegClient, Subscription, type ClientOptions, type ResultOptions, type SubscribeOptions, type SubscriptionStats, type ZmqResult } from './client.js';
export {
  COMMANDS,
  HELLO_PREFIX,
  PROTOCOL_VERSION,
  TOPICS,
  decodeFrame,
  decodeResult,
  encodeFrame,
  encodeResult,
  type ErrorEvent,
  type FrameHeader,
  type Reply,
  type Request,
  type ResultHeader,
} from './protocol.js';
export { checkKeyPair, curvePublicKey, isLocalEndpoint, type CurveClientOptions, type CurveServerOptions } from './security.js';

// The RFC 6665 event server: what features import to serve an event package.
export { EventServer, type EventRegistry, type EventServerDeps, type RefusedSubscribe } from './event-server.js';
export type { EndReason, EventPackage, ExpiryBounds, SubscriptionInfo } from './event-package.js';
export { notifyThrough, type NotifyOutcome, type NotifySender } from './notify-sender.js';

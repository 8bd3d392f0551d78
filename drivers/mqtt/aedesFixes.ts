import type { ClientDelivery, Delivery } from './aedesInternals.ts';
import { topicMatches } from './topics.ts';

/**
 * AEDES FIX (aedes 1.2.0; small enough to upstream as a change to `deliverQoS` in lib/client.js).
 *
 * The QoS a message is delivered at must be the minimum of the QoS it was published with and the QoS
 * granted to the matching subscription [MQTT-3.8.4-6], and where several of the client's filters match,
 * the maximum of theirs [MQTT-3.3.5-1]. aedes looks the granted QoS up by the message's topic name
 * (`client.subscriptions[packet.topic]`), which finds only a subscription to exactly that name: a client
 * subscribed to `a/+` at QoS 1 gets a QoS 2 publish on `a/x` at QoS 2, and a retained QoS 1 message at
 * QoS 1 through a QoS 0 wildcard subscription. Where the first matching subscription aedes calls is a
 * QoS 0 one, the message went out at QoS 0 although another matching filter was granted QoS 1.
 *
 * This wraps the client's two delivery functions before any subscription takes them: each delivery
 * is set to the QoS its matching filters allow and handed to the function for that QoS. (aedes' own
 * topic-name lookup still runs after it, so with an exact-name subscription granted less than a
 * wildcard one matching too, that lower QoS wins: never above what was granted, as the rule requires.)
 * `test/unit/libraryInternals.test.ts` fails when an aedes upgrade fixes this itself.
 */
export function deliverAtGrantedQos(client: ClientDelivery): void {
  const deliverQoS = client.deliverQoS;
  const deliver0 = client.deliver0;
  const granted = (topic: string): number => {
    let best = -1;
    const subs = client.subscriptions;
    for (const filter in subs) {
      const qos = subs[filter]?.qos ?? 0;
      if (qos > best && topicMatches(filter, topic)) best = qos;
    }
    return best;
  };
  /** `ceiling`: what the calling subscription allows when no filter matches (see topicMatches vs qlobber) */
  const route = (packet: Delivery, done: (err?: unknown) => void, ceiling: number) => {
    const allowed = granted(packet.topic);
    packet.qos = Math.min(packet.qos, allowed >= 0 ? allowed : ceiling);
    if (packet.qos > 0) deliverQoS(packet, done);
    else deliver0(packet, done);
  };
  client.deliverQoS = (packet, done) => route(packet, done, 2);
  client.deliver0 = (packet, done) => route(packet, done, 0);
}

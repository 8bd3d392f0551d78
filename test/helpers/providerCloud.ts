import { readFileSync } from 'node:fs';
import { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { CloudSubscriber } from './cloudSubscriber.ts';
import { freePort } from './gatewayProcess.ts';

/** The cloud ACL of the tests: gw-1 writes its own topics; each provider reads its own stream and writes its requests. */
export const PROVIDER_ACL =
  'user gw-1\ntopic readwrite trellis/v1/gw-1/#\npattern read trellis/v1/+/status\npattern read trellis/v1/+/p/%u/#\npattern write trellis/v1/+/p/%u/cmd/#\npattern write trellis/v1/+/p/%u/resend/#\npattern write trellis/v1/+/p/%u/diag/#\n';

/**
 * Debian mosquitto with TLS as the cloud broker, gateway `gw-1` (password `gw-secret`) and the given
 * providers (name -> password), each with a backend subscribed (MQTT 5, a persistent session) to
 * `filter(name)`.
 */
export async function startProviderCloud<P extends string>(
  dir: string,
  providers: Readonly<Record<P, string>>,
  filter: (provider: P) => string,
): Promise<{ broker: CloudBroker; subs: Record<P, CloudSubscriber> }> {
  const broker = new CloudBroker({
    dir,
    users: { 'gw-1': 'gw-secret', ...providers },
    certificateClients: [],
    acl: PROVIDER_ACL,
    passwordPort: await freePort(),
    certificatePort: await freePort(),
  });
  await broker.start();
  const ca = readFileSync(broker.certs.ca);
  const subs = {} as Record<P, CloudSubscriber>;
  for (const [name, password] of Object.entries(providers) as Array<[P, string]>)
    subs[name] = await CloudSubscriber.connect(broker.passwordUrl, filter(name), {
      protocolVersion: 5,
      clientId: `${name}-backend`,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      username: name,
      password,
      ca,
    });
  return { broker, subs };
}

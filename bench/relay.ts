// The baseline's middle hop: a plain MQTT client that turns every sensor message into an actuator
// command (trellis/dev-i/state -> trellis/dev-(i+1)/set), so sensor -> mosquitto -> relay ->
// mosquitto -> actuator is the path a rule takes, without storage or rules.
import { LoadClient } from './loadClient.ts';

const port = Number(process.argv[2]);
const devices = Number(process.argv[3]);
const client = await LoadClient.connect({ port, clientId: 'bench-relay' });
client.onPublish = (topic) => {
  const i = Number(topic.split('/')[1]?.slice(4));
  client.publish(`trellis/dev-${(i + 1) % devices}/set`, '{"on":true}', 0);
};
client.subscribe('trellis/+/state', 0);
process.on('message', (m) => {
  if (m === 'stop') {
    client.close();
    process.exit(0);
  }
});
setTimeout(() => process.send?.('ready'), 200);

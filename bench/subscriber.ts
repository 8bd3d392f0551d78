// A subscriber to everything, in its own process so the load generator cannot starve it. Reports the
// number of messages received over IPC when asked.
import { LoadClient } from './loadClient.ts';

const port = Number(process.argv[2]);
const qos = Number(process.argv[3]) === 1 ? 1 : 0;
const client = await LoadClient.connect({ port, clientId: 'bench-subscriber' });
client.subscribe('trellis/#', qos);
process.on('message', (m) => {
  if (m === 'count') process.send?.(client.received);
  if (m === 'stop') {
    client.close();
    process.exit(0);
  }
});
setTimeout(() => process.send?.('ready'), 200);

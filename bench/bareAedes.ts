// Bare aedes on a TCP port (the broker Trellis' own is built on), with no auth and no storage. Counts
// the device publishes it ingests (its `published` hook) and reports the count over IPC.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? 0);
let ingested = 0;
const broker = await Aedes.createBroker({
  published: (packet, _client, done) => {
    if (packet.topic.startsWith('trellis/')) ingested++;
    done();
  },
});
const server = createServer((socket) => {
  socket.setNoDelay(true);
  broker.handle(socket);
});
server.listen(port, '127.0.0.1');
process.on('message', (m) => {
  if (m === 'count') process.send?.(ingested);
});
process.on('SIGTERM', () => {
  server.close();
  broker.close(() => process.exit(0));
});

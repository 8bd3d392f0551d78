import { gatewayBus, type GatewayBus } from '../../gateway/core/events.ts';

/** A gateway bus for unit tests: a listener that throws fails the test (rethrown from emit). */
export function testBus(): GatewayBus {
  return gatewayBus(({ err }) => {
    throw err;
  });
}

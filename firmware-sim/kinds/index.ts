import type { SimKind } from '../simDevice.ts';
import { blind } from './blind.ts';
import { buzzer } from './buzzer.ts';
import { coffee } from './coffee.ts';
import { door } from './door.ts';
import { fridge } from './fridge.ts';
import { light } from './light.ts';
import { lock } from './lock.ts';
import { plug } from './plug.ts';
import { radiatorValve } from './radiatorValve.ts';
import { remote } from './remote.ts';
import { thermostat } from './thermostat.ts';

export const kinds: Readonly<Record<string, SimKind<never>>> = {
  thermostat: thermostat as SimKind<never>,
  plug: plug as SimKind<never>,
  door: door as SimKind<never>,
  light: light as SimKind<never>,
  coffee: coffee as SimKind<never>,
  fridge: fridge as SimKind<never>,
  buzzer: buzzer as SimKind<never>,
  lock: lock as SimKind<never>,
  'radiator-valve': radiatorValve as SimKind<never>,
  blind: blind as SimKind<never>,
  remote: remote as SimKind<never>,
};

export type KindName = keyof typeof kinds & string;

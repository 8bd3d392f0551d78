import { describe, expect, it } from 'vitest';
import { signalWords } from '../../fleet/signalWords.ts';

describe('maintenance signals in words', () => {
  it.each([
    [
      { signal: 'duty_cycle', attribute: 'compressor', value: 0.92, unit: 'ratio', threshold: 0.85, baseline: 0.55 },
      'Compressor running 92% of the hour (usual: 55%), limit 85%',
    ],
    [{ signal: 'duty_cycle', attribute: 'compressor', value: 0.4, unit: 'ratio', threshold: null }, 'Compressor running 40% of the hour'],
    [
      { signal: 'starts_per_hour', attribute: 'compressor', value: 14, unit: '/h', threshold: 12, baseline: 6.333 },
      'Compressor started 14 times an hour (usual: 6.33), limit 12',
    ],
    [
      { signal: 'recovery_time', attribute: 'temperature', value: 18.5, unit: 'min', threshold: 15 },
      'Took 18.5 min to cool down after the door closed, limit 15 min',
    ],
    [
      { signal: 'drift', attribute: 'cabinet_temperature', value: 2.1, unit: '°C', threshold: 2, baseline: 4 },
      'Cabinet temperature 2.1 °C away from its usual 4 °C, limit 2 °C',
    ],
    [{ signal: 'descale_needed', attribute: 'descale', value: 1, unit: '', threshold: null }, 'Needs descaling'],
    [{ signal: 'vibration', attribute: 'pump', value: 3.333, unit: 'g', threshold: null }, 'pump vibration: 3.33 g'],
  ])('%o reads "%s"', (figures, words) => {
    expect(signalWords(figures)).toBe(words);
  });
});

import { describe, expect, it } from 'vitest';
import { addSample, liveUrl, type LiveSample } from '../src/live/live';

const sample = (t: number, active = 1): LiveSample => ({ t, active, rate: 1, queue: 0, calls: 0, answered: 0 });

describe('the live chart samples', () => {
  it('keep one sample per five seconds, the freshest figures in it', () => {
    let samples: LiveSample[] = [];
    samples = addSample(samples, sample(0, 1));
    samples = addSample(samples, sample(2000, 2));
    samples = addSample(samples, sample(6000, 3));
    expect(samples).toEqual([sample(0, 2), sample(6000, 3)]);
  });

  it('forget what is older than an hour', () => {
    let samples: LiveSample[] = [];
    for (let t = 0; t <= 2 * 3600_000; t += 60_000) samples = addSample(samples, sample(t));
    expect(samples[0].t).toBe(3600_000);
    expect(samples).toHaveLength(61);
  });

  it('use the page origin, wss under https', () => {
    expect(liveUrl({ protocol: 'https:', host: 'box.local' } as Location)).toBe('wss://box.local/api/v1/live');
    expect(liveUrl({ protocol: 'http:', host: '10.0.0.5:8080' } as Location)).toBe('ws://10.0.0.5:8080/api/v1/live');
  });
});

import { describe, expect, it } from 'vitest';
import { encodeWav, readWavHeader } from '../src/lib/wav';

describe('the WAV encoder', () => {
  it('writes a mono 16-bit PCM header the box accepts', () => {
    const samples = new Float32Array(1600).map((_, i) => Math.sin(i / 10));
    const wav = encodeWav(samples, 16000);
    expect(wav.byteLength).toBe(44 + 3200);
    expect(readWavHeader(wav)).toEqual({ format: 1, channels: 1, sampleRate: 16000, bits: 16, dataBytes: 3200 });
  });

  it('clips samples outside -1..1 instead of wrapping', () => {
    const wav = encodeWav(new Float32Array([2, -2, 0.5]), 8000);
    const view = new DataView(wav);
    expect(view.getInt16(44, true)).toBe(32767);
    expect(view.getInt16(46, true)).toBe(-32768);
    expect(view.getInt16(48, true)).toBe(Math.round(0.5 * 32767));
  });

  it('refuses what is not a WAV', () => {
    expect(readWavHeader(new ArrayBuffer(10))).toBeNull();
    expect(readWavHeader(new TextEncoder().encode('x'.repeat(60)).buffer)).toBeNull();
  });
});

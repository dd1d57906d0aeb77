// Recordings made in the browser (MediaRecorder gives WebM/Opus or Ogg) become a
// 16-bit PCM WAV before upload: the box accepts only WAV and MP3. The browser's own
// decoder reads the recording; OfflineAudioContext mixes it to mono and resamples
// it to 16 kHz (the box converts to 8 kHz G.711 for the trunk, with its own
// anti-aliasing); the encoder below writes the RIFF header and samples.

export const WAV_SAMPLE_RATE = 16000;

/** A mono 16-bit PCM WAV file of `samples` (-1..1) at `sampleRate`. */
export function encodeWav(samples: Float32Array, sampleRate: number): ArrayBuffer {
  const bytesPerSample = 2;
  const dataSize = samples.length * bytesPerSample;
  const buffer = new ArrayBuffer(44 + dataSize);
  const view = new DataView(buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataSize, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * bytesPerSample, true); // byte rate
  view.setUint16(32, bytesPerSample, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataSize, true);
  let offset = 44;
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(offset, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true);
    offset += 2;
  }
  return buffer;
}

/** What a WAV header says (for tests and for checking a file before upload). */
export function readWavHeader(buffer: ArrayBuffer): { format: number; channels: number; sampleRate: number; bits: number; dataBytes: number } | null {
  if (buffer.byteLength < 44) return null;
  const view = new DataView(buffer);
  const text = (offset: number) => String.fromCharCode(...new Uint8Array(buffer, offset, 4));
  if (text(0) !== 'RIFF' || text(8) !== 'WAVE' || text(12) !== 'fmt ') return null;
  return {
    format: view.getUint16(20, true),
    channels: view.getUint16(22, true),
    sampleRate: view.getUint32(24, true),
    bits: view.getUint16(34, true),
    dataBytes: view.getUint32(40, true),
  };
}

/** Decodes a recording and returns it as a mono 16 kHz 16-bit WAV. */
export async function recordingToWav(recording: Blob, sampleRate = WAV_SAMPLE_RATE): Promise<{ wav: Blob; seconds: number }> {
  const bytes = await recording.arrayBuffer();
  const context = new AudioContext();
  let decoded: AudioBuffer;
  try {
    decoded = await context.decodeAudioData(bytes);
  } finally {
    void context.close();
  }
  const length = Math.max(1, Math.ceil(decoded.duration * sampleRate));
  const offline = new OfflineAudioContext(1, length, sampleRate);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  const wav = encodeWav(rendered.getChannelData(0), sampleRate);
  return { wav: new Blob([wav], { type: 'audio/wav' }), seconds: decoded.duration };
}

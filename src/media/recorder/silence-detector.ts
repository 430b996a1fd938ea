// Silence detection for Record(): a frame is silent when its RMS is below a
// threshold (about -45 dBFS by default); reports the run of silence so far.
export class SilenceDetector {
  private silentMs = 0;
  private heardSound = false;

  constructor(private readonly thresholdRms = 180) {}

  /** feed one frame; returns the continuous silence in ms including it */
  push(pcm: Int16Array, frameMs = 20): number {
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
    const rms = Math.sqrt(sum / Math.max(1, pcm.length));
    if (rms < this.thresholdRms) this.silentMs += frameMs;
    else {
      this.silentMs = 0;
      this.heardSound = true;
    }
    return this.silentMs;
  }

  get sound(): boolean {
    return this.heardSound;
  }
}

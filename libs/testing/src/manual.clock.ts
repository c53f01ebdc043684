import { Clock } from '#sessiongate/session';

/** A Clock that stands still until a test moves it, so expiry can be tested without sleeping. */
export class ManualClock extends Clock {
  private time = Date.now();

  override now(): number {
    return this.time;
  }

  advance(seconds: number): void {
    this.time += seconds * 1000;
  }
}

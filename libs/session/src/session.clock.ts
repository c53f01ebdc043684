import { Injectable } from '@nestjs/common';

/** The time source of session expiry; tests replace it to move time instead of sleeping. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}

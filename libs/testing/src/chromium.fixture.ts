import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's headless Chromium (never a browser download). Without the background-networking flag it
 * keeps trying hosts this closed network refuses; as root it needs --no-sandbox.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

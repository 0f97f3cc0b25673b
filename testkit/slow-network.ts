// A phone on a poor network, for Chromium pages: every request from now on crosses the given
// uplink (bytes per second), a 1.6 Mbit/s downlink and 150 ms of latency (CDP's emulation).
import type { Page } from 'playwright-core';

/** The uplink: 250 kbit/s. */
export const SLOW_UPLINK_BYTES_PER_SECOND = 250_000 / 8;

export async function slowNetwork(page: Page, uplinkBytesPerSecond = SLOW_UPLINK_BYTES_PER_SECOND): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 150,
    downloadThroughput: 1_600_000 / 8,
    uploadThroughput: uplinkBytesPerSecond,
  });
}

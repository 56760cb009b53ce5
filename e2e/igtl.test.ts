/**
 * OpenIGTLink from the UI, end to end in a real browser against the browser host: the surgeon ticks
 * OpenIGTLink in the Live view and starts the run; the reference peer (libOpenIGTLink, test/igtl/peer)
 * connects to the address the run logged and receives the pose, the surface and the video.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IGTL_DEVICES } from '../src/engine/igtl/publisher.js';
import { referencePeer, startPeer } from '../test/igtl/peer.js';
import { browserSkipReason, launchChromium, sampleSkipReason, startHostFixture } from './harness.js';

const peer = referencePeer();
const skip = browserSkipReason() ?? sampleSkipReason() ?? ('missing' in peer ? peer.missing : null);

test(
  'Live view: OpenIGTLink on -> the reference peer receives the run',
  { skip: skip ?? false, timeout: 180_000 },
  async () => {
    const fx = await startHostFixture();
    const browser = await launchChromium();
    try {
      let receiver: ReturnType<typeof startPeer> | null = null;
      let finished!: () => void;
      const done = new Promise<void>((r) => (finished = r));
      fx.api.onEvent((e) => {
        const m = e.type === 'log' ? /OpenIGTLink server listening on [^\s:]+:(\d+)/.exec(e.message) : null;
        if (m && !receiver) receiver = startPeer((peer as { binary: string }).binary, Number(m[1]));
        if (e.type === 'run' && (e.status.state === 'finished' || e.status.state === 'failed')) finished();
      });
      const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
      await page.goto(fx.host.url);
      await page.getByTestId('new-case-title').fill('E2E OpenIGTLink');
      await page.getByTestId('create-case').click();
      await page.getByTestId('mode-select').selectOption('gt');
      await page.getByTestId('igtl-toggle').check();
      assert.equal(await page.getByTestId('igtl-host').inputValue(), '127.0.0.1', 'loopback by default');
      assert.equal(await page.getByTestId('igtl-port').inputValue(), '18944');
      await page.getByTestId('igtl-port').fill('0');
      const end = Date.now() + 10_000;
      while (!(await page.getByTestId('source-select').inputValue()).includes('phantom') && Date.now() < end)
        await new Promise((r) => setTimeout(r, 200));
      await page.getByTestId('start-run').click();
      await done;
      assert.ok(receiver, 'the run logged its OpenIGTLink address');
      const got = await (receiver as ReturnType<typeof startPeer>).done;
      assert.ok(got.every((m) => m.crc));
      assert.ok(
        got.filter((m) => m.type === 'TRANSFORM' && m.device === IGTL_DEVICES.pose('ras')).length > 5,
      );
      assert.ok(got.some((m) => m.type === 'POLYDATA' && (m.points as number) > 0));
      assert.ok(got.some((m) => m.type === 'IMAGE' && m.device === IGTL_DEVICES.video));
    } finally {
      await browser.close();
      await fx.close();
    }
  },
);

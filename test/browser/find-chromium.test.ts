import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { browserRequired, findChromium } from '../support/browser';

/** Where the browser suite looks for Chromium (test/support/browser.ts), on fake executables in a temporary folder. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-find-chromium-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fake(rel: string, mode = 0o755): string {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, mode);
  return file;
}

const nowhere = () => path.join(dir, 'no-such-chromium');

it('takes GATEHOUSE_CHROMIUM first, and one that is not an executable is an error rather than a fallback', () => {
  const system = fake('usr/bin/chromium');
  const mine = fake('opt/chrome/chrome');
  expect(findChromium({ GATEHOUSE_CHROMIUM: mine, PATH: '' }, system)).toEqual({ found: true, path: mine });
  const notExecutable = fake('opt/chrome/readme', 0o644);
  for (const bad of [notExecutable, path.join(dir, 'opt/chrome'), nowhere()]) {
    const lookup = findChromium({ GATEHOUSE_CHROMIUM: bad, PATH: '' }, system);
    expect(lookup).toEqual({ found: false, reason: expect.stringContaining(`GATEHOUSE_CHROMIUM is set to ${bad}`) });
  }
});

it("then Debian's /usr/bin/chromium, then chromium, chromium-browser, google-chrome on PATH in that order", () => {
  const system = fake('sys/chromium');
  const a = path.join(dir, 'path-a');
  const b = path.join(dir, 'path-b');
  const chrome = fake('path-a/google-chrome');
  const chromiumBrowser = fake('path-b/chromium-browser');
  const PATH = [a, b].join(path.delimiter);
  expect(findChromium({ PATH }, system)).toEqual({ found: true, path: system });
  expect(findChromium({ PATH }, nowhere())).toEqual({ found: true, path: chromiumBrowser });
  rmSync(chromiumBrowser);
  expect(findChromium({ PATH }, nowhere())).toEqual({ found: true, path: chrome });
});

it('says where it looked when there is none', () => {
  const lookup = findChromium({ PATH: path.join(dir, 'empty') }, nowhere());
  expect(lookup).toEqual({ found: false, reason: expect.stringMatching(/no Chromium found .*GATEHOUSE_CHROMIUM unset.*chromium-browser, google-chrome/) });
});

it('requires the browser in CI (CI=true) only', () => {
  expect(browserRequired({ CI: 'true' })).toBe(true);
  expect(browserRequired({})).toBe(false);
  expect(browserRequired({ CI: 'false' })).toBe(false);
});

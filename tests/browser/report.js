// Opens an aksflow HTML report in headless Chromium and prints what a person would see, as
// JSON: console errors, network requests, the diagram's arrows and the transcript records
// they stand for, the failure panel's step, the decoded claims shown after clicking a token
// call, and whether the screenshot has something on it.
// Usage: node report.js REPORT.html SCREENSHOT.png
const path = require('path');
const { chromium } = require(path.join(process.env.AKSFLOW_NODE_MODULES, 'playwright-core'));

(async () => {
  const [file, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.AKSFLOW_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const seen = { consoleErrors: [], requests: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    page.on('console', (m) => { if (m.type() === 'error') seen.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => seen.consoleErrors.push(String(e)));
    page.on('request', (r) => { if (!r.url().startsWith('file:')) seen.requests.push(r.url()); });
    await page.goto('file://' + path.resolve(file));
    seen.loadMs = Math.round(await page.evaluate(() => performance.now()));

    Object.assign(seen, await page.evaluate(() => {
      const calls = JSON.parse(document.getElementById('calls-data').textContent);
      const groups = [...document.querySelectorAll('#diagram g.call')];
      const seqs = groups.flatMap((g) => g.dataset.seqs.split(' ').map(Number));
      const failure = document.querySelector('#failure .step');
      return {
        arrows: groups.length,
        callData: calls.length,
        seqs,
        failureStep: failure ? failure.textContent : null,
        verdict: document.querySelector('.verdict').textContent,
        stepsShown: document.querySelectorAll('#dag g.step').length,
      };
    }));

    // Click a call to the token endpoint whose token the run decoded, as a person would: a
    // user's sign-in with groups (what a cluster judges) if there is one, else any user's,
    // else the first.
    const tokenCall = await page.evaluate(() => {
      const calls = JSON.parse(document.getElementById('calls-data').textContent);
      const isTokenCall = (c) => c.tokens.length > 0 && /oauth2\/(v2\.0\/)?token/.test(c.label);
      const has = (c, names) => isTokenCall(c) && c.tokens.some((t) => names.every((n) => t.claims.some((k) => k.name === n)));
      const grouped = calls.findIndex((c) => has(c, ['upn', 'groups']));
      if (grouped >= 0) return grouped;
      const user = calls.findIndex((c) => has(c, ['upn']));
      return user >= 0 ? user : calls.findIndex(isTokenCall);
    });
    seen.tokenCall = tokenCall;
    if (tokenCall >= 0) {
      const g = page.locator(`#diagram g.call[data-call="${tokenCall}"]`);
      await g.scrollIntoViewIfNeeded();
      await g.locator('line').click({ force: true });
      await page.waitForSelector('#details.open .claims');
      seen.decisiveClaims = await page.$$eval('#details .claims tr.decisive', (rows) => rows.map((r) => r.dataset.claim));
      seen.detailsTitle = await page.textContent('#details h2');
    }
    if (seen.failureStep) {
      // The failure panel's "caused by" opens the call that caused it.
      const link = page.locator('#failure a.call-link');
      if (await link.count()) {
        await link.click();
        seen.causeTitle = await page.textContent('#details h2');
      }
      await page.click('#details .close');
      await page.evaluate(() => window.scrollTo(0, 0));
    }

    // The diagram as a person first sees it: time column and services on the left.
    await page.evaluate(() => document.querySelectorAll('.scroll').forEach((s) => { s.scrollLeft = 0; }));
    const png = await page.screenshot({ path: shot });
    seen.screenshotColours = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const colours = new Set();
      for (let i = 0; i < d.length; i += 4 * 7) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return colours.size;
    }, png.toString('base64'));
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
})().catch((e) => { console.error(e); process.exit(1); });

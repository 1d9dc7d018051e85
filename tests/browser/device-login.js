// Signs in on the simulator's device-login page in headless Chromium, as a person would:
// open the page, type the code, the user name and the password, press "Sign in".
// Usage: node device-login.js URL CODE USER PASSWORD SCREENSHOT
const path = require('path');
const { chromium } = require(path.join(process.env.AKSFLOW_NODE_MODULES, 'playwright-core'));

(async () => {
  const [url, code, user, password, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.AKSFLOW_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--ignore-certificate-errors'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.fill('#otc', code);
    await page.fill('#login', user);
    await page.fill('#passwd', password);
    await Promise.all([page.waitForNavigation(), page.click('#signin')]);
    const result = await page.textContent('#result');
    await page.screenshot({ path: shot });
    console.log(result.trim());
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });

// The console in a real browser: Debian's headless Chromium driven by playwright-core.
// tests/browser/run starts Porteiro and passes BASE_URL, ADMIN_USERNAME, ADMIN_PASSWORD and
// SCREENSHOTS (a directory that gets a full-page PNG of every page visited).

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
const username = process.env.ADMIN_USERNAME;
const password = process.env.ADMIN_PASSWORD;
const shots = process.env.SCREENSHOTS;
assert.ok(base && username && password && shots, "run me through tests/browser/run");
mkdirSync(shots, { recursive: true });

let browser;
let context;
let page;
/** The integration created in the walk-through. */
const integration = {};

async function shoot(name, target = page) {
  await target.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function heading() {
  return (await page.locator("h1").first().textContent()).trim();
}

/** POST /auth with an integration's credentials, as its client would. */
async function integrationLogin(consumerKey, secretKey) {
  return fetch(`${base}/auth`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ consumer_key: consumerKey, secret_key: secretKey }),
  });
}

describe("the console in a browser", () => {
  before(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    context = await browser.newContext({
      locale: "en-US",
      extraHTTPHeaders: { "Accept-Language": "en-US,en;q=0.9" },
      viewport: { width: 1280, height: 800 },
    });
    page = await context.newPage();
    page.on("pageerror", (e) => assert.fail(`script error on ${page.url()}: ${e}`));
  });

  after(async () => {
    await browser?.close();
  });

  it("shows the sign-in page in English, with the username field focused", async () => {
    await page.goto(`${base}/console/`);
    assert.equal(await page.getAttribute("html", "lang"), "en");
    assert.equal(await heading(), "Sign in to the console");
    assert.equal(await page.evaluate(() => document.activeElement.id), "username");
    await shoot("01-sign-in");
  });

  it("refuses a wrong password with one plain message", async () => {
    await page.fill("#username", username);
    await page.fill("#password", "not-the-password");
    await page.click("button[type=submit]");
    await page.waitForSelector(".alert-error");
    assert.match(await page.textContent(".alert-error"), /username or password is incorrect/);
  });

  it("signs in and lands on Settings with the organization id and a working copy button", async () => {
    await page.fill("#username", username);
    await page.fill("#password", password);
    await Promise.all([page.waitForURL("**/console/settings"), page.click("button[type=submit]")]);
    assert.equal(await heading(), "Settings");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.className), "skip-link");
    assert.equal(await page.inputValue("#org-id"), "1");
    assert.ok(await page.isVisible("button[data-copy=org-id]"), "the copy button is shown");
    await shoot("02-settings");
  });

  it("creates an integration and shows its secret once, not cached", async () => {
    await page.click("nav.tabs >> text=Integrations");
    await page.waitForURL("**/console/integrations");
    await shoot("03-integrations-empty");
    await page.fill("#integration-name", "ERP sync");
    await page.fill("#integration-scopes", "documents:read documents:sign");
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.click("form[action='/console/integrations'] button[type=submit]"),
    ]);
    assert.equal(response.headers()["cache-control"], "no-store");
    assert.equal(await heading(), "Integration created");
    assert.match(await page.textContent(".alert-warn"), /will not be shown again/);
    integration.secret = await page.inputValue("#secret-value");
    integration.key = (await page.locator(".facts code").nth(1).textContent()).trim();
    assert.match(integration.key, /^[0-9a-f-]{36}$/);
    assert.ok(integration.secret.length >= 32);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await page.click("button[data-copy=secret-value]");
    await page.waitForSelector("button[data-copy=secret-value]:has-text('Copied')");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), integration.secret);
    await shoot("04-integration-secret");
  });

  it("the secret works against POST /auth", async () => {
    const response = await integrationLogin(integration.key, integration.secret);
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.ok(body.access_token && body.refresh_token);
  });

  it("lists the integration without its secret", async () => {
    await page.goto(`${base}/console/integrations`);
    const html = await page.content();
    assert.ok(html.includes(integration.key));
    assert.ok(!html.includes(integration.secret), "the secret is never shown again");
    assert.ok(html.includes("ERP sync"));
    await shoot("05-integrations");
  });

  it("offers a confirmation before rotating a secret", async () => {
    await page.click(`a[href='/console/integrations/${integration.key}/rotate']`);
    assert.equal(await heading(), "Rotate this integration's secret?");
    await shoot("06-rotate-confirm");
    await Promise.all([page.waitForURL("**/console/integrations"), page.click("text=Cancel")]);
  });

  it("shows the open sessions of users and integrations", async () => {
    const login = await fetch(`${base}/api/v1/auth/token/1/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    assert.equal(login.status, 200);
    await page.click("nav.tabs >> text=Sessions");
    await page.waitForURL("**/console/sessions");
    const html = await page.content();
    assert.ok(html.includes(integration.key) && html.includes(username));
    await shoot("06-sessions");
  });

  it("revokes the integration after a confirmation, and its secret stops working", async () => {
    await page.goto(`${base}/console/integrations`);
    await page.click(`a[href='/console/integrations/${integration.key}/revoke']`);
    await page.waitForURL(`**/console/integrations/${integration.key}/revoke`);
    assert.equal(await heading(), "Revoke this integration?");
    await shoot("07-revoke-confirm");
    await Promise.all([
      page.waitForURL("**/console/integrations?done=revoked"),
      page.click("button.btn-danger"),
    ]);
    assert.match(await page.textContent(".alert-ok"), /revoked/);
    assert.equal(await page.locator(".badge-off").count(), 1);
    const response = await integrationLogin(integration.key, integration.secret);
    assert.equal(response.status, 400);
  });

  it("adds a new member and shows the generated password once", async () => {
    await page.click("nav.tabs >> text=Users");
    await page.waitForURL("**/console/users");
    await page.fill("#new-username", "ana@example.com.br");
    await page.selectOption("#new-role", "admin");
    await Promise.all([page.waitForNavigation(), page.click("form[action='/console/users'] button")]);
    assert.equal(await heading(), "User created");
    const generated = await page.inputValue("#secret-value");
    assert.ok(generated.length >= 12);
    await shoot("08-user-password");
    await page.goto(`${base}/console/users`);
    assert.ok((await page.content()).includes("ana@example.com.br"));
    assert.ok(!(await page.content()).includes(generated));
    await shoot("09-users");
  });

  it("shows the activity log, filterable by kind", async () => {
    await page.click("nav.tabs >> text=Activity");
    await page.waitForURL("**/console/activity");
    assert.ok((await page.locator("tbody tr").count()) >= 3);
    await shoot("10-activity");
    await page.selectOption("#kind", "integration_revoked");
    await Promise.all([page.waitForNavigation(), page.click(".filters button[type=submit]")]);
    const kinds = await page.locator("tbody .event").allTextContents();
    assert.deepEqual(kinds, ["Integration revoked"]);
  });

  it("switches language with the visible switcher, and remembers it", async () => {
    await page.goto(`${base}/console/activity`);
    await Promise.all([page.waitForURL("**/console/activity"), page.click("nav.langs >> text=Español")]);
    assert.equal(await page.getAttribute("html", "lang"), "es");
    assert.equal(await heading(), "Actividad");
    await shoot("11-activity-es");
    await page.goto(`${base}/console/integrations`);
    assert.equal(await heading(), "Integraciones");
    await Promise.all([
      page.waitForURL("**/console/integrations"),
      page.click("nav.langs >> text=Português (Brasil)"),
    ]);
    assert.equal(await page.getAttribute("html", "lang"), "pt-BR");
    assert.equal(await heading(), "Integrações");
    await shoot("12-integrations-pt-BR");
    await page.goto(`${base}/console/sessions`);
    await shoot("13-sessions-pt-BR");
    await page.click("nav.langs >> text=English");
  });

  it("fits a 360 px wide phone", async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 360, height: 740 });
    for (const [name, path] of [
      ["14-phone-integrations", "/console/integrations"],
      ["15-phone-users", "/console/users"],
      ["16-phone-activity", "/console/activity"],
    ]) {
      await phone.goto(`${base}${path}`);
      const overflow = await phone.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      await shoot(name, phone);
      const wide = await phone.evaluate(() =>
        [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .map((e) => `${e.tagName}.${e.className}`)
          .slice(0, 5),
      );
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow} px: ${wide}`);
    }
    await phone.close();
  });

  it("answers an unknown console page with a page of its own", async () => {
    const response = await page.goto(`${base}/console/nowhere`);
    assert.equal(response.status(), 404);
    assert.equal(await heading(), "Error");
    await shoot("17-not-found");
  });

  it("signs out, and the console is then closed", async () => {
    await page.goto(`${base}/console/settings`);
    await Promise.all([
      page.waitForURL("**/console/?note=signed_out"),
      page.click("form[action='/console/sign-out'] button"),
    ]);
    assert.match(await page.textContent(".alert-ok"), /signed out/);
    await shoot("18-signed-out");
    await page.goto(`${base}/console/users`);
    assert.equal(new URL(page.url()).pathname, "/console/");
    assert.equal(await heading(), "Sign in to the console");
  });
});

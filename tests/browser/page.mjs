// Opens the Tensor Views page in headless Chromium and reports what a user sees, as JSON lines.
// Usage: node page.mjs URL SCREENSHOT_PREFIX PROFILE_DIR COUNT1,COUNT2,...
// For each expected storage count: wait until the page shows that many storages, take a
// screenshot, print one JSON line, then wait for a line on stdin before the next count.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const [url, shotPrefix, profile, counts] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
  await page.goto(url);
  const expected = counts.split(",").map(Number);
  for (const [step, count] of expected.entries()) {
    if (step > 0) await lines.next();
    await page.waitForFunction(
      (n) => document.querySelectorAll(".storage").length === n, count, { timeout: 30000 });
    await page.waitForFunction(() => {
      const img = document.querySelector("#picture img");
      return img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 30000 });
    await page.screenshot({ path: `${shotPrefix}-${step}.png`, fullPage: true });
    const seen = await page.evaluate(() => ({
      storages: [...document.querySelectorAll(".storage")].map((card) => ({
        id: card.dataset.storage, text: card.textContent })),
      notes: [...document.querySelectorAll("#notes li")].map((li) => li.textContent),
      // The picture comes first: above the notes and the storage cards, in the DOM and on screen.
      pictureFirst:
        (document.querySelector("#picture img").compareDocumentPosition(
          document.querySelector(".storage")) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0 &&
        document.querySelector("#picture img").getBoundingClientRect().bottom <=
          document.querySelector(".storage").getBoundingClientRect().top,
      pictureWidth: document.querySelector("#picture img").naturalWidth,
      kernels: [...document.querySelectorAll("#kernels button")].map((b) => b.textContent),
      status: document.getElementById("status").textContent,
      injectedImages: document.querySelectorAll('img[src="x"], b.injected').length,
    }));
    console.log(JSON.stringify({ ...seen, dialogs }));
  }
} finally {
  await context.close();
}
process.exit(0); // stdin may still be open


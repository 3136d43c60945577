// One named step of the scenario: a screenshot when it is done, and on failure an error that
// names the step and a screenshot of the moment it failed.
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';

export class Steps {
  constructor(
    private readonly page: () => Page | undefined,
    private readonly artifacts: string,
  ) {}

  /** Wraps `body` for node:test's `it`; the screenshot is `<name>.png`, or `<name>-FAILED.png`. */
  run(name: string, body: () => Promise<void>): () => Promise<void> {
    const file = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    return async () => {
      try {
        await body();
      } catch (e) {
        await this.screenshot(`${file}-FAILED`);
        // Playwright's messages carry its whole call log; the first lines say what went wrong.
        const message = (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 3).join('\n');
        throw new Error(`e2e step "${name}" failed (screenshot ${file}-FAILED.png): ${message}`, { cause: e });
      }
      await this.screenshot(file);
    };
  }

  /**
   * Steps that need earlier ones, by number ("2" for "2. ..."): skipped, saying which, when one
   * of those failed. `before` runs first in each (closing whatever a failed step left open);
   * `prefix` goes before the name, in the error and the screenshot.
   */
  gated(before: () => Promise<void>, prefix = ''): (name: string, needs: string[], body: () => Promise<void>) => (t: TestContext) => Promise<void> {
    const passed = new Set<string>();
    return (name, needs, body) => async (t) => {
      const missing = needs.filter((n) => !passed.has(n));
      if (missing.length > 0) return t.skip(`needs step ${missing.join(', ')}`);
      await this.run(`${prefix}${name}`, async () => {
        await before();
        await body();
      })();
      passed.add(name.split('.')[0]);
    };
  }

  private async screenshot(file: string): Promise<void> {
    // A step can fail before there is a page, or with the browser gone; the error says why.
    await this.page()?.screenshot({ path: join(this.artifacts, `${file}.png`) }).catch(() => undefined);
  }
}

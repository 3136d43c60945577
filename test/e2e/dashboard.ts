// Reading the GRPO dashboard webview as a user reads it: its status line, its charts and its
// rollout browser (groups of completions with rewards and advantages).
import type { FrameLocator, Locator } from 'playwright-core';

/** The shape of a canvas as seen from the page; the project's types carry no DOM library. */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

export class Dashboard {
  constructor(readonly frame: FrameLocator) {}

  /** "running, iteration 3 done", "past run, read-only · finished (iteration 40)", ... */
  async status(): Promise<string> {
    return (await this.frame.locator('header .status').innerText()).trim();
  }

  /** The iteration the status line names. */
  async statusIteration(): Promise<number | undefined> {
    return numberAfter(await this.status(), 'iteration');
  }

  /** The iteration the rollout browser shows ("iteration 12, 32 completions"). */
  async rolloutIteration(): Promise<number | undefined> {
    const note = this.frame.locator('.rollouts .rollout-note');
    return numberAfter(await note.innerText(), 'iteration');
  }

  groups(): Locator {
    return this.frame.locator('.rollouts .group');
  }

  members(): Locator {
    return this.frame.locator('.rollouts .member');
  }

  /** Each shown completion's total reward, from its "reward 0.50" label (NaN shows as NaN). */
  async rewards(): Promise<number[]> {
    return (await this.frame.locator('.rollouts .member .reward').allInnerTexts()).map((t) => Number(t.replace('reward', '').trim()));
  }

  async advantages(): Promise<number[]> {
    return (await this.frame.locator('.rollouts .member .advantage-value').allInnerTexts()).map((t) => Number(t.trim()));
  }

  chart(title: string): Locator {
    const heading = this.frame.locator('h3', { hasText: new RegExp(`^${title}$`) });
    return this.frame.locator('.chart-card', { has: heading }).locator('canvas');
  }

  /** Share of a canvas's pixels that are drawn on (not fully transparent). */
  async drawnShare(canvas: Locator): Promise<number> {
    return canvas.evaluate((node) => {
      const c = node as unknown as CanvasLike;
      const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      if (!data || data.length === 0) return 0;
      let drawn = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) drawn++;
      return drawn / (data.length / 4);
    });
  }
}

function numberAfter(text: string, word: string): number | undefined {
  const m = new RegExp(`${word} (\\d+)`).exec(text);
  return m ? Number(m[1]) : undefined;
}

// What a user does in the VS Code workbench, as Playwright steps on its DOM: answer the trust
// dialog, run a command by its title, open a file, type, save, read notifications and the
// Problems panel, and reach into a webview (an iframe holding the extension's page in another).
import type { FrameLocator, Locator, Page } from 'playwright-core';

export class Workbench {
  constructor(readonly page: Page) {}

  /** Opens `folder` and waits for the workbench to be laid out. */
  async openFolder(serverUrl: string, folder: string): Promise<void> {
    await this.page.goto(`${serverUrl}?folder=${encodeURIComponent(folder)}`);
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 90_000 });
  }

  /** Answers the "Do you trust the authors" dialog that a new folder opens with. */
  async answerTrustDialog(trust: boolean): Promise<void> {
    const label = trust ? 'Yes, I trust the authors' : "No, I don't trust the authors";
    await this.page.locator('.monaco-dialog-box .monaco-button', { hasText: label }).click({ timeout: 60_000 });
    await this.page.locator('.monaco-dialog-box').waitFor({ state: 'detached' });
  }

  /** Closes whatever a failed step left open (palette, hover, notification focus). */
  async dismiss(): Promise<void> {
    for (let i = 0; i < 2; i++) await this.page.keyboard.press('Escape');
  }

  /** Runs a command from the palette by its full title, e.g. "GRPO: Start Training". */
  async runCommand(title: string): Promise<void> {
    // Focus the workbench first: keys pressed while a webview has focus go to its page.
    await this.page.locator('.part.sidebar .composite.title .title-label').first().click();
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input[type="text"]');
    await input.waitFor();
    await input.fill(`>${title}`);
    // Enter runs the highlighted row once it is the command itself: the list is still filtering
    // and reordering while it draws, so a click on a row can land on another one.
    const label = this.page.locator('.label-name', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { has: label }).waitFor({ timeout: 30_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** Picks the first entry of an open quick pick (e.g. the newest run of "GRPO: Open Run"). */
  async pickFirst(): Promise<void> {
    await this.page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 30_000 });
    await this.page.keyboard.press('Enter');
  }

  /** Opens a workspace file from the Explorer, e.g. ['rewards', 'format.reward.ts']. */
  async openFile(path: string[]): Promise<Locator> {
    await this.runCommand('View: Show Explorer');
    const row = (name: string) => this.page.locator('.explorer-folders-view .monaco-list-row', { hasText: new RegExp(`^${name}$`) }).first();
    for (const folder of path.slice(0, -1)) {
      if ((await row(folder).getAttribute('aria-expanded')) !== 'true') await row(folder).click();
    }
    const fileName = path[path.length - 1];
    await row(fileName).click();
    await this.page.locator('.editor-group-container.active .tab.active', { hasText: fileName }).waitFor();
    return this.activeEditor();
  }

  activeEditor(): Locator {
    return this.page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();
  }

  /** Replaces the whole text of the active editor and saves it (Ctrl+A, the new text, Ctrl+S). */
  async replaceEditorText(text: string): Promise<void> {
    await this.activeEditor().locator('.view-lines').click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Delete');
    // One insertion, not keystrokes, so auto-closing brackets and indentation leave the text as it is.
    await this.page.keyboard.insertText(text);
    const typed = (await this.editorText()).replace(/\s+/g, ' ').trim();
    if (typed !== text.replace(/\s+/g, ' ').trim()) throw new Error(`the editor holds other text than was typed: ${typed}`);
    await this.page.keyboard.press('Control+S');
    await this.page.locator('.editor-group-container.active .tab.active.dirty').waitFor({ state: 'detached' });
  }

  /** Closes the editor in front by its tab's close button. */
  async closeActiveEditor(): Promise<void> {
    await this.page.locator('.editor-group-container.active .tab.active .codicon-close').click();
  }

  /** The text of the active editor as rendered (Monaco renders only visible lines). */
  async editorText(): Promise<string> {
    return (await this.activeEditor().locator('.view-lines').innerText({ timeout: 5000 })).replace(/\u00a0/g, ' ');
  }

  /** Waits for a notification toast whose text contains `text`, and returns all of its text. */
  async notification(text: string): Promise<string> {
    const toast = this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
    await toast.waitFor({ timeout: 30_000 });
    return toast.innerText();
  }

  /** Status-bar items whose text contains `text`. */
  statusBarItem(text: string): Locator {
    return this.page.locator('.part.statusbar .statusbar-item', { hasText: text });
  }

  /** The Problems panel's rows, after opening it. */
  async problems(): Promise<Locator> {
    await this.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    return this.page.locator('.markers-panel .monaco-list-row');
  }

  /** The page inside the webview panel in front. */
  webview(): FrameLocator {
    // Each webview is an iframe (VS Code's host page) around another iframe (the extension's
    // page); panels behind others are hidden, so the visible one is the panel in front.
    return this.page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
  }
}

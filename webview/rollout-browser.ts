// The rollout browser's frame: iteration and colouring pickers above the groups.
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { DashboardState } from './dashboard-state';
import { groupRollout } from './rollout-groups';
import { renderGroups } from './rollout-render';
import type { TokenColouring } from './token-values';

const LATEST = 'latest';

function option(value: string, label: string): HTMLElement {
  const o = document.createElement('vscode-option');
  o.setAttribute('value', value);
  o.textContent = label;
  return o;
}

export interface RolloutBrowserEvents {
  pick(iteration: number | null): void;
  colour(mode: TokenColouring): void;
  open(iteration: number, group: number, member: number): void;
}

export class RolloutBrowser {
  readonly element = document.createElement('section');
  private readonly iterationSelect = document.createElement('vscode-single-select');
  private readonly colourSelect = document.createElement('vscode-single-select');
  private readonly note = document.createElement('span');
  private readonly body = document.createElement('div');
  private listed = '';
  private shownIteration: number | null = null;
  /** What the groups were last drawn from: redrawn only when one of them changes. */
  private drawn: { rollout: DashboardState['rollout']; colouring: TokenColouring } | undefined;
  /**
   * While the pointer is over the groups, a newer iteration waits here instead of replacing
   * them, so the Open button being clicked stays where it is; it is shown when the pointer leaves.
   */
  private pointerInside = false;
  private held: DashboardState | undefined;

  constructor(
    private colouring: TokenColouring,
    events: RolloutBrowserEvents,
  ) {
    this.element.className = 'rollouts';
    const bar = document.createElement('div');
    bar.className = 'rollout-bar';
    const heading = document.createElement('h2');
    heading.textContent = 'Rollouts';
    this.colourSelect.append(option('none', 'plain text'), option('logprob', 'colour by log-probability'), option('kl', 'colour by KL to reference'));
    this.colourSelect.value = colouring;
    this.note.className = 'rollout-note';
    bar.append(heading, this.iterationSelect, this.colourSelect, this.note);
    this.element.append(bar, this.body);
    this.iterationSelect.addEventListener('change', () => events.pick(pickedValue(this.iterationSelect)));
    this.colourSelect.addEventListener('change', () => {
      this.colouring = this.colourSelect.value as TokenColouring;
      events.colour(this.colouring);
    });
    // One listener for every Open button, which carry their group and member.
    this.body.addEventListener('click', (e) => {
      const target = (e.target as HTMLElement).closest('button.open-completion');
      if (!target || this.shownIteration === null) return;
      events.open(this.shownIteration, Number(target.getAttribute('data-group')), Number(target.getAttribute('data-member')));
    });
    this.body.addEventListener('mouseenter', () => (this.pointerInside = true));
    this.body.addEventListener('mouseleave', () => {
      this.pointerInside = false;
      const held = this.held;
      this.held = undefined;
      if (held) this.update(held);
    });
  }

  update(state: DashboardState): void {
    const listed = state.rolloutIterations.join(',');
    if (listed !== this.listed) {
      this.listed = listed;
      this.iterationSelect.replaceChildren(option(LATEST, 'newest iteration'), ...[...state.rolloutIterations].reverse().map((i) => option(String(i), `iteration ${i}`)));
    }
    this.iterationSelect.value = state.pickedIteration === null ? LATEST : String(state.pickedIteration);
    const r = state.rollout;
    const newer = r !== null && this.shownIteration !== null && r.iteration !== this.shownIteration && state.pickedIteration === null;
    if (newer && this.pointerInside) {
      this.held = state;
      this.note.textContent = `iteration ${this.shownIteration} held while the pointer is over it; iteration ${r.iteration} is ready`;
      return;
    }
    this.held = undefined;
    this.shownIteration = r?.iteration ?? null;
    const noReference = this.colouring === 'kl' && r !== null && r.completions.some((c) => c.ref_logprobs === null);
    this.note.textContent = r === null ? 'loading…' : `iteration ${r.iteration}, ${r.completions.length} completions${noReference ? '; no reference log-probabilities (kl_coef was 0), shown as plain text' : ''}`;
    if (this.drawn?.rollout === r && this.drawn.colouring === this.colouring) return;
    this.drawn = { rollout: r, colouring: this.colouring };
    this.body.replaceChildren(r === null ? document.createElement('div') : renderGroups(document, groupRollout(r.completions), this.colouring));
  }
}

function pickedValue(select: VscodeSingleSelect): number | null {
  return select.value === LATEST ? null : Number(select.value);
}

// The rollout browser's body: each prompt's group, its completions by advantage with reward
// and advantage bar, tokens coloured by log-probability or KL. Text goes in as textContent.
import type { RolloutCompletion } from '../src/protocol/dashboard-messages';
import { el, type DomDocument, type DomElement } from './dom';
import type { RolloutGroup } from './rollout-groups';
import { colouringAvailable, tokenViews, type TokenColouring } from './token-values';

function num(x: number | null, digits = 2): string {
  return x === null || !Number.isFinite(x) ? 'NaN' : x.toFixed(digits);
}

function signed(x: number | null): string {
  return x !== null && x > 0 ? `+${num(x)}` : num(x);
}

function advantageBar<E extends DomElement>(doc: DomDocument<E>, advantage: number | null, scale: number): E {
  const bar = el(doc, 'span', 'advantage-bar');
  const a = advantage ?? 0;
  const fill = el(doc, 'span', `advantage-fill ${a >= 0 ? 'positive' : 'negative'}`);
  fill.style.setProperty('--share', String(scale > 0 ? Math.abs(a) / scale : 0));
  bar.append(fill);
  bar.title = `advantage ${signed(advantage)}`;
  return bar;
}

function completionText<E extends DomElement>(doc: DomDocument<E>, c: RolloutCompletion, colouring: TokenColouring): E {
  const text = el(doc, 'div', 'completion');
  if (colouring === 'none' || !colouringAvailable(c, colouring)) {
    text.textContent = c.completion;
    return text;
  }
  for (const t of tokenViews(c, colouring)) {
    // An empty token (a special token decoded to nothing) still gets a mark to hover.
    const span = el(doc, 'span', t.text === '' ? 'token empty' : 'token', t.text === '' ? '∅' : t.text);
    span.title = t.title;
    span.style.setProperty('--intensity', t.intensity.toFixed(3));
    text.append(span);
  }
  return text;
}

function member<E extends DomElement>(doc: DomDocument<E>, c: RolloutCompletion, scale: number, colouring: TokenColouring): E {
  const item = el(doc, 'li', c.reward === null ? 'member unscored' : 'member');
  const head = el(doc, 'div', 'member-head');
  const rewards = Object.entries(c.rewards).map(([fn, v]) => `${fn} ${num(v)}`);
  head.append(
    advantageBar(doc, c.advantage, scale),
    el(doc, 'span', 'advantage-value', signed(c.advantage)),
    el(doc, 'span', 'reward', `reward ${num(c.reward)}`),
    el(doc, 'span', 'rewards', rewards.join(' · ')),
    el(doc, 'span', `finish finish-${c.finish_reason === 'length' ? 'length' : 'stop'}`, c.finish_reason === 'length' ? 'truncated' : `${c.completion_ids.length} tokens`),
  );
  const open = el(doc, 'button', 'open-completion', 'Open');
  open.title = 'Open this completion in an editor';
  open.setAttribute('data-group', String(c.group));
  open.setAttribute('data-member', String(c.member));
  head.append(open);
  item.append(head, completionText(doc, c, colouring));
  return item;
}

export function renderGroups<E extends DomElement>(doc: DomDocument<E>, groups: readonly RolloutGroup[], colouring: TokenColouring): E {
  const root = el(doc, 'div', 'groups');
  for (const g of groups) {
    const section = el(doc, 'section', g.zeroVariance ? 'group zero-variance' : 'group');
    const head = el(doc, 'header', 'group-head');
    const stats = `group ${g.group} · mean reward ${num(g.meanReward)} ± ${num(g.rewardStd)}${g.zeroVariance ? ' · no variance' : ''}`;
    head.append(el(doc, 'pre', 'prompt', g.prompt), el(doc, 'span', 'group-stats', stats));
    const members = el(doc, 'ol', 'members');
    members.append(...g.members.map((c) => member(doc, c, g.advantageScale, colouring)));
    section.append(head, members);
    root.append(section);
  }
  return root;
}

// Pause, resume, one iteration, stop, and the settings for the next iteration. Hidden for a
// past run (read-only). Every action becomes one typed message to the host.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import type { CurrentSettings, RunInfo, TrainerStatus, WebviewMessage } from '../src/protocol/dashboard-messages';
import { inputsFromSettings, parseSettingsInputs, type SettingsInputs } from './live-settings-form';

type Action = Extract<WebviewMessage, { type: 'control' }>['action'];
type Post = (message: WebviewMessage) => void;

function button(label: string, title: string, onClick: () => void, secondary = true): VscodeButton {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.title = title;
  b.secondary = secondary;
  b.addEventListener('click', onClick);
  return b;
}

function field(label: string, title: string): { box: HTMLElement; input: VscodeTextfield } {
  const box = document.createElement('label');
  box.className = 'setting';
  box.title = title;
  const name = document.createElement('span');
  name.textContent = label;
  const input = document.createElement('vscode-textfield');
  box.append(name, input);
  return { box, input };
}

export class Controls {
  readonly element = document.createElement('section');
  private readonly buttons: Record<Action, VscodeButton>;
  private readonly fields = {
    learningRate: field('learning rate', 'Replaces the schedule from the next iteration on'),
    klCoef: field('kl_coef', 'Weight of the KL penalty to the reference (0 turns it off)'),
    temperature: field('temperature', 'Sampling temperature of the next rollouts'),
  };
  private readonly weightsBox = document.createElement('div');
  private weights: Record<string, VscodeTextfield> = {};
  private readonly problems = document.createElement('div');
  private shown: CurrentSettings | undefined;

  constructor(private readonly post: Post) {
    this.element.className = 'controls';
    const control = (action: Action) => () => post({ type: 'control', action });
    this.buttons = {
      pause: button('Pause', 'Pause after the current iteration', control('pause')),
      resume: button('Resume', 'Resume training', control('resume'), false),
      step: button('One iteration', 'Run one iteration, then pause again', control('step')),
      stop: button('Stop', 'Stop after the current iteration and save a checkpoint', control('stop')),
    };
    const row = document.createElement('div');
    row.className = 'control-buttons';
    row.append(...Object.values(this.buttons));
    const settings = document.createElement('div');
    settings.className = 'settings';
    this.weightsBox.className = 'weights';
    this.problems.className = 'settings-problems';
    settings.append(
      ...Object.values(this.fields).map((f) => f.box),
      this.weightsBox,
      button('Apply to next iteration', 'Send the changed settings to the trainer', () => this.apply()),
    );
    this.element.append(row, settings, this.problems);
  }

  update(run: RunInfo, status: TrainerStatus): void {
    this.element.hidden = run.readOnly;
    const live = status.state === 'running' || status.state === 'paused' || status.state === 'starting';
    this.buttons.pause.disabled = status.state !== 'running';
    this.buttons.resume.disabled = status.state !== 'paused';
    this.buttons.step.disabled = status.state !== 'paused';
    this.buttons.stop.disabled = !live;
    // Only overwrite the inputs when the trainer's settings changed, not while the user types.
    if (JSON.stringify(run.settings) === JSON.stringify(this.shown)) return;
    this.shown = run.settings;
    const inputs = inputsFromSettings(run.settings);
    this.fields.learningRate.input.value = inputs.learningRate;
    this.fields.klCoef.input.value = inputs.klCoef;
    this.fields.temperature.input.value = inputs.temperature;
    this.weights = {};
    this.weightsBox.replaceChildren(
      ...Object.entries(inputs.rewardWeights).map(([fn, w]) => {
        const f = field(`weight: ${fn}`, `Weight of reward function ${fn} in the total reward`);
        f.input.value = w;
        this.weights[fn] = f.input;
        return f.box;
      }),
    );
  }

  private apply(): void {
    if (!this.shown) return;
    const inputs: SettingsInputs = {
      learningRate: this.fields.learningRate.input.value,
      klCoef: this.fields.klCoef.input.value,
      temperature: this.fields.temperature.input.value,
      rewardWeights: Object.fromEntries(Object.entries(this.weights).map(([fn, input]) => [fn, input.value])),
    };
    const parsed = parseSettingsInputs(inputs, this.shown);
    this.problems.textContent = parsed.ok ? (parsed.change ? 'Sent; the next iteration uses it.' : 'Nothing changed.') : parsed.problems.join('; ');
    if (parsed.ok && parsed.change) this.post({ type: 'live-settings', settings: parsed.change });
  }
}

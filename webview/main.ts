// The dashboard webview: receives host messages (checked on receipt), keeps the state,
// and redraws charts, alerts, controls and the rollout browser from it.
import './styles.css';
import { hostMessageProblem, type HostMessage, type WebviewMessage } from '../src/protocol/dashboard-messages';
import { adapterLine, adapterTitle } from './adapter-line';
import { detectAlerts } from './alerts';
import { renderAlerts } from './alerts-render';
import { ChartBoard } from './charts';
import { Controls } from './controls';
import { applyHostMessage, emptyState, pickIteration, rolloutToRequest, type DashboardState } from './dashboard-state';
import { chartSpecs } from './metric-series';
import { RolloutBrowser } from './rollout-browser';
import { themePalette } from './theme';
import type { TokenColouring } from './token-values';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: ViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/**
 * What survives the webview being hidden and shown again; the rest comes with the snapshot.
 * `runDir` is for the host: after a reload, VS Code hands this state to the panel serializer,
 * which reopens the same run folder from it.
 */
interface ViewState {
  pickedIteration: number | null;
  colouring: TokenColouring;
  runDir?: string;
}

const vscode = acquireVsCodeApi();
const saved = vscode.getState() as Partial<ViewState> | undefined;
let view: ViewState = { pickedIteration: saved?.pickedIteration ?? null, colouring: saved?.colouring ?? 'logprob', runDir: saved?.runDir };
let state: DashboardState = pickIteration(emptyState(), view.pickedIteration);
let alertsHeight = 0; // the alert box's tallest height so far, in pixels
let requested: number | null = null; // the rollout asked of the host and not yet arrived

const post = (m: WebviewMessage) => vscode.postMessage(m);
const readVariable = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name);

const header = document.createElement('header');
const runName = document.createElement('h1');
const statusLine = document.createElement('span');
statusLine.className = 'status';
const adapterNote = document.createElement('span'); // what a LoRA run trains; hidden for full fine-tuning
adapterNote.className = 'adapter';
header.append(runName, statusLine, adapterNote);
const controls = new Controls(post);
const alerts = document.createElement('section');
alerts.className = 'alert-box';
const chartsBox = document.createElement('section');
chartsBox.className = 'charts';
const chartNote = document.createElement('p');
chartNote.className = 'chart-note';
chartNote.textContent = 'Dashed vertical lines: a reward file changed version before that iteration.';
const chartGrid = document.createElement('div');
chartGrid.className = 'chart-grid';
chartsBox.append(chartNote, chartGrid);
const charts = new ChartBoard(chartGrid, themePalette(readVariable));
const browser = new RolloutBrowser(view.colouring, {
  pick: (iteration) => {
    state = pickIteration(state, iteration);
    saveView({ pickedIteration: iteration });
    render();
  },
  colour: (colouring) => {
    saveView({ colouring });
    browser.update(state);
  },
  open: (iteration, group, member) => post({ type: 'open-completion', iteration, group, member }),
});
document.body.append(header, controls.element, alerts, chartsBox, browser.element);

function saveView(change: Partial<ViewState>): void {
  view = { ...view, ...change };
  vscode.setState(view);
}

function statusText(s: DashboardState): string {
  const st = s.status;
  const at = `iteration ${st.iteration}`;
  const base = st.state === 'paused' ? `paused after ${at}` : st.state === 'running' ? `running, ${at} done` : `${st.state} (${at})`;
  return `${s.run?.readOnly ? 'past run, read-only · ' : ''}${base}${st.message ? ` · ${st.message}` : ''}`;
}

function render(): void {
  runName.textContent = state.run ? `GRPO run ${state.run.name}` : 'GRPO run';
  statusLine.textContent = statusText(state);
  const adapter = state.run?.adapter;
  adapterNote.hidden = adapter === undefined;
  adapterNote.textContent = adapter ? adapterLine(adapter) : '';
  adapterNote.title = adapter ? adapterTitle(adapter) : '';
  if (state.run) controls.update(state.run, state.status);
  else controls.element.hidden = true;
  const found = detectAlerts({ metrics: state.metrics, rollout: state.rollout, failures: state.failures, maxNewTokens: state.run?.maxNewTokens ?? 0 });
  alerts.replaceChildren(renderAlerts(document, found));
  // Alerts come and go between iterations; the box keeps the tallest height it has had, so
  // the charts and rollouts below do not jump while the user reads or points at them.
  alertsHeight = Math.max(alertsHeight, alerts.offsetHeight);
  alerts.style.minHeight = `${alertsHeight}px`;
  charts.render(chartSpecs(state.metrics, state.evaluations));
  browser.update(state);
  const wanted = rolloutToRequest(state);
  if (wanted !== null && wanted !== requested) post({ type: 'request-rollouts', iteration: wanted });
  requested = wanted;
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const problem = hostMessageProblem(event.data);
  if (problem) {
    console.error(`GRPO dashboard: ignored a host message: ${problem}`);
    return;
  }
  const message = event.data as HostMessage;
  state = applyHostMessage(state, message);
  if (message.type === 'snapshot' && message.run.runDir !== view.runDir) saveView({ runDir: message.run.runDir });
  scheduleRender();
});

/**
 * A small model runs several iterations a second, each bringing metrics, rollouts and a status:
 * the page draws at most every RENDER_INTERVAL_MS, from the newest state, so drawing a dozen
 * charts never falls behind the messages.
 */
const RENDER_INTERVAL_MS = 250;
let renderPending = false;
function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  setTimeout(() => {
    renderPending = false;
    render();
  }, RENDER_INTERVAL_MS);
}

// VS Code swaps the theme's variables and the body's class together.
new MutationObserver(() => charts.setPalette(themePalette(readVariable))).observe(document.body, { attributes: true, attributeFilter: ['class'] });

render();
post({ type: 'ready' });

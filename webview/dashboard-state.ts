// Everything the dashboard shows, rebuilt from a snapshot and updated by each host message.
// Updates are idempotent (metrics keyed by iteration), as the host may resend what a
// snapshot already held.
import type {
  EvaluationLine,
  HostMessage,
  IterationFailures,
  IterationRollouts,
  MetricsLine,
  RunInfo,
  TrainerStatus,
} from '../src/protocol/dashboard-messages';

export interface DashboardState {
  run: RunInfo | null; // null until the first snapshot
  status: TrainerStatus;
  metrics: MetricsLine[]; // sorted by iteration, one per iteration
  rolloutIterations: number[]; // sorted
  /** The rollout on show. */
  rollout: IterationRollouts | null;
  /** The iteration picked in the rollout browser; null follows the newest. */
  pickedIteration: number | null;
  failures: IterationFailures[];
  evaluations: EvaluationLine[]; // sorted by iteration, one per iteration
}

/** Failures kept: enough to show each function's latest error without growing forever. */
const FAILURES_KEPT = 50;

export function emptyState(): DashboardState {
  return {
    run: null,
    status: { state: 'starting', iteration: 0 },
    metrics: [],
    rolloutIterations: [],
    rollout: null,
    pickedIteration: null,
    failures: [],
    evaluations: [],
  };
}

function withIteration(list: readonly number[], iteration: number): number[] {
  return list.includes(iteration) ? [...list] : [...list, iteration].sort((a, b) => a - b);
}

export function applyHostMessage(state: DashboardState, msg: HostMessage): DashboardState {
  switch (msg.type) {
    case 'snapshot': {
      const picked = state.pickedIteration !== null && msg.rolloutIterations.includes(state.pickedIteration) ? state.pickedIteration : null;
      return {
        run: msg.run,
        status: msg.status,
        metrics: [...msg.metrics].sort((a, b) => a.iteration - b.iteration),
        rolloutIterations: [...msg.rolloutIterations].sort((a, b) => a - b),
        // A picked iteration other than the latest is asked for again by the caller (see rolloutToRequest).
        rollout: picked === null || msg.rollouts?.iteration === picked ? msg.rollouts : null,
        pickedIteration: picked,
        failures: msg.rewardFailures.slice(-FAILURES_KEPT),
        evaluations: [...msg.evaluations].sort((a, b) => a.iteration - b.iteration),
      };
    }
    case 'metrics': {
      const line = msg.metrics;
      const metrics = state.metrics.filter((m) => m.iteration !== line.iteration);
      metrics.push(line);
      metrics.sort((a, b) => a.iteration - b.iteration);
      return { ...state, metrics };
    }
    case 'evaluation': {
      const line = msg.evaluation;
      const evaluations = state.evaluations.filter((e) => e.iteration !== line.iteration);
      evaluations.push(line);
      evaluations.sort((a, b) => a.iteration - b.iteration);
      return { ...state, evaluations };
    }
    case 'rollouts': {
      const rolloutIterations = withIteration(state.rolloutIterations, msg.iteration);
      const shown = state.pickedIteration === null ? msg.iteration === rolloutIterations[rolloutIterations.length - 1] : msg.iteration === state.pickedIteration;
      return { ...state, rolloutIterations, rollout: shown ? { iteration: msg.iteration, completions: msg.completions } : state.rollout };
    }
    case 'reward-failures': {
      const failures = state.failures.filter((f) => f.iteration !== msg.iteration);
      failures.push({ iteration: msg.iteration, failed: msg.failed });
      return { ...state, failures: failures.slice(-FAILURES_KEPT) };
    }
    case 'status':
      return { ...state, status: msg.status };
    case 'settings':
      return state.run ? { ...state, run: { ...state.run, settings: msg.settings } } : state;
  }
}

/** The user picked an iteration in the rollout browser (null: follow the newest). */
export function pickIteration(state: DashboardState, iteration: number | null): DashboardState {
  return { ...state, pickedIteration: iteration };
}

/** The iteration whose rollouts must be asked of the host, or null when the one on show fits. */
export function rolloutToRequest(state: DashboardState): number | null {
  const want = state.pickedIteration ?? state.rolloutIterations[state.rolloutIterations.length - 1];
  if (want === undefined || state.rollout?.iteration === want) return null;
  return want;
}

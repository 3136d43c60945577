/** Settings a user changed while the run was going; they outlive a resume. */
export interface LiveSettings {
  learningRate?: number; // replaces the schedule from then on
  klCoef?: number;
  temperature?: number;
  rewardWeights?: Record<string, number>; // by reward function name
}

/** `change` over `live`: a field it sends replaces the one held; reward weights merge by name. */
export function mergeLiveSettings(live: LiveSettings, change: LiveSettings): LiveSettings {
  return { ...live, ...change, rewardWeights: { ...live.rewardWeights, ...change.rewardWeights } };
}

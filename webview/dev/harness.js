// Stands in for the extension host in index.html: a made-up run of 12 iterations with two
// reward functions, a reward file edit at iteration 7, a KL spike, a failing reward function
// and a completion that is HTML (which must show literally).
(function () {
  const G = 4;
  const iterations = 12;
  const rand = (() => {
    let s = 7;
    return () => ((s = (s * 16807) % 2147483647) / 2147483647);
  })();
  const metrics = [];
  for (let i = 1; i <= iterations; i++) {
    const exact = Math.min(0.9, 0.2 + i * 0.05 + rand() * 0.05);
    const format = i < 7 ? 0.5 : 0.8;
    metrics.push({
      iteration: i,
      reward: exact + 0.5 * format,
      reward_std: 0.3 - i * 0.01,
      'rewards/exact/mean': exact,
      'rewards/exact/std': 0.4,
      'rewards/format/mean': i === 9 ? null : format,
      'rewards/format/std': 0.2,
      kl: i === 10 ? 0.09 : 0.005 + i * 0.001,
      loss: 0.02 * Math.sin(i),
      'clip_ratio/low_mean': 0.01 * rand(),
      'clip_ratio/high_mean': 0.01 * rand(),
      'clip_ratio/region_mean': 0.02 * rand(),
      entropy: 0.6 - i * 0.02,
      'completions/mean_length': 6 + i * 0.4,
      'completions/min_length': 3,
      'completions/max_length': Math.min(16, 9 + i),
      'completions/clipped_ratio': i > 8 ? 0.1 : 0,
      frac_reward_zero_std: 0.25,
      'tokens_per_second/generate': 2500 + 400 * rand(),
      learning_rate: 1e-4,
      reward_versions: { 'rewards/exact.reward.ts': 'a1', 'rewards/format.reward.ts': i < 7 ? 'f1' : 'f2' },
    });
  }
  const prompts = ['7+8=', '12+30=', '<script>alert(2)</script> 2+2=', '9+9='];
  const answers = ['15', '42', '4', '18'];
  function rollout(iteration) {
    const completions = [];
    prompts.forEach((prompt, group) => {
      const texts = group === 2 ? ['<img src=x onerror=alert(1)>', '4', '5', '4\nbecause 2+2'] : group === 3 ? ['18', '18', '18', '18'] : [answers[group], '16', answers[group] + '!', '99'];
      const rewards = texts.map((t) => (t.startsWith(answers[group]) ? 1 : 0));
      const mean = rewards.reduce((a, b) => a + b, 0) / G;
      const std = Math.sqrt(rewards.reduce((s, r) => s + (r - mean) ** 2, 0) / (G - 1));
      texts.forEach((completion, member) => {
        const tokens = completion.match(/.{1,3}/gs).concat(['']);
        completions.push({
          group,
          member,
          row: group * 10,
          prompt,
          completion,
          completion_ids: tokens.map((_, k) => 100 + k),
          tokens,
          finish_reason: member === 3 && group === 2 ? 'length' : 'eos',
          reward: group === 1 && member === 3 ? null : rewards[member] + 0.4,
          rewards: { exact: rewards[member], format: group === 1 && member === 3 ? null : 0.8 },
          advantage: std > 0 ? (rewards[member] - mean) / (std + 1e-4) : 0,
          logprobs: tokens.map(() => -Math.round(rand() * 4000) / 1000),
          ref_logprobs: tokens.map(() => -Math.round(rand() * 4000) / 1000),
        });
      });
    });
    return { iteration, completions };
  }
  const snapshot = {
    type: 'snapshot',
    run: {
      name: '20261124-235650',
      runDir: '/work/runs/20261124-235650',
      readOnly: false,
      maxNewTokens: 16,
      groupSize: G,
      settings: { learningRate: 1e-4, klCoef: 0.04, temperature: 1, rewardWeights: { exact: 1, format: 0.5 } },
      adapter: { r: 16, lora_alpha: 32, target_modules: ['q_proj', 'v_proj'], adapted_layers: 24, modules_to_save: [], use_rslora: false, trainable_parameters: 589824, base_parameters: 134515008 },
    },
    status: { state: 'paused', iteration: iterations },
    metrics,
    rolloutIterations: metrics.map((m) => m.iteration),
    rollouts: rollout(iterations),
    evaluations: [0, 10, 20].map((iteration) => ({ iteration, prompts: 50, reward: 0.3 + iteration / 50, rewards: { exact: 0.3 + iteration / 50, format: 0.8 } })),
    rewardFailures: [
      {
        iteration: 9,
        failed: [{ fn: 'format', errors: [{ kind: 'threw', message: "Cannot read properties of undefined (reading 'trim')", stack: 'TypeError: Cannot read properties of undefined (reading \'trim\')\n    at format (rewards/format.reward.ts:6:22)', samples: [3, 7] }] }],
      },
    ],
  };
  let state;
  window.acquireVsCodeApi = () => ({
    postMessage(m) {
      console.log('webview -> host', JSON.stringify(m));
      const reply = m.type === 'ready' ? snapshot : m.type === 'request-rollouts' ? { type: 'rollouts', ...rollout(m.iteration) } : undefined;
      if (reply) setTimeout(() => window.postMessage(JSON.parse(JSON.stringify(reply)), '*'));
    },
    getState: () => state,
    setState: (s) => (state = s),
  });
})();

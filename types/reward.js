'use strict';
// Runtime of `grpo-studio/reward` for code outside GRPO Studio (a user's own unit tests of a
// reward file). Inside GRPO Studio the reward bundler supplies the same one line itself
// (src/rewards/compile.ts), so the compiled CLI does not depend on this file.
exports.batched = (score) => ({ batched: true, score });

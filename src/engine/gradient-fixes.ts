// Gradients that tfjs-core 4.22 gets wrong or lacks, on every backend:
// - BatchMatMul, Maximum and Minimum return the gradient of a broadcast input in the
//   broadcast shape, so `x[B,T,d] @ W[d,k]` fails in backprop ("gradient of input 'b' has
//   shape ..."). Here the broadcast axes are summed away.
// - GatherV2 with batchDims 2 or more fails ("Size(6) must match the product of shape ...");
//   picking each token's log-probability, gather(logp[B,T,V], ids[B,T], 2, 2), needs it. One
//   scatter-add handles every batchDims, and batchDims 1 no longer splits per batch.
// - Comparisons and logical ops have no gradient at all, so a mask built from a tensor that
//   needs a gradient (`tf.where(tf.greater(ratio, hi), ...)`) throws "gradient function not
//   found". A mask is piecewise constant: its gradient is zero, as GreaterEqual's already is.
import * as tf from '@tensorflow/tfjs-core';

/** Sums `grad` over the axes along which an input of `shape` was broadcast; gives it `shape`. */
function sumToShape(grad: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, grad.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(grad, axes) : grad, shape);
}

const batchMatMulGrad: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const g = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const gradA = () => {
      if (!transposeA && !transposeB) return tf.matMul(g, b, false, true);
      if (!transposeA) return tf.matMul(g, b);
      if (!transposeB) return tf.matMul(b, g, false, true);
      return tf.matMul(b, g, true, true);
    };
    const gradB = () => {
      // A rank-2 weight shared by every batch row: fold the batch into the rows so its
      // gradient is one large matmul, not a [batch, k, n] stack summed afterwards.
      const foldBatch = b.rank === 2 && a.rank > 2 && !transposeA;
      const aRows = foldBatch ? tf.reshape(a, [-1, a.shape[a.rank - 1]]) : a; // [rows, k]
      const gRows = foldBatch ? tf.reshape(g, [-1, g.shape[g.rank - 1]]) : g; // [rows, n]
      if (!transposeA && !transposeB) return tf.matMul(aRows, gRows, true, false);
      if (!transposeA) return tf.matMul(gRows, aRows, true, false);
      if (!transposeB) return tf.matMul(a, g);
      return tf.matMul(g, a, true, true);
    };
    return { a: () => sumToShape(gradA(), a.shape), b: () => sumToShape(gradB(), b.shape) };
  },
};

const gatherGrad: tf.GradConfig = {
  kernelName: tf.GatherV2,
  inputsToSave: ['x', 'indices'],
  gradFunc: (dy, saved, attrs) => {
    const [x, indices] = saved;
    const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
    return { x: () => scatterGathered(dy as tf.Tensor, x.shape, indices, axis, batchDims), indices: () => tf.zerosLike(indices) };
  },
};

/** d gather(x, indices, axis, batchDims) / dx: each picked row of dy added back where it came from. */
function scatterGathered(dy: tf.Tensor, xShape: number[], indices: tf.Tensor, axisAttr: number, batchDimsAttr: number): tf.Tensor {
  const axis = tf.util.parseAxisParam(axisAttr, xShape)[0];
  const batchDims = batchDimsAttr < 0 ? batchDimsAttr + indices.rank : batchDimsAttr;
  const size = (dims: number[]) => tf.util.sizeFromShape(dims);
  const batch = size(xShape.slice(0, batchDims));
  const outer = size(xShape.slice(batchDims, axis));
  const n = xShape[axis];
  const inner = size(xShape.slice(axis + 1));
  const picks = size(indices.shape.slice(batchDims));
  // dy: [batch, outer, picks, inner] -> one row per pick: [batch*picks, outer, inner]
  let rows = tf.reshape(dy, [batch, outer, picks, inner]);
  if (outer > 1) rows = tf.transpose(rows, [0, 2, 1, 3]);
  rows = tf.reshape(rows, [batch * picks, outer, inner]);
  // Each batch owns its own block of n segments.
  const blockStart = tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(n, 'int32')); // [batch]
  const segmentIds = tf.reshape(tf.add(tf.reshape(indices, [batch, picks]), tf.reshape(blockStart, [batch, 1])), [-1]);
  let grad = tf.reshape(tf.unsortedSegmentSum(rows, segmentIds as tf.Tensor1D, batch * n), [batch, n, outer, inner]);
  if (outer > 1) grad = tf.transpose(grad, [0, 2, 1, 3]);
  return tf.reshape(grad, xShape);
}

function selectedBy(mask: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, other: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) {
  return (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [a, b] = saved;
    const g = dy as tf.Tensor;
    return {
      a: () => sumToShape(tf.mul(g, tf.cast(mask(a, b), 'float32')), a.shape),
      b: () => sumToShape(tf.mul(g, tf.cast(other(a, b), 'float32')), b.shape),
    };
  };
}

// Ties go to `a`, as in tfjs-core's own gradients.
const maximumGrad: tf.GradConfig = {
  kernelName: tf.Maximum,
  inputsToSave: ['a', 'b'],
  gradFunc: selectedBy(tf.greaterEqual, tf.less),
};
const minimumGrad: tf.GradConfig = {
  kernelName: tf.Minimum,
  inputsToSave: ['a', 'b'],
  gradFunc: selectedBy(tf.lessEqual, tf.greater),
};

function zeroGradient(kernelName: string, inputNames: string[]): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: inputNames,
    // float32 zeros even for a bool input (LogicalAnd's): tfjs requires float gradients.
    gradFunc: (_dy, saved) => Object.fromEntries(inputNames.map((name, i) => [name, () => tf.zeros(saved[i].shape, 'float32')])),
  };
}

const MASK_OPS: [string, string[]][] = [
  [tf.Greater, ['a', 'b']],
  [tf.Less, ['a', 'b']],
  [tf.LessEqual, ['a', 'b']],
  [tf.Equal, ['a', 'b']],
  [tf.NotEqual, ['a', 'b']],
  [tf.LogicalAnd, ['a', 'b']],
  [tf.LogicalOr, ['a', 'b']],
  [tf.LogicalNot, ['x']],
];

/** Registers the fixed gradients; idempotent. Run after anything that registers tfjs's own. */
export function registerGradientFixes(): void {
  for (const config of [batchMatMulGrad, gatherGrad, maximumGrad, minimumGrad]) tf.registerGradient(config);
  for (const [name, inputs] of MASK_OPS) tf.registerGradient(zeroGradient(name, inputs));
}

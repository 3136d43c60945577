import { UserError } from '../errors';
import { Rng } from '../model/rng';

/**
 * Which prompts each iteration takes: the dataset is shuffled once per epoch with the run's
 * seed and read in order, so a resumed run continues with exactly the prompts the
 * uninterrupted run would have taken.
 */
export interface DataOrderState {
  epoch: number;
  position: number; // next index into `order`
  order: number[]; // this epoch's permutation of row indices
  rng: number[]; // Rng state for the next epoch's shuffle
}

export class DataOrder {
  private constructor(
    private readonly size: number,
    private s: DataOrderState,
  ) {}

  static start(size: number, seed: number): DataOrder {
    const rng = Rng.derive(seed, 0x0da7a);
    return new DataOrder(size, { epoch: 0, position: 0, order: rng.permutation(size), rng: rng.state() });
  }

  /** `source` names the checkpoint for the error a dataset that has shrunk since gets. */
  static restore(size: number, state: DataOrderState, source = 'the checkpoint'): DataOrder {
    const past = state.order.find((row) => row >= size);
    if (past !== undefined) {
      throw new UserError(
        `${source}: the saved data order takes row ${past}, but the dataset now has ${size} rows; ` +
          'resume with the dataset the run was started with, or start a new run',
      );
    }
    return new DataOrder(size, { ...state, order: [...state.order], rng: [...state.rng] });
  }

  /** The next `count` row indices, crossing into a freshly shuffled epoch when needed. */
  take(count: number): number[] {
    const out: number[] = [];
    while (out.length < count) {
      if (this.s.position >= this.s.order.length) {
        const rng = new Rng(this.s.rng);
        this.s = { epoch: this.s.epoch + 1, position: 0, order: rng.permutation(this.size), rng: rng.state() };
      }
      out.push(this.s.order[this.s.position++]);
    }
    return out;
  }

  get epoch(): number {
    return this.s.epoch;
  }

  state(): DataOrderState {
    return { ...this.s, order: [...this.s.order], rng: [...this.s.rng] };
  }
}


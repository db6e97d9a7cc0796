// Tensor: a row-major Float32Array with a shape, and (when it takes part in autograd) a gradient.
//
// - `requiresGrad` marks trainable parameters and op outputs that depend on them. A frozen
//   parameter (requiresGrad = false) never gets a grad buffer (a DPO reference model costs no
//   gradient memory).
// - A view (`reshape`) shares data and gradient with its base; it is never on the tape.
// - Op outputs recorded on the tape are "released" after backward: their buffers go back to the
//   pool, and reading `data` afterwards throws (read values before backward, or keep them).
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  /** Views share their base's data and gradient. */
  readonly base: Tensor | null;
  requiresGrad: boolean;
  /** A parameter's Hugging Face name, or the op that produced this tensor. */
  name: string;
  private _data: Float32Array;
  private _grad: Float32Array | null = null;
  private _released = false;

  constructor(data: Float32Array, shape: readonly number[], opts: { requiresGrad?: boolean; name?: string; base?: Tensor } = {}) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new Error(
        `Tensor${opts.name ? ` '${opts.name}'` : ''}: data length ${data.length} does not match shape [${shape.join(', ')}] (${size} elements)`,
      );
    this.shape = shape;
    this.size = size;
    this._data = data;
    this.requiresGrad = opts.requiresGrad ?? false;
    this.name = opts.name ?? 'tensor';
    this.base = opts.base ?? null;
  }

  static zeros(shape: readonly number[], opts: { requiresGrad?: boolean; name?: string } = {}): Tensor {
    return new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, opts);
  }

  get data(): Float32Array {
    if ((this.base ?? this)._released) {
      throw new Error(
        `tensor '${this.name}' [${this.shape.join(', ')}] was released after backward(); read its values before backward() or pass it in backward's keep list`,
      );
    }
    return this._data;
  }

  /** The gradient (shared with the base for a view); null until a backward pass writes one. */
  get grad(): Float32Array | null {
    return this.base ? this.base.grad : this._grad;
  }
  set grad(g: Float32Array | null) {
    if (this.base) this.base.grad = g;
    else this._grad = g;
  }

  get released(): boolean {
    return (this.base ?? this)._released;
  }

  /** Marks this tensor released and hands back its buffers (the tape calls this). */
  release(give: (b: Float32Array) => void): void {
    if (this.base || this._released) return;
    give(this._data);
    if (this._grad) give(this._grad);
    this._grad = null;
    this._data = new Float32Array(0);
    this._released = true;
  }

  /** A view with another shape of the same size; shares data and gradient. */
  reshape(shape: readonly number[]): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== this.size)
      throw new Error(`reshape: cannot view [${this.shape.join(', ')}] (${this.size} elements) as [${shape.join(', ')}] (${size})`);
    return new Tensor(this.data, shape, { requiresGrad: this.requiresGrad, name: this.name, base: this.base ?? this });
  }

  /** The single value of a one-element tensor (a loss). */
  item(): number {
    if (this.size !== 1) throw new Error(`item(): tensor '${this.name}' has shape [${this.shape.join(', ')}], not one element`);
    return this.data[0]!;
  }

  toString(): string {
    return `Tensor(${this.name}, [${this.shape.join(', ')}])`;
  }
}

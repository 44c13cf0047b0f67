/**
 * Fast public-scalar arithmetic on the SM2 recommended curve (sm2p256v1), for
 * signature verification only. Not constant time: it must only ever see public
 * data (public keys, signatures, digests). Secret-scalar operations (signing,
 * decryption) go through OpenSSL or noble's blinded `multiply` in ./sm2.ts.
 *
 * Why hand-written instead of `@noble/curves` directly: noble's generic points
 * use complete projective formulas (~17 field multiplications per addition)
 * and need a field inversion to leave projective form. Here:
 * - the accumulator is Jacobian and every table point is affine, so each
 *   addition is a mixed addition (8M + 3S);
 * - fixed-base tables are signed-digit combs with one table per window, so a
 *   scalar multiple of a precomputed point needs no doublings at all
 *   (w = 8: 33 windows → at most 33 mixed additions per scalar);
 * - verification never converts to affine: `x(R) ≡ c (mod n)` is checked as
 *   `X == c·Z²` for the (at most two) field elements c.
 * The curve constants come from noble's `weierstrass` point type, which
 * ./sm2.ts also uses for validation and the secret-scalar paths.
 */

export const SM2_P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
export const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
export const SM2_A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn;
export const SM2_B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
export const SM2_GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
export const SM2_GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;

const P = SM2_P;

/** Is (x, y) an affine point on the curve with coordinates in [0, p)? (a = −3) */
export function isOnCurve(x: bigint, y: bigint): boolean {
  if (x < 0n || x >= P || y < 0n || y >= P) return false;
  const rhs = (((x * x) % P) * x - 3n * x + SM2_B) % P;
  return (y * y - rhs) % P === 0n;
}

/**
 * A Jacobian point (X/Z², Y/Z³) used as an accumulator. Mutable on purpose:
 * the hot loop allocates only the bigints themselves.
 */
class Jacobian {
  x = 0n;
  y = 0n;
  z = 1n;
  infinity = true;

  setAffine(x: bigint, y: bigint): void {
    this.x = x;
    this.y = y;
    this.z = 1n;
    this.infinity = false;
  }

  /** this = 2·this (dbl-2001-b, a = −3: 3M + 5S). */
  double(): void {
    if (this.infinity) return;
    const { x, y, z } = this;
    if (y === 0n) {
      this.infinity = true;
      return;
    }
    const delta = (z * z) % P;
    const gamma = (y * y) % P;
    const beta = (x * gamma) % P;
    let alpha = (3n * (((x - delta) * (x + delta)) % P)) % P;
    if (alpha < 0n) alpha += P;
    let x3 = (alpha * alpha - 8n * beta) % P;
    if (x3 < 0n) x3 += P;
    let z3 = ((y + z) * (y + z) - gamma - delta) % P;
    if (z3 < 0n) z3 += P;
    let y3 = (alpha * (4n * beta - x3) - ((8n * gamma * gamma) % P)) % P;
    if (y3 < 0n) y3 += P;
    this.x = x3;
    this.y = y3;
    this.z = z3;
  }

  /** this = this + (x2, y2) with an affine operand (madd: 8M + 3S). */
  addAffine(x2: bigint, y2: bigint): void {
    if (this.infinity) {
      this.setAffine(x2, y2);
      return;
    }
    const { x, y, z } = this;
    const z1z1 = (z * z) % P;
    let h = ((x2 * z1z1) % P) - x;
    if (h < 0n) h += P;
    let r = ((y2 * ((z * z1z1) % P)) % P) - y;
    if (r < 0n) r += P;
    if (h === 0n) {
      if (r === 0n) this.double();
      else this.infinity = true;
      return;
    }
    const hh = (h * h) % P;
    const hhh = (h * hh) % P;
    const v = (x * hh) % P;
    let x3 = (r * r - hhh - 2n * v) % P;
    if (x3 < 0n) x3 += P;
    let y3 = (r * (v - x3) - y * hhh) % P;
    if (y3 < 0n) y3 += P;
    this.x = x3;
    this.y = y3;
    this.z = (z * h) % P;
  }
}

/** Modular inverse in GF(p) (or any odd prime modulus) by the extended Euclidean algorithm. */
export function invertMod(a: bigint, m: bigint): bigint {
  let r0 = m;
  let r1 = a % m;
  if (r1 < 0n) r1 += m;
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (r0 !== 1n) return 0n;
  return t0 < 0n ? t0 + m : t0;
}

/** Affine coordinates of Jacobian points, with one inversion for all (Montgomery's trick). */
function toAffineBatch(xs: bigint[], ys: bigint[], zs: bigint[]): void {
  const count = zs.length;
  const prefix: bigint[] = new Array<bigint>(count);
  let acc = 1n;
  for (let i = 0; i < count; i++) {
    prefix[i] = acc;
    acc = (acc * (zs[i] as bigint)) % P;
  }
  let inv = invertMod(acc, P);
  for (let i = count - 1; i >= 0; i--) {
    const zi = (inv * (prefix[i] as bigint)) % P;
    inv = (inv * (zs[i] as bigint)) % P;
    const zi2 = (zi * zi) % P;
    xs[i] = ((xs[i] as bigint) * zi2) % P;
    ys[i] = ((ys[i] as bigint) * ((zi2 * zi) % P)) % P;
    zs[i] = 1n;
  }
}

/** Scalar → 32 bytes little-endian, for digit extraction with Number arithmetic. */
function scalarBytesLE(k: bigint): Uint8Array {
  const be = Buffer.from(k.toString(16).padStart(64, '0'), 'hex');
  const out = new Uint8Array(36); // zero headroom bytes for the top window
  for (let i = 0; i < 32; i++) out[i] = be[31 - i] as number;
  return out;
}

/**
 * Signed base-2^w digits of k (0 ≤ k < 2^256): k = Σ dᵢ·2^(w·i), dᵢ ∈ [−2^(w−1), 2^(w−1)].
 * Returns floor(256 / w) + 1 digits.
 */
export function signedDigits(k: bigint, w: number): Int32Array {
  const le = scalarBytesLE(k);
  const windows = Math.floor(256 / w) + 1;
  const digits = new Int32Array(windows);
  const mask = (1 << w) - 1;
  const half = 1 << (w - 1);
  let carry = 0;
  for (let i = 0; i < windows; i++) {
    const bit = i * w;
    const byte = bit >>> 3;
    const word =
      (le[byte] as number) | ((le[byte + 1] as number) << 8) | ((le[byte + 2] as number) << 16);
    let d = ((word >>> (bit & 7)) & mask) + carry;
    if (d > half) {
      d -= 1 << w;
      carry = 1;
    } else {
      carry = 0;
    }
    digits[i] = d;
  }
  return digits;
}

/**
 * Precomputed comb for a fixed point Q: entry (i, j) = (j + 1)·2^(w·i)·Q, affine,
 * for j < 2^(w−1). Flat arrays for locality.
 */
export class FixedBaseTable {
  readonly window: number;
  readonly windows: number;
  readonly xs: bigint[];
  readonly ys: bigint[];

  constructor(x: bigint, y: bigint, window: number) {
    if (!Number.isInteger(window) || window < 2 || window > 12) {
      throw new RangeError('window must be an integer in [2, 12]');
    }
    this.window = window;
    this.windows = Math.floor(256 / window) + 1;
    const half = 1 << (window - 1);
    this.xs = [];
    this.ys = [];
    let bx = x;
    let by = y;
    const acc = new Jacobian();
    for (let i = 0; i < this.windows; i++) {
      const xs: bigint[] = [];
      const ys: bigint[] = [];
      const zs: bigint[] = [];
      acc.setAffine(bx, by);
      for (let j = 0; j < half; j++) {
        if (j > 0) acc.addAffine(bx, by);
        xs.push(acc.x);
        ys.push(acc.y);
        zs.push(acc.z);
      }
      // Next window's base: 2^w·B = 2·(half·B).
      acc.double();
      xs.push(acc.x);
      ys.push(acc.y);
      zs.push(acc.z);
      toAffineBatch(xs, ys, zs);
      for (let j = 0; j < half; j++) {
        this.xs.push(xs[j] as bigint);
        this.ys.push(ys[j] as bigint);
      }
      bx = xs[half] as bigint;
      by = ys[half] as bigint;
    }
  }

  /** acc += k·Q (0 ≤ k < 2^256), no doublings. */
  addMultipleTo(acc: Jacobian, k: bigint): void {
    const digits = signedDigits(k, this.window);
    const half = 1 << (this.window - 1);
    const { xs, ys } = this;
    for (let i = 0; i < digits.length; i++) {
      const d = digits[i] as number;
      if (d === 0) continue;
      const index = i * half + (d > 0 ? d : -d) - 1;
      const ty = ys[index] as bigint;
      acc.addAffine(xs[index] as bigint, d > 0 ? ty : P - ty);
    }
  }
}

/** acc += k·(x, y) for a point without tables: signed fixed window w = 5, 255 doublings. */
function addVariableMultipleTo(acc: Jacobian, x: bigint, y: bigint, k: bigint): void {
  const w = 5;
  const size = 1 << (w - 1); // multiples 1..16
  const xs: bigint[] = [];
  const ys: bigint[] = [];
  const zs: bigint[] = [];
  const m = new Jacobian();
  m.setAffine(x, y);
  xs.push(m.x);
  ys.push(m.y);
  zs.push(m.z);
  m.double();
  xs.push(m.x);
  ys.push(m.y);
  zs.push(m.z);
  for (let j = 3; j <= size; j++) {
    m.addAffine(x, y);
    xs.push(m.x);
    ys.push(m.y);
    zs.push(m.z);
  }
  toAffineBatch(xs, ys, zs);
  const digits = signedDigits(k, w);
  const local = new Jacobian();
  for (let i = digits.length - 1; i >= 0; i--) {
    if (!local.infinity) for (let b = 0; b < w; b++) local.double();
    const d = digits[i] as number;
    if (d === 0) continue;
    const index = (d > 0 ? d : -d) - 1;
    const ty = ys[index] as bigint;
    local.addAffine(xs[index] as bigint, d > 0 ? ty : P - ty);
  }
  if (local.infinity) return;
  if (acc.infinity) {
    acc.x = local.x;
    acc.y = local.y;
    acc.z = local.z;
    acc.infinity = false;
    return;
  }
  // acc is Jacobian too: bring local to affine (one inversion) and mixed-add.
  const zi = invertMod(local.z, P);
  const zi2 = (zi * zi) % P;
  acc.addAffine((local.x * zi2) % P, (local.y * ((zi2 * zi) % P)) % P);
}

/** Generator table, built on first use (w = 10: 26 × 512 points, ~1 MB, ~70 ms). */
const GENERATOR_WINDOW = 10;
let generatorTable: FixedBaseTable | undefined;
function generator(): FixedBaseTable {
  generatorTable ??= new FixedBaseTable(SM2_GX, SM2_GY, GENERATOR_WINDOW);
  return generatorTable;
}

/** Does x(acc) ≡ c (mod n), without leaving Jacobian coordinates? */
function affineXMatches(acc: Jacobian, c: bigint): boolean {
  if (acc.infinity) return false;
  const zz = (acc.z * acc.z) % P;
  if ((c * zz) % P === acc.x) return true;
  const c2 = c + SM2_N;
  return c2 < P && (c2 * zz) % P === acc.x;
}

/** The public key as affine coordinates, optionally with a comb table. */
export interface Sm2VerifyKey {
  readonly x: bigint;
  readonly y: bigint;
  table?: FixedBaseTable;
}

/**
 * Check s·G + t·Q has x ≡ expectedX (mod n). Inputs are already range-checked
 * by the caller (1 ≤ s, t < n; Q on the curve).
 */
export function sm2CheckCombination(s: bigint, t: bigint, key: Sm2VerifyKey, expectedX: bigint) {
  const acc = new Jacobian();
  if (key.table === undefined) {
    addVariableMultipleTo(acc, key.x, key.y, t);
    generator().addMultipleTo(acc, s);
  } else {
    generator().addMultipleTo(acc, s);
    key.table.addMultipleTo(acc, t);
  }
  return affineXMatches(acc, expectedX);
}

/** Public-data helper for tests: k·(x, y) in affine coordinates (undefined for infinity). */
export function mulPublic(x: bigint, y: bigint, k: bigint, table?: FixedBaseTable) {
  const acc = new Jacobian();
  if (table === undefined) addVariableMultipleTo(acc, x, y, k);
  else table.addMultipleTo(acc, k);
  if (acc.infinity) return undefined;
  const zi = invertMod(acc.z, P);
  const zi2 = (zi * zi) % P;
  return { x: (acc.x * zi2) % P, y: (acc.y * ((zi2 * zi) % P)) % P };
}

/** Eagerly build the generator table (otherwise built on the first verify). */
export function warmUpGenerator(): void {
  generator();
}

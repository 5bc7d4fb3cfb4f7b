/** NIST P-256 domain parameters (SEC 2 §2.4.2, FIPS 186-4 D.1.2.3). */
export const P256 = Object.freeze({
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
} as const);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function coordinate(point: Uint8Array, from: number): bigint {
  let hex = '0x';
  for (let i = from; i < from + 32; i++) hex += HEX[point[i] as number] as string;
  return BigInt(hex);
}

/**
 * True when `point` is `04‖X‖Y` with X, Y below p and y² = x³ − 3x + b (mod p): an affine
 * point on P-256, so never the point at infinity. P-256 has cofactor 1, so that is all a
 * public key needs. Costs a few BigInt operations, far less than importing a KeyObject.
 */
export function isOnP256(point: Uint8Array): boolean {
  if (point.length !== 65 || point[0] !== 0x04) return false;
  const { p, b } = P256;
  const x = coordinate(point, 1);
  const y = coordinate(point, 33);
  if (x >= p || y >= p) return false;
  const right = (((x * x) % p) * x - 3n * x + b) % p;
  return ((y * y) % p - (right < 0n ? right + p : right)) % p === 0n;
}

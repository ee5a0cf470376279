// The multiplicative hash the kernel's table schedulers use (include/linux/hash.h): hash_32
// multiplies by GOLDEN_RATIO_32 and keeps the HIGH bits. dh and sh (8 bits) and lblc/lblcr
// (10 bits) all bucket an address with it; older kernels masked the low bits of a product with
// 2654435761 instead, which gives different buckets.

export const GOLDEN_RATIO_32 = 0x61c88647;

/** hash_32(val, bits) for a u32 val and 1 <= bits <= 32. */
export function hash32(val: number, bits: number): number {
  return Math.imul(val, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** Shared fast-check generators for the property tests. */
import fc from "fast-check";

/** Any JavaScript value a caller could hand over, not only JSON: BigInt, Map/Set, null prototypes, sparse and typed arrays. */
export function anyJavaScriptValue(maxDepth: number): fc.Arbitrary<unknown> {
  return fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    maxDepth,
  });
}

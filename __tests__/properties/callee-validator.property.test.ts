/**
 * Property-based tests of the callee's input contract (lambda-src/callee/schema.ts and README.md).
 *
 * The oracle below is written from the documented contract, not from the zod schema, so the
 * properties check that the schema accepts exactly what the documentation promises.
 */
import fc from "fast-check";
import { anyJavaScriptValue } from "./arbitraries";
import { computeQuote } from "../../lambda-src/callee/business-logic";
import { DemoFailure } from "../../lambda-src/callee/demo-operations";
import { createCalleeHandler, type CalleeResponse } from "../../lambda-src/callee/handler";
import { validateCalleeInput, type CalleeInput, type ValidationResult } from "../../lambda-src/callee/schema";
import { CALLEE_ACCOUNT, captureLogs, fakeContext, type CapturedLogs } from "../lambda/helpers";

// ---------------------------------------------------------------------------
// The documented contract, restated independently of the zod schema.
// ---------------------------------------------------------------------------

const DOC = {
  currencies: ["EUR", "USD", "GBP"],
  defaultCurrency: "EUR",
  sku: /^[A-Z0-9-]{1,32}$/,
  quantity: { min: 1, max: 1000 },
  unitPriceCents: { min: 0, max: 10_000_000 },
  items: { min: 1, max: 100 },
  correlationId: { min: 1, max: 128 },
  milliseconds: { min: 0, max: 900_000 },
} as const;

const ALLOWED_KEYS: Record<string, readonly string[]> = {
  quote: ["correlationId", "operation", "items", "currency"],
  fail: ["correlationId", "operation"],
  sleep: ["correlationId", "operation", "milliseconds"],
};
const ITEM_KEYS = ["sku", "quantity", "unitPriceCents"];
/** Every field name the contract knows, at any level. */
const SCHEMA_FIELDS = new Set([...Object.values(ALLOWED_KEYS).flat(), ...ITEM_KEYS]);

/** "chars" of the contract are code points: zod counts an astral character (a surrogate pair) as one. */
const charCount = (s: string) => [...s].length;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const intIn = (v: unknown, { min, max }: { min: number; max: number }) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const onlyKeys = (o: Record<string, unknown>, allowed: readonly string[]) => Object.keys(o).every((k) => allowed.includes(k));

function validItem(item: unknown): boolean {
  return (
    isPlainObject(item) &&
    onlyKeys(item, ITEM_KEYS) &&
    typeof item.sku === "string" &&
    DOC.sku.test(item.sku) &&
    intIn(item.quantity, DOC.quantity) &&
    intIn(item.unitPriceCents, DOC.unitPriceCents)
  );
}

/** What the documentation says the callee must parse `input` to, or undefined if it must reject it. */
function documentedParse(input: unknown): CalleeInput | undefined {
  if (!isPlainObject(input)) return undefined;
  const op = input.operation;
  if (typeof op !== "string" || !Object.hasOwn(ALLOWED_KEYS, op) || !onlyKeys(input, ALLOWED_KEYS[op])) return undefined;
  const cid = input.correlationId;
  if (cid !== undefined && !(typeof cid === "string" && charCount(cid) >= DOC.correlationId.min && charCount(cid) <= DOC.correlationId.max))
    return undefined;
  switch (op) {
    case "quote": {
      const { items, currency } = input;
      if (!Array.isArray(items) || items.length < DOC.items.min || items.length > DOC.items.max || !Array.from(items).every(validItem))
        return undefined;
      if (currency !== undefined && !(DOC.currencies as readonly unknown[]).includes(currency)) return undefined;
      return { ...input, currency: currency ?? DOC.defaultCurrency } as CalleeInput;
    }
    case "sleep":
      return intIn(input.milliseconds, DOC.milliseconds) ? (input as CalleeInput) : undefined;
    default:
      return input as CalleeInput;
  }
}

/** The documented rejection shape: at least one issue, each naming a field (dotted) or `(root)`. */
function expectDocumentedRejection(input: unknown, result: ValidationResult): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.issues.length).toBeGreaterThan(0);
  if (!isPlainObject(input)) {
    expect(result.issues).toEqual([{ path: "(root)", message: expect.stringMatching(/\S/) }]);
    return;
  }
  for (const issue of result.issues) {
    expect(Object.keys(issue).sort()).toEqual(["message", "path"]);
    expect(issue.message).toMatch(/\S/);
    expect(typeof issue.path).toBe("string");
    expect(issue.path).not.toBe("(root)");
    // The path starts with a field the input has, or a field the contract requires (keys may contain dots).
    const fields = [...Object.keys(input), ...SCHEMA_FIELDS];
    expect({ path: issue.path, namesAField: fields.some((f) => issue.path === f || issue.path.startsWith(`${f}.`)) }).toEqual({
      path: issue.path,
      namesAField: true,
    });
  }
}

// ---------------------------------------------------------------------------
// Generators of valid requests, following the documented bounds exactly.
// ---------------------------------------------------------------------------

/** Any single UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** One character (code point): a BMP unit, a lone surrogate, or an astral character (two code units). */
const codePoint = fc.oneof(
  codeUnit,
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
);
/** A string of exactly `min..max` code units, with the boundary lengths as likely as any other. */
const stringOfLength = (min: number, max: number, unit: fc.Arbitrary<string> = codeUnit) =>
  fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max })).chain((n) => fc.string({ unit, minLength: n, maxLength: n }));

const boundedInt = ({ min, max }: { min: number; max: number }) => fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));

const skuChar = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
const validSku = stringOfLength(1, 32, skuChar);
// Adjacent lone surrogates can pair up into one character, which only makes a valid id shorter.
const validCorrelationId = stringOfLength(DOC.correlationId.min, DOC.correlationId.max, codePoint);
const validItemArb = fc.record(
  { sku: validSku, quantity: boundedInt(DOC.quantity), unitPriceCents: boundedInt(DOC.unitPriceCents) },
  { noNullPrototype: true },
);
const validItems = fc.oneof(
  fc.array(validItemArb, { minLength: 1, maxLength: 5 }),
  fc.array(validItemArb, { minLength: 1, maxLength: DOC.items.max }),
  fc.array(validItemArb, { minLength: DOC.items.max, maxLength: DOC.items.max }),
);

const validQuote = fc.record(
  {
    correlationId: validCorrelationId,
    operation: fc.constant("quote" as const),
    items: validItems,
    currency: fc.constantFrom(...DOC.currencies),
  },
  { requiredKeys: ["operation", "items"], noNullPrototype: true },
);
const validFail = fc.record(
  { correlationId: validCorrelationId, operation: fc.constant("fail" as const) },
  { requiredKeys: ["operation"], noNullPrototype: true },
);
const validSleep = fc.record(
  { correlationId: validCorrelationId, operation: fc.constant("sleep" as const), milliseconds: boundedInt(DOC.milliseconds) },
  { requiredKeys: ["operation", "milliseconds"], noNullPrototype: true },
);
const validRequest: fc.Arbitrary<Record<string, unknown>> = fc.oneof(validQuote, validFail, validSleep);

// ---------------------------------------------------------------------------
// Generators of requests with exactly one thing wrong, each with the path it must be reported at.
// ---------------------------------------------------------------------------

interface Broken {
  readonly input: Record<string, unknown>;
  readonly path: string;
  readonly what: string;
}

/** Values of the wrong JSON type for a field of type `kind`. */
const wrongType = (kind: "string" | "number" | "array") =>
  fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
    ...(kind === "string" ? [] : [fc.string()]),
    ...(kind === "number" ? [] : [fc.double()]),
    ...(kind === "array" ? [] : [fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })]),
  );

const notAnInteger = fc.double({ noNaN: true, noInteger: true });
const justOutside = ({ min, max }: { min: number; max: number }) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(min - 1, max + 1), weight: 2 },
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: min - 1 }),
    fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER }),
  );
const badNumber = (bounds: { min: number; max: number }) =>
  fc.oneof(
    { arbitrary: justOutside(bounds), weight: 3 },
    notAnInteger,
    fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2),
    wrongType("number"),
  );

const badSku = fc.oneof(
  fc.constant(""),
  stringOfLength(33, 40, skuChar),
  // One character outside A-Z, 0-9, - somewhere in an otherwise valid sku.
  fc
    .tuple(
      stringOfLength(0, 15, skuChar),
      fc.oneof(fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz_. +/:\u00e9\u0000\n"), codeUnit).filter((c) => !/[A-Z0-9-]/.test(c)),
      stringOfLength(0, 15, skuChar),
    )
    .map(([a, c, b]) => a + c + b),
  wrongType("string"),
);
const badCorrelationId = fc.oneof(
  fc.constant(""),
  stringOfLength(129, 300, codePoint).filter((s) => charCount(s) > DOC.correlationId.max),
  wrongType("string"),
);
const badCurrency = fc.oneof(
  fc.string().filter((s) => !(DOC.currencies as readonly string[]).includes(s)),
  fc.constantFrom("eur", "Eur", "EUR ", "JPY", "€"),
  wrongType("string"),
);
const unknownKey = (known: readonly string[]) =>
  fc
    .oneof(fc.constantFrom("__proto__", "constructor", "toString", "Operation", "correlationID", "item"), fc.string())
    .filter((k) => !known.includes(k));

/** Sets `key` to `value` as an own, enumerable data property, even for `__proto__`. */
function withField<T extends Record<string, unknown>>(base: T, key: string, value: unknown): T {
  const copy = { ...base };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}
function without<T extends Record<string, unknown>>(base: T, key: string): T {
  const copy = { ...base };
  delete copy[key];
  return copy;
}

const brokenTopLevel: fc.Arbitrary<Broken> = fc.oneof(
  // correlationId, on any operation
  fc
    .tuple(validRequest, badCorrelationId)
    .map(([r, v]) => ({ input: withField(r, "correlationId", v), path: "correlationId", what: "bad correlationId" })),
  // operation: unknown, wrong type, missing
  fc
    .tuple(
      validRequest,
      fc.oneof(
        fc.string().filter((s) => !Object.hasOwn(ALLOWED_KEYS, s)),
        fc.constantFrom("Quote", "QUOTE", " quote"),
        wrongType("string"),
      ),
    )
    .map(([r, v]) => ({ input: withField(r, "operation", v), path: "operation", what: "bad operation" })),
  validRequest.map((r) => ({ input: without(r, "operation"), path: "operation", what: "missing operation" })),
  // an unknown extra field on any operation
  validRequest.chain((r) =>
    fc
      .tuple(unknownKey(ALLOWED_KEYS[r.operation as string]), fc.jsonValue({ maxDepth: 2 }))
      .map(([k, v]) => ({ input: withField(r, k, v), path: k, what: `unknown field ${JSON.stringify(k)}` })),
  ),
  // quote: items empty, too many, wrong type, missing
  validQuote.map((r) => ({ input: { ...r, items: [] }, path: "items", what: "no items" })),
  fc
    .tuple(validQuote, fc.array(validItemArb, { minLength: DOC.items.max + 1, maxLength: DOC.items.max + 20 }))
    .map(([r, items]) => ({ input: { ...r, items }, path: "items", what: "too many items" })),
  fc.tuple(validQuote, wrongType("array")).map(([r, v]) => ({ input: { ...r, items: v }, path: "items", what: "items not an array" })),
  validQuote.map((r) => ({ input: without(r, "items"), path: "items", what: "missing items" })),
  // quote: currency
  fc.tuple(validQuote, badCurrency).map(([r, v]) => ({ input: { ...r, currency: v }, path: "currency", what: "bad currency" })),
  // sleep: milliseconds
  fc
    .tuple(validSleep, badNumber(DOC.milliseconds))
    .map(([r, v]) => ({ input: { ...r, milliseconds: v }, path: "milliseconds", what: "bad milliseconds" })),
  validSleep.map((r) => ({ input: without(r, "milliseconds"), path: "milliseconds", what: "missing milliseconds" })),
);

/** One item of a valid quote changed in exactly one way. */
const brokenItem: fc.Arbitrary<Broken> = validQuote.chain((quote) => {
  const items = quote.items;
  return fc.tuple(fc.nat({ max: items.length - 1 }), fc.constantFrom(...ITEM_KEYS)).chain(([index, field]) => {
    const bad: fc.Arbitrary<{ value: unknown; path: string; what: string } | { remove: true; path: string; what: string }> =
      field === "sku"
        ? badSku.map((value) => ({ value, path: `items.${index}.sku`, what: "bad sku" }))
        : badNumber(field === "quantity" ? DOC.quantity : DOC.unitPriceCents).map((value) => ({
            value,
            path: `items.${index}.${field}`,
            what: `bad ${field}`,
          }));
    const mutation = fc.oneof(
      bad,
      fc.constant({ remove: true as const, path: `items.${index}.${field}`, what: `missing ${field}` }),
      fc
        .tuple(unknownKey(ITEM_KEYS), fc.jsonValue({ maxDepth: 1 }))
        .map(([key, value]) => ({ value, key, path: `items.${index}.${key}`, what: `unknown item field ${JSON.stringify(key)}` })),
      wrongType("array")
        .filter((v) => !isPlainObject(v))
        .map((value) => ({ value, whole: true, path: `items.${index}`, what: "item not an object" })),
    );
    return mutation.map((m) => {
      const item = items[index] as Record<string, unknown>;
      let changed: unknown;
      if ("remove" in m) changed = without(item, field);
      else if ("whole" in m) changed = m.value;
      else if ("key" in m) changed = withField(item, m.key as string, m.value);
      else changed = withField(item, field, m.value);
      const newItems = items.map((it, i) => (i === index ? changed : it));
      return { input: { ...quote, items: newItems }, path: m.path, what: m.what };
    });
  });
});

/** Objects that look like requests: known keys with good or arbitrary values, sometimes extra keys. */
const mixedFields: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      correlationId: fc.oneof(validCorrelationId, badCorrelationId, fc.jsonValue({ maxDepth: 1 })),
      operation: fc.oneof(fc.constantFrom("quote", "fail", "sleep"), fc.jsonValue({ maxDepth: 1 })),
      items: fc.oneof(
        validItems,
        fc.array(fc.oneof(validItemArb, fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      currency: fc.oneof(fc.constantFrom(...DOC.currencies), badCurrency),
      milliseconds: fc.oneof(boundedInt(DOC.milliseconds), badNumber(DOC.milliseconds)),
    },
    { requiredKeys: [], noNullPrototype: true },
  )
  .chain((base) =>
    fc
      .dictionary(fc.oneof(fc.constantFrom("__proto__", "constructor", "x"), fc.string()), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 1 })
      .map((extra) => Object.entries(extra).reduce<Record<string, unknown>>((acc, [k, v]) => withField(acc, k, v), base)),
  );

/** Request-like objects of every kind: valid, wrong in one way, or a free mix of known and unknown fields. */
const requestLike: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  validRequest,
  brokenTopLevel.map((b) => b.input),
  brokenItem.map((b) => b.input),
  { arbitrary: mixedFields, weight: 2 },
);

/** What Lambda would actually deliver: the value after a JSON round trip (own `__proto__` keys survive JSON.parse). */
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? "null");

// ---------------------------------------------------------------------------

describe("validateCalleeInput (property-based)", () => {
  it("never throws on any JSON value and answers exactly as the documented contract says", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (input) => {
        const result = validateCalleeInput(input);
        const expected = documentedParse(input);
        if (expected === undefined) expectDocumentedRejection(input, result);
        else expect(result).toStrictEqual({ ok: true, value: expected });
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws on request-like objects (known and unknown keys, __proto__, good and bad values) and agrees with the contract", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.boolean(), requestLike, (roundTrip, raw) => {
        const input = roundTrip ? viaJson(raw) : raw;
        const result = validateCalleeInput(input);
        const expected = documentedParse(input);
        if (expected === undefined) expectDocumentedRejection(input, result);
        else {
          accepted += 1;
          expect(result).toStrictEqual({ ok: true, value: expected });
        }
      }),
      { numRuns: 1000 },
    );
    // The generator must exercise both answers, or the property says little.
    expect(accepted).toBeGreaterThan(100);
  });

  it("never throws on arbitrary JavaScript values (not only JSON) and rejects them in the documented shape", () => {
    const anything = anyJavaScriptValue(4);
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          anything.map((v) => ({ operation: "quote", items: v })),
          anything.map((v) => ({ operation: "sleep", milliseconds: v })),
        ),
        (input) => {
          const result = validateCalleeInput(input);
          if (documentedParse(input) === undefined) {
            expect(result.ok).toBe(false);
            if (!result.ok)
              for (const issue of result.issues) expect(issue).toEqual({ path: expect.any(String), message: expect.stringMatching(/\S/) });
          } else {
            expect(result.ok).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("accepts every request built to the documented bounds, parsed to the input plus the EUR default", () => {
    fc.assert(
      fc.property(validRequest, fc.boolean(), (request, roundTrip) => {
        const input = roundTrip ? (viaJson(request) as Record<string, unknown>) : request;
        const expected = request.operation === "quote" && request.currency === undefined ? { ...request, currency: "EUR" } : request;
        expect(validateCalleeInput(input)).toStrictEqual({ ok: true, value: expected });
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects a request with exactly one top-level thing wrong, naming exactly that field", () => {
    fc.assert(
      fc.property(brokenTopLevel, ({ input, path, what }) => {
        const result = validateCalleeInput(input);
        expect({ what, ok: result.ok }).toEqual({ what, ok: false });
        if (result.ok) return;
        // Exactly one field is named (zod may report two problems of it, e.g. "not an integer" and "too big").
        expect({ what, paths: [...new Set(result.issues.map((i) => i.path))] }).toEqual({ what, paths: [path] });
        expect(result.issues[0].message).toMatch(/\S/);
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects a quote with exactly one item field wrong, naming exactly items.<i>.<field>", () => {
    fc.assert(
      fc.property(brokenItem, ({ input, path, what }) => {
        const result = validateCalleeInput(input);
        expect({ what, ok: result.ok }).toEqual({ what, ok: false });
        if (result.ok) return;
        // Exactly one field is named (zod may report two problems of it, e.g. "not an integer" and "too big").
        expect({ what, paths: [...new Set(result.issues.map((i) => i.path))] }).toEqual({ what, paths: [path] });
      }),
      { numRuns: 1000 },
    );
  });

  it("counts the correlationId's 1..128 characters as code points, as zod does", () => {
    const astral = "\u{1F600}"; // one character, two UTF-16 code units
    expect(validateCalleeInput({ operation: "fail", correlationId: astral.repeat(128) })).toEqual({
      ok: true,
      value: { operation: "fail", correlationId: astral.repeat(128) },
    });
    expect(validateCalleeInput({ operation: "fail", correlationId: astral.repeat(129) })).toMatchObject({
      ok: false,
      issues: [{ path: "correlationId" }],
    });
    expect(validateCalleeInput({ operation: "fail", correlationId: "\ud83d".repeat(129) })).toMatchObject({
      ok: false,
      issues: [{ path: "correlationId" }],
    });
  });

  it("copes with deep nesting, huge strings and huge numbers without throwing", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 50_000; i++) deep = [deep];
    let deepObject: unknown = {};
    for (let i = 0; i < 50_000; i++) deepObject = { items: deepObject };
    const huge = "A".repeat(5_000_000);
    const cases: [unknown, string][] = [
      [{ operation: "quote", items: deep }, "items.0"],
      [{ operation: "quote", items: [{ sku: deep, quantity: 1, unitPriceCents: 1 }] }, "items.0.sku"],
      [{ operation: "fail", nested: deepObject }, "nested"],
      [{ operation: "fail", correlationId: deep }, "correlationId"],
      [{ operation: "quote", items: [{ sku: huge, quantity: 1, unitPriceCents: 1 }] }, "items.0.sku"],
      [{ operation: "fail", correlationId: huge }, "correlationId"],
      [{ operation: huge }, "operation"],
      [{ operation: "quote", items: [{ sku: "A", quantity: 1e308, unitPriceCents: 1 }] }, "items.0.quantity"],
      [{ operation: "quote", items: [{ sku: "A", quantity: 1, unitPriceCents: Number.MAX_SAFE_INTEGER + 2 }] }, "items.0.unitPriceCents"],
      [{ operation: "sleep", milliseconds: Number.POSITIVE_INFINITY }, "milliseconds"],
      [{ operation: "sleep", milliseconds: Number.NaN }, "milliseconds"],
      [{ operation: "quote", items: Array.from({ length: 100_000 }, () => ({ sku: "A", quantity: 1, unitPriceCents: 1 })) }, "items"],
    ];
    for (const [input, path] of cases) {
      const result = validateCalleeInput(input);
      expect(result.ok).toBe(false);
      if (!result.ok) expect([...new Set(result.issues.map((i) => i.path))]).toEqual([path]);
    }
  });
});

// ---------------------------------------------------------------------------
// The handler is the callee's real entry point: it must answer every event, never throw
// (apart from the documented `fail` operation), and answer bad input in the documented shape.
// ---------------------------------------------------------------------------

describe("callee handler (property-based)", () => {
  const CALLEE_FN_ARN = `arn:aws:lambda:eu-central-1:${CALLEE_ACCOUNT}:function:cross-account-callee`;
  const servedBy = { functionArn: CALLEE_FN_ARN, accountId: CALLEE_ACCOUNT };
  let logs: CapturedLogs;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  const salvaged = (event: unknown): string | undefined => {
    if (!isPlainObject(event) && !Array.isArray(event)) return undefined;
    const cid = (event as Record<string, unknown>).correlationId;
    return typeof cid === "string" && charCount(cid) >= 1 && charCount(cid) <= 128 ? cid : undefined;
  };

  it("answers every event as documented: success envelope, VALIDATION_FAILED envelope, or the DemoFailure of `fail`", async () => {
    const sleep = jest.fn(async () => undefined);
    const handler = createCalleeHandler({ sleep });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 4 }), requestLike, validRequest), async (event) => {
        n += 1;
        const awsRequestId = `callee-req-${n}`;
        const context = fakeContext({ invokedFunctionArn: CALLEE_FN_ARN, awsRequestId });
        const expected = documentedParse(event);
        let response: CalleeResponse;
        try {
          response = await handler(event, context);
        } catch (err) {
          // Only the documented demo failure may escape, and only for a valid `fail` request.
          expect(expected?.operation).toBe("fail");
          expect(err).toBeInstanceOf(DemoFailure);
          return;
        }
        if (expected === undefined) {
          const validation = validateCalleeInput(event);
          expect(validation.ok).toBe(false);
          expect(response).toStrictEqual({
            ok: false,
            error: { code: "VALIDATION_FAILED", issues: validation.ok ? [] : validation.issues },
            correlationId: salvaged(event) ?? awsRequestId,
            servedBy,
          });
          expectDocumentedRejection(event, validation);
          return;
        }
        expect(expected.operation).not.toBe("fail");
        const result =
          expected.operation === "quote"
            ? computeQuote(expected)
            : { sleptMs: expected.operation === "sleep" ? expected.milliseconds : -1 };
        expect(response).toStrictEqual({ ok: true, result, correlationId: expected.correlationId ?? awsRequestId, servedBy });
      }),
      { numRuns: 400 },
    );
    // Logs are one JSON line per invocation, whatever the input.
    expect(logs.entries()).toHaveLength(n);
  });
});

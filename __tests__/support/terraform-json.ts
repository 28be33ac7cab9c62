/** Reading synthesized Terraform JSON in tests: as the text Testing.synth returns, or already parsed. */
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const parsed = (stack: string | Json): Json => (typeof stack === "string" ? JSON.parse(stack) : stack);

/** All resources of one type in a stack, keyed by logical id. */
export function resourcesOf(stack: string | Json, type: string): Record<string, Json> {
  return (parsed(stack).resource ?? {})[type] ?? {};
}

/** The one resource of `type` in a stack (fails loudly when there are none or several). */
export function onlyResource(stack: string | Json, type: string): Json {
  const all = Object.values(resourcesOf(stack, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** Every resource of a stack with its type and logical id. */
export function allResources(stack: string | Json): { type: string; id: string; body: Json }[] {
  const out: { type: string; id: string; body: Json }[] = [];
  for (const [type, byId] of Object.entries<Record<string, Json>>(parsed(stack).resource ?? {})) {
    for (const [id, body] of Object.entries(byId)) out.push({ type, id, body });
  }
  return out;
}

// Loaded before main.ts by `make bench` to measure what importing the @cdktf/provider-aws barrel
// costs a synth: the barrel requires every one of the provider's ~1,500 resource classes.
// eslint-disable-next-line @typescript-eslint/no-require-imports, no-undef -- a plain CommonJS preload, by design
require("@cdktf/provider-aws");

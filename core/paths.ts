import * as path from "path";

/** The project root: lambda-src/, build/ and cdktf.out/ live here. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

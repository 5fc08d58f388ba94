/**
 * cdktf records, for every token it creates (each reference, function call, conditional),
 * the whole JavaScript call stack at that point, at any depth, to quote it should the token
 * later fail to resolve. A notebook stack creates about 330 tokens, so a team of 500 on a
 * platform kept 3.3 million stack lines: capturing them was a quarter of its synth time and
 * most of its memory (37.7 s and 1,286 MiB with them, 24.1 s and 750 MiB without, the same
 * output; `npm run bench` measures it). The app skips them unless NOTEBOOK_TOKEN_STACKS=1,
 * which a developer chasing a resolution error sets to get them back.
 *
 * The capture is a function of cdktf's private module tokens/private/stack-trace, which its
 * classes call through the module's exports at each token's creation: replacing it there
 * replaces it for all of them. A cdktf without that module is left as it is.
 */
export function skipTokenCreationStacks(env: NodeJS.ProcessEnv): boolean {
  if (env.NOTEBOOK_TOKEN_STACKS === "1") return false;
  let module: { captureStackTrace?: unknown };
  try {
    module = require("cdktf/lib/tokens/private/stack-trace");
  } catch {
    return false;
  }
  if (typeof module.captureStackTrace !== "function") return false;
  module.captureStackTrace = () => [];
  return true;
}

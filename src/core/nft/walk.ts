/**
 * The one chain walker of netfilter's rule languages: a packet enters a base chain and runs its rules
 * in order; a rule may let it continue, end the walk with a verdict, `jump` to a chain (pushing where
 * to come back), `goto` a chain (without pushing), or `return` to where the last jump came from. The
 * end of a chain is an implicit `return`; the end (or a `return`) of the base chain is its policy,
 * which in every ruleset podnet renders is accept. This is the semantics of nftables
 * (netfilter's nft_do_chain: NFT_JUMP / NFT_GOTO / NFT_RETURN, jumpstack) and of iptables
 * (ipt_do_table: XT_RETURN, a jump target pushes the rule after it).
 *
 * The walker knows nothing of what a rule matches: each evaluator (proxy/nft-eval.ts for nftables,
 * proxy/ipt-eval.ts for iptables) supplies `step`, which evaluates the rule at one index and says what
 * the walk does next.
 */

/** A verdict that ends a walk. `accept` ends only this hook's base chain; drop and reject end the packet. */
export type Verdict = "accept" | "drop" | "reject";

/**
 * What one rule tells the walker:
 * - `continue`: on to the next rule;
 * - `verdict`: the walk ends (`rule` is the rule's text, reported for drop and reject);
 * - `jump`: into `chain`, coming back after this rule — or, with `resume`, at index `resume` of the
 *   current chain (a rule that decided for a run of rules, as iptables' statistic runs do);
 * - `goto`: into `chain`, without coming back here;
 * - `return`: back to where the last jump came from (at the base chain: its policy).
 */
export type Flow =
  | { kind: "continue" }
  | { kind: "verdict"; verdict: Verdict; rule: string }
  | { kind: "jump"; chain: string; resume?: number }
  | { kind: "goto"; chain: string }
  | { kind: "return" };

/** Where a walk ended: accept unless a rule dropped or rejected the packet (`by`: that rule). */
export interface WalkOutcome {
  verdict: Verdict;
  by?: string;
}

/** The most rules one walk may run before it is declared a loop (a ruleset jumping in a circle). */
export const WALK_LIMIT = 10_000;

/**
 * Runs the rules from base chain `start` until a verdict or the end of the base chain. `rulesOf`
 * gives a chain's rules (undefined: no such chain, an error); `step` evaluates the rule at `index` of
 * `rules` (it may look at the rules after it). A drop or reject is written to `out`; accept leaves
 * `out` as it was. `tool` names the rule language in errors ("nft", "iptables").
 *
 * Throws on a jump to a missing chain and on a loop (more than WALK_LIMIT rules): both are faults of
 * the rendered rules, never of user input.
 */
export function walkChains<R>(
  start: string,
  rulesOf: (chain: string) => readonly R[] | undefined,
  step: (rules: readonly R[], index: number, chain: string) => Flow,
  out: WalkOutcome,
  tool: string,
): void {
  const stack: { chain: string; index: number }[] = [];
  let chain = start;
  let rules = rulesOf(chain);
  if (!rules) throw new Error(`${tool}: no chain ${chain}`);
  let index = 0;
  for (let guard = 0; guard < WALK_LIMIT; guard++) {
    if (index >= rules.length) {
      const back = stack.pop();
      if (!back) return; // the end of the base chain: its policy, accept
      chain = back.chain;
      index = back.index;
      rules = rulesOf(chain)!;
      continue;
    }
    const flow = step(rules, index, chain);
    switch (flow.kind) {
      case "continue":
        index++;
        continue;
      case "verdict":
        if (flow.verdict !== "accept") {
          out.verdict = flow.verdict;
          out.by = flow.rule;
        }
        return;
      case "return": {
        const back = stack.pop();
        if (!back) return;
        chain = back.chain;
        index = back.index;
        rules = rulesOf(chain)!;
        continue;
      }
      case "jump":
        stack.push({ chain, index: flow.resume ?? index + 1 });
        break;
      case "goto":
        break;
    }
    chain = flow.chain;
    const next = rulesOf(chain);
    if (!next) throw new Error(`${tool}: no chain ${chain}`);
    rules = next;
    index = 0;
  }
  throw new Error(`${tool}: rule loop`);
}

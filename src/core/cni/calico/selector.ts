/**
 * Calico's selector language, as an IPPool's `nodeSelector` and `namespaceSelector` use it
 * (libcalico-go lib/selector: tokenizer/tokenizer.go and parser/parser.go, semantics in parser/ast.go).
 *
 *   selector := or ; or := and ("||" and)* ; and := op ("&&" op)*
 *   op := "!"* ( "all()" | "has(" label ")" | "(" or ")"
 *              | label ("==" | "!=" | "contains" | "starts with" | "ends with") string
 *              | label ("in" | "not in") "{" [string ("," string)*] "}" )
 *
 * Labels are made of letters, digits and `_ . / -` (at most 512 characters); strings are in single or
 * double quotes, without escapes. The empty selector matches everything, as `all()` does. `!=` and
 * `not in` match a label that is absent, as Calico's evaluator does. `global()` is refused: Calico's
 * CRD rejects it in IPPool selectors.
 */
import type { Labels } from "../../model/k8s.ts";

/** A compiled selector: true when the labels match. */
export type CalicoSelector = (labels: Labels | undefined) => boolean;

/** `{ ok: true, match }`, or `{ ok: false, error }` saying what is wrong and where (character offset). */
export type SelectorParse = { ok: true; match: CalicoSelector } | { ok: false; error: string };

type Tok =
  | { k: "(" | ")" | "{" | "}" | "," | "==" | "!=" | "!" | "&&" | "||" | "all" | "eof"; at: number }
  | { k: "has" | "label" | "string"; v: string; at: number }
  | { k: "contains" | "starts" | "ends" | "in" | "notin"; at: number };

const MAX_LABEL = 512;
const isIdent = (c: string) => /[A-Za-z0-9_./-]/.test(c);

function tokenize(src: string): Tok[] | string {
  const out: Tok[] = [];
  let i = 0;
  const ws = () => {
    while (i < src.length && (src[i] === " " || src[i] === "\t")) i++;
  };
  const ident = (): string | undefined => {
    const start = i;
    while (i < src.length && isIdent(src[i])) i++;
    return i > start ? src.slice(start, i) : undefined;
  };
  const word = (w: string): boolean => {
    if (!src.startsWith(w, i)) return false;
    const next = src[i + w.length];
    if (next !== undefined && isIdent(next)) return false;
    i += w.length;
    return true;
  };
  for (;;) {
    ws();
    const at = i;
    if (i >= src.length) {
      out.push({ k: "eof", at });
      return out;
    }
    const c = src[i];
    const last = out[out.length - 1]?.k;
    if ("(){},".includes(c)) {
      out.push({ k: c as "(", at });
      i++;
    } else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) return `unterminated string starting at character ${at + 1}`;
      out.push({ k: "string", v: src.slice(i + 1, end), at });
      i = end + 1;
    } else if (c === "=") {
      if (src[i + 1] !== "=") return `expected == at character ${at + 1}`;
      out.push({ k: "==", at });
      i += 2;
    } else if (c === "!") {
      if (src[i + 1] === "=") {
        out.push({ k: "!=", at });
        i += 2;
      } else {
        out.push({ k: "!", at });
        i++;
      }
    } else if (c === "&" || c === "|") {
      if (src[i + 1] !== c) return `expected ${c}${c} at character ${at + 1}`;
      out.push({ k: c === "&" ? "&&" : "||", at });
      i += 2;
    } else if (last === "label") {
      // After a label, an operator word.
      if (word("contains")) out.push({ k: "contains", at });
      else if (src.startsWith("starts", i) && /^starts[ \t]*with(?![A-Za-z0-9_./-])/.test(src.slice(i))) {
        i += /^starts[ \t]*with/.exec(src.slice(i))![0].length;
        out.push({ k: "starts", at });
      } else if (src.startsWith("ends", i) && /^ends[ \t]*with(?![A-Za-z0-9_./-])/.test(src.slice(i))) {
        i += /^ends[ \t]*with/.exec(src.slice(i))![0].length;
        out.push({ k: "ends", at });
      } else if (/^not[ \t]*in(?![A-Za-z0-9_./-])/.test(src.slice(i))) {
        i += /^not[ \t]*in/.exec(src.slice(i))![0].length;
        out.push({ k: "notin", at });
      } else if (word("in")) out.push({ k: "in", at });
      else {
        const prev = out[out.length - 1] as { v: string };
        return `expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "${prev.v}" at character ${at + 1}`;
      }
    } else if (src.startsWith("has(", i)) {
      i += 4;
      ws();
      const id = ident();
      if (id === undefined) return `expected a label inside has( at character ${i + 1}`;
      ws();
      if (src[i] !== ")") return `no closing ')' after has( at character ${i + 1}`;
      i++;
      out.push({ k: "has", v: id, at });
    } else if (src.startsWith("all(", i)) {
      i += 4;
      ws();
      if (src[i] !== ")") return `no closing ')' after all( at character ${i + 1}`;
      i++;
      out.push({ k: "all", at });
    } else if (src.startsWith("global(", i)) {
      return "global() is not valid in an IPPool selector (Calico's CRD rejects it)";
    } else {
      const id = ident();
      if (id === undefined) return `unexpected character '${c}' at character ${at + 1}`;
      if (id.length > MAX_LABEL)
        return `label too long (at most ${MAX_LABEL} characters): ${id.slice(0, 20)}…`;
      out.push({ k: "label", v: id, at });
    }
  }
}

/**
 * Parses and compiles a Calico selector. Never throws: a selector Calico would refuse gives
 * `{ ok: false, error }` with the reason and the character where it was found.
 */
export function parseCalicoSelector(src: string): SelectorParse {
  const toks = tokenize(src);
  if (typeof toks === "string") return { ok: false, error: toks };
  let p = 0;
  const peek = () => toks[p];
  const fail = (what: string): never => {
    const t = peek();
    throw new SelectorError(
      t.k === "eof" ? `${what}, found the end of the selector` : `${what} at character ${t.at + 1}`,
    );
  };
  const str = (): string => {
    const t = peek();
    if (t.k !== "string") fail("expected a quoted string");
    p++;
    return (t as { v: string }).v;
  };
  const orExpr = (): CalicoSelector => {
    const parts = [andExpr()];
    while (peek().k === "||") {
      p++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0] : (l) => parts.some((f) => f(l));
  };
  const andExpr = (): CalicoSelector => {
    const parts = [op()];
    while (peek().k === "&&") {
      p++;
      parts.push(op());
    }
    return parts.length === 1 ? parts[0] : (l) => parts.every((f) => f(l));
  };
  const op = (): CalicoSelector => {
    let negated = false;
    while (peek().k === "!") {
      negated = !negated;
      p++;
    }
    const f = term();
    return negated ? (l) => !f(l) : f;
  };
  const term = (): CalicoSelector => {
    const t = peek();
    p++;
    switch (t.k) {
      case "all":
        return () => true;
      case "has": {
        const key = t.v;
        return (l) => l !== undefined && Object.hasOwn(l, key);
      }
      case "(": {
        const inner = orExpr();
        if (peek().k !== ")") fail("expected ')'");
        p++;
        return inner;
      }
      case "label": {
        const key = t.v;
        const o = peek();
        p++;
        const get = (l: Labels | undefined) => (l && Object.hasOwn(l, key) ? l[key] : undefined);
        switch (o.k) {
          case "==": {
            const v = str();
            return (l) => get(l) === v;
          }
          case "!=": {
            const v = str();
            return (l) => get(l) !== v;
          }
          case "contains": {
            const v = str();
            return (l) => get(l)?.includes(v) ?? false;
          }
          case "starts": {
            const v = str();
            return (l) => get(l)?.startsWith(v) ?? false;
          }
          case "ends": {
            const v = str();
            return (l) => get(l)?.endsWith(v) ?? false;
          }
          case "in":
          case "notin": {
            if (peek().k !== "{") fail("expected '{'");
            p++;
            const set = new Set<string>();
            if (peek().k !== "}") {
              set.add(str());
              while (peek().k === ",") {
                p++;
                set.add(str());
              }
            }
            if (peek().k !== "}") fail("expected ',' or '}'");
            p++;
            if (o.k === "in")
              return (l) => {
                const v = get(l);
                return v !== undefined && set.has(v);
              };
            return (l) => {
              const v = get(l);
              return v === undefined || !set.has(v);
            };
          }
          default:
            p--;
            return fail(`expected an operator after label "${key}"`);
        }
      }
      default:
        p--;
        return fail("expected all(), has(label), a label comparison, '!' or '('");
    }
  };
  try {
    if (peek().k === "eof") return { ok: true, match: () => true };
    const match = orExpr();
    if (peek().k !== "eof") fail("unexpected content after the selector");
    return { ok: true, match };
  } catch (e) {
    if (e instanceof SelectorError) return { ok: false, error: e.message };
    throw e;
  }
}

class SelectorError extends Error {}

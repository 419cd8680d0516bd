// Label selectors with the grammar, validation and error texts of k8s.io/apimachinery/pkg/labels.
// Hand-written: the exact lexer behaviour (e.g. `a in ()`, `a=`) and messages matter to kubectl users
// and there is no maintained JS port.

import { ApiError } from "./types.js";
import { isQualifiedName, isValidLabelValue } from "./validation.js";
// ---------------------------------------------------------------------------------------------
// Label selectors

export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and de-duplicated (kube keeps a string set). Empty for exists / "!". */
  values: string[];
}

/** A conjunction of requirements; no requirements selects everything. */
export interface LabelSelector {
  requirements: LabelRequirement[];
}

type Tok =
  | "id"
  | "eos"
  | "!"
  | "!="
  | "("
  | ")"
  | ","
  | "="
  | "=="
  | ">"
  | "<"
  | "in"
  | "notin";

const isWs = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isSpecial = (c: string) => c === "=" || c === "!" || c === "(" || c === ")" || c === "," || c === ">" || c === "<";

function lex(text: string): Array<{ tok: Tok; lit: string }> {
  const out: Array<{ tok: Tok; lit: string }> = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (isWs(c)) {
      i++;
      continue;
    }
    if (isSpecial(c)) {
      // Greedy, like kube's scanSpecialSymbol: "!=" and "==" are single tokens.
      const two = text.slice(i, i + 2);
      if (two === "!=" || two === "==") {
        out.push({ tok: two, lit: two });
        i += 2;
      } else {
        out.push({ tok: c as Tok, lit: c });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < text.length && !isWs(text[j]!) && !isSpecial(text[j]!)) j++;
    const lit = text.slice(i, j);
    out.push({ tok: lit === "in" || lit === "notin" ? lit : "id", lit });
    i = j;
  }
  out.push({ tok: "eos", lit: "" });
  return out;
}

const binaryOperators = "in, notin, =, ==, !=, gt, lt";

class LabelParser {
  private pos = 0;
  constructor(private readonly toks: Array<{ tok: Tok; lit: string }>) {}

  /** In a "values" position the keywords in/notin are ordinary identifiers. */
  private peek(values: boolean) {
    const t = this.toks[this.pos]!;
    return values && (t.tok === "in" || t.tok === "notin") ? { tok: "id" as Tok, lit: t.lit } : t;
  }
  private next(values: boolean) {
    const t = this.peek(values);
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek(true);
      if (tok === "id" || tok === "!") {
        let r: LabelRequirement;
        try {
          r = this.parseRequirement();
        } catch (e) {
          throw new Error(`unable to parse requirement: ${(e as Error).message}`);
        }
        reqs.push(r);
        const t = this.next(true);
        if (t.tok === "eos") return reqs;
        if (t.tok === ",") {
          const t2 = this.peek(true);
          if (t2.tok !== "id" && t2.tok !== "!") throw new Error(`found '${t2.lit}', expected: identifier after ','`);
          continue;
        }
        throw new Error(`found '${t.lit}', expected: ',' or 'end of string'`);
      }
      if (tok === "eos") return reqs;
      throw new Error(`found '${lit}', expected: !, identifier, or 'end of string'`);
    }
  }

  private parseRequirement(): LabelRequirement {
    let op: LabelOperator | undefined;
    let t = this.next(true);
    if (t.tok === "!") {
      op = "!";
      t = this.next(true);
    }
    if (t.tok !== "id") throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErrs = isQualifiedName(key);
    // kube validates the key with a nil field path here, hence the literal "<nil>".
    if (keyErrs.length) throw new Error(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join("; ")}`);
    // "!key" takes no operator: whatever follows is rejected by the caller (kube's behaviour).
    if (op === "!") return newRequirement(key, "!", []);
    const la = this.peek(true).tok;
    if (la === "eos" || la === ",") return newRequirement(key, "exists", []);
    const opTok = this.next(false);
    switch (opTok.tok) {
      case "in":
      case "notin":
      case "=":
      case "==":
      case "!=":
        op = opTok.tok;
        break;
      case ">":
        op = "gt";
        break;
      case "<":
        op = "lt";
        break;
      default:
        throw new Error(`found '${opTok.lit}', expected: ${binaryOperators}`);
    }
    const values = op === "in" || op === "notin" ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, values);
  }

  private parseValues(): string[] {
    const open = this.next(true);
    if (open.tok !== "(") throw new Error(`found '${open.lit}' expected: '('`);
    const la = this.peek(true);
    if (la.tok === ")") {
      this.next(true);
      return [""];
    }
    if (la.tok !== "id" && la.tok !== ",") throw new Error(`found '${la.lit}', expected: ',', ')' or identifier`);
    const set = new Set<string>();
    for (;;) {
      const t = this.next(true);
      if (t.tok === "id") {
        set.add(t.lit);
        const t2 = this.peek(true);
        if (t2.tok === ",") continue;
        if (t2.tok === ")") break;
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      } else if (t.tok === ",") {
        // "(,", ",," and ",)" each stand for the empty value.
        if (set.size === 0) set.add("");
        const t2 = this.peek(true);
        if (t2.tok === ")") {
          set.add("");
          break;
        }
        if (t2.tok === ",") {
          this.next(true);
          set.add("");
        }
      } else {
        throw new Error(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
    const close = this.next(true);
    if (close.tok !== ")") throw new Error(`found '${close.lit}', expected: ')'`);
    return [...set];
  }

  private parseExactValue(): string[] {
    const la = this.peek(true);
    if (la.tok === "eos" || la.tok === ",") return [""];
    const t = this.next(true);
    if (t.tok === "id") return [t.lit];
    throw new Error(`found '${t.lit}', expected: identifier`);
  }
}

/** kube's labels.NewRequirement checks; throws an Error with kube's message (no prefix). */
function newRequirement(key: string, operator: LabelOperator, rawValues: string[]): LabelRequirement {
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join("; ")}`);
  const values = [...new Set(rawValues)].sort();
  const fmtVals = `[]string{${values.map((v) => JSON.stringify(v)).join(", ")}}`;
  switch (operator) {
    case "in":
    case "notin":
      if (values.length === 0) errs.push(`values: Invalid value: ${fmtVals}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1) errs.push(`values: Invalid value: ${fmtVals}: exact-match compatibility requires one single value`);
      break;
    case "exists":
    case "!":
      if (values.length !== 0) errs.push(`values: Invalid value: ${fmtVals}: values set must be empty for exists and does not exist`);
      break;
    case "gt":
    case "lt":
      if (values.length !== 1) errs.push(`values: Invalid value: ${fmtVals}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (!/^[+-]?\d+$/.test(v)) errs.push(`values[${i}]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
  }
  values.forEach((v, i) => {
    const m = isValidLabelValue(v);
    if (m.length) errs.push(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${m.join("; ")}`);
  });
  if (errs.length === 1) throw new Error(errs[0]);
  if (errs.length > 1) throw new Error(`[${errs.join(", ")}]`);
  return { key, operator, values };
}

/** Parse a `labelSelector` query parameter. Throws ApiError 400 BadRequest with kube's message. */
export function parseLabelSelector(text: string): LabelSelector {
  try {
    return { requirements: new LabelParser(lex(text)).parse() };
  } catch (e) {
    throw new ApiError(400, "BadRequest", (e as Error).message);
  }
}

export interface MetaLabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

/** metav1.LabelSelectorAsSelector. Throws ApiError 400 for invalid operators, keys or values. */
export function labelSelectorFromMeta(sel: MetaLabelSelector): LabelSelector {
  const reqs: LabelRequirement[] = [];
  try {
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push(newRequirement(k, "=", [v]));
    for (const expr of sel.matchExpressions ?? []) {
      const values = expr.values ?? [];
      let op: LabelOperator;
      switch (expr.operator) {
        case "In":
          op = "in";
          break;
        case "NotIn":
          op = "notin";
          break;
        case "Exists":
          op = "exists";
          break;
        case "DoesNotExist":
          op = "!";
          break;
        default:
          throw new Error(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
      }
      reqs.push(newRequirement(expr.key, op, values));
    }
  } catch (e) {
    throw new ApiError(400, "BadRequest", (e as Error).message);
  }
  return { requirements: reqs };
}

function toInt(s: string): bigint | undefined {
  return /^[+-]?\d+$/.test(s) ? BigInt(s) : undefined;
}

export function matchesLabelSelector(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of sel.requirements) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = has ? l[r.key]! : undefined;
    switch (r.operator) {
      case "=":
      case "==":
      case "in":
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case "!=":
      case "notin":
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
      case "gt":
      case "lt": {
        const a = v === undefined ? undefined : toInt(v);
        const b = toInt(r.values[0] ?? "");
        if (a === undefined || b === undefined) return false;
        if (r.operator === "gt" ? !(a > b) : !(a < b)) return false;
        break;
      }
    }
  }
  return true;
}

/** Canonical text form (kube's Selector.String(), requirements sorted by key). */
export function formatLabelSelector(sel: LabelSelector): string {
  return [...sel.requirements]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => {
      switch (r.operator) {
        case "exists":
          return r.key;
        case "!":
          return `!${r.key}`;
        case "in":
        case "notin":
          return `${r.key} ${r.operator} (${r.values.join(",")})`;
        case "gt":
          return `${r.key}>${r.values[0]}`;
        case "lt":
          return `${r.key}<${r.values[0]}`;
        default:
          return `${r.key}${r.operator}${r.values[0]}`;
      }
    })
    .join(",");
}

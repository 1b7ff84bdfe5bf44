/**
 * Single line where the policy says so: mid-line (policy 'auto') or always ('never'). A mid-line
 * multi-line completion survives under 'auto' only when it ends by matching the rest of the line,
 * so inserting it (replacing that rest) leaves the line's tail intact (Tabby, llama.vscode).
 */
import { allowsMultiline, isMidLine, lineSuffix, type Filter } from './context.js';

export const singleLine: Filter = (completion, ctx) => {
  if (allowsMultiline(ctx)) return completion;
  const nl = completion.indexOf('\n');
  if (nl < 0) return completion;
  const rest = lineSuffix(ctx).trim();
  if (ctx.policy === 'auto' && isMidLine(ctx) && completion.trimEnd().endsWith(rest)) return completion;
  return completion.slice(0, nl);
};

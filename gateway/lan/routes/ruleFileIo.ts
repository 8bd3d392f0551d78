import { existsSync, renameSync, writeFileSync } from 'node:fs';
import type { RuleFile } from '../../../rules/schema.ts';
import { readBoundedText } from '../../boundedRead.ts';
import type { LanContext } from '../context.ts';
import type { RuleProblem } from '../../../rules/compile.ts';
import type { RuleEdit } from '../../automation/ruleEdits.ts';

/** The rule file as the LAN routes read and write it: the same file the gateway watches. */
export function ruleFileIo(ctx: LanContext) {
  /** The file's text ('' when missing or unreadable: the watcher reports why in `problems`). */
  const read = () => {
    if (!existsSync(ctx.rulesFile)) return '';
    const r = readBoundedText(ctx.rulesFile);
    return r.ok ? r.text : '';
  };
  /** Writes a checked text atomically and activates it (the watcher then sees nothing new). */
  const write = async (text: string, data: RuleFile) => {
    const tmp = `${ctx.rulesFile}.tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, ctx.rulesFile);
    await ctx.ruleFile.activateChecked(text, data);
  };
  /**
   * Applies an edit, checks the result as a whole file, and (unless `dryRun`) writes and activates it.
   * Problems come back with file:line:column, as for a hand-edited file.
   */
  const editAndSave = async (
    edit: RuleEdit,
    dryRun = false,
  ): Promise<{ ok: true; text: string; data: RuleFile; unlocking: string[] } | { ok: false; notFound: boolean; problems: RuleProblem[] }> => {
    const edited = await ctx.rules.edit(read(), ctx.rulesFile, edit);
    if (!edited.ok) return edited;
    const checked = await ctx.rules.check(edited.text, ctx.rulesFile);
    if (!checked.ok) return { ok: false, notFound: false, problems: checked.problems };
    if (!dryRun) await write(edited.text, checked.data);
    return { ok: true, text: edited.text, data: checked.data, unlocking: checked.unlocking };
  };
  return { read, write, editAndSave };
}

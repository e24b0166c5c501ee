/**
 * The admin settings forms behind the Home's buttons, and how a submitted form becomes `/agent`
 * command text. The form only writes the command: the runner (commands/run.ts) checks who may run
 * it and audits it, exactly as when it is typed.
 */
import { TOOL_NAMES } from './access/policy.js';
import { parseCommand } from './commands/grammar.js';
import type { Scope } from './identity.js';
import type { Dialog, DialogInput } from './interactions.js';
import { dialogSchema } from './interactions.js';
import type { WorkspaceSettings } from './ports.js';
import type { CoreDeps } from './turn/deps.js';

/** The settings an admin changes from the Home; each is one form (the button's value). */
export const SETTINGS = ['agent', 'guests', 'tools', 'limits', 'budget', 'retention'] as const;
export type SettingKey = (typeof SETTINGS)[number];

export function isSettingKey(value: string): value is SettingKey {
  return (SETTINGS as readonly string[]).includes(value);
}

const onOff = [
  { value: 'on', label: 'On' },
  { value: 'off', label: 'Off' },
];
const CHANNEL_LABEL = 'Channel (#channel or its ID)';

function form(key: SettingKey, title: string, fields: DialogInput['fields'], intro?: string): Dialog {
  return dialogSchema.parse({ actionId: 'settings:save', value: key, title, submitLabel: 'Save', fields, ...(intro ? { intro } : {}) });
}

/** The form of one setting, filled with what is in force now. */
export function settingsForm(key: SettingKey, settings: WorkspaceSettings): Dialog {
  const n = (v: number | null) => (v === null ? undefined : String(v));
  switch (key) {
    case 'agent':
      return form('agent', 'Agent in a channel', [
        { name: 'channel', label: CHANNEL_LABEL, maxLength: 300 },
        { name: 'state', label: 'Agent', kind: 'select', options: onOff, initial: 'off' },
      ], 'While off, the agent answers nobody in that channel.');
    case 'guests':
      return form('guests', 'Guests', [
        { name: 'state', label: 'Guests and external users may use the agent', kind: 'select', options: onOff, initial: settings.guestsEnabled ? 'on' : 'off' },
      ]);
    case 'tools':
      return form('tools', 'Tools in a channel', [
        { name: 'channel', label: CHANNEL_LABEL, maxLength: 300 },
        { name: 'tool', label: 'Tool', kind: 'select', options: TOOL_NAMES.map((t) => ({ value: t, label: t })) },
        { name: 'rule', label: 'Rule', kind: 'select', options: [{ value: 'allow', label: 'Allow' }, { value: 'deny', label: 'Deny' }] },
      ]);
    case 'limits':
      return form('limits', 'Limits', [
        { name: 'rpm', label: 'Model requests per minute', optional: true, maxLength: 10, ...(n(settings.rpm) ? { initial: n(settings.rpm) } : {}) },
        { name: 'concurrency', label: 'Model calls at once', optional: true, maxLength: 10, ...(n(settings.concurrency) ? { initial: n(settings.concurrency) } : {}) },
      ], 'Leave a field empty to keep it as it is.');
    case 'budget':
      return form('budget', 'Budget', [
        { name: 'tokens', label: 'Tokens per day', maxLength: 12, ...(n(settings.dailyTokens) ? { initial: n(settings.dailyTokens) } : {}) },
      ]);
    case 'retention':
      return form('retention', 'Retention', [
        { name: 'days', label: 'Delete stored messages after (days, or off)', maxLength: 6, initial: settings.retentionDays === null ? 'off' : String(settings.retentionDays) },
      ]);
  }
}

/** Every form, for platforms that show them inline (Teams cards). */
export async function settingsForms(deps: CoreDeps, scope: Scope): Promise<Dialog[]> {
  const settings = await deps.turns.settings(scope);
  return SETTINGS.map((k) => settingsForm(k, settings));
}

/** `#C123`, `<#C123|name>` and a bare `C123` all name a channel. */
function channelToken(raw: string): string {
  const t = raw.trim();
  return t.startsWith('#') || t.startsWith('<#') ? t : `#${t}`;
}

/** One command per changed value, each with the field it came from (for errors). */
export type FormCommands = { ok: true; commands: { field: string; text: string }[] } | { ok: false; errors: Record<string, string> };

/** Writes the form's values as `/agent` commands, each checked by the grammar; bad input changes nothing. */
export function commandsOf(key: SettingKey, fields: Record<string, string>): FormCommands {
  const f = (name: string) => (fields[name] ?? '').trim();
  const wanted: { field: string; text: string }[] = [];
  const missing = (name: string) => ({ ok: false as const, errors: { [name]: 'Required.' } });
  switch (key) {
    case 'agent':
      if (!f('channel')) return missing('channel');
      wanted.push({ field: 'channel', text: `/agent agent ${f('state')} ${channelToken(f('channel'))}` });
      break;
    case 'guests':
      wanted.push({ field: 'state', text: `/agent guests ${f('state')}` });
      break;
    case 'tools':
      if (!f('channel')) return missing('channel');
      wanted.push({ field: 'channel', text: `/agent tools ${channelToken(f('channel'))} ${f('rule')} ${f('tool')}` });
      break;
    case 'limits':
      for (const name of ['rpm', 'concurrency']) if (f(name)) wanted.push({ field: name, text: `/agent limit ${name} ${f(name)}` });
      if (wanted.length === 0) return { ok: false, errors: { rpm: 'Give at least one number.' } };
      break;
    case 'budget':
      if (!f('tokens')) return missing('tokens');
      wanted.push({ field: 'tokens', text: `/agent budget tokens ${f('tokens').replace(/[,_\s]/g, '')}/day` });
      break;
    case 'retention':
      if (!f('days')) return missing('days');
      wanted.push({ field: 'days', text: `/agent retention ${f('days')}` });
      break;
  }
  const errors: Record<string, string> = {};
  for (const c of wanted) {
    const parsed = parseCommand(c.text);
    if (!parsed.ok) errors[c.field] = parsed.message.slice(0, 300);
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, commands: wanted };
}

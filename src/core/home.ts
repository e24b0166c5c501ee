/**
 * A person's own Home, platform-free: what Quorum is, their role, their notes, their usage this
 * week; for admins and owners also the workspace's settings, the channels with their own rules,
 * and today's and this month's usage and cost, with buttons (`settings:<setting>`) whose forms
 * (src/core/settings.ts) run the same command runner as `/agent …`. Slack draws it as the App
 * Home tab, Teams as an Adaptive Card in the 1:1 chat (PlatformPorts.home).
 */
import { roleOf } from './access/roles.js';
import { budgetAmount, budgetName, budgetsOf } from './budgets.js';
import { yourAccounts } from './commands/connections.js';
import { feedbackSummary } from './commands/format.js';
import type { ChannelRef, UserRef, WorkspaceRef } from './envelope.js';
import { atLeast, type Scope } from './identity.js';
import type { HomeSection, HomeView, UsageFigures } from './ports.js';
import { settingsForms, type SettingKey } from './settings-forms.js';
import { resolveRequester } from './turn/resolve.js';
import type { CoreDeps } from './turn/deps.js';

const NOTES_SHOWN = 5;
const NOTE_CHARS = 150;
const CHANNELS_SHOWN = 20;
const FEEDBACK_DAYS = 7;

const ABOUT: HomeSection = {
  id: 'about',
  title: 'Quorum',
  lines: [
    'One AI assistant for the whole organization. Mention it in a channel, message it directly, or open it in the assistant panel.',
    'In a channel it only uses what everyone there may see; your direct messages stay yours. `/agent help` lists the commands.',
  ],
  actions: [],
};

/** A UTC day as the usage ledger keys it. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function daysBefore(at: Date, days: number): Date {
  return new Date(at.getTime() - days * 86_400_000);
}

export function usageLine(u: UsageFigures): string {
  const tokens = u.inputTokens + u.outputTokens;
  return `${u.calls} model calls, ${tokens.toLocaleString('en-US')} tokens, $${(u.costMicroUsd / 1_000_000).toFixed(2)}`;
}

/** Builds one person's view; someone the platform no longer knows sees only what Quorum is. */
export async function homeView(deps: CoreDeps, workspace: WorkspaceRef, user: UserRef, now = new Date()): Promise<HomeView> {
  const { scope, principal, deleted } = await resolveRequester(deps, { workspace, user });
  if (deleted) return { role: 'external', admin: false, sections: [ABOUT], forms: [] };
  const role = roleOf(principal, workspace, deps.bootstrapAdmins);
  const admin = atLeast(role, 'admin');
  const [notes, week] = await Promise.all([
    deps.agent.store.recall(scope, principal.id, NOTES_SHOWN),
    deps.home?.usageSince(scope, utcDay(daysBefore(now, 6)), principal.id),
  ]);
  const sections: HomeSection[] = [
    ABOUT,
    { id: 'role', title: 'Your role', lines: [`You are ${role === 'admin' || role === 'owner' ? 'an' : 'a'} ${role} here.`], actions: [] },
    {
      id: 'notes',
      title: 'Your notes',
      lines: notes.length ? notes.map((n) => (n.content.length > NOTE_CHARS ? `${n.content.slice(0, NOTE_CHARS)}…` : n.content)) : ['No notes yet. Ask Quorum to remember something for you.'],
      actions: [],
    },
  ];
  if (week) sections.push({ id: 'usage', title: 'Your usage this week', lines: [usageLine(week)], actions: [] });
  const accounts = deps.connections ? await yourAccounts(deps, scope, principal.id, await deps.connections.list(scope, workspace)) : [];
  if (accounts.length) sections.push({ id: 'accounts', title: 'Your connected accounts', lines: accounts.slice(1), actions: [] });
  if (!admin) return { role, admin, sections, forms: [] };
  sections.push(...(await adminSections(deps, scope, now)));
  return { role, admin, sections, forms: await settingsForms(deps, scope) };
}

async function adminSections(deps: CoreDeps, scope: Scope, now: Date): Promise<HomeSection[]> {
  const settings = await deps.turns.settings(scope);
  const d = deps.limitDefaults;
  const own = (v: number | null, fallback: number | null | undefined) => (v !== null ? String(v) : `${fallback ?? 'none'} (default)`);
  // One action id per setting: Block Kit wants the buttons of one block to differ in action_id.
  const open = (key: SettingKey, label: string) => ({ actionId: `settings:${key}`, label, value: '' });
  const out: HomeSection[] = [
    {
      id: 'settings',
      title: 'Workspace settings',
      lines: [
        `Guests and external users: ${settings.guestsEnabled ? 'on' : 'off'}`,
        `Requests per minute: ${own(settings.rpm, d?.rpm)} · model calls at once: ${own(settings.concurrency, d?.concurrency)}`,
        ...budgetLines(settings, d?.dailyTokens),
        `Message retention: ${settings.retentionDays === null ? 'off' : `${settings.retentionDays} days`}`,
      ],
      actions: [open('agent', 'Agent in a channel'), open('guests', 'Guests'), open('tools', 'Tools'), open('limits', 'Limits'), open('budget', 'Budget'), open('retention', 'Retention')],
    },
  ];
  if (deps.home) {
    const rules = await deps.home.channelRules(scope, CHANNELS_SHOWN);
    out.push({
      id: 'channels',
      title: 'Channels with their own rules',
      lines: rules.length
        ? rules.map((r) => {
            const tools = Object.entries(r.tools).map(([t, ok]) => `${t} ${ok ? 'allowed' : 'denied'}`);
            return [`#${r.name ?? r.externalId}: agent ${r.agentEnabled ? 'on' : 'off'}`, ...tools].join(' · ');
          })
        : ['None: the agent is on everywhere it is invited, with every tool.'],
      actions: [],
    });
    const [today, month] = await Promise.all([
      deps.home.usageSince(scope, utcDay(now)),
      deps.home.usageSince(scope, `${utcDay(now).slice(0, 7)}-01`),
    ]);
    out.push({ id: 'spend', title: 'Usage and cost', lines: [`Today: ${usageLine(today)}`, `This month: ${usageLine(month)}`], actions: [] });
  }
  if (deps.feedback) {
    const week = await deps.feedback.summary(scope, daysBefore(now, FEEDBACK_DAYS));
    out.push({ id: 'feedback', title: 'Feedback on answers', lines: feedbackSummary(week, FEEDBACK_DAYS).split('\n'), actions: [] });
  }
  return out;
}

/** Shows (or refreshes) a person's Home where their platform has one; a no-op elsewhere. */
export async function refreshHome(deps: CoreDeps, workspace: WorkspaceRef, user: UserRef, place?: { channel?: ChannelRef; messageId?: string }): Promise<void> {
  const surface = deps.platforms[workspace.platform]?.home;
  if (!surface) return;
  await surface.show(workspace, user.id, await homeView(deps, workspace, user), place);
  // Not shown (no place for it yet): the person sees it the next time they ask for it.
}

/** The Home as text, for places without a Home surface (a command answer in Slack or the console). */
export function homeText(view: HomeView): string {
  return view.sections.map((s) => [`*${s.title}*`, ...s.lines].join('\n')).join('\n\n');
}

/** Every budget in force (tokens or dollars, day or month, workspace or per user), one line each. */
function budgetLines(settings: Parameters<typeof budgetsOf>[0], defaultDailyTokens: number | null | undefined): string[] {
  const budgets = budgetsOf(settings, defaultDailyTokens);
  if (budgets.length === 0) return ['Budgets: none'];
  return budgets.map((b) => {
    const name = budgetName(b);
    return `${name.charAt(0).toUpperCase()}${name.slice(1)}: ${budgetAmount(b)}`;
  });
}
